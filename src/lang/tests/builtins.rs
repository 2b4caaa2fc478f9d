//! lang/mod.rs's own functions: cidr_host / cidr_network / cidr_addr, assert in a plan,
//! sleep in a plan, exit, save outside the REPL, print after the changes before it.

use crate::lang::test_support::{assert_message, error_of, run, value};

#[test]
fn address_arithmetic_keeps_the_prefix_where_the_reference_says() {
    assert_eq!(
        value(
            r#"`${cidr_host("10.0.0.0/24", 5)} ${cidr_network("10.0.0.9/24")} ${cidr_addr("10.0.0.9/24")} ${cidr_host("fd00::/64", 1)}`"#
        ),
        "10.0.0.5/24 10.0.0.0/24 10.0.0.9 fd00::1/64"
    );
    assert_eq!(
        error_of(r#"cidr_host("10.0.0.0/30", 4)"#).0,
        r#"cidr_host("10.0.0.0/30", 4): 10.0.0.0/30 has no host number 4"#
    );
    assert_eq!(
        error_of(r#"cidr_host("10.0.0.0/24", -1)"#).0,
        r#"cidr_host("10.0.0.0/24", -1): 10.0.0.0/24 has no host number -1"#
    );
    assert_message(r#"cidr_network("x")"#, r#"cidr_network("x")"#, &[r#""x""#]);
}

#[test]
fn a_plan_checks_an_assertion_until_a_probe_makes_it_unknowable() {
    let r = run(r#"assert(1 == 1, "one");
                   ping("127.0.0.1");
                   assert(false, "after a probe");"#);
    r.ok();
    assert!(r.plan.contains("# check: one (holds)\n"), "{}", r.plan);
    assert!(
        r.plan
            .contains("# check: after a probe (left to the run: it depends on a probe or exec)\n"),
        "{}",
        r.plan
    );
    let (m, at) = error_of("let x = 1;\nassert(x == 2, \"x is two\")");
    assert_eq!(m, "assertion failed: x is two");
    assert_eq!(at, (2, 1));
}

#[test]
fn a_plan_does_not_sleep() {
    let r = run("sleep(3600000); 1");
    assert_eq!(r.ok().as_int().unwrap(), 1);
}

#[test]
fn exit_is_checked_and_save_is_for_the_repl() {
    assert_eq!(
        error_of("exit(256)").0,
        "exit(256): an exit status is 0 (success) to 255"
    );
    assert_eq!(
        error_of("exit(-1)").0,
        "exit(-1): an exit status is 0 (success) to 255"
    );
    assert!(error_of(r#"save("x.rhai")"#)
        .0
        .starts_with(r#"save("x.rhai"): save() keeps the statements of a REPL session"#));
}

#[test]
fn print_comes_after_the_changes_before_it() {
    let r = run(r#"let red = netns("red"); print(`made ${red}`);"#);
    r.ok();
    assert_eq!(
        r.lines(),
        [
            "# -e:1",
            "ip netns add red",
            "ip -n red link set lo up",
            r#"# print: made Netns("red")"#
        ]
    );
}
