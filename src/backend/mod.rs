//! Backends apply `Op`s and answer questions about the network. The script layer talks
//! only to this trait; the kernel backend talks only to the kernel.

pub mod kernel;
pub mod messages;
pub mod model;

use std::net::{IpAddr, SocketAddr};

use crate::error::Result;
use crate::lab::names::Cidr;
use crate::lab::op::{Ns, Op};

/// What the kernel can do, where a script's success depends on it: `plan` must fail
/// where the run would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// The netem qdisc (delay and jitter).
    pub netem: bool,
}

/// Everything, when nobody asked a kernel (the in-process tests, a model of no host).
impl Default for Features {
    fn default() -> Self {
        Features { netem: true }
    }
}

/// What `ip link` shows about one link.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkInfo {
    pub name: String,
    pub index: u32,
    pub kind: crate::lab::link_kind::LinkKind,
    pub up: bool,
    pub mac: String,
    pub mtu: u32,
    pub master: Option<String>,
    /// The name of the other end of a veth, when that end is in the same namespace,
    /// or its name in the namespace its `peer_nsid` names.
    pub peer: Option<String>,
    pub addrs: Vec<Cidr>,
    /// For a veth: the peer's index (in the peer's namespace).
    pub peer_index: Option<u32>,
    /// For a veth: its peer is in another namespace.
    pub peer_elsewhere: bool,
    /// Kind-specific facts worth showing (a VXLAN's VNI and remote).
    pub detail: Option<String>,
    /// For a veth whose peer is elsewhere: the id its namespace has for the peer's.
    pub peer_nsid: Option<i32>,
}

/// A line of `ip addr`.
#[derive(Clone, Debug, PartialEq)]
pub struct AddrInfo {
    pub dev: String,
    pub addr: Cidr,
}

/// A line of `ip route` (main table).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouteInfo {
    /// `default` or a network in CIDR form.
    pub dst: String,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub src: Option<IpAddr>,
    pub scope: String,
    pub proto: String,
    pub metric: Option<u32>,
    pub v6: bool,
}

/// A line of `ip neigh`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NeighInfo {
    pub ip: String,
    pub mac: String,
    pub dev: String,
    pub state: String,
}

/// A listening socket, as `ss -tulnp` shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SocketInfo {
    pub proto: String,
    pub local: String,
    pub pid: Option<u32>,
    pub process: Option<String>,
}

/// A command to run inside a namespace: an argv (no shell) or a `/bin/sh -c` string.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Argv(Vec<String>),
    Shell(String),
}

impl Command {
    pub fn argv(&self) -> Vec<String> {
        match self {
            Command::Argv(v) => v.clone(),
            Command::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecResult {
    pub code: i64,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PingResult {
    pub sent: u32,
    pub received: u32,
    pub rtt_ms: Vec<f64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpResponse {
    pub status: i64,
    pub body: String,
}

/// What moving link `name` from `ns` to `to` and back loses, as the ops that restore it:
/// the move back, then its addresses, master, up state and the routes through it.
pub fn restore_after_move(
    ns: &Ns,
    name: &str,
    to: &Ns,
    l: &LinkInfo,
    routes: &[RouteInfo],
) -> Vec<Op> {
    let mut v = vec![Op::LinkMove {
        ns: to.clone(),
        name: name.into(),
        to: ns.clone(),
    }];
    for a in l
        .addrs
        .iter()
        .filter(|a| !a.to_string().starts_with("fe80:"))
    {
        v.push(Op::AddrAdd {
            ns: ns.clone(),
            dev: name.into(),
            cidr: *a,
            nodad: false,
        });
    }
    if let Some(m) = &l.master {
        v.push(Op::LinkMaster {
            ns: ns.clone(),
            name: name.into(),
            master: Some(m.clone()),
        });
    }
    if l.up {
        v.push(Op::LinkSet {
            ns: ns.clone(),
            name: name.into(),
            up: true,
        });
    }
    for r in routes
        .iter()
        .filter(|r| r.dev.as_deref() == Some(name) && r.proto != "kernel")
    {
        let dst = match r.dst.as_str() {
            "default" => None,
            d => match d.parse() {
                Ok(c) => Some(c),
                Err(_) => continue,
            },
        };
        let route = crate::lab::op::Route {
            dst,
            v6: r.v6,
            via: r.via,
            dev: Some(name.into()),
            metric: r.metric,
        };
        v.push(Op::RouteAdd {
            ns: ns.clone(),
            route,
        });
    }
    v
}

pub trait Backend {
    /// Make the change. On error nothing of this op stays applied.
    fn apply(&mut self, op: &Op) -> Result<()>;
    /// For a state change (`Op::needs_prior_state`), the ops that restore the state as
    /// it is now, read before `op` is applied.
    fn restore_op(&mut self, op: &Op) -> Result<Vec<Op>> {
        Ok(match op {
            // A link's state, MTU or master: the same op with the link's value now.
            Op::LinkSet { ns, name, .. }
            | Op::LinkMtu { ns, name, .. }
            | Op::LinkMaster { ns, name, .. } => {
                let l = self.link(ns, name)?;
                let (ns, name) = (ns.clone(), name.clone());
                vec![match op {
                    Op::LinkSet { .. } => Op::LinkSet { ns, name, up: l.up },
                    Op::LinkMtu { .. } => Op::LinkMtu {
                        ns,
                        name,
                        mtu: l.mtu,
                    },
                    _ => Op::LinkMaster {
                        ns,
                        name,
                        master: l.master,
                    },
                }]
            }
            Op::Sysctl { ns, key, .. } => {
                let value = self.sysctl(ns, key)?;
                vec![Op::Sysctl {
                    ns: ns.clone(),
                    key: key.clone(),
                    value,
                }]
            }
            // A port's lab mode: off again, then IPv6 as the link had it (a link whose
            // IPv6 was already off before the run keeps it off).
            Op::PortLabMode { ns, name, on } => {
                let key = crate::lab::tuning::port_ipv6_key(name);
                let mut undo: Vec<Op> = op.inverse().into_iter().collect();
                match self.sysctl(ns, &key) {
                    Ok(was) if was != u8::from(!*on).to_string() => undo.push(Op::Sysctl {
                        ns: ns.clone(),
                        key,
                        value: was,
                    }),
                    _ => {}
                }
                undo
            }
            // A link that changes namespace loses its addresses, state, master and routes:
            // moving it back must bring them back too.
            Op::LinkMove { ns, name, to } => {
                let l = self.link(ns, name)?;
                let routes = self.routes(ns)?;
                restore_after_move(ns, name, to, &l, &routes)
            }
            other => other.inverse().into_iter().collect(),
        })
    }

    /// Who an object `op` just made is, beyond its name, for undoing exactly it later
    /// (`None`: the backend cannot tell, or `op` made nothing).
    fn identify(&mut self, _op: &Op) -> Option<crate::lab::journal::Ident> {
        None
    }

    fn netns_exists(&mut self, name: &str) -> bool;
    fn netns_list(&mut self) -> Result<Vec<String>>;
    fn netns_inode(&mut self, ns: &Ns) -> Result<u64>;
    fn link(&mut self, ns: &Ns, name: &str) -> Result<LinkInfo>;
    /// Whether `ns` has a link named `name` (or with that altname), as cheaply as the
    /// backend can tell.
    fn link_exists(&mut self, ns: &Ns, name: &str) -> Result<bool> {
        match self.link(ns, name) {
            Ok(_) => Ok(true),
            Err(crate::error::Error::Missing(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
    fn links(&mut self, ns: &Ns) -> Result<Vec<LinkInfo>>;
    /// Just the names of the links in `ns` (REPL completion): what `links` would list,
    /// without looking anything up beyond one dump.
    fn link_names(&mut self, ns: &Ns) -> Result<Vec<String>> {
        Ok(self.links(ns)?.into_iter().map(|l| l.name).collect())
    }
    fn addrs(&mut self, ns: &Ns) -> Result<Vec<AddrInfo>>;
    fn routes(&mut self, ns: &Ns) -> Result<Vec<RouteInfo>>;
    fn neighbors(&mut self, ns: &Ns) -> Result<Vec<NeighInfo>>;
    fn sockets(&mut self, ns: &Ns) -> Result<Vec<SocketInfo>>;
    /// The namespace of a process: the host, a named one, or (unnamed) its /proc path.
    fn netns_of(&mut self, pid: u32) -> Result<Ns>;
    fn sysctl(&mut self, ns: &Ns, key: &str) -> Result<String>;
    /// netscript's nftables rules in `ns`, as `nft list table` prints them.
    fn rules(&mut self, ns: &Ns) -> Result<String>;
    /// What the kernel under this backend can do (asked of the kernel backend; the model
    /// answers what it was told, see `ModelBackend::of_host`).
    fn features(&mut self) -> Features {
        Features::default()
    }
    /// Firewalls in `ns` that are not netscript's and would drop forwarded traffic
    /// (Docker's forward chain); nothing where that cannot be read.
    fn foreign_forward(&mut self, _ns: &Ns) -> crate::lab::foreign::Check {
        crate::lab::foreign::Check::default()
    }
    /// Wait until what was deleted is really gone: a veth end whose peer went with a
    /// deleted namespace disappears a little after the delete returns, and its name is
    /// taken until then.
    fn settle(&mut self);
    /// Before a script deletes namespace `ns`: note the veth ends outside it that will go
    /// with it, for `settle` to wait for.
    fn expect_peers_gone(&mut self, _ns: &Ns) {}
    /// Wait until these links are gone (veth ends whose peer went with a deleted namespace).
    fn wait_gone(&mut self, _links: &[(Ns, String)]) {}

    fn exec(&mut self, ns: &Ns, cmd: &Command) -> Result<ExecResult>;
    /// Run a command on the terminal (stdio inherited), with `env` added, and wait for
    /// it: `ns.shell()`. Returns its exit status (128 + N when killed by signal N).
    fn interactive(&mut self, ns: &Ns, cmd: &Command, env: &[(String, String)]) -> Result<i64>;
    /// Start a background process; returns its pid.
    fn start(&mut self, ns: &Ns, cmd: &Command) -> Result<u32>;
    /// The start time that identifies this process (see `Op::ProcStarted`).
    fn proc_start_time(&mut self, pid: u32) -> u64;
    fn proc_running(&mut self, pid: u32) -> bool;
    fn proc_wait(&mut self, pid: u32) -> Result<i64>;
    /// The tag in the environment of a started process and its descendants ("" if none).
    fn proc_tag(&mut self, _pid: u32) -> String {
        String::new()
    }
    /// Stop a started process and everything of it (its group, session and descendants).
    fn proc_kill(&mut self, pid: u32) -> Result<()>;
    /// At the end of a run: stop what it started and did not detach (`procs`: pid,
    /// detached), what its `exec` calls left running, and whatever else is inside
    /// `namespaces` (made by this run), except detached processes and what is theirs.
    fn stop_run(&mut self, _procs: &[(u32, bool)], _namespaces: &[String]) -> Result<()> {
        Ok(())
    }
    /// Before a lab's namespaces go (rollback, `down`): stop every process it started
    /// (`started`: pid, start time, tag), everything of theirs, and everything inside
    /// `namespaces`.
    fn stop_lab(&mut self, _started: &[(u32, u64, String)], _namespaces: &[String]) -> Result<()> {
        Ok(())
    }

    /// `count` distinct echo requests, each sent once; replies matched by id and sequence.
    fn ping(&mut self, ns: &Ns, dst: IpAddr, count: u32, timeout_ms: u64) -> Result<PingResult>;
    /// Is `dst` reachable: one echo, which the kernel backend re-sends until answered.
    fn reachable(&mut self, ns: &Ns, dst: IpAddr, timeout_ms: u64) -> Result<bool> {
        Ok(self.ping(ns, dst, 1, timeout_ms)?.received > 0)
    }
    fn connect(&mut self, ns: &Ns, dst: SocketAddr, timeout_ms: u64) -> Result<bool>;
    /// A GET with one deadline, `timeout_ms`, for all of it.
    fn http_get(&mut self, ns: &Ns, url: &str, timeout_ms: u64) -> Result<HttpResponse>;
    /// Capture on link `link` of `ns` (see `crate::ui::capture::run`); `each` sees every
    /// matching packet as it comes.
    fn capture(
        &mut self,
        ns: &Ns,
        link: &str,
        opts: &crate::ui::capture::Opts,
        sink: crate::ui::capture::Sink,
        each: &mut (dyn FnMut(&crate::ui::capture::Packet) + Send),
    ) -> Result<Vec<crate::ui::capture::Packet>>;

    /// Where in the script the next changes come from (for a plan's comments).
    fn locate(&mut self, _at: String) {}
    /// A remark for a plan (a step that does not run there, like a probe).
    fn note(&mut self, _line: String) {}
    /// The id namespace `from` has for namespace `of` (what a veth in `from` names its
    /// peer's namespace by), if it has given it one.
    fn nsid(&mut self, _from: &Ns, _of: &Ns) -> Option<i32> {
        None
    }
    /// A pause in a plan (the model backend only).
    fn pause(&mut self, _ms: u64) {}
    /// The plan as a shell script (the model backend only).
    fn plan(&self, _title: &str) -> Option<String> {
        None
    }
}
