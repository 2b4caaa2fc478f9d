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
//!
//! Lab mode is opt-in (`--lab-mode`, or `bridge(name, #{ lab_mode: true })`) because it
//! changes what works: every port attached to such a bridge gets no IPv6
//! (`disable_ipv6`) and no multicast flooded to it (`mcast_flood off`). Each container's
//! IPv6 start-up (duplicate address detection, MLD reports, router solicitations) then
//! stays between it and the bridge instead of reaching every other container, which is
//! what makes large labs slow. The cost: IPv6 between containers across the bridge
//! (neighbour discovery is multicast). IPv4, NAT, published ports and IPv6 between a
//! container and the bridge's own addresses keep working.

use std::sync::atomic::{AtomicBool, Ordering};

static KERNEL_DEFAULTS: AtomicBool = AtomicBool::new(false);
static LAB_MODE: AtomicBool = AtomicBool::new(false);

/// `--lab-mode`: every bridge this process makes is in lab mode unless it says otherwise.
pub fn set_lab_mode(on: bool) {
    LAB_MODE.store(on, Ordering::Relaxed);
}

pub fn lab_mode() -> bool {
    LAB_MODE.load(Ordering::Relaxed)
}

/// The sysctl that takes IPv6 off a lab-mode port, slashed (a link's name may hold dots).
pub fn port_ipv6_key(port: &str) -> String {
    format!("net/ipv6/conf/{port}/disable_ipv6")
}

/// What `--lab-mode` costs, said once where it is switched on.
pub fn lab_mode_notice(bridge: &str) -> String {
    format!(
        "lab mode on bridge {bridge:?}: its ports get no IPv6 and no flooded multicast; IPv6 between containers across it does not work (IPv4, NAT and IPv6 to the bridge do)"
    )
}

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
