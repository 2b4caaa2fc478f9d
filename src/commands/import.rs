//! `netscript import FILE`: translate a bash lab script into a netscript script.

use std::path::Path;
use std::process::ExitCode;

use crate::ui::import;
use crate::{errln, out};

pub fn exec(file: &Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            errln!("netscript: cannot read {}: {e}", file.display());
            return ExitCode::from(super::USAGE);
        }
    };
    let name = file.display().to_string();
    let translated = match String::from_utf8(bytes) {
        Ok(src) => import::translate(&name, &src),
        Err(_) => Err(crate::error::Error::Invalid(format!(
            "{name} is not a shell script (it is not text)"
        ))),
    };
    match translated {
        Ok(out) => {
            out!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("netscript import: {e}");
            ExitCode::from(super::FAILURE)
        }
    }
}
