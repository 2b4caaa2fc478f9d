//! `netscript attach NAME`: a REPL inside the running sandbox NAME.
//!
//! Which lab the REPL builds: a REPL holds its lab's lock, as a run does, and the
//! sandbox's own run or REPL holds the sandbox's lab for as long as it lives. So the
//! attached REPL takes the sandbox's lab only when that is free, and otherwise
//! `LAB-attach` (`LAB-attach-2`, … when another attached REPL has that), saying so: it
//! sees and uses everything the sandbox built (`netns("red")`), and what it builds is its
//! own lab's, undone by its own `down`, while the sandbox's run keeps its journal to
//! itself. `--lab` picks the name.

use std::process::ExitCode;

use crate::errln;
use crate::lab::store;
use crate::ui::run::RunOpts;
use crate::ui::{join, registry, repl};

pub fn exec(name: &str, lab: Option<&str>, trace: bool) -> ExitCode {
    if let Some(l) = lab {
        if let Err(code) = super::lab_name("attach", l) {
            return code;
        }
    }
    let entry = match registry::find(name) {
        Ok(e) => e,
        Err(e) => {
            errln!("netscript attach: {e}");
            return ExitCode::from(super::FAILURE);
        }
    };
    if let Err(e) = join::join(&entry) {
        errln!("netscript attach: {e}");
        return ExitCode::from(super::FAILURE);
    }
    // Inside the sandbox from here.
    let lab = match lab {
        Some(l) => l.to_string(),
        None => free_lab(&entry.lab),
    };
    match lab == entry.lab {
        true => errln!("attached to sandbox {name:?}; this REPL builds its lab {lab:?}"),
        false => errln!(
            "attached to sandbox {name:?}; its lab {:?} is held by its own run, so this REPL builds lab {lab:?}",
            entry.lab
        ),
    }
    let opts = RunOpts {
        trace,
        keep_on_error: false,
        rm: false,
        sandbox: false,
        lab,
        json: false,
    };
    super::status(repl::repl(&opts))
}

/// `lab` if no run holds it, else the first free `lab-attach`, `lab-attach-2`, ….
fn free_lab(lab: &str) -> String {
    let free = |l: &str| store::lock(l).is_ok();
    if free(lab) {
        return lab.to_string();
    }
    (1..)
        .map(|n| match n {
            1 => format!("{lab}-attach"),
            n => format!("{lab}-attach-{n}"),
        })
        .find(|l| crate::lab::names::labname(l).is_err() || free(l))
        .expect("an unbounded search")
}
