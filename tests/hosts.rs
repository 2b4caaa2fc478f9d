//! One lab across many machines (`--hosts FILE`), with the machines simulated: each
//! "host" is a network namespace (h-a, h-b, h-c) with its own mount namespace (private
//! /run/netns, /run/netscript, /sys), all joined by an underlay bridge, each running its
//! own `sshd` with this test's keys. Everything is inside one `sandbox_sh` sandbox: the
//! sshds listen only on its underlay, and die with it.

mod common;

use common::hosts::*;
use common::q;

/// The script README.md shows under "One command, every host" (the test runs what the
/// README shows), then checks appended: every container pings every other.
fn mesh_script() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("reading README.md");
    let section = readme
        .split("### One command, every host")
        .nth(1)
        .expect("README.md has the section");
    let script = section
        .split("```rhai\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("the section shows a script");
    format!("{script}{MESH_PINGS}")
}

const MESH_PINGS: &str = r#"// Every container pings every other, on every host (the hosts come up in their own time).
for c in cs {
    for n in [11, 12, 21, 22, 31, 32] {
        let a = `10.200.0.${n}`;
        let ok = false;
        for t in 0..100 { if c.ping(a) { ok = true; break; } sleep(100); }
        assert(ok, `${c.name} pings ${a}`);
    }
}
print(`${HOST}: all pings answered`);
"#;

/// A 1 MiB HTTP server (in the background) and a client that checks every byte.
const BLOB_SERVER: &str = r#"
import http.server, socketserver
body = (b"0123456789" * 104858)[:1048576]
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
S(("", 8080), H).serve_forever()
"#;
const BLOB_CLIENT: &str = r#"
import sys, time, urllib.request
b = b""
for _ in range(100):
    try:
        b = urllib.request.urlopen(sys.argv[1], timeout=5).read(); break
    except Exception:
        time.sleep(0.1)
print("got", len(b), "intact" if b == (b"0123456789" * 104858)[:1048576] else "CORRUPT")
"#;

#[test]
fn three_hosts_mesh_ping_http_graph_ls_down_twice_and_the_upload_path() {
    let r = around_script(
        PLAIN_PATH,
        "mesh.rhai",
        &mesh_script(),
        &format!(
            r#"
run run N mesh.rhai
# 1 MiB over HTTP, host b to host c, across the overlay.
N exec b:b1 -- python3 -c {server} >/dev/null 2>&1 &
run http N exec c:c2 -- python3 -c {client} http://10.200.0.21:8080/
# The sender (b1) got no ICMP "fragmentation needed": the MTU was right from the start
# (the kernel's VXLAN would otherwise answer each too-large frame so, and TCP would shrink).
run unreach N exec b:b1 -- awk {unreach} /proc/net/snmp
# The mesh gave the containers (made before it, without an mtu) the segment's MTU, and
# not one packet was fragmented on the underlay (which would drop it).
run mtu N exec a:a1 -- ip -o link show veth-a1
echo @@frags
for h in a b c; do nsenter -t $(holder $h) -n nft list chain netdev underlay frags | grep -o 'packets [0-9]*'; done
# capture HOST:NS: traffic from a1 to c2 among the first packets (an IPv6 router
# solicitation may come first).
N exec a:a1 -- python3 -c {sender} >/dev/null 2>&1 &
run capture N capture c:c2 veth-c2 -c 10 --seconds 10
run graph N graph
run dot N graph --format dot
run mermaid N graph --format mermaid
run json N --json graph
run ls N ls
run down N down mesh
run down2 N down mesh
run ls2 N ls
echo @@cache; ls $T/a/cache/netscript
"#,
            server = q(BLOB_SERVER),
            sender = q("import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nwhile True:\n    s.sendto(b'x', ('10.200.0.32', 9999)); time.sleep(0.05)\n"),
            client = q(BLOB_CLIENT),
            unreach = q(r#"/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 } else for (i = 1; i <= NF; i++) if (n[i] == "InDestUnreachs") print "unreachable", $i }"#),
        ),
    );
    let s = r.sections();
    let run = s.get("run");
    assert!(
        run.ends_with("rc=0\n"),
        "the run succeeds on all three\n{r}"
    );
    for h in ["a", "b", "c"] {
        assert!(
            run.contains(&format!("[{h}] {h}: all pings answered")),
            "{r}"
        );
        // No netscript on the remote PATH: this one was uploaded to the host's cache.
        assert!(
            run.contains(&format!("[{h}] netscript: no netscript"))
                && run.contains("uploaded this one to"),
            "{r}"
        );
    }
    assert!(s.get("http").contains("got 1048576 intact"), "{r}");
    assert!(s.get("mtu").contains(" mtu 1450 "), "{r}");
    assert!(s.get("unreach").contains("unreachable 0\n"), "{r}");
    assert_eq!(s.lines("frags"), ["packets 0"; 3], "{r}");
    let capture = s.get("capture");
    assert!(
        capture.ends_with("rc=0\n") && capture.contains("10.200.0."),
        "{r}"
    );
    // One picture: a box per host holding its topology, and the overlay's segment (VNI
    // 42, every host joined to every other) as one line joining their VXLANs.
    let graph = s.get("graph");
    assert!(graph.ends_with("rc=0\n"), "{r}");
    assert!(
        graph
            .lines()
            .next()
            .unwrap()
            .ends_with("┌ vni 42 (vx-mesh): a, b, c"),
        "{r}"
    );
    for (h, ip) in [("a", 1), ("b", 2), ("c", 3)] {
        assert!(
            graph.contains(&format!("┌─ host {h} (underlay 10.99.0.{ip}) ─")),
            "{r}"
        );
        for ns in [1, 2] {
            assert!(graph.contains(&format!("NS: {h}{ns} ")), "{r}");
        }
    }
    let vx: Vec<&str> = graph
        .lines()
        .filter(|l| l.contains("vx-mesh (vxlan) vni 42"))
        .collect();
    assert_eq!(vx.len(), 3, "{r}");
    assert!(
        vx[..2].iter().all(|l| l.contains("├─") && l.ends_with('┤')),
        "{r}"
    );
    assert!(vx[2].contains("├─") && vx[2].ends_with('┘'), "{r}");
    // dot and mermaid: a cluster per host, an edge per pair of hosts' VXLANs.
    let dot = s.get("dot");
    let mermaid = s.get("mermaid");
    for (i, h) in ["a", "b", "c"].iter().enumerate() {
        let title = format!("host {h} (underlay 10.99.0.{})", i + 1);
        assert!(
            dot.contains(&format!("subgraph cluster_h{i} {{\n  label=\"{title}\";")),
            "{r}"
        );
        assert!(
            mermaid.contains(&format!("subgraph h{i}[\"{title}\"]")),
            "{r}"
        );
    }
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        assert!(
            dot.contains(&format!(
                "h{a}_host_vx_mesh -- h{b}_host_vx_mesh [style=dashed, penwidth=2, label=\"vni 42\"];"
            )),
            "{r}"
        );
        assert!(
            mermaid.contains(&format!("h{a}_host_vx_mesh -.-|vni 42| h{b}_host_vx_mesh")),
            "{r}"
        );
    }
    assert_eq!(dot.matches("label=\"vni 42\"").count(), 3, "{r}");
    let json: serde_json::Value =
        serde_json::from_str(s.get("json").trim_end().trim_end_matches("rc=0")).expect("JSON");
    assert_eq!(json["hosts"].as_array().map(Vec::len), Some(3), "{r}");
    assert_eq!(json["hosts"][2]["underlay"], "10.99.0.3", "{r}");
    assert!(json["hosts"][0]["topology"]["spaces"].is_array(), "{r}");
    assert_eq!(json["overlay"].as_array().map(Vec::len), Some(3), "{r}");
    assert_eq!(json["overlay"][0]["vni"], 42, "{r}");
    let ls = s.get("ls");
    for h in ["a", "b", "c"] {
        assert!(
            ls.lines().any(|l| l.starts_with(&format!("[{h}] mesh "))),
            "{r}"
        );
        // Connected again, the cached copy is used: no second upload.
    }
    assert!(!ls.contains("uploaded"), "{r}");
    for h in ["a", "b", "c"] {
        assert!(
            s.get("down")
                .contains(&format!("[{h}] lab \"mesh\" is down")),
            "{r}"
        );
        assert!(
            s.get("down2")
                .contains(&format!("[{h}] lab \"mesh\" is already down")),
            "{r}"
        );
        assert!(
            s.get("ls2").contains(&format!("[{h}] no labs are up")),
            "{r}"
        );
    }
    assert!(s.get("down2").ends_with("rc=0\n"), "{r}");
    assert_as_before(&r);
    assert_eq!(s.lines("cache").len(), 1, "one cached binary\n{r}");
}

#[test]
fn a_failure_on_one_host_rolls_every_host_back() {
    let r = around_script(
        PLAIN_PATH,
        "fail.rhai",
        r#"
let n = netns(`n-${HOST}`);
let br = bridge("br9");
if HOST == "b" {
    sleep(500);
    throw "no room on b";
}
"#,
        r#"
run run N fail.rhai
"#,
    );
    let s = r.sections();
    let run = s.get("run");
    assert!(run.ends_with("rc=1\n"), "{r}");
    // The error keeps FILE:LINE:COL and says which host.
    assert!(
        run.contains("[b] fail.rhai:5:5: error: no room on b"),
        "{r}"
    );
    assert!(
        run.contains("the run failed on b; every host is rolled back"),
        "{r}"
    );
    assert!(
        run.contains("host b: failed (exit 1); it rolled itself back"),
        "{r}"
    );
    assert_rolled_back(run, &["a", "c"], &r);
    assert_as_before(&r);
}

#[test]
fn sshd_killed_mid_run_fails_naming_the_host_and_down_cleans_up_after() {
    let r = around_script(
        PLAIN_PATH,
        "slow.rhai",
        r#"
let n = netns(`n-${HOST}`);
if HOST == "b" {
    print("ready");
    for i in 0..600 { sleep(100); }
}
"#,
        r#"
N slow.rhai > $T/out 2>&1 &
bg=$!
for i in $(seq 600); do grep -q '^\[b\] ready' $T/out && break; sleep 0.05; done
kill_sshd b
wait $bg; rc=$?; echo "@@run"; cat $T/out; echo "rc=$rc"
# b's run ends with its session: it rolls itself back.
for i in $(seq 200); do
    [ -z "$(nsenter -t $(holder b) -m -n ip netns list)" ] && break; sleep 0.05
done
start_sshd b
run down N down slow
"#,
    );
    let s = r.sections();
    let run = s.get("run");
    assert!(run.contains("the run failed on b"), "{r}");
    assert!(run.contains("host b: lost the connection"), "{r}");
    assert!(!run.contains("the run failed on a"), "{r}");
    // Done before b was lost (taken down), or stopped while it ran (rolled back).
    assert_rolled_back(run, &["a", "c"], &r);
    let down = s.get("down");
    assert!(down.ends_with("rc=0\n"), "{r}");
    for h in ["a", "b", "c"] {
        assert!(down.contains(&format!("[{h}] lab \"slow\" is")), "{r}");
    }
    assert_as_before(&r);
}

#[test]
fn version_match_uses_the_remote_netscript_and_plan_touches_nothing() {
    let path = format!("{}:{PLAIN_PATH}", common::bin_dir().display());
    let r = around_script(
        &path,
        "mesh.rhai",
        r#"
import "lab" as lab;
let br = bridge("br0");
lab::mesh("br0", #{ vni: 7 });
// Made after the mesh, without an mtu: it takes the segment's.
let c = netns(`${HOST}1`);
let v = veth(`veth-${HOST}1-br`, `veth-${HOST}1`, #{ b_ns: c });
v.a.master(br);
for l in c.links() + links() {
    if l.name.starts_with("veth-") || l.name == "br0" { print(`${l.name} mtu ${l.mtu}`); }
}
"#,
        r#"
# Host c's underlay carries 1400-byte packets.
nsenter -t $(holder c) -n ip link set eth0 mtu 1400
run plan N plan mesh.rhai
run run N mesh.rhai
run down N down mesh
echo @@cache; ls $T/a/cache
"#,
    );
    let s = r.sections();
    let plan = s.get("plan");
    assert!(plan.ends_with("rc=0\n"), "{r}");
    for (h, others) in [("a", ["2", "3"]), ("b", ["1", "3"]), ("c", ["1", "2"])] {
        assert!(plan.contains(&format!("# ==== host {h} ({h}) ====")), "{r}");
        let section = plan
            .split(&format!("# ==== host {h} ({h}) ===="))
            .nth(1)
            .unwrap()
            .split("# ==== host")
            .next()
            .unwrap();
        for o in others {
            assert!(
                section.contains(&format!(
                    "bridge fdb append 00:00:00:00:00:00 dev vx-mesh dst 10.99.0.{o}"
                )),
                "{r}"
            );
        }
    }
    let run = s.get("run");
    assert!(run.ends_with("rc=0\n"), "{r}");
    // The underlay's MTU less VXLAN's 50 bytes, on the bridge and both ends of the veth.
    for (h, mtu) in [("a", 1450), ("b", 1450), ("c", 1350)] {
        for l in [
            format!("[{h}] veth-{h}1 mtu {mtu}"),
            format!("[{h}] veth-{h}1-br mtu {mtu}"),
            format!("[{h}] br0 mtu {mtu}"),
        ] {
            assert!(run.contains(&l), "{l}\n{r}");
        }
        assert!(
            plan.contains(&format!("ip link set dev br0 mtu {mtu}")),
            "{r}"
        );
    }
    assert!(
        !s.get("run").contains("uploaded"),
        "the remote's own netscript is used\n{r}"
    );
    assert!(s.get("cache").trim().is_empty(), "nothing uploaded\n{r}");
    assert_as_before(&r);
}

#[test]
fn bad_hosts_files_and_an_unreachable_host_are_refused_before_anything_is_built() {
    let r = around(
        PLAIN_PATH,
        r#"
echo 'let n = netns("x");' > x.rhai
printf '[hosts.a]\nssh = "a"\nport = 22\n' > unknown.toml
run unknown netscript --hosts unknown.toml x.rhai
printf '[hosts.a]\nssh = "a"\nunderlay = "10.99.0.1"\n[hosts.b]\nssh = "b"\nunderlay = "10.99.0.1"\n' > dup.toml
run dup netscript --hosts dup.toml x.rhai
printf '[hosts.a]\nunderlay = "10.99.0.1"\n' > missing.toml
run missing netscript --hosts missing.toml x.rhai
printf '[hosts."a:1"]\nssh = "a"\n' > colon.toml
run colon netscript --hosts colon.toml x.rhai
printf 'Host d\n HostName 10.99.0.1\n Port 2222\n' >> ssh.conf
cat hosts.toml > four.toml; printf '[hosts.d]\nssh = "d"\nunderlay = "10.99.0.4"\n' >> four.toml
run unreachable netscript --hosts four.toml x.rhai
run nohost netscript --hosts hosts.toml exec z:x -- true
run nons netscript --hosts hosts.toml exec a: -- true
run emptyhost netscript --hosts hosts.toml exec :x -- true
"#,
    );
    let s = r.sections();
    let unknown = s.get("unknown");
    assert!(
        unknown.contains("unknown field `port`") && unknown.ends_with("rc=2\n"),
        "{r}"
    );
    assert!(
        s.get("dup")
            .contains("hosts a and b have the same underlay address 10.99.0.1"),
        "{r}"
    );
    assert!(s.get("missing").contains("missing field `ssh`"), "{r}");
    let colon = s.get("colon");
    assert!(
        colon.contains(
            "[hosts.a:1]: not a usable host name: it contains ':' (exec and capture take HOST:NS)"
        ) && colon.ends_with("rc=2\n"),
        "{r}"
    );
    let u = s.get("unreachable");
    assert!(u.contains("netscript: host d (d): unreachable:"), "{r}");
    assert!(
        u.contains("nothing was done on any host") && u.ends_with("rc=1\n"),
        "{r}"
    );
    assert!(s.get("nohost").contains("no host \"z\""), "{r}");
    // An empty half of HOST:NS is a usage error, before any host is reached.
    for (key, why) in [
        ("nons", "not \"a:\" (the namespace is empty)"),
        ("emptyhost", "not \":x\" (the host is empty)"),
    ] {
        let out = s.get(key);
        assert!(out.contains(why) && out.ends_with("rc=2\n"), "{key}\n{r}");
    }
    assert_as_before(&r);
}

#[test]
fn ctrl_c_mid_run_rolls_every_host_back() {
    let r = around_script(
        PLAIN_PATH,
        "slow.rhai",
        r#"
let n = netns(`n-${HOST}`);
print("ready");
for i in 0..600 { sleep(100); }
"#,
        r#"
# netscript itself, not the shell function N: the signal goes to it.
netscript --hosts $T/hosts.toml slow.rhai > $T/out 2>&1 &
bg=$!
for h in a b c; do
    for i in $(seq 600); do grep -q "^\[$h\] ready" $T/out && break; sleep 0.05; done
done
kill -INT $bg
wait $bg; rc=$?; echo "@@run"; cat $T/out; echo "rc=$rc"
"#,
    );
    let s = r.sections();
    let run = s.get("run");
    assert!(run.ends_with("rc=1\n"), "{r}");
    assert!(run.contains("the run failed on an interrupt"), "{r}");
    for h in ["a", "b", "c"] {
        assert!(
            run.contains(&format!("[{h}] slow.rhai:3:")),
            "each run stopped at its line\n{r}"
        );
        assert!(
            run.contains(&format!(
                "host {h}: stopped; it rolled back what it had built"
            )),
            "{r}"
        );
    }
    assert_as_before(&r);
}

#[test]
fn vxlan_remotes_makes_one_fdb_entry_per_peer_and_mesh_needs_hosts() {
    let r = common::sh(
        r#"
cat > $T/vx.rhai <<'S'
let vx = vxlan("vx0", #{ vni: 9, remotes: ["192.0.2.2", "192.0.2.3"] });
S
netscript -x $T/vx.rhai 2>&1
echo @@fdb; bridge fdb show dev vx0 | grep 00:00:00:00:00:00
netscript down vx >/dev/null
echo @@after; ip -br link show vx0 2>&1 || true
cat > $T/m.rhai <<'S'
import "lab" as lab;
bridge("br0");
lab::mesh("br0", #{ vni: 1 });
S
echo @@mesh; netscript $T/m.rhai 2>&1 || echo "rc=$?"
"#,
    );
    let s = r.sections();
    let trace = s.get("");
    assert!(
        trace.contains("bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.2"),
        "{r}"
    );
    let fdb = s.lines("fdb");
    assert_eq!(fdb.len(), 2, "{r}");
    assert!(
        fdb[0].contains("dst 192.0.2.2") && fdb[1].contains("dst 192.0.2.3"),
        "{r}"
    );
    assert!(s.get("after").contains("does not exist"), "{r}");
    let mesh = s.get("mesh");
    assert!(
        mesh.contains("lab::mesh needs HOST and HOSTS: run the script with netscript --hosts FILE"),
        "{r}"
    );
    assert!(mesh.contains("m.rhai:3:6"), "{r}");

    for (code, msg) in [
        (
            r#"vxlan("vx0", #{ vni: 9, remotes: ["192.0.2.2", "192.0.2.2"] })"#,
            "remotes: 192.0.2.2 is given twice",
        ),
        (
            r#"vxlan("vx0", #{ vni: 9, remotes: [] })"#,
            "remotes: give at least one address",
        ),
        (
            r#"vxlan("vx0", #{ vni: 9, remotes: "192.0.2.2" })"#,
            "remotes: expected an array of addresses",
        ),
        (r#"vxlan("vx0", #{ vni: 9, remotes: ["x"] })"#, "remotes:"),
        (
            r#"vxlan("vx0", #{ vni: 9, remote: "192.0.2.2", remotes: ["192.0.2.3"] })"#,
            "not more than one",
        ),
    ] {
        let e = common::eval(code).fails_with(1);
        assert!(e.stderr.contains(msg), "{code}: {e}");
    }
}

#[test]
fn run_flags_reach_every_remote_run_kernel_defaults_among_them() {
    let r = around_script(
        PLAIN_PATH,
        "q.rhai",
        r#"
let n = netns(`q-${HOST}`);
veth("qa", "qb", #{ b_ns: n });
"#,
        r#"
queues() {
    for h in a b c; do nsenter -t $(holder $h) -n ip -d -o link show qa | grep -o 'numtxqueues [0-9]*'; done
}
# What plain ip makes on this kernel.
ip link add refa type veth peer name refb
echo @@ip; ip -d -o link show refa | grep -o 'numtxqueues [0-9]*'
ip link del refa
run plain N q.rhai
echo @@plain-queues; queues
N down q >/dev/null
run plan N plan --kernel-defaults q.rhai
run defaults N --kernel-defaults -x q.rhai
echo @@defaults-queues; queues
N down q >/dev/null
"#,
    );
    let s = r.sections();
    let ip = s.get("ip").trim().to_string();
    assert!(
        ip.starts_with("numtxqueues ") && ip != "numtxqueues 1",
        "this test needs a kernel whose veth default is not one queue\n{r}"
    );
    assert!(s.get("plain").ends_with("rc=0\n"), "{r}");
    assert_eq!(s.lines("plain-queues"), ["numtxqueues 1"; 3], "{r}");
    // Forwarded to each host's plan, and to each host's run (with -x: its trace).
    let plan = s.get("plan");
    assert!(
        plan.ends_with("rc=0\n") && !plan.contains("numtxqueues"),
        "{r}"
    );
    let defaults = s.get("defaults");
    assert!(defaults.ends_with("rc=0\n"), "{r}");
    for h in ["a", "b", "c"] {
        assert!(
            defaults.contains(&format!(
                "[{h}] + ip link add name qa type veth peer name qb"
            )),
            "{r}"
        );
    }
    assert_eq!(s.lines("defaults-queues"), [ip.as_str(); 3], "{r}");
    assert_as_before(&r);
}

#[test]
fn mesh_twice_before_its_bridge_or_with_a_bad_mtu_is_refused_clearly() {
    // HOST and HOSTS as a --hosts run gives them (no SSH needed to try lab::mesh).
    let r = common::sh(
        r#"
export NETSCRIPT_HOST=a NETSCRIPT_HOSTS='{"a":{"underlay":"192.0.2.1"},"b":{"underlay":"192.0.2.2"}}'
try() { echo "@@$1"; printf 'import "lab" as lab;\n%s\n' "$2" > $T/$1.rhai; netscript $T/$1.rhai 2>&1 || true; }
try twice 'bridge("br0"); lab::mesh("br0", #{ vni: 1 }); lab::mesh("br0", #{ vni: 2 });'
try nobridge 'lab::mesh("br0", #{ vni: 1 });'
try badmtu 'bridge("br0"); lab::mesh("br0", #{ vni: 1, mtu: "big" });'
try badopt 'bridge("br0"); lab::mesh("br0", #{ vni: 1, mtus: 1400 });'
try two 'let br = bridge("br0"); bridge("br1"); lab::mesh(br, #{ vni: 1 }); lab::mesh("br1", #{ vni: 2, name: "vx-two", mtu: 1400 }); for l in links() { print(`${l.name} ${l.mtu} ${l.master}`); }'
"#,
    );
    let s = r.sections();
    for (k, msg) in [
        ("twice", "called from /run/netscript-test/twice.rhai:2:"),
        (
            "twice",
            "lab::mesh: vx-mesh is already on this host: one mesh per VXLAN name (give another with #{ name })",
        ),
        (
            "nobridge",
            "lab::mesh: this host has no bridge br0: make it first (bridge(\"br0\"))",
        ),
        ("badmtu", "lab::mesh: mtu must be a number, not big"),
        ("badopt", "lab::mesh: unknown option mtus (expected vni, mtu, name)"),
    ] {
        assert!(s.get(k).contains(msg), "{k}: {msg}\n{r}");
    }
    // Two meshes, each its bridge's MTU: the underlay's less 50 (no local link has
    // 192.0.2.1: 1500), or the one given.
    let two = s.lines("two");
    for l in [
        "br0 1450",
        "vx-mesh 1450 br0",
        "br1 1400",
        "vx-two 1400 br1",
    ] {
        assert!(two.iter().any(|x| x.trim() == l), "{l}\n{r}");
    }
}
