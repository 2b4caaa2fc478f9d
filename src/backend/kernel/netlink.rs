//! rtnetlink requests: links, addresses, routes. One `Handle` per namespace, bound to
//! it by the socket it was built from. Set and delete requests name links by
//! IFLA_IFNAME so they need no lookup; a lookup asks for one link, never dumps all.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};

use futures::TryStreamExt;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo as NlLinkInfo, LinkMessage,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope,
};
use rtnetlink::sys::TokioSocket;
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};
use tokio::runtime::Runtime;

use crate::lab::link_kind::LinkKind;
use tokio::task::JoinHandle;

use crate::backend::LinkInfo;
use crate::lab::names::Cidr;
use crate::lab::op::Route;

/// A netlink connection bound to one namespace.
pub struct Conn {
    pub handle: Handle,
    task: JoinHandle<()>,
}

impl Conn {
    pub fn new(rt: &Runtime, sock: OwnedFd) -> std::io::Result<Conn> {
        let _guard = rt.enter();
        // SAFETY: the fd is a fresh netlink socket we own.
        let sock = unsafe { TokioSocket::from_raw_fd(sock.into_raw_fd()) };
        let (conn, handle, _) = rtnetlink::from_socket(sock);
        let task = rt.spawn(conn);
        Ok(Conn { handle, task })
    }

    /// Drop the connection and its socket (which holds a reference to its namespace).
    pub fn close(self, rt: &Runtime) {
        self.task.abort();
        let _ = rt.block_on(self.task);
    }
}

/// The errno of a kernel refusal (positive), if it was one.
pub fn errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => Some(m.raw_code().abs()),
        _ => None,
    }
}

/// Names of the veth ends in `host` whose peer is a veth in the namespace of `h`.
pub async fn peers_in(h: &Handle, host: &Handle) -> Result<Vec<String>, rtnetlink::Error> {
    let mut out = vec![];
    let mut links = h.link().get().execute();
    let mut inside = vec![];
    while let Some(m) = links.try_next().await? {
        let elsewhere = m
            .attributes
            .iter()
            .any(|a| matches!(a, LinkAttribute::LinkNetNsId(_)));
        let peer = m.attributes.iter().find_map(|a| match a {
            LinkAttribute::Link(i) => Some(*i),
            _ => None,
        });
        if let (true, Some(p), LinkKind::Veth) = (elsewhere, peer, link_kind(&m)) {
            inside.push((m.header.index, p));
        }
    }
    for (index, peer) in inside {
        if let Some(p) = get_link_by_index(host, peer).await? {
            let back = p
                .attributes
                .iter()
                .any(|a| matches!(a, LinkAttribute::Link(i) if *i == index));
            if back && link_kind(&p) == LinkKind::Veth {
                out.push(name_of(&p));
            }
        }
    }
    Ok(out)
}

pub async fn get_link(h: &Handle, name: &str) -> Result<Option<LinkMessage>, rtnetlink::Error> {
    match h.link().get().match_name(name).execute().try_next().await {
        Ok(m) => Ok(m),
        Err(e) if errno(&e) == Some(libc::ENODEV) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn get_link_by_index(
    h: &Handle,
    index: u32,
) -> Result<Option<LinkMessage>, rtnetlink::Error> {
    match h.link().get().match_index(index).execute().try_next().await {
        Ok(m) => Ok(m),
        Err(e) if errno(&e) == Some(libc::ENODEV) => Ok(None),
        Err(e) => Err(e),
    }
}

/// IFLA_TARGET_NETNSID: ask about a link in another namespace, named by the id the
/// asking namespace has for it (not in netlink-packet-route's attribute list).
const IFLA_TARGET_NETNSID: u16 = 46;

/// The name of each veth's peer in another namespace, from the namespace of `h`: each
/// `(index, peer index, nsid)` is one RTM_GETLINK of the peer's index in the namespace the
/// id names (IFLA_TARGET_NETNSID), all sent at once. No other namespace is opened or
/// searched, so a namespace with a thousand veths costs a thousand small requests; a peer
/// that does not point back (its index was reused) has no name.
pub async fn peer_names(
    h: &Handle,
    wanted: &[(u32, u32, i32)],
) -> Result<HashMap<u32, String>, rtnetlink::Error> {
    use rtnetlink::packet_core::DefaultNla;
    let asks = wanted.iter().map(|&(index, peer, nsid)| {
        let mut req = h.link().get().match_index(peer);
        req.message_mut()
            .attributes
            .push(LinkAttribute::Other(DefaultNla::new(
                IFLA_TARGET_NETNSID,
                nsid.to_ne_bytes().to_vec(),
            )));
        async move {
            let m = match req.execute().try_next().await {
                Ok(m) => m,
                // Gone meanwhile, or an id the kernel no longer knows.
                Err(e) if matches!(errno(&e), Some(libc::ENODEV | libc::EINVAL)) => None,
                Err(e) => return Err(e),
            };
            Ok(m.filter(|m| {
                link_kind(m) == LinkKind::Veth
                    && m.attributes
                        .iter()
                        .any(|a| matches!(a, LinkAttribute::Link(i) if *i == index))
            })
            .map(|m| (index, name_of(&m))))
        }
    });
    // A few dozen in flight at a time: the replies wait in the socket's receive buffer,
    // and a reply that does not fit there is dropped by the kernel, not delayed.
    use futures::StreamExt;
    let found: Vec<Option<(u32, String)>> = futures::stream::iter(asks)
        .buffer_unordered(32)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The id the namespace of `h` has for the namespace `fd` (RTM_GETNSID), if any.
pub async fn nsid_of(h: &Handle, fd: RawFd) -> Option<i32> {
    use futures::StreamExt;
    use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};
    use rtnetlink::packet_route::nsid::{NsidAttribute, NsidMessage};
    use rtnetlink::packet_route::RouteNetlinkMessage;
    let mut msg = NsidMessage::default();
    msg.attributes = vec![NsidAttribute::Fd(fd as u32)];
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::GetNsId(msg));
    req.header.flags = NLM_F_REQUEST;
    let mut resp = h.clone().request(req).ok()?;
    while let Some(m) = resp.next().await {
        if let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNsId(n)) = m.payload {
            return n.attributes.iter().find_map(|a| match a {
                NsidAttribute::Id(id) if *id >= 0 => Some(*id),
                _ => None,
            });
        }
    }
    None
}

/// Whether the kernel has finished bringing a link up: not a link that is up and has
/// carrier but whose operstate is still DOWN (linkwatch has not run for it yet; until it
/// does, the link drops what it is given to send). A link without carrier (a bridge with
/// no ports, a veth whose peer is down) is as up as it will get.
pub async fn activated(h: &Handle, name: &str) -> Result<bool, rtnetlink::Error> {
    use rtnetlink::packet_route::link::State;
    Ok(match get_link(h, name).await? {
        None => true,
        Some(m) => {
            let up = m.header.flags.contains(LinkFlags::Up);
            let carrier = m
                .attributes
                .iter()
                .any(|a| matches!(a, LinkAttribute::Carrier(1)));
            let down = m
                .attributes
                .iter()
                .any(|a| matches!(a, LinkAttribute::OperState(State::Down)));
            !(up && carrier && down)
        }
    })
}

/// `ip link add`, asking the kernel to echo the new link back (NLM_F_ECHO, honoured for
/// new links since Linux 6.3): returns its index when the kernel says it.
pub async fn add_link(h: &Handle, msg: LinkMessage) -> Result<Option<u32>, rtnetlink::Error> {
    use futures::StreamExt;
    use rtnetlink::packet_core::{
        NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL,
        NLM_F_REQUEST,
    };
    use rtnetlink::packet_route::RouteNetlinkMessage;
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewLink(msg));
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO;
    let mut resp = h.clone().request(req)?;
    let mut index = None;
    while let Some(m) = resp.next().await {
        match m.payload {
            NetlinkPayload::Error(e) if e.code.is_some() => {
                return Err(rtnetlink::Error::NetlinkError(e))
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                index = Some(l.header.index)
            }
            _ => {}
        }
    }
    Ok(index)
}

/// `ip link add A [mtu M] [numtxqueues Q numrxqueues Q] type veth peer name B [mtu M]
/// [numtxqueues Q numrxqueues Q] [netns NS]`.
pub fn veth_message(
    a: &str,
    a_fd: Option<RawFd>,
    b: &str,
    b_fd: Option<RawFd>,
    mtu: Option<u32>,
    queues: Option<u32>,
) -> LinkMessage {
    let queue_attrs = |q: u32| [LinkAttribute::NumTxQueues(q), LinkAttribute::NumRxQueues(q)];
    let mut peer = LinkUnspec::new_with_name(b);
    if let Some(fd) = b_fd {
        peer = peer.setns_by_fd(fd);
    }
    if let Some(m) = mtu {
        peer = peer.mtu(m);
    }
    let mut peer = peer.build();
    peer.attributes
        .extend(queues.into_iter().flat_map(queue_attrs));
    let mut msg = LinkVeth::new(a, b).set_info_data(InfoData::Veth(InfoVeth::Peer(peer)));
    if let Some(fd) = a_fd {
        msg = msg.setns_by_fd(fd);
    }
    if let Some(m) = mtu {
        msg = msg.mtu(m);
    }
    let mut msg = msg.build();
    msg.attributes
        .extend(queues.into_iter().flat_map(queue_attrs));
    msg
}

pub fn vxlan_message(
    name: &str,
    vni: u32,
    remote: Option<IpAddr>,
    group: Option<IpAddr>,
    local: Option<IpAddr>,
    dev: Option<u32>,
    port: u16,
) -> LinkMessage {
    let mut b = rtnetlink::LinkVxlan::new(name, vni).port(port);
    // The kernel takes a unicast remote and a multicast group in the same attribute.
    match remote.or(group) {
        Some(IpAddr::V4(a)) => b = b.remote(a),
        Some(IpAddr::V6(a)) => b = b.remote6(a),
        None => {}
    }
    match local {
        Some(IpAddr::V4(a)) => b = b.local(a),
        Some(IpAddr::V6(a)) => b = b.local6(a),
        None => {}
    }
    if let Some(d) = dev {
        b = b.dev(d);
    }
    b.build()
}

/// `bridge fdb append 00:00:00:00:00:00 dev VXLAN dst R`: one more peer a VXLAN floods
/// to (head-end replication). NLM_F_APPEND: the all-zeros address has one entry per peer.
pub async fn fdb_append_zero(h: &Handle, index: u32, dst: IpAddr) -> Result<(), rtnetlink::Error> {
    use futures::StreamExt;
    use rtnetlink::packet_core::{
        NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST,
    };
    use rtnetlink::packet_route::neighbour::{
        NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
    };
    use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Bridge;
    m.header.ifindex = index;
    m.header.state = NeighbourState::Permanent;
    m.header.flags = NeighbourFlags::Own;
    m.attributes
        .push(NeighbourAttribute::LinkLayerAddress(vec![0; 6]));
    m.attributes
        .push(NeighbourAttribute::Destination(match dst {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewNeighbour(m));
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND;
    let mut resp = h.clone().request(req)?;
    while let Some(m) = resp.next().await {
        if let NetlinkPayload::Error(e) = m.payload {
            if e.code.is_some() {
                return Err(rtnetlink::Error::NetlinkError(e));
            }
        }
    }
    Ok(())
}

/// "vni 42 remote 192.0.2.2 port 4789" for a VXLAN link.
pub fn vxlan_detail(m: &LinkMessage) -> Option<String> {
    use rtnetlink::packet_route::link::InfoVxlan;
    let infos = m.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(i) => Some(i),
        _ => None,
    })?;
    let data = infos.iter().find_map(|i| match i {
        NlLinkInfo::Data(InfoData::Vxlan(d)) => Some(d),
        _ => None,
    })?;
    let mut parts = vec![];
    for d in data {
        match d {
            InfoVxlan::Id(v) => parts.insert(0, format!("vni {v}")),
            InfoVxlan::Group(a) => parts.push(format!(
                "{} {a}",
                if a.is_multicast() { "group" } else { "remote" }
            )),
            InfoVxlan::Group6(a) => parts.push(format!(
                "{} {a}",
                if a.is_multicast() { "group" } else { "remote" }
            )),
            InfoVxlan::Port(p) => parts.push(format!("port {p}")),
            _ => {}
        }
    }
    Some(parts.join(" "))
}

pub fn by_name(name: &str) -> LinkMessageBuilder<LinkUnspec> {
    LinkUnspec::new_with_name(name)
}

pub async fn set(h: &Handle, msg: LinkMessage) -> Result<(), rtnetlink::Error> {
    h.link().set(msg).execute().await
}

/// `ip link set dev NAME type bridge_slave mcast_flood on|off`: port settings go in an
/// RTM_NEWLINK (RTM_SETLINK ignores them).
pub async fn port_mcast_flood(h: &Handle, name: &str, on: bool) -> Result<(), rtnetlink::Error> {
    use rtnetlink::packet_route::link::{
        InfoBridgePort, InfoPortData, InfoPortKind, LinkAttribute, LinkInfo,
    };
    let msg = by_name(name)
        .append_extra_attribute(LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![
                InfoBridgePort::MulticastFlood(on),
            ])),
        ]))
        .build();
    h.link().set_port(msg).execute().await
}

pub async fn del(h: &Handle, name: &str) -> Result<(), rtnetlink::Error> {
    h.link()
        .del_with_message(by_name(name).build())
        .execute()
        .await
}

pub async fn index_of(h: &Handle, name: &str) -> Result<Option<u32>, rtnetlink::Error> {
    Ok(get_link(h, name).await?.map(|m| m.header.index))
}

/// `ip addr add`; `nodad` sets IFA_F_NODAD (an IPv6 address usable at once).
pub async fn addr_add(
    h: &Handle,
    index: u32,
    c: &Cidr,
    nodad: bool,
) -> Result<(), rtnetlink::Error> {
    use rtnetlink::packet_route::address::{AddressFlags, AddressHeaderFlags};
    let mut req = h.address().add(index, c.addr, c.prefix);
    if nodad {
        let m = req.message_mut();
        m.header.flags |= AddressHeaderFlags::Nodad;
        m.attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    req.execute().await
}

/// Addresses still in duplicate address detection (IFA_F_TENTATIVE, not failed) on links
/// that are up with a carrier (DAD starts only then: on a link that is down an address
/// stays tentative, and there is nothing to wait for).
pub async fn tentative_addrs(h: &Handle) -> Result<usize, rtnetlink::Error> {
    use rtnetlink::packet_route::address::AddressFlags;
    let links: Vec<LinkMessage> = h.link().get().execute().try_collect().await?;
    let ready: std::collections::HashSet<u32> = links
        .iter()
        .filter(|m| {
            m.header.flags.contains(LinkFlags::Up) && m.header.flags.contains(LinkFlags::LowerUp)
        })
        .map(|m| m.header.index)
        .collect();
    let mut n = 0;
    let mut req = h.address().get().execute();
    while let Some(m) = req.try_next().await? {
        let flags = m
            .attributes
            .iter()
            .find_map(|a| match a {
                AddressAttribute::Flags(f) => Some(*f),
                _ => None,
            })
            .unwrap_or_else(|| AddressFlags::from_bits_retain(m.header.flags.bits() as u32));
        if flags.contains(AddressFlags::Tentative)
            && !flags.contains(AddressFlags::Dadfailed)
            && ready.contains(&m.header.index)
        {
            n += 1;
        }
    }
    Ok(n)
}

pub async fn addr_del(h: &Handle, index: u32, c: &Cidr) -> Result<(), rtnetlink::Error> {
    let mut req = h
        .address()
        .get()
        .set_link_index_filter(index)
        .set_address_filter(c.addr)
        .execute();
    while let Some(m) = req.try_next().await? {
        if m.header.prefix_len == c.prefix {
            return h.address().del(m).execute().await;
        }
    }
    Err(rtnetlink::Error::NetlinkError({
        let mut e = rtnetlink::packet_core::ErrorMessage::default();
        e.code = std::num::NonZeroI32::new(-libc::EADDRNOTAVAIL);
        e
    }))
}

/// The route message `ip route add` would send: proto boot, scope link for a route
/// through a device with no gateway, scope universe otherwise.
pub fn route_message(r: &Route, dev_index: Option<u32>) -> RouteMessage {
    let mut b = RouteMessageBuilder::<IpAddr>::new();
    let msg = b.get_mut();
    msg.header.address_family = if r.v6 {
        rtnetlink::packet_route::AddressFamily::Inet6
    } else {
        rtnetlink::packet_route::AddressFamily::Inet
    };
    msg.header.protocol = RouteProtocol::Boot;
    msg.header.scope = if r.via.is_none() && !r.v6 {
        RouteScope::Link
    } else {
        RouteScope::Universe
    };
    if let Some(d) = r.dst {
        msg.header.destination_prefix_length = d.prefix;
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(d.addr)));
    }
    if let Some(v) = r.via {
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(v)));
    }
    if let Some(i) = dev_index {
        msg.attributes.push(RouteAttribute::Oif(i));
    }
    if let Some(m) = r.metric {
        msg.attributes.push(RouteAttribute::Priority(m));
    }
    b.build()
}

/// What the link is. A tun device says whether it is a tap in its info data
/// (IFLA_TUN_TYPE).
pub fn link_kind(m: &LinkMessage) -> LinkKind {
    let kind = LinkKind::from(kind_of(m));
    if kind != LinkKind::Tun {
        return kind;
    }
    const IFLA_TUN_TYPE: u16 = 3;
    let tap = link_data(m).is_some_and(|d| match d {
        InfoData::Tun(nlas) => nlas.iter().any(|n| {
            let rtnetlink::packet_route::link::InfoTun::Other(n) = n else {
                return false;
            };
            use rtnetlink::packet_core::Nla;
            let mut v = vec![0u8; n.value_len()];
            n.emit_value(&mut v);
            n.kind() == IFLA_TUN_TYPE && v.first() == Some(&(libc::IFF_TAP as u8))
        }),
        _ => false,
    });
    if tap {
        LinkKind::Tap
    } else {
        kind
    }
}

/// A link's IFLA_INFO_DATA, if it has one.
fn link_data(m: &LinkMessage) -> Option<&InfoData> {
    m.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
            NlLinkInfo::Data(d) => Some(d),
            _ => None,
        }),
        _ => None,
    })
}

/// Kind-specific facts worth showing: a VXLAN's VNI and remote, a macvlan's mode.
pub fn link_detail(m: &LinkMessage) -> Option<String> {
    use rtnetlink::packet_route::link::{InfoMacVlan, MacVlanMode};
    match link_data(m)? {
        InfoData::Vxlan(_) => vxlan_detail(m),
        InfoData::MacVlan(d) => d.iter().find_map(|i| match i {
            InfoMacVlan::Mode(mode) => Some(format!(
                "mode {}",
                match mode {
                    MacVlanMode::Private => "private",
                    MacVlanMode::Vepa => "vepa",
                    MacVlanMode::Bridge => "bridge",
                    MacVlanMode::Passthrough => "passthru",
                    MacVlanMode::Source => "source",
                    _ => "other",
                }
            )),
            _ => None,
        }),
        _ => None,
    }
}

fn kind_of(m: &LinkMessage) -> String {
    for a in &m.attributes {
        if let LinkAttribute::LinkInfo(infos) = a {
            for i in infos {
                if let NlLinkInfo::Kind(k) = i {
                    return match k {
                        InfoKind::Other(s) => s.clone(),
                        k => k.to_string(),
                    };
                }
            }
        }
    }
    if m.header.index == 1
        || m.attributes
            .iter()
            .any(|a| matches!(a, LinkAttribute::IfName(n) if n == "lo"))
    {
        "loopback".into()
    } else {
        "device".into()
    }
}

pub fn name_of(m: &LinkMessage) -> String {
    m.attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The address of an address message, as `ip addr` shows it (IFA_LOCAL, or IFA_ADDRESS
/// where there is no local one, as for IPv6).
pub fn address_of(a: &rtnetlink::packet_route::address::AddressMessage) -> Option<Cidr> {
    let find = |local: bool| {
        a.attributes.iter().find_map(|x| match x {
            AddressAttribute::Local(ip) if local => Some(*ip),
            AddressAttribute::Address(ip) if !local => Some(*ip),
            _ => None,
        })
    };
    find(true).or_else(|| find(false)).map(|ip| Cidr {
        addr: ip,
        prefix: a.header.prefix_len,
    })
}

/// Turn a link message into what `ip link` shows. `resolve` names a link by index
/// in the same namespace (for the master and a same-namespace veth peer).
pub async fn link_info(h: &Handle, m: &LinkMessage) -> Result<LinkInfo, rtnetlink::Error> {
    let mut info = LinkInfo {
        name: name_of(m),
        index: m.header.index,
        kind: link_kind(m),
        up: m.header.flags.contains(LinkFlags::Up),
        detail: link_detail(m),
        ..Default::default()
    };
    let mut peer_index = None;
    let mut peer_elsewhere = false;
    for a in &m.attributes {
        match a {
            LinkAttribute::Mtu(v) => info.mtu = *v,
            LinkAttribute::Address(mac) => {
                info.mac = mac
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            }
            LinkAttribute::Controller(i) => {
                info.master = get_link_by_index(h, *i).await?.map(|l| name_of(&l));
            }
            LinkAttribute::Link(i) => peer_index = Some(*i),
            LinkAttribute::LinkNetNsId(id) => {
                peer_elsewhere = true;
                info.peer_nsid = Some(*id);
            }
            _ => {}
        }
    }
    info.peer_index = peer_index;
    info.peer_elsewhere = info.kind == LinkKind::Veth && peer_elsewhere;
    if info.kind == LinkKind::Veth && !peer_elsewhere {
        if let Some(i) = peer_index {
            info.peer = get_link_by_index(h, i).await?.map(|l| name_of(&l));
        }
    }
    let mut addrs = h
        .address()
        .get()
        .set_link_index_filter(m.header.index)
        .execute();
    while let Some(a) = addrs.try_next().await? {
        info.addrs.extend(address_of(&a));
    }
    Ok(info)
}

/// `ip link add NAME link PARENT [netns NS] type macvlan mode MODE`: sent in the parent's
/// namespace, made in the one `into` (a namespace file) is, if given.
pub fn macvlan_message(
    name: &str,
    parent: u32,
    mode: crate::lab::link_kind::MacvlanMode,
    into: Option<std::os::fd::RawFd>,
) -> LinkMessage {
    use crate::lab::link_kind::MacvlanMode as M;
    use rtnetlink::packet_route::link::MacVlanMode;
    let mode = match mode {
        M::Bridge => MacVlanMode::Bridge,
        M::Private => MacVlanMode::Private,
        M::Vepa => MacVlanMode::Vepa,
        M::Passthru => MacVlanMode::Passthrough,
    };
    let b = rtnetlink::LinkMacVlan::new(name, parent, mode);
    match into {
        Some(fd) => b.setns_by_fd(fd).build(),
        None => b.build(),
    }
}
