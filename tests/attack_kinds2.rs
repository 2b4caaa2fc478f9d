//! An attacker's pass over macvlan and tun/tap: what the kernel refuses, `netscript plan`
//! (the model backend) must refuse too, at the same FILE:LINE:COL with the same message,
//! and that message must say why (not only "Invalid argument"); what the kernel takes,
//! the plan must take.
//!
//! Safety: every script runs inside `common::sandbox_sh` (private net + mount + pid
//! namespaces).

mod common;

use common::*;

/// Each `(name, code)` written to `$T/NAME.rhai`, then planned and run in one sandbox:
/// per script the sections `NAME:plan` and `NAME:run`, each the exit code and the
/// `error:` lines of stderr, and `NAME:out`, the run's stdout.
fn plan_and_run(cases: &[(&str, &str)]) -> (Run, Sections) {
    let mut script = String::new();
    for (name, code) in cases {
        script.push_str(&format!(
            "cat > $T/{name}.rhai <<'EOF'\n{code}\nEOF\n\
             rc=0; netscript plan $T/{name}.rhai > /dev/null 2> $T/p.err || rc=$?\n\
             echo @@{name}:plan; echo rc=$rc; grep 'error:' $T/p.err || true\n\
             rc=0; netscript $T/{name}.rhai > $T/r.out 2> $T/r.err || rc=$?\n\
             echo @@{name}:run; echo rc=$rc; grep 'error:' $T/r.err || true\n\
             echo @@{name}:out; cat $T/r.out\n\
             netscript down {name} > /dev/null 2>&1 || true\n"
        ));
    }
    script.push_str("echo @@left; ip netns list; ip -br link | grep -v '^lo ' || true\n");
    let run = sh_ok(&script);
    let s = run.sections();
    (run, s)
}

/// Plan and run of each script fail alike, and the error says `why`.
#[track_caller]
fn fail_alike(cases: &[(&str, &str, &str)]) {
    let list: Vec<(&str, &str)> = cases.iter().map(|(n, c, _)| (*n, *c)).collect();
    let (run, s) = plan_and_run(&list);
    for (name, _, why) in cases {
        let real = s.get(&format!("{name}:run"));
        let planned = s.get(&format!("{name}:plan"));
        assert!(
            real.starts_with("rc=1\n"),
            "{name}: the run must fail\n{run}"
        );
        assert!(
            real.contains(why),
            "{name}: the run's error must say {why:?}\n{run}"
        );
        assert_eq!(
            planned, real,
            "{name}: plan and run report differently\n{run}"
        );
    }
    assert_eq!(s.get("left").trim(), "", "{run}");
}

/// The kernel takes one passthru macvlan on a parent and nothing beside it (macvlan.c:
/// EINVAL), also through a macvlan on that parent; the plan let all three pass, and the
/// run said only "Invalid argument".
#[test]
fn a_passthru_macvlan_is_alone_on_its_parent_in_plan_and_run() {
    fail_alike(&[
        (
            "after_bridge_mode",
            r#"bridge("br0");
macvlan("a", #{ parent: "br0" });
macvlan("p", #{ parent: "br0", mode: "passthru" });"#,
            r#"3:1: error: macvlan("p", #{ mode: "passthru", parent: "br0" }): link "p": a passthru macvlan must be the only macvlan on its parent link "br0""#,
        ),
        (
            "after_passthru",
            r#"bridge("br0");
macvlan("p", #{ parent: "br0", mode: "passthru" });
macvlan("a", #{ parent: "br0", mode: "private" });"#,
            "must be the only macvlan on its parent",
        ),
        (
            "through_a_macvlan",
            r#"bridge("br0");
macvlan("a", #{ parent: "br0" });
macvlan("p", #{ parent: "a", mode: "passthru" });"#,
            "must be the only macvlan on its parent",
        ),
    ]);
}

/// Plan and run of each script succeed, and the run prints `out`.
#[track_caller]
fn take_alike(cases: &[(&str, &str, &str)]) {
    let list: Vec<(&str, &str)> = cases.iter().map(|(n, c, _)| (*n, *c)).collect();
    let (run, s) = plan_and_run(&list);
    for (name, _, out) in cases {
        assert_eq!(s.get(&format!("{name}:run")), "rc=0\n", "{name}\n{run}");
        assert_eq!(s.get(&format!("{name}:plan")), "rc=0\n", "{name}\n{run}");
        assert_eq!(s.get(&format!("{name}:out")).trim(), *out, "{name}\n{run}");
    }
    assert_eq!(s.get("left").trim(), "", "{run}");
}

/// A macvlan made on a macvlan sits on that one's parent, and takes the parent's MTU
/// (macvlan.c uses the real device): the plan bounded it by the first macvlan's smaller
/// MTU and refused what the kernel takes.
#[test]
fn a_macvlan_on_a_macvlan_sits_on_its_parent() {
    take_alike(&[(
        "on_a_macvlan",
        r#"fn mtu_of(name) { for l in links() { if l.name == name { return l.mtu; } } }
bridge("br0");
macvlan("a", #{ parent: "br0" });
link("a").mtu(1400);
macvlan("b", #{ parent: "a" });
print(`${mtu_of("a")} ${mtu_of("b")}`);
link("b").mtu(1500);
print(mtu_of("b"));"#,
        "1400 1500\n1500",
    )]);
}

/// A macvlan needs an Ethernet parent (macvlan_port_create: EINVAL for a tun or lo; a tap
/// is Ethernet): the plan let it pass, and the run said only "Invalid argument".
#[test]
fn a_macvlan_needs_an_ethernet_parent_in_plan_and_run() {
    fail_alike(&[
        (
            "on_a_tun",
            r#"tun("t0");
macvlan("a", #{ parent: "t0" });"#,
            r#"2:1: error: macvlan("a", #{ parent: "t0" }): link "a": a macvlan needs an Ethernet parent, and link "t0" is a tun"#,
        ),
        (
            "on_lo",
            r#"macvlan("a", #{ parent: "lo" });"#,
            r#"link "a": a macvlan needs an Ethernet parent, and link "lo" is a loopback"#,
        ),
    ]);
    take_alike(&[(
        "on_a_tap",
        r#"tun("t0", #{ tap: true });
print(macvlan("a", #{ parent: "t0" }).kind);"#,
        "macvlan",
    )]);
}

/// A link is a bridge's port or a macvlan's parent, not both (the kernel says EBUSY: one
/// receive handler per link), either way round; the plan let both pass, the run said
/// only "Device or resource busy".
#[test]
fn a_bridge_port_and_a_macvlan_parent_exclude_each_other_in_plan_and_run() {
    fail_alike(&[
        (
            "macvlan_on_a_port",
            r#"bridge("br0");
veth("v0", "v1");
link("v0").master("br0");
macvlan("a", #{ parent: "v0" });"#,
            r#"4:1: error: macvlan("a", #{ parent: "v0" }): link "a": link "v0" is a port of a bridge, and a link cannot be both a bridge port and a macvlan's parent (put the macvlan on the bridge)"#,
        ),
        (
            "port_with_a_macvlan",
            r#"bridge("br0");
tun("t0", #{ tap: true });
macvlan("a", #{ parent: "t0" });
link("t0").master("br0");"#,
            r#"4:12: error: Link("t0").master("br0"): link "t0" cannot be a port of bridge "br0": it is busy (a macvlan sits on it, or it sits on the bridge)"#,
        ),
    ]);
}

/// A macvlan moved to another namespace still sits on its parent, whose MTU bounds its
/// own: the plan looked for the parent in the new namespace, found none and let any MTU
/// pass.
#[test]
fn a_moved_macvlan_is_still_bounded_by_its_parent_in_plan_and_run() {
    fail_alike(&[(
        "moved",
        r#"let lan = netns("lan");
let red = netns("red");
lan.bridge("br0");
lan.macvlan("a", #{ parent: "br0", parent_ns: lan }).move_to(red);
red.link("a").mtu(1400);
red.link("a").mtu(9000);"#,
        r#"6:15: error: Link("a" in red).mtu(9000): link "a" in namespace "red" does not take MTU 9000"#,
    )]);
}

/// A bridge takes only Ethernet links (br_add_if: EINVAL): a tun or lo made a port was
/// reported as only "Invalid argument" (and lo passed the plan).
#[test]
fn a_tun_or_lo_as_a_bridge_port_says_why_in_plan_and_run() {
    fail_alike(&[
        (
            "tun_port",
            r#"bridge("br0");
tun("t0");
link("t0").master("br0");"#,
            r#"3:12: error: Link("t0").master("br0"): link "t0" is a tun: a bridge takes only Ethernet links as ports (a tap, a veth, a macvlan or a vxlan)"#,
        ),
        (
            "lo_port",
            r#"bridge("br0");
link("lo").master("br0");"#,
            r#"link "lo" is a loopback: a bridge takes only Ethernet links"#,
        ),
    ]);
}

/// uid 4294967295 is (uid_t)-1, "no user": the kernel refuses it as an owner (EINVAL),
/// which the run reported as only "Invalid argument" and the plan let pass.
#[test]
fn a_tun_owner_of_uid_minus_one_is_refused_at_the_call_in_plan_and_run() {
    fail_alike(&[(
        "owner_minus_one",
        r#"tun("t0", #{ tap: true, owner: 4294967295 });"#,
        r#"1:1: error: tun("t0", #{ owner: 4294967295, tap: true }): owner: a uid is 0..=4294967294 (4294967295 is (uid_t)-1, no user)"#,
    )]);
}
