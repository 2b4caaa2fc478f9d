//! Commands run inside a namespace the way `ip netns exec` runs them: `setns` in the
//! child before `exec`, a private mount namespace with a fresh /sys (so /sys/class/net
//! shows the namespace's own links), and /etc/netns/NAME/* bound over /etc.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

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

pub fn output(mut c: Command) -> std::io::Result<std::process::Output> {
    c.stdin(Stdio::null()).output()
}
