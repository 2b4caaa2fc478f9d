//! lang/link.rs: veth, bridge, link, up / down, and the `Link` and `Veth` handles.

use crate::lab::op::{LinkSpec, Op};
use crate::lang::test_support::{assert_message, error_of, ns, ops, run, value};

#[test]
fn a_veth_is_one_op_with_each_end_where_asked() {
    let o = ops(r#"let red = netns("red");
                   veth("a", "b");
                   red.veth("c", "d", #{ mtu: 1400 });
                   veth("e", "f", #{ b_ns: red });"#);
    let ends: Vec<_> = o[1..]
        .iter()
        .map(|op| match op {
            Op::VethAdd {
                a,
                a_ns,
                b,
                b_ns,
                mtu,
                ..
            } => (a.as_str(), a_ns.clone(), b.as_str(), b_ns.clone(), *mtu),
            other => panic!("not a veth: {other:?}"),
        })
        .collect();
    assert_eq!(
        ends,
        [
            ("a", None, "b", None, None),
            ("c", ns("red"), "d", ns("red"), Some(1400)),
            ("e", None, "f", ns("red"), None),
        ]
    );
}

#[test]
fn a_veth_shows_as_one_ip_link_add_with_its_mtu_on_both_ends() {
    let r = run(r#"veth("a", "b", #{ mtu: 1400 });"#);
    r.ok();
    let lines = r.lines();
    assert_eq!(lines[0], "# -e:1");
    assert!(
        lines[1].starts_with("ip link add name a mtu 1400 ")
            && lines[1].contains(" type veth peer name b mtu 1400 "),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
}

#[test]
fn the_ends_of_a_veth_need_different_names_in_one_namespace() {
    assert_message(
        r#"veth("a", "a")"#,
        r#"veth("a", "a")"#,
        &["the two ends need different names"],
    );
    // In two namespaces the same name is fine.
    assert_eq!(ops(r#"veth("a", "a", #{ b_ns: netns("red") })"#).len(), 2);
}

#[test]
fn a_bridge_is_made_up_and_given_its_address() {
    let r = run(r#"let red = netns("red");
                   red.bridge("br0", "10.5.0.1/24");"#);
    r.ok();
    assert!(
        matches!(&r.ops[1], Op::LinkAdd { ns: n, name, spec: LinkSpec::Bridge { .. } } if n == &ns("red") && name == "br0"),
        "{:?}",
        r.ops
    );
    assert_eq!(
        r.ops[2],
        Op::AddrAdd {
            ns: ns("red"),
            dev: "br0".into(),
            cidr: "10.5.0.1/24".parse().unwrap(),
            nodad: false
        }
    );
    assert_eq!(r.ops.len(), 3);
    assert_eq!(
        &r.lines()[3..],
        [
            "# -e:2",
            "ip -n red link add name br0 type bridge mcast_snooping 0",
            "ip -n red link set dev br0 up",
            "ip -n red addr add 10.5.0.1/24 dev br0",
        ]
    );
}

#[test]
fn each_link_method_records_its_op() {
    let o = ops(r#"let red = netns("red");
                   red.bridge("br0");
                   let v = red.veth("a", "b");
                   v.a.up();
                   v.a.down();
                   v.a.mtu(1300);
                   v.a.master("br0");
                   v.a.nomaster();
                   v.a.addr("10.0.0.1/24");
                   v.b.move_to(host());
                   red.up("a");
                   red.down(v.a);
                   v.a.delete();"#);
    // One op each, in order, as the trace (`-x`) shows them.
    let shown: Vec<String> = o[3..].iter().flat_map(|op| op.render()).collect();
    assert_eq!(
        shown,
        [
            "ip -n red link set dev a up",
            "ip -n red link set dev a down",
            "ip -n red link set dev a mtu 1300",
            "ip -n red link set dev a master br0",
            "ip -n red link set dev a nomaster",
            "ip -n red addr add 10.0.0.1/24 dev a",
            "ip -n red link set dev b netns $$",
            "ip -n red link set dev a up",
            "ip -n red link set dev a down",
            "ip -n red link del dev a",
        ]
    );
    assert_eq!(
        o[9],
        Op::LinkMove {
            ns: ns("red"),
            name: "b".into(),
            to: None
        }
    );
}

#[test]
fn the_handles_answer_from_the_network() {
    assert_eq!(
        value(
            r#"let v = veth("a", "b"); `${v.a.kind} ${v.a.peer} ${v.b.peer} ${v.a.name} ${v.b.ns.name} ${link("lo").peer}`"#
        ),
        "veth b a a host "
    );
    assert_eq!(
        value(r#"let red = netns("red"); let v = red.veth("a", "b"); `${v}`"#),
        r#"Veth(Link("a" in red) <=> Link("b" in red))"#
    );
}

#[test]
fn link_method_arguments_are_checked_before_anything_changes() {
    let r = run(r#"let red = netns("red");
                   veth("a", "b");
                   link("a").mtu(67);"#);
    let e = crate::lang::explain(&r.result.unwrap_err());
    assert_eq!(
        e.message,
        r#"Link("a").mtu(67): MTU 67 is out of range (68..=65535)"#
    );
    assert_eq!(e.pos.line(), Some(3));
    assert!(!r.ops.iter().any(|o| matches!(o, Op::LinkMtu { .. })));
    assert_eq!(
        error_of(r#"link("lo").move_to(host())"#).0,
        r#"Link("lo").move_to(Netns(host)): Link("lo") is already there"#
    );
    assert_eq!(
        error_of(
            r#"let red = netns("red"); bridge("br0"); red.veth("a", "b").a.master(link("br0"))"#
        )
        .0,
        r#"Link("a" in red).master(Link("br0")): Link("br0") is not in namespace "red""#
    );
    assert_eq!(
        error_of(r#"up(5)"#).0,
        "up(5): the link must be a Link or an interface name, not int"
    );
}

/// A port leaving a lab-mode bridge leaves lab mode first (while it is still that port);
/// onto another lab-mode bridge it keeps it; a move that fails puts lab mode back.
#[test]
fn a_port_leaves_lab_mode_with_its_lab_mode_bridge() {
    let lab = |name: &str, on: bool| Op::PortLabMode {
        ns: None,
        name: name.into(),
        on,
    };
    let master = |name: &str, m: Option<&str>| Op::LinkMaster {
        ns: None,
        name: name.into(),
        master: m.map(Into::into),
    };
    let r = run(r#"bridge("lab1", #{ lab_mode: true });
                   bridge("lab2", #{ lab_mode: true });
                   bridge("plain");
                   for p in ["pa", "pb", "pc", "pd"] { veth(p, `${p}-far`).a.master("lab1"); }
                   link("pa").nomaster();
                   link("pb").master("plain");
                   link("pc").master("lab2");
                   link("pc").master("lab2");
                   link("pd").master("nosuch");"#);
    assert!(r.result.is_err(), "{}", r.plan);
    let after: Vec<Op> = r
        .ops
        .iter()
        .skip_while(|o| **o != lab("pd", true))
        .skip(1)
        .cloned()
        .collect();
    assert_eq!(
        after,
        [
            lab("pa", false),
            master("pa", None),
            lab("pb", false),
            master("pb", Some("plain")),
            master("pc", Some("lab2")),
            lab("pc", true),
            master("pc", Some("lab2")),
            lab("pc", true),
            // "nosuch" is refused: nothing is left changed.
            lab("pd", false),
            lab("pd", true),
        ]
    );
}
