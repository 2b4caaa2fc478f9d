//! `netscript down LAB`: undo, newest first, what the lab's runs built.

use std::process::ExitCode;

use crate::backend::kernel::KernelBackend;
use crate::lab::store::{self, DownResult};
use crate::{errln, outln};

pub fn exec(lab: &str, trace: bool, force: bool) -> ExitCode {
    if let Err(code) = super::lab_name("down", lab) {
        return code;
    }
    let mut backend = match KernelBackend::new() {
        Ok(b) => b,
        Err(e) => {
            errln!("netscript down: {e}");
            return ExitCode::from(super::FAILURE);
        }
    };
    match store::down(lab, &mut backend, trace, force) {
        Ok(DownResult::Done {
            undone,
            skipped,
            left_alone,
        }) => {
            for s in &skipped {
                errln!("netscript down: skipped (--force): {s}");
            }
            for s in &left_alone {
                errln!("netscript down {lab}: {s}");
            }
            outln!("lab {lab:?} is down ({})", store::changes(undone));
            // Something could not be undone as recorded.
            match left_alone.is_empty() {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(super::FAILURE),
            }
        }
        Ok(DownResult::AlreadyDown) => {
            outln!("lab {lab:?} is already down");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in errors {
                errln!("netscript down {lab}: {e}");
            }
            ExitCode::from(super::FAILURE)
        }
    }
}
