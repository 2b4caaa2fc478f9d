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
use std::fs::{self, File};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lab::journal::{read_regular, STATE_DIR};
use crate::lab::lock::{self, FileLock};
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
    _lock: FileLock,
}

/// Take the claims lock (waits for other labs).
pub fn hold() -> Result<Held> {
    fs::create_dir_all(STATE_DIR).map_err(|e| Error::os(STATE_DIR, e))?;
    let lock = lock::exclusive(Path::new(&format!("{STATE_DIR}/sysctl-claims.lock")), true)?
        .expect("a waiting lock is taken");
    Ok(Held { _lock: lock })
}

fn key(ns: &Ns, sysctl: &str) -> String {
    format!("{}|{sysctl}", ns.as_deref().unwrap_or(""))
}

fn path() -> String {
    format!("{STATE_DIR}/sysctl-claims.json")
}

impl Claims {
    /// The claims, read under the lock `_held`. A file that is not what netscript writes
    /// (damaged, or not a regular file) is an error naming it, never an empty map: saving
    /// that would lose every other lab's claims.
    fn open(_held: &Held) -> Result<Claims> {
        let map = match read_regular(Path::new(&path())) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(Error::os(path(), e)),
            Ok(t) => serde_json::from_slice(&t).map_err(|e| Error::Unreadable {
                file: path(),
                source: Box::new(e),
            })?,
        };
        Ok(Claims { map })
    }

    /// Written whole or not at all: a new file, synced, renamed over the old one.
    fn save(&mut self) -> Result<()> {
        self.map.retain(|_, v| !v.is_empty());
        let text = serde_json::to_string(&self.map).expect("claims serialize") + "\n";
        write_atomically(Path::new(&path()), text.as_bytes()).map_err(|e| Error::os(path(), e))
    }
}

/// Replace `p` with `bytes` so that a reader sees the old file or the new one, never a
/// part: write a new file beside it, sync it, rename it over, sync the folder.
fn write_atomically(p: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = p.with_extension("new");
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, p)?;
    if let Some(dir) = p.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Lab `lab` is about to change `sysctl` in `ns`, which holds `before` now. An error
/// (the claims unreadable or unwritable) means the change must not be made: it could not
/// be undone in the right order with other labs'.
pub fn claim(held: &Held, lab: &str, ns: &Ns, sysctl: &str, before: String) -> Result<()> {
    let mut c = Claims::open(held)?;
    c.map.entry(key(ns, sysctl)).or_default().push(Change {
        lab: lab.into(),
        before,
    });
    c.save()
}

/// The change just claimed did not happen after all.
pub fn withdraw(held: &Held, lab: &str, ns: &Ns, sysctl: &str) {
    let withdrawn = Claims::open(held).and_then(|mut c| {
        if let Some(v) = c.map.get_mut(&key(ns, sysctl)) {
            if let Some(i) = v.iter().rposition(|ch| ch.lab == lab) {
                v.remove(i);
            }
        }
        c.save()
    });
    if let Err(e) = withdrawn {
        crate::errln!("netscript: {e}");
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
    let mut c = match Claims::open(held) {
        Ok(c) => c,
        // Never overwrite (and so lose) other labs' claims: each lab then restores what
        // its own journal says.
        Err(e) => {
            crate::errln!("netscript: {e}; sysctls are restored from each lab's journal");
            return Undo::Unknown;
        }
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
    if let Err(e) = c.save() {
        crate::errln!("netscript: {e}");
    }
    undo
}
