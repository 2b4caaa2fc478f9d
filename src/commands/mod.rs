//! One module per subcommand, each with an `exec` that does the work and returns the exit
//! status. `main.rs` parses the command line and calls one of them.

pub mod capture;
pub mod check;
pub mod doc;
pub mod down;
pub mod exec;
pub mod export;
pub mod extras;
pub mod graph;
pub mod import;
pub mod ls;
pub mod plan;
pub mod run;

use std::path::Path;
use std::process::ExitCode;

use crate::errln;
use crate::lang::stdlib;
use crate::ui::sandbox;

pub use crate::exit::{FAILURE, USAGE};

const PRIVILEGES: &str = "netscript: needs root or CAP_NET_ADMIN + CAP_SYS_ADMIN; or use --sandbox";

/// A script's text, ready for the engine; unreadable is a usage error.
pub fn read(file: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(file)
        .map(|t| stdlib::prepare(&t))
        .map_err(|e| {
            errln!("netscript: cannot read {}: {e}", file.display());
            ExitCode::from(USAGE)
        })
}

/// Into the sandbox (`--sandbox`), or check that we may change the network.
pub fn enter(sandboxed: bool) -> Result<(), ExitCode> {
    if sandboxed {
        sandbox::enter().map_err(|e| {
            errln!("netscript: --sandbox: {e}");
            ExitCode::from(FAILURE)
        })
    } else if !sandbox::privileged() {
        errln!("{PRIVILEGES}");
        Err(ExitCode::from(FAILURE))
    } else {
        Ok(())
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
