//! Sysctls are shared by the labs on a host. Changes to one sysctl by several labs form
//! a stack, kept in /run/netscript/sysctl-claims.json under a lock: undoing the newest
//! change restores the value from before it; undoing an older one, while newer ones are
//! still in force, changes nothing now and hands its "before" value on to the next
//! change, so whoever is undone last puts back the value from before them all.
//!
//! The lock ([`Held`]) is held from reading the value to writing the new one, and from
//! releasing a claim to writing the value back: otherwise two labs torn down at once can
//! write in the opposite order of their claims, and a value from the middle of the stack
//! lands last.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;

use serde::{Deserialize, Serialize};

use crate::lab::journal::STATE_DIR;
use crate::lab::op::Ns;

#[derive(Serialize, Deserialize)]
struct Change {
    lab: String,
    /// The value before this change.
    before: String,
}

struct Claims {
    map: BTreeMap<String, Vec<Change>>,
}

/// The claims lock, held by a sysctl change or undo from start to end (dropping it
/// unlocks).
pub struct Held {
    _lock: File,
}

/// Take the claims lock (waits for other labs); None when the state folder is unusable,
/// and then each lab restores what its own journal says.
pub fn hold() -> Option<Held> {
    fs::create_dir_all(STATE_DIR).ok()?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{STATE_DIR}/sysctl-claims.lock"))
        .ok()?;
    // SAFETY: flock on an fd we own; released when the file is closed.
    match unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } {
        0 => Some(Held { _lock: lock }),
        _ => {
            crate::errln!(
                "netscript: cannot lock {STATE_DIR}/sysctl-claims.lock: {}",
                std::io::Error::last_os_error()
            );
            None
        }
    }
}

fn key(ns: &Ns, sysctl: &str) -> String {
    format!("{}|{sysctl}", ns.as_deref().unwrap_or(""))
}

fn path() -> String {
    format!("{STATE_DIR}/sysctl-claims.json")
}

impl Claims {
    /// The claims, read under the lock `_held`.
    fn open(_held: &Held) -> Option<Claims> {
        let map = match fs::read_to_string(path()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Ok(t) => match serde_json::from_str(&t) {
                Ok(m) => m,
                // Never overwrite (and so lose) other labs' claims: each lab then
                // restores what its own journal says.
                Err(e) => {
                    crate::errln!("netscript: {} is unreadable ({e}); sysctls are restored from each lab's journal", path());
                    return None;
                }
            },
            Err(e) => {
                crate::errln!("netscript: cannot read {}: {e}", path());
                return None;
            }
        };
        Some(Claims { map })
    }

    /// Written whole or not at all: a new file, synced, renamed over the old one.
    fn save(&mut self) {
        use std::io::Write;
        self.map.retain(|_, v| !v.is_empty());
        let tmp = format!("{}.new", path());
        let text = serde_json::to_string(&self.map).expect("claims serialize") + "\n";
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| fs::rename(&tmp, path()));
        if let Err(e) = written {
            crate::errln!("netscript: cannot write {}: {e}", path());
        }
    }
}

/// Lab `lab` is about to change `sysctl` in `ns`, which holds `before` now.
pub fn claim(held: &Held, lab: &str, ns: &Ns, sysctl: &str, before: String) {
    if let Some(mut c) = Claims::open(held) {
        c.map.entry(key(ns, sysctl)).or_default().push(Change {
            lab: lab.into(),
            before,
        });
        c.save();
    }
}

/// The change just claimed did not happen after all.
pub fn withdraw(held: &Held, lab: &str, ns: &Ns, sysctl: &str) {
    if let Some(mut c) = Claims::open(held) {
        if let Some(v) = c.map.get_mut(&key(ns, sysctl)) {
            if let Some(i) = v.iter().rposition(|ch| ch.lab == lab) {
                v.remove(i);
            }
        }
        c.save();
    }
}

/// What undoing lab `lab`'s latest change of `sysctl` in `ns` should do.
pub enum Undo {
    /// Put this value back.
    Restore(String),
    /// Leave the sysctl as it is: a newer change of another lab is in force.
    Keep,
    /// No claim is known: restore what the journal says.
    Unknown,
}

/// Keep `held` until the value is written back.
pub fn release(held: &Held, lab: &str, ns: &Ns, sysctl: &str) -> Undo {
    let Some(mut c) = Claims::open(held) else {
        return Undo::Unknown;
    };
    let Some(v) = c.map.get_mut(&key(ns, sysctl)) else {
        return Undo::Unknown;
    };
    let Some(i) = v.iter().rposition(|ch| ch.lab == lab) else {
        return Undo::Unknown;
    };
    let gone = v.remove(i);
    let undo = match v.get_mut(i) {
        // The next change now starts from what this one found.
        Some(next) => {
            next.before = gone.before;
            Undo::Keep
        }
        None => Undo::Restore(gone.before),
    };
    c.save();
    undo
}
