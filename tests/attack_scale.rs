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

/// Lab-mode ports the kernel treats specially, built by a run and by the plan's shell
/// (`sh -e` in a fresh network namespace) alike: a dot in the name (`ve.1`, whose
/// sysctl key needs slashes), 15 characters, a port of a bridge in a namespace, and
/// ports with no IPv6 at all (an MTU below 1280, its own or its bridge's: the kernel
/// takes IPv6 off such a link, so there is no disable_ipv6 to write, which failed the
/// run and the plan's shell).
#[test]
fn special_ports_on_lab_mode_bridges_build_the_same_in_run_and_plan() {
    let script = TempScript::new(
        "special-ports",
        r#"bridge("br0", #{ lab_mode: true });
let n = netns("n1");
let v = veth("ve.1", "abcdefghijklmn5", #{ b_ns: n });
v.a.master("br0");
n.bridge("nbr", #{ lab_mode: true });
n.link("abcdefghijklmn5").master("nbr");
let small = veth("sm-a", "sm-b", #{ mtu: 1000 });
small.a.master("br0");
let br2 = bridge("br2", #{ lab_mode: true });
br2.mtu(1200);
let w = veth("w-a", "w-b");
w.a.master("br2");"#,
    );
    let state = r#"p() { echo "$1 $(cat /sys/class/net/$1/mtu) $(cat /proc/sys/net/ipv6/conf/$1/disable_ipv6 2>/dev/null || echo none) $(bridge -d link show dev $1 | grep -o 'mcast_flood [a-z]*')"; }
p ve.1; p sm-a; p w-a
ip netns exec n1 sh -c "echo abcdefghijklmn5 \$(cat /proc/sys/net/ipv6/conf/abcdefghijklmn5/disable_ipv6) \$(bridge -d link | grep -o 'mcast_flood [a-z]*')""#;
    let run = sh_ok(&format!(
        r#"cat > $T/state.sh <<'END'
{state}
END
netscript plan {s} > $T/plan.sh
netscript {s} 2> $T/err || {{ cat $T/err >&2; exit 1; }}
echo @@run; sh $T/state.sh
netscript down special-ports > /dev/null
echo @@plan
unshare --net --mount sh -c "mount -t sysfs none /sys && sh -e $T/plan.sh > /dev/null && sh $T/state.sh""#,
        s = q(script.path())
    ));
    let sec = run.sections();
    let want = "ve.1 1500 1 mcast_flood off\n\
                sm-a 1000 none mcast_flood off\n\
                w-a 1200 none mcast_flood off\n\
                abcdefghijklmn5 1 mcast_flood off";
    for key in ["run", "plan"] {
        assert_eq!(sec.text(key).trim(), want, "{key}\n{run}");
    }
}

/// Lab mode belongs to the bridge, not to its name: a lab-mode bridge deleted (or its
/// namespace deleted) and made again plain under the same name has plain ports (they got
/// lab mode). In a run and in the plan alike.
#[test]
fn lab_mode_goes_with_a_deleted_bridge() {
    let script = TempScript::new(
        "follow-bridge",
        r#"bridge("br0", #{ lab_mode: true });
link("br0").delete();
bridge("br0");
let v = veth("pa", "pb");
v.a.master("br0");
netns("n1").bridge("nbr", #{ lab_mode: true });
netns_delete("n1");
let n = netns("n1");
n.bridge("nbr");
let w = veth("wa", "wb", #{ a_ns: n });
w.a.master("nbr");"#,
    );
    let run = sh_ok(&format!(
        r#"netscript plan {s} > $T/plan.sh
echo "plan $(grep -c 'disable_ipv6' $T/plan.sh)"
netscript {s} 2>/dev/null
echo "plain $(cat /proc/sys/net/ipv6/conf/pa/disable_ipv6) $(bridge -d link show dev pa | grep -o 'mcast_flood [a-z]*')"
echo "in-ns $(ip netns exec n1 cat /proc/sys/net/ipv6/conf/wa/disable_ipv6) $(ip netns exec n1 bridge -d link show dev wa | grep -o 'mcast_flood [a-z]*')"
netscript down follow-bridge >/dev/null"#,
        s = q(script.path())
    ));
    assert_eq!(value(&run, "plan"), "0", "{run}");
    assert_eq!(value(&run, "plain"), "0 mcast_flood on", "{run}");
    assert_eq!(value(&run, "in-ns"), "0 mcast_flood on", "{run}");
}

/// A bridge cannot change namespace (the kernel says EINVAL): refused at its line with
/// what and why, in a plan (which let it move) and a run alike.
#[test]
fn moving_a_bridge_is_refused_the_same_in_plan_and_run() {
    let script = TempScript::new(
        "move-bridge",
        r#"let n = netns("n1");
let br = bridge("br9", #{ lab_mode: true });
br.move_to(n);"#,
    );
    for cmd in ["plan", ""] {
        let run = sh(&format!(
            "netscript {cmd} {s} > /dev/null",
            s = q(script.path())
        ));
        let e = error_report(&run);
        assert!(
            e.message.contains(r#"link "br9" cannot change namespace"#),
            "{cmd}: {}",
            e.message
        );
        assert_eq!(e.line, 3, "{cmd}\n{run}");
    }
}

/// A second run of a lab that is up (`--lab`) attaching a port to a lab-mode bridge an
/// earlier run made: the port gets lab mode (it got none), and `down` removes it all.
#[test]
fn a_later_run_of_the_lab_keeps_its_bridge_in_lab_mode() {
    let first = TempScript::new("first-run", r#"bridge("br0", #{ lab_mode: true });"#);
    let second = TempScript::new(
        "second-run",
        r#"let v = veth("pa", "pb");
v.a.master("br0");"#,
    );
    let run = sh_ok(&format!(
        r#"netscript --lab two {a} 2>/dev/null
netscript --lab two {b} 2>/dev/null
echo "port $(cat /proc/sys/net/ipv6/conf/pa/disable_ipv6) $(bridge -d link show dev pa | grep -o 'mcast_flood [a-z]*')"
netscript down two >/dev/null
echo "left $(ip -o link | wc -l)""#,
        a = q(first.path()),
        b = q(second.path())
    ));
    assert_eq!(value(&run, "port"), "1 mcast_flood off", "{run}");
    assert_eq!(value(&run, "left"), "1", "{run}");
}

/// A lab-mode port whose MTU goes below 1280 and back (here through its bridge's MTU):
/// the kernel takes IPv6 off the link, then makes it anew with IPv6 on; lab mode turns
/// it off again (it stayed on), in the run and in the plan's shell.
#[test]
fn a_lab_mode_port_keeps_ipv6_off_when_its_mtu_comes_back_above_1280() {
    let script = TempScript::new(
        "mtu-back",
        r#"let br = bridge("br0", #{ lab_mode: true });
br.mtu(1200);
let v = veth("pa", "pb");
v.a.master("br0");
br.mtu(1500);"#,
    );
    let state = r#"echo "port $(cat /sys/class/net/pa/mtu) $(cat /proc/sys/net/ipv6/conf/pa/disable_ipv6)""#;
    let run = sh_ok(&format!(
        r#"netscript plan {s} > $T/plan.sh
netscript {s} 2>/dev/null
echo @@run; {state}
netscript down mtu-back >/dev/null
echo @@plan
unshare --net --mount sh -c "mount -t sysfs none /sys && sh -e $T/plan.sh > /dev/null && {state_q}""#,
        s = q(script.path()),
        state_q = state.replace('"', "\\\"").replace('$', "\\$"),
    ));
    let sec = run.sections();
    for key in ["run", "plan"] {
        assert_eq!(sec.text(key).trim(), "port 1500 1", "{key}\n{run}");
    }
}
