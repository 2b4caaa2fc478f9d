//! Creation flags where netscript differs from plain `ip`, to build large labs at the
//! kernel's real floor with the same forwarding semantics. Each one is carried by the Op
//! that makes the link, so `-x`, `plan` and the journal show it, and the plan's shell
//! builds the same state; `--kernel-defaults` turns them all off.
//!
//! - One TX and one RX queue per veth end (`numtxqueues 1 numrxqueues 1`): the kernel's
//!   default is one per CPU, and creating them waits on an expedited RCU grace period
//!   while holding the routing lock. A veth forwards the same with one queue.
//! - Bridges without multicast snooping (`mcast_snooping 0`): with no multicast querier
//!   on the bridge (netscript makes none) it floods multicast to every port anyway.

use std::sync::atomic::{AtomicBool, Ordering};

static KERNEL_DEFAULTS: AtomicBool = AtomicBool::new(false);

/// `--kernel-defaults`: links are made as plain `ip` makes them.
pub fn set_kernel_defaults(on: bool) {
    KERNEL_DEFAULTS.store(on, Ordering::Relaxed);
}

/// Whether this process makes links with the kernel's defaults (what a new `Session`
/// starts with).
pub fn kernel_defaults() -> bool {
    KERNEL_DEFAULTS.load(Ordering::Relaxed)
}

/// The TX and RX queue count of each new veth end (`None`: the kernel's default).
pub fn veth_queues(kernel_defaults: bool) -> Option<u32> {
    (!kernel_defaults).then_some(1)
}

/// A new bridge's multicast snooping (`None`: the kernel's default, on).
pub fn bridge_mcast_snooping(kernel_defaults: bool) -> Option<bool> {
    (!kernel_defaults).then_some(false)
}
