//! lang/probe.rs: ping, connect, http_get. In a plan their answers are made up; what is
//! checked is what they ask, that they record no change, and how they refuse bad input.

use crate::lang::test_support::{assert_message, run, value};

#[test]
fn probes_are_comments_in_the_plan_and_record_nothing() {
    let r = run(r#"let red = netns("red");
                   red.ping("10.0.0.2");
                   red.connect("10.0.0.2:80");
                   red.http_get("http://10.0.0.2/");"#);
    r.ok();
    assert_eq!(r.ops.len(), 1, "only the namespace: {:?}", r.ops);
    assert_eq!(
        &r.lines()[3..],
        [
            "# -e:2",
            r#"# probe: ping 10.0.0.2 from namespace "red""#,
            "# -e:3",
            r#"# probe: connect to 10.0.0.2:80 from namespace "red""#,
            "# -e:4",
            r#"# probe: GET http://10.0.0.2/ from namespace "red""#,
        ]
    );
}

#[test]
fn ping_with_options_answers_with_a_map() {
    assert_eq!(
        value(
            r#"let r = ping("127.0.0.1", #{ count: 3, timeout_ms: 50 }); `${r.sent} ${r.received} ${r.rtt_ms}`"#
        ),
        "3 3 0.0"
    );
    assert_eq!(
        value(
            r#"let r = http_get("http://127.0.0.1/", #{ timeout_ms: 10 }); `${r.status} ${r.body.len()}`"#
        ),
        "200 0"
    );
}

#[test]
fn a_probe_applies_a_held_back_veth_first() {
    let r = run(r#"veth("a", "b"); ping("127.0.0.1");"#);
    r.ok();
    let lines = r.lines();
    assert!(lines[1].starts_with("ip link add name a "), "{lines:?}");
    assert_eq!(lines[2], "# probe: ping 127.0.0.1 from the host namespace");
}

#[test]
fn probe_arguments_are_checked() {
    for (code, why) in [
        (r#"ping("nope")"#, r#""nope""#),
        (
            r#"ping("127.0.0.1", #{ count: 0 })"#,
            "option count = 0 is out of range (1..=10000)",
        ),
        (
            r#"ping("127.0.0.1", #{ timeout_ms: "1s" })"#,
            "option timeout_ms must be an integer, not string",
        ),
        (r#"connect("10.0.0.1")"#, "10.0.0.1"),
        (r#"connect("10.0.0.1:99999")"#, "10.0.0.1:99999"),
        (
            r#"http_get("http://x/", #{ timeout: 1 })"#,
            r#"unknown option "timeout" (known: timeout_ms)"#,
        ),
    ] {
        assert_message(code, code, &[why]);
    }
    assert_message(
        r#"netns("red").ping("ghost", #{ count: 1 })"#,
        r#"red.ping("ghost", #{ count: 1 })"#,
        &[r#""ghost""#],
    );
}
