//! Processes: a start is only recorded (see `Backend::start`); a stop stops its family.

use crate::backend::kernel::{family, process, KernelBackend};
use crate::error::{Error, Result};
use crate::lab::op::Op;

impl KernelBackend {
    pub(super) fn apply_process(&mut self, op: &Op) -> Result<()> {
        match op {
            // Started by `start`; the op only records it.
            Op::ProcStarted { .. } => Ok(()),
            Op::ProcStop { pid, start } => {
                // What it started goes too, even when the process itself is gone.
                let mut root = self.started.get(pid).cloned().unwrap_or_default();
                if root.start != *start {
                    root = family::Root {
                        pid: *pid,
                        start: *start,
                        tag: String::new(),
                    };
                }
                let alive = process::start_time(*pid) == Some(*start);
                self.stop_family(family::Select {
                    roots: vec![root],
                    ..Default::default()
                })?;
                if alive {
                    Ok(())
                } else {
                    Err(Error::Missing(format!("process {pid}")))
                }
            }
            other => unreachable!("{other:?} is not in this family"),
        }
    }
}
