//! The reference of every script function: signature, the `ip` / `nft` / shell command
//! it stands for, and an example. `netscript doc`, `help()` and error messages for wrong
//! argument types all read it.

pub struct Doc {
    pub name: &'static str,
    /// Call forms; `ns.` marks a `Netns` method that also exists as a function on `host()`.
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
    doc!("netns", ["netns(name) -> Netns", "netns(name, #{ lo }) -> Netns"], "ip netns add NAME; ip -n NAME link set lo up (lo: false leaves lo down, as ip netns add does)", r#"let red = netns("red"); let bare = netns("bare", #{ lo: false });"#),
    doc!("netns_open", ["netns_open(name) -> Netns"], "(use a namespace made by ip netns add)", r#"let red = netns_open("red");"#),
    doc!("netns_exists", ["netns_exists(name) -> bool"], "test -e /run/netns/NAME", r#"if netns_exists("red") { netns_delete("red"); }"#),
    doc!("netns_list", ["netns_list() -> [string]"], "ip netns list", r#"print(netns_list());"#),
    doc!("netns_delete", ["netns_delete(name | Netns)"], "ip netns del NAME", r#"netns_delete("red");"#),
    doc!("host", ["host() -> Netns"], "(the namespace netscript started in)", r#"host().forward(true);"#),
    doc!("veth", ["veth(a, b) -> Veth", "veth(a, b, #{ a_ns, b_ns, mtu }) -> Veth", "ns.veth(a, b[, opts]) -> Veth"],
        "ip link add A [netns NS] type veth peer name B [netns NS]",
        r#"let v = veth("veth-red", "veth-blue", #{ a_ns: "red", b_ns: "blue" });"#),
    doc!("bridge", ["bridge(name) -> Link", "bridge(name, cidr) -> Link", "ns.bridge(name[, cidr]) -> Link"],
        "ip link add NAME type bridge; ip addr add CIDR dev NAME; ip link set NAME up (and accept rules for it where a foreign forward chain drops, as Docker's: see forward)", r#"let br = bridge("br0", "10.100.0.1/24");"#),
    doc!("link", ["link(name) -> Link", "ns.link(name) -> Link"], "ip [-n NS] link show DEV", r#"let l = red.link("veth-red");"#),
    doc!("up", ["ns.up(link)", "link.up()"], "ip [-n NS] link set DEV up", r#"red.up("veth-red");"#),
    doc!("down", ["ns.down(link)", "link.down()"], "ip [-n NS] link set DEV down", r#"red.down("veth-red");"#),
    doc!("addr", ["ns.addr(link, cidr)", "ns.addr(link, cidr, #{ nodad })", "link.addr(cidr)", "link.addr(cidr, #{ nodad })"],
        "ip [-n NS] addr add CIDR dev DEV [nodad] (nodad, IPv6 only: usable at once, without duplicate address detection)",
        r#"red.addr("veth-red", "fd00::1/64", #{ nodad: true });"#),
    doc!("mtu", ["link.mtu(n)"], "ip link set DEV mtu N", r#"link("br0").mtu(1400);"#),
    doc!("master", ["link.master(bridge)"], "ip link set DEV master BR", r#"link("veth-c1-br").master("br0");"#),
    doc!("nomaster", ["link.nomaster()"], "ip link set DEV nomaster", r#"link("veth-c1-br").nomaster();"#),
    doc!("move_to", ["link.move_to(ns) -> Link"], "ip link set DEV netns NS", r#"link("veth-red").move_to("red");"#),
    doc!("delete", ["link.delete()"], "ip link del DEV", r#"link("br0").delete();"#),
    doc!("route", ["ns.route(dst, via)", "ns.route(dst, #{ via, dev, metric })"],
        "ip [-n NS] route add DST via VIA [dev DEV] [metric M]", r#"c1.route("default", "10.100.0.1");"#),
    doc!("forward", ["ns.forward(bool)"], "sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 (and, where a foreign forward chain drops by default as Docker's does, nft insert rule ... DOCKER-USER iifname/oifname LINK accept for the lab's links)", r#"forward(true);"#),
    doc!("sysctl", ["ns.sysctl(key) -> string", "ns.sysctl(key, value)"], "ip netns exec NS sysctl [-w] KEY[=VALUE]: net.* keys only; for an interface with a dot in its name write the key with slashes, as sysctl does (net/ipv4/conf/eth0.100/rp_filter)",
        r#"red.sysctl("net.ipv4.conf.all.rp_filter", 0);"#),
    doc!("exec", ["ns.exec(argv | string) -> #{ code, stdout, stderr }"],
        "ip netns exec NS CMD... (returns when CMD exits; a non-zero code is no error: check r.code; what CMD leaves running, as with CMD &, is stopped when the run ends; the last 64 MiB of stdout and of stderr are kept)",
        r#"let r = red.exec(["ip", "addr"]); if r.code != 0 { throw r.stderr; }"#),
    doc!("shell", ["ns.shell() -> int"],
        "ip netns exec NS $SHELL, on the terminal (else /bin/sh; NETSCRIPT_NS=NS and PS1 prefixed [NS] in its environment): returns the shell's exit code when it exits; in a plan, a comment. From the command line: netscript shell [--lab LAB] NS, or netscript exec [--lab LAB] NS -- CMD...",
        r#"red.shell();   // look around; exit returns to the script"#),
    doc!("start", ["ns.start(cmd) -> Proc", "ns.start(cmd, #{ detach }) -> Proc"], "ip netns exec NS CMD... & (its own process group, NETSCRIPT_PROC in its environment; stopped with all it started when the run ends, or with detach: true by netscript down LAB)",
        r#"let web = red.start("python3 -m http.server 80");"#),
    doc!("ping", ["ns.ping(addr) -> bool", "ns.ping(addr, #{ count, timeout_ms }) -> #{ sent, received, rtt_ms }"],
        "ip netns exec NS ping -c 1 -W 1 ADDR: is it reachable; only this form re-sends its echo (every 250 ms, for 1 s) until answered | ping -c COUNT -i 0.02 -W TIMEOUT ADDR: COUNT distinct echoes, each with its own sequence number, sent once, 20 ms apart; a reply counts for the request whose id and sequence number it carries, if it comes within timeout_ms (default 1000) of that request; rtt_ms is the average round trip (() if none). To an IPv6 address, ping, connect and http_get first wait for tentative addresses (DAD) to settle, up to their timeout or 3 s",
        r#"assert(red.ping("10.0.0.2", #{ count: 10 }).received == 10);"#),
    doc!("capture", ["ns.capture(link) -> #{ packets, file }", "ns.capture(link, #{ count, seconds, file, filter }) -> #{ packets, file }"],
        "ip netns exec NS tcpdump -i LINK -c COUNT [-w FILE], without tcpdump (an AF_PACKET socket inside NS): stops after count matching packets (default 10) or seconds (default 10), or at Ctrl-C / SIGTERM; packets: #{ time (s since the start), proto (tcp, udp, icmp, icmp6, arp, else ip-N or ether-0xNNNN), src, dst, sport, dport (() unless TCP/UDP), len, info (ICMP/ARP kind: echo request, who-has..) }; file: a classic pcap file of the matching packets (tcpdump -r, Wireshark); filter #{ proto (also ipv4, ipv6), host, port } is netscript's own, matched after capture, not BPF. From the command line: netscript capture [--lab LAB] NS LINK [-w FILE|-] [-c COUNT] [--seconds S]",
        r#"let r = red.capture("veth-red", #{ count: 4, file: "red.pcap", filter: #{ proto: "icmp" } }); print(r.packets[0].src);"#),
    doc!("connect", ["ns.connect(\"ip:port\") -> bool"], "ip netns exec NS nc -z -w 1 IP PORT", r#"assert(blue.connect("10.0.0.1:80"));"#),
    doc!("http_get", ["ns.http_get(url) -> #{ status, body }", "ns.http_get(url, #{ timeout_ms }) -> #{ status, body }"],
        "ip netns exec NS curl -m 10 URL: one deadline (timeout_ms, default 10000) for connecting, sending and the whole response, else \"timed out after N s\"; the body ends at its Content-Length, at the last chunk (chunked), or when the server closes; 100 Continue is skipped; a response head over 64 KiB or a response over 64 MiB is an error",
        r#"let r = c2.http_get("http://10.100.0.2/", #{ timeout_ms: 2000 });"#),
    doc!("masquerade", ["ns.masquerade(src_cidr)", "ns.masquerade(src_cidr, #{ out, not_out })"],
        "iptables -t nat -A POSTROUTING -s SRC [! -o IF] -j MASQUERADE", r#"masquerade("10.100.0.0/24", #{ not_out: "br0" });"#),
    doc!("unmasquerade", ["ns.unmasquerade(src_cidr[, opts])"],
        "iptables -t nat -D POSTROUTING -s SRC [! -o IF] -j MASQUERADE", r#"unmasquerade("10.100.0.0/24", #{ not_out: "br0" });"#),
    doc!("port_forward", ["ns.port_forward(port, \"ip:port\")", "ns.port_forward(port, \"ip:port\", #{ proto })"],
        "iptables -t nat -A PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -p tcp --dport PORT -j DNAT --to IP:PORT (docker run -p)",
        r#"port_forward(8080, "172.17.0.2:80");"#),
    doc!("drop", ["ns.drop(#{ chain, proto, dport, sport, src, dst, iif, oif })"], "iptables -A INPUT -p tcp --dport 22 -j DROP",
        r#"red.drop(#{ proto: "tcp", dport: 22 });"#),
    doc!("accept", ["ns.accept(#{ chain, proto, dport, sport, src, dst, iif, oif })"], "iptables -A CHAIN ... -j ACCEPT",
        r#"red.accept(#{ chain: "input", src: "10.0.0.2/32" });"#),
    doc!("reject", ["ns.reject(#{ chain, proto, dport, sport, src, dst, iif, oif })"], "iptables -A CHAIN ... -j REJECT",
        r#"red.reject(#{ proto: "tcp", dport: 23 });"#),
    doc!("rules", ["ns.rules() -> string"], "nft list table inet netscript", r#"print(red.rules());"#),
    doc!("cidr_host", ["cidr_host(cidr, n) -> string"], "(the n-th address of the network, same prefix)", r#"cidr_host("10.100.0.1/24", 7) == "10.100.0.7/24""#),
    doc!("cidr_network", ["cidr_network(cidr) -> string"], "(the network of an address)", r#"cidr_network("10.100.0.1/24") == "10.100.0.0/24""#),
    doc!("cidr_addr", ["cidr_addr(cidr) -> string"], "(the address without its prefix)", r#"cidr_addr("10.100.0.1/24") == "10.100.0.1""#),
    doc!("running", ["proc.running() -> bool"], "kill -0 PID", r#"assert(web.running());"#),
    doc!("wait", ["proc.wait() -> code"], "wait PID (the exit code, 128 + N if killed by signal N; asked again, or after kill(), the same; SIGINT, SIGTERM or SIGHUP stop the wait and the run)", r#"let code = job.wait();"#),
    doc!("kill", ["proc.kill()"], "kill PID and everything it started: its process group and session, its descendants (also setsid ones and orphans); SIGTERM, then SIGKILL after 1 s to what is left; returns when none is left (also when PID itself has exited)", r#"web.kill();"#),
    doc!("inode", ["ns.inode -> int"], "readlink /proc/PID/ns/net (net:[N])", r#"assert(red.inode != host().inode);"#),
    doc!("name", ["ns.name -> string", "link.name -> string"], "ip netns identify; ip link show DEV", r#"print(red.name);"#),
    doc!("kind", ["link.kind -> string"], "ip -d link show DEV (veth, bridge, vxlan, macvlan, tun, tap, loopback; else what the kernel calls it)", r#"assert(link("br0").kind == "bridge");"#),
    doc!("mac", ["link.mac -> string"], "ip link show DEV (link/ether)", r#"print(red.link("veth-red").mac);"#),
    doc!("peer", ["link.peer -> string | ()"], "ip link show DEV (the name after @)", r#"assert(red.link("veth-red").peer == "veth-blue");"#),
    doc!("teardown", ["teardown()"], "(undo everything this run created)", r#"teardown();"#),
    doc!("assert", ["assert(cond)", "assert(cond, message)"], "test COND || exit 1", r#"assert(red.ping("10.0.0.2"), "red reaches blue");"#),
    doc!("sleep", ["sleep(ms)"], "sleep SECONDS", r#"sleep(100);"#),
    doc!("links", ["ns.links() -> [#{ name, kind, up, mac, mtu, master, peer, addrs }]"], "ip [-n NS] link", r#"for l in red.links() { print(l.name); }"#),
    doc!("addrs", ["ns.addrs() -> [#{ dev, addr }]"], "ip [-n NS] addr", r#"assert(red.addrs().len() > 0);"#),
    doc!("routes", ["ns.routes() -> [#{ dst, via, dev, src, scope, proto }]"], "ip [-n NS] route; ip -6 route", r#"red.routes().filter(|r| r.dst == "default")"#),
    doc!("neighbors", ["ns.neighbors() -> [#{ ip, mac, dev, state }]"], "ip [-n NS] neigh", r#"print(red.neighbors());"#),
    doc!("sockets", ["ns.sockets() -> [#{ proto, local, pid, process }]"], "ip netns exec NS ss -tulnp", r#"print(red.sockets());"#),
    doc!("netns_of", ["netns_of(pid) -> Netns"], "readlink /proc/PID/ns/net; nsenter --target PID --net", r#"let ns = netns_of(1234);"#),
    doc!("netns_attach", ["netns_attach(name, pid) -> Netns"], "ip netns attach NAME PID (ln -s /proc/PID/ns/net /var/run/netns/NAME)",
        r#"let c = netns_attach("mycontainer", 1234);"#),
    doc!("show", ["show()"], "netscript graph", r#"show();"#),
    doc!("vxlan", ["vxlan(name, #{ vni, remote, local, dev, port, group, ns }) -> Link", "ns.vxlan(name, #{ ... }) -> Link"],
        "ip [-n NS] link add NAME type vxlan id VNI remote R local L dev D dstport 4789",
        r#"let vx = hostA.vxlan("vx0", #{ vni: 42, remote: "192.0.2.2", dev: "eth0" });"#),
    doc!("macvlan", ["macvlan(name, #{ parent, mode }) -> Link", "ns.macvlan(name, #{ parent, mode }) -> Link"],
        "ip [-n NS] link add NAME link PARENT type macvlan mode MODE: a link with its own MAC address on PARENT (a Link or a name in the same namespace), which can then move to another namespace (the container on the LAN, without a bridge); mode bridge (default: macvlans on one parent reach each other), private, vepa or passthru",
        r#"lan.macvlan("mv-red", #{ parent: "eth0" }).move_to(red);"#),
    doc!("tun", ["tun(name) -> Link", "tun(name, #{ tap, owner }) -> Link", "ns.tun(name[, opts]) -> Link"],
        "ip [-n NS] tuntap add dev NAME mode tun|tap [user OWNER]: a persistent tun (layer 3) or, with tap: true, tap (layer 2) device for a user-space program to open; owner: a uid or a user name who may open it without root. Needs /dev/net/tun",
        r#"red.tun("tap0", #{ tap: true, owner: "alice" });"#),
    doc!("impair", ["link.impair(#{ delay_ms, jitter_ms, loss_pct, rate_kbit })"],
        "tc qdisc replace dev DEV root netem delay D loss L% | tbf rate Rkbit (loss without netem: nft netdev egress chain on DEV, numgen random drop)",
        r#"link("veth-red").impair(#{ rate_kbit: 1000 });"#),
    doc!("unimpair", ["link.unimpair()"], "tc qdisc del dev DEV root (or nft delete chain netdev netscript impair-DEV)", r#"link("veth-red").unimpair();"#),
    doc!("help", ["help()", "help(name)"], "netscript doc [NAME]", r#"help("veth");"#),
    doc!("save", ["save(path)", "save(path, #{ force })"],
        "(REPL only) write the session's inputs that built something, in order, as a script: failed inputs and inspection-only ones (no change to the network, nothing defined or assigned) are left out, functions and imports kept; an existing file is overwritten only with force: true. For a lab built by a script: netscript export LAB",
        r#"save("lab.rhai");   // later: netscript --sandbox lab.rhai"#),
];

impl Doc {
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

/// A Rhai definitions file (`netscript doc --definitions`) for editors.
pub fn definitions() -> String {
    let mut out = String::from("module static;\n\n");
    for d in DOCS {
        for form in d.forms {
            let (call, ret) = match form.split_once(" -> ") {
                Some((c, r)) => (c, Some(r)),
                None => (*form, None),
            };
            let (recv, call) = match call.split_once('.') {
                Some((r, c)) if !r.contains('(') => (Some(r), c),
                _ => (None, call),
            };
            let Some((name, args)) = call.split_once('(') else {
                continue;
            };
            let args = args.trim_end_matches(')').replace(['[', ']'], "");
            let mut params: Vec<String> = recv
                .map(|r| format!("{r}: {}", if r == "ns" { "Netns" } else { "Link" }))
                .into_iter()
                .collect();
            let mut depth = 0;
            let mut cur = String::new();
            for ch in args.chars().chain([',']) {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let p = cur.trim();
                        if !p.is_empty() {
                            params.push(if p.starts_with("#{") {
                                "opts: Map".into()
                            } else {
                                format!("{}: ?", p.trim_matches('"').replace([':', ' ', '|'], "_"))
                            });
                        }
                        cur.clear();
                        continue;
                    }
                    _ => {}
                }
                cur.push(ch);
            }
            out.push_str(&format!("/// {}\n/// e.g. `{}`\n", d.equivalent, d.example));
            out.push_str(&format!(
                "fn {name}({}){};\n\n",
                params.join(", "),
                ret.map(|r| format!(
                    " -> {}",
                    if r.starts_with('[') {
                        "Array"
                    } else if r.starts_with("#{") {
                        "Map"
                    } else {
                        r
                    }
                ))
                .unwrap_or_default()
            ));
        }
    }
    out
}

pub fn find(name: &str) -> Option<&'static Doc> {
    DOCS.iter().find(|d| d.name == name)
}

/// The message for a call no function matches: usually a wrong argument type.
pub fn not_found(sig: &str) -> String {
    let name = sig
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or(sig);
    let shown = sig
        .replace("&str | ImmutableString | String", "string")
        .replace("ImmutableString", "string")
        .replace("i64", "integer")
        .replace(" (", "(");
    match find(name) {
        Some(d) => format!(
            "{shown}: wrong number or types of arguments; {name} is called as {}",
            d.forms.join(" or ")
        ),
        None => format!("{shown}: no such function"),
    }
}
