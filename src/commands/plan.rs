//! `netscript plan FILE` / `plan --down LAB`: a dry run, printed as a shell script.

use std::path::Path;
use std::process::ExitCode;

use crate::ui::run;

pub fn exec(down: Option<&str>, file: Option<&Path>, args: Vec<String>) -> ExitCode {
    match (down, file) {
        (Some(lab), _) => super::status(run::plan_down(lab)),
        (None, Some(f)) => match super::read(f) {
            Ok(src) => super::status(run::plan(&super::display_name(f), &src, args)),
            Err(code) => code,
        },
        (None, None) => ExitCode::from(super::USAGE),
    }
}
