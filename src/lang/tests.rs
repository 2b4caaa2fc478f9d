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
        plan.contains("ip link add name v1 type veth peer name v2 netns c1"),
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
