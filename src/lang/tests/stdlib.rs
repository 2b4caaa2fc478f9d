//! lang/stdlib.rs and stdlib/lab.rhai: the shipped `lab` module, as a script imports it.

use crate::lab::op::Op;
use crate::lang::test_support::{ns, run};

#[test]
fn p2p_makes_one_veth_straight_into_both_namespaces() {
    let r = run(r#"import "lab" as lab;
                   let red = netns("red");
                   let blue = netns("blue");
                   let v = lab::p2p(red, "10.0.0.1/24", blue, "10.0.0.2/24");
                   `${v}`"#);
    assert_eq!(
        crate::lang::show_value(r.ok()),
        r#"Veth(Link("veth-red" in red) <=> Link("veth-blue" in blue))"#
    );
    assert!(
        matches!(&r.ops[2], Op::VethAdd { a, a_ns, b, b_ns, .. }
            if a == "veth-red" && a_ns == &ns("red") && b == "veth-blue" && b_ns == &ns("blue")),
        "{:?}",
        r.ops
    );
    assert_eq!(
        r.ops.len(),
        7,
        "netns ×2, veth, addr ×2, up ×2: {:?}",
        r.ops
    );
    assert!(!r.ops.iter().any(|o| matches!(o, Op::LinkMove { .. })));
}

#[test]
fn bridge_network_builds_containers_forwarding_and_nat() {
    let r = run(r#"import "lab" as lab;
                   let cs = lab::bridge_network("br0", "10.100.0.1/24", 2);
                   lab::publish(8080, "10.100.0.2", 80);
                   cs.map(|c| c.name)"#);
    assert_eq!(crate::lang::show_value(r.ok()), r#"["c1", "c2"]"#);
    let count = |f: fn(&Op) -> bool| r.ops.iter().filter(|o| f(o)).count();
    assert_eq!(count(|o| matches!(o, Op::NetnsAdd { .. })), 2);
    assert_eq!(count(|o| matches!(o, Op::VethAdd { .. })), 2);
    assert_eq!(
        count(|o| matches!(o, Op::RouteAdd { route, .. } if route.dst.is_none())),
        2
    );
    assert_eq!(count(|o| matches!(o, Op::Sysctl { .. })), 2);
    // masquerade, then the port_forward's two rules
    assert_eq!(count(|o| matches!(o, Op::NftAdd { .. })), 2);
    assert!(r
        .plan
        .contains("ip -n c2 addr add 10.100.0.3/24 dev veth-c2\n"));
    assert!(r
        .plan
        .contains("ip -n c1 route add default via 10.100.0.1\n"));
}

#[test]
fn an_error_inside_the_module_names_the_call_and_the_module_line() {
    let r = run(r#"import "lab" as lab;
let red = netns("red");
lab::p2p(red, "10.0.0.1/24", red, "10.0.0.2/24");"#);
    let e = crate::lang::explain(&r.result.unwrap_err());
    assert!(
        e.message.starts_with(r#"veth("veth-red", "veth-red", "#)
            && e.message.ends_with("the two ends need different names"),
        "{}",
        e.message
    );
    // The script's line that called into the module is on the way.
    assert!(
        e.calls
            .iter()
            .any(|(src, pos, name)| src.is_none() && pos.line() == Some(3) && name.contains("p2p")),
        "{:?}",
        e.calls
    );
}
