//! Running a script: build the session, evaluate, then keep the lab (success) or roll
//! it back (failure, interrupt), and report errors as FILE:LINE:COL with a caret.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{Dynamic, Engine, Position, AST};

use crate::backend::kernel::KernelBackend;
use crate::backend::Backend;
use crate::exit;
use crate::lab::journal::Journal;
use crate::lab::op::Op;
use crate::lab::session::Session;
use crate::lang::{self, Ctx};
use crate::style;

pub struct RunOpts {
    pub trace: bool,
    pub keep_on_error: bool,
    pub rm: bool,
    pub sandbox: bool,
    pub lab: String,
    /// Print `-e`'s result as JSON.
    pub json: bool,
}

/// Errors as one JSON object each on stderr (`--json`), instead of text.
static JSON_ERRORS: AtomicBool = AtomicBool::new(false);

/// `--json`: the errors of runs, plans and checks as JSON (see `json_error`).
pub fn set_json_errors(on: bool) {
    JSON_ERRORS.store(on, Ordering::Relaxed);
}

/// Whether errors are JSON (`--json`).
pub fn json_errors() -> bool {
    JSON_ERRORS.load(Ordering::Relaxed)
}

/// An error as one line of JSON: `{"file", "line", "col", "message", "calls"}`; line and
/// col are null when unknown, `calls` lists the function calls that led there, innermost
/// first (`{"function", "file", "line", "col"}`), else `[]`.
pub fn json_error(file: &str, pos: Position, message: &str, calls: Vec<serde_json::Value>) {
    let v = serde_json::json!({
        "file": file,
        "line": pos.line(),
        "col": pos.line().map(|_| pos.position().unwrap_or(1)),
        "message": message,
        "calls": calls,
    });
    crate::errln!("{v}");
}

/// Print an error the way compilers do: `FILE:LINE:COL: error: MESSAGE`, the line, a
/// caret, then where it was called from when it happened inside a function.
pub fn report(file: &str, source: &str, err: &lang::ScriptError) {
    let text_of = |f: &Option<String>| -> (String, Option<String>) {
        match f {
            Some(s) if s != file => (s.clone(), crate::lang::stdlib::source_of(s)),
            _ => (file.to_string(), Some(source.to_string())),
        }
    };
    let (f, text) = text_of(&err.source);
    // Innermost first: (function, file, line, col).
    let calls: Vec<(String, String, usize, usize)> = err
        .calls
        .iter()
        .rev()
        .filter_map(|(caller, pos, name)| {
            let (f, _) = text_of(caller);
            Some((name.clone(), f, pos.line()?, pos.position().unwrap_or(1)))
        })
        .collect();
    if json_errors() {
        let calls = calls
            .into_iter()
            .map(|(function, file, line, col)| {
                serde_json::json!({ "function": function, "file": file, "line": line, "col": col })
            })
            .collect();
        let (_, message) = refined(text.as_deref(), err.pos, &err.message);
        return json_error(&f, err.pos, &message, calls);
    }
    print_at(&f, text.as_deref(), err.pos, &err.message);
    let notes: Vec<String> = calls
        .iter()
        .map(|(name, f, line, col)| format!("in {name}(), called from {f}:{line}:{col}"))
        .collect();
    print_notes(&notes);
}

/// The `note: in F(), called from ...` lines, innermost first; a deep recursion is one
/// note, not one per level.
pub fn print_notes(notes: &[String]) {
    let mut i = 0;
    while i < notes.len() {
        let same = notes[i..].iter().take_while(|n| **n == notes[i]).count();
        let note = style::note("note");
        match same {
            1 => crate::errln!("  {note}: {}", notes[i]),
            n => crate::errln!("  {note}: {} ({n} times)", notes[i]),
        }
        i += same;
    }
}

/// The line `pos` is on, and `message` refined with what only that line shows (the
/// receiver as written: `red.links()`).
fn refined<'a>(source: Option<&'a str>, pos: Position, message: &str) -> (Option<&'a str>, String) {
    let text = pos
        .line()
        .and_then(|line| source.and_then(|s| s.lines().nth(line - 1)));
    let message = match (text, pos.position()) {
        (Some(t), col) => lang::teach::refine(message, t, col.unwrap_or(1)),
        _ => message.to_string(),
    };
    (text, message)
}

pub fn print_at(file: &str, source: Option<&str>, pos: Position, message: &str) {
    let (text, message) = refined(source, pos, message);
    if json_errors() {
        return json_error(file, pos, &message, vec![]);
    }
    let error = style::error("error");
    match (pos.line(), pos.position()) {
        (Some(line), col) => {
            let col = col.unwrap_or(1);
            let place = style::place(&format!("{file}:{line}:{col}:"));
            crate::errln!("{place} {error}: {message}");
            if let Some(text) = text {
                crate::errln!("    {text}");
                crate::errln!(
                    "    {}{}",
                    " ".repeat(col.saturating_sub(1)),
                    style::caret("^")
                );
            }
        }
        _ => crate::errln!("{} {error}: {message}", style::place(&format!("{file}:"))),
    }
}

pub fn kernel_session(opts: &RunOpts) -> crate::error::Result<Session> {
    let mut backend = KernelBackend::new()?;
    backend.keep_output(crate::lab::output::dir(&opts.lab));
    if opts.sandbox {
        // The sandbox's own loopback, so local addresses answer.
        backend.apply(&Op::LinkSet {
            ns: None,
            name: "lo".into(),
            up: true,
        })?;
    }
    let mut s = Session::new(Box::new(backend), Journal::for_lab(&opts.lab), opts.trace);
    s.lab = Some(opts.lab.clone());
    // A later run of a lab that is up: its lab-mode bridges stay in lab mode.
    if let Ok(Some(earlier)) = Journal::load(&opts.lab) {
        for e in &earlier {
            s.remember_bridge(&e.op);
        }
    }
    Ok(s)
}

pub fn engine_for(
    ctx: &Ctx,
    args: Vec<String>,
    dir: Option<&Path>,
    modules: crate::lang::stdlib::Mode,
) -> (Engine, rhai::Scope<'static>) {
    let (mut engine, mut scope) = lang::build_engine(ctx, args);
    crate::lang::stdlib::install(&mut engine, dir, modules);
    // HOST and HOSTS, when run on one host of `--hosts`.
    crate::hosts::script_vars(&mut engine, &mut scope);
    (engine, scope)
}

/// A script that does not compile; its error has been printed.
pub struct NotCompiled;

pub fn compile(engine: &Engine, file: &str, source: &str) -> Result<AST, NotCompiled> {
    match engine.compile(source) {
        Ok(mut ast) => {
            ast.set_source(file);
            Ok(ast)
        }
        Err(e) => {
            print_at(file, Some(source), e.position(), &e.err_type().to_string());
            Err(NotCompiled)
        }
    }
}

/// Run `source` (from `file`) to the end; returns the exit code.
pub fn run(file: &str, source: &str, args: Vec<String>, opts: &RunOpts, print_result: bool) -> i32 {
    let _lock = match crate::lab::store::lock(&opts.lab) {
        Ok(l) => l,
        Err(e) => {
            crate::errln!("netscript: {e}");
            return exit::code(exit::FAILURE);
        }
    };
    let session = match kernel_session(opts) {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("netscript: {e}");
            return exit::code(exit::FAILURE);
        }
    };
    let ctx: Ctx = Rc::new(RefCell::new(session));
    let dir = Path::new(file).parent();
    let (engine, mut scope) = engine_for(&ctx, args, dir, crate::lang::stdlib::Mode::Run);
    let Ok(ast) = compile(&engine, file, source) else {
        return exit::code(exit::FAILURE);
    };
    crate::signals::install();
    // The live progress line (a terminal only), cleared when the run ends.
    let _progress = crate::progress::start();
    let result = match engine.eval_ast_with_scope::<Dynamic>(&mut scope, &ast) {
        // A signal that arrived after the last step still means: do not keep the lab.
        Ok(_) if crate::signals::interrupted() => Err(lang::INTERRUPTED.into()),
        Ok(_) if crate::out::closed().is_some() => {
            Err(crate::out::closed().unwrap_or_default().into())
        }
        // What is still held back is applied now; its error is its own call's.
        Ok(v) => ctx
            .borrow_mut()
            .finish()
            .map(|()| v)
            .map_err(|e| lang::fail("", e)),
        r => r,
    };
    let mut s = ctx.borrow_mut();
    let asked = lang::exit_code().filter(|c| *c != 0);
    match result {
        // exit(N), N > 0: the script says it failed; the run ends as a failed one.
        Ok(_) if asked.is_some() => {
            let code = asked.unwrap_or(exit::code(exit::FAILURE));
            crate::errln!("netscript: {file}: the script called exit({code})");
            if opts.keep_on_error {
                s.stop_processes();
            } else {
                finish_teardown(&mut s, "rollback");
            }
            code
        }
        Ok(v) => {
            s.stop_processes();
            if print_result && !v.is_unit() && lang::exit_code().is_none() {
                match opts.json {
                    true => crate::outln!("{}", lang::to_json(&v)),
                    false => crate::outln!("{}", lang::show_value(&v)),
                }
            }
            if opts.rm {
                let code = finish_teardown(&mut s, "--rm");
                crate::lab::store::mark_down(&opts.lab);
                return code;
            }
            crate::lab::store::clear_down_mark(&opts.lab);
            crate::lab::store::drop_if_empty(&opts.lab);
            exit::code(exit::SUCCESS)
        }
        Err(e) => {
            let explained = lang::explain(&e);
            report(file, source, &explained);
            // A name taken by a lab that is up: say which, and how to re-run.
            if let Some(hint) = crate::lab::store::clash_hint(&explained.message, &opts.lab) {
                crate::errln!("  {}: {hint}", style::note("note"));
            }
            if opts.keep_on_error {
                s.stop_processes();
                crate::errln!(
                    "netscript: kept what this run built (--keep-on-error); remove it with: netscript down {}",
                    opts.lab
                );
            } else {
                finish_teardown(&mut s, "rollback");
            }
            exit::code(exit::FAILURE)
        }
    }
}

/// `netscript plan`: run the script against the model and print the shell script that
/// makes the same changes; on an error print it (no plan) and return 1.
pub fn plan(file: &str, source: &str, args: Vec<String>) -> i32 {
    // The host as it is, read only, so the model knows what already exists.
    let mut kernel = KernelBackend::new().ok();
    let model = match kernel.as_mut() {
        Some(k) => crate::backend::model::ModelBackend::of_host(Some(k as &mut dyn Backend)),
        None => crate::backend::model::ModelBackend::of_host(None)
            .with_features(crate::backend::kernel::features::probe()),
    };
    let mut session = Session::new(Box::new(model), Journal::in_memory(), false);
    session.planning = true;
    session.script = file.to_string();
    let ctx: Ctx = Rc::new(RefCell::new(session));
    let (mut engine, mut scope) = engine_for(
        &ctx,
        args.clone(),
        Path::new(file).parent(),
        crate::lang::stdlib::Mode::Run,
    );
    // A call stack, so a call inside a shipped module is cited with the user's line.
    #[allow(deprecated)]
    engine.register_debugger(
        |_, d| d,
        |_, _, _, _, _| Ok(rhai::debugger::DebuggerCommand::Continue),
    );
    // The plan is the output; what the script prints becomes comments in it.
    let cx = ctx.clone();
    engine.on_print(move |text| cx.borrow_mut().note(format!("print: {text}")));
    let Ok(ast) = compile(&engine, file, source) else {
        return exit::code(exit::FAILURE);
    };
    let result = engine
        .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
        .and_then(|_| ctx.borrow_mut().finish().map_err(|e| lang::fail("", e)));
    let mut s = ctx.borrow_mut();
    match result {
        Ok(_) => {
            s.stop_processes();
            let mut title = format!("netscript plan {file}");
            for a in &args {
                title.push(' ');
                title.push_str(&crate::lab::op::shell_word(a));
            }
            crate::out!("{}", s.plan(&title).expect("the model writes a plan"));
            exit::code(exit::SUCCESS)
        }
        Err(e) => {
            report(file, source, &lang::explain(&e));
            exit::code(exit::FAILURE)
        }
    }
}

/// `netscript check`: parse, and resolve the imports (a module's top level runs against
/// the model, so nothing is touched). Returns the exit code.
pub fn check(file: &str, source: &str) -> i32 {
    // No host state, but the kernel's features: a module's top level fails as it would.
    let model = crate::backend::model::ModelBackend::of_host(None)
        .with_features(crate::backend::kernel::features::probe());
    let mut session = Session::new(Box::new(model), Journal::in_memory(), false);
    session.planning = true;
    let ctx: Ctx = Rc::new(RefCell::new(session));
    let (mut engine, scope) = engine_for(
        &ctx,
        vec![],
        Path::new(file).parent(),
        crate::lang::stdlib::Mode::Check,
    );
    engine.on_print(|_| {});
    match engine.compile_into_self_contained(&scope, source) {
        Ok(_) => exit::code(exit::SUCCESS),
        Err(e) => {
            let mut ast_err = *e;
            let mut pos = ast_err.take_position();
            if let (true, rhai::EvalAltResult::ErrorModuleNotFound(m, _)) =
                (pos.is_none(), &ast_err)
            {
                // Rhai does not say where: the import statement that names it.
                let needle = format!("\"{m}\"");
                if let Some((i, l)) = source
                    .lines()
                    .enumerate()
                    .find(|(_, l)| l.contains("import") && l.contains(&needle))
                {
                    pos = rhai::Position::new(
                        (i + 1) as u16,
                        (l.find(&needle).unwrap_or(0) + 1) as u16,
                    );
                }
            }
            let msg = match &ast_err {
                rhai::EvalAltResult::ErrorParsing(p, _) => p.to_string(),
                rhai::EvalAltResult::ErrorModuleNotFound(m, _) => format!("import {m:?}: no module {m:?} (neither shipped with netscript nor a file {m}.rhai next to the script)"),
                other => lang::explain(other).message,
            };
            print_at(file, Some(source), pos, &msg);
            exit::code(exit::FAILURE)
        }
    }
}

/// `netscript plan --down LAB`: what `down` would undo, as a shell script.
pub fn plan_down(lab: &str) -> i32 {
    if let Err(e) = crate::lab::names::labname(lab) {
        crate::errln!("netscript plan --down: invalid lab name: {e}");
        return exit::code(exit::USAGE);
    }
    match Journal::load(lab) {
        Ok(Some(entries)) => {
            crate::outln!("#!/bin/sh\n# netscript plan --down {lab}\nset -e");
            for op in crate::lab::journal::undo_plan(&entries) {
                for line in op.render() {
                    crate::outln!("{line}");
                }
            }
            exit::code(exit::SUCCESS)
        }
        Ok(None) => {
            crate::errln!("netscript plan --down: there is no lab named {lab:?} that is up (see netscript ls)");
            exit::code(exit::FAILURE)
        }
        Err(e) => {
            crate::errln!("netscript plan --down: {e}");
            exit::code(exit::FAILURE)
        }
    }
}

fn finish_teardown(s: &mut Session, why: &str) -> i32 {
    let undone = crate::lab::journal::undo_plan(&s.journal.entries).len();
    let errors = s.teardown();
    for e in &errors {
        crate::errln!("netscript: {why}: {e}");
    }
    // A failed run says that it left nothing behind.
    if why == "rollback" && undone > 0 {
        crate::errln!(
            "netscript: rolled back {}",
            crate::out::plural(undone.saturating_sub(errors.len()) as u64, "change")
        );
    }
    if errors.is_empty() {
        exit::code(exit::SUCCESS)
    } else {
        exit::code(exit::FAILURE)
    }
}
