//! tun/tap devices. The kernel does not make them over rtnetlink; they are made with the
//! ioctls on /dev/net/tun (what `ip tuntap add` does), persistent so they outlive the
//! file descriptor, in the namespace of the calling thread (run it inside one).

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsRawFd;

/// The character device the ioctls go to.
pub const DEVICE: &str = "/dev/net/tun";

/// Make persistent tun (or tap) device `name`, owned by user `owner` and group `group`
/// when given. Never attaches to an existing device of that name (IFF_TUN_EXCL): that one
/// is not ours.
pub fn create(name: &str, tap: bool, owner: Option<u32>, group: Option<u32>) -> io::Result<()> {
    let f = OpenOptions::new().read(true).write(true).open(DEVICE)?;
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= ifr.ifr_name.len() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    let mode = if tap { libc::IFF_TAP } else { libc::IFF_TUN };
    ifr.ifr_ifru.ifru_flags = (mode | libc::IFF_NO_PI | libc::IFF_TUN_EXCL) as libc::c_short;
    let fd = f.as_raw_fd();
    // SAFETY: fd is open for the call's duration; ifr outlives it.
    if unsafe { libc::ioctl(fd, libc::TUNSETIFF, &mut ifr) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let set = |req: libc::Ioctl, arg: libc::c_ulong| -> io::Result<()> {
        // SAFETY: these requests take an integer argument.
        match unsafe { libc::ioctl(fd, req, arg) } {
            r if r < 0 => Err(io::Error::last_os_error()),
            _ => Ok(()),
        }
    };
    if let Some(uid) = owner {
        set(libc::TUNSETOWNER, uid as libc::c_ulong)?;
    }
    if let Some(gid) = group {
        set(libc::TUNSETGROUP, gid as libc::c_ulong)?;
    }
    // Last: until it is persistent, closing the descriptor (on any error above) removes
    // the device again.
    set(libc::TUNSETPERSIST, 1)
}
