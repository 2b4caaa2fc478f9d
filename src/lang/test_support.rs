//! The harness of the language layer's in-process tests: the engine `netscript plan`
//! builds, over an empty model (no kernel, no root, no spawned binary), and what a test
//! asks of a run: its value or error, the plan (the trace, as `ip` commands), the Ops
//! the journal recorded, an error's message and position.

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, Scope};

use crate::backend::model::ModelBackend;
use crate::lab::journal::Journal;
use crate::lab::op::Op;
use crate::lab::session::Session;
use crate::lang::{self, Ctx};

/// An engine over an empty model, as `netscript plan` builds it; `print` becomes a
/// `# print: ..` line of the plan.
pub fn engine() -> (Engine, Scope<'static>, Ctx) {
    engine_over(ModelBackend::of_host(None))
}

/// The same over `model` (one told the kernel lacks a feature, say).
pub fn engine_over(model: ModelBackend) -> (Engine, Scope<'static>, Ctx) {
    let mut s = Session::new(Box::new(model), Journal::in_memory(), false);
    s.planning = true;
    let ctx: Ctx = Rc::new(RefCell::new(s));
    let (mut engine, scope) =
        crate::ui::run::engine_for(&ctx, vec![], None, crate::lang::stdlib::Mode::Run);
    let cx = ctx.clone();
    engine.on_print(move |t| cx.borrow_mut().note(format!("print: {t}")));
    (engine, scope, ctx)
}

/// What one script did.
pub struct Ran {
    pub result: Result<Dynamic, Box<EvalAltResult>>,
    /// The plan: the header, then each change as its shell command, under a `# -e:LINE`
    /// comment naming the line that made it.
    pub plan: String,
    /// The Ops the journal holds, in order.
    pub ops: Vec<Op>,
}

impl Ran {
    /// The script's value; it must have succeeded.
    pub fn ok(&self) -> &Dynamic {
        match &self.result {
            Ok(v) => v,
            Err(e) => panic!("{e}\n{}", self.plan),
        }
    }

    /// The plan's lines after its header (`#!/bin/sh`, the title, `set -e`).
    pub fn lines(&self) -> Vec<&str> {
        self.plan.lines().skip(3).collect()
    }
}

/// Run `code` to its end as a script runs (what is held back is applied at the end).
pub fn run(code: &str) -> Ran {
    let (engine, mut scope, ctx) = engine();
    run_in(&engine, &mut scope, &ctx, code)
}

/// The same over `model`.
pub fn run_over(model: ModelBackend, code: &str) -> Ran {
    let (engine, mut scope, ctx) = engine_over(model);
    run_in(&engine, &mut scope, &ctx, code)
}

/// Run `code` in an engine already used (its scope and model carry over).
pub fn run_in(engine: &Engine, scope: &mut Scope<'static>, ctx: &Ctx, code: &str) -> Ran {
    let result = engine
        .eval_with_scope::<Dynamic>(scope, code)
        .and_then(|v| {
            ctx.borrow_mut()
                .finish()
                .map(|()| v)
                .map_err(|e| lang::fail("", e))
        });
    let plan = ctx.borrow().plan("t").unwrap_or_default();
    let ops = ctx
        .borrow()
        .journal
        .entries
        .iter()
        .map(|e| e.op.clone())
        .collect();
    Ran { result, plan, ops }
}

/// `code`'s value (or error) and its plan.
pub fn eval(code: &str) -> (Result<Dynamic, Box<EvalAltResult>>, String) {
    let r = run(code);
    (r.result, r.plan)
}

/// The Ops `code` recorded; it must succeed.
pub fn ops(code: &str) -> Vec<Op> {
    let r = run(code);
    if let Err(e) = &r.result {
        panic!("{code}: {e}\n{}", r.plan);
    }
    r.ops
}

/// `code`'s value as a string (it must succeed), as `-e` shows it.
pub fn value(code: &str) -> String {
    match run(code).result {
        Ok(v) => lang::show_value(&v),
        Err(e) => panic!("{code}: {e}"),
    }
}

/// The error `code` raises: its message and (line, column), as a run reports them.
pub fn error_of(code: &str) -> (String, (usize, usize)) {
    let (r, _) = eval(code);
    let e = lang::explain(&r.expect_err(code));
    (
        e.message,
        (e.pos.line().unwrap_or(0), e.pos.position().unwrap_or(0)),
    )
}

/// The message names the call first and contains every one of `parts`.
pub fn assert_message(code: &str, call: &str, parts: &[&str]) {
    let (m, _) = error_of(code);
    assert!(
        m.starts_with(&format!("{call}: ")),
        "does not name the call {call}: {m}"
    );
    for p in parts {
        assert!(m.contains(p), "{m:?} lacks {p:?}");
    }
}

/// `Some(name)`: a named namespace, as Ops hold it.
pub fn ns(name: &str) -> crate::lab::op::Ns {
    Some(name.into())
}
