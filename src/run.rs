//! Running a script: build the session, evaluate, then keep the lab (success) or roll
//! it back (failure, interrupt), and report errors as FILE:LINE:COL with a caret.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use rhai::{Dynamic, Engine, Position, AST};

use crate::backend::kernel::KernelBackend;
use crate::backend::Backend;
use crate::journal::Journal;
use crate::op::Op;
use crate::script::{self, Ctx};
use crate::session::Session;

pub struct RunOpts {
    pub trace: bool,
    pub keep_on_error: bool,
    pub rm: bool,
    pub sandbox: bool,
    pub lab: String,
}

/// Print an error the way compilers do: `FILE:LINE:COL: error: MESSAGE`, the line, a caret.
pub fn report(file: &str, source: &str, err: &script::ScriptError) {
    let (file, src) = match &err.source {
        Some(s) if s != file => (s.as_str(), None),
        _ => (file, Some(source)),
    };
    print_at(file, src, err.pos, &err.message);
}

pub fn print_at(file: &str, source: Option<&str>, pos: Position, message: &str) {
    match (pos.line(), pos.position()) {
        (Some(line), col) => {
            let col = col.unwrap_or(1);
            eprintln!("{file}:{line}:{col}: error: {message}");
            if let Some(text) = source.and_then(|s| s.lines().nth(line - 1)) {
                eprintln!("    {text}");
                eprintln!("    {}^", " ".repeat(col.saturating_sub(1)));
            }
        }
        _ => eprintln!("{file}: error: {message}"),
    }
}

pub fn kernel_session(opts: &RunOpts) -> Result<Session, String> {
    let mut backend = KernelBackend::new().map_err(|e| e.to_string())?;
    if opts.sandbox {
        // The sandbox's own loopback, so local addresses answer.
        backend
            .apply(&Op::LinkSet { ns: None, name: "lo".into(), up: true })
            .map_err(|e| e.to_string())?;
    }
    Ok(Session::new(Box::new(backend), Journal::for_lab(&opts.lab), opts.trace))
}

pub fn engine_for(ctx: &Ctx, args: Vec<String>, dir: Option<&Path>) -> (Engine, rhai::Scope<'static>) {
    let (mut engine, scope) = script::build_engine(ctx, args);
    crate::stdlib::install(&mut engine, dir);
    (engine, scope)
}

pub fn compile(engine: &Engine, file: &str, source: &str) -> Result<AST, ()> {
    match engine.compile(source) {
        Ok(mut ast) => {
            ast.set_source(file);
            Ok(ast)
        }
        Err(e) => {
            print_at(file, Some(source), e.position(), &e.err_type().to_string());
            Err(())
        }
    }
}

/// Run `source` (from `file`) to the end; returns the exit code.
pub fn run(file: &str, source: &str, args: Vec<String>, opts: &RunOpts, print_result: bool) -> i32 {
    let session = match kernel_session(opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("netscript: {e}");
            return 1;
        }
    };
    let ctx: Ctx = Rc::new(RefCell::new(session));
    let dir = Path::new(file).parent();
    let (engine, mut scope) = engine_for(&ctx, args, dir);
    let Ok(ast) = compile(&engine, file, source) else {
        return 1;
    };
    crate::signals::install();
    let result = engine.eval_ast_with_scope::<Dynamic>(&mut scope, &ast);
    let mut s = ctx.borrow_mut();
    match result {
        Ok(v) => {
            s.stop_processes();
            s.backend.settle();
            if print_result && !v.is_unit() {
                println!("{}", script::show_value(&v));
            }
            if opts.rm {
                return finish_teardown(&mut s, "--rm");
            }
            0
        }
        Err(e) => {
            report(file, source, &script::explain(&e));
            if opts.keep_on_error {
                s.stop_processes();
                eprintln!(
                    "netscript: kept what this run built (--keep-on-error); remove it with: netscript down {}",
                    opts.lab
                );
            } else {
                finish_teardown(&mut s, "rollback");
            }
            1
        }
    }
}

fn finish_teardown(s: &mut Session, why: &str) -> i32 {
    let errors = s.teardown();
    for e in &errors {
        eprintln!("netscript: {why}: {e}");
    }
    if errors.is_empty() {
        0
    } else {
        1
    }
}
