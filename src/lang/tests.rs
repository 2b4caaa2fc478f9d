//! The language layer in-process, over the model backend: no kernel, no root, no spawned
//! binary. What these check (errors raised by the call that caused them, held-back veths
//! folded with the move that follows, applied before anything observable) holds the same
//! over the kernel backend, which the integration tests check.

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, EvalAltResult};

use crate::backend::model::ModelBackend;
use crate::lab::journal::Journal;
use crate::lab::session::Session;
use crate::lang::{self, Ctx};

/// An engine over an empty model, as `netscript plan` builds it.
fn engine() -> (rhai::Engine, rhai::Scope<'static>, Ctx) {
    let mut s = Session::new(
        Box::new(ModelBackend::of_host(None)),
        Journal::in_memory(),
        false,
    );
    s.planning = true;
    let ctx: Ctx = Rc::new(RefCell::new(s));
    let (mut engine, scope) =
        crate::ui::run::engine_for(&ctx, vec![], None, crate::lang::stdlib::Mode::Run);
    let cx = ctx.clone();
    engine.on_print(move |t| cx.borrow_mut().note(format!("print: {t}")));
    (engine, scope, ctx)
}

fn eval(code: &str) -> (Result<Dynamic, Box<EvalAltResult>>, String) {
    let (engine, mut scope, ctx) = engine();
    let r = engine
        .eval_with_scope::<Dynamic>(&mut scope, code)
        .and_then(|v| {
            ctx.borrow_mut()
                .finish()
                .map(|()| v)
                .map_err(|e| lang::fail("", e))
        });
    let plan = ctx.borrow().plan("t").unwrap_or_default();
    (r, plan)
}

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
