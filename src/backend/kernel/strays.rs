//! What `exec` leaves running: `exec("sleep 100 &")` returns when `sh` exits, but the
//! `sleep` goes on. Such strays are stopped when the run ends, like a non-detached
//! `start()`.
//!
//! How they are found: netscript is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so a
//! process orphaned anywhere below it becomes its child instead of init's; it stays one
//! of netscript's descendants. Each exec'd command runs in a process group of its own;
//! its strays are the members of that group (what `&` leaves behind) and, to catch
//! daemons that leave the group with `setsid`, the processes that became netscript's
//! children while the command ran. Only netscript's descendants are ever signalled.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// One line of /proc/PID/stat, the fields used here.
struct Stat {
    ppid: u32,
    pgrp: u32,
    zombie: bool,
}

fn stat(pid: u32) -> Option<Stat> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split(' ').collect();
    Some(Stat {
        zombie: f.first()? == &"Z",
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
    })
}

/// Every process on the machine (in our PID namespace).
fn scan() -> HashMap<u32, Stat> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

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
                return scan()
                    .into_iter()
                    .filter(|(_, s)| s.ppid == me)
                    .map(|(p, _)| p)
                    .collect()
            }
        }
    }
    out
}

#[derive(Default)]
pub struct Strays {
    /// Process groups of exec'd commands.
    groups: HashSet<u32>,
    /// Processes that became our children while an exec'd command ran: (pid, start time).
    roots: Vec<(u32, u64)>,
}

impl Strays {
    /// After an exec'd command (process group `group`) ended: note what it may have left.
    /// `before`: our children when it started; `ours`: processes tracked elsewhere.
    pub fn note(&mut self, group: u32, before: &HashSet<u32>, ours: impl Fn(u32) -> bool) {
        self.groups.insert(group);
        for pid in children() {
            if !before.contains(&pid) && !ours(pid) && pid != group {
                if let Some(t) = super::process::start_time(pid) {
                    self.roots.push((pid, t));
                }
            }
        }
        self.reap();
    }

    /// Collect strays of ours that have exited, so they do not stay zombies.
    fn reap(&mut self) {
        self.roots.retain(|&(pid, _)| {
            !matches!(
                waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG)),
                Ok(nix::sys::wait::WaitStatus::Exited(..)
                    | nix::sys::wait::WaitStatus::Signaled(..))
                    | Err(_)
            )
        });
    }

    /// The strays still running: our descendants in a noted group or below a noted root,
    /// except `keep` (detached processes) and what is below them.
    fn alive(&self, keep: &HashSet<u32>) -> Vec<u32> {
        let all = scan();
        let me = std::process::id();
        let roots: HashSet<u32> = self
            .roots
            .iter()
            .filter(|(p, t)| super::process::start_time(*p) == Some(*t))
            .map(|(p, _)| *p)
            .collect();
        let mut out = vec![];
        for (&pid, s) in &all {
            if s.zombie || pid == me {
                continue;
            }
            // Walk up to netscript: a stray is a descendant, under no kept process.
            let (mut cur, mut stray, mut ours) = (pid, self.groups.contains(&s.pgrp), false);
            for _ in 0..all.len() {
                if keep.contains(&cur) {
                    stray = false;
                    break;
                }
                if roots.contains(&cur) {
                    stray = true;
                }
                let Some(st) = all.get(&cur) else { break };
                if st.ppid == me {
                    ours = true;
                    break;
                }
                cur = st.ppid;
            }
            if stray && ours {
                out.push(pid);
            }
        }
        out
    }

    /// Stop every stray: SIGTERM, SIGKILL after 0.5 s; then reap those that are ours.
    pub fn stop(&mut self, keep: &HashSet<u32>) {
        let signal = |sig| {
            let left = self.alive(keep);
            for &p in &left {
                let _ = kill(Pid::from_raw(p as i32), sig);
            }
            left
        };
        if !signal(Signal::SIGTERM).is_empty() {
            let deadline = Instant::now() + Duration::from_millis(500);
            while Instant::now() < deadline && !self.alive(keep).is_empty() {
                self.reap_children(keep);
                std::thread::sleep(Duration::from_millis(5));
            }
            signal(Signal::SIGKILL);
        }
        self.reap_children(keep);
        self.groups.clear();
        self.roots.clear();
    }

    /// Reap our children that are zombies, except kept ones (their `Child` handle will).
    fn reap_children(&self, keep: &HashSet<u32>) {
        for pid in children() {
            if keep.contains(&pid) {
                continue;
            }
            if stat(pid).is_some_and(|s| s.zombie) {
                let _ = waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG));
            }
        }
    }
}
