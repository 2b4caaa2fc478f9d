//! Inspection against what iproute2 and ss report: each test builds a small lab inside
//! `sandbox_sh` (netscript without `--sandbox`, so the state stays to be looked at), then
//! compares `.links()`, `.addrs()`, `.routes()`, `.neighbors()` and `.sockets()` (printed
//! as JSON, one map a line) with `ip -j link/addr/route/neigh` and `ss -tlnpH` / `ss -ulnpH`
//! for the same namespace. Also the namespace of a process (`netns_of`, `netns_attach`),
//! bad input, and the pictures of `netscript graph` and `show()`.

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

// ---------------------------------------------------------------- helpers

/// One JSON value a line (what `jl(...)` prints).
fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nin:\n{text}"))
        })
        .collect()
}

/// A string field, or "" when it is null / missing.
fn s(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_default()
}

/// `netscript -e CODE` as shell words (CODE quoted).
fn e(code: &str) -> String {
    format!("netscript -e {}", q(code))
}

/// Rhai: print each element of an array as JSON, one a line.
const JL: &str = "fn jl(a) { for x in a { print(x.to_json()) } }";

// ---------------------------------------------------------------- the lab

/// Namespaces `a` and `b` and the host:
///   host h0 10.2.0.1/30 ══ h1 10.2.0.2/30 in a (a's default route via 10.2.0.1)
///   a: br0 (bridge) 10.1.0.1/24, port va (mtu 1400) ══ vb in b 10.1.0.2/24 + fd00::2/64
///   a: vdown ══ vdown-peer, both down
///   b: default via 10.1.0.1, 192.168.50.0/24 via 10.1.0.1 metric 50, fd00:1::/64 dev vb,
///      a permanent neighbor 10.1.0.99, python3 listening on tcp 10.1.0.2:8080, tcp [::]:9090
///      (dual stack) and udp 127.0.0.1:5353.
const LAB: &str = r#"
let a = netns("a");
let b = netns("b");
a.bridge("br0", "10.1.0.1/24");
veth("va", "vb", #{ a_ns: "a", b_ns: "b", mtu: 1400 });
a.link("va").master("br0");
a.up("va");
b.up("vb");
b.addr("vb", "10.1.0.2/24");
b.addr("vb", "fd00::2/64");
b.route("default", "10.1.0.1");
b.route("192.168.50.0/24", #{ via: "10.1.0.1", metric: 50 });
b.route("fd00:1::/64", #{ dev: "vb" });
a.veth("vdown", "vdown-peer");
veth("h0", "h1", #{ b_ns: "a" });
up("h0");
addr("h0", "10.2.0.1/30");
a.up("h1");
a.addr("h1", "10.2.0.2/30");
a.route("default", "10.2.0.1");
// A ping fills the neighbor tables (b: 10.1.0.1 on vb; a: 10.1.0.2 on br0).
let reached = false;
for i in 0..20 {
    if b.ping("10.1.0.1") { reached = true; break; }
}
assert(reached, "b reaches the bridge");
"#;

const PY_LISTENER: &str = r#"
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5353))
s6 = socket.socket(socket.AF_INET6); s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s6.bind(("::", 9090)); s6.listen()
s4 = socket.socket(); s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s4.bind(("10.1.0.2", 8080)); s4.listen()
time.sleep(3600)
"#;

/// Build the lab once (shared by the tests of this file: they only read it) and dump, per
/// namespace, netscript's inspection and iproute2's / ss's view, as `@@WHAT:NS` sections.
fn lab() -> &'static Run {
    static LAB_RUN: OnceLock<Run> = OnceLock::new();
    LAB_RUN.get_or_init(|| {
        let dump = format!(
            r#"{JL}
for n in [host(), netns_open("a"), netns_open("b")] {{
    print(`@@ns-links:${{n.name}}`); jl(n.links());
    print(`@@ns-addrs:${{n.name}}`); jl(n.addrs());
    print(`@@ns-routes:${{n.name}}`); jl(n.routes());
    print(`@@ns-neigh:${{n.name}}`); jl(n.neighbors());
    print(`@@ns-sockets:${{n.name}}`); jl(n.sockets());
}}
print("@@ns-toplevel"); print(links() == host().links() && addrs() == host().addrs() && routes() == host().routes());"#
        );
        sh_ok(&format!(
            r#"cat > $T/lab.rhai <<'EOF'
{LAB}
EOF
netscript $T/lab.rhai
ip -n b neigh add 10.1.0.99 lladdr 02:00:00:00:00:99 dev vb nud permanent
ip netns exec b python3 -c {py} & PY=$!
for i in $(seq 200); do ip netns exec b ss -tlnH | grep -q '10.1.0.2:8080' && break; sleep 0.05; done
echo @@pid; echo $PY
{dump}
for n in host a b; do
    if [ $n = host ]; then p=""; x=""; else p="-n $n"; x="ip netns exec $n"; fi
    echo "@@ip-link:$n"; ip -d -j $p link
    echo "@@ip-addr:$n"; ip -j $p addr
    echo "@@ip-route:$n"; ip -d -j $p route
    echo "@@ip-route6:$n"; ip -d -j -6 $p route
    echo "@@ip-neigh:$n"; ip -j $p neigh
    echo "@@ss-tcp:$n"; $x ss -tlnpH
    echo "@@ss-udp:$n"; $x ss -ulnpH
done"#,
            py = q(PY_LISTENER),
            dump = e(&dump),
        ))
    })
}

const SPACES: [&str; 3] = ["host", "a", "b"];

fn ns_list(what: &str, ns: &str) -> Vec<Value> {
    jsonl(lab().sections().get(&format!("ns-{what}:{ns}")))
}

fn ip_list(what: &str, ns: &str) -> Vec<Value> {
    let v = lab().sections().json(&format!("ip-{what}:{ns}"));
    v.as_array().expect("a JSON array").clone()
}

// ---------------------------------------------------------------- links, addrs

/// The peer of a veth in `ip -j link` output: its name when in the same namespace, else the
/// names of the veths in other namespaces whose ifindex and link_index match it crosswise.
fn ip_peer_candidates(ns: &str, l: &Value) -> Vec<String> {
    if let Some(name) = l["link"].as_str() {
        return vec![name.to_string()];
    }
    let Some(peer_index) = l["link_index"].as_u64() else {
        return vec![];
    };
    let mut out = vec![];
    for other in SPACES.iter().filter(|o| **o != ns) {
        for p in ip_list("link", other) {
            if p["ifindex"].as_u64() == Some(peer_index) && p["link_index"] == l["ifindex"] {
                out.push(s(&p["ifname"]));
            }
        }
    }
    out
}

#[test]
fn links_match_ip_link() {
    for ns in SPACES {
        let ours = ns_list("links", ns);
        let ip = Value::Array(ip_list("link", ns));
        let addrs = Value::Array(ip_list("addr", ns));
        let mut names: Vec<String> = ours.iter().map(|l| s(&l["name"])).collect();
        names.sort();
        assert_eq!(names, link_names(&ip), "{ns}: the same links as `ip link`");
        for l in &ours {
            let name = s(&l["name"]);
            let k = find_link(&ip, &name);
            let what = format!("{ns}/{name}: ours {l}\nip: {k}");
            let kind =
                k["linkinfo"]["info_kind"]
                    .as_str()
                    .unwrap_or(if k["link_type"] == "loopback" {
                        "loopback"
                    } else {
                        ""
                    });
            assert_eq!(s(&l["kind"]), kind, "kind of {what}");
            assert_eq!(l["up"].as_bool(), Some(has_flag(k, "UP")), "up of {what}");
            assert_eq!(l["mac"], k["address"], "mac of {what}");
            assert_eq!(l["mtu"], k["mtu"], "mtu of {what}");
            assert_eq!(s(&l["master"]), s(&k["master"]), "master of {what}");
            if kind == "veth" {
                let cands = ip_peer_candidates(ns, k);
                assert!(
                    cands.contains(&s(&l["peer"])),
                    "peer of {what}\ncandidates: {cands:?}"
                );
            } else {
                assert!(l["peer"].is_null(), "no peer for {what}");
            }
            // Every address of the link, link-local ones too.
            let mut theirs: Vec<String> = find_link(&addrs, &name)["addr_info"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|i| format!("{}/{}", s(&i["local"]), i["prefixlen"]))
                        .collect()
                })
                .unwrap_or_default();
            let mut mine: Vec<String> = l["addrs"].as_array().unwrap().iter().map(s).collect();
            theirs.sort();
            mine.sort();
            assert_eq!(mine, theirs, "addrs of {what}");
        }
    }
    // Spot checks of the lab itself, so that a comparison of two empty lists cannot pass.
    let a = ns_list("links", "a");
    let get = |n: &str| {
        a.iter()
            .find(|l| l["name"] == n)
            .unwrap_or_else(|| panic!("no {n} in a: {a:?}"))
            .clone()
    };
    assert_eq!(get("br0")["kind"], "bridge");
    assert_eq!(get("br0")["addrs"][0], "10.1.0.1/24");
    assert_eq!(get("va")["master"], "br0");
    assert_eq!(get("va")["peer"], "vb");
    assert_eq!(get("va")["mtu"], 1400);
    assert_eq!(get("vdown")["up"], false);
    assert_eq!(get("vdown")["peer"], "vdown-peer");
    assert_eq!(get("h1")["peer"], "h0");
    assert_eq!(get("lo")["kind"], "loopback");
    let b = ns_list("links", "b");
    let vb = b.iter().find(|l| l["name"] == "vb").expect("vb in b");
    assert_eq!(vb["up"], true);
    assert_eq!(vb["peer"], "va");
    assert!(
        vb["addrs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "fd00::2/64"),
        "{vb}"
    );
}

#[test]
fn addrs_match_ip_addr() {
    for ns in SPACES {
        let mut ours: Vec<(String, String)> = ns_list("addrs", ns)
            .iter()
            .map(|a| (s(&a["dev"]), s(&a["addr"])))
            .collect();
        let mut theirs: Vec<(String, String)> = ip_list("addr", ns)
            .iter()
            .flat_map(|l| {
                let dev = s(&l["ifname"]);
                l["addr_info"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |i| {
                        (
                            dev.clone(),
                            format!("{}/{}", s(&i["local"]), i["prefixlen"]),
                        )
                    })
            })
            .collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{ns}: the same addresses as `ip addr`");
    }
    let b = ns_list("addrs", "b");
    for want in ["10.1.0.2/24", "fd00::2/64", "127.0.0.1/8"] {
        assert!(b.iter().any(|a| a["addr"] == want), "{want} in b: {b:?}");
    }
    // IPv4 before IPv6, as `ip addr` groups them per family.
    let first_v6 = b.iter().position(|a| s(&a["addr"]).contains(':')).unwrap();
    assert!(
        b[first_v6..].iter().all(|a| s(&a["addr"]).contains(':')),
        "IPv4 then IPv6: {b:?}"
    );
}

#[test]
fn toplevel_inspection_is_the_hosts() {
    assert_eq!(lab().sections().text("ns-toplevel"), "true");
}

// ---------------------------------------------------------------- routes

/// `ip -d -j route` entries as (dst, via, dev, src, scope, proto).
fn ip_routes(ns: &str) -> Vec<[String; 6]> {
    let mut v: Vec<[String; 6]> = ip_list("route", ns)
        .into_iter()
        .chain(ip_list("route6", ns))
        .map(|r| {
            [
                s(&r["dst"]),
                s(&r["gateway"]),
                s(&r["dev"]),
                s(&r["prefsrc"]),
                r["scope"].as_str().unwrap_or("global").to_string(),
                s(&r["protocol"]),
            ]
        })
        .collect();
    v.sort();
    v
}

#[test]
fn routes_match_ip_route() {
    for ns in SPACES {
        let ours = ns_list("routes", ns);
        let mut mine: Vec<[String; 6]> = ours
            .iter()
            .map(|r| {
                [
                    s(&r["dst"]),
                    s(&r["via"]),
                    s(&r["dev"]),
                    s(&r["src"]),
                    s(&r["scope"]),
                    s(&r["proto"]),
                ]
            })
            .collect();
        mine.sort();
        assert_eq!(
            mine,
            ip_routes(ns),
            "{ns}: the same routes as `ip route` + `ip -6 route`\nours: {ours:#?}"
        );
        // IPv4 first, then IPv6.
        if let Some(first_v6) = ours.iter().position(|r| s(&r["dst"]).contains(':')) {
            assert!(
                ours[first_v6..].iter().all(|r| s(&r["dst"]).contains(':')),
                "{ns}: IPv4 then IPv6: {ours:#?}"
            );
        }
    }
    let b = ns_list("routes", "b");
    let default = b
        .iter()
        .find(|r| r["dst"] == "default")
        .expect("b has a default route");
    assert_eq!(default["via"], "10.1.0.1");
    assert_eq!(default["dev"], "vb");
    assert_eq!(default["proto"], "boot", "as `ip route add` makes it");
    let ip_default = find_route(&Value::Array(ip_list("route", "b")), "default").clone();
    assert_eq!(ip_default["gateway"], "10.1.0.1");
    assert_eq!(ip_default["protocol"], "boot");
    let connected = b
        .iter()
        .find(|r| r["dst"] == "10.1.0.0/24")
        .expect("the connected route");
    assert_eq!(
        (
            s(&connected["proto"]),
            s(&connected["scope"]),
            s(&connected["src"])
        ),
        ("kernel".into(), "link".into(), "10.1.0.2".into())
    );
    assert!(
        b.iter()
            .any(|r| r["dst"] == "192.168.50.0/24" && r["via"] == "10.1.0.1"),
        "{b:?}"
    );
    assert!(
        b.iter()
            .any(|r| r["dst"] == "fd00:1::/64" && r["dev"] == "vb" && r["via"].is_null()),
        "{b:?}"
    );
    let a = ns_list("routes", "a");
    assert!(
        a.iter()
            .any(|r| r["dst"] == "default" && r["via"] == "10.2.0.1" && r["dev"] == "h1"),
        "{a:?}"
    );
}

// ---------------------------------------------------------------- neighbors

#[test]
fn neighbors_match_ip_neigh() {
    for ns in SPACES {
        let ours = ns_list("neigh", ns);
        let theirs = ip_list("neigh", ns);
        let mine: BTreeSet<(String, String, String)> = ours
            .iter()
            .map(|n| (s(&n["ip"]), s(&n["mac"]), s(&n["dev"])))
            .collect();
        let ip: BTreeSet<(String, String, String)> = theirs
            .iter()
            .map(|n| (s(&n["dst"]), s(&n["lladdr"]), s(&n["dev"])))
            .collect();
        assert_eq!(mine, ip, "{ns}: the same neighbors as `ip neigh`");
        for n in &ours {
            // States change with time (REACHABLE -> STALE ...); the name must be ip's.
            let st = s(&n["state"]);
            assert!(
                [
                    "REACHABLE",
                    "STALE",
                    "DELAY",
                    "PROBE",
                    "PERMANENT",
                    "NOARP",
                    "INCOMPLETE",
                    "FAILED"
                ]
                .contains(&st.as_str()),
                "{ns}: state of {n}"
            );
        }
    }
    let mac_of = |ns: &str, dev: &str| -> Value {
        ns_list("links", ns)
            .into_iter()
            .find(|l| l["name"] == dev)
            .unwrap()["mac"]
            .clone()
    };
    // After b pinged 10.1.0.1: b knows br0's MAC, and a knows vb's.
    let b = ns_list("neigh", "b");
    let gw = b
        .iter()
        .find(|n| n["ip"] == "10.1.0.1")
        .unwrap_or_else(|| panic!("b has a neighbor entry for 10.1.0.1: {b:?}"));
    assert_eq!(gw["dev"], "vb");
    assert_eq!(gw["mac"], mac_of("a", "br0"));
    let a = ns_list("neigh", "a");
    let c = a
        .iter()
        .find(|n| n["ip"] == "10.1.0.2")
        .unwrap_or_else(|| panic!("a has a neighbor entry for 10.1.0.2: {a:?}"));
    assert_eq!(c["dev"], "br0");
    assert_eq!(c["mac"], mac_of("b", "vb"));
    // A static entry: a state that cannot change.
    let st = b
        .iter()
        .find(|n| n["ip"] == "10.1.0.99")
        .expect("the permanent entry");
    assert_eq!(
        (s(&st["mac"]), s(&st["state"])),
        ("02:00:00:00:00:99".into(), "PERMANENT".into())
    );
    let ip_st = ip_list("neigh", "b")
        .into_iter()
        .find(|n| n["dst"] == "10.1.0.99")
        .unwrap();
    assert_eq!(ip_st["state"][0], "PERMANENT");
}

// ---------------------------------------------------------------- sockets

/// `ss -lnpH` lines as (local, process, pid). ss prints a dual-stack wildcard as `*:PORT`.
fn ss_sockets(text: &str) -> BTreeSet<(String, String, i64)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let local = f[3].to_string();
            let users = l.split_once("users:((\"").map(|x| x.1).unwrap_or("");
            let process = users.split('"').next().unwrap_or("").to_string();
            let pid = users
                .split_once("pid=")
                .and_then(|x| x.1.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(-1);
            (local, process, pid)
        })
        .collect()
}

/// netscript's sockets of `proto` as (local, process, pid), with `[::]:P` written as ss
/// writes it, `*:P`.
fn our_sockets(ns: &str, proto: &str) -> BTreeSet<(String, String, i64)> {
    ns_list("sockets", ns)
        .iter()
        .filter(|x| x["proto"] == proto)
        .map(|x| {
            let local = s(&x["local"]);
            let local = match local.strip_prefix("[::]:") {
                Some(port) => format!("*:{port}"),
                None => local,
            };
            (local, s(&x["process"]), x["pid"].as_i64().unwrap_or(-1))
        })
        .collect()
}

#[test]
fn sockets_match_ss() {
    let run = lab();
    for ns in SPACES {
        let sec = run.sections();
        assert_eq!(
            our_sockets(ns, "tcp"),
            ss_sockets(sec.get(&format!("ss-tcp:{ns}"))),
            "{ns}: TCP listeners as `ss -tlnp`"
        );
        assert_eq!(
            our_sockets(ns, "udp"),
            ss_sockets(sec.get(&format!("ss-udp:{ns}"))),
            "{ns}: UDP sockets as `ss -ulnp`"
        );
        for x in ns_list("sockets", ns) {
            assert!(x["proto"] == "tcp" || x["proto"] == "udp", "{ns}: {x}");
        }
    }
    let pid: i64 = run.sections().text("pid").parse().expect("the python pid");
    let b = ns_list("sockets", "b");
    for (proto, local) in [("tcp", "10.1.0.2:8080"), ("udp", "127.0.0.1:5353")] {
        let x = b
            .iter()
            .find(|x| x["proto"] == proto && x["local"] == local)
            .unwrap_or_else(|| panic!("{proto} {local} in b: {b:?}"));
        assert_eq!(x["process"], "python3", "{x}");
        assert_eq!(x["pid"], pid, "{x}");
    }
    assert!(
        b.iter()
            .any(|x| x["proto"] == "tcp" && s(&x["local"]).ends_with(":9090")),
        "{b:?}"
    );
    assert!(ns_list("sockets", "a").is_empty(), "nothing listens in a");
}

// ---------------------------------------------------------------- netns_of, netns_attach

/// Shell: start `unshare -n sleep 1000` in the background as $P and wait until it is in
/// its own namespace.
const UNNAMED_PROC: &str = r#"unshare -n sleep 1000 & P=$!
for i in $(seq 200); do [ "$(readlink /proc/$P/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.05; done
[ "$(readlink /proc/$P/ns/net)" != "$(readlink /proc/self/ns/net)" ]"#;

#[test]
fn netns_of_finds_the_namespace_of_a_process() {
    let run = sh_ok(&format!(
        r#"{UNNAMED_PROC}
echo @@stat; stat -L -c %i /proc/$P/ns/net
echo @@inode; netscript -e "netns_of($P).inode"
echo @@other; netscript -e "netns_of($P) != host() && netns_of($P).inode != host().inode"
echo @@links; netscript -e "{JL} jl(netns_of($P).links())"
echo @@ip-links; nsenter --target $P --net ip -j link
echo @@self; netscript -e "netns_of($$)"
echo @@self-inode; stat -L -c %i /proc/self/ns/net
echo @@host-inode; netscript -e "host().inode"
ip netns add named
ip netns exec named sleep 1000 & Q=$!
for i in $(seq 200); do [ "$(readlink /proc/$Q/ns/net)" = "net:[$(stat -L -c %i /run/netns/named)]" ] && break; sleep 0.05; done
echo @@named; netscript -e "netns_of($Q)"
echo @@named-name; netscript -e "netns_of($Q).name""#
    ));
    let sec = run.sections();
    let inode = sec.text("stat");
    assert!(inode.parse::<u64>().is_ok(), "{run}");
    assert_eq!(
        sec.text("inode"),
        inode,
        "netns_of(pid).inode is the inode of /proc/PID/ns/net\n{run}"
    );
    assert_eq!(sec.text("other"), "true", "{run}");
    // Inspection works on the unnamed namespace: only a loopback, down.
    let ours = jsonl(sec.get("links"));
    let ip = sec.json("ip-links");
    assert_eq!(ours.len(), 1, "{run}");
    assert_eq!(ours[0]["name"], "lo");
    assert_eq!(
        ours[0]["up"].as_bool(),
        Some(has_flag(find_link(&ip, "lo"), "UP"))
    );
    // The shell itself is in the sandbox's own namespace: host().
    assert_eq!(sec.text("self"), "Netns(host)", "{run}");
    assert_eq!(sec.text("host-inode"), sec.text("self-inode"));
    // A process in a named namespace: netns_of gives it by its name.
    assert_eq!(sec.text("named"), r#"Netns("named")"#, "{run}");
    assert_eq!(sec.text("named-name"), "named", "{run}");
}

#[test]
fn netns_attach_names_a_process_namespace() {
    let run = sh_ok(&format!(
        r#"{UNNAMED_PROC}
echo @@attach; netscript --lab attached -e "let c = netns_attach(\"ctr\", $P); print(c.name); print(c.inode == netns_of($P).inode); print(netns_of($P))"
echo @@list; ip netns list | cut -d' ' -f1
echo @@exec; ip netns exec ctr ip -j link
echo @@stat-name; stat -L -c %i /run/netns/ctr
echo @@stat-proc; stat -L -c %i /proc/$P/ns/net
echo @@ls; netscript ls
echo @@down; netscript down attached
echo @@list-after; ip netns list | cut -d' ' -f1
echo @@alive; kill -0 $P && readlink /proc/$P/ns/net"#
    ));
    let sec = run.sections();
    sec.expect(&[
        ("attach", "ctr\ntrue\nNetns(\"ctr\")"),
        // ip netns list shows the name.
        ("list", "ctr"),
    ]);
    let links = sec.json("exec");
    assert_eq!(
        link_names(&links),
        ["lo"],
        "`ip netns exec ctr` runs in the process's namespace\n{run}"
    );
    assert_eq!(sec.text("stat-name"), sec.text("stat-proc"), "{run}");
    assert!(
        sec.text("ls").contains("attached"),
        "the attachment is journaled in lab `attached`\n{run}"
    );
    // `netscript down` undoes the attachment (the name), not the process or its namespace.
    assert_eq!(sec.text("list-after"), "", "{run}");
    assert_eq!(
        sec.text("alive"),
        format!("net:[{}]", sec.text("stat-proc")),
        "{run}"
    );
}

/// Run `netscript -e CODE` in a sandbox and return (code, stderr); it must not panic.
fn failing_eval(setup: &str, code: &str) -> Run {
    let run = sh(&format!("{setup}\n{}", e(code)));
    assert!(!run.stderr.contains("panicked"), "{run}");
    run
}

#[test]
fn netns_of_a_missing_or_bad_pid_is_a_clear_error() {
    for (code, names) in [
        ("netns_of(999999)", "999999"),
        ("netns_of(-1)", "-1"),
        ("netns_of(0)", "0"),
        ("netns_of(4294967297)", "4294967297"),
    ] {
        let run = failing_eval("", code).fails_with(1);
        let report = error_report(&run);
        assert_eq!((report.line, report.col), (1, 1), "{run}");
        assert!(
            report.message.starts_with(&format!("{code}: ")),
            "the message names the call\n{run}"
        );
        assert!(
            report.message[code.len()..].contains(names),
            "the message names the pid\n{run}"
        );
    }
    // A process that has exited (and been reaped) is as gone as one that never was.
    let run = sh(r#"sleep 0 & P=$!; wait $P
echo @@code; netscript -e "netns_of($P)" 2>$T/err || echo $?
echo @@err; cat $T/err"#);
    let sec = run.sections();
    assert_eq!(sec.text("code"), "1", "{run}");
    assert!(
        sec.text("err").contains("does not exist") || sec.text("err").contains("no such process"),
        "{run}"
    );
    // And it can be caught.
    let run = sh(&e(
        r#"try { netns_of(999999); print("no error") } catch (err) { print(`caught: ${err}`) }"#,
    ))
    .success();
    assert!(
        run.stdout.trim().starts_with("caught: netns_of(999999)"),
        "{run}"
    );
}

#[test]
fn netns_attach_to_an_existing_name_fails_and_changes_nothing() {
    let run = sh(&format!(
        r#"{UNNAMED_PROC}
ip netns add taken
netscript --lab minelab -e "netns(\"mine\")" >/dev/null
echo @@before; ip netns list | cut -d' ' -f1 | sort; stat -L -c %i /run/netns/taken; ls /run/netns
echo @@taken; netscript -e "netns_attach(\"taken\", $P)" 2>&1 && echo succeeded || echo "exit $?"
echo @@mine; netscript -e "netns_attach(\"mine\", $P)" 2>&1 && echo succeeded || echo "exit $?"
echo @@badname; netscript -e "netns_attach(\"bad/name\", $P)" 2>&1 && echo succeeded || echo "exit $?"
echo @@nopid; netscript -e "netns_attach(\"fresh\", 999999)" 2>&1 && echo succeeded || echo "exit $?"
echo @@after; ip netns list | cut -d' ' -f1 | sort; stat -L -c %i /run/netns/taken; ls /run/netns
echo @@inode-mine; stat -L -c %i /run/netns/mine
echo @@inode-proc; stat -L -c %i /proc/$P/ns/net
echo @@ls; netscript ls"#
    ))
    .success();
    let sec = run.sections();
    let taken = sec.text("taken");
    assert!(taken.ends_with("exit 1"), "{run}");
    assert!(
        taken.contains(r#"netns_attach("taken", "#) && taken.contains("already exists"),
        "{run}"
    );
    let mine = sec.text("mine");
    assert!(
        mine.ends_with("exit 1") && mine.contains("already exists"),
        "{run}"
    );
    let bad = sec.text("badname");
    assert!(bad.ends_with("exit 1") && bad.contains("bad/name"), "{run}");
    let nopid = sec.text("nopid");
    assert!(
        nopid.ends_with("exit 1") && nopid.contains("999999"),
        "{run}"
    );
    assert!(!run.stdout.contains("panicked"), "{run}");
    // Nothing changed: the same names (no half-made "fresh" in /run/netns either), the same
    // namespace behind "taken", and "mine" still its own namespace, not the process's.
    assert_eq!(sec.text("after"), sec.text("before"), "{run}");
    assert!(sec.text("before").contains("taken\n"), "{run}");
    assert_ne!(sec.text("inode-mine"), sec.text("inode-proc"), "{run}");
    let ls = sec.text("ls");
    assert!(
        ls.contains("minelab") && !ls.contains("eval"),
        "failed runs leave no lab behind\n{run}"
    );
}

// ---------------------------------------------------------------- vanished namespaces

const METHODS: [&str; 5] = ["links", "addrs", "routes", "neighbors", "sockets"];

/// Rhai: call each inspection method on `g` and print the error (or "no error: RESULT").
fn try_each(handle: &str) -> String {
    METHODS
        .iter()
        .map(|m| format!(r#"try {{ let r = {handle}.{m}(); print(`no error: {m}: ${{r}}`) }} catch (err) {{ print(err) }}"#))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_vanished(out: &str, name: &str) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), METHODS.len(), "one line per method:\n{out}");
    for (m, l) in METHODS.iter().zip(&lines) {
        assert!(
            l.starts_with(&format!("{name}.{m}(): ")),
            "the error names the call and the namespace: {l:?}\n{out}"
        );
        assert!(
            l.contains(&format!("\"{name}\"")) && l.contains("does not exist"),
            "{l:?}\n{out}"
        );
    }
}

#[test]
fn inspecting_a_deleted_namespace_is_a_clear_error() {
    // Deleted by netscript itself, or by `ip netns del` before netscript looked at it.
    let run = sh_ok(&format!(
        r#"echo @@own; {}
ip netns add gone2
echo @@external; {}
echo @@uncaught; {} 2>&1 || echo "exit $?""#,
        e(&format!(
            "let g = netns(\"gone\"); netns_delete(\"gone\");\n{}",
            try_each("g")
        )),
        e(&format!(
            "let g = netns_open(\"gone2\"); host().exec(\"ip netns del gone2\");\n{}",
            try_each("g")
        )),
        e("let g = netns(\"gone3\"); netns_delete(g); g.links()"),
    ));
    let sec = run.sections();
    check_vanished(sec.text("own"), "gone");
    check_vanished(sec.text("external"), "gone2");
    let uncaught = sec.text("uncaught");
    assert!(uncaught.ends_with("exit 1"), "{run}");
    assert!(
        uncaught.contains("error: gone3.links(): namespace \"gone3\" does not exist"),
        "{run}"
    );
    assert!(
        !run.stdout.contains("panicked") && !run.stderr.contains("panicked"),
        "{run}"
    );
}

#[test]
fn inspecting_a_namespace_deleted_after_use_is_a_clear_error() {
    let run = sh_ok(&format!(
        r#"ip netns add gone
ip -n gone link add brx type bridge
echo @@out; {}"#,
        e(&format!(
            "let g = netns_open(\"gone\"); g.links(); host().exec(\"ip netns del gone\"); print(netns_exists(\"gone\"));\n{}",
            try_each("g")
        )),
    ));
    let out = run.sections().text("out").to_string();
    let (first, rest) = out.split_once('\n').unwrap();
    assert_eq!(first, "false", "{run}");
    check_vanished(rest, "gone");
}

// ---------------------------------------------------------------- the example script

#[test]
fn inspect_script_passes_under_sandbox() {
    let run = sandboxed(&[&script_path("inspect")]).success();
    assert!(
        run.stdout
            .contains("inspect: found, compared, named and looked inside a process's namespace"),
        "{run}"
    );
    assert!(
        run.stdout.contains("python3"),
        "it prints the listeners\n{run}"
    );
    assert!(!run.stderr.contains("error"), "{run}");
}

// ---------------------------------------------------------------- graph and show()

/// build-lab in a sandbox, then every form of `netscript graph` and `show()`.
fn graphs() -> &'static Run {
    static GRAPHS: OnceLock<Run> = OnceLock::new();
    GRAPHS.get_or_init(|| {
        sh_ok(&format!(
            r#"netscript {build} >/dev/null
echo @@text; netscript graph build-lab
echo @@text-explicit; netscript graph --format text build-lab
echo @@all; netscript graph
echo @@dot; netscript graph --format dot build-lab
echo @@mermaid; netscript graph --format mermaid build-lab
echo @@has-dot; command -v dot >/dev/null && echo yes || echo no
echo @@svg; netscript graph --format svg build-lab 2>$T/svg-err && echo "exit 0" || echo "exit $?"
echo @@svg-err; cat $T/svg-err
echo @@json; netscript --json graph build-lab > $T/json; cat $T/json; echo
echo @@json-newline; [ "$(tail -c 1 $T/json | od -An -c | tr -d ' ')" = '\n' ] && echo yes || echo no
echo @@nolab; netscript graph nolab 2>&1 && echo "exit 0" || echo "exit $?"
echo @@badformat; netscript graph --format png build-lab 2>&1 && echo "exit 0" || echo "exit $?"
echo @@show-e; netscript -e 'show()'
printf 'print("before");\nshow();\nprint("after");\n' > $T/pic.rhai
echo @@show-script; netscript $T/pic.rhai"#,
            build = q(&script_path("build-lab")),
        ))
    })
}

#[test]
fn graph_text_is_the_seeds_picture() {
    let sec = graphs().sections();
    let text = sec.get("text");
    for want in [
        "Bridge: br0",
        "NS: c1",
        "NS: c2",
        "10.100.0.1/24",
        "10.100.0.2/24",
        "10.100.0.3/24",
        "veth-c1-br",
        "veth-c2-br",
        "veth-c1",
        "via 10.100.0.1",
        "masquerade",
    ] {
        assert!(text.contains(want), "{want:?} in the picture:\n{text}");
    }
    let lines: Vec<&str> = text.lines().collect();
    let row = |f: &dyn Fn(&str) -> bool| lines.iter().position(|l| f(l));
    // As in the seed: the bridge on top, its ports going down to the namespaces side by side.
    let bridge = row(&|l| l.contains("Bridge: br0")).unwrap();
    let ports = row(&|l| l.contains("veth-c1-br") && l.contains("veth-c2-br"))
        .expect("the ports on one row");
    let boxes =
        row(&|l| l.contains("NS: c1") && l.contains("NS: c2")).expect("c1 and c2 side by side");
    assert!(bridge < ports && ports < boxes, "{text}");
    assert_eq!(
        text,
        sec.get("text-explicit"),
        "--format text is the default"
    );
    assert_eq!(
        text,
        sec.get("all"),
        "the lab is everything there is in the sandbox"
    );
}

#[test]
fn show_prints_the_same_picture() {
    let sec = graphs().sections();
    assert_eq!(
        sec.get("show-e"),
        sec.get("all"),
        "show() in -e is `netscript graph`"
    );
    assert_eq!(
        sec.get("show-script"),
        format!("before\n{}after\n", sec.get("all")),
        "show() in a script"
    );
}

/// Node ids by the first word of their label, in dot (`ID [label="NAME ..."]`) or mermaid
/// (`ID["NAME ..."]`) output.
fn node_ids(text: &str, sep: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (id, rest) = l.trim().split_once(sep)?;
            let name = rest.split([' ', '"']).next()?;
            Some((name.to_string(), id.trim().to_string()))
        })
        .collect()
}

fn id_of<'a>(ids: &'a [(String, String)], name: &str, text: &str) -> &'a str {
    let found: Vec<&str> = ids
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, i)| i.as_str())
        .collect();
    assert_eq!(found.len(), 1, "one node for {name}: {found:?}\n{text}");
    found[0]
}

#[test]
fn graph_dot_has_the_wires() {
    let sec = graphs().sections();
    let dot = sec.text("dot");
    assert!(dot.starts_with("graph netscript {"), "{dot}");
    assert!(dot.ends_with('}'), "{dot}");
    let ids = node_ids(dot, " [label=\"");
    let edge = |a: &str, b: &str| {
        let (a, b) = (id_of(&ids, a, dot), id_of(&ids, b, dot));
        dot.lines().any(|l| {
            let l = l.trim();
            l.starts_with(&format!("{a} -- {b}")) || l.starts_with(&format!("{b} -- {a}"))
        })
    };
    assert!(
        edge("veth-c1-br", "veth-c1"),
        "a veth edge between veth-c1-br and veth-c1:\n{dot}"
    );
    assert!(edge("veth-c2-br", "veth-c2"), "{dot}");
    assert!(
        edge("veth-c1-br", "br0"),
        "the port edge to the bridge:\n{dot}"
    );
    assert!(
        dot.contains("label=\"ns c1\"") && dot.contains("label=\"ns c2\""),
        "{dot}"
    );
    assert!(
        dot.contains("10.100.0.2/24")
            && dot.contains("masquerade")
            && dot.contains("default via 10.100.0.1"),
        "{dot}"
    );
}

#[test]
fn graph_mermaid_is_a_flowchart() {
    let sec = graphs().sections();
    let m = sec.get("mermaid");
    assert!(m.starts_with("flowchart TB\n"), "{m}");
    let ids = node_ids(m, "[\"");
    let (a, b) = (id_of(&ids, "veth-c1-br", m), id_of(&ids, "veth-c1", m));
    assert!(
        m.lines()
            .any(|l| l.contains(a) && l.contains(b) && l.contains("veth") && l.contains("==")),
        "a veth edge between {a} and {b}:\n{m}"
    );
    assert!(
        m.contains("10.100.0.3/24") && m.contains("masquerade"),
        "{m}"
    );
}

#[test]
fn graph_svg_needs_graphviz() {
    let sec = graphs().sections();
    if sec.text("has-dot") == "yes" {
        assert_eq!(
            sec.text("svg").lines().last(),
            Some("exit 0"),
            "{}",
            graphs()
        );
        assert!(sec.text("svg").contains("<svg"), "{}", graphs());
    } else {
        assert_eq!(sec.text("svg"), "exit 1", "{}", graphs());
        let err = sec.text("svg-err");
        assert!(
            err.contains("Graphviz"),
            "the message names Graphviz: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn graph_json_has_the_namespaces() {
    let sec = graphs().sections();
    let v = sec.json("json");
    let spaces = v["spaces"]
        .as_array()
        .unwrap_or_else(|| panic!("no spaces: {v:#}"));
    let names: Vec<&str> = spaces.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["host", "c1", "c2"], "{v:#}");
    let c1 = &spaces[1];
    let veth = c1["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "veth-c1")
        .expect("veth-c1 in c1");
    assert_eq!(veth["addrs"], serde_json::json!(["10.100.0.2/24"]));
    assert_eq!(c1["default_via"], "10.100.0.1");
    let host_links = spaces[0]["links"].as_array().unwrap();
    assert!(
        host_links
            .iter()
            .any(|l| l["name"] == "veth-c1-br" && l["master"] == "br0"),
        "{v:#}"
    );
    assert!(
        spaces[0]["nat"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| s(n).contains("masquerade")),
        "{v:#}"
    );
    assert_eq!(
        v["wires"].as_array().map(|w| w.len()),
        Some(2),
        "two veth pairs: {v:#}"
    );
}

#[test]
fn graph_json_ends_with_a_newline() {
    assert_eq!(graphs().sections().text("json-newline"), "yes");
}

#[test]
fn graph_of_a_lab_that_is_not_up_fails_clearly() {
    let sec = graphs().sections();
    let nolab = sec.text("nolab");
    assert!(nolab.ends_with("exit 1"), "{nolab}");
    assert!(
        nolab.contains("\"nolab\"") && nolab.contains("no lab"),
        "the message names the lab: {nolab}"
    );
    let bad = sec.text("badformat");
    assert!(bad.ends_with("exit 2"), "bad usage exits 2: {bad}");
}
