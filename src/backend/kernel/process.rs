//! Commands run inside a namespace the way `ip netns exec` runs them: `setns` in the
//! child before `exec`, a private mount namespace with a fresh /sys (so /sys/class/net
//! shows the namespace's own links), and /etc/netns/NAME/* bound over /etc.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::backend::Command as Cmd;

/// Paths of the files under /etc/netns/NAME to bind over /etc, found before forking.
fn etc_binds(ns_name: &str) -> Vec<(CString, CString)> {
    let dir = format!("/etc/netns/{ns_name}");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    rd.flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            Some((
                CString::new(format!("{dir}/{name}")).ok()?,
                CString::new(format!("/etc/{name}")).ok()?,
            ))
        })
        .collect()
}

/// A `std::process::Command` that will run `cmd` inside the namespace `ns`
/// (`None`: where we are).
pub fn command(cmd: &Cmd, ns: Option<(&str, &File)>) -> Command {
    let argv = cmd.argv();
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]);
    if let Some((name, file)) = ns {
        let fd = file.as_raw_fd();
        let binds = etc_binds(name);
        let sysfs = CString::new("sysfs").unwrap();
        let sys = CString::new("/sys").unwrap();
        let root = CString::new("/").unwrap();
        // SAFETY: between fork and exec this only makes system calls.
        unsafe {
            c.pre_exec(move || {
                setns(BorrowedFd::borrow_raw(fd), CloneFlags::CLONE_NEWNET)?;
                unshare(CloneFlags::CLONE_NEWNS)?;
                mount(
                    None::<&std::ffi::CStr>,
                    root.as_c_str(),
                    None::<&std::ffi::CStr>,
                    MsFlags::MS_SLAVE | MsFlags::MS_REC,
                    None::<&std::ffi::CStr>,
                )?;
                let _ = umount2(sys.as_c_str(), MntFlags::MNT_DETACH);
                mount(
                    Some(sysfs.as_c_str()),
                    sys.as_c_str(),
                    Some(sysfs.as_c_str()),
                    MsFlags::empty(),
                    None::<&std::ffi::CStr>,
                )?;
                for (from, to) in &binds {
                    let _ = mount(
                        Some(from.as_c_str()),
                        to.as_c_str(),
                        None::<&std::ffi::CStr>,
                        MsFlags::MS_BIND,
                        None::<&std::ffi::CStr>,
                    );
                }
                Ok(())
            });
        }
    }
    c
}

/// A process's start time (clock ticks after boot, field 22 of /proc/PID/stat).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// An exit status the shell's way: the exit code, or 128 + N for a process killed by
/// signal N.
pub fn status_code(st: std::process::ExitStatus) -> i64 {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => i64::from(c),
        (None, Some(s)) => 128 + i64::from(s),
        (None, None) => -1,
    }
}

/// A pidfd for `pid` (readable once it has exited), where the kernel has them.
fn pidfd(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    // SAFETY: a non-negative return is a new fd that nothing else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// How much of each output stream `exec` keeps: the last 64 MiB (a command that writes
/// without end, `exec("yes")`, must not fill the memory).
pub const EXEC_KEEP: usize = 64 << 20;

/// Read what `fd` has without blocking, at most `cap` bytes; false at end of file. Only
/// the last `EXEC_KEEP` bytes are kept.
fn read_available(fd: RawFd, into: &mut Vec<u8>, cap: usize) -> bool {
    let more = read_some(fd, into, cap);
    // Trimmed in large steps, so each byte is moved at most once or twice.
    if into.len() > 2 * EXEC_KEEP {
        into.drain(..into.len() - EXEC_KEEP);
    }
    more
}

fn read_some(fd: RawFd, into: &mut Vec<u8>, cap: usize) -> bool {
    let mut buf = [0u8; 16384];
    let mut read = 0;
    while read < cap {
        // SAFETY: reads into a buffer of the given length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 => return false,
            n if n > 0 => {
                into.extend_from_slice(&buf[..n as usize]);
                read += n as usize;
            }
            _ => match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                // EAGAIN: nothing more for now.
                _ => return true,
            },
        }
    }
    true
}

/// What a command run by `exec` printed and how it ended; `None` when a signal
/// interrupted the wait.
pub struct Collected {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Wait for `child` (spawned with piped stdout and stderr) to exit, reading its output
/// meanwhile. Returns when the child exits, not at end of file: a process it left
/// running in the background (`sleep 100 &`) may hold the pipes open for ever. What is
/// already in the pipes then is read without blocking. `None`: SIGINT or SIGTERM came
/// first (the child is still running).
pub fn collect(child: &mut Child) -> std::io::Result<Option<Collected>> {
    let mut pipes: Vec<(RawFd, Vec<u8>, bool)> = [
        child.stdout.as_ref().map(|p| p.as_raw_fd()),
        child.stderr.as_ref().map(|p| p.as_raw_fd()),
    ]
    .into_iter()
    .map(|fd| (fd.unwrap_or(-1), vec![], fd.is_some()))
    .collect();
    for (fd, _, open) in &pipes {
        if *open {
            // SAFETY: plain fcntl on an fd the child handle owns.
            unsafe {
                let fl = libc::fcntl(*fd, libc::F_GETFL);
                libc::fcntl(*fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
            }
        }
    }
    let exited = pidfd(child.id());
    loop {
        if crate::signals::interrupted() {
            return Ok(None);
        }
        let mut fds: Vec<libc::pollfd> = pipes
            .iter()
            .filter(|p| p.2)
            .map(|p| libc::pollfd {
                fd: p.0,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        if let Some(p) = &exited {
            fds.push(libc::pollfd {
                fd: p.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        // A bounded wait, so a signal (whose handler may run on another thread) and
        // the exit (where there is no pidfd) are seen promptly.
        // SAFETY: `fds` is a valid array of pollfd of the given length.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 20) };
        for (fd, out, open) in pipes.iter_mut().filter(|p| p.2) {
            // A bounded read, so a command that writes without end still lets us see
            // signals and its exit.
            *open = read_available(*fd, out, 1 << 20);
        }
        if let Some(status) = child.try_wait()? {
            // Whatever is in the pipes now; a background process that keeps writing
            // does not keep us here.
            for (fd, out, open) in pipes.iter_mut().filter(|p| p.2) {
                read_available(*fd, out, 1 << 20);
                *open = false;
            }
            let mut it = pipes.into_iter().map(|p| {
                let mut out = p.1;
                out.drain(..out.len().saturating_sub(EXEC_KEEP));
                out
            });
            let stdout = it.next().unwrap_or_default();
            let stderr = it.next().unwrap_or_default();
            // Close our ends now: a background writer then gets EPIPE, not a full pipe.
            drop(child.stdout.take());
            drop(child.stderr.take());
            return Ok(Some(Collected {
                status,
                stdout,
                stderr,
            }));
        }
    }
}

/// Run `cmd` on the terminal (stdin, stdout and stderr inherited, not captured), inside
/// the namespace `ns` as `command` sets it up, with `env` added; returns its exit status
/// the shell's way. `netscript exec` / `shell` and `ns.shell()` use it.
///
/// Like `system(3)`, netscript ignores SIGINT and SIGQUIT while it waits: a Ctrl-C at the
/// terminal is the command's (a shell's, say) to handle, not a reason to end the run.
pub fn interactive(
    cmd: &Cmd,
    ns: Option<(&str, &File)>,
    env: &[(String, String)],
) -> std::io::Result<i64> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let mut c = command(cmd, ns);
    c.envs(env.iter().map(|(k, v)| (k, v)));
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    let sigs = [Signal::SIGINT, Signal::SIGQUIT];
    // SAFETY: between fork and exec this only resets signal dispositions.
    unsafe {
        c.pre_exec(move || {
            for s in sigs {
                sigaction(s, &default)?;
            }
            Ok(())
        });
    }
    // SAFETY: installing SIG_IGN and restoring the previous actions, no handler code.
    let saved: Vec<_> = sigs
        .iter()
        .filter_map(|s| unsafe { sigaction(*s, &ignore) }.ok().map(|old| (*s, old)))
        .collect();
    let result = c.spawn().and_then(|mut child| child.wait());
    for (s, old) in saved {
        // SAFETY: as above.
        unsafe {
            let _ = sigaction(s, &old);
        }
    }
    Ok(status_code(result?))
}

/// Start the keeper of a started process's output files (`lab::output::keep`): netscript
/// itself, `__keep-output PID START FILE...`. It joins the process's group (and carries
/// its tag), so it belongs to the process's family: stopped with it, spared with it when
/// it is detached. The group, not the tag, is what makes that certain: a process read
/// from /proc in the instant after its `exec` has released the parent shows an empty
/// environment, and the end of a run that came right then took the keeper for a stray.
/// Where it cannot start, the files are still trimmed whenever they are read.
pub fn keep_output(pid: u32, start: u64, tag: &str, files: &[std::path::PathBuf]) {
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let mut c = Command::new(exe);
    c.arg(crate::lab::output::KEEPER)
        .arg(pid.to_string())
        .arg(start.to_string())
        .args(files)
        .env(super::family::TAG_VAR, tag)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // The started process has not been reaped, so its group exists even if it ended.
    c.process_group(pid as i32);
    let _ = c.spawn();
}
