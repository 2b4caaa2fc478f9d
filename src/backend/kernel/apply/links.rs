//! Link ops: creating (veth, and the single-ended kinds of `LinkSpec`), deleting, setting.

use crate::backend::kernel::{netlink, netns, nl_err, sysctl, tun, KernelBackend};
use crate::backend::messages;
use crate::error::{Error, Result};
use crate::lab::op::{link_label, LinkSpec, Ns, Op};

impl KernelBackend {
    pub(super) fn apply_link(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::LinkAdd { ns, name, spec } => self.link_add(ns, name, spec),
            Op::VethAdd {
                a,
                a_ns,
                b,
                b_ns,
                mtu,
                queues,
            } => {
                let a_fd = None;
                let b_fd = if b_ns != a_ns {
                    Some(self.ns_fd(b_ns)?)
                } else {
                    None
                };
                let h = self.handle(a_ns)?;
                let msg = netlink::veth_message(a, a_fd, b, b_fd, *mtu, *queues);
                match self.rt.block_on(netlink::add_link(&h, msg)) {
                    Ok(index) => {
                        // The next call is usually an address on the new end.
                        if let Some(i) = index {
                            self.indexes.insert((a_ns.clone(), a.clone()), i);
                        }
                        let (ka, kb) = ((a_ns.clone(), a.clone()), (b_ns.clone(), b.clone()));
                        self.veth_peers.insert(ka.clone(), kb.clone());
                        self.veth_peers.insert(kb, ka);
                        Ok(())
                    }
                    // Say which of the two names is taken.
                    Err(e) if netlink::errno(&e) == Some(libc::EEXIST) => {
                        let a_taken =
                            matches!(self.rt.block_on(netlink::get_link(&h, a)), Ok(Some(_)));
                        Err(Error::Exists(if a_taken {
                            link_label(a_ns, a)
                        } else {
                            link_label(b_ns, b)
                        }))
                    }
                    Err(e) => Err(nl_err(format!("veth {a:?}/{b:?}"), e)),
                }
            }
            Op::LinkDelMade {
                ns,
                name,
                index,
                netns: made_in,
            } => {
                if let (Some(n), Some(id)) = (ns, made_in) {
                    match netns::file_id(n) {
                        // The namespace went, and the link with it.
                        None => return Err(Error::Missing(link_label(ns, name))),
                        Some(now) if now != *id => {
                            return Err(Error::Replaced(format!(
                                "{} is in a namespace that is not the one it was made in (it was replaced); left alone",
                                link_label(ns, name)
                            )))
                        }
                        Some(_) => {}
                    }
                }
                let h = self.handle(ns)?;
                let by_index = self
                    .rt
                    .block_on(netlink::get_link_by_index(&h, *index))
                    .map_err(|e| nl_err(link_label(ns, name), e))?;
                match by_index.map(|m| netlink::name_of(&m)) {
                    // Ours, perhaps under another name now.
                    Some(now) => self.apply_op(&Op::LinkDel {
                        ns: ns.clone(),
                        name: now,
                    }),
                    None => match self.rt.block_on(netlink::get_link(&h, name)) {
                        Ok(Some(_)) => Err(Error::Replaced(format!(
                            "{} is not the one this lab made (it was replaced); left alone",
                            link_label(ns, name)
                        ))),
                        _ => Err(Error::Missing(link_label(ns, name))),
                    },
                }
            }
            Op::LinkDel { ns, name } => {
                let h = self.handle(ns)?;
                self.rt
                    .block_on(netlink::del(&h, name))
                    .map_err(|e| nl_err(link_label(ns, name), e))
            }
            Op::LinkSet { ns, name, up } => {
                self.set_link(ns, name, |b| if *up { b.up() } else { b.down() })?;
                let key = (ns.clone(), name.clone());
                if !*up {
                    self.up_here.remove(&key);
                    return Ok(());
                }
                // A veth end set up after its peer is activated as it opens; the end set
                // up first waits for the kernel's linkwatch.
                let peer_up = self
                    .veth_peers
                    .get(&key)
                    .is_some_and(|p| self.up_here.contains(p));
                if !peer_up {
                    self.upped.push(key.clone());
                }
                self.up_here.insert(key);
                Ok(())
            }
            Op::LinkMtu { ns, name, mtu } => {
                self.set_link(ns, name, |b| b.mtu(*mtu))
                    .map_err(|e| match e.errno() {
                        Some(libc::EINVAL) => messages::mtu_too_large(ns, name, *mtu),
                        _ => e,
                    })
            }
            Op::LinkMaster { ns, name, master } => match master {
                Some(m) => self
                    .with_index(ns, m, |b, idx| b.set_link(ns, name, |x| x.controller(idx)))
                    .map_err(|e| match e.errno() {
                        Some(libc::EXFULL) => messages::bridge_full(ns, m),
                        Some(libc::ELOOP) => messages::bridge_in_bridge(ns, name),
                        Some(libc::EBUSY) => messages::port_busy(ns, name, m),
                        Some(libc::EINVAL) => match self.not_ethernet(ns, name) {
                            Some(kind) => messages::port_not_ethernet(ns, name, &kind),
                            None => e,
                        },
                        _ => e,
                    }),
                None => self.set_link(ns, name, |b| b.nocontroller()),
            },
            Op::PortLabMode { ns, name, on } => {
                let key = crate::lab::tuning::port_ipv6_key(name);
                let value = if *on { "1" } else { "0" };
                match self.within(ns, move || sysctl::write(&key, value))? {
                    // A link with no IPv6 at all has no such file: the kernel takes IPv6
                    // off a link whose MTU is below 1280 (IPv6's minimum), and a missing
                    // link is named by the request below.
                    Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                    r => r.map_err(|e| {
                        Error::os(format!("IPv6 off on {}", link_label(ns, name)), e)
                    })?,
                }
                let h = self.handle(ns)?;
                match self.nl(
                    link_label(ns, name),
                    netlink::port_mcast_flood(&h, name, !*on),
                ) {
                    // No longer a port (its bridge was deleted): its flooding went with
                    // its port, and its IPv6 is set above (`down` puts it back so).
                    Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => Ok(()),
                    r => r,
                }
            }
            Op::LinkMove { ns, name, to } => {
                let fd = self.ns_fd(to)?;
                self.set_link(ns, name, |b| b.setns_by_fd(fd))
                    .map_err(|e| match e.errno() {
                        Some(libc::EINVAL) => messages::stays_in_its_namespace(ns, name),
                        _ => e,
                    })
            }
            other => unreachable!("{other:?} is not in this family"),
        }
    }

    /// A single-ended link: one netlink request (tun/tap: the ioctls, see `tun`).
    fn link_add(&mut self, ns: &Ns, name: &str, spec: &LinkSpec) -> Result<()> {
        // The link it sits on: missing, it is named as such. The request goes to the
        // namespace that link is in (a macvlan's parent may be in another one, and the
        // macvlan is then made directly in `ns`).
        let (sent_in, lower) = match spec.lower(ns) {
            Some((lns, d)) => {
                let index = self.index(&lns, d)?;
                (lns, Some(index))
            }
            None => (ns.clone(), None),
        };
        // The name is checked where the link is made, as the kernel does.
        let into = match &sent_in != ns {
            true => Some(self.ns_fd(ns)?),
            false => None,
        };
        let msg = match spec {
            LinkSpec::Bridge { mcast_snooping, .. } => {
                let mut b = rtnetlink::LinkBridge::new(name);
                if let Some(on) = mcast_snooping {
                    b = b.append_info_data(
                        rtnetlink::packet_route::link::InfoBridge::MulticastSnooping(*on),
                    );
                }
                b.build()
            }
            LinkSpec::Vxlan {
                vni,
                remote,
                group,
                local,
                port,
                ..
            } => netlink::vxlan_message(name, *vni, *remote, *group, *local, lower, *port),
            LinkSpec::Macvlan { mode, .. } => {
                netlink::macvlan_message(name, lower.expect("a macvlan has a parent"), *mode, into)
            }
            LinkSpec::Tun { tap, owner, group } => {
                return self.tun_add(ns, name, *tap, *owner, *group)
            }
        };
        let h = self.handle(&sent_in)?;
        self.rt.block_on(h.link().add(msg).execute()).map_err(|e| {
            match (netlink::errno(&e), spec) {
                (Some(libc::EOPNOTSUPP), LinkSpec::Vxlan { .. }) => Error::Other(format!(
                    "{}: this kernel has no VXLAN support (CONFIG_VXLAN)",
                    link_label(ns, name)
                )),
                (Some(libc::EOPNOTSUPP), LinkSpec::Macvlan { .. }) => Error::Other(format!(
                    "{}: this kernel has no macvlan support (CONFIG_MACVLAN)",
                    link_label(ns, name)
                )),
                // No MTU is asked: a parent that is no Ethernet link, or a passthru
                // macvlan beside another (macvlan_common_newlink).
                (Some(libc::EINVAL), LinkSpec::Macvlan { parent, .. }) => {
                    match self.not_ethernet(&sent_in, parent) {
                        Some(kind) => {
                            messages::macvlan_not_ethernet(ns, name, &sent_in, parent, &kind)
                        }
                        None => messages::macvlan_passthru_alone(ns, name, &sent_in, parent),
                    }
                }
                (Some(libc::EBUSY), LinkSpec::Macvlan { parent, .. }) => {
                    messages::macvlan_on_port(ns, name, &sent_in, parent)
                }
                _ => nl_err(link_label(ns, name), e),
            }
        })?;
        if matches!(spec, LinkSpec::Bridge { .. }) {
            self.upped.push((ns.clone(), name.to_string()));
        }
        if let LinkSpec::Vxlan { remotes, .. } = spec {
            if !remotes.is_empty() {
                let index = self.index(ns, name)?;
                let h = self.handle(ns)?;
                for r in remotes {
                    self.rt
                        .block_on(netlink::fdb_append_zero(&h, index, *r))
                        .map_err(|e| {
                            nl_err(format!("{}: fdb entry for {r}", link_label(ns, name)), e)
                        })?;
                }
            }
        }
        Ok(())
    }

    /// What link `name` is when it carries no Ethernet frames ("tun", "loopback"), asked
    /// only to explain a refusal; `None` for an Ethernet link (or one that is gone).
    fn not_ethernet(&mut self, ns: &Ns, name: &str) -> Option<String> {
        use rtnetlink::packet_route::link::{LinkFlags, LinkLayerType};
        let h = self.handle(ns).ok()?;
        let m = self.rt.block_on(netlink::get_link(&h, name)).ok()??;
        let ethernet = m.header.link_layer_type == LinkLayerType::Ether
            && !m.header.flags.contains(LinkFlags::Loopback);
        (!ethernet).then(|| netlink::link_kind(&m).as_str().to_string())
    }

    fn tun_add(
        &mut self,
        ns: &Ns,
        name: &str,
        tap: bool,
        owner: Option<u32>,
        group: Option<u32>,
    ) -> Result<()> {
        // The ioctl would take over a stranger's tun device of that name, and says only
        // "invalid argument" for another kind of link: ask first.
        let h = self.handle(ns)?;
        if let Ok(Some(_)) = self.rt.block_on(netlink::get_link(&h, name)) {
            return Err(Error::Exists(link_label(ns, name)));
        }
        let n = name.to_string();
        self.within(ns, move || tun::create(&n, tap, owner, group))?
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EBUSY) => Error::Exists(link_label(ns, name)),
                Some(libc::ENOENT) => Error::Other(format!(
                    "{}: {} is missing (mknod {} c 10 200, or mount a /dev that has it)",
                    link_label(ns, name),
                    tun::DEVICE,
                    tun::DEVICE
                )),
                _ => Error::os(format!("{} ({})", link_label(ns, name), tun::DEVICE), e),
            })
    }
}
