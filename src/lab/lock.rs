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
    use std::os::unix::fs::OpenOptionsExt;
    let named = |e: io::Error| Error::os(path.display().to_string(), e);
    // Without blocking, and only a regular file: a FIFO under a lock's name would hang
    // the open itself.
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(named)?;
    if !f.metadata().map_err(named)?.is_file() {
        return Err(named(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        )));
    }
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
    fn a_fifo_for_a_lock_file_is_refused_without_hanging() {
        let dir = std::env::temp_dir().join(format!("netscript-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.lock");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = exclusive(&p, true).err().expect("refused");
        assert!(e.to_string().contains("x.lock"), "{e}");
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
