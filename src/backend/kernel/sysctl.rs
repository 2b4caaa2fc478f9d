//! Sysctls under /proc/sys, which shows the namespace of the task that opens the file:
//! the caller runs these on a thread inside the target namespace.

use std::fs;
use std::io;
use std::path::PathBuf;

/// `net.ipv4.ip_forward` or `net/ipv4/ip_forward` → /proc/sys/net/ipv4/ip_forward. A
/// slashed key is taken as it is: its components may hold dots (`conf/eth0.100/...`).
pub fn path(key: &str) -> PathBuf {
    match key.contains('/') {
        true => PathBuf::from("/proc/sys").join(key.trim_start_matches('/')),
        false => PathBuf::from("/proc/sys").join(key.replace('.', "/")),
    }
}

pub fn read(key: &str) -> io::Result<String> {
    Ok(fs::read_to_string(path(key))?.trim_end().to_string())
}

pub fn write(key: &str, value: &str) -> io::Result<()> {
    fs::write(path(key), value)
}
