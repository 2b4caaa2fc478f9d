//! `netscript check FILE...`: parse and check scripts without touching anything.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::outln;
use crate::ui::run;

/// Every file is checked, even after one fails; each good one is listed as `ok FILE`,
/// each bad one gets its error. Exit status:
/// 2 if a file could not be read, else 1 if any failed, else 0.
pub fn exec(files: &[PathBuf]) -> ExitCode {
    let mut worst = 0;
    for file in files {
        let code = match super::read(file) {
            Ok(src) => run::check(&super::display_name(file), &src),
            Err(_) => i32::from(super::USAGE),
        };
        if code == 0 {
            outln!("ok {}", super::display_name(file));
        }
        worst = worst.max(code);
    }
    super::status(worst)
}
