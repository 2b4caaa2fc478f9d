//! Attacks on lab mode, namespace creation on the calling thread and the bridge MTU rule:
//! each test here failed before its fix (or guards a case found to hold), with real
//! namespaces and links in a sandbox.

mod common;

use common::*;

/// The value printed after `KEY ` on its line of `run`'s stdout.
fn value(run: &Run, key: &str) -> String {
    let prefix = format!("{key} ");
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key:?} line\n{run}"))
        .to_string()
}

/// A link netscript did not make, with IPv6 already off, attached to a lab-mode bridge:
/// undoing the port's lab mode (rollback or `down`) leaves IPv6 off, as it was found,
/// while a foreign link that had IPv6 on gets it back.
#[test]
fn a_foreign_port_with_ipv6_off_keeps_it_off_after_rollback_and_down() {
    let script = TempScript::new(
        "ipv6-was-off",
        r#"bridge("br0", #{ lab_mode: true });
link("fx").master("br0");
link("fy").master("br0");
if ARGS[0] == "fail" { throw "the run fails after the ports"; }"#,
    );
    let run = sh(&format!(
        r#"ip link add fx type veth peer name fy
echo 1 > /proc/sys/net/ipv6/conf/fx/disable_ipv6
v() {{ echo "$(cat /proc/sys/net/ipv6/conf/fx/disable_ipv6) $(cat /proc/sys/net/ipv6/conf/fy/disable_ipv6)"; }}
netscript {s} fail 2>/dev/null || true
echo "rolled-back $(v)"
netscript {s} ok 2>/dev/null
echo "during $(v)"
netscript down ipv6-was-off >/dev/null
echo "down $(v) $(ip -o link show master br0 2>/dev/null | wc -l)""#,
        s = q(script.path())
    ));
    assert_eq!(value(&run, "rolled-back"), "1 0", "{run}");
    assert_eq!(value(&run, "during"), "1 1", "{run}");
    assert_eq!(value(&run, "down"), "1 0 0", "{run}");
}

/// The bridge MTU rule at 300 containers: a bridge given an MTU twice, then containers
/// joined (their veths made without an MTU take the last one on both ends, read back
/// from the newest op rather than from the whole journal at each port); a veth made with
/// its own MTU keeps it; a veth whose far end was moved takes it there too. The plan
/// says the same as the run.
#[test]
fn three_hundred_ports_join_a_bridge_given_an_mtu_twice() {
    let script = TempScript::new(
        "mtu-300",
        r#"import "lab" as lab;
let br = bridge("br0", "10.100.0.1/16", #{ lab_mode: true });
br.mtu(1450);
br.mtu(1400);
for i in 1..=300 {
    lab::container(`c${i}`, cidr_host("10.100.0.1/16", i + 1), "br0", "10.100.0.1");
}
let own = veth("own-a", "own-b", #{ mtu: 9000 });
own.a.master("br0");
let far = netns("far");
let mv = veth("mv-a", "mv-b");
mv.b.move_to(far);
mv.a.master("br0");"#,
    );
    let run = sh_ok(&format!(
        r#"netscript plan {s} > $T/plan.sh
echo "plan-1400 $(grep -c 'mtu 1400$' $T/plan.sh)"
netscript {s} 2>/dev/null
m() {{ cat /sys/class/net/$1/mtu; }}
echo "c300 $(m veth-c300-br) $(ip netns exec c300 cat /sys/class/net/veth-c300/mtu)"
echo "c1 $(m veth-c1-br) $(ip netns exec c1 cat /sys/class/net/veth-c1/mtu)"
echo "own $(m own-a) $(m own-b)"
echo "moved $(m mv-a) $(ip netns exec far cat /sys/class/net/mv-b/mtu)"
echo "ports $(ip -o link show master br0 | wc -l)"
netscript down mtu-300 >/dev/null"#,
        s = q(script.path())
    ));
    // Both ends of 300 container veths and of mv, and br0 itself.
    assert_eq!(value(&run, "plan-1400"), "603", "{run}");
    assert_eq!(value(&run, "c300"), "1400 1400", "{run}");
    assert_eq!(value(&run, "c1"), "1400 1400", "{run}");
    assert_eq!(value(&run, "own"), "9000 9000", "{run}");
    assert_eq!(value(&run, "moved"), "1400 1400", "{run}");
    assert_eq!(value(&run, "ports"), "302", "{run}");
}
