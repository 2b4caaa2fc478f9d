//! The core API against the real kernel: each test runs netscript inside `sandbox_sh`
//! (without `--sandbox`) and checks what it built with `ip -j`, `ip netns exec`, `stat`
//! and real traffic. Tests that only need netscript's own view use `--sandbox`.

mod common;

use common::*;

/// Rhai's `trim()` trims in place and returns `()`: this returns the trimmed string.
const TRIMMED: &str = "fn trimmed(s) { s.trim(); s }";

/// `eventually_ping(ns, ip)`: the first ping after a lab is built can be lost while the
/// kernel activates the new links (see `first_ping_after_setup_is_reliable_under_load` in
/// tests/scripts.rs), so tests that are not about that retry a few times first.
const EVENTUALLY: &str =
    "fn eventually_ping(ns, ip) { for i in 0..10 { if ns.ping(ip) { return true; } } false }";

fn with_trimmed(code: &str) -> String {
    format!("{TRIMMED}\n{code}")
}

/// The shell words for `netscript -e CODE` (CODE quoted for sh).
fn e(code: &str) -> String {
    format!("netscript -e {}", q(code))
}

// ---------------------------------------------------------------- namespaces

#[test]
fn netns_is_usable_by_ip_netns_and_lo_is_up() {
    let run = sh_ok(&format!(
        r#"{}
echo @@link; ip netns exec x ip -j link
echo @@list; ip netns list | cut -d' ' -f1
echo @@stat; stat -L -c %i /run/netns/x
echo @@inode; {}
echo @@readlink; ip netns exec x readlink /proc/self/ns/net
echo @@name; {}"#,
        e(r#"netns("x");"#),
        e(r#"netns_open("x").inode"#),
        e(r#"netns_open("x").name"#),
    ));
    let s = run.sections();
    let links = s.json("link");
    assert_eq!(link_names(&links), ["lo"]);
    assert!(has_flag(find_link(&links, "lo"), "UP"), "lo is up: {links}");
    assert_eq!(s.text("list"), "x");
    let inode = s.text("stat");
    assert!(inode.parse::<u64>().is_ok(), "{run}");
    assert_eq!(
        s.text("inode"),
        inode,
        ".inode is the inode of /run/netns/x"
    );
    assert_eq!(s.text("readlink"), format!("net:[{inode}]"));
    assert_eq!(s.text("name"), "x");
}

#[test]
fn netns_open_works_on_a_namespace_made_by_ip() {
    let run = sh_ok(&format!(
        r#"ip netns add y
echo @@stat; stat -L -c %i /run/netns/y
echo @@open; {}
ip -n y link show lo >/dev/null"#,
        e(&with_trimmed(
            r#"let y = netns_open("y");
             let out = y.exec(["readlink", "/proc/self/ns/net"]);
             print(y.name);
             print(y.inode);
             print(trimmed(out.stdout));
             print(y.inode != host().inode);"#
        )),
    ));
    let s = run.sections();
    let inode = s.text("stat");
    assert_eq!(s.text("open"), format!("y\n{inode}\nnet:[{inode}]\ntrue"));
}

#[test]
fn netns_exists_list_delete() {
    let run = sh_ok(&format!(
        r#"{}
echo @@after-script; ip netns list | cut -d' ' -f1 | sort
ip netns add z
echo @@delete; {}
echo @@after-delete; ip netns list | cut -d' ' -f1 | sort
echo @@host; {}"#,
        e(r#"netns("a"); netns("b"); netns("c");
             assert(netns_list() == ["a", "b", "c"], `list: ${netns_list()}`);
             netns_delete("b");
             assert(netns_list() == ["a", "c"], `list after delete: ${netns_list()}`);
             print(netns_exists("a"));
             print(netns_exists("b"));"#),
        e(r#"netns_delete(netns_open("z")); netns_exists("z")"#),
        e(r#"host().name"#),
    ));
    run.sections().expect(&[
        ("", "true\nfalse"),
        ("after-script", "a\nc"),
        ("delete", "false"),
        // z (made by `ip netns add`) is deleted.
        ("after-delete", "a\nc"),
        ("host", "host"),
    ]);
}

// ---------------------------------------------------------------- links

#[test]
fn veth_with_namespaces_and_mtu() {
    let run = sh_ok(&format!(
        r#"{}
echo @@a; ip -d -j -n a link
echo @@b; ip -d -j -n b link
echo @@host; ip -d -j link"#,
        e(r#"let a = netns("a");
             netns("b");
             veth("va", "vb", #{ a_ns: a, b_ns: "b", mtu: 1400 });
             veth("h0", "n0", #{ b_ns: a });"#),
    ));
    let s = run.sections();
    let (a, b, host) = (s.json("a"), s.json("b"), s.json("host"));
    assert_eq!(link_names(&a), ["lo", "n0", "va"]);
    assert_eq!(link_names(&b), ["lo", "vb"]);
    assert_eq!(
        link_names(&host),
        ["h0", "lo"],
        "an end without a namespace is in the host"
    );
    for (list, name) in [(&a, "va"), (&b, "vb")] {
        let l = find_link(list, name);
        assert_eq!(l["mtu"], 1400, "mtu applies to both ends: {l}");
        assert_eq!(l["linkinfo"]["info_kind"], "veth", "{l}");
    }
    assert_eq!(find_link(&host, "h0")["mtu"], 1500);
}

#[test]
fn ns_veth_creates_both_ends_in_the_namespace() {
    let run = sh_ok(&format!(
        r#"{}
echo @@n; ip -d -j -n n link
echo @@host; ip -j link"#,
        e(r#"let n = netns("n");
             n.veth("x0", "x1");
             n.veth("y0", "y1", #{ mtu: 9000 });"#),
    ));
    let s = run.sections();
    let n = s.json("n");
    assert_eq!(link_names(&n), ["lo", "x0", "x1", "y0", "y1"]);
    assert_eq!(find_link(&n, "y1")["mtu"], 9000);
    assert_eq!(link_names(&s.json("host")), ["lo"]);
}

#[test]
fn link_properties_match_ip_link() {
    let run = sh_ok(&format!(
        r#"echo @@props; {}
echo @@link; ip -j -n n link"#,
        e(r#"let n = netns("n");
             let v = n.veth("p0", "p1");
             let br = n.bridge("br0");
             print(v.a.peer);
             print(v.b.peer);
             print(v.a.kind);
             print(br.kind);
             print(v.a.mac);
             print(n.link("p1").mac);
             print(v.a.name);
             print(v.b.ns.name);
             print(v.a.ns == n);"#),
    ));
    let s = run.sections();
    let links = s.json("link");
    let mac0 = find_link(&links, "p0")["address"]
        .as_str()
        .unwrap()
        .to_string();
    let mac1 = find_link(&links, "p1")["address"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.text("props"),
        format!("p1\np0\nveth\nbridge\n{mac0}\n{mac1}\np0\nn\ntrue")
    );
}

#[test]
fn bridge_master_nomaster_move_delete_mtu() {
    let run = sh_ok(&format!(
        r#"{}
echo @@link; ip -d -j link
echo @@addr; ip -j addr
echo @@n-link; ip -d -j -n n link
echo @@n-addr; ip -j -n n addr"#,
        e(r#"let br = bridge("br0", "10.100.0.1/24");
             let v = veth("v0", "v1");
             v.a.master(br);
             v.b.master("br0");
             v.b.nomaster();
             link("v1").mtu(1300);
             let n = netns("n");
             let m = veth("m0", "m1").b.move_to(n);
             assert(m.ns == n && m.name == "m1");
             m.up();
             veth("d0", "d1").a.delete();
             n.bridge("br1", "10.5.0.1/24");"#),
    ));
    let s = run.sections();
    let links = s.json("link");
    assert_eq!(
        link_names(&links),
        ["br0", "lo", "m0", "v0", "v1"],
        "d0/d1 deleted, m1 moved"
    );
    let br0 = find_link(&links, "br0");
    assert_eq!(br0["linkinfo"]["info_kind"], "bridge", "{br0}");
    assert!(has_flag(br0, "UP"), "bridge() brings it up: {br0}");
    assert_eq!(addrs_of(&s.json("addr"), "br0"), ["10.100.0.1/24"]);
    assert_eq!(find_link(&links, "v0")["master"], "br0");
    let v1 = find_link(&links, "v1");
    assert!(v1.get("master").is_none(), "nomaster cleared it: {v1}");
    assert_eq!(v1["mtu"], 1300);
    let n = s.json("n-link");
    assert_eq!(link_names(&n), ["br1", "lo", "m1"]);
    assert!(
        has_flag(find_link(&n, "m1"), "UP"),
        "the handle move_to returned works"
    );
    let br1 = find_link(&n, "br1");
    assert_eq!(br1["linkinfo"]["info_kind"], "bridge");
    assert!(has_flag(br1, "UP"));
    assert_eq!(addrs_of(&s.json("n-addr"), "br1"), ["10.5.0.1/24"]);
}

#[test]
fn bridge_carries_traffic_between_namespaces() {
    // The seed's bridge topology in miniature, with the traffic check on both sides.
    let out = eval_ok(&format!(
        r#"{EVENTUALLY}
           bridge("br0", "10.100.0.1/24");
           for i in 1..=2 {{
               let c = netns(`c${{i}}`);
               let v = veth(`e${{i}}`, `e${{i}}-br`, #{{ a_ns: c }});
               v.b.master("br0");
               v.b.up();
               v.a.addr(`10.100.0.${{i + 1}}/24`);
               v.a.up();
           }}
           print(eventually_ping(netns_open("c1"), "10.100.0.3"));
           print(eventually_ping(netns_open("c2"), "10.100.0.1"));
           print(netns_open("c1").ping("10.100.0.9"));"#
    ));
    assert_eq!(out, "true\ntrue\nfalse");
}

// ---------------------------------------------------------------- IPv6 and routes

#[test]
fn ipv6_addresses_ping_and_routes() {
    let run = sh_ok(&format!(
        r#"echo @@script; {}
echo @@a-addr; ip -j -n a addr
echo @@a-route; ip -d -j -6 -n a route
echo @@b-route; ip -d -j -6 -n b route
echo @@ping; {}
serve b fd00::2 8000
echo @@http; wait_http a 'http://[fd00::2]:8000/'
echo @@connect; {}"#,
        e(r#"let a = netns("a");
             let b = netns("b");
             for ns in [a, b] {
                 ns.sysctl("net.ipv6.conf.all.accept_dad", 0);
                 ns.sysctl("net.ipv6.conf.default.accept_dad", 0);
             }
             let v = veth("va", "vb", #{ a_ns: a, b_ns: b });
             v.a.addr("fd00::1/64");
             v.b.addr("fd00::2/64");
             v.a.up();
             v.b.up();
             let ok = false;
             for i in 0..50 {
                 if a.ping("fd00::2") { ok = true; break; }
                 sleep(100);
             }
             print(ok);
             b.route("default", "fd00::1");
             a.route("fd00:9::/64", #{ via: "fd00::2", metric: 7 });"#),
        e(r#"netns_open("b").ping("fd00::1", #{ count: 2, timeout_ms: 1000 }).received"#),
        e(r#"netns_open("a").connect("[fd00::2]:8000")"#),
    ));
    let s = run.sections();
    assert_eq!(s.text("script"), "true", "ping over IPv6 works\n{run}");
    assert_eq!(addrs_of(&s.json("a-addr"), "va"), ["fd00::1/64"]);
    let default = find_route(&s.json("b-route"), "default").clone();
    assert_eq!(default["gateway"], "fd00::1", "{default}");
    assert_eq!(default["dev"], "vb", "{default}");
    assert_eq!(default["protocol"], "boot", "{default}");
    let r9 = find_route(&s.json("a-route"), "fd00:9::/64").clone();
    assert_eq!(r9["gateway"], "fd00::2", "{r9}");
    assert_eq!(r9["metric"], 7, "{r9}");
    assert_eq!(s.text("ping"), "2");
    assert_eq!(s.text("http"), "HTTP 200 fd00::1");
    assert_eq!(s.text("connect"), "true");
}

#[test]
fn routes_with_dev_metric_and_gateway() {
    let run = sh_ok(&format!(
        r#"{}
echo @@route; ip -d -j -n n route"#,
        e(r#"let n = netns("n");
             let v = n.veth("veth0", "veth1");
             v.a.addr("10.0.0.2/24");
             v.a.up();
             v.b.up();
             n.route("10.9.0.0/16", #{ dev: "veth0", metric: 50 });
             n.route("default", "10.0.0.1");
             n.route("10.8.0.0/16", #{ via: "10.0.0.3", dev: v.a });"#),
    ));
    let routes = run.sections().json("route");
    let r9 = find_route(&routes, "10.9.0.0/16");
    assert_eq!(r9["dev"], "veth0", "{r9}");
    assert_eq!(r9["metric"], 50, "{r9}");
    assert!(r9.get("gateway").is_none(), "{r9}");
    assert_eq!(
        r9["scope"], "link",
        "a device route is scope link, as with `ip route add`: {r9}"
    );
    assert_eq!(r9["protocol"], "boot", "{r9}");
    let d = find_route(&routes, "default");
    assert_eq!(d["gateway"], "10.0.0.1", "{d}");
    assert_eq!(d["dev"], "veth0", "{d}");
    assert_eq!(d["protocol"], "boot", "{d}");
    assert_eq!(d["scope"], "global", "{d}");
    assert!(d.get("metric").is_none(), "{d}");
    let r8 = find_route(&routes, "10.8.0.0/16");
    assert_eq!(r8["gateway"], "10.0.0.3", "{r8}");
    assert_eq!(r8["dev"], "veth0", "{r8}");
}

// ---------------------------------------------------------------- sysctls

#[test]
fn forward_sets_ip_forward_in_that_namespace_only() {
    let run = sh_ok(&format!(
        r#"echo @@before; cat /proc/sys/net/ipv4/ip_forward
echo @@script; {}
echo @@ns; ip netns exec n cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding
echo @@other; ip netns exec o cat /proc/sys/net/ipv4/ip_forward
echo @@host; cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding
{}
echo @@off; ip netns exec n cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding"#,
        e(r#"let n = netns("n");
             netns("o");
             n.forward(true);
             n.sysctl("net.ipv4.ip_forward")"#),
        e(r#"netns_open("n").forward(false)"#),
    ));
    run.sections().expect(&[
        ("before", "0"),
        ("script", "1"),
        ("ns", "1\n1"),
        ("other", "0"),
        // The sandbox's own forwarding is unchanged.
        ("host", "0\n0"),
        ("off", "0\n0"),
    ]);
}

#[test]
fn sysctl_reads_and_writes_inside_the_namespace() {
    let run = sh_ok(&format!(
        r#"echo @@script; {}
echo @@ns; ip netns exec n sysctl -n net.ipv4.ip_default_ttl net.ipv4.conf.all.rp_filter
echo @@host; sysctl -n net.ipv4.ip_default_ttl"#,
        e(r#"let n = netns("n");
             print(n.sysctl("net.ipv4.ip_default_ttl"));
             n.sysctl("net.ipv4.ip_default_ttl", 33);
             print(n.sysctl("net/ipv4/ip_default_ttl"));
             n.sysctl("net/ipv4/conf/all/rp_filter", "2");
             print(n.sysctl("/proc/sys/net/ipv4/conf/all/rp_filter"));
             print(sysctl("net.ipv4.ip_default_ttl"));"#),
    ));
    let s = run.sections();
    assert_eq!(s.text("script"), "64\n33\n2\n64");
    assert_eq!(s.text("ns"), "33\n2");
    assert_eq!(s.text("host"), "64");
}

// ---------------------------------------------------------------- commands

#[test]
fn exec_returns_code_stdout_stderr() {
    let out = eval_ok(&with_trimmed(
        r#"let n = netns("n");
           let r = n.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
           print(r.code);
           print(trimmed(r.stdout));
           print(trimmed(r.stderr));
           print(trimmed(n.exec("echo $0").stdout));
           print(n.exec("exit 5").code);
           print(n.exec(["true"]).code);"#,
    ));
    assert_eq!(out, "3\nout\nerr\n/bin/sh\n5\n0");
}

#[test]
fn exec_sees_the_namespace_own_sys_and_links() {
    let out = eval_ok(&with_trimmed(
        r#"veth("hostonly0", "hostonly1");
           let n = netns("n");
           n.veth("inner0", "inner1");
           print(trimmed(n.exec("ls /sys/class/net | tr '\n' ' '").stdout));
           print(trimmed(host().exec("ls /sys/class/net | tr '\n' ' '").stdout));
           print(trimmed(n.exec(["readlink", "/proc/self/ns/net"]).stdout) == `net:[${n.inode}]`);"#,
    ));
    assert_eq!(out, "inner0 inner1 lo\nhostonly0 hostonly1 lo\ntrue");
}

#[test]
fn start_returns_a_proc() {
    let out = eval_ok(&with_trimmed(
        r#"let n = netns("n");
           let p = n.start(["sleep", "300"]);
           print(p.pid > 0);
           print(p.running());
           let ns = trimmed(n.exec(`readlink /proc/${p.pid}/ns/net`).stdout);
           print(ns == `net:[${n.inode}]`);
           p.kill();
           print(p.running());
           let q = n.start(["sh", "-c", "exit 7"]);
           print(q.wait());
           print(q.running());
           let r = n.start("echo hi >/dev/null; exit 4");
           print(r.wait());"#,
    ));
    assert_eq!(out, "true\ntrue\ntrue\nfalse\n7\nfalse\n4");
}

#[test]
fn started_processes_stop_when_the_script_ends_unless_detached() {
    let run = sh_ok(&format!(
        r#"P=$({})
echo @@pid; echo $P
gone=no
for i in $(seq 100); do kill -0 "$P" 2>/dev/null || {{ gone=yes; break; }}; sleep 0.1; done
echo @@gone; echo $gone
D=$({})
echo @@detached
if kill -0 "$D" 2>/dev/null; then echo alive; kill "$D"; else echo gone; fi"#,
        e(r#"let p = netns("n").start(["sleep", "300"]); assert(p.running()); print(p.pid)"#),
        e(r#"let p = netns("d").start(["sleep", "300"], #{ detach: true }); print(p.pid)"#),
    ));
    let s = run.sections();
    assert!(s.text("pid").parse::<u32>().is_ok(), "{run}");
    assert_eq!(
        s.text("gone"),
        "yes",
        "the non-detached process was stopped\n{run}"
    );
    assert_eq!(
        s.text("detached"),
        "alive",
        "a detached process outlives the script\n{run}"
    );
}

// ---------------------------------------------------------------- probes

/// red (10.0.0.1) <-> blue (10.0.0.2), as a script prefix.
const RED_BLUE: &str = r#"
    let red = netns("red");
    let blue = netns("blue");
    let v = veth("veth-red", "veth-blue", #{ a_ns: red, b_ns: blue });
    v.a.addr("10.0.0.1/24");
    v.b.addr("10.0.0.2/24");
    v.a.up();
    v.b.up();
"#;

#[test]
fn ping_with_options_returns_counts() {
    let out = eval_ok(&format!(
        r#"{EVENTUALLY}
        {RED_BLUE}
        assert(eventually_ping(red, "10.0.0.2"));
        let r = red.ping("10.0.0.2", #{{ count: 3, timeout_ms: 500 }});
        print(r.sent);
        print(r.received);
        print(type_of(r.rtt_ms));
        print(r.rtt_ms >= 0.0);
        let u = red.ping("10.0.0.99", #{{ count: 2, timeout_ms: 300 }});
        print(u.sent);
        print(u.received);
        print(red.ping("10.0.0.2"));
        print(red.ping("10.0.0.99"));
        print(red.ping("203.0.113.1"));
        print(host().ping("10.0.0.1"));"#
    ));
    assert_eq!(out, "3\n3\nf64\ntrue\n2\n0\ntrue\nfalse\nfalse\nfalse");
}

#[test]
fn connect_true_and_false() {
    let out = eval_ok(&format!(
        r#"import "lab" as lab;
        {RED_BLUE}
        blue.start(["python3", "-m", "http.server", "8000", "--bind", "10.0.0.2"]);
        print(lab::wait_connect(red, "10.0.0.2:8000"));
        print(red.connect("10.0.0.2:8000"));
        print(red.connect("10.0.0.2:8001"));
        print(red.connect("10.0.0.99:8000"));
        print(host().connect("10.0.0.2:8000"));"#
    ));
    assert_eq!(out, "true\ntrue\nfalse\nfalse\nfalse");
}

// ---------------------------------------------------------------- --trace

/// A lab touching most operations (and never moving a link to the host: replayed with
/// `sh`, `netns 1` would mean PID 1's namespace).
const TRACE_LAB: &str = r#"
let red = netns("red");
let blue = netns("blue");
let v = veth("veth-red", "veth-blue");
v.a.move_to(red);
v.b.move_to(blue);
red.addr("veth-red", "10.0.0.1/24");
blue.addr("veth-blue", "10.0.0.2/24");
red.up("veth-red");
blue.up("veth-blue");
let w = veth("wa", "wb", #{ a_ns: red, b_ns: "blue", mtu: 1400 });
w.a.addr("fd00:1::1/64");
w.b.addr("fd00:1::2/64");
w.a.up();
w.b.up();
let br = blue.bridge("br0", "10.2.0.1/24");
let p = blue.veth("p0", "p1");
p.a.master(br);
p.a.up();
p.a.mtu(1300);
red.route("default", "10.0.0.2");
red.route("10.9.0.0/16", #{ dev: "veth-red", metric: 50 });
red.route("fd00:9::/64", #{ via: "fd00:1::2" });
blue.forward(true);
blue.sysctl("net.ipv4.ip_default_ttl", 33);
let m = veth("mv0", "mv1");
m.b.up();
m.a.move_to(blue);
let h = veth("hx", "hy", #{ b_ns: red });
addr("hx", "10.3.0.1/24");
up("hx");
link("hx").mtu(1450);
"#;

/// Run `code` with `--trace` in one sandbox and its `+ ` lines with `sh -e` in a second
/// fresh one; both must end in the same state. Returns the traced commands.
fn trace_and_replay(code: &str) -> Vec<String> {
    let traced = sh_ok(&format!(
        r#"netscript --trace -e {} 2>$T/err >/dev/null || {{ cat $T/err >&2; exit 1; }}
echo @@trace; grep '^+ ' $T/err
dump_state"#,
        q(code)
    ));
    let commands: Vec<String> = traced
        .sections()
        .text("trace")
        .lines()
        .map(|l| l.strip_prefix("+ ").unwrap().to_string())
        .collect();
    let replayed = sh_ok(&format!(
        "sh -e -x <<'EOF'\n{}\nEOF\ndump_state",
        commands.join("\n")
    ));
    let (a, b) = (normalized_state(&traced), normalized_state(&replayed));
    assert!(
        a.contains_key("link:host") && a.contains_key("route6:host"),
        "{a:#?}"
    );
    for key in a.keys().chain(b.keys()) {
        assert_eq!(
            a.get(key),
            b.get(key),
            "{key} differs between the traced run (left) and the replayed trace (right)\n{replayed}"
        );
    }
    commands
}

#[test]
fn trace_prints_ip_commands_that_rebuild_the_same_state() {
    let commands = trace_and_replay(TRACE_LAB);
    let has = |line: &str| commands.iter().any(|c| c == line);
    for expected in [
        "ip netns add red",
        "ip -n red addr add 10.0.0.1/24 dev veth-red",
        "ip -n red link set dev veth-red up",
        "ip -n red route add default via 10.0.0.2",
    ] {
        assert!(has(expected), "trace lacks `{expected}`: {commands:#?}");
    }
    // The veth may be created directly in its namespaces (`ip link add name veth-red netns red
    // type veth peer name veth-blue netns blue`) or created and then moved.
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("ip link add name veth-red ")
                && c.contains(" type veth peer name veth-blue")),
        "trace lacks the veth-red/veth-blue pair: {commands:#?}"
    );
}

#[test]
fn trace_of_the_example_scripts_replays() {
    for name in ["connect-two", "host-route"] {
        let src = std::fs::read_to_string(script_path(name)).unwrap();
        trace_and_replay(&src);
    }
}

#[test]
fn trace_replays_with_keyword_like_link_names() {
    trace_and_replay(r#"veth("ma", "mb"); up("ma"); link("mb").mtu(1400); let done = true;"#);
}

#[test]
fn trace_short_flag_and_stdout_untouched() {
    let run = eval(r#"netns("red"); veth("a", "b"); 42"#);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.is_empty(), "no trace without -x\n{run}");
    let run = sandboxed(&["-x", "-e", r#"netns("red"); veth("a", "b"); 42"#]).success();
    assert_eq!(run.stdout.trim(), "42", "trace goes to stderr only\n{run}");
    assert_eq!(
        run.stderr_lines_with("+ "),
        [
            "ip netns add red",
            "ip -n red link set lo up",
            // One queue per end (see --kernel-defaults).
            "ip link add name a numtxqueues 1 numrxqueues 1 type veth peer name b numtxqueues 1 numrxqueues 1"
        ],
        "{run}"
    );
}

// ---------------------------------------------------------------- rollback

/// Builds a bit of everything, then fails with `failure`.
fn rollback_script(failure: &str) -> String {
    format!(
        r#"let red = netns("red");
let blue = netns("blue");
let v = veth("veth-red", "veth-blue", #{{ a_ns: red, b_ns: blue }});
v.a.addr("10.0.0.1/24");
v.a.up();
let br = bridge("br0", "10.100.0.1/24");
let h = veth("h0", "h1");
h.a.master(br);
h.b.move_to(red);
addr("lo", "10.77.0.1/32");
route("10.66.0.0/16", #{{ dev: "lo" }});
forward(true);
sysctl("net.ipv4.ip_default_ttl", 33);
let p = red.start(["sleep", "300"]);
print(p.pid);
print(sysctl("net.ipv4.ip_forward"));
print(sysctl("net.ipv4.ip_default_ttl"));
{failure}
print("not reached");
"#
    )
}

fn check_rollback(failure: &str, message: &str) {
    let script = TempScript::new("rollback", &rollback_script(failure));
    let run = sh_ok(&format!(
        r#"sysctl -qw net.ipv4.ip_default_ttl=77
rc=0; netscript {} >$T/out 2>$T/err || rc=$?
echo @@rc; echo $rc
echo @@out; cat $T/out
echo @@err; cat $T/err
echo @@list; ip netns list
echo @@link; ip -j link
echo @@addr; ip -j addr
echo @@route; ip -j route
echo @@forward; cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding
echo @@ttl; cat /proc/sys/net/ipv4/ip_default_ttl
echo @@proc
P=$(head -n1 $T/out)
gone=no
for i in $(seq 100); do kill -0 "$P" 2>/dev/null || {{ gone=yes; break; }}; sleep 0.1; done
echo $gone"#,
        q(script.path())
    ));
    let s = run.sections();
    assert_eq!(s.text("rc"), "1", "{run}");
    let out: Vec<&str> = s.text("out").lines().collect();
    assert_eq!(
        out[1..],
        ["1", "33"],
        "the script changed the sysctls before failing\n{run}"
    );
    assert!(s.text("err").contains(message), "{run}");
    assert_eq!(s.text("list"), "", "no namespaces left\n{run}");
    assert_eq!(
        link_names(&s.json("link")),
        ["lo"],
        "only lo is left\n{run}"
    );
    assert_eq!(
        addrs_of(&s.json("addr"), "lo"),
        Vec::<String>::new(),
        "the address on lo is gone\n{run}"
    );
    assert_eq!(
        s.json("route"),
        serde_json::json!([]),
        "the route is gone\n{run}"
    );
    assert_eq!(s.text("forward"), "0\n0", "forwarding restored\n{run}");
    assert_eq!(
        s.text("ttl"),
        "77",
        "the sysctl is restored to its previous value\n{run}"
    );
    assert_eq!(
        s.text("proc"),
        "yes",
        "the started process was stopped\n{run}"
    );
}

#[test]
fn rollback_after_assert_false() {
    check_rollback(
        r#"assert(false, "stop here");"#,
        "assertion failed: stop here",
    );
}

#[test]
fn rollback_after_a_bad_call() {
    check_rollback(
        r#"link("missing").up();"#,
        r#"link "missing" does not exist"#,
    );
}

#[test]
fn rollback_after_throw() {
    check_rollback(r#"throw "thrown";"#, "thrown");
}

#[test]
fn rollback_restores_what_existed_before() {
    // Objects the script did not create are left in place and put back as they were.
    let run = sh_ok(&format!(
        r#"ip netns add pre
ip link add pre0 type veth peer name pre1
ip link add brx type bridge
rc=0; netscript -e {} 2>$T/err || rc=$?
echo @@rc; echo $rc
echo @@list; ip netns list | cut -d' ' -f1
echo @@pre-link; ip -j -n pre link
echo @@pre-addr; ip -j -n pre addr
echo @@pre-forward; ip netns exec pre cat /proc/sys/net/ipv4/ip_forward
echo @@link; ip -j link"#,
        q(r#"let p = netns_open("pre");
             p.veth("a", "b");
             p.addr("lo", "10.1.1.1/32");
             up("pre0");
             link("pre0").mtu(1400);
             link("pre0").master("brx");
             up("brx");
             link("pre1").move_to(p);
             p.forward(true);
             assert(false);"#)
    ));
    let s = run.sections();
    assert_eq!(s.text("rc"), "1");
    assert_eq!(
        s.text("list"),
        "pre",
        "the namespace made by `ip netns add` stays"
    );
    assert_eq!(link_names(&s.json("pre-link")), ["lo"]);
    assert_eq!(addrs_of(&s.json("pre-addr"), "lo"), Vec::<String>::new());
    assert_eq!(s.text("pre-forward"), "0");
    let links = s.json("link");
    assert_eq!(
        link_names(&links),
        ["brx", "lo", "pre0", "pre1"],
        "pre1 moved back\n{run}"
    );
    let pre0 = find_link(&links, "pre0");
    assert!(!has_flag(pre0, "UP"), "down again: {pre0}");
    assert_eq!(pre0["mtu"], 1500, "{pre0}");
    assert!(pre0.get("master").is_none(), "{pre0}");
    assert!(!has_flag(find_link(&links, "brx"), "UP"));
}

#[test]
fn rollback_of_a_move_restores_the_links_configuration() {
    let run = sh_ok(&format!(
        r#"ip link add pre0 type veth peer name pre1
ip addr add 10.5.5.1/24 dev pre0
ip link set pre0 up
ip link set pre1 up
ip route add 10.7.0.0/16 via 10.5.5.2
rc=0; netscript -e {} 2>$T/err || rc=$?
echo @@rc; echo $rc
echo @@addr; ip -j addr
echo @@route; ip -j route"#,
        q(r#"let n = netns("n"); link("pre0").move_to(n); assert(false);"#)
    ));
    let s = run.sections();
    assert_eq!(s.text("rc"), "1");
    let addr = s.json("addr");
    assert!(
        has_flag(find_link(&addr, "pre0"), "UP"),
        "pre0 is up again\n{run}"
    );
    assert_eq!(
        addrs_of(&addr, "pre0"),
        ["10.5.5.1/24"],
        "pre0 has its address again\n{run}"
    );
    let route = find_route(&s.json("route"), "10.7.0.0/16").clone();
    assert_eq!(
        route["gateway"], "10.5.5.2",
        "the route through pre0 is back\n{run}"
    );
}

#[test]
fn interrupt_rolls_back() {
    for signal in ["INT", "TERM"] {
        let run = sh_ok(&format!(
            r#"netscript -e {} >$T/out 2>$T/err &
P=$!
for i in $(seq 300); do grep -q ready $T/out && break; sleep 0.1; done
echo @@seen; ip netns list | cut -d' ' -f1
kill -{signal} $P
rc=0; wait $P || rc=$?
echo @@rc; echo $rc
echo @@err; cat $T/err
echo @@list; ip netns list
echo @@link; ip -j link"#,
            q(
                r#"netns("sig"); bridge("brs"); print("ready"); sleep(60000); print("not reached");"#
            )
        ));
        let s = run.sections();
        assert_eq!(
            s.text("seen"),
            "sig",
            "the lab was up before the signal\n{run}"
        );
        assert_eq!(s.text("rc"), "1", "SIG{signal}\n{run}");
        assert!(s.text("err").contains("interrupted"), "{run}");
        assert_eq!(
            s.text("list"),
            "",
            "SIG{signal}: namespaces rolled back\n{run}"
        );
        assert_eq!(
            link_names(&s.json("link")),
            ["lo"],
            "SIG{signal}: bridge rolled back\n{run}"
        );
    }
}

#[test]
fn rm_and_teardown_undo_a_successful_run() {
    let run = sh_ok(&format!(
        r#"netscript --lab kept -e {keep}
echo @@kept-journal; ls /run/netscript | grep -c '^kept.*journal' || true
netscript --rm --lab gone -e {keep2}
echo @@gone-journal; ls /run/netscript | grep -c '^gone.*journal' || true
echo @@teardown; netscript -e {teardown}
echo @@list; ip netns list | cut -d' ' -f1
echo @@link; ip -j link"#,
        keep = q(r#"netns("kept"); let done = true;"#),
        keep2 = q(r#"netns("a"); bridge("br0"); veth("v0", "v1"); let done = true;"#),
        teardown = q(
            r#"netns("t"); bridge("br9"); teardown(); print(netns_exists("t")); print(netns_list());"#
        ),
    ));
    let s = run.sections();
    assert_eq!(
        s.text("kept-journal"),
        "1",
        "a successful run keeps its journal under the lab name\n{run}"
    );
    assert_eq!(
        s.text("gone-journal"),
        "0",
        "--rm leaves no lab behind\n{run}"
    );
    assert_eq!(s.text("teardown"), "false\n[\"kept\"]");
    assert_eq!(
        s.text("list"),
        "kept",
        "only the first run's namespace is left\n{run}"
    );
    assert_eq!(link_names(&s.json("link")), ["lo"]);
}

#[test]
fn labs_ls_and_down() {
    let run = sh_ok(&format!(
        r#"netscript {} >/dev/null
D=$({})
echo @@ls; netscript ls --json
echo @@down; netscript down connect-two
echo @@after-down; ip netns list | cut -d' ' -f1
echo @@again; netscript down connect-two
echo @@nosuch; rc=0; netscript down nosuch 2>&1 || rc=$?; echo "rc=$rc"
netscript down proc >/dev/null
gone=no
for i in $(seq 100); do kill -0 "$D" 2>/dev/null || {{ gone=yes; break; }}; sleep 0.1; done
[ $gone = yes ] || kill "$D"
echo @@detached-gone; echo $gone
echo @@list; ip netns list
echo @@link; ip -j link
echo @@ls-empty; netscript ls --json"#,
        q(&script_path("connect-two")),
        e(r#"let p = netns("d").start(["sleep", "300"], #{ detach: true }); print(p.pid)"#)
            .replace("netscript -e", "netscript --lab proc -e"),
    ));
    let s = run.sections();
    let labs = s.json("ls");
    let names: Vec<&str> = labs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lab"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["connect-two", "proc"], "{run}");
    assert!(s.text("down").contains("connect-two"), "{run}");
    assert_eq!(
        s.text("after-down"),
        "d",
        "connect-two's namespaces are gone, proc's stays\n{run}"
    );
    assert!(s.text("again").contains("already down"), "{run}");
    assert!(
        s.text("nosuch").ends_with("rc=1"),
        "down of a name that was never a lab exits 1\n{run}"
    );
    assert_eq!(
        s.text("detached-gone"),
        "yes",
        "down stops the lab's detached processes\n{run}"
    );
    assert_eq!(s.text("list"), "");
    assert_eq!(link_names(&s.json("link")), ["lo"]);
    assert_eq!(s.json("ls-empty"), serde_json::json!([]), "{run}");
}

#[test]
fn keep_on_error_keeps_the_state() {
    let run = sh_ok(&format!(
        r#"rc=0; netscript --keep-on-error -e {} 2>$T/err || rc=$?
echo @@rc; echo $rc
echo @@list; ip netns list | cut -d' ' -f1
echo @@link; ip -j link"#,
        q(r#"netns("red"); bridge("br0"); assert(false)"#)
    ));
    let s = run.sections();
    assert_eq!(s.text("rc"), "1");
    assert_eq!(s.text("list"), "red");
    assert_eq!(link_names(&s.json("link")), ["br0", "lo"]);
}

#[test]
fn a_syntax_error_runs_nothing() {
    let script = TempScript::new("syntax", "netns(\"red\");\nlet = ;\n");
    let run = sh_ok(&format!(
        r#"rc=0; netscript {} 2>$T/err || rc=$?
echo @@rc; echo $rc
echo @@list; ip netns list"#,
        q(script.path())
    ));
    let s = run.sections();
    assert_eq!(s.text("rc"), "1");
    assert_eq!(s.text("list"), "");
}

// ---------------------------------------------------------------- command line

#[test]
fn args_holds_the_arguments_after_file() {
    let script = TempScript::new("args", "print(ARGS.len());\nfor a in ARGS { print(a); }\n");
    let run = sandboxed(&[script.path(), "one", "two words", "--three", "-x"]).success();
    assert_eq!(run.stdout, "4\none\ntwo words\n--three\n-x\n");
    let run = sandboxed(&[script.path()]).success();
    assert_eq!(run.stdout, "0\n");
    assert_eq!(eval_ok("ARGS.len()"), "0");
}

#[test]
fn eval_prints_the_result() {
    assert_eq!(eval_ok("1 + 2"), "3");
    assert_eq!(eval_ok(r#""plain string""#), "plain string");
    assert_eq!(eval_ok(r#"netns("r").name"#), "r");
    assert_eq!(eval_ok(r#"netns_exists("r")"#), "false");
    assert_eq!(
        eval_ok(r#"let r = netns("r");"#),
        "",
        "a unit result prints nothing"
    );
    assert_eq!(eval_ok(r#"print("a"); "b""#), "a\nb");
}

#[test]
fn eval_prints_namespace_and_link_handles() {
    assert_eq!(eval_ok(r#"netns("r")"#), r#"Netns("r")"#);
    assert_eq!(eval_ok(r#"link("lo")"#), r#"Link("lo")"#);
    assert_eq!(
        eval_ok(r#"let v = veth("a", "b"); `${v}`"#),
        r#"Veth(Link("a") <=> Link("b"))"#
    );
}

#[test]
fn eval_prints_veth_and_proc_handles() {
    assert_eq!(
        eval_ok(r#"veth("a", "b")"#),
        r#"Veth(Link("a") <=> Link("b"))"#
    );
    let out = eval_ok(r#"let p = netns("r").start(["sleep", "5"]); print(p.pid); p"#);
    let (pid, shown) = out.split_once('\n').unwrap();
    assert_eq!(shown, format!("Proc({pid})"));
}

#[test]
fn check_touches_nothing() {
    let run = sh_ok(&format!(
        r#"for s in {} {}; do netscript check "$s"; done
echo @@list; ip netns list
echo @@link; ip -j link
echo @@labs; ls /run/netscript"#,
        q(&script_path("connect-two")),
        q(&script_path("host-route")),
    ));
    let s = run.sections();
    assert_eq!(
        s.text(""),
        format!(
            "ok {}\nok {}",
            script_path("connect-two"),
            script_path("host-route")
        ),
        "check says ok for each good script\n{run}"
    );
    assert_eq!(s.text("list"), "");
    assert_eq!(link_names(&s.json("link")), ["lo"]);
    assert_eq!(s.text("labs"), "", "no journal written\n{run}");
}

#[test]
fn check_reports_a_syntax_error_with_its_position() {
    let script = TempScript::new("bad", "let x = 1;\nlet y = (x + ;\n");
    let run = sh(&format!("netscript check {}", q(script.path()))).fails_with(1);
    let r = error_report(&run);
    assert_eq!(r.file, script.path());
    assert_eq!((r.line, r.col), (2, 14), "{run}");
    assert_eq!(r.source_line, "    let y = (x + ;");
}

#[test]
fn check_resolves_imports() {
    let script = TempScript::new("import", "import \"no-such-module\" as m;\nm::f();\n");
    let run = sh(&format!("netscript check {}", q(script.path()))).fails_with(1);
    let r = error_report(&run);
    assert_eq!((r.line, r.col), (1, 8), "{run}");
    assert!(r.message.contains("no-such-module"), "{run}");
}

// ---------------------------------------------------------------- modules and --json

#[test]
fn a_script_imports_modules_from_its_own_folder() {
    let main = TempScript::new(
        "main",
        "import \"helpers\" as h;\nlet v = h::pair(\"m1\", \"m2\");\nprint(link(\"m1\").peer);\n",
    );
    let dir = main.path.parent().unwrap();
    std::fs::write(dir.join("helpers.rhai"), "fn pair(a, b) { veth(a, b) }\n").unwrap();
    let run = sandboxed(&[main.path()]).success();
    assert_eq!(run.stdout.trim(), "m2", "{run}");
}

#[test]
fn json_prints_the_result_of_e_as_json() {
    let run = sandboxed(&[
        "--json",
        "-e",
        r#"let r = netns("r"); #{ links: r.links(), n: 1, none: () }"#,
    ])
    .success();
    let v: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}\n{run}"));
    assert_eq!(v["n"], 1);
    assert!(v["none"].is_null());
    assert_eq!(v["links"][0]["name"], "lo", "{run}");
    assert_eq!(v["links"][0]["up"], true, "{run}");
}

#[test]
fn sandbox_works_without_root_through_a_user_namespace() {
    if std::process::Command::new("su")
        .arg("--help")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `su` on this machine");
        return;
    }
    let cmd = format!("{} --sandbox {}", q(BIN), q(&script_path("connect-two")));
    let out = std::process::Command::new("su")
        .args(["nobody", "-s", "/bin/sh", "-c", &cmd])
        .output()
        .expect("running su");
    let (code, stdout, stderr) = (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    if code == Some(126) || code == Some(127) {
        eprintln!("skipped: user nobody cannot execute {BIN}: {stderr}");
        return;
    }
    if stderr.contains("cannot create a user namespace") {
        eprintln!("skipped: this kernel does not allow unprivileged user namespaces: {stderr}");
        return;
    }
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("ping works both ways"), "{stdout}");
}
