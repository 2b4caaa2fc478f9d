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
