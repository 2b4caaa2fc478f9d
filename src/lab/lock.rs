//! The one way netscript takes a file lock (flock): a lab's lock, the nft table lock,
//! the sysctl-claims lock. Held while the returned value lives; the kernel drops it when
//! the process dies, so a killed run never leaves a lab locked.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::{Error, Result};

/// An exclusive lock on a file, released when dropped.
pub struct FileLock(#[allow(dead_code)] File);

/// Open (creating) `path` and lock it exclusively. With `wait`, block until it is free;
/// without, answer `Ok(None)` when someone else holds it. Any other failure is an error
/// naming the file.
pub fn exclusive(path: &Path, wait: bool) -> Result<Option<FileLock>> {
    let named = |e: io::Error| Error::os(path.display().to_string(), e);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(named)?;
    let how = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: flock on an fd we own; released when the file is closed.
        if unsafe { libc::flock(f.as_raw_fd(), how) } == 0 {
            return Ok(Some(FileLock(f)));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) if !wait => return Ok(None),
            _ => return Err(named(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_without_waiting_and_free_once_dropped() {
        let dir = std::env::temp_dir().join(format!("netscript-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.lock");
        let held = exclusive(&p, true).unwrap().expect("free");
        // flock locks belong to the open file: a second open of it conflicts.
        assert!(exclusive(&p, false).unwrap().is_none());
        drop(held);
        assert!(exclusive(&p, false).unwrap().is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unopenable_lock_file_is_an_error_naming_it() {
        let e = exclusive(Path::new("/proc/no-such-dir/x.lock"), true)
            .err()
            .expect("cannot be created");
        assert!(e.to_string().contains("/proc/no-such-dir/x.lock"), "{e}");
    }
}
