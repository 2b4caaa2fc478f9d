//! What a backend says when an `Op` cannot be applied. The kernel backend (from an errno)
//! and the model (from its own state) both build their errors here, so `netscript plan`
//! and a run say the same thing about the same mistake. Names of links and namespaces
//! come from `lab::op::{link_label, ns_label}`.

use std::net::IpAddr;

use crate::error::Error;
use crate::lab::names::Cidr;
use crate::lab::op::{link_label, ns_label, Ns, Route};

/// `address 10.0.0.1/24 on link "eth0" in namespace "red"`.
pub fn address(ns: &Ns, dev: &str, cidr: &Cidr) -> String {
    format!("address {cidr} on {}", link_label(ns, dev))
}

/// `route 10.1.0.0/24 in namespace "red"` (`route default ...` without a destination).
pub fn route(ns: &Ns, route: &Route) -> String {
    let dst = route
        .dst
        .map(|d| d.to_string())
        .unwrap_or_else(|| "default".into());
    format!("route {dst} in {}", ns_label(ns))
}

/// A route whose gateway no address of the namespace reaches.
pub fn gateway_unreachable(ns: &Ns, r: &Route, via: IpAddr) -> Error {
    Error::Other(format!(
        "{}: gateway {via} is not on a directly connected network",
        route(ns, r)
    ))
}

/// Delay and jitter asked of a kernel built without netem.
pub fn no_netem() -> Error {
    Error::Unsupported(
        "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), which delay and jitter need".into(),
    )
}

/// `unimpair` of a link that has no impairment.
pub fn no_impairment(ns: &Ns, dev: &str) -> Error {
    Error::Missing(format!("an impairment on {}", link_label(ns, dev)))
}

/// A rule of netscript's own table that is not (or no longer) there.
pub fn no_rule() -> Error {
    Error::Missing("the rule".into())
}

/// An accept rule netscript put into a foreign chain that is not there any more.
pub fn no_foreign_rule(tag: &str, chain: &str) -> Error {
    Error::Missing(format!("the rule {tag:?} in chain {chain}"))
}

/// An MTU the link does not take (the kernel says EINVAL; the lower bound, 68, is checked
/// before anything is asked): a vxlan's or macvlan's packets must fit its lower link.
pub fn mtu_too_large(ns: &Ns, name: &str, mtu: u32) -> Error {
    Error::Other(format!(
        "{} does not take MTU {mtu}: it is above the link's maximum (a vxlan's or macvlan's is its lower link's MTU, less 50 bytes for a vxlan over IPv4, 70 over IPv6)",
        link_label(ns, name)
    ))
}

/// A passthru macvlan beside another macvlan on the same parent, either way round (the
/// kernel says EINVAL; a macvlan on a macvlan sits on the first one's parent).
pub fn macvlan_passthru_alone(ns: &Ns, name: &str, parent_ns: &Ns, parent: &str) -> Error {
    Error::Other(format!(
        "{}: a passthru macvlan must be the only macvlan on its parent {} (it takes over the parent's MAC address); use mode bridge, private or vepa to share it",
        link_label(ns, name),
        link_label(parent_ns, parent)
    ))
}

/// A macvlan on a link that carries no Ethernet frames (the kernel says EINVAL).
pub fn macvlan_not_ethernet(
    ns: &Ns,
    name: &str,
    parent_ns: &Ns,
    parent: &str,
    kind: &str,
) -> Error {
    Error::Other(format!(
        "{}: a macvlan needs an Ethernet parent, and {} is a {kind} (a tap, a veth or a bridge is Ethernet; a tun and lo are not)",
        link_label(ns, name),
        link_label(parent_ns, parent)
    ))
}

/// A macvlan on a bridge port (the kernel says EBUSY: a link has one receive handler,
/// the bridge's or the macvlans').
pub fn macvlan_on_port(ns: &Ns, name: &str, parent_ns: &Ns, parent: &str) -> Error {
    Error::Other(format!(
        "{}: {} is a port of a bridge, and a link cannot be both a bridge port and a macvlan's parent (put the macvlan on the bridge)",
        link_label(ns, name),
        link_label(parent_ns, parent)
    ))
}

/// A bridge port asked of a link a macvlan sits on, or of a link on the bridge itself
/// (the kernel says EBUSY for both).
pub fn port_busy(ns: &Ns, name: &str, bridge: &str) -> Error {
    Error::Other(format!(
        "{} cannot be a port of bridge {bridge:?}: it is busy (a macvlan sits on it, or it sits on the bridge)",
        link_label(ns, name)
    ))
}

/// A bridge port asked of a link that carries no Ethernet frames (the kernel says EINVAL).
pub fn port_not_ethernet(ns: &Ns, name: &str, kind: &str) -> Error {
    Error::Other(format!(
        "{} is a {kind}: a bridge takes only Ethernet links as ports (a tap, a veth, a macvlan or a vxlan)",
        link_label(ns, name)
    ))
}

/// The most ports a Linux bridge takes (`BR_MAX_PORTS` is 1024, port 0 unused).
pub const BRIDGE_MAX_PORTS: usize = 1023;

/// A port asked of a bridge that has all it can take (the kernel says EXFULL).
pub fn bridge_full(ns: &Ns, bridge: &str) -> Error {
    Error::Other(format!(
        "{} is full: a Linux bridge takes at most {BRIDGE_MAX_PORTS} ports (BR_MAX_PORTS); spread larger labs over several bridges",
        link_label(ns, bridge)
    ))
}

/// A bridge asked to be a port of a bridge (the kernel says ELOOP: "Too many levels of
/// symbolic links").
pub fn bridge_in_bridge(ns: &Ns, name: &str) -> Error {
    Error::Other(format!(
        "{} is a bridge: a bridge cannot be a port of another bridge (connect them with a veth pair, one end on each)",
        link_label(ns, name)
    ))
}

/// A link the kernel keeps in the namespace it was made in (a bridge, lo: it says EINVAL).
pub fn stays_in_its_namespace(ns: &Ns, name: &str) -> Error {
    Error::Other(format!(
        "{} cannot change namespace: the kernel keeps a bridge (and lo) in the namespace it was made in; make it there instead",
        link_label(ns, name)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::model::ModelBackend;
    use crate::backend::{Backend, Features};
    use crate::lab::op::{Op, Qdisc};

    fn delay(model: &mut ModelBackend) -> crate::error::Result<()> {
        model.apply(&Op::NetnsAdd {
            name: "r".into(),
            lo: true,
        })?;
        model.apply(&Op::QdiscSet {
            ns: Some("r".into()),
            dev: "lo".into(),
            qdisc: Qdisc::Netem {
                delay_ms: 10,
                jitter_ms: 0,
                loss_pct: 0,
            },
        })
    }

    #[test]
    fn the_model_refuses_what_the_kernel_it_was_told_of_lacks() {
        let mut without = ModelBackend::of_host(None).with_features(Features { netem: false });
        let e = delay(&mut without).expect_err("no netem");
        assert_eq!(e.to_string(), no_netem().to_string());
        // Told nothing, it assumes everything: in-process tests do not depend on the host.
        assert!(delay(&mut ModelBackend::of_host(None)).is_ok());
    }
}
