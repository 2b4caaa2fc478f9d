//! A lab's processes, as its journal records them (every `start`, detached or not), with
//! whether each still runs: `netscript ps`, `netscript logs` and `ns.processes()`.

use std::fs;

use crate::error::{Error, Result};
use crate::lab::journal::{Entry, Journal, RUN_DIR};
use crate::lab::op::{shell_word, Op};
use crate::lab::output;

#[derive(Clone, Debug)]
pub struct ProcInfo {
    pub lab: String,
    pub pid: u32,
    /// The process's start time (to tell it from a later process with its pid).
    pub start: u64,
    /// `None`: the host namespace.
    pub ns: Option<String>,
    pub command: String,
    pub detached: bool,
    pub running: bool,
    /// How it ended, when the run that started it saw it end (else unknowable: it was
    /// not our child).
    pub exit: Option<i64>,
}

impl ProcInfo {
    /// `running`, `exited 1`, or `exited` (code unknown).
    pub fn state(&self) -> String {
        match (self.running, self.exit) {
            (true, _) => "running".into(),
            (false, Some(c)) => format!("exited {c}"),
            (false, None) => "exited".into(),
        }
    }

    pub fn ns_name(&self) -> &str {
        self.ns.as_deref().unwrap_or("host")
    }
}

/// A command as the user wrote it: a shell string as such, an argv as shell words.
pub fn command_text(argv: &[String]) -> String {
    match argv {
        [sh, c, s] if sh == "/bin/sh" && c == "-c" => s.clone(),
        _ => argv
            .iter()
            .map(|a| shell_word(a))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The processes `entries` started, in order, as they are now.
pub fn of_entries(lab: &str, entries: &[Entry]) -> Vec<ProcInfo> {
    entries
        .iter()
        .filter_map(|e| match &e.op {
            Op::ProcStarted {
                ns,
                pid,
                start,
                argv,
                detached,
                ..
            } => {
                let running = output::alive(*pid, *start);
                Some(ProcInfo {
                    lab: lab.to_string(),
                    pid: *pid,
                    start: *start,
                    ns: ns.clone(),
                    command: command_text(argv),
                    detached: *detached,
                    running,
                    exit: match running {
                        true => None,
                        false => output::exit_code(lab, *pid),
                    },
                })
            }
            _ => None,
        })
        .collect()
}

/// The processes of lab `lab`; an error when there is no such lab.
pub fn of_lab(lab: &str) -> Result<Vec<ProcInfo>> {
    match Journal::load(lab)? {
        Some(entries) => Ok(of_entries(lab, &entries)),
        None => Err(Error::Other(format!(
            "there is no lab named {lab:?} that is up (see netscript ls)"
        ))),
    }
}

/// The names of the labs that are up, sorted.
pub fn labs() -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(RUN_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let f = e.file_name().to_string_lossy().into_owned();
            f.strip_suffix(".journal").map(str::to_string)
        })
        .collect();
    out.sort();
    out
}

/// The processes of every lab that is up (an unreadable journal is skipped).
pub fn all() -> Vec<ProcInfo> {
    labs()
        .iter()
        .filter_map(|l| of_lab(l).ok())
        .flatten()
        .collect()
}
