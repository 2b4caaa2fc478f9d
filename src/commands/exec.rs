//! `netscript exec NS -- CMD` and `netscript shell NS`: a command inside a namespace, on
//! this terminal, exiting with the command's own status.

use std::process::ExitCode;

use crate::backend::Command;
use crate::errln;
use crate::ui::enter;

pub fn exec(lab: Option<&str>, ns: &str, argv: &[String]) -> ExitCode {
    run("exec", lab, ns, &Command::Argv(argv.to_vec()), &[])
}

pub fn shell(lab: Option<&str>, ns: &str) -> ExitCode {
    let (cmd, env) = enter::shell(ns);
    run("shell", lab, ns, &cmd, &env)
}

/// CMD's exit status, or 1 after a one-line error.
fn run(
    what: &str,
    lab: Option<&str>,
    ns: &str,
    cmd: &Command,
    env: &[(String, String)],
) -> ExitCode {
    match enter::run(lab, ns, cmd, env) {
        Ok(code) => super::status(code),
        Err(e) => {
            errln!("netscript {what}: {e}");
            ExitCode::from(super::FAILURE)
        }
    }
}
