//! Which processes belong to what a lab started, and how they are stopped: all of them,
//! SIGTERM first, SIGKILL after a grace period for those that remain, done only when none
//! is left.
//!
//! Without cgroups (this must work on cgroup v1 hosts and in sandboxes that remount
//! /sys), a process is the lab's when one of these holds; each survives what a process
//! does to get away (its leader exiting, `setsid`, being reparented to init):
//! - it is a started process itself (pid *and* start time, so a reused pid is not taken
//!   for it), or in its process group or session (pgrp / sid equal to that pid, and
//!   started after it);
//! - it carries the started process's tag: `start` puts `NETSCRIPT_PROC=TAG` in the
//!   environment, which every descendant inherits (checked in our own PID namespace
//!   only, and only for processes started after the tagged one);
//! - it is inside a network namespace the lab made and is deleting (everything there
//!   would keep the namespace, and its veths, alive after `ip netns del`);
//! - it became netscript's child through the subreaper (an orphan of something netscript
//!   started), when netscript itself stops its run;
//! - or one of its ancestors is the lab's.
//!
//! What must survive (a detached process and everything of its) is matched the same way
//! and wins over the rest. netscript itself and its ancestors are never signalled.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// The environment variable that tags a started process and its descendants.
pub const TAG_VAR: &str = "NETSCRIPT_PROC";

/// How long processes have after SIGTERM before SIGKILL.
pub const GRACE: Duration = Duration::from_secs(1);
/// How long SIGKILLed processes may take to go (a process in uninterruptible sleep).
const KILL_WAIT: Duration = Duration::from_secs(5);

/// The fields of /proc/PID/stat used here.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    pub ppid: u32,
    pub pgrp: u32,
    pub sid: u32,
    pub start: u64,
    pub zombie: bool,
    /// A kernel thread (PF_KTHREAD): no environment, never the lab's by its tag.
    pub kthread: bool,
}

pub fn stat(pid: u32) -> Option<Stat> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split(' ').collect();
    Some(Stat {
        zombie: f.first()? == &"Z",
        kthread: f.get(6)?.parse::<u32>().ok()? & 0x0020_0000 != 0,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        sid: f.get(3)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// A process something was started as: its pid, start time and tag ("" if none).
#[derive(Clone, Debug, Default)]
pub struct Root {
    pub pid: u32,
    pub start: u64,
    pub tag: String,
}

/// A namespace file's identity (device and inode of the nsfs file).
pub type NsId = (u64, u64);

pub fn ns_id(path: &str) -> Option<NsId> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// What to stop, and what to spare.
#[derive(Default, Debug)]
pub struct Select {
    pub roots: Vec<Root>,
    /// Spared with all of theirs (detached processes, at the end of a run).
    pub keep: Vec<Root>,
    /// Every process whose tag starts with one of these (a run's tags).
    pub prefixes: Vec<String>,
    /// Every process inside these network namespaces.
    pub netns: Vec<NsId>,
    /// netscript's own children (orphans it adopted as subreaper).
    pub adopted: bool,
}

/// One look at /proc.
struct Table {
    procs: HashMap<u32, Stat>,
    me: u32,
    /// netscript and its ancestors: never signalled.
    spared: HashSet<u32>,
    my_pidns: Option<u64>,
    tags: HashMap<u32, Option<String>>,
}

impl Table {
    fn scan() -> Table {
        let procs: HashMap<u32, Stat> = std::fs::read_dir("/proc")
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                    .filter_map(|pid| Some((pid, stat(pid)?)))
                    .collect()
            })
            .unwrap_or_default();
        let me = std::process::id();
        let mut spared = HashSet::from([me, 0, 1]);
        let mut cur = me;
        while let Some(s) = procs.get(&cur) {
            if !spared.insert(s.ppid) {
                break;
            }
            cur = s.ppid;
        }
        Table {
            procs,
            me,
            spared,
            my_pidns: std::fs::metadata("/proc/self/ns/pid").ok().map(|m| m.ino()),
            tags: HashMap::new(),
        }
    }

    /// The tag in the process's environment, if it is in our PID namespace.
    fn tag(&mut self, pid: u32) -> Option<String> {
        if let Some(t) = self.tags.get(&pid) {
            return t.clone();
        }
        let same_ns = self.my_pidns.is_some()
            && std::fs::metadata(format!("/proc/{pid}/ns/pid"))
                .ok()
                .map(|m| m.ino())
                == self.my_pidns;
        let (zombie, kthread) = self
            .procs
            .get(&pid)
            .map_or((true, false), |s| (s.zombie, s.kthread));
        let t = (same_ns && !kthread)
            .then(|| environ(pid, zombie))
            .flatten()
            .and_then(|env| {
                let key = format!("{TAG_VAR}=");
                env.split(|b| *b == 0)
                    .find_map(|v| v.strip_prefix(key.as_bytes()))
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            });
        self.tags.insert(pid, t.clone());
        t
    }

    fn in_netns(&self, pid: u32, netns: &[NsId]) -> bool {
        !netns.is_empty()
            && ns_id(&format!("/proc/{pid}/ns/net")).is_some_and(|n| netns.contains(&n))
    }

    /// Whether process `pid` is one of `roots` or marked as theirs (see the module docs).
    fn of(&mut self, pid: u32, roots: &[Root]) -> bool {
        let s = self.procs[&pid];
        for r in roots {
            if pid == r.pid {
                if s.start == r.start {
                    return true;
                }
                continue;
            }
            if s.start < r.start {
                continue;
            }
            // A group or session named after the root's pid is the root's, unless that pid
            // now belongs to another process (then the root's group had ended).
            let pid_reused = self.procs.get(&r.pid).is_some_and(|p| p.start != r.start);
            if (s.pgrp == r.pid || s.sid == r.pid) && !pid_reused {
                return true;
            }
            if !r.tag.is_empty() && self.tag(pid).as_deref() == Some(r.tag.as_str()) {
                return true;
            }
        }
        false
    }

    /// Whether `pid` itself (not its ancestors) is to be stopped (Some(true)), spared
    /// (Some(false)), or neither.
    fn own_verdict(&mut self, pid: u32, sel: &Select) -> Option<bool> {
        if self.spared.contains(&pid) {
            return Some(false);
        }
        if self.of(pid, &sel.keep) {
            return Some(false);
        }
        let s = self.procs[&pid];
        // A run's tags begin with netscript's pid and start time: what started before
        // that run cannot carry them (and its environment need not be read).
        let runs: Vec<&String> = sel
            .prefixes
            .iter()
            .filter(|p| run_start(p).is_some_and(|r| s.start >= r))
            .collect();
        let hit = self.of(pid, &sel.roots)
            || (sel.adopted && s.ppid == self.me)
            || self.in_netns(pid, &sel.netns)
            || (!runs.is_empty()
                && self
                    .tag(pid)
                    .is_some_and(|t| runs.iter().any(|p| t.starts_with(p.as_str()))));
        hit.then_some(true)
    }

    /// The live processes `sel` selects: those whose nearest decided ancestor (or
    /// themselves) is to be stopped.
    fn victims(&mut self, sel: &Select) -> Vec<(u32, u64)> {
        let mut memo: HashMap<u32, bool> = HashMap::new();
        let pids: Vec<u32> = self.procs.keys().copied().collect();
        let mut out = vec![];
        for pid in pids {
            if self.procs[&pid].zombie {
                continue;
            }
            // Walk up until a process decides (or the chain ends); everything on the way
            // gets that answer.
            let mut chain = vec![];
            let mut cur = pid;
            let verdict = loop {
                if let Some(&v) = memo.get(&cur) {
                    break v;
                }
                if !self.procs.contains_key(&cur) || chain.len() > self.procs.len() {
                    break false;
                }
                chain.push(cur);
                if let Some(v) = self.own_verdict(cur, sel) {
                    break v;
                }
                cur = self.procs[&cur].ppid;
            };
            for c in chain {
                memo.insert(c, verdict);
            }
            if verdict && !self.spared.contains(&pid) {
                out.push((pid, self.procs[&pid].start));
            }
        }
        out
    }
}

/// The environment of process `pid`. In the instant after an `exec` has let its parent go
/// on, and before the new program's stack is laid out, /proc shows a live process with an
/// empty environment: one that reads empty is read again a few times (a process
/// really started with none costs a few milliseconds per look).
fn environ(pid: u32, zombie: bool) -> Option<Vec<u8>> {
    let path = format!("/proc/{pid}/environ");
    let mut env = std::fs::read(&path).ok()?;
    for _ in 0..if zombie { 0 } else { 5 } {
        if !env.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
        env = std::fs::read(&path).ok()?;
    }
    Some(env)
}

/// The start time of the run whose tags begin with `prefix` ("PID.START.").
fn run_start(prefix: &str) -> Option<u64> {
    prefix.split('.').nth(1)?.parse().ok()
}

/// The live processes `sel` selects now.
pub fn victims(sel: &Select) -> Vec<(u32, u64)> {
    Table::scan().victims(sel)
}

/// Send `sig` to `pid` if it is still the process that started at `start` (a pidfd is
/// taken first, so the pid cannot be reused between the check and the signal).
fn signal(pid: u32, start: u64, sig: libc::c_int) {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        // A kernel without pidfds (before 5.3): check, then signal by pid.
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS)
            && stat(pid).map(|s| s.start) == Some(start)
        {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid as libc::pid_t, sig) };
        }
        return;
    }
    // SAFETY: a non-negative return is a new fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if stat(pid).map(|s| s.start) != Some(start) {
        return;
    }
    // SAFETY: a valid pidfd, a signal number, no siginfo.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
}

/// Stop everything `sel` selects: SIGTERM to all, then (after `GRACE`, to those left and
/// to any that appeared meanwhile) SIGKILL until none is left. `reap` collects our
/// children that exited. Err: the processes still there after all that.
pub fn stop(sel: &Select, mut reap: impl FnMut()) -> Result<(), Vec<u32>> {
    let mut termed = HashSet::new();
    let deadline = Instant::now() + GRACE;
    loop {
        reap();
        let left = victims(sel);
        if left.is_empty() {
            reap();
            return Ok(());
        }
        if Instant::now() >= deadline {
            break;
        }
        for (pid, start) in left {
            if termed.insert((pid, start)) {
                signal(pid, start, libc::SIGTERM);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let deadline = Instant::now() + KILL_WAIT;
    loop {
        let left = victims(sel);
        if left.is_empty() {
            reap();
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(left.into_iter().map(|(p, _)| p).collect());
        }
        for &(pid, start) in &left {
            signal(pid, start, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(5));
        reap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kernel thread is told apart (its environment is not read, see `Table::tag`);
    /// this process is none.
    #[test]
    fn kernel_threads_are_told_apart() {
        let me = stat(std::process::id()).expect("our own stat");
        assert!(!me.kthread && !me.zombie);
        // kthreadd is pid 2 where this runs in the machine's PID namespace.
        let kthreadd = std::fs::read_to_string("/proc/2/comm").unwrap_or_default();
        if kthreadd.trim() == "kthreadd" {
            assert!(stat(2).expect("kthreadd's stat").kthread);
        }
    }
}
