//! The language layer in-process, over the model backend: no kernel, no root, no spawned
//! binary. What these check (errors raised by the call that caused them, held-back veths
//! folded with the move that follows, applied before anything observable) holds the same
//! over the kernel backend, which the integration tests check.
//!
//! One file per script module beside this one (what each binding records as Ops and
//! shows in the plan, and how it refuses bad arguments); the harness is
//! `lang::test_support`.

mod builtins;
mod capture;
mod firewall;
mod inspect;
mod link;
mod netns;
mod overlay;
mod probe;
mod process;
mod route;
mod stdlib;

use crate::lab::link_kind::LinkSpec;
use crate::lab::op::Op;
use crate::lang;
use crate::lang::test_support::{assert_message, engine, error_of, eval, run_in};

#[test]
fn a_veth_into_a_missing_namespace_is_caught_by_the_try_around_it() {
    let (r, _) = eval(
        r#"let caught = "";
           try { veth("m1", "m2", #{ a_ns: "ghost" }); } catch (e) { caught = e; }
           caught"#,
    );
    let caught = r.unwrap().into_string().unwrap();
    assert!(
        caught.contains(r#"namespace "ghost" does not exist"#),
        "{caught}"
    );
}

#[test]
fn a_taken_name_fails_at_the_second_veth_not_later() {
    let (r, _) = eval(
        r#"veth("a", "b");
           let second = "";
           try { veth("a", "c"); } catch (e) { second = e; }
           let x = netns("x");
           second"#,
    );
    let second = r.unwrap().into_string().unwrap();
    assert!(second.contains(r#"link "a" already exists"#), "{second}");
}

#[test]
fn a_move_right_after_a_veth_is_folded_into_its_creation() {
    let (r, plan) = eval(
        r#"let c1 = netns("c1");
           veth("v1", "v2");
           link("v2").move_to(c1);"#,
    );
    let _ = r.unwrap();
    assert!(
        plan.contains(
            "ip link add name v1 numtxqueues 1 numrxqueues 1 type veth peer name v2 numtxqueues 1 numrxqueues 1 netns c1"
        ),
        "{plan}"
    );
    assert!(
        !plan.contains("ip link set dev v2 netns"),
        "no separate move: {plan}"
    );
}

#[test]
fn a_move_into_a_namespace_where_the_name_is_taken_fails_at_the_move() {
    let (r, _) = eval(
        r#"let c = netns("c");
           veth("a", "b", #{ a_ns: c });
           veth("a", "z");
           link("a").move_to(c);"#,
    );
    let e = r.unwrap_err();
    assert_eq!(e.position().line(), Some(4), "{e}");
    assert!(
        e.to_string()
            .contains(r#"link "a" in namespace "c" already exists"#),
        "{e}"
    );
}

#[test]
fn a_held_back_veth_is_applied_before_a_print() {
    let (r, plan) = eval(r#"veth("p1", "p2"); print("after");"#);
    let _ = r.unwrap();
    let veth = plan
        .find("ip link add name p1")
        .expect("the veth is in the plan");
    let print = plan
        .find("# print: after")
        .expect("the print is in the plan");
    assert!(veth < print, "{plan}");
}

/// A veth the session's own check let through (the journal knows no `x` in `red`, a
/// namespace this run made) but the network refuses when it is applied, during a later
/// call: the error is the veth's, at its line, and the `try` around the later call does
/// not catch it.
#[test]
fn a_held_back_veth_refused_later_is_reported_at_its_own_line() {
    let (engine, mut scope, ctx) = engine();
    run_in(&engine, &mut scope, &ctx, r#"let red = netns("red");"#).ok();
    // Made behind the session's back, as a process in `red` could.
    ctx.borrow_mut()
        .processes()
        .apply(&Op::LinkAdd {
            ns: Some("red".into()),
            name: "x".into(),
            spec: LinkSpec::Tun {
                tap: false,
                owner: None,
                group: None,
            },
        })
        .unwrap();
    let r = run_in(
        &engine,
        &mut scope,
        &ctx,
        r#"let caught = "";
   veth("y", "x");
   link("x").move_to(red);
   try { print("later"); } catch (e) { caught = e; }
   caught"#,
    );
    let e = lang::explain(&r.result.unwrap_err());
    assert_eq!(
        e.message,
        r#"veth("y", "x") (with Link("x").move_to(Netns("red")), line 3, folded in): link "x" in namespace "red" already exists"#
    );
    assert_eq!((e.pos.line(), e.pos.position()), (Some(2), Some(4)));
    assert!(!r.plan.contains("# print: later"), "{}", r.plan);
}

#[test]
fn names_the_kernel_rewrites_are_refused_at_the_call() {
    for (code, why) in [
        (r#"bridge("br%d")"#, "template"),
        (r#"bridge("a:b")"#, "':'"),
        (r#"bridge("all")"#, "reserved"),
    ] {
        let (r, plan) = eval(code);
        let e = r.unwrap_err().to_string();
        assert!(e.contains(why), "{code}: {e}");
        assert!(!plan.contains("link add"), "nothing planned: {plan}");
    }
}

// ---------------------------------------------------------------- the reference

#[test]
fn every_function_method_and_property_the_engine_registers_is_documented() {
    let (engine, _, _) = engine();
    let registered = lang::docs::registered(&engine);
    // The enumeration sees the engine's own registrations, properties included.
    for name in ["veth", "ping", "get$a", "get$ns", "get$pid", "get$inode"] {
        assert!(
            registered.iter().any(|r| r.name == name),
            "{name} is registered"
        );
    }
    let missing = lang::docs::undocumented(&engine);
    assert!(
        missing.is_empty(),
        "registered but not in the reference (src/lang/docs.rs), as name(parameter types): {missing:#?}"
    );
}

#[test]
fn every_function_of_a_shipped_module_has_its_doc_comment() {
    let lab = lang::docs::module_entries();
    assert!(lab.iter().any(|e| e.name == "lab::p2p"), "{lab:?}");
    for e in &lab {
        assert!(!e.equivalent.is_empty(), "{} has no /// comment", e.name);
        assert!(!e.example.is_empty(), "{} has no `example` line", e.name);
    }
}

#[test]
fn definitions_declare_every_registered_function_with_types() {
    let (engine, _, _) = engine();
    let defs = lang::docs::definitions();
    assert!(!defs.contains("___"), "no mangled names");
    for r in lang::docs::registered(&engine) {
        let decl = match r.name.strip_prefix("get$") {
            Some(p) => format!("fn get {p}("),
            None => format!("fn {}(", r.name),
        };
        let arity = |l: &str| match l
            .split_once('(')
            .map(|(_, a)| a.split(')').next().unwrap_or(""))
        {
            Some("") | None => 0,
            Some(a) => a.split(", ").count(),
        };
        assert!(
            defs.lines()
                .any(|l| l.starts_with(&decl) && arity(l) == r.params.len()),
            "{}({}) is declared in the definitions",
            r.name,
            r.params.join(", ")
        );
    }
    for l in defs.lines().filter(|l| l.starts_with("fn ")) {
        let params = l.split_once('(').unwrap().1.split(')').next().unwrap();
        assert!(!params.contains('?'), "typed parameters: {l}");
    }
}

#[test]
fn doc_finds_a_name_as_the_headings_write_it() {
    for (q, name) in [
        ("ping", "ping"),
        ("ns.ping", "ping"),
        ("Netns.ping", "ping"),
        ("Link.up", "up"),
        ("link.up()", "up"),
        ("veth.a", "a"),
        ("lab::p2p", "lab::p2p"),
    ] {
        let e = lang::docs::find(q).unwrap_or_else(|| panic!("doc {q}"));
        assert_eq!(e.name, name, "doc {q}");
    }
    assert!(lang::docs::find("nosuch").is_none());
}

// ---------------------------------------------------------------- errors that teach

fn message(code: &str) -> String {
    let (r, _) = eval(code);
    lang::explain(&r.expect_err(code)).message
}

#[test]
fn a_typo_in_a_method_suggests_the_nearest_name() {
    let m = message(r#"let red = netns("red"); red.pign("10.0.0.2")"#);
    assert!(m.contains("did you mean ping?"), "{m}");
    let m = message(r#"cidr_hots("10.0.0.1/24", 2)"#);
    assert!(m.contains("did you mean cidr_host?"), "{m}");
}

#[test]
fn a_missing_argument_is_named_with_the_forms_that_exist() {
    let m = message(r#"let red = netns("red"); red.addr("veth-red")"#);
    assert!(
        m.starts_with(r#"red.addr("veth-red"): the cidr is missing"#),
        "{m}"
    );
    assert!(m.contains("ns.addr(link, cidr)"), "{m}");
    assert!(m.contains("link.addr(cidr)"), "{m}");
    let m = message(r#"let red = netns("red"); red.up()"#);
    assert!(m.contains("the link is missing"), "{m}");
    // Wrong types: the forms, and no guess at a missing argument.
    let m = message("netns(1)");
    assert!(m.contains("wrong number or types of arguments"), "{m}");
    assert!(m.contains("netns(name) or netns(name, #{ lo })"), "{m}");
}

#[test]
fn a_method_read_as_a_property_says_it_is_a_method() {
    let m = message(r#"let red = netns("red"); red.links"#);
    assert_eq!(m, "links is a method: ns.links()");
    let m = message(r#"let v = veth("a", "b"); v.c"#);
    assert!(m.contains("its properties: a, b"), "{m}");
    let m = message(r#"let red = netns("red"); red.name = "x""#);
    assert!(m.contains("read-only"), "{m}");
}

#[test]
fn a_function_name_written_bare_says_to_quote_it() {
    let m = message("help(veth)");
    assert!(m.contains(r#"quote its name: help("veth")"#), "{m}");
}

#[test]
fn a_script_variable_inside_a_function_says_functions_do_not_see_it() {
    let m = message(r#"let red = netns("red"); fn f() { red.ping("10.0.0.2") } f()"#);
    assert!(m.starts_with("Variable not found: red"), "{m}");
    assert!(
        m.contains("a Rhai function does not see the variables outside it"),
        "{m}"
    );
    assert!(m.contains("closure"), "{m}");
    // At the top level, no word about functions.
    let m = message("nosuch + 1");
    assert_eq!(m, "Variable not found: nosuch");
}

#[test]
fn no_rust_type_path_appears_in_any_message() {
    for code in [
        r#"let red = netns("red"); red.addr("veth-red")"#,
        r#"let red = netns("red"); red.addr(1, 2)"#,
        r#"let red = netns("red"); red.exec(red)"#,
        r#"let red = netns("red"); red.exec(1)"#,
        r#"let red = netns("red"); red.start(#{})"#,
        r#"let red = netns("red"); red.up(1)"#,
        r#"let red = netns("red"); red.move_to(1)"#,
        r#"veth("a", "b", #{ a_ns: 1 })"#,
        r#"netns_delete(1)"#,
        r#"let v = veth("a", "b"); v.a.master(1)"#,
        r#"let v = veth("a", "b"); v.a.move_to(v)"#,
        r#"let v = veth("a", "b"); v.up()"#,
        r#"let v = veth("a", "b"); v + 1"#,
        r#"let red = netns("red"); red.sysctl("net.ipv4.ip_forward", [])"#,
        r#"let red = netns("red"); red.links"#,
        r#"let red = netns("red"); red.nosuch = 1"#,
        r#"let red = netns("red"); red[0]"#,
        r#"let red = netns("red"); let x = red - 1;"#,
        r#"let p = host().start("true"); p.wait(1)"#,
        r#"let red = netns("red"); red.ping(red)"#,
        r#"host().pign()"#,
        r#"let x = netns("red"); for i in x {}"#,
        r#"let x = netns("red"); x.a"#,
        r#"let x = netns("red"); x.inode = 3"#,
    ] {
        let m = message(code);
        for path in [
            "::",
            "alloc",
            "netscript::",
            "rhai::",
            "ImmutableString",
            "Dynamic",
        ] {
            assert!(!m.contains(path), "{code}\n  -> {m}");
        }
    }
}

// ---------------------------------------------------------------- bad arguments
//
// Argument validation and error positions, in-process: every one of these is refused by
// the binding before any backend is asked, so the model shows exactly what a run shows.

#[test]
fn interface_names_longer_than_15_bytes_are_refused() {
    assert_message(
        r#"veth("abcdefghijklmnop", "x")"#,
        r#"veth("abcdefghijklmnop", "x")"#,
        &["\"abcdefghijklmnop\"", "16 bytes", "15"],
    );
    // Bytes, not characters: 9 × "é" is 18 bytes.
    assert_message(
        r#"bridge("ééééééééé")"#,
        r#"bridge("ééééééééé")"#,
        &["18 bytes", "15"],
    );
    assert_message(r#"veth("", "b")"#, r#"veth("", "b")"#, &["empty"]);
    let (r, _) = eval(r#"veth("abcdefghijklmno", "x").a.name"#);
    assert_eq!(r.unwrap().into_string().unwrap(), "abcdefghijklmno");
}

#[test]
fn bad_namespace_names_are_refused_by_every_call_that_takes_one() {
    for (literal, shown, why) in [
        (r#""a/b""#, r#""a/b""#, "'/'"),
        (r#""..""#, r#""..""#, "not allowed"),
        (r#"".""#, r#"".""#, "not allowed"),
        (r#""a b""#, r#""a b""#, "' '"),
        (r#""a\tb""#, r#""a\tb""#, r"'\t'"),
        (r#""a\x00b""#, r#""a\0b""#, r"'\0'"),
        (r#""""#, r#""""#, "empty"),
    ] {
        for f in ["netns", "netns_open", "netns_exists"] {
            assert_message(&format!("{f}({literal})"), &format!("{f}({shown})"), &[why]);
        }
        assert_message(
            &format!(r#"veth("a", "b", #{{ a_ns: {literal} }})"#),
            &format!(r#"veth("a", "b", #{{ a_ns: {shown} }})"#),
            &[why],
        );
    }
    let (m, _) = error_of(&format!(r#"netns("{}")"#, "n".repeat(256)));
    assert!(m.contains("256"), "{m}");
    let (r, _) = eval(&format!(r#"netns("{}").name.len()"#, "n".repeat(255)));
    assert_eq!(r.unwrap().as_int().unwrap(), 255);
}

#[test]
fn bad_cidrs_and_routes_are_refused_with_the_value() {
    for cidr in [
        "10.0.0.1/33",
        "10.0.0.300/24",
        "banana",
        "fd00::1/129",
        "10.0.0.1/x",
        "",
    ] {
        let code = format!(r#"addr("lo", "{cidr}")"#);
        assert_message(&code, &code, &[&format!("\"{cidr}\"")]);
    }
    assert_message(
        r#"bridge("br0", "10.0.0.1/99")"#,
        r#"bridge("br0", "10.0.0.1/99")"#,
        &["10.0.0.1/99"],
    );
    assert_message(
        r#"link("lo").addr("nope")"#,
        r#"Link("lo").addr("nope")"#,
        &["\"nope\""],
    );
    assert_message(
        r#"route("10.9.0.1/16", #{ dev: "lo" })"#,
        r#"route("10.9.0.1/16", #{ dev: "lo" })"#,
        &["host bits", "10.9.0.0/16"],
    );
    assert_message(
        r#"route("fd00::1/64", "fd00::2")"#,
        r#"route("fd00::1/64", "fd00::2")"#,
        &["host bits", "fd00::/64"],
    );
    assert_message(
        r#"route("10.0.0.0/8", #{ metric: 5 })"#,
        r#"route("10.0.0.0/8", #{ metric: 5 })"#,
        &["via", "dev"],
    );
    assert_message(
        r#"route("10.0.0.0/8", #{ via: "fd00::1" })"#,
        r#"route("10.0.0.0/8", #{ via: "fd00::1" })"#,
        &["different IP versions"],
    );
}

#[test]
fn unknown_option_keys_and_bad_option_values_are_named() {
    for (code, key) in [
        (r#"veth("a", "b", #{ mtuu: 1400 })"#, "mtuu"),
        (r#"route("10.0.0.0/8", #{ gw: "10.0.0.1" })"#, "gw"),
        (r#"ping("127.0.0.1", #{ cnt: 1 })"#, "cnt"),
        (r#"start(["true"], #{ detached: true })"#, "detached"),
        (
            r#"netns("n").veth("a", "b", #{ a_ns: "n", ns: "n" })"#,
            "ns",
        ),
    ] {
        let (m, _) = error_of(code);
        assert!(m.contains(&format!("unknown option \"{key}\"")), "{m}");
    }
    assert_message(
        r#"veth("a", "b", #{ mtu: 10 })"#,
        r#"veth("a", "b", #{ mtu: 10 })"#,
        &["mtu", "10"],
    );
    assert_message(
        r#"veth("a", "b", #{ a_ns: 5 })"#,
        r#"veth("a", "b", #{ a_ns: 5 })"#,
        &["a_ns"],
    );
    assert_message(
        r#"ping("127.0.0.1", #{ count: "x" })"#,
        r#"ping("127.0.0.1", #{ count: "x" })"#,
        &["count"],
    );
    assert_message(r#"link("lo").mtu(0)"#, r#"Link("lo").mtu(0)"#, &["0"]);
}

#[test]
fn wrong_types_and_unknown_functions_point_at_the_call() {
    let (m, at) = error_of(r#"veth(1, "b")"#);
    assert!(m.starts_with("veth(") && m.contains("(int, string)"), "{m}");
    assert_eq!(at, (1, 1));
    assert!(error_of("netns(5)").0.starts_with("netns("));
    assert!(error_of(r#"link("lo").mtu("big")"#).0.contains("mtu"));
    assert!(error_of(r#"vethh("a", "b")"#).0.contains("vethh"));
}

#[test]
fn taken_and_missing_objects_are_named_at_the_call() {
    let (m, at) = error_of(r#"netns("red"); netns("red")"#);
    assert_eq!(m, r#"netns("red"): namespace "red" already exists"#);
    assert_eq!(at, (1, 15));
    assert_eq!(
        error_of(r#"bridge("br0"); bridge("br0")"#).0,
        r#"bridge("br0"): link "br0" already exists"#
    );
    assert_eq!(
        error_of(r#"veth("veth-red", "veth-blue"); veth("veth-red", "veth-blue")"#).0,
        r#"veth("veth-red", "veth-blue"): link "veth-red" already exists"#
    );
    assert_eq!(
        error_of(r#"veth("a", "b"); veth("c", "b")"#).0,
        r#"veth("c", "b"): link "b" already exists"#
    );
    assert!(
        error_of(r#"addr("lo", "10.0.0.1/8"); addr("lo", "10.0.0.1/8")"#)
            .0
            .contains("already exists")
    );
    assert_eq!(
        error_of(r#"link("nope")"#).0,
        r#"link("nope"): link "nope" does not exist"#
    );
    assert_eq!(
        error_of(r#"up("nope")"#).0,
        r#"up("nope"): link "nope" does not exist"#
    );
    assert_message(
        r#"addr("nope", "10.0.0.1/24")"#,
        r#"addr("nope", "10.0.0.1/24")"#,
        &[r#""nope""#, "does not exist"],
    );
    assert_eq!(
        error_of(r#"netns_open("nope")"#).0,
        r#"netns_open("nope"): namespace "nope" does not exist"#
    );
    assert_message(
        r#"netns_delete("nope")"#,
        r#"netns_delete("nope")"#,
        &["does not exist"],
    );
    let (m, at) = error_of(r#"netns("a").link("eth9")"#);
    assert!(
        m.contains(r#""eth9""#) && m.contains("does not exist"),
        "{m}"
    );
    assert_eq!(at, (1, 12), "a method call points at the method");
}
