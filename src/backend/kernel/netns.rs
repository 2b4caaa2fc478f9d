//! Named network namespaces exactly as `ip netns add` makes them: a bind mount of a
//! namespace file onto /run/netns/NAME. Work inside another namespace happens on a
//! short-lived thread that `setns()`s. Creating one is the exception (it is done a
//! thousand times in a large lab, and a thread each cost ~175 µs more): the calling
//! thread unshares, takes what it needs there, and `setns()`es straight back.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Once;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::error::{Error, Result};

pub const NETNS_DIR: &str = "/run/netns";

/// A named namespace's file; a name starting with `/` is already a path (an unnamed
/// namespace, as `/proc/PID/ns/net`).
pub fn path(name: &str) -> PathBuf {
    if name.starts_with('/') {
        PathBuf::from(name)
    } else {
        PathBuf::from(NETNS_DIR).join(name)
    }
}

fn label(name: &str) -> String {
    format!("namespace {name:?}")
}

/// Run `f` on a fresh thread inside the namespace `fd`.
pub fn in_netns<T: Send>(fd: BorrowedFd<'_>, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|s| {
        s.spawn(move || {
            setns(fd, CloneFlags::CLONE_NEWNET)?;
            Ok(f())
        })
        .join()
        .map_err(|_| io::Error::other("namespace worker thread panicked"))?
    })
}

/// A netlink route socket opened in the calling thread's namespace; it stays bound there.
pub fn netlink_socket() -> io::Result<OwnedFd> {
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// As `ip netns add` does once: make /run/netns a shared mount point, so the namespace
/// mounts under it show in mount namespaces made later (`ip netns exec` makes one).
fn prepare_dir() -> io::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = (|| {
            fs::create_dir_all(NETNS_DIR)?;
            let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
            if mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>).is_err() {
                mount(
                    Some(NETNS_DIR),
                    NETNS_DIR,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )?;
                mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>)?;
            }
            Ok(())
        })();
    });
    result
}

/// Take the name: the empty file a namespace will be bind-mounted on.
fn claim(name: &str) -> Result<PathBuf> {
    prepare_dir().map_err(|e| Error::os(format!("preparing {NETNS_DIR}"), e))?;
    let p = path(name);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)
        .map_err(|e| Error::os(label(name), e))?;
    Ok(p)
}

/// Do `f` on the calling thread, in the namespace `enter` does (unshare a new one, or setns
/// into one), then come straight back: no thread per namespace (~175 µs each, a thousand
/// times in a large lab). `f` must only take what it needs there (a socket, a mount).
fn visit<T>(
    enter: impl FnOnce() -> io::Result<()>,
    f: impl FnOnce() -> io::Result<T>,
) -> io::Result<T> {
    // /proc/self would name the main thread's namespace, not this thread's.
    let home = File::open(OWN)?;
    enter()?;
    let inside = f();
    // Back where this thread was, whatever happened inside: every request it makes next
    // must be made there. Going back cannot fail (the thread holds the privilege it just
    // used); if it ever did, nothing it did next could be trusted.
    if let Err(e) = setns(home.as_fd(), CloneFlags::CLONE_NEWNET) {
        eprintln!("netscript: cannot return to the namespace it was in ({e}); stopping");
        std::process::abort();
    }
    inside
}

/// This thread's own network namespace.
const OWN: &str = "/proc/thread-self/ns/net";

/// Create the named namespace. Returns its file and a netlink socket opened inside it.
pub fn create(name: &str) -> Result<(File, OwnedFd)> {
    let p = claim(name)?;
    let made = visit(
        || Ok(unshare(CloneFlags::CLONE_NEWNET)?),
        || {
            mount(Some(OWN), &p, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
            Ok((File::open(OWN)?, netlink_socket()?))
        },
    );
    made.map_err(|e| {
        let _ = umount2(&p, MntFlags::MNT_DETACH);
        let _ = fs::remove_file(&p);
        Error::os(format!("creating {}", label(name)), e)
    })
}

/// `ip netns attach NAME PID`: bind the namespace of a running process to a name.
pub fn attach(name: &str, pid: u32) -> Result<()> {
    let p = claim(name)?;
    let source = format!("/proc/{pid}/ns/net");
    mount(
        Some(source.as_str()),
        &p,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| {
        let _ = fs::remove_file(&p);
        match e {
            nix::errno::Errno::ENOENT => Error::Missing(format!("process {pid}")),
            e => Error::os(
                format!("attaching the namespace of process {pid} as {name:?}"),
                e.into(),
            ),
        }
    })
}

/// Open an existing named namespace (made by netscript or by `ip netns add`).
pub fn open(name: &str) -> Result<File> {
    File::open(path(name)).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) if name.starts_with('/') => {
            Error::Missing(format!("the namespace at {name} (has the process ended?)"))
        }
        Some(libc::ENOENT) => Error::Missing(label(name)),
        _ => Error::os(label(name), e),
    })
}

/// A netlink socket inside the namespace `ns`.
pub fn socket_in(ns: &File) -> io::Result<OwnedFd> {
    visit(
        || Ok(setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)?),
        netlink_socket,
    )
}

/// `ip netns del NAME`: unmount and remove the name. The namespace itself goes away when
/// nothing holds it any more (the caller drops its own handles first).
pub fn delete(name: &str) -> Result<()> {
    if name.starts_with('/') {
        return Err(Error::Invalid(format!(
            "{name} is a process's namespace, not a named one"
        )));
    }
    let p = path(name);
    if !p.exists() {
        return Err(Error::Missing(label(name)));
    }
    match umount2(&p, MntFlags::MNT_DETACH) {
        // Not mounted: a name whose creation was cut short (killed mid-way); remove it.
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => return Err(Error::os(label(name), io::Error::from(e))),
    }
    fs::remove_file(&p).map_err(|e| Error::os(label(name), e))
}

pub fn list() -> Result<Vec<String>> {
    let mut names = vec![];
    match fs::read_dir(NETNS_DIR) {
        Ok(rd) => {
            for e in rd.flatten() {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::os(NETNS_DIR, e)),
    }
    names.sort();
    Ok(names)
}

/// Who the namespace named `name` is: the device and inode of the namespace mounted on
/// its file (`None`: no such name, or nothing mounted there — the empty mount point a
/// kill between naming and mounting leaves).
pub fn file_id(name: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    let p = path(name);
    let fs = nix::sys::statfs::statfs(&p).ok()?;
    if fs.filesystem_type().0 as i64 != NSFS_MAGIC {
        return None;
    }
    std::fs::metadata(&p).ok().map(|m| (m.dev(), m.ino()))
}

pub fn inode(f: &File) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(f.metadata()?.ino())
}
