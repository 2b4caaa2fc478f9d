//! lang/capture.rs: ns.capture(link, #{ count, seconds, file, filter }).

use crate::lang::test_support::{assert_message, run};

#[test]
fn a_planned_capture_is_a_comment_and_writes_no_file() {
    let path = "/nonexistent-dir/never.pcap";
    let r = run(&format!(
        r#"let red = netns("red");
           red.veth("a", "b");
           let c = red.capture("a", #{{ count: 5, seconds: 2, file: "{path}", filter: #{{ proto: "TCP", port: 80 }} }});
           `${{c.packets.len()}} ${{c.file}}`"#
    ));
    assert_eq!(crate::lang::show_value(r.ok()), format!("0 {path}"));
    assert!(
        r.plan
            .contains("# capture: on a in namespace \"red\" (at most 5 packets, 2 s)"),
        "{}",
        r.plan
    );
    assert!(!std::path::Path::new(path).exists());
    assert_eq!(r.ops.len(), 2, "a capture changes nothing");
}

#[test]
fn capture_options_are_checked() {
    for (opts, why) in [
        (
            "#{ count: 0 }",
            "option count = 0 is out of range (1..=1000000)",
        ),
        (
            "#{ seconds: 86401 }",
            "option seconds = 86401 is out of range",
        ),
        (
            "#{ filter: \"tcp\" }",
            "option filter must be a map: #{ proto, host, port }",
        ),
        (
            "#{ filter: #{ proto: \"sctp\" } }",
            r#"filter proto "sctp" is not one of "#,
        ),
        ("#{ filter: #{ host: \"x\" } }", "filter host: "),
        (
            "#{ filter: #{ port: 0 } }",
            "option port = 0 is out of range",
        ),
        ("#{ filter: #{ dst: 1 } }", r#"unknown option "dst""#),
        ("#{ snaplen: 1 }", r#"unknown option "snaplen""#),
    ] {
        let code = format!(r#"capture("lo", {opts})"#);
        assert_message(&code, &code, &[why]);
    }
    assert_message(
        r#"capture("abcdefghijklmnop")"#,
        r#"capture("abcdefghijklmnop")"#,
        &["16 bytes"],
    );
}
