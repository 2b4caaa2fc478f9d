//! `netscript FILE`, `netscript -e CODE`, and the REPL (no FILE): build a lab.

use std::path::Path;
use std::process::ExitCode;

use crate::lab::journal::Journal;
use crate::ui::{repl, run};

/// What to run: a file with its ARGS, a one-line expression, or the REPL.
pub enum Source<'a> {
    File(&'a Path, Vec<String>),
    Eval(&'a str),
    Repl,
}

/// `replace`: the lab of this name, if up, goes first (as `netscript down LAB`).
pub fn exec(source: Source, opts: &run::RunOpts, replace: bool) -> ExitCode {
    if replace && matches!(Journal::load(&opts.lab), Ok(Some(_))) {
        let code = super::down::exec(&opts.lab, opts.trace, false);
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    let code = match source {
        Source::Eval(code) => run::run("-e", code, vec![], opts, true),
        Source::File(file, args) => match super::read(file) {
            Ok(src) => run::run(&super::display_name(file), &src, args, opts, false),
            Err(code) => return code,
        },
        Source::Repl => repl::repl(opts),
    };
    super::status(code)
}
