//! A run: the backend, the journal, and the processes the script started. Every change
//! goes through `Session::apply`, which journals it (write-ahead), traces it, applies it.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::journal::{undo_plan, Journal};
use crate::op::Op;

pub struct Session {
    pub backend: Box<dyn Backend>,
    pub journal: Journal,
    /// Print each change as its shell command, as it is made (`--trace`).
    pub trace: bool,
    /// Processes started by the script: (pid, detached).
    pub procs: Vec<(u32, bool)>,
}

impl Session {
    pub fn new(backend: Box<dyn Backend>, journal: Journal, trace: bool) -> Session {
        Session {
            backend,
            journal,
            trace,
            procs: vec![],
        }
    }

    pub fn apply(&mut self, op: Op) -> Result<()> {
        // Changes to what this run created need no undo of their own; for anything
        // else that is a state change, read the state it replaces first.
        let undo = if self.journal.owned.covers(&op) {
            None
        } else if op.needs_prior_state() {
            self.backend.restore_op(&op)?
        } else {
            op.inverse()
        };
        self.journal.append(&op, undo)?;
        if self.trace {
            for line in op.render() {
                eprintln!("+ {line}");
            }
        }
        match self.backend.apply(&op) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.journal.retract();
                Err(e)
            }
        }
    }

    /// Stop the processes this run started and did not detach.
    pub fn stop_processes(&mut self) {
        for (pid, detached) in std::mem::take(&mut self.procs) {
            if !detached {
                let _ = self.backend.proc_kill(pid);
            }
        }
    }

    /// Undo everything this run created, newest first; keeps going past errors and
    /// returns them all.
    pub fn teardown(&mut self) -> Vec<Error> {
        self.stop_processes();
        let undo = undo_plan(&self.journal.entries);
        let errors = undo_ops(self.backend.as_mut(), &undo, self.trace);
        self.journal.forget_run();
        errors
    }
}

/// Apply an undo plan; an object already gone is not an error.
pub fn undo_ops(backend: &mut dyn Backend, undo: &[Op], trace: bool) -> Vec<Error> {
    let mut errors = vec![];
    for op in undo {
        if trace {
            for line in op.render() {
                eprintln!("- {line}");
            }
        }
        match backend.apply(op) {
            Ok(()) => {}
            Err(e) if e.is_gone() => {}
            Err(e) => errors.push(e),
        }
    }
    backend.settle();
    errors
}
