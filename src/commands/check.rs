//! `netscript check FILE`: parse and check a script without touching anything.

use std::path::Path;
use std::process::ExitCode;

use crate::ui::run;

pub fn exec(file: &Path) -> ExitCode {
    match super::read(file) {
        Ok(src) => super::status(run::check(&file.display().to_string(), &src)),
        Err(code) => code,
    }
}
