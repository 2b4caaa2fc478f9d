//! The reference of every script function, method and property, written once: its call
//! forms with types, the `ip` / `nft` / shell command it stands for, and an example.
//! `netscript doc` (text, `--json`, `--markdown`, `--definitions`), `help()`, the checked-in
//! `docs/API.md` and the hints in error messages are all generated from this table and from
//! the `///` comments of the shipped modules (`stdlib/*.rhai`). A test fails when the engine
//! registers something this table does not describe.
//!
//! A form is `[recv.]name(param: Type, ..) [-> Type]`, or a property `recv.name -> Type`.
//! `ns.` is a `Netns` method that also exists as a function acting on `host()`; `link.`,
//! `proc.` and `veth.` are methods or properties of `Link`, `Proc` and `Veth`. Types are
//! Rhai's: `String`, `int`, `bool`, a handle type, `#{ keys }` (an option map), `[T]` (an
//! array), `A | B` (either), `()` (nothing).

pub struct Doc {
    pub name: &'static str,
    /// Call forms, typed (see the module's comment).
    pub forms: &'static [&'static str],
    /// The iproute2 / shell equivalent.
    pub equivalent: &'static str,
    pub example: &'static str,
}

macro_rules! doc {
    ($name:literal, [$($form:literal),*], $eq:literal, $ex:literal) => {
        Doc { name: $name, forms: &[$($form),*], equivalent: $eq, example: $ex }
    };
}

pub const DOCS: &[Doc] = &[
    doc!("netns", ["netns(name: String) -> Netns", "netns(name: String, opts: #{ lo }) -> Netns"], "ip netns add NAME; ip -n NAME link set lo up (lo: false leaves lo down, as ip netns add does)", r#"let red = netns("red"); let bare = netns("bare", #{ lo: false });"#),
    doc!("netns_open", ["netns_open(name: String) -> Netns"], "(use a namespace made by ip netns add)", r#"let red = netns_open("red");"#),
    doc!("netns_exists", ["netns_exists(name: String) -> bool"], "test -e /run/netns/NAME", r#"if netns_exists("red") { netns_delete("red"); }"#),
    doc!("netns_list", ["netns_list() -> [String]"], "ip netns list", r#"print(netns_list());"#),
    doc!("netns_delete", ["netns_delete(ns: String | Netns)"], "ip netns del NAME", r#"netns_delete("red");"#),
    doc!("host", ["host() -> Netns"], "(the namespace netscript started in)", r#"host().forward(true);"#),
    doc!("veth", ["veth(a: String, b: String) -> Veth", "veth(a: String, b: String, opts: #{ a_ns, b_ns, mtu }) -> Veth", "ns.veth(a: String, b: String) -> Veth", "ns.veth(a: String, b: String, opts: #{ a_ns, b_ns, mtu }) -> Veth"],
        "ip link add A [netns NS] type veth peer name B [netns NS]",
        r#"let v = veth("veth-red", "veth-blue", #{ a_ns: "red", b_ns: "blue" });"#),
    doc!("bridge", ["ns.bridge(name: String) -> Link", "ns.bridge(name: String, cidr: String) -> Link", "ns.bridge(name: String, opts: #{ lab_mode }) -> Link", "ns.bridge(name: String, cidr: String, opts: #{ lab_mode }) -> Link"],
        "ip link add NAME type bridge; ip addr add CIDR dev NAME; ip link set NAME up (and accept rules for it where a foreign forward chain drops, as Docker's: see forward). lab_mode: true (the default under --lab-mode) gives every port attached to it no IPv6 (disable_ipv6) and no flooded multicast (bridge_slave mcast_flood off): large labs build fast, but IPv6 between containers across the bridge stops working; a port that leaves it (nomaster, onto a plain bridge, or the bridge deleted) gets its IPv6 back", r#"let br = bridge("br0", "10.100.0.1/24", #{ lab_mode: true });"#),
    doc!("link", ["ns.link(name: String) -> Link"], "ip [-n NS] link show DEV", r#"let l = red.link("veth-red");"#),
    doc!("up", ["ns.up(link: Link | String)", "link.up()"], "ip [-n NS] link set DEV up", r#"red.up("veth-red");"#),
    doc!("down", ["ns.down(link: Link | String)", "link.down()"], "ip [-n NS] link set DEV down", r#"red.down("veth-red");"#),
    doc!("addr", ["ns.addr(link: Link | String, cidr: String)", "ns.addr(link: Link | String, cidr: String, opts: #{ nodad })", "link.addr(cidr: String)", "link.addr(cidr: String, opts: #{ nodad })"],
        "ip [-n NS] addr add CIDR dev DEV [nodad] (nodad, IPv6 only: usable at once, without duplicate address detection)",
        r#"red.addr("veth-red", "fd00::1/64", #{ nodad: true });"#),
    doc!("mtu", ["link.mtu(mtu: int)"], "ip link set DEV mtu N (on a bridge: its segment's MTU; the veths this run made without an mtu among its ports, before or after, take it on both ends)", r#"link("br0").mtu(1400);"#),
    doc!("master", ["link.master(bridge: Link | String)"], "ip link set DEV master BR", r#"link("veth-c1-br").master("br0");"#),
    doc!("nomaster", ["link.nomaster()"], "ip link set DEV nomaster", r#"link("veth-c1-br").nomaster();"#),
    doc!("move_to", ["link.move_to(ns: Netns | String) -> Link"], "ip link set DEV netns NS", r#"link("veth-red").move_to("red");"#),
    doc!("delete", ["link.delete()"], "ip link del DEV", r#"link("br0").delete();"#),
    doc!("route", ["ns.route(dst: String, via: String)", "ns.route(dst: String, opts: #{ via, dev, metric })"],
        "ip [-n NS] route add DST via VIA [dev DEV] [metric M]", r#"c1.route("default", "10.100.0.1");"#),
    doc!("forward", ["ns.forward(on: bool)"], "sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 (and, where a foreign forward chain drops by default as Docker's does, nft insert rule ... DOCKER-USER iifname/oifname LINK accept for the lab's links)", r#"forward(true);"#),
    doc!("sysctl", ["ns.sysctl(key: String) -> String", "ns.sysctl(key: String, value: String | int | bool)"], "ip netns exec NS sysctl [-w] KEY[=VALUE]: net.* keys only; for an interface with a dot in its name write the key with slashes, as sysctl does (net/ipv4/conf/eth0.100/rp_filter)",
        r#"red.sysctl("net.ipv4.conf.all.rp_filter", 0);"#),
    doc!("exec", ["ns.exec(cmd: [String] | String) -> #{ code, stdout, stderr }"],
        "ip netns exec NS CMD... (returns when CMD exits; a non-zero code is no error: check r.code; what CMD leaves running, as with CMD &, is stopped when the run ends; the last 64 MiB of stdout and of stderr are kept)",
        r#"let r = red.exec(["ip", "addr"]); if r.code != 0 { throw r.stderr; }"#),
    doc!("shell", ["ns.shell() -> int"],
        "ip netns exec NS $SHELL, on the terminal (else /bin/sh; NETSCRIPT_NS=NS and PS1 prefixed [NS] in its environment): returns the shell's exit code when it exits; in a plan, a comment. From the command line: netscript shell [--lab LAB] NS, or netscript exec [--lab LAB] NS -- CMD...",
        r#"red.shell();   // look around; exit returns to the script"#),
    doc!("start", ["ns.start(cmd: [String] | String) -> Proc", "ns.start(cmd: [String] | String, opts: #{ detach }) -> Proc"], "ip netns exec NS CMD... > /run/netscript/LAB.output/PID.stdout 2> PID.stderr & (its own process group, NETSCRIPT_PROC in its environment; stopped with all it started when the run ends, or with detach: true by netscript down LAB; its output is kept, see output; PYTHONUNBUFFERED=1 in its environment unless set, so python prints as it goes). One that exits with a failure in its first moment (a server that cannot bind) is a warning at the next probe or at the end of the run, not an error: warning: red.start(...) exited with 1: LAST LINE OF STDERR",
        r#"let web = red.start("python3 -m http.server 80");"#),
    doc!("processes", ["ns.processes() -> [#{ pid, ns, command, running, detached, exit }]"], "ps of the lab's processes started in NS (this run's and earlier runs' that are still the lab's); exit: the exit code, () while running or when it ended unseen (a detached process after its run). From the command line: netscript ps [LAB] [--json]",
        r#"for p in red.processes() { print(`${p.pid} ${p.command} ${p.running}`); }"#),
    doc!("ping", ["ns.ping(addr: String) -> bool", "ns.ping(addr: String, opts: #{ count, timeout_ms }) -> #{ sent, received, rtt_ms }"],
        "ip netns exec NS ping -c 1 -W 1 ADDR: is it reachable; only this form re-sends its echo (every 250 ms, for 1 s) until answered | ping -c COUNT -i 0.02 -W TIMEOUT ADDR: COUNT distinct echoes, each with its own sequence number, sent once, 20 ms apart; a reply counts for the request whose id and sequence number it carries, if it comes within timeout_ms (default 1000) of that request; rtt_ms is the average round trip (() if none). To an IPv6 address, ping, connect and http_get first wait for tentative addresses (DAD) to settle, up to their timeout or 3 s",
        r#"assert(red.ping("10.0.0.2", #{ count: 10 }).received == 10);"#),
    doc!("capture", ["ns.capture(link: Link | String) -> #{ packets, file }", "ns.capture(link: Link | String, opts: #{ count, seconds, file, filter }) -> #{ packets, file }"],
        "ip netns exec NS tcpdump -i LINK -c COUNT [-w FILE], without tcpdump (an AF_PACKET socket inside NS): stops after count matching packets (default 10) or seconds (default 10), or at Ctrl-C / SIGTERM; packets: #{ time (s since the start), proto (tcp, udp, icmp, icmp6, arp, else ip-N or ether-0xNNNN), src, dst, sport, dport (() unless TCP/UDP), len, info (ICMP/ARP kind: echo request, who-has..) }; file: a classic pcap file of the matching packets (tcpdump -r, Wireshark); filter #{ proto (also ipv4, ipv6), host, port } is netscript's own, matched after capture, not BPF. From the command line: netscript capture [--lab LAB] NS LINK [-w FILE|-] [-c COUNT] [--seconds S]",
        r#"let r = red.capture("veth-red", #{ count: 4, file: "red.pcap", filter: #{ proto: "icmp" } }); print(r.packets[0].src);"#),
    doc!("connect", ["ns.connect(target: String) -> bool"], "ip netns exec NS nc -z -w 1 IP PORT", r#"assert(blue.connect("10.0.0.1:80"));"#),
    doc!("http_get", ["ns.http_get(url: String) -> #{ status, body }", "ns.http_get(url: String, opts: #{ timeout_ms }) -> #{ status, body }"],
        "ip netns exec NS curl -m 10 URL: one deadline (timeout_ms, default 10000) for connecting, sending and the whole response, else \"timed out after N s\"; the body ends at its Content-Length, at the last chunk (chunked), or when the server closes; 100 Continue is skipped; a response head over 64 KiB or a response over 64 MiB is an error",
        r#"let r = c2.http_get("http://10.100.0.2/", #{ timeout_ms: 2000 });"#),
    doc!("masquerade", ["ns.masquerade(src: String)", "ns.masquerade(src: String, opts: #{ out, not_out })"],
        "iptables -t nat -A POSTROUTING -s SRC [! -o IF] -j MASQUERADE", r#"masquerade("10.100.0.0/24", #{ not_out: "br0" });"#),
    doc!("unmasquerade", ["ns.unmasquerade(src: String)", "ns.unmasquerade(src: String, opts: #{ out, not_out })"],
        "iptables -t nat -D POSTROUTING -s SRC [! -o IF] -j MASQUERADE", r#"unmasquerade("10.100.0.0/24", #{ not_out: "br0" });"#),
    doc!("port_forward", ["ns.port_forward(port: int, target: String)", "ns.port_forward(port: int, target: String, opts: #{ proto })"],
        "iptables -t nat -A PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -p tcp --dport PORT -j DNAT --to IP:PORT (docker run -p)",
        r#"port_forward(8080, "172.17.0.2:80");"#),
    doc!("drop", ["ns.drop(rule: #{ chain, proto, dport, sport, src, dst, iif, oif })"], "iptables -A INPUT -p tcp --dport 22 -j DROP",
        r#"red.drop(#{ proto: "tcp", dport: 22 });"#),
    doc!("accept", ["ns.accept(rule: #{ chain, proto, dport, sport, src, dst, iif, oif })"], "iptables -A CHAIN ... -j ACCEPT",
        r#"red.accept(#{ chain: "input", src: "10.0.0.2/32" });"#),
    doc!("reject", ["ns.reject(rule: #{ chain, proto, dport, sport, src, dst, iif, oif })"], "iptables -A CHAIN ... -j REJECT",
        r#"red.reject(#{ proto: "tcp", dport: 23 });"#),
    doc!("rules", ["ns.rules() -> String"], "nft list table inet netscript", r#"print(red.rules());"#),
    doc!("cidr_host", ["cidr_host(cidr: String, n: int) -> String"], "(the n-th address of the network, same prefix)", r#"cidr_host("10.100.0.1/24", 7) == "10.100.0.7/24""#),
    doc!("cidr_network", ["cidr_network(cidr: String) -> String"], "(the network of an address)", r#"cidr_network("10.100.0.1/24") == "10.100.0.0/24""#),
    doc!("cidr_addr", ["cidr_addr(cidr: String) -> String"], "(the address without its prefix)", r#"cidr_addr("10.100.0.1/24") == "10.100.0.1""#),
    doc!("output", ["proc.output() -> #{ stdout, stderr }"], "cat /run/netscript/LAB.output/PID.stdout PID.stderr: what it printed so far, the last 1 MiB of each stream (lossy UTF-8; kept until the lab goes down). From the command line: netscript logs [--lab LAB] [PID] [--follow]", r#"print(web.output().stderr);"#),
    doc!("running", ["proc.running() -> bool"], "kill -0 PID", r#"assert(web.running());"#),
    doc!("wait", ["proc.wait() -> int"], "wait PID (the exit code, 128 + N if killed by signal N; asked again, or after kill(), the same; SIGINT, SIGTERM or SIGHUP stop the wait and the run)", r#"let code = job.wait();"#),
    doc!("kill", ["proc.kill()"], "kill PID and everything it started: its process group and session, its descendants (also setsid ones and orphans); SIGTERM, then SIGKILL after 1 s to what is left; returns when none is left (also when PID itself has exited)", r#"web.kill();"#),
    doc!("inode", ["ns.inode -> int"], "readlink /proc/PID/ns/net (net:[N])", r#"assert(red.inode != host().inode);"#),
    doc!("name", ["ns.name -> String", "link.name -> String"], "ip netns identify; ip link show DEV", r#"print(red.name);"#),
    doc!("kind", ["link.kind -> String"], "ip -d link show DEV (veth, bridge, vxlan, macvlan, tun, tap, loopback; else what the kernel calls it)", r#"assert(link("br0").kind == "bridge");"#),
    doc!("mac", ["link.mac -> String"], "ip link show DEV (link/ether)", r#"print(red.link("veth-red").mac);"#),
    doc!("peer", ["link.peer -> String | ()"], "ip link show DEV (the name after @)", r#"assert(red.link("veth-red").peer == "veth-blue");"#),
    doc!("teardown", ["teardown()"], "(undo everything this run created)", r#"teardown();"#),
    doc!("assert", ["assert(cond: bool)", "assert(cond: bool, message: String)"], "test COND || exit 1", r#"assert(red.ping("10.0.0.2"), "red reaches blue");"#),
    doc!("sleep", ["sleep(ms: int)"], "sleep SECONDS", r#"sleep(100);"#),
    doc!("links", ["ns.links() -> [#{ name, kind, up, mac, mtu, master, peer, addrs }]"], "ip [-n NS] link", r#"for l in red.links() { print(l.name); }"#),
    doc!("addrs", ["ns.addrs() -> [#{ dev, addr }]"], "ip [-n NS] addr", r#"assert(red.addrs().len() > 0);"#),
    doc!("routes", ["ns.routes() -> [#{ dst, via, dev, src, scope, proto }]"], "ip [-n NS] route; ip -6 route", r#"red.routes().filter(|r| r.dst == "default")"#),
    doc!("neighbors", ["ns.neighbors() -> [#{ ip, mac, dev, state }]"], "ip [-n NS] neigh", r#"print(red.neighbors());"#),
    doc!("sockets", ["ns.sockets() -> [#{ proto, local, pid, process }]"], "ip netns exec NS ss -tulnp", r#"print(red.sockets());"#),
    doc!("netns_of", ["netns_of(pid: int) -> Netns"], "readlink /proc/PID/ns/net; nsenter --target PID --net", r#"let ns = netns_of(1234);"#),
    doc!("netns_attach", ["netns_attach(name: String, pid: int) -> Netns"], "ip netns attach NAME PID (ln -s /proc/PID/ns/net /var/run/netns/NAME)",
        r#"let c = netns_attach("mycontainer", 1234);"#),
    doc!("show", ["show()"], "netscript graph", r#"show();"#),
    doc!("vxlan", ["vxlan(name: String, opts: #{ vni, remote, remotes, local, dev, port, group, ns }) -> Link", "ns.vxlan(name: String, opts: #{ vni, remote, remotes, local, dev, port, group }) -> Link"],
        "ip [-n NS] link add NAME type vxlan id VNI remote R local L dev D dstport 4789; with remotes: [R1, R2, ..] (several peers, head-end replication) instead of remote: bridge fdb append 00:00:00:00:00:00 dev NAME dst R for each",
        r#"let vx = hostA.vxlan("vx0", #{ vni: 42, remote: "192.0.2.2", dev: "eth0" });"#),
    doc!("macvlan", ["macvlan(name: String, opts: #{ parent, mode, parent_ns }) -> Link", "ns.macvlan(name: String, opts: #{ parent, mode, parent_ns }) -> Link"],
        "ip link add NAME link PARENT netns NS type macvlan mode MODE: a link with its own MAC address on PARENT, made directly in NS (the container on the host's LAN, without a bridge). PARENT (a Link or a name) is in host() unless parent_ns names its namespace (a Link given as PARENT is where it is). mode bridge (default: macvlans on one parent reach each other), private, vepa or passthru (alone on its parent)",
        r#"let red = netns("red"); red.macvlan("mv0", #{ parent: "eth0", mode: "bridge" });"#),
    doc!("tun", ["tun(name: String) -> Link", "tun(name: String, opts: #{ tap, owner, group }) -> Link", "ns.tun(name: String) -> Link", "ns.tun(name: String, opts: #{ tap, owner, group }) -> Link"],
        "ip [-n NS] tuntap add dev NAME mode tun|tap [user OWNER] [group GROUP]: a persistent tun (layer 3) or, with tap: true, tap (layer 2) device for a user-space program to open; owner: a uid or a user name who may open it without root; group: a gid or a group name whose members may. Needs /dev/net/tun",
        r#"red.tun("tap0", #{ tap: true, owner: "alice" });"#),
    doc!("impair", ["link.impair(opts: #{ delay_ms, jitter_ms, loss_pct, rate_kbit })"],
        "tc qdisc replace dev DEV root netem delay D loss L% | tbf rate Rkbit (loss without netem: nft netdev egress chain on DEV, numgen random drop)",
        r#"link("veth-red").impair(#{ rate_kbit: 1000 });"#),
    doc!("unimpair", ["link.unimpair()"], "tc qdisc del dev DEV root (or nft delete chain netdev netscript impair-DEV)", r#"link("veth-red").unimpair();"#),
    doc!("help", ["help()", "help(name: String)"], "netscript doc [NAME]", r#"help("veth");"#),
    doc!("save", ["save(path: String)", "save(path: String, opts: #{ force })"],
        "(REPL only) write the session's inputs that built something, in order, as a script: failed inputs and inspection-only ones (no change to the network, nothing defined or assigned) are left out, functions and imports kept; an existing file is overwritten only with force: true. For a lab built by a script: netscript export LAB",
        r#"save("lab.rhai");   // later: netscript --sandbox lab.rhai"#),
    doc!("exit", ["exit()", "exit(code: int)"], "exit [N] (the run ends with status N, 0 to 255; a non-zero one is a failed run, rolled back; exit() in the REPL leaves it)", r#"if !red.ping("10.0.0.2") { exit(3); }"#),
    doc!("a", ["veth.a -> Link"], "(the first end of a veth pair)", r#"let v = veth("veth-red", "veth-blue"); v.a.up();"#),
    doc!("b", ["veth.b -> Link"], "(the second end of a veth pair)", r#"v.b.move_to("blue");"#),
    doc!("ns", ["link.ns -> Netns"], "ip -o link show DEV (the namespace the link is in)", r#"assert(v.a.ns.name == "red");"#),
    doc!("pid", ["proc.pid -> int"], "echo $! (the process id of a started command)", r#"let web = red.start("sleep 60"); print(web.pid);"#),
];

/// One entry of the reference: a `Doc` of the table, or a function of a shipped module.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    pub forms: Vec<String>,
    pub equivalent: String,
    pub example: String,
}

impl Entry {
    /// The text `help(name)` and `netscript doc NAME` print.
    pub fn text(&self) -> String {
        format!(
            "{}\n    {}\n    e.g. {}\n",
            self.forms.join("\n"),
            self.equivalent,
            self.example
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name, "forms": self.forms, "equivalent": self.equivalent, "example": self.example })
    }
}

impl From<&Doc> for Entry {
    fn from(d: &Doc) -> Entry {
        Entry {
            name: d.name.into(),
            forms: d.forms.iter().map(|f| f.to_string()).collect(),
            equivalent: d.equivalent.into(),
            example: d.example.into(),
        }
    }
}

/// The functions of the shipped modules (`lab::p2p`..), from their `///` comments: the
/// description, then the example as the last line, in backticks.
pub fn module_entries() -> Vec<Entry> {
    let mut out = vec![];
    // Parsing only: a raw engine knows no functions, and none is needed to compile.
    let engine = rhai::Engine::new_raw();
    for (module, text) in crate::lang::stdlib::shipped() {
        let Ok(ast) = engine.compile(crate::lang::stdlib::prepare(text)) else {
            continue;
        };
        let mut fns: Vec<Entry> = ast
            .iter_functions()
            .filter(|f| f.access != rhai::FnAccess::Private)
            .map(|f| {
                let mut lines: Vec<String> = f
                    .comments
                    .iter()
                    .flat_map(|c| c.lines())
                    .map(|l| l.trim_start_matches('/').trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect();
                let example = match lines.last() {
                    Some(l) if l.starts_with('`') && l.ends_with('`') && l.len() > 1 => {
                        let e = l[1..l.len() - 1].to_string();
                        lines.pop();
                        e
                    }
                    _ => String::new(),
                };
                Entry {
                    name: format!("{module}::{}", f.name),
                    forms: vec![format!("{module}::{}({})", f.name, f.params.join(", "))],
                    equivalent: lines.join(" "),
                    example,
                }
            })
            .collect();
        fns.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(fns);
    }
    out
}

/// The whole reference: the table, then the shipped modules' functions.
pub fn entries() -> Vec<Entry> {
    DOCS.iter()
        .map(Entry::from)
        .chain(module_entries())
        .collect()
}

/// The entry `doc NAME` / `help("NAME")` shows. NAME may be written as the reference's
/// headings are: `ping`, `ns.ping`, `Netns.ping`, `red.ping`, `Link.up`, `lab::p2p`,
/// with or without `()`.
pub fn find(query: &str) -> Option<Entry> {
    let q = query.trim().trim_end_matches("()");
    let name = match q.contains("::") {
        true => q,
        false => q.rsplit('.').next().unwrap_or(q),
    };
    entries().into_iter().find(|e| e.name == name)
}

/// A call form, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// `ns`, `link`, `proc`, `veth` (a method or property of that handle).
    pub recv: Option<String>,
    pub name: String,
    /// (name, the types it accepts).
    pub params: Vec<(String, Vec<String>)>,
    /// The types it returns (empty: nothing).
    pub ret: Vec<String>,
    pub property: bool,
}

/// The handle type of a receiver (`ns` → `Netns`).
pub fn recv_type(recv: &str) -> &'static str {
    match recv {
        "ns" => "Netns",
        "link" => "Link",
        "proc" => "Proc",
        "veth" => "Veth",
        _ => "?",
    }
}

/// Split at `sep` outside `#{ }`, `[ ]` and `( )`.
fn split_top(s: &str, sep: char) -> Vec<String> {
    let (mut depth, mut cur, mut out) = (0i32, String::new(), vec![]);
    for ch in s.chars() {
        match ch {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn types(s: &str) -> Vec<String> {
    split_top(s, '|')
}

pub fn parse_form(form: &str) -> Form {
    let (call, ret) = match form.split_once(" -> ") {
        Some((c, r)) => (c, types(r)),
        None => (form, vec![]),
    };
    let (head, args) = match call.split_once('(') {
        Some((h, a)) => (h, Some(a.strip_suffix(')').unwrap_or(a))),
        None => (call, None),
    };
    let (recv, name) = match head.split_once('.') {
        Some((r, n)) => (Some(r.to_string()), n.to_string()),
        None => (None, head.to_string()),
    };
    let params = args
        .map(|a| {
            split_top(a, ',')
                .into_iter()
                .map(|p| match p.split_once(':') {
                    Some((n, t)) => (n.trim().to_string(), types(t)),
                    None => (p.trim().to_string(), vec![]),
                })
                .collect()
        })
        .unwrap_or_default();
    Form {
        recv,
        name,
        params,
        ret: ret.into_iter().filter(|t| t != "()").collect(),
        property: args.is_none(),
    }
}

/// The Rhai type a form's type stands for: `#{ .. }` is a `Map`, `[..]` an `Array`.
pub fn rhai_type(t: &str) -> String {
    if t.starts_with("#{") {
        "Map".into()
    } else if t.starts_with('[') {
        "Array".into()
    } else {
        t.to_string()
    }
}

/// Every form of the table, parsed, with the entry it belongs to.
pub fn forms() -> Vec<(&'static Doc, Form)> {
    DOCS.iter()
        .flat_map(|d| d.forms.iter().map(move |f| (d, parse_form(f))))
        .collect()
}

/// The functions Rhai itself defines for every type, which netscript registers again for
/// its handles (printing, comparing): they are Rhai's reference, not this one.
pub const RHAI_OWN: &[&str] = &["print", "debug", "to_string", "to_debug", "==", "!="];

/// A function the engine registered: its name (`get$x` for a property) and the Rhai
/// types of its parameters (`?`: any value).
#[derive(Debug)]
pub struct Registered {
    pub name: String,
    pub params: Vec<String>,
}

/// The type names Rhai's signatures use, as the reference writes them.
fn sig_type(t: &str) -> String {
    let t = t.trim().trim_start_matches("&mut ").trim();
    let last = t.rsplit("::").next().unwrap_or(t);
    match last {
        "string" | "&str" | "String" | "ImmutableString" => "String",
        "i64" | "int" | "INT" => "int",
        "f64" | "float" => "float",
        "map" | "Map" => "Map",
        "array" | "Array" => "Array",
        "Dynamic" => "?",
        other => other,
    }
    .to_string()
}

/// What the engine has registered (not Rhai's own packages), from its signatures.
pub fn registered(engine: &rhai::Engine) -> Vec<Registered> {
    engine
        .gen_fn_signatures(false)
        .into_iter()
        .filter_map(|sig| {
            let (name, rest) = sig.split_once('(')?;
            let params = rest.split_once(')').map(|(p, _)| p).unwrap_or("");
            let params = split_top(params, ',')
                .into_iter()
                .map(|p| sig_type(p.split_once(':').map(|(_, t)| t).unwrap_or(&p)))
                .collect();
            Some(Registered {
                name: name.trim().to_string(),
                params,
            })
        })
        .filter(|r| !RHAI_OWN.contains(&r.name.as_str()))
        .collect()
}

fn accepts(alts: &[String], t: &str) -> bool {
    !alts.is_empty() && (t == "?" || alts.iter().any(|a| rhai_type(a) == t))
}

impl Form {
    /// Whether this form describes the registered function `r`.
    pub fn describes(&self, r: &Registered) -> bool {
        let recv = self.recv.as_deref().map(recv_type);
        if self.property {
            return r.name == format!("get${}", self.name) && r.params == [recv.unwrap_or("?")];
        }
        if r.name != self.name {
            return false;
        }
        let fits = |ts: &[String]| {
            ts.len() == self.params.len()
                && ts
                    .iter()
                    .zip(&self.params)
                    .all(|(t, (_, alts))| accepts(alts, t))
        };
        match recv {
            None => fits(&r.params),
            Some(rt) => {
                let as_method = r.params.first().is_some_and(|t| t == rt) && fits(&r.params[1..]);
                // `ns.f(..)` is also `f(..)` on host().
                let on_host = self.recv.as_deref() == Some("ns") && fits(&r.params);
                as_method || on_host
            }
        }
    }
}

/// The registered functions, methods and properties the reference does not describe.
pub fn undocumented(engine: &rhai::Engine) -> Vec<String> {
    let forms = forms();
    registered(engine)
        .into_iter()
        .filter(|r| !forms.iter().any(|(_, f)| f.describes(r)))
        .map(|r| format!("{}({})", r.name, r.params.join(", ")))
        .collect()
}

/// A Rhai definitions file (`netscript doc --definitions`) for editors and Rhai's language
/// server: one typed declaration per way to call (an `A | B` parameter is two overloads;
/// an `ns.` method is also declared without its receiver).
pub fn definitions() -> String {
    let mut out = String::from("module static;\n");
    for (d, f) in forms() {
        let ret = match f.ret.as_slice() {
            [] => String::new(),
            [one] => format!(" -> {}", rhai_type(one)),
            _ => " -> ?".into(),
        };
        let comment = format!("\n/// {}\n/// e.g. `{}`\n", d.equivalent, d.example);
        let recv = f.recv.as_deref().map(|r| (r, recv_type(r)));
        if f.property {
            let (r, t) = recv.unwrap_or(("this", "?"));
            out.push_str(&format!("{comment}fn get {}({r}: {t}){ret};\n", f.name));
            continue;
        }
        let mut heads: Vec<Vec<String>> = vec![];
        if let Some((r, t)) = recv {
            heads.push(vec![format!("{r}: {t}")]);
        }
        if recv.is_none() || f.recv.as_deref() == Some("ns") {
            heads.push(vec![]);
        }
        for head in heads {
            // Every combination of the parameters' alternatives.
            let mut lists = vec![head];
            for (name, alts) in &f.params {
                lists = lists
                    .into_iter()
                    .flat_map(|l| {
                        alts.iter().map(move |a| {
                            let mut l = l.clone();
                            l.push(format!("{name}: {}", rhai_type(a)));
                            l
                        })
                    })
                    .collect();
            }
            for l in lists {
                out.push_str(&format!("{comment}fn {}({}){ret};\n", f.name, l.join(", ")));
            }
        }
    }
    out
}

/// `docs/API.md`: the reference as Markdown (`netscript doc --markdown`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# netscript API reference\n\n\
         <!-- Generated by `netscript doc --markdown > docs/API.md` from src/lang/docs.rs and the \
         `///` comments of stdlib/lab.rhai: edit those, then regenerate. -->\n\n\
         The same text is in the binary: `netscript doc NAME`, or `help(\"NAME\")` in a script \
         or the REPL; `netscript doc --json` as JSON; `netscript doc --definitions` as a Rhai \
         definitions file for editors.\n\n\
         How to read a signature: `ns.f(..)` is a method of a `Netns` handle (`red.f(..)`), and \
         `f(..)` alone does the same in the namespace netscript started in (`host()`); \
         `link.f(..)`, `proc.f(..)` are methods of a `Link`, a `Proc`; `veth.a` is a property \
         (no parentheses). `#{ a, b }` is an option map with those keys, `[T]` an array, \
         `A | B` either.\n\n## Functions, methods and properties\n",
    );
    let section = |out: &mut String, e: &Entry| {
        out.push_str(&format!("\n### `{}`\n\n```\n", e.name));
        for f in &e.forms {
            out.push_str(&format!("{f}\n"));
        }
        out.push_str(&format!("```\n\n{}\n", e.equivalent));
        if !e.example.is_empty() {
            out.push_str(&format!("\n```rhai\n{}\n```\n", e.example));
        }
    };
    for d in DOCS {
        section(&mut out, &Entry::from(d));
    }
    out.push_str(
        "\n## The `lab` module\n\nBuilding blocks written in netscript itself (stdlib/lab.rhai, \
         shipped inside the binary): `import \"lab\" as lab;`\n",
    );
    for e in module_entries() {
        section(&mut out, &e);
    }
    out
}
