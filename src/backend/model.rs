//! The model backend: an in-memory picture of the network that applies the same `Op`s the
//! kernel backend does, raising the errors the kernel would (a name taken, a link or
//! namespace missing, a gateway not on a connected network), and writes the plan: the
//! `ip` / `nft` / `sysctl` / `tc` commands, one per change, as a runnable shell script.
//! Probes and commands do not run; they become comments and answer "true" / empty.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use crate::backend::{
    messages, AddrInfo, Backend, Command, ExecResult, Features, HttpResponse, LinkInfo, NeighInfo,
    PingResult, RouteInfo, SocketInfo,
};
use crate::error::{Error, Result};
use crate::lab::firewall::Rule;
use crate::lab::link_kind::MacvlanMode;
use crate::lab::names::Cidr;
use crate::lab::op::{
    link_label, ns_label, shell_word, Family, LinkKind, LinkSpec, Ns, Op, Qdisc, Route,
};

/// Pids the model makes up for the processes a plan starts; the plan's shell script
/// keeps the real ones in variables.
const PID_BASE: u32 = 4_000_000_000;

#[derive(Clone, Debug, Default)]
struct MLink {
    name: String,
    kind: LinkKind,
    up: bool,
    mtu: u32,
    master: Option<String>,
    peer: Option<(Ns, String)>,
    addrs: Vec<Cidr>,
    index: u32,
    detail: Option<String>,
    /// A root qdisc netscript set (the default one does not count).
    qdisc: Option<Qdisc>,
    /// The link a macvlan or vxlan sits on: where it was made (it stays there when the
    /// macvlan moves).
    lower: Option<(Ns, String)>,
    /// What a vxlan adds to each packet (its MTU is at most its lower link's less this).
    headroom: u32,
    /// A macvlan in passthru mode: alone on its parent.
    passthru: bool,
}

#[derive(Clone, Debug, Default)]
struct Space {
    links: Vec<MLink>,
    routes: Vec<Route>,
    sysctls: BTreeMap<String, String>,
    rules: Vec<Rule>,
    /// Links with a loss chain in table netdev netscript.
    lossy: Vec<String>,
    /// Foreign forward chains that drop (read from the host), and the tags of the
    /// accept rules added to them.
    foreign: crate::lab::foreign::Check,
    accepts: Vec<String>,
}

impl Space {
    fn fresh(index: &mut u32) -> Space {
        *index += 1;
        let lo = MLink {
            name: "lo".into(),
            kind: LinkKind::Loopback,
            up: false,
            mtu: 65536,
            index: 1,
            ..Default::default()
        };
        Space {
            links: vec![lo],
            ..Default::default()
        }
    }

    fn link(&mut self, ns: &Ns, name: &str) -> Result<&mut MLink> {
        self.links
            .iter_mut()
            .find(|l| l.name == name)
            .ok_or_else(|| Error::Missing(link_label(ns, name)))
    }

    fn has(&self, name: &str) -> bool {
        self.links.iter().any(|l| l.name == name)
    }

    /// A link goes: its addresses and the routes through it with it; ports leave it.
    fn remove(&mut self, name: &str) -> Option<MLink> {
        let i = self.links.iter().position(|l| l.name == name)?;
        self.drop_routes_through(name);
        let l = self.links.remove(i);
        for p in &mut self.links {
            if p.master.as_deref() == Some(name) {
                p.master = None;
            }
        }
        Some(l)
    }

    /// Whether `ip` is on a network of a link that is up (a link that is down has no
    /// connected routes).
    fn connected(&self, ip: &IpAddr) -> bool {
        self.links
            .iter()
            .any(|l| l.up && l.addrs.iter().any(|a| a.contains(ip)))
    }

    /// Whether a gateway `ip` can be reached directly: on a network of a link that is up,
    /// or covered by a route through a device without a gateway (`route default dev X`
    /// makes every address on-link).
    fn on_link(&self, ip: &IpAddr) -> bool {
        self.connected(ip)
            || self.routes.iter().any(|r| {
                r.via.is_none()
                    && r.dev.is_some()
                    && r.v6 == ip.is_ipv6()
                    && r.dst.is_none_or(|d| d.contains(ip))
            })
    }

    /// A link goes down (or away, or to another namespace): the kernel drops every route
    /// through it, by device or by a gateway on one of its networks.
    fn drop_routes_through(&mut self, name: &str) {
        let Some(l) = self.links.iter().find(|l| l.name == name) else {
            return;
        };
        let nets = l.addrs.clone();
        let others: Vec<Cidr> = self
            .links
            .iter()
            .filter(|o| o.name != name && o.up)
            .flat_map(|o| o.addrs.clone())
            .collect();
        self.routes.retain(|r| {
            if r.dev.as_deref() == Some(name) {
                return false;
            }
            match (&r.dev, r.via) {
                (None, Some(v)) => {
                    !nets.iter().any(|a| a.contains(&v)) || others.iter().any(|a| a.contains(&v))
                }
                _ => true,
            }
        });
    }
}

pub struct ModelBackend {
    spaces: BTreeMap<Ns, Space>,
    lines: Vec<String>,
    at: Option<String>,
    printed_at: Option<String>,
    pids: u32,
    next_index: u32,
    netem: bool,
    /// Rule tags of the run (unique per run: time, pid) → the plan's stable ones.
    plan_ids: BTreeMap<String, String>,
}

impl ModelBackend {
    /// A model of the host as it is now (its links, addresses and named namespaces),
    /// read without changing anything.
    pub fn of_host(host: Option<&mut dyn Backend>) -> ModelBackend {
        let mut next_index = 100;
        let mut spaces = BTreeMap::new();
        let mut hs = Space::fresh(&mut next_index);
        let mut features = Features::default();
        if let Some(b) = host {
            features = b.features();
            if let Ok(links) = b.links(&None) {
                hs.links = links
                    .into_iter()
                    .map(|l| MLink {
                        name: l.name,
                        kind: l.kind,
                        up: l.up,
                        mtu: l.mtu,
                        master: l.master,
                        addrs: l.addrs,
                        index: l.index,
                        ..Default::default()
                    })
                    .collect();
            }
            hs.foreign = b.foreign_forward(&None);
            for n in b.netns_list().unwrap_or_default() {
                spaces.insert(Some(n), Space::fresh(&mut next_index));
            }
        }
        spaces.insert(None, hs);
        ModelBackend {
            spaces,
            lines: vec![],
            at: None,
            printed_at: None,
            pids: 0,
            next_index,
            netem: features.netem,
            plan_ids: BTreeMap::new(),
        }
    }

    /// The same model, with what the kernel can do as `features` say.
    pub fn with_features(mut self, features: Features) -> ModelBackend {
        self.netem = features.netem;
        self
    }

    /// The plan: a shell script that makes the same changes.
    pub fn script(&self, title: &str) -> String {
        let mut s = format!("#!/bin/sh\n# {title}\nset -e\n");
        for l in &self.lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    fn space(&mut self, ns: &Ns) -> Result<&mut Space> {
        self.spaces
            .get_mut(ns)
            .ok_or_else(|| Error::Missing(ns_label(ns)))
    }

    fn emit(&mut self, line: String) {
        if self.at != self.printed_at {
            if let Some(a) = &self.at {
                self.lines.push(format!("# {a}"));
            }
            self.printed_at = self.at.clone();
        }
        self.lines.push(line);
    }

    fn index(&mut self) -> u32 {
        self.next_index += 1;
        self.next_index
    }

    fn pid_word(pid: u32) -> String {
        if pid >= PID_BASE {
            format!("\"$netscript_pid_{}\"", pid - PID_BASE)
        } else {
            pid.to_string()
        }
    }

    /// The kernel deletes a macvlan (or vxlan) with the link it sits on, wherever it has
    /// moved: with link `name` of `ns`, or with every link of `ns` (`None`).
    fn drop_uppers(&mut self, ns: &Ns, name: Option<&str>) {
        let mut gone: Vec<(Ns, String)> = vec![];
        for (sns, s) in self.spaces.iter() {
            for l in &s.links {
                if let Some((lns, lname)) = &l.lower {
                    if lns == ns && name.is_none_or(|n| n == lname) {
                        gone.push((sns.clone(), l.name.clone()));
                    }
                }
            }
        }
        // What sits on them goes too (a vxlan on a macvlan).
        for (sns, lname) in gone {
            if let Some(s) = self.spaces.get_mut(&sns) {
                s.remove(&lname);
            }
            self.drop_uppers(&sns, Some(&lname));
        }
    }

    /// The link a new macvlan `name` on `parent` really sits on, refused as the kernel's
    /// macvlan_common_newlink refuses it: a macvlan on a macvlan sits on that one's
    /// parent (and takes its MTU); a passthru macvlan is alone on its parent.
    fn macvlan_lower(
        &self,
        ns: &Ns,
        name: &str,
        parent_ns: &Ns,
        parent: &str,
        mode: MacvlanMode,
    ) -> Result<(Ns, MLink)> {
        let find = |lns: &Ns, lname: &str| {
            self.spaces
                .get(lns)
                .and_then(|s| s.links.iter().find(|l| l.name == lname))
        };
        let mut at = (
            parent_ns.clone(),
            find(parent_ns, parent).expect("looked up"),
        );
        if at.1.kind == LinkKind::Macvlan {
            if let Some((lns, lname)) = &at.1.lower {
                if let Some(real) = find(lns, lname) {
                    at = (lns.clone(), real);
                }
            }
        }
        let (lns, lower) = &at;
        // macvlan_port_create: an Ethernet link, with no bridge on it.
        if matches!(lower.kind, LinkKind::Tun | LinkKind::Loopback) {
            return Err(messages::macvlan_not_ethernet(
                ns,
                name,
                parent_ns,
                parent,
                lower.kind.as_str(),
            ));
        }
        if lower.master.is_some() {
            return Err(messages::macvlan_on_port(ns, name, parent_ns, parent));
        }
        let mut siblings = self.spaces.values().flat_map(|sp| {
            sp.links.iter().filter(|l| {
                l.kind == LinkKind::Macvlan
                    && l.lower.as_ref() == Some(&(lns.clone(), lower.name.clone()))
            })
        });
        let taken = match mode {
            MacvlanMode::Passthru => siblings.next().is_some(),
            _ => siblings.any(|l| l.passthru),
        };
        if taken {
            return Err(messages::macvlan_passthru_alone(
                ns, name, parent_ns, parent,
            ));
        }
        Ok((lns.clone(), (*lower).clone()))
    }

    /// Apply `op` to the picture, failing as the kernel would: by op family
    /// (`Op::family`), one function each.
    fn model(&mut self, op: &Op) -> Result<()> {
        match op.family() {
            Family::Netns => self.model_netns(op),
            Family::Link => self.model_link(op),
            Family::Address => self.model_address(op),
            Family::Impair => self.model_impair(op),
            Family::Sysctl => self.model_sysctl(op),
            Family::Firewall => self.model_firewall(op),
            // Started by `start`; the ops only record them.
            Family::Process => Ok(()),
        }
    }

    /// Namespaces.
    fn model_netns(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::NetnsAdd { name, .. } | Op::NetnsAttach { name, .. } => {
                let ns = Some(name.clone());
                if self.spaces.contains_key(&ns) {
                    return Err(Error::Exists(ns_label(&ns)));
                }
                let mut s = Space::fresh(&mut self.next_index);
                s.links[0].up = matches!(op, Op::NetnsAdd { lo: true, .. });
                self.spaces.insert(ns, s);
            }
            Op::NetnsDelMade { name, .. } => {
                return self.model(&Op::NetnsDel { name: name.clone() });
            }
            Op::NetnsDel { name } => {
                let ns = Some(name.clone());
                let gone = self
                    .spaces
                    .remove(&ns)
                    .ok_or_else(|| Error::Missing(ns_label(&ns)))?;
                for l in gone.links {
                    if let Some((pns, pname)) = l.peer {
                        if let Some(s) = self.spaces.get_mut(&pns) {
                            s.remove(&pname);
                        }
                        self.drop_uppers(&pns, Some(&pname));
                    }
                }
                self.drop_uppers(&ns, None);
            }
            other => unreachable!("{other:?} is not in this family"),
        }
        Ok(())
    }

    /// Links.
    fn model_link(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::VethAdd {
                a,
                a_ns,
                b,
                b_ns,
                mtu,
                ..
            } => {
                self.space(a_ns)?;
                self.space(b_ns)?;
                if self.spaces[a_ns].has(a) {
                    return Err(Error::Exists(link_label(a_ns, a)));
                }
                if self.spaces[b_ns].has(b) {
                    return Err(Error::Exists(link_label(b_ns, b)));
                }
                for (ns, name, peer) in [(a_ns, a, (b_ns, b)), (b_ns, b, (a_ns, a))] {
                    let index = self.index();
                    let l = MLink {
                        name: name.clone(),
                        kind: LinkKind::Veth,
                        mtu: mtu.unwrap_or(1500),
                        peer: Some((peer.0.clone(), peer.1.clone())),
                        index,
                        ..Default::default()
                    };
                    self.space(ns)?.links.push(l);
                }
            }
            Op::LinkAdd { ns, name, spec } => {
                let index = self.index();
                let s = self.space(ns)?;
                // As the kernel backend: the link it sits on first, then the name.
                let has = s.has(name);
                let mut lower = match spec.lower(ns) {
                    Some((lns, d)) => Some((lns.clone(), self.space(&lns)?.link(&lns, d)?.clone())),
                    None => None,
                };
                if has {
                    return Err(Error::Exists(link_label(ns, name)));
                }
                if let (LinkSpec::Macvlan { parent, mode, .. }, Some((lns, _))) = (spec, &lower) {
                    lower = Some(self.macvlan_lower(ns, name, lns, parent, *mode)?);
                }
                let s = self.space(ns)?;
                let mtu = lower.as_ref().map_or(1500, |(_, l)| l.mtu);
                // A vxlan's encapsulation: 50 bytes over IPv4, 70 over IPv6.
                let headroom = match spec {
                    LinkSpec::Vxlan {
                        remote,
                        group,
                        local,
                        ..
                    } => match remote.or(*group).or(*local).is_some_and(|a| a.is_ipv6()) {
                        true => 70,
                        false => 50,
                    },
                    LinkSpec::Bridge { .. } | LinkSpec::Macvlan { .. } | LinkSpec::Tun { .. } => 0,
                };
                let mtu = match spec {
                    LinkSpec::Vxlan { dev: Some(_), .. } => mtu.saturating_sub(headroom),
                    LinkSpec::Vxlan { dev: None, .. } => 1500,
                    LinkSpec::Bridge { .. } | LinkSpec::Macvlan { .. } | LinkSpec::Tun { .. } => {
                        mtu
                    }
                };
                s.links.push(MLink {
                    name: name.clone(),
                    kind: spec.kind(),
                    // A bridge is set up as it is made (see `LinkSpec::render`).
                    up: matches!(spec, LinkSpec::Bridge { .. }),
                    mtu,
                    index,
                    detail: spec.detail(),
                    lower: lower.map(|(lns, l)| (lns, l.name)),
                    headroom,
                    passthru: matches!(
                        spec,
                        LinkSpec::Macvlan {
                            mode: MacvlanMode::Passthru,
                            ..
                        }
                    ),
                    ..Default::default()
                });
            }
            Op::LinkDelMade { ns, name, .. } => {
                return self.model(&Op::LinkDel {
                    ns: ns.clone(),
                    name: name.clone(),
                });
            }
            Op::LinkDel { ns, name } => {
                let s = self.space(ns)?;
                let l = s
                    .remove(name)
                    .ok_or_else(|| Error::Missing(link_label(ns, name)))?;
                if let Some((pns, pname)) = l.peer {
                    if let Some(p) = self.spaces.get_mut(&pns) {
                        p.remove(&pname);
                    }
                    self.drop_uppers(&pns, Some(&pname));
                }
                self.drop_uppers(ns, Some(name));
            }
            Op::LinkSet { ns, name, up } => {
                let s = self.space(ns)?;
                if !*up && s.link(ns, name)?.up {
                    s.drop_routes_through(name);
                }
                s.link(ns, name)?.up = *up;
            }
            Op::LinkMtu { ns, name, mtu } => {
                let l = self.space(ns)?.link(ns, name)?.clone();
                // A vxlan's or macvlan's packets must fit its lower link (with the
                // vxlan's encapsulation), wherever the link has moved since.
                let max = match &l.lower {
                    Some((lns, lower)) => self
                        .spaces
                        .get(lns)
                        .and_then(|s| s.links.iter().find(|x| &x.name == lower))
                        .map_or(65535, |x| x.mtu.saturating_sub(l.headroom)),
                    None => 65535,
                };
                let s = self.space(ns)?;
                if *mtu < 68 {
                    return Err(Error::from_errno(link_label(ns, name), libc::EINVAL));
                }
                if *mtu > max {
                    return Err(messages::mtu_too_large(ns, name, *mtu));
                }
                s.link(ns, name)?.mtu = *mtu;
            }
            Op::LinkMaster { ns, name, master } => {
                let s = self.space(ns)?;
                s.link(ns, name)?;
                if let Some(m) = master {
                    // A link on the bridge itself (a vxlan whose lower link it is) would
                    // make a loop.
                    if s.link(ns, name)?
                        .lower
                        .as_ref()
                        .is_some_and(|(lns, l)| lns == ns && l == m)
                    {
                        return Err(messages::port_busy(ns, name, m));
                    }
                    // A tun carries IP packets, no Ethernet frames: no bridge takes it.
                    let kind = s.link(ns, name)?.kind.clone();
                    if matches!(kind, LinkKind::Tun | LinkKind::Loopback) {
                        return Err(messages::port_not_ethernet(ns, name, kind.as_str()));
                    }
                    let br = s.link(ns, m)?;
                    if br.kind != LinkKind::Bridge {
                        return Err(Error::Os {
                            what: link_label(ns, name),
                            source: std::io::Error::from_raw_os_error(libc::EOPNOTSUPP),
                        });
                    }
                    // After the master's own check, as the kernel's br_add_if.
                    if s.link(ns, name)?.kind == LinkKind::Bridge {
                        return Err(messages::bridge_in_bridge(ns, name));
                    }
                    let ports = s
                        .links
                        .iter()
                        .filter(|l| l.master.as_deref() == Some(m))
                        .count();
                    if ports >= messages::BRIDGE_MAX_PORTS {
                        return Err(messages::bridge_full(ns, m));
                    }
                    // A macvlan's parent has its receive handler taken (br_add_if).
                    let parent = Some((ns.clone(), name.clone()));
                    if self.spaces.values().any(|sp| {
                        sp.links
                            .iter()
                            .any(|l| l.kind == LinkKind::Macvlan && l.lower == parent)
                    }) {
                        return Err(messages::port_busy(ns, name, m));
                    }
                }
                let s = self.space(ns)?;
                s.link(ns, name)?.master = master.clone();
            }
            // A link that is no longer a port (its bridge deleted) keeps only the IPv6
            // part, as in the kernel backend.
            Op::PortLabMode { ns, name, .. } => {
                self.space(ns)?.link(ns, name)?;
            }
            Op::LinkMove { ns, name, to } => {
                self.space(to)?;
                // A bridge stays where it was made (NETIF_F_NETNS_LOCAL), as the kernel says.
                if self.space(ns)?.link(ns, name)?.kind == LinkKind::Bridge {
                    return Err(messages::stays_in_its_namespace(ns, name));
                }
                if self.spaces[to].has(name) {
                    return Err(Error::Exists(link_label(to, name)));
                }
                let mut l = self.space(ns)?.remove(name).expect("checked above");
                // A link that changes namespace loses its addresses, state and master.
                l.addrs.clear();
                l.up = false;
                l.master = None;
                if let Some((pns, pname)) = &l.peer {
                    if let Some(p) = self
                        .spaces
                        .get_mut(pns)
                        .and_then(|s| s.links.iter_mut().find(|x| &x.name == pname))
                    {
                        p.peer = Some((to.clone(), name.clone()));
                    }
                }
                self.space(to)?.links.push(l);
            }
            other => unreachable!("{other:?} is not in this family"),
        }
        Ok(())
    }

    /// Addresses and routes.
    fn model_address(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::AddrAdd { ns, dev, cidr, .. } => {
                let what = messages::address(ns, dev, cidr);
                let l = self.space(ns)?.link(ns, dev)?;
                if l.addrs.contains(cidr) {
                    return Err(Error::Exists(what));
                }
                l.addrs.push(*cidr);
            }
            Op::AddrDel { ns, dev, cidr } => {
                let what = messages::address(ns, dev, cidr);
                let l = self.space(ns)?.link(ns, dev)?;
                let i = l
                    .addrs
                    .iter()
                    .position(|a| a == cidr)
                    .ok_or(Error::Missing(what))?;
                l.addrs.remove(i);
            }
            Op::RouteAdd { ns, route } => {
                let what = messages::route(ns, route);
                let s = self.space(ns)?;
                if let Some(d) = &route.dev {
                    if !s.link(ns, d)?.up {
                        return Err(Error::from_errno(what, libc::ENETDOWN));
                    }
                }
                if let Some(v) = route.via {
                    if !s.on_link(&v) {
                        return Err(messages::gateway_unreachable(ns, route, v));
                    }
                }
                if s.routes
                    .iter()
                    .any(|r| r.dst == route.dst && r.v6 == route.v6 && r.metric == route.metric)
                {
                    return Err(Error::Exists(what));
                }
                s.routes.push(route.clone());
            }
            Op::RouteDel { ns, route } => {
                let s = self.space(ns)?;
                let i = s.routes.iter().position(|r| r == route);
                let i = i.ok_or_else(|| Error::Missing(messages::route(ns, route)))?;
                s.routes.remove(i);
            }
            other => unreachable!("{other:?} is not in this family"),
        }
        Ok(())
    }

    /// Qdiscs and loss chains.
    fn model_impair(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::QdiscSet { ns, dev, qdisc } => {
                self.space(ns)?.link(ns, dev)?;
                if matches!(qdisc, Qdisc::Netem { .. }) && !self.netem {
                    return Err(messages::no_netem());
                }
                self.space(ns)?.link(ns, dev)?.qdisc = Some(qdisc.clone());
            }
            Op::QdiscDel { ns, dev } => {
                let l = self.space(ns)?.link(ns, dev)?;
                if l.qdisc.take().is_none() {
                    return Err(messages::no_impairment(ns, dev));
                }
            }
            Op::LossAdd { ns, dev, .. } => {
                let s = self.space(ns)?;
                s.link(ns, dev)?;
                if !s.lossy.contains(dev) {
                    s.lossy.push(dev.clone());
                }
            }
            Op::LossDel { ns, dev } => {
                let s = self.space(ns)?;
                let before = s.lossy.len();
                s.lossy.retain(|d| d != dev);
                if s.lossy.len() == before {
                    return Err(messages::no_impairment(ns, dev));
                }
            }
            other => unreachable!("{other:?} is not in this family"),
        }
        Ok(())
    }

    /// Sysctls.
    fn model_sysctl(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::Sysctl { ns, key, value } => {
                self.space(ns)?.sysctls.insert(key.clone(), value.clone());
            }
            other => unreachable!("{other:?} is not in this family"),
        }
        Ok(())
    }

    /// netscript's rules and accepts in foreign chains.
    fn model_firewall(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::NftAdd { ns, rules } => self.space(ns)?.rules.extend(rules.iter().cloned()),
            Op::NftDel { ns, rules } => {
                let s = self.space(ns)?;
                let before = s.rules.len();
                s.rules.retain(|r| {
                    !rules.iter().any(|d| {
                        if d.id.ends_with(':') {
                            r.id.starts_with(&d.id)
                        } else {
                            r.id == d.id
                        }
                    })
                });
                if s.rules.len() == before {
                    return Err(messages::no_rule());
                }
            }
            Op::ForeignAccept { ns, rule } => self.space(ns)?.accepts.push(rule.tag.clone()),
            Op::ForeignAcceptDel { ns, rule } => {
                let s = self.space(ns)?;
                let i = s.accepts.iter().position(|t| *t == rule.tag);
                let i = i.ok_or_else(|| messages::no_foreign_rule(&rule.tag, &rule.chain))?;
                s.accepts.remove(i);
            }
            other => unreachable!("{other:?} is not in this family"),
        }
        Ok(())
    }
}

impl ModelBackend {
    /// The op with its rule tags made stable, so two plans of one script are the same
    /// text: `SPEC:N`, N counting the plan's rules (the real run's tags carry a time and
    /// a pid). A deletion by tag follows the tag it deletes.
    fn stable_ids(&mut self, op: &Op) -> Op {
        let mut op = op.clone();
        match &mut op {
            Op::NftAdd { rules, .. } => {
                for r in rules.iter_mut() {
                    let n = self.plan_ids.len();
                    let stable = match r.id.split_once(':') {
                        Some((spec, _)) => format!("{spec}:{n}"),
                        None => format!("{}:{n}", r.id),
                    };
                    self.plan_ids.insert(r.id.clone(), stable.clone());
                    r.id = stable;
                }
            }
            Op::NftDel { rules, .. } => {
                for r in rules.iter_mut() {
                    if let Some(s) = self.plan_ids.get(&r.id) {
                        r.id = s.clone();
                    }
                }
            }
            _ => {}
        }
        op
    }
}

impl Backend for ModelBackend {
    fn apply(&mut self, op: &Op) -> Result<()> {
        let op = &self.stable_ids(op);
        self.model(op)?;
        match op {
            Op::ProcStarted { ns, argv, pid, .. } => {
                let cmd: Vec<String> = argv.iter().map(|a| shell_word(a)).collect();
                let inside = ns
                    .as_ref()
                    .map(|n| format!("ip netns exec {} ", shell_word(n)))
                    .unwrap_or_default();
                self.emit(format!("{inside}{} &", cmd.join(" ")));
                self.emit(format!("netscript_pid_{}=$!", pid - PID_BASE));
            }
            Op::ProcStop { pid, .. } => {
                self.emit(format!("kill {} 2>/dev/null || true", Self::pid_word(*pid)))
            }
            Op::NetnsAttach { name, pid } => self.emit(format!(
                "ip netns attach {} {}",
                shell_word(name),
                Self::pid_word(*pid)
            )),
            other => {
                for line in other.render() {
                    self.emit(line);
                }
            }
        }
        Ok(())
    }

    fn netns_exists(&mut self, name: &str) -> bool {
        self.spaces.contains_key(&Some(name.to_string()))
    }

    fn netns_list(&mut self) -> Result<Vec<String>> {
        Ok(self
            .spaces
            .keys()
            .flatten()
            .filter(|n| !n.starts_with('/'))
            .cloned()
            .collect())
    }

    fn netns_inode(&mut self, ns: &Ns) -> Result<u64> {
        self.space(ns)?;
        // A stable made-up number per namespace.
        Ok(4026531840 + self.spaces.keys().position(|k| k == ns).unwrap_or(0) as u64)
    }

    fn link(&mut self, ns: &Ns, name: &str) -> Result<LinkInfo> {
        let l = self.space(ns)?.link(ns, name)?.clone();
        Ok(info(&l))
    }

    fn links(&mut self, ns: &Ns) -> Result<Vec<LinkInfo>> {
        let mut out: Vec<LinkInfo> = self.space(ns)?.links.iter().map(info).collect();
        // A veth whose peer is in another namespace, as the kernel reports it: by index.
        for l in out.iter_mut() {
            let peer = self
                .space(ns)?
                .links
                .iter()
                .find(|m| m.name == l.name)
                .and_then(|m| m.peer.clone());
            // A macvlan (or vxlan) names the link it sits on by index; moved away from
            // it, with the id of the parent's namespace, as the kernel does.
            let lower = self
                .space(ns)?
                .links
                .iter()
                .find(|m| m.name == l.name)
                .and_then(|m| m.lower.clone());
            if let Some((lns, lname)) = lower {
                l.peer_index = self
                    .spaces
                    .get(&lns)
                    .and_then(|s| s.links.iter().find(|m| m.name == lname))
                    .map(|m| m.index);
                if lns != *ns {
                    l.peer_nsid = self.spaces.keys().position(|k| *k == lns).map(|i| i as i32);
                }
            }
            if let Some((pns, pname)) = peer.filter(|(pns, _)| pns != ns) {
                l.peer_elsewhere = true;
                l.peer_index = self
                    .spaces
                    .get(&pns)
                    .and_then(|s| s.links.iter().find(|m| m.name == pname))
                    .map(|m| m.index);
            }
        }
        Ok(out)
    }

    fn addrs(&mut self, ns: &Ns) -> Result<Vec<AddrInfo>> {
        Ok(self
            .space(ns)?
            .links
            .iter()
            .flat_map(|l| {
                l.addrs.iter().map(|a| AddrInfo {
                    dev: l.name.clone(),
                    addr: *a,
                })
            })
            .collect())
    }

    fn routes(&mut self, ns: &Ns) -> Result<Vec<RouteInfo>> {
        let s = self.space(ns)?;
        let mut out: Vec<RouteInfo> = s
            .links
            .iter()
            .filter(|l| l.up)
            .flat_map(|l| {
                l.addrs.iter().filter(|a| !a.is_host()).map(|a| RouteInfo {
                    dst: a.network().to_string(),
                    dev: Some(l.name.clone()),
                    src: Some(a.addr),
                    scope: "link".into(),
                    proto: "kernel".into(),
                    v6: a.addr.is_ipv6(),
                    ..Default::default()
                })
            })
            .collect();
        out.extend(s.routes.iter().map(|r| {
            RouteInfo {
                dst: r
                    .dst
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "default".into()),
                via: r.via,
                dev: r.dev.clone(),
                scope: if r.via.is_none() {
                    "link".into()
                } else {
                    "global".into()
                },
                proto: "boot".into(),
                metric: r.metric,
                v6: r.v6,
                ..Default::default()
            }
        }));
        Ok(out)
    }

    fn neighbors(&mut self, ns: &Ns) -> Result<Vec<NeighInfo>> {
        self.space(ns)?;
        Ok(vec![])
    }

    fn sockets(&mut self, ns: &Ns) -> Result<Vec<SocketInfo>> {
        self.space(ns)?;
        Ok(vec![])
    }

    fn netns_of(&mut self, _pid: u32) -> Result<Ns> {
        Ok(None)
    }

    fn sysctl(&mut self, ns: &Ns, key: &str) -> Result<String> {
        let s = self.space(ns)?;
        Ok(s.sysctls.get(key).cloned().unwrap_or_else(|| "0".into()))
    }

    fn rules(&mut self, ns: &Ns) -> Result<String> {
        let s = self.space(ns)?;
        Ok(s.rules
            .iter()
            .map(|r| format!("{} {}\n", r.chain.name(), r.text()))
            .collect())
    }

    fn settle(&mut self) {}

    fn features(&mut self) -> Features {
        Features { netem: self.netem }
    }

    fn foreign_forward(&mut self, ns: &Ns) -> crate::lab::foreign::Check {
        self.spaces
            .get(ns)
            .map(|s| s.foreign.clone())
            .unwrap_or_default()
    }

    fn exec(&mut self, ns: &Ns, cmd: &Command) -> Result<ExecResult> {
        self.space(ns)?;
        let words: Vec<String> = cmd.argv().iter().map(|a| shell_word(a)).collect();
        self.emit(format!("# exec in {}: {}", ns_label(ns), words.join(" ")));
        Ok(ExecResult::default())
    }

    fn interactive(&mut self, ns: &Ns, cmd: &Command, _env: &[(String, String)]) -> Result<i64> {
        self.space(ns)?;
        let words: Vec<String> = cmd.argv().iter().map(|a| shell_word(a)).collect();
        self.emit(format!(
            "# interactive in {}: {}",
            ns_label(ns),
            words.join(" ")
        ));
        Ok(0)
    }

    fn start(&mut self, ns: &Ns, _cmd: &Command) -> Result<u32> {
        self.space(ns)?;
        self.pids += 1;
        Ok(PID_BASE + self.pids)
    }

    fn proc_start_time(&mut self, _pid: u32) -> u64 {
        0
    }

    fn proc_running(&mut self, _pid: u32) -> bool {
        true
    }

    fn proc_wait(&mut self, _pid: u32) -> Result<i64> {
        Ok(0)
    }

    fn proc_kill(&mut self, pid: u32) -> Result<()> {
        self.emit(format!("kill {} 2>/dev/null || true", Self::pid_word(pid)));
        Ok(())
    }

    /// The plan stops what the run would: the processes started and not detached.
    fn stop_run(&mut self, procs: &[(u32, bool)], _namespaces: &[String]) -> Result<()> {
        for (pid, detached) in procs {
            if !detached {
                self.proc_kill(*pid)?;
            }
        }
        Ok(())
    }

    fn ping(&mut self, ns: &Ns, dst: IpAddr, count: u32, _: u64) -> Result<PingResult> {
        self.space(ns)?;
        self.emit(format!("# probe: ping {dst} from {}", ns_label(ns)));
        Ok(PingResult {
            sent: count,
            received: count,
            rtt_ms: vec![0.0; count as usize],
        })
    }

    fn connect(&mut self, ns: &Ns, dst: SocketAddr, _: u64) -> Result<bool> {
        self.space(ns)?;
        self.emit(format!("# probe: connect to {dst} from {}", ns_label(ns)));
        Ok(true)
    }

    fn http_get(&mut self, ns: &Ns, url: &str, _: u64) -> Result<HttpResponse> {
        self.space(ns)?;
        self.emit(format!("# probe: GET {url} from {}", ns_label(ns)));
        Ok(HttpResponse {
            status: 200,
            body: String::new(),
        })
    }

    fn capture(
        &mut self,
        ns: &Ns,
        link: &str,
        opts: &crate::ui::capture::Opts,
        _: crate::ui::capture::Sink,
        _: &mut (dyn FnMut(&crate::ui::capture::Packet) + Send),
    ) -> Result<Vec<crate::ui::capture::Packet>> {
        self.space(ns)?;
        self.emit(format!(
            "# capture: on {link} in {} (at most {}, {} s)",
            ns_label(ns),
            crate::out::plural(opts.count, "packet"),
            opts.seconds
        ));
        Ok(vec![])
    }

    fn locate(&mut self, at: String) {
        self.at = Some(at);
    }

    fn note(&mut self, text: String) {
        for line in text.lines() {
            self.emit(format!("# {line}"));
        }
    }

    /// `sleep` lines in a row become one.
    fn pause(&mut self, ms: u64) {
        if let Some(last) = self.lines.last_mut() {
            if let Some(prev) = last
                .strip_prefix("sleep ")
                .and_then(|s| s.parse::<f64>().ok())
            {
                *last = format!("sleep {:.3}", prev + ms as f64 / 1000.0);
                return;
            }
        }
        self.emit(format!("sleep {:.3}", ms as f64 / 1000.0));
    }

    fn plan(&self, title: &str) -> Option<String> {
        Some(self.script(title))
    }
}

fn info(l: &MLink) -> LinkInfo {
    LinkInfo {
        name: l.name.clone(),
        index: l.index,
        kind: l.kind.clone(),
        up: l.up,
        mac: format!(
            "02:00:00:00:{:02x}:{:02x}",
            l.index >> 8 & 0xff,
            l.index & 0xff
        ),
        mtu: l.mtu,
        master: l.master.clone(),
        peer: l.peer.as_ref().map(|p| p.1.clone()),
        addrs: l.addrs.clone(),
        peer_index: None,
        peer_elsewhere: false,
        detail: l.detail.clone(),
        peer_nsid: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Ns {
        Some(x.into())
    }

    fn apply(m: &mut ModelBackend, op: Op) -> Result<()> {
        m.apply(&op)
    }

    #[test]
    fn the_model_remembers_and_refuses_like_the_kernel() {
        let mut m = ModelBackend::of_host(None);
        apply(
            &mut m,
            Op::NetnsAdd {
                name: "red".into(),
                lo: true,
            },
        )
        .unwrap();
        let e = apply(
            &mut m,
            Op::NetnsAdd {
                name: "red".into(),
                lo: true,
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "namespace \"red\" already exists");
        apply(&mut m, Op::plain_veth("a", "b")).unwrap();
        apply(
            &mut m,
            Op::LinkMove {
                ns: None,
                name: "a".into(),
                to: s("red"),
            },
        )
        .unwrap();
        assert!(m.link(&s("red"), "a").is_ok());
        assert_eq!(
            m.link(&None, "a").unwrap_err().to_string(),
            "link \"a\" does not exist"
        );
        let e = apply(
            &mut m,
            Op::LinkMove {
                ns: None,
                name: "b".into(),
                to: s("blue"),
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "namespace \"blue\" does not exist");
        apply(
            &mut m,
            Op::AddrAdd {
                ns: s("red"),
                dev: "a".into(),
                cidr: "10.0.0.1/24".parse().unwrap(),
                nodad: false,
            },
        )
        .unwrap();
        // A gateway is reachable through a link that is up (as in the kernel).
        apply(
            &mut m,
            Op::LinkSet {
                ns: s("red"),
                name: "a".into(),
                up: true,
            },
        )
        .unwrap();
        let via = Route::default_via;
        let e = apply(
            &mut m,
            Op::RouteAdd {
                ns: s("red"),
                route: via("10.9.0.1"),
            },
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("gateway 10.9.0.1 is not on a directly connected network"),
            "{e}"
        );
        apply(
            &mut m,
            Op::RouteAdd {
                ns: s("red"),
                route: via("10.0.0.254"),
            },
        )
        .unwrap();
        // Deleting the namespace takes the veth's other end with it.
        apply(&mut m, Op::NetnsDel { name: "red".into() }).unwrap();
        assert!(m.link(&None, "b").is_err());
        let plan = m.script("test");
        assert!(
            plan.contains(
                "ip link add name a type veth peer name b\nip link set dev a netns red\n"
            ),
            "{plan}"
        );
        assert!(plan.starts_with("#!/bin/sh\n# test\nset -e\n"), "{plan}");
    }

    #[test]
    fn probes_are_comments_and_succeed() {
        let mut m = ModelBackend::of_host(None);
        assert!(m
            .connect(&None, "10.0.0.1:80".parse().unwrap(), 1000)
            .unwrap());
        assert_eq!(
            m.ping(&None, "10.0.0.1".parse().unwrap(), 2, 10)
                .unwrap()
                .received,
            2
        );
        m.locate("x.rhai:3".into());
        m.exec(&None, &Command::Argv(vec!["ip".into(), "addr".into()]))
            .unwrap();
        let plan = m.script("t");
        assert!(
            plan.contains("# probe: connect to 10.0.0.1:80 from the host namespace"),
            "{plan}"
        );
        assert!(
            plan.contains("# x.rhai:3\n# exec in the host namespace: ip addr"),
            "{plan}"
        );
    }
}
