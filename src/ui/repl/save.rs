//! `save(path)` in the REPL: the session's inputs that built something, written out as a
//! script that rebuilds the same lab.
//!
//! An input is kept when it succeeded and did something a later input or the network
//! depends on: it changed the network (the journal grew), defined a function, bound or
//! changed a variable, or imported a module. Pure inspection (`show()`, `c1.ping(..)`,
//! `links()`) changes none of these and is left out. A failed input is left out too,
//! but if it changed the network before failing, it is written as a comment that says
//! so: the saved script cannot replay half an input.

use std::cell::RefCell;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::rc::Rc;

use rhai::{Engine, Map, Scope};

use crate::lang::{fail, Opts};

#[derive(Default)]
pub struct Kept {
    /// The script's statements so far, each one input (or a comment).
    lines: Vec<String>,
    /// How many of them are statements, not comments.
    statements: usize,
}

pub type Shared = Rc<RefCell<Kept>>;

/// What is observed of the session before an input runs.
pub struct Before {
    journal: usize,
    scope: Vec<String>,
    /// The input defines a function.
    defines: bool,
    /// The input imports a module.
    imports: bool,
}

/// The variables and their values, to tell whether an input bound or changed one.
fn snapshot(scope: &Scope) -> Vec<String> {
    scope
        .iter_raw()
        .map(|(name, constant, v)| format!("{name}:{constant}:{v:?}"))
        .collect()
}

pub fn before(journal: usize, scope: &Scope, defines: bool, imports: bool) -> Before {
    Before {
        journal,
        scope: snapshot(scope),
        defines,
        imports,
    }
}

/// Record how input `line` went.
pub fn after(kept: &Shared, line: &str, ok: bool, b: Before, journal: usize, scope: &Scope) {
    let changed = journal != b.journal;
    let defines = b.defines;
    // An input that saves is about the script, not part of it.
    if line.contains("save(") && !changed && !defines {
        return;
    }
    let mut k = kept.borrow_mut();
    if !ok {
        if changed {
            let text: Vec<String> = line.lines().map(|l| format!("//   {l}")).collect();
            k.lines.push(format!(
                "// left out: this input failed after making {} change(s), which stay in the lab:\n{}",
                journal.saturating_sub(b.journal),
                text.join("\n")
            ));
        }
        return;
    }
    if changed || defines || b.imports || snapshot(scope) != b.scope {
        k.lines.push(line.trim_end().to_string());
        k.statements += 1;
    }
}

/// Register `save(path)` and `save(path, #{ force })` on the REPL's engine (over the ones
/// that refuse outside the REPL).
pub fn register(engine: &mut Engine, kept: &Shared, lab: &str) {
    let (k, l) = (kept.clone(), lab.to_string());
    engine.register_fn(
        "save",
        move |path: &str| -> Result<(), Box<rhai::EvalAltResult>> {
            write(&k, &l, path, false, &format!("save({path:?})"))
        },
    );
    let (k, l) = (kept.clone(), lab.to_string());
    engine.register_fn(
        "save",
        move |path: &str, opts: Map| -> Result<(), Box<rhai::EvalAltResult>> {
            let c = format!("save({path:?}, ...)");
            let o = Opts::new(&c, opts, &["force"])?;
            let force = o.bool("force")?.unwrap_or(false);
            write(&k, &l, path, force, &c)
        },
    );
}

fn write(
    kept: &Shared,
    lab: &str,
    path: &str,
    force: bool,
    c: &str,
) -> Result<(), Box<rhai::EvalAltResult>> {
    if path.is_empty() {
        return Err(fail(c, "the path is empty"));
    }
    let k = kept.borrow();
    let mut text = format!(
        "// Saved from a netscript REPL session (lab {lab:?}): the inputs that built\n\
         // something, in order; failed and inspection-only inputs are left out.\n\
         // Run it with `netscript --sandbox {path}` (or `netscript {path}`).\n"
    );
    for l in &k.lines {
        text.push_str(l);
        if !l.ends_with(';') && !l.ends_with('}') && !l.starts_with("//") {
            text.push(';');
        }
        text.push('\n');
    }
    let mut f = OpenOptions::new();
    f.write(true);
    if force {
        f.create(true).truncate(true);
    } else {
        f.create_new(true);
    }
    let mut file = f.open(path).map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => fail(
            c,
            format!("{path} already exists; save({path:?}, #{{ force: true }}) overwrites it"),
        ),
        _ => fail(c, format!("cannot write {path}: {e}")),
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| fail(c, format!("cannot write {path}: {e}")))?;
    crate::outln!("saved {} statement(s) to {path}", k.statements);
    Ok(())
}
