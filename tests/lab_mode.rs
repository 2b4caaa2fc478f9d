//! Lab mode (`--lab-mode`, or `bridge(name, #{ lab_mode: true })`): the bridge's ports get
//! no IPv6 and no flooded multicast. What keeps working and what it costs is tested at
//! N = 1000 containers, next to the default mode, with real traffic: IPv4 between
//! containers, IPv6 between a container and the bridge, outbound NAT and a published
//! port in both modes; IPv6 between containers in the default mode only.

mod common;

use common::*;

/// N containers on br0 (10.100.0.0/16, fd00:100::/64 on the bridge, the first and the last
/// container), an "outside" host on 198.51.100.0/24 behind NAT, and the last container's
/// port 80 published on the host's 8080. Prints one `KEY VALUE` line per check.
const LAB: &str = r#"
import "lab" as lab;
let n = parse_int(ARGS[0]);
let br = bridge("br0", "10.100.0.1/16");
br.addr("fd00:100::1/64", #{ nodad: true });
let cs = [];
for i in 1..=n {
    cs.push(lab::container(`c${i}`, cidr_host("10.100.0.1/16", i + 1), "br0", "10.100.0.1"));
}
let last_ip = cidr_addr(cidr_host("10.100.0.1/16", n + 1));
cs[0].addr("veth-c1", "fd00:100::2/64", #{ nodad: true });
cs[n - 1].addr(`veth-c${n}`, "fd00:100::3/64", #{ nodad: true });
forward(true);
masquerade("10.100.0.0/16", #{ not_out: "br0" });

let outside = netns("outside");
lab::p2p(host(), "198.51.100.1/24", outside, "198.51.100.2/24");
lab::http_server(outside, 80, "outside sees {peer}");
lab::http_server(cs[n - 1], 80, "last says hi to {peer}");
lab::publish(8080, last_ip, 80);
assert(lab::wait_connect(outside, "198.51.100.2:80"), "the outside server is up");
assert(lab::wait_connect(cs[n - 1], `${last_ip}:80`), "the container's server is up");

print(`ipv4 ${cs[0].ping(last_ip)}`);
print(`ipv6-bridge ${cs[0].ping("fd00:100::1")}`);
print(`ipv6-peer ${cs[0].ping("fd00:100::3")}`);
print(`nat ${cs[0].http_get("http://198.51.100.2/").body}`);
print(`publish ${outside.http_get("http://198.51.100.1:8080/").body}`);
"#;

const N: usize = 1000;

/// Build the lab with `flags`, then read the last host-side port's settings.
fn build(flags: &str) -> Run {
    let script = TempScript::new("lab-mode", LAB);
    sh_ok(&format!(
        r#"netscript {flags} {s} {N} 2> $T/err || {{ cat $T/err >&2; exit 1; }}
echo "notice $(grep -c 'lab mode on bridge' $T/err)"
echo "disable_ipv6 $(cat /proc/sys/net/ipv6/conf/veth-c{N}-br/disable_ipv6)"
echo "port $(bridge -d link show dev veth-c{N}-br | grep -o 'mcast_flood [a-z]*')"
echo "ports $(ip -o link show master br0 | wc -l)"
netscript down lab-mode >/dev/null"#,
        s = q(script.path())
    ))
}

fn value(run: &Run, key: &str) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {key:?} line\n{run}"))
        .to_string()
}

#[test]
fn default_mode_at_1000_containers_keeps_ipv4_ipv6_nat_and_publishing() {
    let run = build("");
    assert_eq!(value(&run, "ports"), N.to_string(), "{run}");
    assert_eq!(value(&run, "ipv4"), "true", "{run}");
    assert_eq!(value(&run, "ipv6-bridge"), "true", "{run}");
    assert_eq!(
        value(&run, "ipv6-peer"),
        "true",
        "IPv6 across the bridge\n{run}"
    );
    assert_eq!(value(&run, "nat"), "outside sees 198.51.100.1", "{run}");
    assert_eq!(
        value(&run, "publish"),
        "last says hi to 198.51.100.2",
        "{run}"
    );
    // Plain ports: IPv6 on, multicast flooded, nothing said.
    assert_eq!(value(&run, "disable_ipv6"), "0", "{run}");
    assert_eq!(value(&run, "port"), "mcast_flood on", "{run}");
    assert_eq!(value(&run, "notice"), "0", "{run}");
}

#[test]
fn lab_mode_at_1000_containers_keeps_ipv4_nat_publishing_and_ipv6_to_the_bridge() {
    let run = build("--lab-mode");
    assert_eq!(value(&run, "ports"), N.to_string(), "{run}");
    assert_eq!(value(&run, "ipv4"), "true", "{run}");
    assert_eq!(value(&run, "ipv6-bridge"), "true", "{run}");
    assert_eq!(value(&run, "nat"), "outside sees 198.51.100.1", "{run}");
    assert_eq!(
        value(&run, "publish"),
        "last says hi to 198.51.100.2",
        "{run}"
    );
    // What it costs, as said once on stderr: IPv6 between containers across the bridge.
    assert_eq!(value(&run, "ipv6-peer"), "false", "{run}");
    assert_eq!(value(&run, "notice"), "1", "{run}");
    assert_eq!(value(&run, "disable_ipv6"), "1", "{run}");
    assert_eq!(value(&run, "port"), "mcast_flood off", "{run}");
}

/// Two ports on br0 and br1 (a `TWO`-style lab with a bridge of each mode).
const PER_BRIDGE: &str = r#"
import "lab" as lab;
bridge("br0", "10.1.0.1/24", #{ lab_mode: true });
bridge("br1", "10.2.0.1/24", #{ lab_mode: false });
lab::container("a", "10.1.0.2/24", "br0", "10.1.0.1");
lab::container("b", "10.2.0.2/24", "br1", "10.2.0.1");
"#;

/// The per-bridge option wins over the run's: each bridge's ports are as it says, with or
/// without `--lab-mode`; `-x` and the plan show the port settings, and the plan's shell,
/// run in a fresh sandbox, builds ports with the same settings.
#[test]
fn per_bridge_option_is_shown_in_trace_and_plan_and_the_plan_builds_the_same_ports() {
    let script = TempScript::new("per-bridge", PER_BRIDGE);
    let ports = r#"for p in veth-a-br veth-b-br; do
  echo "$p $(cat /proc/sys/net/ipv6/conf/$p/disable_ipv6) $(bridge -d link show dev $p | grep -o 'mcast_flood [a-z]*')"
done"#;
    let run = sh_ok(&format!(
        r#"cat > $T/ports.sh <<'END'
{ports}
END
netscript plan {s} > $T/plan.sh
echo @@plan; cat $T/plan.sh
for flags in "" --lab-mode; do
  netscript -x $flags {s} 2> $T/trace
  echo "@@trace$flags"; grep '^+ ' $T/trace | sed 's/^+ //'
  echo "@@ports$flags"; sh $T/ports.sh
  netscript down per-bridge > /dev/null
done
echo @@plan-ports
unshare --net --mount sh -c "mount -t sysfs none /sys && sh -e $T/plan.sh > /dev/null && sh $T/ports.sh""#,
        s = q(script.path()),
    ));
    let sec = run.sections();
    let want = "veth-a-br 1 mcast_flood off\nveth-b-br 0 mcast_flood on";
    for key in ["ports", "ports--lab-mode", "plan-ports"] {
        assert_eq!(sec.text(key).trim(), want, "{key}\n{run}");
    }
    for key in ["plan", "trace", "trace--lab-mode"] {
        let text = sec.text(key);
        assert!(
            text.contains("sysctl -qew net.ipv6.conf.veth-a-br.disable_ipv6=1\n")
                && text.contains("ip link set dev veth-a-br type bridge_slave mcast_flood off\n"),
            "{key}: the lab-mode port settings\n{text}"
        );
        assert!(
            !text.contains("veth-b-br.disable_ipv6") && !text.contains("veth-b-br type"),
            "{key}: br1 is not in lab mode\n{text}"
        );
        // Set before the port is up: it never starts IPv6.
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{key}: no {s:?}"));
        assert!(at("veth-a-br.disable_ipv6") < at("ip link set dev veth-a-br up"));
    }
}

#[test]
fn lab_mode_option_takes_a_bool_and_nothing_else() {
    for (code, says) in [
        (r#"bridge("br0", #{ lab_mode: "yes" })"#, "lab_mode"),
        (r#"bridge("br0", "10.0.0.1/24", #{ lab: true })"#, "lab"),
    ] {
        let run = eval(code);
        assert_eq!(run.code, 1, "{code}\n{run}");
        let e = error_report(&run);
        assert!(
            e.message.contains("bridge(") && e.message.contains(says),
            "{code}: {}",
            e.message
        );
        assert!(!run.stderr.contains("panicked"), "{run}");
    }
}

/// A lab-mode bridge whose ports were made by `ip` and attached by the script: undone by
/// `down` (the port settings go with the bridge; the link, not ours, stays).
#[test]
fn a_foreign_port_on_a_lab_mode_bridge_is_left_as_it_was_found() {
    let script = TempScript::new(
        "foreign-port",
        r#"bridge("br0", #{ lab_mode: true });
link("dummy0").master("br0");"#,
    );
    let run = sh(&format!(
        r#"ip link add veth-x type veth peer name veth-y
ip link set veth-x name dummy0
netscript {s} 2>/dev/null
echo "during $(cat /proc/sys/net/ipv6/conf/dummy0/disable_ipv6)"
netscript down foreign-port >/dev/null
echo "after $(cat /proc/sys/net/ipv6/conf/dummy0/disable_ipv6) $(ip -o link show dummy0 | grep -c master)""#,
        s = q(script.path())
    ));
    assert_eq!(value(&run, "during"), "1", "{run}");
    assert_eq!(value(&run, "after"), "0 0", "{run}");
}

/// A Linux bridge takes 1023 ports (BR_MAX_PORTS): the 1024th is refused at its own line
/// with what and why, the same in a plan and in a run, and the run is rolled back.
#[test]
fn a_full_bridge_says_so_by_name_in_plan_and_run() {
    let script = TempScript::new(
        "full-bridge",
        // The far ends in one namespace: the rollback deletes it, and them with it, at once.
        r#"bridge("br0"); let far = netns("far");
for i in 1..=1024 {
    let v = veth(`p${i}`, `q${i}`, #{ b_ns: far });
    v.a.master("br0");
}"#,
    );
    let want = r#"link "br0" is full: a Linux bridge takes at most 1023 ports (BR_MAX_PORTS); spread larger labs over several bridges"#;
    for cmd in ["plan", "run"] {
        let run = sh(&format!(
            "netscript {} {s} > /dev/null || true; echo \"left $(ip -o link | wc -l)\"",
            if cmd == "plan" { "plan" } else { "" },
            s = q(script.path())
        ));
        let e = error_report(&run);
        assert!(e.message.contains(want), "{cmd}: {}", e.message);
        assert!(
            e.message.contains(r#"Link("p1024").master("br0")"#),
            "{cmd}: {}",
            e.message
        );
        assert_eq!(e.line, 4, "{cmd}\n{run}");
        // Rolled back: lo alone.
        assert_eq!(value(&run, "left"), "1", "{cmd}\n{run}");
    }
}

/// `export` writes each bridge's lab mode as the run had it: on by `--lab-mode` alone is
/// written as on, a bridge asked to be plain as plain even under `--lab-mode`, and a bridge
/// that never heard of it as a plain call.
#[test]
fn export_keeps_each_bridges_lab_mode() {
    let script = TempScript::new(
        "exported",
        r#"bridge("br0"); bridge("br1", #{ lab_mode: false });"#,
    );
    let run = sh_ok(&format!(
        r#"netscript --lab-mode {s} 2>/dev/null
echo @@lab; netscript export exported
netscript down exported >/dev/null
netscript {s}
echo @@plain; netscript export exported
netscript down exported >/dev/null"#,
        s = q(script.path())
    ));
    let sec = run.sections();
    let lab = sec.text("lab");
    assert!(
        lab.contains(r#"bridge("br0", #{ lab_mode: true });"#),
        "{lab}"
    );
    assert!(
        lab.contains(r#"bridge("br1", #{ lab_mode: false });"#),
        "{lab}"
    );
    let plain = sec.text("plain");
    assert!(plain.contains(r#"bridge("br0");"#), "{plain}");
    assert!(
        plain.contains(r#"bridge("br1", #{ lab_mode: false });"#),
        "{plain}"
    );
}

/// Lab mode is a setting of a port on its bridge: a port that leaves a lab-mode bridge
/// (`nomaster`, or onto a plain bridge) gets its IPv6 back, before it leaves, and `-x`
/// says so; onto another lab-mode bridge it stays in lab mode; a move the kernel refuses
/// leaves the port as it was.
#[test]
fn a_port_that_leaves_a_lab_mode_bridge_gets_its_ipv6_back() {
    let script = TempScript::new(
        "leaving",
        r#"bridge("lab1", #{ lab_mode: true });
bridge("lab2", #{ lab_mode: true });
bridge("plain");
let ports = [];
for p in ["pa", "pb", "pc", "pd"] {
    let v = veth(p, `${p}-far`);
    v.a.master("lab1");
    v.a.up();
    ports.push(v.a);
}
ports[0].nomaster();
ports[1].master("plain");
ports[2].master("lab2");
try { ports[3].master("nosuch") } catch { print("refused") }"#,
    );
    let run = sh_ok(&format!(
        r#"netscript -x {s} 2> $T/trace
v() {{ echo "$1 $(cat /proc/sys/net/ipv6/conf/$1/disable_ipv6) $(bridge -d link show dev $1 | grep -o 'mcast_flood [a-z]*' || echo none)"; }}
v pa; v pb; v pc; v pd
echo "trace $(grep -nE 'pa[.]disable_ipv6=0|pa nomaster' $T/trace | cut -d: -f1 | tr '\n' ' ')"
netscript down leaving >/dev/null
echo "left $(ip -o link | wc -l)""#,
        s = q(script.path())
    ));
    assert_eq!(value(&run, "pa"), "0 none", "{run}");
    assert_eq!(value(&run, "pb"), "0 mcast_flood on", "{run}");
    assert_eq!(value(&run, "pc"), "1 mcast_flood off", "{run}");
    assert_eq!(value(&run, "pd"), "1 mcast_flood off", "{run}");
    assert!(run.stdout.contains("refused"), "{run}");
    // The sysctl line comes before the nomaster line.
    let lines: Vec<u32> = value(&run, "trace")
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(lines.len() == 2 && lines[0] < lines[1], "{run}");
    assert_eq!(value(&run, "left"), "1", "{run}");
}
