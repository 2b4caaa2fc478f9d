//! netscript's nftables rules, as values: what a rule matches and what it does, and how
//! it reads in `nft` syntax (for `--trace` and `plan`). A rule lowers to a list of
//! [`Item`]s (`Rule::items`); its text here and its JSON for `nft -j`
//! (`backend::kernel::nft`) are both formatted from that one list, so they cannot differ
//! in what they match. All rules live in one table per namespace, `inet netscript`, so
//! tearing them down is deleting that table, and rules anything else owns are never
//! touched.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::lab::names::Cidr;

pub const TABLE: &str = "netscript";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    Input,
    Forward,
    Output,
    Prerouting,
    Postrouting,
    /// NAT of locally generated packets (`docker -p` reachable from the host itself).
    OutputNat,
    /// Where older versions made random loss (kept so their journals still undo): it
    /// misses bridged frames, so loss now has a netdev egress chain (crate::lab::egress).
    Impair,
}

impl Chain {
    pub fn name(self) -> &'static str {
        match self {
            Chain::Input => "input",
            Chain::Forward => "forward",
            Chain::Output => "output",
            Chain::Prerouting => "prerouting",
            Chain::Postrouting => "postrouting",
            Chain::OutputNat => "output-nat",
            Chain::Impair => "impair",
        }
    }

    /// Type, hook and priority of the base chain.
    pub fn spec(self) -> (ChainType, Hook, i32) {
        match self {
            Chain::Input => (ChainType::Filter, Hook::Input, 0),
            Chain::Forward => (ChainType::Filter, Hook::Forward, 0),
            Chain::Output => (ChainType::Filter, Hook::Output, 0),
            Chain::Prerouting => (ChainType::Nat, Hook::Prerouting, -100),
            Chain::Postrouting => (ChainType::Nat, Hook::Postrouting, 100),
            Chain::OutputNat => (ChainType::Nat, Hook::Output, -100),
            Chain::Impair => (ChainType::Filter, Hook::Postrouting, 0),
        }
    }

    /// The chain's `add chain` line in nft syntax.
    pub fn declaration(self) -> String {
        let (t, h, p) = self.spec();
        let t = match t {
            ChainType::Filter => "filter",
            ChainType::Nat => "nat",
        };
        let h = match h {
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Prerouting => "prerouting",
            Hook::Postrouting => "postrouting",
        };
        format!(
            "add chain inet {TABLE} {} {{ type {t} hook {h} priority {p}; policy accept; }}",
            self.name()
        )
    }

    pub fn parse(s: &str) -> Option<Chain> {
        match s {
            "input" => Some(Chain::Input),
            "forward" => Some(Chain::Forward),
            "output" => Some(Chain::Output),
            _ => None,
        }
    }
}

/// What a base chain does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainType {
    Filter,
    Nat,
}

/// Where in the packet path a base chain sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    Input,
    Forward,
    Output,
    Prerouting,
    Postrouting,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
}

impl Proto {
    pub fn parse(s: &str) -> Option<Proto> {
        match s {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "icmp" => Some(Proto::Icmp),
            "icmpv6" => Some(Proto::Icmpv6),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
        }
    }
    pub fn has_ports(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Udp)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    Drop,
    Reject,
    Masquerade,
    Dnat(SocketAddr),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub chain: Chain,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<Proto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Cidr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<Cidr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iif: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oif: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_oif: Option<String>,
    /// Only packets addressed to this namespace's own addresses (`fib daddr type local`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local_dst: bool,
    /// Only this share of packets, at random (`numgen random mod 100 < N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_pct: Option<u8>,
    pub action: Action,
    /// A tag in the rule's comment, so this rule can be found again to delete it.
    pub id: String,
}

/// Source or destination (of an address or a port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
}

/// The input or the output interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Iface {
    In,
    Out,
}

/// One part of a rule, in the order nft takes them: the matches, then the action. Every
/// rendering of a rule formats these (text: `Item::text`; JSON: `backend::kernel::nft`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Item<'a> {
    /// `fib daddr type local`: addressed to one of this namespace's own addresses.
    LocalDst,
    /// `ip saddr 10.0.0.0/24` (`ip6` for IPv6; a host address without `/N`).
    Addr { dir: Dir, cidr: &'a Cidr },
    /// `iifname "eth0"`, `oifname != "br0"`.
    Ifname {
        iface: Iface,
        negated: bool,
        name: &'a str,
    },
    /// `meta l4proto icmp`: the protocol, where no port says it.
    L4proto(Proto),
    /// `tcp dport 22`.
    Port { proto: Proto, dir: Dir, port: u16 },
    /// `numgen random mod 100 <= N`: N + 1 packets in a hundred, at random. `<= N`
    /// rather than `< N + 1`: the same test, and what nftables lists back.
    RandomAtMost(u32),
    /// What the rule does with a packet that matched.
    Action(&'a Action),
}

/// `ip` or `ip6`: the payload protocol of an address.
pub fn ipfam(c: &Cidr) -> &'static str {
    if c.addr.is_ipv4() {
        "ip"
    } else {
        "ip6"
    }
}

impl Dir {
    /// The payload field of an address (`saddr`) or a port (`sport`).
    pub fn field(self, what: &str) -> String {
        match self {
            Dir::Src => format!("s{what}"),
            Dir::Dst => format!("d{what}"),
        }
    }
}

impl Iface {
    pub fn key(self) -> &'static str {
        match self {
            Iface::In => "iifname",
            Iface::Out => "oifname",
        }
    }
}

/// An address as nft lists it: a host without `/N`, a network by its network address.
pub fn cidr_text(c: &Cidr) -> String {
    if c.is_host() {
        c.addr.to_string()
    } else {
        c.network().to_string()
    }
}

impl Item<'_> {
    /// The item in nft syntax.
    pub fn text(&self) -> String {
        match *self {
            Item::LocalDst => "fib daddr type local".into(),
            Item::Addr { dir, cidr } => {
                format!("{} {} {}", ipfam(cidr), dir.field("addr"), cidr_text(cidr))
            }
            Item::Ifname {
                iface,
                negated: false,
                name,
            } => format!("{} \"{name}\"", iface.key()),
            Item::Ifname {
                iface,
                negated: true,
                name,
            } => format!("{} != \"{name}\"", iface.key()),
            Item::L4proto(p) => format!("meta l4proto {}", p.name()),
            Item::Port { proto, dir, port } => {
                format!("{} {} {port}", proto.name(), dir.field("port"))
            }
            Item::RandomAtMost(n) => format!("numgen random mod 100 <= {n}"),
            Item::Action(a) => match a {
                Action::Accept => "accept".into(),
                Action::Drop => "drop".into(),
                Action::Reject => "reject".into(),
                Action::Masquerade => "masquerade".into(),
                Action::Dnat(SocketAddr::V4(a)) => format!("dnat ip to {a}"),
                Action::Dnat(SocketAddr::V6(a)) => format!("dnat ip6 to {a}"),
            },
        }
    }
}

impl Rule {
    /// The rule as its parts, in order (see [`Item`]).
    pub fn items(&self) -> Vec<Item<'_>> {
        let mut v = vec![];
        if self.local_dst {
            v.push(Item::LocalDst);
        }
        if let Some(cidr) = &self.src {
            v.push(Item::Addr {
                dir: Dir::Src,
                cidr,
            });
        }
        if let Some(cidr) = &self.dst {
            v.push(Item::Addr {
                dir: Dir::Dst,
                cidr,
            });
        }
        let ifnames = [
            (Iface::In, false, &self.iif),
            (Iface::Out, false, &self.oif),
            (Iface::Out, true, &self.not_oif),
        ];
        for (iface, negated, name) in ifnames {
            if let Some(name) = name {
                v.push(Item::Ifname {
                    iface,
                    negated,
                    name,
                });
            }
        }
        if let Some(proto) = self.proto {
            if self.sport.is_none() && self.dport.is_none() {
                v.push(Item::L4proto(proto));
            }
            for (dir, port) in [(Dir::Src, self.sport), (Dir::Dst, self.dport)] {
                if let Some(port) = port {
                    v.push(Item::Port { proto, dir, port });
                }
            }
        }
        if let Some(p) = self.random_pct {
            v.push(Item::RandomAtMost(p.saturating_sub(1) as u32));
        }
        v.push(Item::Action(&self.action));
        v
    }

    /// The rule in nft syntax, as `nft add rule inet netscript CHAIN ...` takes it.
    pub fn text(&self) -> String {
        format!("{} comment \"{}\"", self.shown(), self.id)
    }

    /// The rule in nft syntax without its tag: what it matches and does.
    pub fn shown(&self) -> String {
        let s: Vec<String> = self.items().iter().map(Item::text).collect();
        s.join(" ")
    }

    /// Whether it rewrites addresses (masquerade, DNAT): what the graph draws.
    pub fn is_nat(&self) -> bool {
        match self.action {
            Action::Masquerade | Action::Dnat(_) => true,
            Action::Accept | Action::Drop | Action::Reject => false,
        }
    }
}

impl Rule {
    /// A rule that matches everything in `chain` (narrowed by setting its fields).
    pub fn new(chain: Chain, action: Action) -> Rule {
        Rule {
            chain,
            proto: None,
            sport: None,
            dport: None,
            src: None,
            dst: None,
            iif: None,
            oif: None,
            not_oif: None,
            local_dst: false,
            random_pct: None,
            action,
            id: String::new(),
        }
    }

    /// What the rule does, as a short tag: the same for identical rules, so a rule can
    /// be deleted by describing it again (`unmasquerade`, like `iptables -D`).
    pub fn spec_tag(&self) -> String {
        let text = format!("{} {}", self.chain.name(), self.text());
        let text = text
            .rsplit_once(" comment ")
            .map(|(t, _)| t)
            .unwrap_or(&text);
        // FNV-1a: stable across builds, unlike std's hasher.
        let h = text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        format!("ns-{:08x}", h as u32)
    }

    /// Give the rule its tag: its spec tag, then a part unique to this rule.
    pub fn tagged(mut self) -> Rule {
        self.id = format!("{}:{}", self.spec_tag(), unique_suffix());
        self
    }

    /// A rule that stands for every rule with the same spec (for deleting by description).
    pub fn any_like(mut self) -> Rule {
        self.id = format!("{}:", self.spec_tag());
        self
    }
}

/// Time, process and a counter: unique to one rule.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{t:x}.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether a rule's comment matches an id: exactly, or any rule like it (`TAG:`).
pub fn id_matches(id: &str, comment: &str) -> bool {
    if id.ends_with(':') {
        comment.starts_with(id)
    } else {
        comment == id
    }
}

/// A rule with a fixed tag, for tests here and in the backends.
#[cfg(test)]
pub fn test_rule(chain: Chain, action: Action) -> Rule {
    Rule {
        id: "t1".into(),
        ..Rule::new(chain, action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_rule as rule;

    #[test]
    fn masquerade_reads_like_the_seed() {
        let mut r = rule(Chain::Postrouting, Action::Masquerade);
        r.src = Some("10.100.0.0/24".parse().unwrap());
        r.not_oif = Some("br0".into());
        assert_eq!(
            r.text(),
            r#"ip saddr 10.100.0.0/24 oifname != "br0" masquerade comment "t1""#
        );
    }

    #[test]
    fn filter_and_dnat_text() {
        let mut r = rule(Chain::Input, Action::Drop);
        r.proto = Some(Proto::Tcp);
        r.dport = Some(22);
        assert_eq!(r.text(), r#"tcp dport 22 drop comment "t1""#);
        let mut r = rule(
            Chain::Prerouting,
            Action::Dnat("172.17.0.2:80".parse().unwrap()),
        );
        r.local_dst = true;
        r.proto = Some(Proto::Tcp);
        r.dport = Some(8080);
        assert_eq!(
            r.text(),
            r#"fib daddr type local tcp dport 8080 dnat ip to 172.17.0.2:80 comment "t1""#
        );
        let mut r = rule(Chain::Forward, Action::Accept);
        r.proto = Some(Proto::Icmp);
        r.src = Some("fd00::1/128".parse().unwrap());
        assert_eq!(
            r.text(),
            r#"ip6 saddr fd00::1 meta l4proto icmp accept comment "t1""#
        );
    }

    #[test]
    fn random_loss() {
        let mut r = rule(Chain::Impair, Action::Drop);
        r.oif = Some("veth0".into());
        r.random_pct = Some(30);
        assert_eq!(
            r.text(),
            r#"oifname "veth0" numgen random mod 100 <= 29 drop comment "t1""#
        );
    }

    #[test]
    fn tags_find_rules_by_what_they_do() {
        let mut a = rule(Chain::Postrouting, Action::Masquerade);
        a.src = Some("10.100.0.0/24".parse().unwrap());
        let b = a.clone().tagged();
        let c = a.clone().tagged();
        assert_ne!(b.id, c.id);
        let any = a.clone().any_like();
        assert!(id_matches(&any.id, &b.id) && id_matches(&any.id, &c.id));
        assert!(!id_matches(&b.id, &c.id));
        let mut other = a.clone();
        other.src = Some("10.200.0.0/24".parse().unwrap());
        assert!(!id_matches(&any.id, &other.tagged().id));
    }

    #[test]
    fn chain_declarations() {
        assert_eq!(
            Chain::Postrouting.declaration(),
            "add chain inet netscript postrouting { type nat hook postrouting priority 100; policy accept; }"
        );
    }
}
