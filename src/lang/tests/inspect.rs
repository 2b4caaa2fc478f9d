//! lang/inspect.rs: links, addrs, routes, neighbors, sockets, show, netns_of,
//! netns_attach.

use crate::lab::op::Op;
use crate::lang::test_support::{assert_message, run, value};

#[test]
fn links_and_addrs_are_data_the_script_can_assert_on() {
    assert_eq!(
        value(
            r#"let red = netns("red");
                 red.veth("a", "b", #{ mtu: 1400 });
                 red.addr("a", "10.0.0.1/24");
                 red.up("a");
                 let a = red.links().filter(|l| l.name == "a")[0];
                 let ad = red.addrs().filter(|x| x.dev == "a")[0];
                 `${red.links().len()} ${a.kind} ${a.up} ${a.mtu} ${a.peer} ${a.master} ${a.addrs} ${ad.addr}`"#
        ),
        r#"3 veth true 1400 b  ["10.0.0.1/24"] 10.0.0.1/24"#
    );
}

#[test]
fn routes_include_the_connected_network() {
    assert_eq!(
        value(
            r#"let red = netns("red");
                 red.veth("a", "b");
                 red.addr("a", "10.0.0.1/24");
                 red.up("a");
                 red.routes().map(|r| `${r.dst} ${r.dev}`)"#
        ),
        r#"["10.0.0.0/24 a"]"#
    );
}

#[test]
fn asking_records_nothing_and_a_missing_namespace_is_named() {
    let r = run(r#"let red = netns("red");
                   red.links(); red.addrs(); red.routes(); red.neighbors(); red.sockets();"#);
    r.ok();
    assert_eq!(r.ops.len(), 1);
    // A handle kept past its namespace's deletion: the question names what is gone.
    for f in ["links", "addrs", "routes", "neighbors", "sockets"] {
        assert_message(
            &format!(r#"let x = netns("x"); netns_delete(x); x.{f}()"#),
            &format!("x.{f}()"),
            &[r#"namespace "x" does not exist"#],
        );
    }
}

#[test]
fn netns_attach_records_the_namespace_of_a_process() {
    let r = run(r#"let n = netns_attach("web", 4242); n.name"#);
    assert_eq!(crate::lang::show_value(r.ok()), "web");
    assert_eq!(
        r.ops,
        [Op::NetnsAttach {
            name: "web".into(),
            pid: 4242
        }]
    );
}

#[test]
fn process_ids_are_checked() {
    for code in ["netns_of(0)", "netns_of(-1)", "netns_of(4294967296)"] {
        let pid = &code["netns_of(".len()..code.len() - 1];
        assert_message(code, code, &[&format!("{pid} is not a process id")]);
    }
    assert_message(
        r#"netns_attach("web", 0)"#,
        r#"netns_attach("web", 0)"#,
        &["0 is not a process id"],
    );
    assert_message(
        r#"netns_attach("a/b", 1)"#,
        r#"netns_attach("a/b", 1)"#,
        &["'/'"],
    );
}

#[test]
fn show_draws_the_topology_into_the_plan() {
    let r = run(r#"let red = netns("red"); red.veth("a", "b"); show();"#);
    r.ok();
    let after = r.plan.split("# -e:1").last().unwrap();
    assert!(after.contains("red"), "{}", r.plan);
    assert!(
        r.plan
            .lines()
            .any(|l| l.starts_with('#') && l.contains(" a")),
        "{}",
        r.plan
    );
}
