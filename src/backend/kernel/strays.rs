//! What `exec` leaves running: `exec("sleep 100 &")` returns when `sh` exits, but the
//! `sleep` goes on. Such strays are stopped when the run ends, like a non-detached
//! `start()`.
//!
//! How they are found (see `family` for the rules): each exec'd command runs in a
//! process group of its own and carries a tag of this run; netscript is a child
//! subreaper (`PR_SET_CHILD_SUBREAPER`), so a process orphaned anywhere below it becomes
//! its child instead of init's. At the end of the run, the exec'd commands' groups,
//! everything tagged by this run and netscript's adopted children are stopped, except
//! detached processes and what is theirs.

use std::collections::HashSet;

use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

use super::family::{self, Root};

/// Make orphaned descendants ours (see the module docs). Harmless where it fails.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Our direct children (of every thread).
pub fn children() -> HashSet<u32> {
    let me = std::process::id();
    let mut out = HashSet::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for t in tasks.flatten() {
        match std::fs::read_to_string(t.path().join("children")) {
            Ok(s) => out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok())),
            // A kernel without CONFIG_PROC_CHILDREN: the slow way.
            Err(_) => {
                return std::fs::read_dir("/proc")
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                    .filter(|p| family::stat(*p).is_some_and(|s| s.ppid == me))
                    .collect()
            }
        }
    }
    out
}

/// Reap our children that have exited, except `handles` (their `Child` will).
pub fn reap_adopted(handles: &HashSet<u32>) {
    for pid in children() {
        if !handles.contains(&pid) && family::stat(pid).is_some_and(|s| s.zombie) {
            let _ = waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// The exec'd commands of this run (each the leader of its process group).
#[derive(Default)]
pub struct Strays {
    pub roots: Vec<Root>,
}

impl Strays {
    pub fn note(&mut self, root: Root) {
        self.roots.push(root);
    }
}
