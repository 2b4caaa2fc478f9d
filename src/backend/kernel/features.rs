//! What the running kernel can do, for `plan` to fail where a run would.

use crate::backend::Features;

/// The running kernel's features, from its build configuration (/proc/config.gz, read
/// only). Where that cannot be read, everything is assumed: a run then finds out.
pub fn probe() -> Features {
    let config = std::process::Command::new("zcat")
        .arg("/proc/config.gz")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    match config {
        Some(c) => Features {
            netem: c.contains("CONFIG_NET_SCH_NETEM=y"),
        },
        None => Features::default(),
    }
}
