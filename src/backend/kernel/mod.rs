//! The kernel backend: applies `Op`s with rtnetlink and nix, runs commands and probes
//! inside namespaces. Async stays in here: a current-thread runtime, `block_on` at the
//! boundary.

mod apply;
mod family;
pub mod features;
pub mod inspect;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod probe;
pub mod process;
mod strays;
pub mod sysctl;
pub mod tc;
pub mod tun;

use std::collections::HashMap;
use std::fs::File;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::backend::{
    AddrInfo, Backend, Command, ExecResult, Features, HttpResponse, LinkInfo, NeighInfo,
    PingResult, RouteInfo, SocketInfo,
};
use crate::error::{Error, Result};
use crate::lab::op::{link_label, ns_label, Ns, Op};
use netlink::Conn;

/// One namespace netscript has opened: its file (kept open so the fd stays valid for
/// `setns` and IFLA_NET_NS_FD) and its netlink connection.
struct Space {
    file: File,
    conn: Conn,
    /// Made by this run, so its name is known to point at it (unless this run deletes it).
    made_here: bool,
    /// When it was last used (see `KernelBackend::evict`).
    used: u64,
}

/// How many namespaces keep an open netlink connection: a lab of a thousand containers
/// uses each namespace in a burst, so a few suffice; each kept connection holds its
/// buffers (~25 kB: 128 of them were 3.4 MB of a build's peak memory at N = 1000).
const OPEN_SPACES: usize = 16;

pub struct KernelBackend {
    rt: Runtime,
    spaces: HashMap<Ns, Space>,
    children: HashMap<u32, Child>,
    /// Exit statuses of started processes already reaped, for `wait` to answer again.
    exited: HashMap<u32, i64>,
    /// What exec'd commands left running (see `strays`).
    strays: strays::Strays,
    /// Started processes: pid, start time and tag (see `family`).
    started: HashMap<u32, family::Root>,
    /// This run's tags begin with this (`family::TAG_VAR`); `tags` counts them.
    run_tag: String,
    tags: u64,
    /// Host-side veth ends that go away once deleted namespaces are cleaned up.
    pending: Vec<String>,
    /// Links set up that the kernel may not have activated yet (see `await_activation`).
    upped: Vec<(Ns, String)>,
    /// The ends of the veths this backend made, each naming the other, and the links it
    /// set up: a veth end set up after its peer is active at once.
    veth_peers: HashMap<(Ns, String), (Ns, String)>,
    up_here: std::collections::HashSet<(Ns, String)>,
    /// Link indexes this backend knows without asking: bridges links were attached to (a
    /// lab attaches many ports to one), veths it created (the kernel echoes the new link).
    /// A stale entry (a link replaced behind our back) is retried with a lookup.
    indexes: HashMap<(Ns, String), u32>,
    /// A clock for `Space::used`.
    tick: u64,
    /// What `foreign_forward` found in each namespace.
    foreign_checked: HashMap<Ns, crate::lab::foreign::Check>,
    /// Namespaces given an IPv6 address since the last IPv6 probe (see `await_dad`).
    dad_pending: std::collections::HashSet<Ns>,
    /// Where started processes write their output (`lab::output`); `None`: nowhere.
    output: Option<std::path::PathBuf>,
}

fn nl_err(what: impl Into<String>, e: rtnetlink::Error) -> Error {
    match netlink::errno(&e) {
        Some(n) => Error::from_errno(what, n),
        None => Error::Netlink {
            what: what.into(),
            source: e,
        },
    }
}

impl KernelBackend {
    pub fn new() -> Result<KernelBackend> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::os("starting the netlink runtime", e))?;
        strays::become_subreaper();
        let file = File::open("/proc/thread-self/ns/net")
            .map_err(|e| Error::os("the host namespace", e))?;
        let sock = netns::netlink_socket().map_err(|e| Error::os("opening a netlink socket", e))?;
        let conn = Conn::new(&rt, sock).map_err(|e| Error::os("opening a netlink socket", e))?;
        let mut spaces = HashMap::new();
        spaces.insert(
            None,
            Space {
                file,
                conn,
                made_here: true,
                used: 0,
            },
        );
        Ok(KernelBackend {
            rt,
            spaces,
            children: HashMap::new(),
            exited: HashMap::new(),
            strays: Default::default(),
            started: HashMap::new(),
            run_tag: format!(
                "{}.{}.",
                std::process::id(),
                process::start_time(std::process::id()).unwrap_or(0)
            ),
            tags: 0,
            pending: vec![],
            upped: vec![],
            veth_peers: HashMap::new(),
            up_here: Default::default(),
            indexes: HashMap::new(),
            tick: 0,
            dad_pending: Default::default(),
            output: None,
            foreign_checked: HashMap::new(),
        })
    }

    /// The namespace's entry, opened on first use. A named namespace is checked to still
    /// be what its name points at (`ip netns del` may have removed it meanwhile).
    fn space(&mut self, ns: &Ns) -> Result<&Space> {
        if let (Some(name), Some(s)) = (ns, self.spaces.get(ns).filter(|s| !s.made_here)) {
            use std::os::unix::fs::MetadataExt;
            let same = std::fs::metadata(netns::path(name)).ok().map(|m| m.ino())
                == netns::inode(&s.file).ok();
            if !same {
                self.forget(ns);
            }
        }
        if !self.spaces.contains_key(ns) {
            let name = ns.as_deref().expect("the host namespace is always open");
            let file = netns::open(name)?;
            let sock = netns::socket_in(&file).map_err(|e| match e.raw_os_error() {
                // An empty file: its mount is in another mount namespace.
                Some(libc::EINVAL) => Error::Other(format!(
                    "{}: {} is not a namespace here (was it made inside another mount namespace?)",
                    ns_label(ns),
                    netns::path(name).display()
                )),
                _ => Error::os(ns_label(ns), e),
            })?;
            let conn = Conn::new(&self.rt, sock).map_err(|e| Error::os(ns_label(ns), e))?;
            self.insert(
                ns.clone(),
                Space {
                    file,
                    conn,
                    made_here: false,
                    used: 0,
                },
            );
        }
        self.tick += 1;
        let s = self.spaces.get_mut(ns).expect("inserted above");
        s.used = self.tick;
        Ok(s)
    }

    /// Keep a namespace open, closing the least recently used one beyond `OPEN_SPACES`.
    fn insert(&mut self, ns: Ns, space: Space) {
        if self.spaces.len() > OPEN_SPACES {
            let oldest = self
                .spaces
                .iter()
                .filter(|(k, _)| k.is_some())
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.forget(&k);
            }
        }
        self.spaces.insert(ns, space);
    }

    /// Run one netlink request to completion; its failure is about `what`.
    fn nl<T>(
        &self,
        what: impl Into<String>,
        request: impl std::future::Future<Output = std::result::Result<T, rtnetlink::Error>>,
    ) -> Result<T> {
        self.rt.block_on(request).map_err(|e| nl_err(what, e))
    }

    fn handle(&mut self, ns: &Ns) -> Result<rtnetlink::Handle> {
        Ok(self.space(ns)?.conn.handle.clone())
    }

    fn forget(&mut self, ns: &Ns) {
        if let Some(s) = self.spaces.remove(ns) {
            s.conn.close(&self.rt);
        }
    }

    /// Run `f` inside `ns`: directly for the host namespace, otherwise on a thread that
    /// has entered it.
    fn within<T: Send>(&mut self, ns: &Ns, f: impl FnOnce() -> T + Send) -> Result<T> {
        if ns.is_none() {
            return Ok(f());
        }
        let space = self.space(ns)?;
        netns::in_netns(space.file.as_fd(), f)
            .map_err(|e| Error::os(format!("entering {}", ns_label(ns)), e))
    }

    fn index(&mut self, ns: &Ns, name: &str) -> Result<u32> {
        let h = self.handle(ns)?;
        self.nl(link_label(ns, name), netlink::index_of(&h, name))?
            .ok_or_else(|| Error::Missing(link_label(ns, name)))
    }

    /// Run `f` with the index of link `name` in `ns`: a known one first, then (if that
    /// fails) a looked-up one, which is remembered when `f` succeeds with it.
    fn with_index<T>(
        &mut self,
        ns: &Ns,
        name: &str,
        mut f: impl FnMut(&mut Self, u32) -> Result<T>,
    ) -> Result<T> {
        let key = (ns.clone(), name.to_string());
        if let Some(&idx) = self.indexes.get(&key) {
            if let Ok(v) = f(self, idx) {
                return Ok(v);
            }
            self.indexes.remove(&key);
        }
        let idx = self.index(ns, name)?;
        let v = f(self, idx)?;
        self.indexes.insert(key, idx);
        Ok(v)
    }

    fn set_link(
        &mut self,
        ns: &Ns,
        name: &str,
        f: impl FnOnce(
            rtnetlink::LinkMessageBuilder<rtnetlink::LinkUnspec>,
        ) -> rtnetlink::LinkMessageBuilder<rtnetlink::LinkUnspec>,
    ) -> Result<()> {
        let h = self.handle(ns)?;
        let msg = f(netlink::by_name(name)).build();
        self.nl(link_label(ns, name), netlink::set(&h, msg))
    }

    fn ns_fd(&mut self, ns: &Ns) -> Result<i32> {
        Ok(self.space(ns)?.file.as_raw_fd())
    }

    /// Name the veth peers in other namespaces (`peer_elsewhere`) of links read in `ns`:
    /// each by its index in the namespace its id names, asked from `ns` itself, so the cost
    /// grows with the number of such veths, not with the number of namespaces.
    fn name_peers(&mut self, ns: &Ns, links: &mut [LinkInfo]) {
        let wanted: Vec<(u32, u32, i32)> = links
            .iter()
            .filter(|l| l.peer_elsewhere)
            .filter_map(|l| Some((l.index, l.peer_index?, l.peer_nsid?)))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let Ok(h) = self.handle(ns) else { return };
        let Ok(mut names) = self.rt.block_on(netlink::peer_names(&h, &wanted)) else {
            return;
        };
        for l in links.iter_mut().filter(|l| l.peer_elsewhere) {
            l.peer = names.remove(&l.index);
        }
    }

    /// Before a probe: wait (up to 5 s) until the links set up since the last probe are
    /// active. The end of a veth that came up first is activated by the kernel's linkwatch
    /// a moment after its peer comes up, and drops what it sends until then; when that
    /// is an ARP request, the next one goes out only a second later, past a probe's timeout.
    /// On a loaded machine (rtnl contended) that moment can be long.
    fn await_activation(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for (ns, name) in std::mem::take(&mut self.upped) {
            let Ok(h) = self.handle(&ns) else { continue };
            while Instant::now() < deadline {
                match self.rt.block_on(netlink::activated(&h, &name)) {
                    Ok(false) => std::thread::sleep(Duration::from_millis(2)),
                    _ => break,
                }
            }
        }
    }

    /// Before a probe from `ns` to `dst`: links set up are active (`await_activation`)
    /// and, for IPv6, addresses are past duplicate address detection (`await_dad`).
    fn before_probe(&mut self, ns: &Ns, dst: IpAddr, timeout: Duration) -> Result<()> {
        if dst.is_ipv6() {
            // A link that comes up starts DAD for the addresses it already has.
            let upped: Vec<Ns> = self.upped.iter().map(|(n, _)| n.clone()).collect();
            self.dad_pending.extend(upped);
            self.dad_pending.insert(ns.clone());
        }
        self.await_activation();
        if dst.is_ipv6() {
            self.await_dad(timeout)?;
        }
        Ok(())
    }

    /// Wait until no IPv6 address in the namespaces given one since the last IPv6 probe
    /// (and the one probing from) is tentative. A tentative address cannot be a source
    /// nor answer neighbour solicitations: a probe right after `addr()` would fail for
    /// the 1-2 s DAD takes by default (a random delay of up to
    /// router_solicitation_delay, 1 s, then retrans_time, 1 s, for one solicitation).
    /// Bounded by the probe's timeout, but at least 3 s, which covers that default.
    fn await_dad(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout.max(Duration::from_secs(3));
        for ns in std::mem::take(&mut self.dad_pending) {
            let Ok(h) = self.handle(&ns) else { continue };
            loop {
                if crate::signals::interrupted() {
                    return Err(Error::Other(crate::lang::INTERRUPTED.into()));
                }
                match self.rt.block_on(netlink::tentative_addrs(&h)) {
                    Ok(n) if n > 0 && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// Host-side veth ends whose peer is inside `ns` (they go when `ns` goes).
    fn host_peers(&mut self, ns: &Ns) -> Result<Vec<String>> {
        let h = self.handle(ns)?;
        let host = self.handle(&None)?;
        self.nl(ns_label(ns), netlink::peers_in(&h, &host))
    }

    /// Keep what started processes print, in `dir` (see `lab::output`).
    pub fn keep_output(&mut self, dir: std::path::PathBuf) {
        self.output = Some(dir);
    }

    /// A new tag for a process about to be started or exec'd (see `family`).
    fn new_tag(&mut self, kind: &str) -> String {
        self.tags += 1;
        format!("{}{kind}{}", self.run_tag, self.tags)
    }

    /// Stop what `sel` selects (see `family::stop`), keeping the exit statuses of started
    /// processes that end, for `wait`.
    fn stop_family(&mut self, sel: family::Select) -> Result<()> {
        let (children, exited) = (&mut self.children, &mut self.exited);
        family::stop(&sel, || {
            children.retain(|pid, c| match c.try_wait() {
                Ok(Some(st)) => {
                    exited.insert(*pid, process::status_code(st));
                    false
                }
                _ => true,
            });
            strays::reap_adopted(&children.keys().copied().collect());
        })
        .map_err(|left| {
            Error::Other(format!(
                "processes still running after SIGKILL: {}",
                left.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// A started process as `family` knows it (pid, start time, tag).
    fn root(&self, pid: u32) -> Option<family::Root> {
        self.started.get(&pid).cloned().or_else(|| {
            Some(family::Root {
                pid,
                start: process::start_time(pid)?,
                tag: String::new(),
            })
        })
    }

    /// Network namespaces by name, as `family` compares them; those gone are left out.
    fn ns_ids(namespaces: &[String]) -> Vec<family::NsId> {
        namespaces
            .iter()
            .filter_map(|n| family::ns_id(&netns::path(n).to_string_lossy()))
            .collect()
    }
}

impl Backend for KernelBackend {
    fn apply(&mut self, op: &Op) -> Result<()> {
        #[cfg(debug_assertions)]
        crate::fault::maybe_fail(op)?;
        self.apply_op(op)
    }

    fn netns_exists(&mut self, name: &str) -> bool {
        netns::path(name).exists()
    }

    fn netns_list(&mut self) -> Result<Vec<String>> {
        netns::list()
    }

    fn netns_inode(&mut self, ns: &Ns) -> Result<u64> {
        let s = self.space(ns)?;
        netns::inode(&s.file).map_err(|e| Error::os(ns_label(ns), e))
    }

    fn link(&mut self, ns: &Ns, name: &str) -> Result<LinkInfo> {
        let h = self.handle(ns)?;
        let mut l = self
            .nl(link_label(ns, name), async {
                match netlink::get_link(&h, name).await? {
                    Some(m) => Ok(Some(netlink::link_info(&h, &m).await?)),
                    None => Ok(None),
                }
            })?
            .ok_or_else(|| Error::Missing(link_label(ns, name)))?;
        self.name_peers(ns, std::slice::from_mut(&mut l));
        Ok(l)
    }

    fn identify(&mut self, op: &Op) -> Option<crate::lab::journal::Ident> {
        use crate::lab::journal::Ident;
        let (ns, name) = match op {
            Op::NetnsAdd { name, .. } => {
                let (dev, ino) = netns::file_id(name)?;
                return Some(Ident::Netns { dev, ino });
            }
            op => op.creates_link()?,
        };
        // A veth's index came back with its creation; a bridge's is looked up once and
        // kept (the ports attached to it next need it too).
        let key = (ns.clone(), name.to_string());
        let index = match self.indexes.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.index(ns, name).ok()?;
                self.indexes.insert(key, i);
                i
            }
        };
        let netns = match ns {
            Some(n) => netns::file_id(n),
            None => None,
        };
        Some(Ident::Link { index, netns })
    }

    fn link_exists(&mut self, ns: &Ns, name: &str) -> Result<bool> {
        let h = self.handle(ns)?;
        self.nl(link_label(ns, name), netlink::get_link(&h, name))
            .map(|m| m.is_some())
    }

    fn links(&mut self, ns: &Ns) -> Result<Vec<LinkInfo>> {
        let h = self.handle(ns)?;
        let mut links = self.nl(ns_label(ns), inspect::links(&h))?;
        self.name_peers(ns, &mut links);
        Ok(links)
    }

    fn link_names(&mut self, ns: &Ns) -> Result<Vec<String>> {
        let h = self.handle(ns)?;
        self.rt
            .block_on(inspect::link_names(&h))
            .map(|m| m.into_values().collect())
            .map_err(|e| nl_err(ns_label(ns), e))
    }

    fn nsid(&mut self, from: &Ns, of: &Ns) -> Option<i32> {
        let fd = self.ns_fd(of).ok()?;
        let h = self.handle(from).ok()?;
        self.rt.block_on(netlink::nsid_of(&h, fd))
    }

    fn addrs(&mut self, ns: &Ns) -> Result<Vec<AddrInfo>> {
        let h = self.handle(ns)?;
        self.nl(ns_label(ns), inspect::addrs(&h))
    }

    fn routes(&mut self, ns: &Ns) -> Result<Vec<RouteInfo>> {
        let h = self.handle(ns)?;
        self.nl(ns_label(ns), inspect::routes(&h))
    }

    fn neighbors(&mut self, ns: &Ns) -> Result<Vec<NeighInfo>> {
        let h = self.handle(ns)?;
        self.nl(ns_label(ns), inspect::neighbors(&h))
    }

    fn sockets(&mut self, ns: &Ns) -> Result<Vec<SocketInfo>> {
        let list = self
            .within(ns, inspect::listening)?
            .map_err(|e| Error::os(format!("sockets in {}", ns_label(ns)), e))?;
        Ok(inspect::sockets(list))
    }

    fn netns_of(&mut self, pid: u32) -> Result<Ns> {
        let path = format!("/proc/{pid}/ns/net");
        let f = File::open(&path).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => Error::Missing(format!("process {pid}")),
            _ => Error::os(format!("the namespace of process {pid}"), e),
        })?;
        let inode = netns::inode(&f).map_err(|e| Error::os(path.clone(), e))?;
        if self.netns_inode(&None)? == inode {
            return Ok(None);
        }
        for name in netns::list()? {
            if let Ok(f) = netns::open(&name) {
                if netns::inode(&f).ok() == Some(inode) {
                    return Ok(Some(name));
                }
            }
        }
        Ok(Some(path))
    }

    fn sysctl(&mut self, ns: &Ns, key: &str) -> Result<String> {
        let k = key.to_string();
        self.within(ns, move || sysctl::read(&k))?
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => Error::Missing(format!("sysctl {key} in {}", ns_label(ns))),
                _ => Error::os(format!("sysctl {key} in {}", ns_label(ns)), e),
            })
    }

    fn rules(&mut self, ns: &Ns) -> Result<String> {
        self.within(ns, nft::text)?
    }

    fn features(&mut self) -> Features {
        features::probe()
    }

    fn foreign_forward(&mut self, ns: &Ns) -> crate::lab::foreign::Check {
        // Once per namespace and run: it costs an `nft` process, and a lab asks on its
        // bridge and again when it turns forwarding on.
        if let Some(c) = self.foreign_checked.get(ns) {
            return c.clone();
        }
        let c = self.within(ns, nft::foreign_check).unwrap_or_default();
        self.foreign_checked.insert(ns.clone(), c.clone());
        c
    }

    fn expect_peers_gone(&mut self, ns: &Ns) {
        let peers = self.host_peers(ns).unwrap_or_default();
        self.pending.extend(peers);
    }

    fn wait_gone(&mut self, links: &[(Ns, String)]) {
        self.pending.extend(
            links
                .iter()
                .filter(|(ns, _)| ns.is_none())
                .map(|(_, n)| n.clone()),
        );
        self.settle();
    }

    fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let Ok(h) = self.handle(&None) else { return };
        let deadline = Instant::now() + Duration::from_secs(5);
        for name in std::mem::take(&mut self.pending) {
            while Instant::now() < deadline {
                match self.rt.block_on(netlink::get_link(&h, &name)) {
                    Ok(Some(_)) => std::thread::sleep(Duration::from_millis(1)),
                    _ => break,
                }
            }
        }
    }

    fn exec(&mut self, ns: &Ns, cmd: &Command) -> Result<ExecResult> {
        let mut c = match ns {
            None => process::command(cmd, None),
            Some(name) => process::command(cmd, Some((name, &self.space(ns)?.file))),
        };
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A process group of its own: what it leaves running is found (and stopped at
        // the end of the run) by its group; an interrupt stops the whole group.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let tag = self.new_tag("x");
        c.env(family::TAG_VAR, &tag);
        let prog = cmd.argv()[0].clone();
        let what = || format!("running {prog:?} in {}", ns_label(ns));
        let mut child = c.spawn().map_err(|e| Error::os(what(), e))?;
        let pid = child.id();
        let start = process::start_time(pid).unwrap_or(0);
        let collected = process::collect(&mut child);
        if !matches!(collected, Ok(Some(_))) {
            // Interrupted (or an I/O error): stop the command before giving up on it.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.wait();
        }
        self.strays.note(family::Root { pid, start, tag });
        match collected {
            Ok(Some(out)) => Ok(ExecResult {
                code: process::status_code(out.status),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }),
            Ok(None) => Err(Error::Other(crate::lang::INTERRUPTED.into())),
            Err(e) => Err(Error::os(what(), e)),
        }
    }

    fn interactive(&mut self, ns: &Ns, cmd: &Command, env: &[(String, String)]) -> Result<i64> {
        let prog = cmd.argv()[0].clone();
        let what = format!("running {prog:?} in {}", ns_label(ns));
        let r = match ns {
            None => process::interactive(cmd, None, env),
            Some(name) => process::interactive(cmd, Some((name, &self.space(ns)?.file)), env),
        };
        r.map_err(|e| Error::os(what, e))
    }

    fn start(&mut self, ns: &Ns, cmd: &Command) -> Result<u32> {
        let mut c = match ns {
            None => process::command(cmd, None),
            Some(name) => process::command(cmd, Some((name, &self.space(ns)?.file))),
        };
        // A mark its descendants inherit, whatever they do to leave its group.
        let tag = self.new_tag("");
        let prog = cmd.argv()[0].clone();
        let what = || format!("starting {prog:?} in {}", ns_label(ns));
        // Its output goes to files of its own (see `lab::output`).
        c.stdin(Stdio::null());
        match &self.output {
            Some(dir) => {
                let (out, err) = crate::lab::output::create(dir, &tag)
                    .map_err(|e| Error::os(format!("{}: {}", what(), dir.display()), e))?;
                c.stdout(out).stderr(err);
                // Python buffers what it prints to a file in blocks of 8 KiB: a server's
                // "Serving HTTP on ..." would not be seen until much later.
                if std::env::var_os("PYTHONUNBUFFERED").is_none() {
                    c.env("PYTHONUNBUFFERED", "1");
                }
            }
            None => {
                c.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        // Its own process group, so a Ctrl-C at the terminal goes to netscript, which
        // then stops it in order.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c.env(family::TAG_VAR, &tag);
        let child = c.spawn().map_err(|e| {
            if let Some(dir) = &self.output {
                crate::lab::output::discard(dir, &tag);
            }
            Error::os(what(), e)
        })?;
        let pid = child.id();
        // Read before anything reaps it: a zombie still has its start time.
        let start = process::start_time(pid).unwrap_or(0);
        if let Some(dir) = &self.output {
            let files = crate::lab::output::name(dir, &tag, pid);
            process::keep_output(pid, start, &tag, &files);
        }
        self.started.insert(pid, family::Root { pid, start, tag });
        self.children.insert(pid, child);
        Ok(pid)
    }

    fn proc_start_time(&mut self, pid: u32) -> u64 {
        match self.started.get(&pid) {
            Some(r) => r.start,
            None => process::start_time(pid).unwrap_or(0),
        }
    }

    fn proc_tag(&mut self, pid: u32) -> String {
        self.started
            .get(&pid)
            .map(|r| r.tag.clone())
            .unwrap_or_default()
    }

    fn proc_running(&mut self, pid: u32) -> bool {
        if self.exited.contains_key(&pid) {
            return false;
        }
        match self.children.get_mut(&pid) {
            Some(c) => match c.try_wait() {
                Ok(Some(st)) => {
                    self.children.remove(&pid);
                    self.exited.insert(pid, process::status_code(st));
                    false
                }
                r => r.is_ok(),
            },
            None => nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok(),
        }
    }

    /// The exit status (128 + N when killed by signal N); asked again, the same answer.
    /// A SIGINT or SIGTERM stops the wait.
    fn proc_wait(&mut self, pid: u32) -> Result<i64> {
        if let Some(code) = self.exited.get(&pid) {
            return Ok(*code);
        }
        let c = self
            .children
            .get_mut(&pid)
            .ok_or_else(|| Error::Missing(format!("process {pid}")))?;
        loop {
            if let Some(st) = c
                .try_wait()
                .map_err(|e| Error::os(format!("process {pid}"), e))?
            {
                let code = process::status_code(st);
                self.children.remove(&pid);
                self.exited.insert(pid, code);
                return Ok(code);
            }
            if crate::signals::interrupted() {
                return Err(Error::Other(crate::lang::INTERRUPTED.into()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The process and everything of it (see `family`): SIGTERM, SIGKILL after a grace
    /// period to what is left, until nothing is; also when the process itself has
    /// already exited (its group or a `setsid` child may not have).
    fn proc_kill(&mut self, pid: u32) -> Result<()> {
        let Some(root) = self.root(pid) else {
            return Ok(());
        };
        self.stop_family(family::Select {
            roots: vec![root],
            ..Default::default()
        })
        .map_err(|e| e.about(format!("process {pid}")))
    }

    fn stop_run(&mut self, procs: &[(u32, bool)], namespaces: &[String]) -> Result<()> {
        let (mut keep, mut roots) = (vec![], vec![]);
        for &(pid, detached) in procs {
            if let Some(r) = self.root(pid) {
                if detached { &mut keep } else { &mut roots }.push(r);
            }
        }
        roots.append(&mut self.strays.roots);
        self.stop_family(family::Select {
            roots,
            keep,
            prefixes: vec![self.run_tag.clone()],
            netns: Self::ns_ids(namespaces),
            adopted: true,
        })
    }

    fn stop_lab(&mut self, started: &[(u32, u64, String)], namespaces: &[String]) -> Result<()> {
        let roots: Vec<family::Root> = started
            .iter()
            .map(|(pid, start, tag)| family::Root {
                pid: *pid,
                start: *start,
                tag: tag.clone(),
            })
            .collect();
        // Everything the runs that started them tagged (what their exec calls left, too).
        let mut prefixes: Vec<String> = vec![];
        for r in &roots {
            if let Some((run, _)) = r.tag.rsplit_once('.') {
                let p = format!("{run}.");
                if !prefixes.contains(&p) {
                    prefixes.push(p);
                }
            }
        }
        self.stop_family(family::Select {
            roots,
            keep: vec![],
            prefixes,
            netns: Self::ns_ids(namespaces),
            adopted: true,
        })
    }

    fn ping(&mut self, ns: &Ns, dst: IpAddr, count: u32, timeout_ms: u64) -> Result<PingResult> {
        let timeout = Duration::from_millis(timeout_ms);
        self.before_probe(ns, dst, timeout)?;
        self.within(ns, move || probe::ping(dst, count, timeout))?
            .map_err(|e| Error::os(format!("ping {dst} from {}", ns_label(ns)), e))
    }

    fn reachable(&mut self, ns: &Ns, dst: IpAddr, timeout_ms: u64) -> Result<bool> {
        let timeout = Duration::from_millis(timeout_ms);
        self.before_probe(ns, dst, timeout)?;
        self.within(ns, move || probe::reachable(dst, timeout))?
            .map_err(|e| Error::os(format!("ping {dst} from {}", ns_label(ns)), e))
    }

    fn connect(&mut self, ns: &Ns, dst: SocketAddr, timeout_ms: u64) -> Result<bool> {
        let timeout = Duration::from_millis(timeout_ms);
        self.before_probe(ns, dst.ip(), timeout)?;
        self.within(ns, move || probe::connect(dst, timeout))?
            .map_err(|e| Error::os(format!("connect to {dst} from {}", ns_label(ns)), e))
    }

    fn http_get(&mut self, ns: &Ns, url: &str, timeout_ms: u64) -> Result<HttpResponse> {
        let (addr, host, path) = probe::parse_url(url)?;
        let timeout = Duration::from_millis(timeout_ms);
        self.before_probe(ns, addr.ip(), timeout)?;
        self.within(ns, move || probe::http_get(addr, &host, &path, timeout))?
            .map_err(|e| Error::os(format!("GET {url} from {}", ns_label(ns)), e))
    }

    fn capture(
        &mut self,
        ns: &Ns,
        link: &str,
        opts: &crate::ui::capture::Opts,
        mut sink: crate::ui::capture::Sink,
        each: &mut (dyn FnMut(&crate::ui::capture::Packet) + Send),
    ) -> Result<Vec<crate::ui::capture::Packet>> {
        self.within(ns, move || {
            crate::ui::capture::run(link, opts, &mut sink, each)
        })?
        .map_err(|e| e.about(link_label(ns, link)))
    }
}
