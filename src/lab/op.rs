//! The `Op` vocabulary: every change netscript makes to a network is one `Op`.
//! An `Op` renders itself as the equivalent shell command (for `--trace` and `plan`),
//! knows the namespace and link it acts on, and knows its inverse where that needs no
//! knowledge of prior state.

use std::fmt::Write;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::lab::firewall::{Rule, TABLE};
pub use crate::lab::link_kind::{LinkKind, LinkSpec};
use crate::lab::names::Cidr;

/// A namespace: `None` is the one netscript started in (`host()`), `Some(name)` a named one.
pub type Ns = Option<String>;

/// How messages name a namespace: `"red"`, or `the host namespace`.
pub fn ns_label(ns: &Ns) -> String {
    match ns {
        None => "the host namespace".into(),
        Some(n) => format!("namespace {n:?}"),
    }
}

/// How messages name a link: `link "br0"` in the host, `link "veth-red" in namespace "red"`.
pub fn link_label(ns: &Ns, name: &str) -> String {
    match ns {
        None => format!("link {name:?}"),
        Some(n) => format!("link {name:?} in namespace {n:?}"),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// `None` is the default route.
    pub dst: Option<Cidr>,
    pub v6: bool,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: Option<u32>,
}

/// A root queueing discipline that makes a link slow or lossy on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qdisc {
    /// Token bucket: a rate limit.
    Tbf { rate_kbit: u64 },
    /// Delay, jitter and random loss (needs the kernel's netem).
    Netem {
        delay_ms: u32,
        jitter_ms: u32,
        loss_pct: u32,
    },
}

impl Qdisc {
    /// Burst of the token bucket: 10 ms worth of the rate, at least two full frames.
    pub fn tbf_burst(rate_kbit: u64) -> u32 {
        ((rate_kbit * 1000 / 8 / 100) as u32).max(3200)
    }

    fn render(&self) -> String {
        match self {
            Qdisc::Tbf { rate_kbit } => {
                format!(
                    "tbf rate {rate_kbit}kbit burst {} latency 50ms",
                    Qdisc::tbf_burst(*rate_kbit)
                )
            }
            Qdisc::Netem {
                delay_ms,
                jitter_ms,
                loss_pct,
            } => {
                let mut s = String::from("netem");
                if *delay_ms > 0 || *jitter_ms > 0 {
                    write!(s, " delay {delay_ms}ms").unwrap();
                    if *jitter_ms > 0 {
                        write!(s, " {jitter_ms}ms").unwrap();
                    }
                }
                if *loss_pct > 0 {
                    write!(s, " loss {loss_pct}%").unwrap();
                }
                s
            }
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The families of ops, by what they change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Namespaces: add, delete, attach.
    Netns,
    /// Links: veth, single-ended kinds, delete, state, mtu, master, move.
    Link,
    /// Addresses and routes.
    Address,
    /// Impairments: qdiscs and loss chains.
    Impair,
    Sysctl,
    /// Rules: netscript's table and accepts in foreign chains.
    Firewall,
    /// Processes started and stopped.
    Process,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// `ip netns add NAME` and `lo` up inside.
    NetnsAdd {
        name: String,
        /// Bring `lo` up (what netscript does unless asked not to; `ip netns add` leaves
        /// it down).
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        lo: bool,
    },
    NetnsDel {
        name: String,
    },
    /// Undo of a namespace this lab made: `ip netns del NAME`, only if NAME is still that
    /// namespace (the device and inode of its file), else it is left alone.
    NetnsDelMade {
        name: String,
        dev: u64,
        ino: u64,
    },
    /// `ip netns attach NAME PID`: name the namespace of a running process.
    NetnsAttach {
        name: String,
        pid: u32,
    },
    /// `ip link add A type veth peer name B`, each end created directly in its namespace.
    VethAdd {
        a: String,
        a_ns: Ns,
        b: String,
        b_ns: Ns,
        mtu: Option<u32>,
        /// TX and RX queues of each end (`numtxqueues N numrxqueues N`; `None`: the
        /// kernel's default). See `lab::tuning`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queues: Option<u32>,
    },
    /// A single-ended link (bridge, vxlan, macvlan, tun/tap): `ip link add NAME type ..`.
    LinkAdd {
        ns: Ns,
        name: String,
        #[serde(flatten)]
        spec: LinkSpec,
    },
    /// `tc qdisc replace dev DEV root ...`
    QdiscSet {
        ns: Ns,
        dev: String,
        qdisc: Qdisc,
    },
    /// `tc qdisc del dev DEV root`
    QdiscDel {
        ns: Ns,
        dev: String,
    },
    LinkDel {
        ns: Ns,
        name: String,
    },
    /// Undo of a link this lab made: `ip link del NAME`, found by its index (so a link
    /// renamed since is still found); a different link of that name is left alone.
    LinkDelMade {
        ns: Ns,
        name: String,
        index: u32,
        /// The identity of `ns` when the link was made (a named namespace the lab did
        /// not make): a namespace replaced since is not searched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        netns: Option<(u64, u64)>,
    },
    LinkSet {
        ns: Ns,
        name: String,
        up: bool,
    },
    LinkMtu {
        ns: Ns,
        name: String,
        mtu: u32,
    },
    /// `ip link set DEV master BR`, or `nomaster` for `None`.
    LinkMaster {
        ns: Ns,
        name: String,
        master: Option<String>,
    },
    /// Lab mode on a bridge port (see `lab::tuning`): no IPv6 on the port
    /// (`net.ipv6.conf.DEV.disable_ipv6=1`) and no multicast flooded to it
    /// (`ip link set dev DEV type bridge_slave mcast_flood off`); `on: false` puts both
    /// back as the kernel makes them.
    PortLabMode {
        ns: Ns,
        name: String,
        on: bool,
    },
    /// `ip link set DEV netns TO`.
    LinkMove {
        ns: Ns,
        name: String,
        to: Ns,
    },
    AddrAdd {
        ns: Ns,
        dev: String,
        cidr: Cidr,
        /// `nodad`: an IPv6 address usable at once, without duplicate address detection.
        /// Left out of the journal when false, so journals stay as they were.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        nodad: bool,
    },
    AddrDel {
        ns: Ns,
        dev: String,
        cidr: Cidr,
    },
    RouteAdd {
        ns: Ns,
        route: Route,
    },
    RouteDel {
        ns: Ns,
        route: Route,
    },
    /// `sysctl -w KEY=VALUE`, key in dotted form.
    Sysctl {
        ns: Ns,
        key: String,
        value: String,
    },
    /// A process the script started (journaled so `down` can stop it even after the
    /// run that started it was killed). `start` is its start time in clock ticks after
    /// boot, which tells it apart from a later process with the same pid.
    ProcStarted {
        ns: Ns,
        pid: u32,
        start: u64,
        argv: Vec<String>,
        /// Belongs to the lab (outlives the run) rather than to the run.
        #[serde(default)]
        detached: bool,
        /// The mark in its environment that its descendants inherit (see `start`).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        tag: String,
    },
    /// Stop that process, if it is still the same one.
    ProcStop {
        pid: u32,
        start: u64,
    },
    /// Rules added to netscript's nftables table in one transaction.
    NftAdd {
        ns: Ns,
        rules: Vec<Rule>,
    },
    /// Those rules deleted again (the table too, once it holds none of ours).
    NftDel {
        ns: Ns,
        rules: Vec<Rule>,
    },
    /// Random loss on the way out of a link: a chain of its own in table `netdev
    /// netscript`, hooked to the link's egress (see crate::lab::egress).
    LossAdd {
        ns: Ns,
        dev: String,
        pct: u8,
    },
    /// That chain deleted (the table too, once it holds no chain).
    LossDel {
        ns: Ns,
        dev: String,
    },
    /// An accept rule inserted into a forward chain that is not netscript's and drops by
    /// default, such as Docker's (see crate::lab::foreign).
    ForeignAccept {
        ns: Ns,
        rule: crate::lab::foreign::Accept,
    },
    /// That rule deleted again, found by its comment.
    ForeignAcceptDel {
        ns: Ns,
        rule: crate::lab::foreign::Accept,
    },
}

/// `nft ...` (or `ip netns exec NS nft ...`) with the command quoted as one word.
fn nft(ns: &Ns, args: &str) -> String {
    nft_with(ns, "", args)
}

fn nft_with(ns: &Ns, flags: &str, args: &str) -> String {
    format!("{}{flags}{}", nft_prefix(ns), shell_word(args))
}

/// `nft ` or `ip netns exec NS nft `.
fn nft_prefix(ns: &Ns) -> String {
    match ns {
        None => "nft ".into(),
        Some(n) => format!("ip netns exec {} nft ", shell_word(n)),
    }
}

fn tc_cmd(ns: &Ns) -> String {
    match ns {
        None => "tc".into(),
        Some(n) => format!("tc -n {}", shell_word(n)),
    }
}

pub fn ip_cmd(ns: &Ns) -> String {
    match ns {
        None => "ip".into(),
        Some(n) => format!("ip -n {}", shell_word(n)),
    }
}

/// `ip [-n NS] link set dev NAME WHAT`.
fn link_set(ns: &Ns, name: &str, what: &str) -> String {
    format!("{} link set dev {} {what}", ip_cmd(ns), shell_word(name))
}

/// A command run inside `ns` (`ip netns exec NS CMD`), or as it is on the host.
fn exec_in(ns: &Ns, cmd: String) -> String {
    match ns {
        None => cmd,
        Some(n) => format!("ip netns exec {} {cmd}", shell_word(n)),
    }
}

fn netns_clause(ns: &Ns) -> String {
    match ns {
        None => String::new(),
        Some(n) => format!(" netns {}", shell_word(n)),
    }
}

/// Quote a word for a POSIX shell only when it needs it.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl Route {
    fn render(&self, verb: &str, ns: &Ns) -> String {
        let mut s = ip_cmd(ns);
        if self.v6 {
            s.push_str(" -6");
        }
        let dst = self
            .dst
            .map(|d| d.to_string())
            .unwrap_or_else(|| "default".into());
        write!(s, " route {verb} {dst}").unwrap();
        if let Some(v) = self.via {
            write!(s, " via {v}").unwrap();
        }
        if let Some(d) = &self.dev {
            write!(s, " dev {}", shell_word(d)).unwrap();
        }
        if let Some(m) = self.metric {
            write!(s, " metric {m}").unwrap();
        }
        s
    }
}

impl Op {
    /// The equivalent shell commands, one per line, runnable with `sh -e`.
    pub fn render(&self) -> Vec<String> {
        match self {
            Op::NetnsAdd { name, lo: true } => vec![
                format!("ip netns add {}", shell_word(name)),
                format!("ip -n {} link set lo up", shell_word(name)),
            ],
            Op::NetnsAdd { name, lo: false } => vec![format!("ip netns add {}", shell_word(name))],
            Op::NetnsDel { name } | Op::NetnsDelMade { name, .. } => {
                vec![format!("ip netns del {}", shell_word(name))]
            }
            Op::NetnsAttach { name, pid } => {
                vec![format!("ip netns attach {} {pid}", shell_word(name))]
            }
            Op::VethAdd {
                a,
                a_ns,
                b,
                b_ns,
                mtu,
                queues,
            } => {
                let mut m = mtu.map(|m| format!(" mtu {m}")).unwrap_or_default();
                if let Some(q) = queues {
                    write!(m, " numtxqueues {q} numrxqueues {q}").unwrap();
                }
                vec![format!(
                    "ip link add name {}{m}{} type veth peer name {}{m}{}",
                    shell_word(a),
                    netns_clause(a_ns),
                    shell_word(b),
                    netns_clause(b_ns)
                )]
            }
            Op::LinkAdd { ns, name, spec } => spec.render(ns, name),
            Op::QdiscSet { ns, dev, qdisc } => vec![format!(
                "{} qdisc replace dev {} root {}",
                tc_cmd(ns),
                shell_word(dev),
                qdisc.render()
            )],
            Op::QdiscDel { ns, dev } => vec![format!(
                "{} qdisc del dev {} root",
                tc_cmd(ns),
                shell_word(dev)
            )],
            Op::LinkDel { ns, name } | Op::LinkDelMade { ns, name, .. } => {
                vec![format!("{} link del dev {}", ip_cmd(ns), shell_word(name))]
            }
            Op::LinkSet { ns, name, up } => {
                vec![link_set(ns, name, if *up { "up" } else { "down" })]
            }
            Op::LinkMtu { ns, name, mtu } => vec![link_set(ns, name, &format!("mtu {mtu}"))],
            Op::LinkMaster { ns, name, master } => vec![match master {
                Some(m) => link_set(ns, name, &format!("master {}", shell_word(m))),
                None => link_set(ns, name, "nomaster"),
            }],
            Op::PortLabMode { ns, name, on } => {
                // sysctl(8) takes `/` between the parts of a key whose name holds a dot.
                // `-e`: a link with no IPv6 (its MTU below 1280) has no such key.
                let key = match name.contains('.') {
                    true => crate::lab::tuning::port_ipv6_key(name),
                    false => format!("net.ipv6.conf.{name}.disable_ipv6"),
                };
                vec![
                    exec_in(
                        ns,
                        format!("sysctl -qew {}={}", shell_word(&key), u8::from(*on)),
                    ),
                    link_set(
                        ns,
                        name,
                        &format!(
                            "type bridge_slave mcast_flood {}",
                            if *on { "off" } else { "on" }
                        ),
                    ),
                ]
            }
            Op::LinkMove { ns, name, to } => vec![link_set(
                ns,
                name,
                &format!(
                    "netns {}",
                    match to {
                        // The namespace of the shell running the command: where netscript
                        // runs is its host().
                        None => "$$".to_string(),
                        Some(t) => shell_word(t),
                    }
                ),
            )],
            Op::AddrAdd {
                ns,
                dev,
                cidr,
                nodad,
            } => vec![format!(
                "{} addr add {cidr} dev {}{}",
                ip_cmd(ns),
                shell_word(dev),
                if *nodad { " nodad" } else { "" }
            )],
            Op::AddrDel { ns, dev, cidr } => vec![format!(
                "{} addr del {cidr} dev {}",
                ip_cmd(ns),
                shell_word(dev)
            )],
            Op::RouteAdd { ns, route } => vec![route.render("add", ns)],
            Op::RouteDel { ns, route } => vec![route.render("del", ns)],
            Op::Sysctl { ns, key, value } => {
                vec![exec_in(
                    ns,
                    format!("sysctl -qw {}={}", shell_word(key), shell_word(value)),
                )]
            }
            Op::ProcStarted { ns, argv, .. } => {
                let cmd: Vec<String> = argv.iter().map(|a| shell_word(a)).collect();
                vec![match ns {
                    None => format!("{} &", cmd.join(" ")),
                    Some(n) => format!("ip netns exec {} {} &", shell_word(n), cmd.join(" ")),
                }]
            }
            Op::ProcStop { pid, .. } => vec![format!("kill {pid}")],
            Op::NftAdd { ns, rules } => {
                let mut lines = vec![nft(ns, &format!("add table inet {TABLE}"))];
                let mut chains = vec![];
                for r in rules {
                    if !chains.contains(&r.chain) {
                        chains.push(r.chain);
                        lines.push(nft(ns, &r.chain.declaration()));
                    }
                }
                for r in rules {
                    lines.push(nft(
                        ns,
                        &format!("add rule inet {TABLE} {} {}", r.chain.name(), r.text()),
                    ));
                }
                lines
            }
            Op::NftDel { ns, rules } => {
                let mut lines: Vec<String> = rules
                    .iter()
                    .map(|r| {
                        let chain = format!("inet {TABLE} {}", r.chain.name());
                        // An id ending in ':' stands for every rule tagged with it.
                        let pattern = match r.id.ends_with(':') {
                            true => format!("{}[^\"]*", r.id),
                            false => r.id.clone(),
                        };
                        let find = format!(
                            "$({} | sed -n 's/.*comment \"{pattern}\" # handle //p')",
                            nft_with(ns, "-a ", &format!("list chain {chain}")),
                        );
                        format!("{} {find}", nft(ns, &format!("delete rule {chain} handle")))
                    })
                    .collect();
                // As netscript does: the table goes once none of its rules is left.
                lines.push(format!(
                    "if ! {} | grep -q ' comment \"'; then {}; fi",
                    nft(ns, &format!("list table inet {TABLE}")),
                    nft(ns, &format!("delete table inet {TABLE}"))
                ));
                lines
            }
            Op::LossAdd { ns, dev, pct } => crate::lab::egress::add_commands(dev, *pct)
                .iter()
                .map(|c| nft(ns, c))
                .collect(),
            Op::LossDel { ns, dev } => {
                crate::lab::egress::del_lines(nft_prefix(ns).trim_end(), dev)
            }
            Op::ForeignAccept { ns, rule } => vec![nft(ns, &rule.insert_command())],
            Op::ForeignAcceptDel { ns, rule } => {
                vec![rule.delete_line(nft_prefix(ns).trim_end())]
            }
        }
    }

    /// The namespace this op acts in (for a veth, the namespace of end `a`).
    pub fn ns(&self) -> Ns {
        match self {
            Op::NetnsAdd { name, .. }
            | Op::NetnsDel { name }
            | Op::NetnsDelMade { name, .. }
            | Op::NetnsAttach { name, .. } => Some(name.clone()),
            Op::VethAdd { a_ns, .. } => a_ns.clone(),
            Op::LinkAdd { ns, .. }
            | Op::QdiscSet { ns, .. }
            | Op::QdiscDel { ns, .. }
            | Op::LinkDel { ns, .. }
            | Op::LinkDelMade { ns, .. }
            | Op::LinkSet { ns, .. }
            | Op::LinkMtu { ns, .. }
            | Op::LinkMaster { ns, .. }
            | Op::PortLabMode { ns, .. }
            | Op::LinkMove { ns, .. }
            | Op::AddrAdd { ns, .. }
            | Op::AddrDel { ns, .. }
            | Op::RouteAdd { ns, .. }
            | Op::RouteDel { ns, .. }
            | Op::Sysctl { ns, .. }
            | Op::NftAdd { ns, .. }
            | Op::NftDel { ns, .. }
            | Op::LossAdd { ns, .. }
            | Op::LossDel { ns, .. }
            | Op::ForeignAccept { ns, .. }
            | Op::ForeignAcceptDel { ns, .. }
            | Op::ProcStarted { ns, .. } => ns.clone(),
            Op::ProcStop { .. } => None,
        }
    }

    /// Which family this op belongs to: each backend applies one family in one place.
    pub fn family(&self) -> Family {
        match self {
            Op::NetnsAdd { .. }
            | Op::NetnsDel { .. }
            | Op::NetnsDelMade { .. }
            | Op::NetnsAttach { .. } => Family::Netns,
            Op::VethAdd { .. }
            | Op::LinkAdd { .. }
            | Op::LinkDel { .. }
            | Op::LinkDelMade { .. }
            | Op::LinkSet { .. }
            | Op::LinkMtu { .. }
            | Op::LinkMaster { .. }
            | Op::PortLabMode { .. }
            | Op::LinkMove { .. } => Family::Link,
            Op::AddrAdd { .. } | Op::AddrDel { .. } | Op::RouteAdd { .. } | Op::RouteDel { .. } => {
                Family::Address
            }
            Op::QdiscSet { .. } | Op::QdiscDel { .. } | Op::LossAdd { .. } | Op::LossDel { .. } => {
                Family::Impair
            }
            Op::Sysctl { .. } => Family::Sysctl,
            Op::NftAdd { .. }
            | Op::NftDel { .. }
            | Op::ForeignAccept { .. }
            | Op::ForeignAcceptDel { .. } => Family::Firewall,
            Op::ProcStarted { .. } | Op::ProcStop { .. } => Family::Process,
        }
    }

    /// The link this op creates, if it creates one: its namespace and name (for a veth,
    /// end `a`). The journal (what `down` removes), the kernel backend (what it waits
    /// for and identifies) and `ls` (the links a lab has) all ask this. No catch-all arm:
    /// a new op must say here whether it makes a link.
    pub fn creates_link(&self) -> Option<(&Ns, &str)> {
        match self {
            Op::VethAdd { a, a_ns, .. } => Some((a_ns, a)),
            Op::LinkAdd { ns, name, .. } => Some((ns, name)),
            Op::NetnsAdd { .. }
            | Op::NetnsDel { .. }
            | Op::NetnsDelMade { .. }
            | Op::NetnsAttach { .. }
            | Op::QdiscSet { .. }
            | Op::QdiscDel { .. }
            | Op::LinkDel { .. }
            | Op::LinkDelMade { .. }
            | Op::LinkSet { .. }
            | Op::LinkMtu { .. }
            | Op::LinkMaster { .. }
            | Op::PortLabMode { .. }
            | Op::LinkMove { .. }
            | Op::AddrAdd { .. }
            | Op::AddrDel { .. }
            | Op::RouteAdd { .. }
            | Op::RouteDel { .. }
            | Op::Sysctl { .. }
            | Op::ProcStarted { .. }
            | Op::ProcStop { .. }
            | Op::NftAdd { .. }
            | Op::NftDel { .. }
            | Op::LossAdd { .. }
            | Op::LossDel { .. }
            | Op::ForeignAccept { .. }
            | Op::ForeignAcceptDel { .. } => None,
        }
    }

    /// The link this op changes, if it changes one.
    pub fn link(&self) -> Option<&str> {
        match self {
            Op::LinkDel { name, .. }
            | Op::LinkSet { name, .. }
            | Op::LinkMtu { name, .. }
            | Op::LinkMaster { name, .. }
            | Op::PortLabMode { name, .. }
            | Op::LinkMove { name, .. } => Some(name),
            Op::AddrAdd { dev, .. }
            | Op::AddrDel { dev, .. }
            | Op::QdiscSet { dev, .. }
            | Op::QdiscDel { dev, .. } => Some(dev),
            _ => None,
        }
    }

    /// The inverse of this op when it does not depend on the state before it
    /// (`None` for deletions, which cannot be undone, and for state changes,
    /// whose inverse the session reads from the backend before applying).
    pub fn inverse(&self) -> Option<Op> {
        Some(match self {
            Op::NetnsAdd { name, .. } | Op::NetnsAttach { name, .. } => {
                Op::NetnsDel { name: name.clone() }
            }
            Op::VethAdd { a, a_ns, .. } => Op::LinkDel {
                ns: a_ns.clone(),
                name: a.clone(),
            },
            Op::LinkAdd { ns, name, .. } => Op::LinkDel {
                ns: ns.clone(),
                name: name.clone(),
            },
            Op::QdiscSet { ns, dev, .. } => Op::QdiscDel {
                ns: ns.clone(),
                dev: dev.clone(),
            },
            Op::PortLabMode { ns, name, on } => Op::PortLabMode {
                ns: ns.clone(),
                name: name.clone(),
                on: !on,
            },
            Op::LinkMove { ns, name, to } => Op::LinkMove {
                ns: to.clone(),
                name: name.clone(),
                to: ns.clone(),
            },
            Op::AddrAdd { ns, dev, cidr, .. } => Op::AddrDel {
                ns: ns.clone(),
                dev: dev.clone(),
                cidr: *cidr,
            },
            Op::AddrDel { ns, dev, cidr } => Op::AddrAdd {
                ns: ns.clone(),
                dev: dev.clone(),
                cidr: *cidr,
                nodad: false,
            },
            Op::RouteAdd { ns, route } => Op::RouteDel {
                ns: ns.clone(),
                route: route.clone(),
            },
            Op::ProcStarted { pid, start, .. } => Op::ProcStop {
                pid: *pid,
                start: *start,
            },
            Op::NftAdd { ns, rules } => Op::NftDel {
                ns: ns.clone(),
                rules: rules.clone(),
            },
            Op::LossAdd { ns, dev, .. } => Op::LossDel {
                ns: ns.clone(),
                dev: dev.clone(),
            },
            Op::ForeignAccept { ns, rule } => Op::ForeignAcceptDel {
                ns: ns.clone(),
                rule: rule.clone(),
            },
            Op::NetnsDel { .. }
            | Op::QdiscDel { .. }
            | Op::ProcStop { .. }
            | Op::NftDel { .. }
            | Op::LossDel { .. }
            | Op::ForeignAcceptDel { .. }
            | Op::LinkDel { .. }
            | Op::LinkDelMade { .. }
            | Op::NetnsDelMade { .. }
            | Op::RouteDel { .. }
            | Op::LinkSet { .. }
            | Op::LinkMtu { .. }
            | Op::LinkMaster { .. }
            | Op::Sysctl { .. } => return None,
        })
    }

    /// State changes whose inverse depends on the state before them.
    pub fn needs_prior_state(&self) -> bool {
        matches!(
            self,
            Op::LinkSet { .. }
                | Op::LinkMtu { .. }
                | Op::LinkMaster { .. }
                | Op::PortLabMode { .. }
                | Op::Sysctl { .. }
                | Op::LinkMove { .. }
        )
    }
}

/// Shorthands for tests: the plainest op of a kind.
#[cfg(test)]
impl Op {
    /// A veth pair `a`, `b` in the host namespace, no MTU or queue count given.
    pub(crate) fn plain_veth(a: &str, b: &str) -> Op {
        Op::VethAdd {
            a: a.into(),
            a_ns: None,
            b: b.into(),
            b_ns: None,
            mtu: None,
            queues: None,
        }
    }
}

#[cfg(test)]
impl Route {
    /// The default route through `via`.
    pub(crate) fn default_via(via: &str) -> Route {
        let via: IpAddr = via.parse().expect("an IP address");
        Route {
            dst: None,
            v6: via.is_ipv6(),
            via: Some(via),
            dev: None,
            metric: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Ns {
        Some(x.into())
    }

    #[test]
    fn renders_like_iproute2() {
        let op = Op::VethAdd {
            a: "veth-red".into(),
            a_ns: s("red"),
            b: "veth-blue".into(),
            b_ns: s("blue"),
            mtu: Some(1400),
            queues: None,
        };
        assert_eq!(
            op.render(),
            ["ip link add name veth-red mtu 1400 netns red type veth peer name veth-blue mtu 1400 netns blue"]
        );
        let op = Op::RouteAdd {
            ns: s("c1"),
            route: Route::default_via("10.100.0.1"),
        };
        assert_eq!(op.render(), ["ip -n c1 route add default via 10.100.0.1"]);
        let op = Op::Sysctl {
            ns: None,
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        };
        assert_eq!(op.render(), ["sysctl -qw net.ipv4.ip_forward=1"]);
        let op = Op::AddrAdd {
            ns: None,
            dev: "br0".into(),
            cidr: "10.100.0.1/24".parse().unwrap(),
            nodad: false,
        };
        assert_eq!(op.render(), ["ip addr add 10.100.0.1/24 dev br0"]);
        let op = Op::AddrAdd {
            ns: s("red"),
            dev: "a".into(),
            cidr: "fd00::1/64".parse().unwrap(),
            nodad: true,
        };
        assert_eq!(op.render(), ["ip -n red addr add fd00::1/64 dev a nodad"]);
        assert_eq!(
            Op::NetnsAdd {
                name: "a b".into(),
                lo: true
            }
            .render()[0],
            "ip netns add 'a b'"
        );
    }

    #[test]
    fn renders_vxlan_and_tc() {
        let op = Op::LinkAdd {
            ns: s("hostA"),
            name: "vx0".into(),
            spec: LinkSpec::Vxlan {
                vni: 42,
                remote: Some("192.0.2.2".parse().unwrap()),
                group: None,
                local: Some("192.0.2.1".parse().unwrap()),
                dev: Some("eth0".into()),
                port: 4789,
                remotes: vec![],
            },
        };
        assert_eq!(
            op.render(),
            ["ip -n hostA link add name vx0 type vxlan id 42 remote 192.0.2.2 local 192.0.2.1 dev eth0 dstport 4789"]
        );
        assert_eq!(
            op.inverse().unwrap(),
            Op::LinkDel {
                ns: s("hostA"),
                name: "vx0".into()
            }
        );
        let op = Op::QdiscSet {
            ns: None,
            dev: "veth0".into(),
            qdisc: Qdisc::Tbf { rate_kbit: 8000 },
        };
        assert_eq!(
            op.render(),
            ["tc qdisc replace dev veth0 root tbf rate 8000kbit burst 10000 latency 50ms"]
        );
        assert_eq!(
            op.inverse().unwrap().render(),
            ["tc qdisc del dev veth0 root"]
        );
        let op = Op::QdiscSet {
            ns: s("red"),
            dev: "v".into(),
            qdisc: Qdisc::Netem {
                delay_ms: 100,
                jitter_ms: 10,
                loss_pct: 5,
            },
        };
        assert_eq!(
            op.render(),
            ["tc -n red qdisc replace dev v root netem delay 100ms 10ms loss 5%"]
        );
    }

    #[test]
    fn inverses() {
        let add = Op::AddrAdd {
            ns: s("red"),
            dev: "veth-red".into(),
            cidr: "10.0.0.1/24".parse().unwrap(),
            nodad: false,
        };
        assert_eq!(add.inverse().unwrap().inverse().unwrap(), add);
        let mv = Op::LinkMove {
            ns: None,
            name: "veth-red".into(),
            to: s("red"),
        };
        assert_eq!(
            mv.inverse().unwrap().render(),
            ["ip -n red link set dev veth-red netns $$"]
        );
        assert!(Op::NetnsDel { name: "x".into() }.inverse().is_none());
        assert!(Op::Sysctl {
            ns: None,
            key: "k".into(),
            value: "1".into()
        }
        .needs_prior_state());
    }

    #[test]
    fn journal_form_round_trips() {
        let op = Op::RouteAdd {
            ns: None,
            route: Route {
                dst: Some("10.0.0.0/24".parse().unwrap()),
                v6: false,
                via: None,
                dev: Some("br0".into()),
                metric: Some(5),
            },
        };
        let j = serde_json::to_string(&op).unwrap();
        assert!(j.contains("\"op\":\"route_add\""), "{j}");
        assert_eq!(serde_json::from_str::<Op>(&j).unwrap(), op);
    }

    /// Journals written before `nodad` existed still read, and an address without it
    /// is written as before.
    #[test]
    fn addr_add_journal_compatible() {
        let old = r#"{"op":"addr_add","ns":"red","dev":"a","cidr":"10.0.0.1/24"}"#;
        let op: Op = serde_json::from_str(old).unwrap();
        assert!(matches!(op, Op::AddrAdd { nodad: false, .. }));
        assert_eq!(serde_json::to_string(&op).unwrap(), old);
        let Op::AddrAdd { ns, dev, cidr, .. } = op else {
            unreachable!()
        };
        let new = Op::AddrAdd {
            ns,
            dev,
            cidr,
            nodad: true,
        };
        let j = serde_json::to_string(&new).unwrap();
        assert!(j.contains(r#""nodad":true"#), "{j}");
        assert_eq!(serde_json::from_str::<Op>(&j).unwrap(), new);
    }
}
