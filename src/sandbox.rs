//! `--sandbox`: run in a fresh private network and mount namespace, with a private
//! /run/netns, /run/netscript and a fresh sysfs. Nothing touches the host; everything
//! vanishes at exit. Without root it goes through a user namespace (uid mapped to 0).
//! Must run before any other thread exists: CLONE_NEWNS needs a single-threaded process.

use std::fs;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{getgid, getuid};

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

fn tmpfs(path: &str) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| format!("creating {path}: {e}"))?;
    mount(
        Some("tmpfs"),
        path,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(|e| format!("mounting a tmpfs on {path}: {e}"))
}

pub fn enter() -> Result<(), String> {
    let before = fs::read_link("/proc/self/ns/net")
        .map_err(|e| format!("reading /proc/self/ns/net: {e}"))?;
    let mut flags = CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS;
    let as_user = !privileged();
    let (uid, gid) = (getuid(), getgid());
    if as_user {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).map_err(|e| match as_user {
        true => format!("cannot create a user namespace for the sandbox ({e}); this kernel may not allow unprivileged user namespaces: run as root"),
        false => format!("cannot create the sandbox namespaces: {e}"),
    })?;
    if as_user {
        fs::write("/proc/self/setgroups", "deny").map_err(|e| format!("setgroups: {e}"))?;
        fs::write("/proc/self/uid_map", format!("0 {uid} 1"))
            .map_err(|e| format!("uid_map: {e}"))?;
        fs::write("/proc/self/gid_map", format!("0 {gid} 1"))
            .map_err(|e| format!("gid_map: {e}"))?;
    }
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making / private: {e}"))?;
    // Without root on the host, /run/netns may not be creatable: a private /run then.
    if fs::create_dir_all("/run/netns").is_err()
        || fs::create_dir_all(crate::journal::RUN_DIR).is_err()
    {
        tmpfs("/run")?;
    }
    tmpfs("/run/netns")?;
    tmpfs(crate::journal::RUN_DIR)?;
    let _ = umount2("/sys", MntFlags::MNT_DETACH);
    mount(
        Some("sysfs"),
        "/sys",
        Some("sysfs"),
        MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| format!("mounting a fresh sysfs: {e}"))?;
    let after = fs::read_link("/proc/self/ns/net")
        .map_err(|e| format!("reading /proc/self/ns/net: {e}"))?;
    if after == before {
        return Err(
            "the sandbox did not get a network namespace of its own; refusing to go on".into(),
        );
    }
    Ok(())
}
