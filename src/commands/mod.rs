//! One module per subcommand, each with an `exec` that does the work and returns the exit
//! status. `main.rs` parses the command line and calls one of them.

pub mod attach;
pub mod capture;
pub mod check;
pub mod doc;
pub mod down;
pub mod exec;
pub mod export;
pub mod extras;
pub mod graph;
pub mod import;
pub mod logs;
pub mod ls;
pub mod plan;
pub mod ps;
pub mod run;

use std::path::Path;
use std::process::ExitCode;

use crate::errln;
use crate::lang::stdlib;
use crate::ui::join::{self, Target};
use crate::ui::{registry, sandbox};

pub use crate::exit::{FAILURE, USAGE};

const PRIVILEGES: &str = "netscript: needs root or CAP_NET_ADMIN + CAP_SYS_ADMIN; or use --sandbox";

/// The script named `-` on the command line: read from standard input.
pub const STDIN: &str = "-";
/// How errors name a script read from standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// The name errors give the script FILE (`<stdin>` for `-`).
pub fn display_name(file: &Path) -> String {
    match file.as_os_str() == STDIN {
        true => STDIN_NAME.to_string(),
        false => file.display().to_string(),
    }
}

/// A script's text, ready for the engine (`-`: standard input, read to its end);
/// unreadable is a usage error.
pub fn read(file: &Path) -> Result<String, ExitCode> {
    let text = match file.as_os_str() == STDIN {
        true => std::io::read_to_string(std::io::stdin()),
        false => std::fs::read_to_string(file),
    };
    text.map(|t| stdlib::prepare(&t)).map_err(|e| {
        let message = format!("cannot read {}: {e}", display_name(file));
        match crate::ui::run::json_errors() {
            true => crate::ui::run::json_error(
                &display_name(file),
                rhai::Position::NONE,
                &message,
                vec![],
            ),
            false => errln!("netscript: {message}"),
        }
        ExitCode::from(USAGE)
    })
}

/// Where a command works: in a fresh sandbox (`--sandbox`), in the running sandbox
/// `sandbox_of` (`--sandbox-of NAME`), else on the host — unless the host does not hold
/// what the command names (`target`) and exactly one running sandbox does: then in that
/// one. `cmd` names the subcommand in errors (empty: none).
pub fn enter(
    cmd: &str,
    sandboxed: bool,
    sandbox_of: Option<&str>,
    target: Target,
) -> Result<(), ExitCode> {
    if sandboxed {
        return fresh_sandbox(None);
    }
    match elsewhere(cmd, sandbox_of, target)? {
        true => Ok(()),
        false => host(),
    }
}

/// For a command that only reads (`ls`, `export`) and needs no privileges on the host:
/// into a running sandbox as [`enter`] goes there, else stay.
pub fn enter_if_elsewhere(
    cmd: &str,
    sandbox_of: Option<&str>,
    target: Target,
) -> Result<(), ExitCode> {
    elsewhere(cmd, sandbox_of, target).map(|_| ())
}

/// Into the running sandbox `sandbox_of`, or the one that holds `target`: whether it did.
fn elsewhere(cmd: &str, sandbox_of: Option<&str>, target: Target) -> Result<bool, ExitCode> {
    let fail = |e: String| {
        match cmd {
            "" => errln!("netscript: {e}"),
            cmd => errln!("netscript {cmd}: {e}"),
        }
        ExitCode::from(FAILURE)
    };
    let found = match sandbox_of {
        Some(name) => Some(registry::find(name).map_err(|e| fail(format!("--sandbox-of: {e}")))?),
        None => join::find_for(&target).map_err(fail)?,
    };
    match found {
        Some(e) => join::join(&e).map(|()| true).map_err(fail),
        None => Ok(false),
    }
}

/// [`enter`] for a run or the REPL: a fresh sandbox is registered under the lab's name
/// (`what`: the script, `-e` or `repl`), so other commands can reach it.
pub fn enter_run(
    sandboxed: bool,
    sandbox_of: Option<&str>,
    lab: &str,
    what: &str,
) -> Result<(), ExitCode> {
    match sandboxed {
        true => fresh_sandbox(Some(sandbox::Register { name: lab, what })),
        false => enter("", false, sandbox_of, Target::Host),
    }
}

fn fresh_sandbox(register: Option<sandbox::Register>) -> Result<(), ExitCode> {
    sandbox::enter(register).map_err(|e| {
        errln!("netscript: --sandbox: {e}");
        ExitCode::from(FAILURE)
    })
}

/// On the host: check that we may change the network.
fn host() -> Result<(), ExitCode> {
    match sandbox::privileged() {
        true => Ok(()),
        false => {
            errln!("{PRIVILEGES}");
            Err(ExitCode::from(FAILURE))
        }
    }
}

/// A lab name from the command line, or a usage error that names the subcommand.
pub fn lab_name(what: &str, lab: &str) -> Result<(), ExitCode> {
    crate::lab::names::labname(lab).map_err(|e| {
        errln!("netscript {what}: invalid lab name: {e}");
        ExitCode::from(USAGE)
    })
}

/// A status the runner computed (`crate::exit`, or a script's `exit(N)`) as the process's
/// exit code.
pub fn status(code: impl Into<i64>) -> ExitCode {
    ExitCode::from(code.into().clamp(0, 255) as u8)
}
