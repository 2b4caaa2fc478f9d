//! The kernel floor for the seed's lab: the netlink requests and system calls that building
//! it cannot do without, made one after another from one small program. No interpreter, no
//! journal, no lookups it can avoid. netscript's build time is compared with this.
//!
//!   floor up N      bridge br0 10.100.0.1/24 (/16 above 250), containers c1..cN at the next
//!                   addresses, ip_forward=1, masquerade for the subnet (`oifname != "br0"`)
//!   floor up N tuned  the same with netscript's creation flags (src/lab/tuning.rs): one
//!                   TX/RX queue per veth end, br0 without multicast snooping
//!   floor up N lab  tuned, and lab mode (`--lab-mode`): each host-side port without IPv6
//!                   (its disable_ipv6 written before it is up) and with mcast_flood off
//!   floor down N    unmount and remove the namespaces, delete br0, delete the nft table
//!
//! It makes what `bench/seed.sh` and `scripts/build-lab.rhai` make, with the techniques
//! netscript's kernel backend uses (src/backend/kernel/{netns,netlink}.rs):
//! - a named namespace is a file under /run/netns with the namespace bind-mounted on it,
//!   as `ip netns add` makes it: the calling thread unshare()s, mounts, opens a netlink
//!   socket there and setns()es back (no thread per namespace);
//! - each veth is created with its peer directly inside the container's namespace;
//! - requests inside a namespace go over a netlink socket opened by that thread.
//!
//! Requests per container: create the veth (1), master + up on the host end (1), then in
//! the namespace lo up, veth up, address, default route (4). (A veth cannot be created up:
//! its first end opens before the kernel has linked the peer, ENOTCONN.) Per lab: bridge,
//! its index, its address, up; ip_forward; one `nft -j -f -` transaction (netscript's way
//! to nftables too).
//!
//! Run it only inside a sandbox (`unshare --net --mount`): it changes the namespace it
//! runs in. `bench/one.sh floor N` does that.

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;

use futures::TryStreamExt;
use nftables::expr::{Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, Prefix};
use nftables::schema::{self, NfCmd, NfListObject, Nftables};
use nftables::stmt::{Match, Operator, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use rtnetlink::packet_route::link::{
    InfoBridge, InfoBridgePort, InfoData, InfoVeth, LinkAttribute,
};
use rtnetlink::packet_route::route::RouteProtocol;
use rtnetlink::sys::TokioSocket;
use rtnetlink::{Handle, LinkBridge, LinkBridgePort, LinkUnspec, LinkVeth, RouteMessageBuilder};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const NETNS_DIR: &str = "/run/netns";
const BRIDGE: &str = "br0";
const TABLE: &str = "netscript-bench";
/// In a namespace made a moment ago, lo is index 1 and the first link created in it is
/// index 2 (ifindexes are per namespace): the veth peer, made there directly.
const LO: u32 = 1;
const PEER: u32 = 2;

/// The seed lab's layout for N containers, exactly as scripts/build-lab.rhai computes it.
struct Lab {
    n: u32,
    prefix: u8,
}

impl Lab {
    fn new(n: u32) -> Lab {
        Lab {
            n,
            prefix: if n > 250 { 16 } else { 24 },
        }
    }
    fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 100, 0, 1)
    }
    /// Container K is the (K+1)-th address of the network.
    fn addr(&self, k: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 100, 0, 0)) + k + 1)
    }
}

fn ns_path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(name)
}

/// A netlink route socket in the calling thread's namespace; it stays bound there.
fn netlink_socket() -> io::Result<OwnedFd> {
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An rtnetlink connection over `sock`, driven by a task on `rt`.
fn connect(rt: &Runtime, sock: OwnedFd) -> (Handle, JoinHandle<()>) {
    let _guard = rt.enter();
    // SAFETY: a fresh netlink socket we own.
    let sock = unsafe { TokioSocket::from_raw_fd(sock.into_raw_fd()) };
    let (conn, handle, _) = rtnetlink::from_socket(sock);
    (handle, rt.spawn(conn))
}

/// Once, as `ip netns add` does: /run/netns a shared mount point.
fn prepare_dir() -> io::Result<()> {
    fs::create_dir_all(NETNS_DIR)?;
    let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
    if mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>).is_err() {
        mount(
            Some(NETNS_DIR),
            NETNS_DIR,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )?;
        mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>)?;
    }
    Ok(())
}

/// `ip netns add NAME`: returns the namespace's file and a netlink socket inside it.
fn netns_add(name: &str) -> Result<(File, OwnedFd)> {
    let p = ns_path(name);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)
        .map_err(|e| format!("namespace {name}: {e}"))?;
    let own = "/proc/thread-self/ns/net";
    let made = File::open(own).and_then(|home| {
        unshare(CloneFlags::CLONE_NEWNET)?;
        let inside = (|| -> io::Result<(File, OwnedFd)> {
            mount(Some(own), &p, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
            Ok((File::open(own)?, netlink_socket()?))
        })();
        nix::sched::setns(home, CloneFlags::CLONE_NEWNET).expect("back to the host namespace");
        inside
    });
    Ok(made.map_err(|e| format!("creating namespace {name}: {e}"))?)
}

/// `ip netns del NAME`.
fn netns_del(name: &str) -> Result<()> {
    let p = ns_path(name);
    umount2(&p, MntFlags::MNT_DETACH).map_err(|e| format!("unmounting namespace {name}: {e}"))?;
    fs::remove_file(&p).map_err(|e| format!("removing namespace {name}: {e}"))?;
    Ok(())
}

fn ctx(what: impl Fn() -> String) -> impl FnOnce(rtnetlink::Error) -> Box<dyn std::error::Error> {
    move |e| format!("{}: {e}", what()).into()
}

/// nft's JSON for the masquerade: table inet netscript-bench, chain postrouting (nat,
/// srcnat), `ip saddr SUBNET oifname != "br0" masquerade`.
fn masquerade(lab: &Lab) -> Nftables<'static> {
    let table = schema::Table {
        family: NfFamily::INet,
        name: TABLE.into(),
        handle: None,
    };
    let chain = schema::Chain {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: "postrouting".into(),
        _type: Some(NfChainType::NAT),
        hook: Some(NfHook::Postrouting),
        prio: Some(100),
        policy: Some(NfChainPolicy::Accept),
        ..Default::default()
    };
    let saddr = Statement::Match(Match {
        left: Expression::Named(NamedExpression::Payload(Payload::PayloadField(
            PayloadField {
                protocol: "ip".into(),
                field: "saddr".into(),
            },
        ))),
        right: Expression::Named(NamedExpression::Prefix(Prefix {
            addr: Box::new(Expression::String("10.100.0.0".into())),
            len: lab.prefix as u32,
        })),
        op: Operator::EQ,
    });
    let oif = Statement::Match(Match {
        left: Expression::Named(NamedExpression::Meta(Meta {
            key: MetaKey::Oifname,
        })),
        right: Expression::String(BRIDGE.into()),
        op: Operator::NEQ,
    });
    let rule = schema::Rule {
        family: NfFamily::INet,
        table: TABLE.into(),
        chain: "postrouting".into(),
        expr: Cow::Owned(vec![saddr, oif, Statement::Masquerade(None)]),
        ..Default::default()
    };
    let cmds = vec![
        NfCmd::Add(NfListObject::Table(table)),
        NfCmd::Add(NfListObject::Chain(chain)),
        NfCmd::Add(NfListObject::Rule(rule)),
    ];
    Nftables {
        objects: Cow::Owned(cmds.into_iter().map(schema::NfObject::CmdObject).collect()),
    }
}

/// How the links are made: as plain `ip` makes them, with netscript's creation flags, or
/// with those and lab mode.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Plain,
    Tuned,
    Lab,
}

fn up(rt: &Runtime, lab: &Lab, mode: Mode) -> Result<()> {
    let tuned = mode != Mode::Plain;
    let queues = |m: &mut rtnetlink::packet_route::link::LinkMessage| {
        if tuned {
            m.attributes
                .extend([LinkAttribute::NumTxQueues(1), LinkAttribute::NumRxQueues(1)]);
        }
    };
    prepare_dir().map_err(|e| format!("preparing {NETNS_DIR}: {e}"))?;
    let (host, host_task) = connect(rt, netlink_socket()?);
    let gw = lab.gateway();
    rt.block_on(async {
        // ip link add br0 type bridge; ip addr add GW/P dev br0; ip link set br0 up
        let mut bridge = LinkBridge::new(BRIDGE);
        if tuned {
            bridge = bridge.append_info_data(InfoBridge::MulticastSnooping(false));
        }
        host.link()
            .add(bridge.build())
            .execute()
            .await
            .map_err(ctx(|| "bridge br0".into()))?;
        let br = host
            .link()
            .get()
            .match_name(BRIDGE)
            .execute()
            .try_next()
            .await
            .map_err(ctx(|| "bridge br0".into()))?
            .ok_or("bridge br0 vanished")?
            .header
            .index;
        host.address()
            .add(br, gw.into(), lab.prefix)
            .execute()
            .await
            .map_err(ctx(|| "address of br0".into()))?;
        host.link()
            .set(LinkUnspec::new_with_index(br).up().build())
            .execute()
            .await
            .map_err(ctx(|| "br0 up".into()))?;

        for k in 1..=lab.n {
            let name = format!("c{k}");
            let (ns, sock) = netns_add(&name)?;
            // ip link add veth-cK-br type veth peer name veth-cK netns cK
            let (host_end, peer) = (format!("veth-c{k}-br"), format!("veth-c{k}"));
            let mut peer_msg = LinkUnspec::new_with_name(&peer)
                .setns_by_fd(ns.as_raw_fd())
                .build();
            queues(&mut peer_msg);
            let mut veth = LinkVeth::new(&host_end, &peer)
                .set_info_data(InfoData::Veth(InfoVeth::Peer(peer_msg)))
                .build();
            queues(&mut veth);
            host.link()
                .add(veth)
                .execute()
                .await
                .map_err(ctx(|| format!("veth {host_end}")))?;
            if mode == Mode::Lab {
                // Before the port is up, so it never starts IPv6.
                fs::write(
                    format!("/proc/sys/net/ipv6/conf/{host_end}/disable_ipv6"),
                    "1",
                )
                .map_err(|e| format!("{host_end} disable_ipv6: {e}"))?;
            }
            // ip link set veth-cK-br master br0 up (one request: the kernel does both)
            let set = LinkUnspec::new_with_name(&host_end)
                .controller(br)
                .up()
                .build();
            host.link()
                .set(set)
                .execute()
                .await
                .map_err(ctx(|| format!("{host_end} master br0 up")))?;
            if mode == Mode::Lab {
                // ip link set veth-cK-br type bridge_slave mcast_flood off
                let port = LinkBridgePort::new(0)
                    .append_info_data(InfoBridgePort::MulticastFlood(false))
                    .build();
                let mut port = port;
                port.attributes
                    .push(LinkAttribute::IfName(host_end.clone()));
                host.link()
                    .set_port(port)
                    .execute()
                    .await
                    .map_err(ctx(|| format!("{host_end} mcast_flood off")))?;
            }

            // Inside cK, over the socket opened there.
            let (h, task) = connect(rt, sock);
            let what = |s: &str| format!("{s} in {name}");
            h.link()
                .set(LinkUnspec::new_with_index(LO).up().build())
                .execute()
                .await
                .map_err(ctx(|| what("lo up")))?;
            h.link()
                .set(LinkUnspec::new_with_index(PEER).up().build())
                .execute()
                .await
                .map_err(ctx(|| what("veth up")))?;
            h.address()
                .add(PEER, lab.addr(k).into(), lab.prefix)
                .execute()
                .await
                .map_err(ctx(|| what("address")))?;
            let route = RouteMessageBuilder::<Ipv4Addr>::new()
                .gateway(gw)
                .protocol(RouteProtocol::Boot)
                .build();
            h.route()
                .add(route)
                .execute()
                .await
                .map_err(ctx(|| what("default route")))?;
            task.abort();
            drop(ns);
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    host_task.abort();

    fs::write("/proc/sys/net/ipv4/ip_forward", "1").map_err(|e| format!("ip_forward: {e}"))?;
    nftables::helper::apply_ruleset(&masquerade(lab)).map_err(|e| format!("nft: {e}"))?;
    Ok(())
}

fn down(rt: &Runtime, lab: &Lab) -> Result<()> {
    for k in 1..=lab.n {
        netns_del(&format!("c{k}"))?;
    }
    let (host, task) = connect(rt, netlink_socket()?);
    rt.block_on(
        host.link()
            .del_with_message(LinkUnspec::new_with_name(BRIDGE).build())
            .execute(),
    )
    .map_err(ctx(|| "deleting br0".into()))?;
    task.abort();
    let table = schema::Table {
        family: NfFamily::INet,
        name: TABLE.into(),
        handle: None,
    };
    let del = Nftables {
        objects: Cow::Owned(vec![schema::NfObject::CmdObject(NfCmd::Delete(
            NfListObject::Table(table),
        ))]),
    };
    nftables::helper::apply_ruleset(&del).map_err(|e| format!("nft: {e}"))?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&String> = args.iter().collect();
    let mode = match args.as_slice() {
        [up, _, m] if *up == "up" && *m == "tuned" => Mode::Tuned,
        [up, _, m] if *up == "up" && *m == "lab" => Mode::Lab,
        _ => Mode::Plain,
    };
    let args = if mode != Mode::Plain {
        &args[..2]
    } else {
        &args[..]
    };
    let (cmd, n) = match args {
        [c, n] if *c == "up" || *c == "down" => match n.parse::<u32>() {
            Ok(n) if (1..=65000).contains(&n) => (c.to_string(), n),
            _ => {
                eprintln!("floor: N must be a number between 1 and 65000, not {n:?}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!(
                "usage: floor up N [tuned|lab] | floor down N   (inside a sandbox: unshare --net --mount)"
            );
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("floor: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lab = Lab::new(n);
    let r = if cmd == "up" {
        up(&rt, &lab, mode)
    } else {
        down(&rt, &lab)
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor {cmd} {n}: {e}");
            ExitCode::FAILURE
        }
    }
}
