//! lang/netns.rs: netns, netns_open, netns_exists, netns_list, netns_delete, host() and
//! the `Netns` properties.

use crate::lab::op::Op;
use crate::lang::test_support::{error_of, ops, run, value};

#[test]
fn netns_records_one_op_and_brings_lo_up_unless_told_not_to() {
    let r = run(r#"netns("red");
                   netns("blue", #{ lo: false });"#);
    r.ok();
    assert_eq!(
        r.ops,
        [
            Op::NetnsAdd {
                name: "red".into(),
                lo: true
            },
            Op::NetnsAdd {
                name: "blue".into(),
                lo: false
            },
        ]
    );
    assert_eq!(
        r.lines(),
        [
            "# -e:1",
            "ip netns add red",
            "ip -n red link set lo up",
            "# -e:2",
            "ip netns add blue",
        ]
    );
}

#[test]
fn netns_delete_takes_a_handle_or_a_name_and_never_the_host() {
    assert_eq!(
        ops(r#"let red = netns("red"); netns("blue"); netns_delete(red); netns_delete("blue");"#)
            [2..],
        [
            Op::NetnsDel { name: "red".into() },
            Op::NetnsDel {
                name: "blue".into()
            },
        ]
    );
    let (m, at) = error_of("let x = 1;\nnetns_delete(host())");
    assert_eq!(
        m,
        "netns_delete(Netns(host)): the host namespace cannot be deleted"
    );
    assert_eq!(at, (2, 1));
    let (m, _) = error_of("netns_delete(5)");
    assert_eq!(
        m,
        "netns_delete(5): the namespace must be a Netns or a namespace name, not int"
    );
}

#[test]
fn the_questions_see_what_the_script_made_and_record_nothing() {
    let r = run(r#"let before = netns_exists("red");
                   netns("red");
                   netns("blue");
                   let red = netns_open("red");
                   `${before} ${netns_exists("red")} ${netns_list()} ${red.name} ${host().name}`"#);
    assert_eq!(
        crate::lang::show_value(r.ok()),
        r#"false true ["blue", "red"] red host"#
    );
    assert_eq!(r.ops.len(), 2, "only the two netns calls change anything");
}

#[test]
fn the_options_of_netns_are_checked() {
    assert_eq!(
        error_of(r#"netns("red", #{ loopback: true })"#).0,
        r#"netns("red", #{ loopback: true }): unknown option "loopback" (known: lo)"#
    );
    assert_eq!(
        error_of(r#"netns("red", #{ lo: "yes" })"#).0,
        r#"netns("red", #{ lo: "yes" }): option lo must be true or false, not string"#
    );
}

#[test]
fn a_namespace_handle_compares_and_shows_by_name() {
    assert_eq!(
        value(
            r#"let a = netns("red"); let b = netns_open("red"); `${a == b} ${a != host()} ${a}`"#
        ),
        r#"true true Netns("red")"#
    );
}
