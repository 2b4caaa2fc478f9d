//! The running sandboxes, so a second terminal can reach them (`--sandbox-of`, `attach`,
//! `ls`). No daemon: one small JSON file per sandbox in one host directory,
//! `/run/netscript-sandboxes/` for root, `$XDG_RUNTIME_DIR/netscript/sandboxes/` without
//! root (`NETSCRIPT_SANDBOX_DIR` overrides both; set to "" it turns the registry off, as
//! it is inside a sandbox, where the registered pids mean nothing).
//!
//! This directory is the one thing a sandbox makes on the host: its entry is removed when
//! the sandbox ends, and the directory with the last entry. An entry is *live* while the
//! sandbox's outer process holds an flock on it: the kernel drops that lock when the
//! process dies, even by SIGKILL, so a reader that can take the lock knows the entry is
//! stale and removes it. The lock works across namespaces, where a pid would not.
//!
//! An entry holds the pid (in the host's PID namespace) of the sandbox's PID 1, whose
//! /proc/PID/ns/* are the sandbox's namespaces, and that process's start time
//! (/proc/PID/stat), so a reused pid is never mistaken for the sandbox.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Overrides the registry directory ("": no registry).
pub const DIR_ENV: &str = "NETSCRIPT_SANDBOX_DIR";

/// One running sandbox. Its name is its file's name.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Entry {
    #[serde(skip)]
    pub name: String,
    /// The sandbox's PID 1, as the host's PID namespace numbers it.
    pub pid: i32,
    /// Its start time (clock ticks after boot, /proc/PID/stat field 22).
    pub start: u64,
    /// The lab its run or REPL builds.
    pub lab: String,
    /// What runs in it: the script's path, `-e`, or `repl`.
    pub what: String,
    /// Made without root, through a user namespace.
    pub rootless: bool,
    /// When it started (seconds since the epoch).
    pub since: u64,
}

impl Entry {
    pub fn age_secs(&self) -> u64 {
        now().saturating_sub(self.since)
    }

    /// Whether `path` (absolute, e.g. `/run/netns/red`) exists inside the sandbox's
    /// mount namespace (seen through /proc/PID/root).
    pub fn has(&self, path: &str) -> bool {
        Path::new(&format!("/proc/{}/root{path}", self.pid)).exists()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The registry directory, or None when there is none (turned off, or no place for it).
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(DIR_ENV) {
        return (!d.is_empty()).then(|| PathBuf::from(d));
    }
    if nix::unistd::geteuid().is_root() {
        return Some(PathBuf::from("/run/netscript-sandboxes"));
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("netscript").join("sandboxes"))
}

/// The start time of process `pid` from a `stat` file's text.
fn starttime(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether process `pid` (host /proc) is the one that started at `start`.
pub fn same_process(pid: i32, start: u64) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| starttime(&s))
        == Some(start)
}

/// Whether someone holds the lock on `f` (the entry is live).
fn locked(f: &File) -> bool {
    // SAFETY: flock on an fd we own.
    let free = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if free {
        // SAFETY: as above.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
    }
    !free
}

/// The live sandboxes, by name. Stale entries (their sandbox was killed) are removed on
/// the way, and the directory too when that leaves it empty.
pub fn live() -> Vec<Entry> {
    let Some(dir) = dir() else {
        return vec![];
    };
    let Ok(rd) = fs::read_dir(&dir) else {
        return vec![];
    };
    let mut out = vec![];
    let mut removed = false;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let Ok(mut f) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&path)
        else {
            continue;
        };
        if !f.metadata().is_ok_and(|m| m.is_file()) {
            continue;
        }
        if name.starts_with('.') {
            // A registration's temporary file: one left behind by a kill in the middle of
            // registering is removed once it is clearly old.
            let old = f
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|a| a > Duration::from_secs(60));
            if old && !locked(&f) {
                removed |= fs::remove_file(&path).is_ok();
            }
            continue;
        }
        if !locked(&f) {
            // Stale: its sandbox died without removing it. Remove it unless it was
            // replaced since we opened it.
            let same = fs::symlink_metadata(&path)
                .ok()
                .zip(f.metadata().ok())
                .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev());
            if same {
                removed |= fs::remove_file(&path).is_ok();
            }
            continue;
        }
        let mut text = String::new();
        if f.read_to_string(&mut text).is_err() {
            continue;
        }
        if let Ok(mut entry) = serde_json::from_str::<Entry>(&text) {
            entry.name = name;
            out.push(entry);
        }
    }
    if removed {
        let _ = fs::remove_dir(&dir);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// "a, b" or "none".
pub fn names(entries: &[Entry]) -> String {
    match entries.is_empty() {
        true => "none".into(),
        false => entries
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The live sandbox named `name`, or an error that lists the live ones.
pub fn find(name: &str) -> Result<Entry, String> {
    let all = live();
    all.iter().find(|e| e.name == name).cloned().ok_or_else(|| {
        format!(
            "there is no running sandbox named {name:?} (running: {}; see netscript ls)",
            names(&all)
        )
    })
}

/// A registration being made: the directory, opened on the host before the sandbox's
/// namespaces are made (a path would then name the sandbox's private /run), and the host's
/// /proc, which the sandbox's PID 1 covers with its own.
pub struct Pending {
    dir: OwnedFd,
    parent: OwnedFd,
    base: CString,
    proc: OwnedFd,
}

fn open_dir(at: Option<&OwnedFd>, path: &[u8]) -> std::io::Result<OwnedFd> {
    let c = CString::new(path).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    let at = at.map_or(libc::AT_FDCWD, |f| f.as_raw_fd());
    // SAFETY: a valid C string; the fd returned is ours.
    let fd = unsafe {
        libc::openat(
            at,
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    match fd {
        -1 => Err(std::io::Error::last_os_error()),
        // SAFETY: a fresh fd.
        fd => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
    }
}

/// Before the sandbox's namespaces are made: make the registry directory and open it.
/// None when there is no registry.
pub fn prepare() -> Result<Option<Pending>, String> {
    let Some(dir) = dir() else {
        return Ok(None);
    };
    let err = |e: std::io::Error| format!("{}: {e}", dir.display());
    fs::create_dir_all(&dir).map_err(err)?;
    let parent = dir.parent().unwrap_or(Path::new("/"));
    let base = dir
        .file_name()
        .ok_or("the registry directory has no name")?;
    Ok(Some(Pending {
        dir: open_dir(None, dir.as_os_str().as_bytes()).map_err(err)?,
        parent: open_dir(None, parent.as_os_str().as_bytes()).map_err(err)?,
        base: CString::new(base.as_bytes()).map_err(|_| "a NUL in the registry path")?,
        proc: open_dir(None, b"/proc").map_err(|e| format!("/proc: {e}"))?,
    }))
}

/// A sandbox's entry, live while this holds its lock; [`Registered::remove`] at the end.
pub struct Registered {
    dir: OwnedFd,
    parent: OwnedFd,
    base: CString,
    pub name: String,
    _file: File,
}

fn at_file(dir: &OwnedFd, name: &str, flags: libc::c_int) -> std::io::Result<File> {
    let c = CString::new(name).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    // SAFETY: a valid C string; the fd returned is ours.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags | libc::O_CLOEXEC, 0o644) };
    match fd {
        -1 => Err(std::io::Error::last_os_error()),
        // SAFETY: a fresh fd.
        fd => Ok(unsafe { File::from_raw_fd(fd) }),
    }
}

fn unlink_at(dir: &OwnedFd, name: &str, flags: libc::c_int) -> bool {
    let Ok(c) = CString::new(name) else {
        return false;
    };
    // SAFETY: a valid C string and directory fd.
    unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), flags) == 0 }
}

impl Pending {
    /// Register the sandbox whose PID 1 is `pid` under `name`, else `name-2`, `name-3`, ….
    pub fn register(
        mut self,
        name: &str,
        pid: i32,
        what: &str,
        rootless: bool,
    ) -> Result<Registered, String> {
        let stat = at_file(&self.proc, &format!("{pid}/stat"), libc::O_RDONLY)
            .and_then(|mut f| {
                let mut s = String::new();
                f.read_to_string(&mut s).map(|_| s)
            })
            .map_err(|e| format!("reading the sandbox's /proc/{pid}/stat: {e}"))?;
        let entry = Entry {
            name: String::new(),
            pid,
            start: starttime(&stat).ok_or("cannot read the sandbox's start time")?,
            lab: name.to_string(),
            what: what.to_string(),
            rootless,
            since: now(),
        };
        let text = serde_json::to_string(&entry).expect("an entry serializes") + "\n";
        let tmp = format!(".{name}.{}.tmp", std::process::id());
        let mut file = loop {
            match at_file(&self.dir, &tmp, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL) {
                Ok(f) => break f,
                // Another sandbox's end removed the (then empty) directory: make it again.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // SAFETY: a valid C string and directory fd.
                    unsafe { libc::mkdirat(self.parent.as_raw_fd(), self.base.as_ptr(), 0o755) };
                    let again = open_dir(Some(&self.parent), self.base.as_bytes())
                        .map_err(|e| format!("the registry directory: {e}"))?;
                    self.dir = again;
                }
                Err(e) => return Err(format!("creating a registry entry: {e}")),
            }
        };
        // Locked before it is visible under its name, so no reader takes it for stale.
        // SAFETY: flock on an fd we own.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        file.write_all(text.as_bytes())
            .map_err(|e| format!("writing a registry entry: {e}"))?;
        // Paths name the sandbox's own /run by now: everything goes through the fds.
        let mut n = 1;
        let result = loop {
            let candidate = match n {
                1 => name.to_string(),
                n => format!("{name}-{n}"),
            };
            let (Ok(from), Ok(to)) = (CString::new(tmp.as_str()), CString::new(candidate.as_str()))
            else {
                break Err("a NUL in the sandbox's name".to_string());
            };
            // SAFETY: valid C strings and directory fds. linkat fails if the name exists:
            // claiming a name is atomic.
            let r = unsafe {
                libc::linkat(
                    self.dir.as_raw_fd(),
                    from.as_ptr(),
                    self.dir.as_raw_fd(),
                    to.as_ptr(),
                    0,
                )
            };
            if r == 0 {
                break Ok(candidate);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::AlreadyExists || n > 1000 {
                break Err(format!("registering the sandbox: {e}"));
            }
            // Taken: by a live sandbox (try the next name), or by a stale entry (its
            // sandbox was killed: remove it and take its name).
            match at_file(&self.dir, &candidate, libc::O_RDONLY | libc::O_NONBLOCK) {
                Ok(f) if !locked(&f) && unlink_at(&self.dir, &candidate, 0) => {}
                _ => n += 1,
            }
        };
        unlink_at(&self.dir, &tmp, 0);
        Ok(Registered {
            dir: self.dir,
            parent: self.parent,
            base: self.base,
            name: result?,
            _file: file,
        })
    }
}

impl Registered {
    /// The sandbox ended: remove its entry, and the directory if that was the last one.
    pub fn remove(self) {
        unlink_at(&self.dir, &self.name, 0);
        // Fails (ENOTEMPTY) while other sandboxes are registered.
        // SAFETY: a valid C string and directory fd.
        unsafe {
            libc::unlinkat(
                self.parent.as_raw_fd(),
                self.base.as_ptr(),
                libc::AT_REMOVEDIR,
            )
        };
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn starttime_counts_after_the_command_name() {
        let stat = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 200";
        assert_eq!(super::starttime(stat), Some(98765));
        assert_eq!(super::starttime("garbage"), None);
    }
}
