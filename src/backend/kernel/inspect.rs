//! Inspection: what `ip link`, `ip addr`, `ip route`, `ip neigh` and `ss -tulnp` show,
//! from netlink dumps (one dump per kind, not one request per object) and /proc.

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures::TryStreamExt;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourState};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteScope};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::{Handle, IpVersion, RouteMessageBuilder};

use super::netlink::{link_kind, name_of};
use crate::backend::{AddrInfo, LinkInfo, NeighInfo, RouteInfo, SocketInfo};
use crate::lab::link_kind::LinkKind;
use crate::lab::names::Cidr;

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Every link with its addresses; peers and masters named where they are in the same
/// namespace (`peer_index` is kept for the others).
pub async fn links(h: &Handle) -> Result<Vec<LinkInfo>, rtnetlink::Error> {
    let msgs: Vec<LinkMessage> = h.link().get().execute().try_collect().await?;
    let names: HashMap<u32, String> = msgs.iter().map(|m| (m.header.index, name_of(m))).collect();
    let mut by_index: HashMap<u32, Vec<Cidr>> = HashMap::new();
    for a in addrs_raw(h).await? {
        by_index.entry(a.0).or_default().push(a.1);
    }
    let mut out = vec![];
    for m in &msgs {
        let mut info = LinkInfo {
            name: name_of(m),
            index: m.header.index,
            kind: link_kind(m),
            up: m.header.flags.contains(LinkFlags::Up),
            addrs: by_index.remove(&m.header.index).unwrap_or_default(),
            detail: super::netlink::link_detail(m),
            ..Default::default()
        };
        let mut elsewhere = false;
        for a in &m.attributes {
            match a {
                LinkAttribute::Mtu(v) => info.mtu = *v,
                LinkAttribute::Address(b) => info.mac = mac(b),
                LinkAttribute::Controller(i) => info.master = names.get(i).cloned(),
                LinkAttribute::Link(i) => info.peer_index = Some(*i),
                LinkAttribute::LinkNetNsId(id) => {
                    elsewhere = true;
                    info.peer_nsid = Some(*id);
                }
                _ => {}
            }
        }
        if info.kind == LinkKind::Veth && !elsewhere {
            info.peer = info.peer_index.and_then(|i| names.get(&i).cloned());
        }
        info.peer_elsewhere = info.kind == LinkKind::Veth && elsewhere;
        out.push(info);
    }
    Ok(out)
}

async fn addrs_raw(h: &Handle) -> Result<Vec<(u32, Cidr)>, rtnetlink::Error> {
    let mut out = vec![];
    let mut s = h.address().get().execute();
    while let Some(a) = s.try_next().await? {
        out.extend(super::netlink::address_of(&a).map(|c| (a.header.index, c)));
    }
    Ok(out)
}

pub async fn addrs(h: &Handle) -> Result<Vec<AddrInfo>, rtnetlink::Error> {
    let names = link_names(h).await?;
    Ok(addrs_raw(h)
        .await?
        .into_iter()
        .map(|(i, addr)| AddrInfo {
            dev: names.get(&i).cloned().unwrap_or_else(|| i.to_string()),
            addr,
        })
        .collect())
}

/// Every link's name by its index (one dump).
pub async fn link_names(h: &Handle) -> Result<HashMap<u32, String>, rtnetlink::Error> {
    let msgs: Vec<LinkMessage> = h.link().get().execute().try_collect().await?;
    Ok(msgs.iter().map(|m| (m.header.index, name_of(m))).collect())
}

fn scope_name(s: RouteScope) -> String {
    match u8::from(s) {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

fn proto_name(p: u8) -> String {
    match p {
        2 => "kernel".into(),
        3 => "boot".into(),
        4 => "static".into(),
        9 => "ra".into(),
        16 => "dhcp".into(),
        n => n.to_string(),
    }
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

/// The main table, IPv4 then IPv6, as `ip route` and `ip -6 route` show it.
pub async fn routes(h: &Handle) -> Result<Vec<RouteInfo>, rtnetlink::Error> {
    let names = link_names(h).await?;
    let mut out = vec![];
    for v in [IpVersion::V4, IpVersion::V6] {
        let msg = match v {
            IpVersion::V4 => RouteMessageBuilder::<Ipv4Addr>::new().build(),
            IpVersion::V6 => RouteMessageBuilder::<Ipv6Addr>::new().build(),
        };
        let mut s = h.route().get(msg).execute();
        while let Some(r) = s.try_next().await? {
            let table = r
                .attributes
                .iter()
                .find_map(|a| match a {
                    RouteAttribute::Table(t) => Some(*t),
                    _ => None,
                })
                .unwrap_or(r.header.table as u32);
            if table != RouteHeader::RT_TABLE_MAIN as u32 {
                continue;
            }
            let mut info = RouteInfo {
                dst: "default".into(),
                scope: scope_name(r.header.scope),
                proto: proto_name(u8::from(r.header.protocol)),
                v6: r.header.address_family == AddressFamily::Inet6,
                ..Default::default()
            };
            for a in &r.attributes {
                match a {
                    RouteAttribute::Destination(d) => {
                        if let Some(ip) = route_ip(d) {
                            info.dst = Cidr {
                                addr: ip,
                                prefix: r.header.destination_prefix_length,
                            }
                            .to_string();
                        }
                    }
                    RouteAttribute::Gateway(g) => info.via = route_ip(g),
                    RouteAttribute::Oif(i) => info.dev = names.get(i).cloned(),
                    RouteAttribute::PrefSource(p) => info.src = route_ip(p),
                    RouteAttribute::Priority(m) => info.metric = Some(*m),
                    _ => {}
                }
            }
            // Multicast routes (ff00::/8) are not in `ip -6 route`'s main listing.
            if info.dst.starts_with("ff00::") {
                continue;
            }
            out.push(info);
        }
    }
    Ok(out)
}

pub async fn neighbors(h: &Handle) -> Result<Vec<NeighInfo>, rtnetlink::Error> {
    let names = link_names(h).await?;
    let mut out = vec![];
    let mut s = h.neighbours().get().execute();
    while let Some(n) = s.try_next().await? {
        if n.header.state == NeighbourState::Noarp {
            continue;
        }
        let mut info = NeighInfo {
            dev: names.get(&n.header.ifindex).cloned().unwrap_or_default(),
            state: format!("{:?}", n.header.state).to_uppercase(),
            ..Default::default()
        };
        for a in &n.attributes {
            match a {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(v)) => {
                    info.ip = v.to_string()
                }
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(v)) => {
                    info.ip = v.to_string()
                }
                NeighbourAttribute::LinkLayerAddress(b) => info.mac = mac(b),
                _ => {}
            }
        }
        if !info.ip.is_empty() {
            out.push(info);
        }
    }
    Ok(out)
}

/// Listening sockets from /proc/thread-self/net (the caller runs this inside the namespace):
/// (proto, local address, socket inode).
pub fn listening() -> std::io::Result<Vec<(String, String, u64)>> {
    let mut out = vec![];
    for (file, proto, listen_state) in [
        ("tcp", "tcp", "0A"),
        ("tcp6", "tcp", "0A"),
        ("udp", "udp", "07"),
        ("udp6", "udp", "07"),
    ] {
        let text = match fs::read_to_string(format!("/proc/thread-self/net/{file}")) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != listen_state {
                continue;
            }
            let (Some(local), Ok(inode)) = (proc_addr(f[1]), f[9].parse::<u64>()) else {
                continue;
            };
            out.push((proto.to_string(), local, inode));
        }
    }
    Ok(out)
}

/// `0100007F:1F90` → `127.0.0.1:8080`; IPv6 as `[::1]:8080`.
fn proc_addr(s: &str) -> Option<String> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    if a.len() == 8 {
        let v = u32::from_str_radix(a, 16).ok()?;
        // The kernel prints the address as a native-endian (little-endian here) u32.
        Some(format!("{}:{port}", Ipv4Addr::from(v.to_ne_bytes())))
    } else if a.len() == 32 {
        let mut bytes = [0u8; 16];
        for w in 0..4 {
            let v = u32::from_str_radix(&a[w * 8..w * 8 + 8], 16).ok()?;
            bytes[w * 4..w * 4 + 4].copy_from_slice(&v.to_ne_bytes());
        }
        Some(format!("[{}]:{port}", Ipv6Addr::from(bytes)))
    } else {
        None
    }
}

/// Which process holds each socket inode (`ss -p`), by scanning /proc/*/fd.
pub fn owners(inodes: &[u64]) -> HashMap<u64, (u32, String)> {
    let mut out = HashMap::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let t = target.to_string_lossy();
            let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) else {
                continue;
            };
            let Ok(inode) = inode.parse::<u64>() else {
                continue;
            };
            if inodes.contains(&inode) && !out.contains_key(&inode) {
                let comm = fs::read_to_string(p.path().join("comm")).unwrap_or_default();
                out.insert(inode, (pid, comm.trim_end().to_string()));
            }
        }
    }
    out
}

pub fn sockets(list: Vec<(String, String, u64)>) -> Vec<SocketInfo> {
    let inodes: Vec<u64> = list.iter().map(|l| l.2).collect();
    let owners = owners(&inodes);
    list.into_iter()
        .map(|(proto, local, inode)| {
            let o = owners.get(&inode);
            SocketInfo {
                proto,
                local,
                pid: o.map(|o| o.0),
                process: o.map(|o| o.1.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_addresses() {
        assert_eq!(proc_addr("0100007F:1F90").unwrap(), "127.0.0.1:8080");
        assert_eq!(proc_addr("00000000:0050").unwrap(), "0.0.0.0:80");
        assert_eq!(
            proc_addr("00000000000000000000000001000000:0016").unwrap(),
            "[::1]:22"
        );
        assert!(proc_addr("zz").is_none());
    }
}
