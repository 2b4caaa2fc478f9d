//! Sysctls are shared by the labs on a host: two labs that both turn on
//! `net.ipv4.ip_forward` must not turn it off under each other, and the last one down
//! must put back the value from before the first one up. Each change to a sysctl that a
//! lab does not own is a claim, kept in /run/netscript/sysctl-claims.json under a lock.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;

use serde::{Deserialize, Serialize};

use crate::journal::RUN_DIR;
use crate::op::Ns;

#[derive(Default, Serialize, Deserialize)]
struct Claim {
    /// The value before the first claim.
    original: String,
    /// One entry per change still in force (a lab may appear more than once).
    holders: Vec<String>,
}

struct Claims {
    _lock: File,
    map: BTreeMap<String, Claim>,
}

fn key(ns: &Ns, sysctl: &str) -> String {
    format!("{}|{sysctl}", ns.as_deref().unwrap_or(""))
}

fn path() -> String {
    format!("{RUN_DIR}/sysctl-claims.json")
}

impl Claims {
    fn open() -> Option<Claims> {
        fs::create_dir_all(RUN_DIR).ok()?;
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(format!("{RUN_DIR}/sysctl-claims.lock")).ok()?;
        // SAFETY: flock on an fd we own; released when the file is closed.
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
        let map = fs::read_to_string(path()).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        Some(Claims { _lock: lock, map })
    }

    fn save(&self) {
        let _ = fs::write(path(), serde_json::to_string(&self.map).expect("claims serialize"));
    }
}

/// Lab `lab` is about to change `sysctl` in `ns`, which now holds `current`: the value its
/// undo must restore (the one from before any lab's claim).
pub fn claim(lab: &str, ns: &Ns, sysctl: &str, current: String) -> String {
    let Some(mut c) = Claims::open() else { return current };
    let entry = c.map.entry(key(ns, sysctl)).or_insert_with(|| Claim { original: current, holders: vec![] });
    entry.holders.push(lab.to_string());
    let original = entry.original.clone();
    c.save();
    original
}

/// Lab `lab` undoes one change of `sysctl` in `ns`: whether to restore the value now
/// (false while other changes are still in force).
pub fn release(lab: &str, ns: &Ns, sysctl: &str) -> bool {
    let Some(mut c) = Claims::open() else { return true };
    let k = key(ns, sysctl);
    let Some(entry) = c.map.get_mut(&k) else { return true };
    if let Some(i) = entry.holders.iter().position(|h| h == lab) {
        entry.holders.remove(i);
    }
    let last = entry.holders.is_empty();
    if last {
        c.map.remove(&k);
    }
    c.save();
    last
}
