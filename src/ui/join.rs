//! Into a running sandbox (`--sandbox-of NAME`, `attach`, or a lab or namespace found in
//! one): this process joins the namespaces of the sandbox's PID 1 — its user namespace if
//! it is rootless and we are not root, its mount, network and UTS namespaces — and forks
//! into its PID namespace, so the command then runs exactly as it would inside.
//!
//! Must run before any other thread exists: joining a mount namespace needs a
//! single-threaded process. The fork is needed because /proc there is the sandbox's:
//! /proc/self resolves only for a process of its PID namespace. The parent waits and
//! exits with the child's code; when the sandbox ends, the kernel kills the child with it.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::sched::CloneFlags;
use nix::unistd::{fork, ForkResult};

use super::registry::{self, Entry};
use super::sandbox;

/// `ns` of this process and of `pid` differ (`/proc/PID/ns/NS`).
fn differs(pid: i32, ns: &str) -> bool {
    let of = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/{ns}")).ok();
    of("self") != of(&pid.to_string())
}

/// Join sandbox `e`. Returns in the child, inside; the parent never returns.
pub fn join(e: &Entry) -> Result<(), String> {
    let gone = || {
        format!(
            "sandbox {:?} has ended (its process {} is gone)",
            e.name, e.pid
        )
    };
    // SAFETY: pidfd_open takes a pid and flags; the fd returned is ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, e.pid, 0) };
    if fd < 0 {
        return Err(gone());
    }
    // SAFETY: a fresh fd.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // Checked after the pidfd is open: from here on it names this process, whatever
    // happens to the pid.
    if !registry::same_process(e.pid, e.start) {
        return Err(gone());
    }
    let mut flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWPID;
    // Root has every capability over the sandbox's user namespace without joining it
    // (and would be an unmapped uid inside it); a user reaches their own rootless sandbox
    // through it.
    let root = nix::unistd::geteuid().is_root();
    if !root && differs(e.pid, "user") {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    let cwd = std::env::current_dir().ok();
    nix::sched::setns(&pidfd, flags).map_err(|err| match err {
        nix::errno::Errno::EPERM if !root => format!(
            "cannot enter sandbox {:?}: {err} (a sandbox can be entered by root, or by the user who started it)",
            e.name
        ),
        err => format!("cannot enter sandbox {:?}: {err}", e.name),
    })?;
    drop(pidfd);
    // Joining a mount namespace moves to its root directory: back to the same path, which
    // the sandbox sees too (it shares the host's files but for /run, /proc and /sys).
    if cwd
        .as_ref()
        .is_none_or(|d| std::env::set_current_dir(d).is_err())
    {
        let _ = std::env::set_current_dir("/");
    }
    // Inside, the registered pids mean nothing: no registry.
    std::env::set_var(registry::DIR_ENV, "");
    let foreground = sandbox::foreground();
    // The child goes on once it is in the foreground (the parent closes its end).
    let (go_r, go_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|err| format!("creating a pipe: {err}"))?;
    // SAFETY: no other thread exists (see the module docs).
    match unsafe { fork() }.map_err(|err| format!("forking into the sandbox: {err}"))? {
        ForkResult::Child => {
            drop(go_w);
            // Die with the parent (it is what the terminal and the caller know).
            // SAFETY: prctl with integer arguments only.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
            if foreground {
                sandbox::own_group();
            }
            let _ = nix::unistd::read(&go_r, &mut [0u8]);
            Ok(())
        }
        ForkResult::Parent { child } => {
            drop(go_r);
            if foreground {
                sandbox::give_terminal(child);
            }
            drop(go_w);
            sandbox::wait_for(child, move || {
                if foreground {
                    sandbox::take_terminal_back();
                }
            })
        }
    }
}

/// What a command looks for, to find the sandbox it means when none is named.
pub enum Target<'a> {
    /// Nothing in particular (`ls`, `graph` of everything): the host.
    Host,
    /// A lab by name.
    Lab(&'a str),
    /// A namespace by name (`host`: the host's), of a lab if given.
    Ns { lab: Option<&'a str>, ns: &'a str },
}

/// The one running sandbox that holds what `target` names when the host does not hold it
/// (None: the host holds it, or no sandbox does). Several: an error naming them.
pub fn find_for(target: &Target) -> Result<Option<Entry>, String> {
    use crate::lab::journal::Journal;
    let (what, path) = match *target {
        Target::Host
        | Target::Ns {
            lab: None,
            ns: "host",
        } => return Ok(None),
        Target::Lab(lab) | Target::Ns { lab: Some(lab), .. } => {
            // A bad name is the command's to report.
            if crate::lab::names::labname(lab).is_err() {
                return Ok(None);
            }
            let p = Journal::path_for(lab);
            (format!("lab {lab:?}"), p.display().to_string())
        }
        Target::Ns { lab: None, ns } => {
            if crate::lab::names::nsname(ns).is_err() {
                return Ok(None);
            }
            let p = crate::backend::kernel::netns::path(ns);
            (format!("namespace {ns:?}"), p.display().to_string())
        }
    };
    if std::path::Path::new(&path).exists() {
        return Ok(None);
    }
    let holding: Vec<Entry> = registry::live()
        .into_iter()
        .filter(|e| e.has(&path))
        .collect();
    match holding.len() {
        0 => Ok(None),
        1 => Ok(holding.into_iter().next()),
        _ => Err(format!(
            "{what} is in {} running sandboxes ({}): pick one with --sandbox-of NAME",
            holding.len(),
            registry::names(&holding)
        )),
    }
}
