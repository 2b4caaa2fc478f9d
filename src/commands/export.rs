//! `netscript export LAB`: a straight-line script that rebuilds the lab, from its journal.
//! It only reads the journal, so it needs no privileges.

use std::process::ExitCode;

use crate::lab::journal::Journal;
use crate::ui::export;
use crate::{errln, outln};

pub fn exec(lab: &str) -> ExitCode {
    if let Err(code) = super::lab_name("export", lab) {
        return code;
    }
    match Journal::load(lab) {
        Ok(Some(entries)) => {
            outln!("{}", export::script(lab, &entries).trim_end());
            ExitCode::SUCCESS
        }
        Ok(None) => {
            errln!("netscript export: lab {lab:?} is not up (no journal)");
            ExitCode::from(super::FAILURE)
        }
        Err(e) => {
            errln!("netscript export: {e}");
            ExitCode::from(super::FAILURE)
        }
    }
}
