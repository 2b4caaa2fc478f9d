//! `--sandbox`: run in fresh private network, mount, PID and UTS namespaces, with a
//! private /run/netns, /run/netscript, a fresh sysfs and /proc. Nothing touches the host;
//! everything vanishes at exit. Without root it goes through a user namespace (uid
//! mapped to 0). Must run before any other thread exists: CLONE_NEWNS needs a
//! single-threaded process.
//!
//! The PID namespace is the guarantee that nothing outlives the sandbox: netscript forks
//! once, the child is PID 1 of the new namespace and runs the script, and when it exits
//! the kernel kills everything else in the namespace (a detached process, what an exec
//! left in the background). The parent only waits, forwards SIGINT / SIGTERM (so a
//! signal to the pid the shell knows still rolls the run back) and exits with the
//! child's code.
//!
//! A run or REPL in a sandbox registers it while it lives (`registry.rs`), so other
//! commands can reach it (`--sandbox-of`, `attach`, `join.rs`).

use std::fs;
use std::path::Path;

use std::sync::atomic::{AtomicI32, Ordering};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, getgid, getuid, ForkResult, Pid};

use super::registry;

/// How a sandbox registers: its name (the lab's) and what runs in it (a script's path,
/// `-e`, `repl`).
pub struct Register<'a> {
    pub name: &'a str,
    pub what: &'a str,
}

/// Root, or both CAP_NET_ADMIN and CAP_SYS_ADMIN in effect.
pub fn privileged() -> bool {
    let caps = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        })
        .unwrap_or(0);
    const NET_ADMIN: u64 = 1 << 12;
    const SYS_ADMIN: u64 = 1 << 21;
    caps & (NET_ADMIN | SYS_ADMIN) == NET_ADMIN | SYS_ADMIN
}

fn tmpfs(path: &str) -> crate::error::Result<()> {
    fs::create_dir_all(path)
        .map_err(|e| crate::error::Error::Other(format!("creating {path}: {e}")))?;
    mount(
        Some("tmpfs"),
        path,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(|e| crate::error::Error::Other(format!("mounting a tmpfs on {path}: {e}")))
}

/// Into a fresh sandbox; with `register`, registered while it lives.
pub fn enter(register: Option<Register>) -> crate::error::Result<()> {
    // Opened now, while paths still name the host's directories.
    let pending = match register.as_ref().map(|_| registry::prepare()) {
        Some(Err(e)) => {
            crate::errln!(
                "netscript: --sandbox: not registered, other commands cannot reach it: {e}"
            );
            None
        }
        Some(Ok(p)) => p,
        None => None,
    };
    let before = fs::read_link("/proc/self/ns/net")
        .map_err(|e| crate::error::Error::Other(format!("reading /proc/self/ns/net: {e}")))?;
    let mut flags = CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWUTS;
    let as_user = !privileged();
    let (uid, gid) = (getuid(), getgid());
    if as_user {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).map_err(|e| match as_user {
        true => crate::error::Error::Other(format!("cannot create a user namespace for the sandbox ({e}); this kernel may not allow unprivileged user namespaces: run as root")),
        false => crate::error::Error::Other(format!("cannot create the sandbox namespaces: {e}")),
    })?;
    if as_user {
        fs::write("/proc/self/setgroups", "deny")
            .map_err(|e| crate::error::Error::Other(format!("setgroups: {e}")))?;
        fs::write("/proc/self/uid_map", format!("0 {uid} 1"))
            .map_err(|e| crate::error::Error::Other(format!("uid_map: {e}")))?;
        fs::write("/proc/self/gid_map", format!("0 {gid} 1"))
            .map_err(|e| crate::error::Error::Other(format!("gid_map: {e}")))?;
    }
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| crate::error::Error::Other(format!("making / private: {e}")))?;
    // Mount points are made in a private /run unless the host already has them: a
    // directory made here would be made on the host's /run (and without root on the
    // host it could not be made at all).
    if !Path::new("/run/netns").is_dir() || !Path::new(crate::lab::journal::RUN_DIR).is_dir() {
        tmpfs("/run")?;
        fs::create_dir_all("/run/netns")
            .map_err(|e| crate::error::Error::Other(format!("creating /run/netns: {e}")))?;
        fs::create_dir_all(crate::lab::journal::RUN_DIR).map_err(|e| {
            crate::error::Error::Other(format!("creating {}: {e}", crate::lab::journal::RUN_DIR))
        })?;
    }
    tmpfs("/run/netns")?;
    tmpfs(crate::lab::journal::RUN_DIR)?;
    let _ = umount2("/sys", MntFlags::MNT_DETACH);
    mount(
        Some("sysfs"),
        "/sys",
        Some("sysfs"),
        MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| crate::error::Error::Other(format!("mounting a fresh sysfs: {e}")))?;
    let after = fs::read_link("/proc/self/ns/net")
        .map_err(|e| crate::error::Error::Other(format!("reading /proc/self/ns/net: {e}")))?;
    if after == before {
        return Err(crate::error::Error::Other(
            "the sandbox did not get a network namespace of its own; refusing to go on".into(),
        ));
    }
    let pending = pending.zip(register);
    into_pid_namespace(pending, as_user)
}

/// The child's pid, for the parent's signal handler (0: none yet).
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // A signal the terminal sent (Ctrl-C) went to the child too: it is in our process
    // group. Only one sent to us alone (kill PID) is passed on.
    // SAFETY: the kernel hands a valid siginfo to an SA_SIGINFO handler.
    let from_kernel = unsafe { (*info).si_code } == libc::SI_KERNEL;
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 && !from_kernel {
        // SIGHUP and SIGQUIT as SIGTERM: PID 1 ignores signals it has no handler for.
        let sig = if sig == libc::SIGINT {
            sig
        } else {
            libc::SIGTERM
        };
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, sig) };
    }
}

/// Fork; the child (PID 1 of the new PID namespace) returns and runs netscript, the
/// parent waits for it and exits with its exit code.
fn into_pid_namespace(
    pending: Option<(registry::Pending, Register)>,
    rootless: bool,
) -> crate::error::Result<()> {
    // The child dies with the parent (PR_SET_PDEATHSIG); this pipe tells it whether the
    // parent died before that was set: its write end closes when the parent is gone.
    let (alive_r, alive_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| crate::error::Error::Other(format!("creating a pipe: {e}")))?;
    // The child goes on once the parent has registered the sandbox and given it the
    // terminal (it closes its end): so the sandbox can be reached before its script does
    // anything.
    let (registered_r, registered_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| crate::error::Error::Other(format!("creating a pipe: {e}")))?;
    let foreground = foreground();
    // SAFETY: no other thread exists (see the module docs).
    match unsafe { fork() }
        .map_err(|e| crate::error::Error::Other(format!("forking into the PID namespace: {e}")))?
    {
        ForkResult::Child => {
            drop(alive_w);
            // SAFETY: prctl with integer arguments only.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
            let mut p = libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(&alive_r),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut p, 1, 0) } > 0 && p.revents & libc::POLLHUP != 0 {
                std::process::exit(crate::exit::code(crate::exit::FAILURE));
            }
            drop(alive_r);
            drop(pending);
            drop(registered_w);
            if foreground {
                own_group();
            }
            let _ = nix::unistd::read(&registered_r, &mut [0u8]);
            drop(registered_r);
            // Inside, the registered pids mean nothing: no registry.
            std::env::set_var(registry::DIR_ENV, "");
            // A /proc of this PID namespace, so commands see its processes.
            mount(
                Some("proc"),
                "/proc",
                Some("proc"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&str>,
            )
            .map_err(|e| crate::error::Error::Other(format!("mounting a fresh /proc: {e}")))?;
            Ok(())
        }
        ForkResult::Parent { child } => {
            drop(alive_r);
            drop(registered_r);
            let registered = pending.and_then(|(p, r)| {
                p.register(r.name, child.as_raw(), r.what, rootless)
                    .map_err(|e| {
                        crate::errln!("netscript: --sandbox: not registered, other commands cannot reach it: {e}")
                    })
                    .ok()
            });
            if foreground {
                give_terminal(child);
            }
            drop(registered_w);
            wait_for(child, move || {
                if foreground {
                    take_terminal_back();
                }
                drop(alive_w);
                if let Some(r) = registered {
                    r.remove();
                }
            })
        }
    }
}

/// Whether this process is in the foreground of a terminal (its stdin). Then the child it
/// forks into a PID namespace gets a process group of its own, in the foreground
/// ([`own_group`], [`give_terminal`]): a shell inside hands the terminal back to the group
/// it found there when it exits, and ours, led by a process outside the namespace, does
/// not exist in it ("Cannot set tty process group").
pub fn foreground() -> bool {
    let stdin = std::io::stdin();
    nix::unistd::isatty(&stdin).unwrap_or(false)
        && nix::unistd::tcgetpgrp(&stdin).ok() == Some(nix::unistd::getpgrp())
}

/// In the child: a process group of its own (it waits for [`give_terminal`] before
/// touching the terminal).
pub fn own_group() {
    let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
}

/// In the parent: the child's group (made here too, whichever runs first) gets the
/// terminal. Terminal signals (Ctrl-C) then reach the child alone, as they should.
pub fn give_terminal(child: Pid) {
    let _ = nix::unistd::setpgid(child, child);
    let _ = nix::unistd::tcsetpgrp(std::io::stdin(), child);
}

/// In the parent, once the child has ended: the terminal back to our group.
pub fn take_terminal_back() {
    // From a background group, tcsetpgrp would stop us with SIGTTOU.
    // SAFETY: ignoring a signal installs no handler.
    unsafe {
        let _ = nix::sys::signal::signal(Signal::SIGTTOU, SigHandler::SigIgn);
    }
    let _ = nix::unistd::tcsetpgrp(std::io::stdin(), nix::unistd::getpgrp());
}

/// The parent's side of a fork into a PID namespace (a sandbox's, or a joined one): wait
/// for `child`, forwarding SIGINT / SIGTERM, then `at_end`, then exit with its code.
pub fn wait_for(child: Pid, at_end: impl FnOnce()) -> ! {
    CHILD.store(child.as_raw(), Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::SigAction(forward),
        SaFlags::SA_RESTART | SaFlags::SA_SIGINFO,
        SigSet::empty(),
    );
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        // SAFETY: the handler only calls kill.
        unsafe {
            let _ = sigaction(sig, &action);
        }
    }
    let code = loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, c)) => break c,
            Ok(WaitStatus::Signaled(_, s, _)) => break 128 + s as i32,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                crate::errln!("netscript: waiting for the sandbox: {e}");
                break 1;
            }
        }
    };
    at_end();
    std::process::exit(code)
}
