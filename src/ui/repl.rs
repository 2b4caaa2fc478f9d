//! The REPL: rustyline with history, hints from history, multi-line input (an unfinished
//! input goes on at a `...> ` prompt), tab completion of functions, option keys and live
//! namespace and link names, and Ctrl-C that stops a running evaluation, or drops the
//! lines of an unfinished input, but not the REPL.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use rhai::{Dynamic, Engine, ParseErrorType, AST};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::exit;
use crate::ui::run::{self, RunOpts};

mod input;
mod save;
use crate::lang::{self, Ctx, DOCS};

/// Option keys of the API, for completion inside `#{ ... }`.
const OPTION_KEYS: &[&str] = &[
    "a_ns",
    "b_ns",
    "mtu",
    "via",
    "dev",
    "metric",
    "detach",
    "count",
    "timeout_ms",
    "chain",
    "proto",
    "dport",
    "sport",
    "src",
    "dst",
    "iif",
    "oif",
    "out",
    "not_out",
    // capture
    "seconds",
    "file",
    "filter",
    "host",
    "port",
];

/// Words that are not in the API reference but are callable.
const EXTRA: &[&str] = &[
    "help",
    "show",
    "print",
    "links",
    "addrs",
    "routes",
    "neighbors",
    "sockets",
    "netns_of",
    "netns_attach",
    "ARGS",
];

struct ReplHelper {
    ctx: Ctx,
    hinter: HistoryHinter,
    live: RefCell<LiveNames>,
}

/// How long one Tab may spend reading live names; what is not read by then is read on
/// the next Tab (a lab of hundreds of namespaces must not freeze the terminal).
const NAMES_BUDGET: std::time::Duration = std::time::Duration::from_millis(100);

/// Names of namespaces and links for completion inside a string, kept between Tabs and
/// read again after an input that may have changed them (`stale`).
#[derive(Default)]
struct LiveNames {
    names: Vec<String>,
    /// Namespaces whose links are still to be read (the host first).
    todo: std::collections::VecDeque<crate::lab::op::Ns>,
    read: bool,
}

impl LiveNames {
    fn stale(&mut self) {
        self.read = false;
    }
}

/// The prompt of a new input, and of each further line of an unfinished one.
const PROMPT: &str = "netscript> ";
const MORE: &str = "...> ";

impl ReplHelper {
    /// Names of namespaces and links that exist now (errors just mean no candidates):
    /// the namespaces' names, then the links of as many namespaces as `NAMES_BUDGET`
    /// allows, the rest on later Tabs.
    fn live_names(&self) -> Vec<String> {
        let (Ok(mut s), Ok(mut live)) = (self.ctx.try_borrow_mut(), self.live.try_borrow_mut())
        else {
            return vec![];
        };
        let deadline = std::time::Instant::now() + NAMES_BUDGET;
        let _ = s.query(|b| {
            if !live.read {
                let spaces = b.netns_list()?;
                live.todo = std::iter::once(None)
                    .chain(spaces.iter().cloned().map(Some))
                    .collect();
                live.names = spaces;
                live.read = true;
            }
            while std::time::Instant::now() < deadline {
                let Some(ns) = live.todo.pop_front() else {
                    break;
                };
                if let Ok(links) = b.link_names(&ns) {
                    live.names.extend(links);
                }
            }
            Ok(())
        });
        live.names.clone()
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        // The word starts after the last character that cannot be in a name (which may
        // take more than one byte: `☃`).
        let start = before
            .char_indices()
            .rfind(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let word = &before[start..];
        let in_string = before.matches('"').count() % 2 == 1;
        let mut words: Vec<String> = if in_string {
            self.live_names()
        } else {
            let mut w: Vec<String> = DOCS.iter().map(|d| d.name.to_string()).collect();
            w.extend(EXTRA.iter().map(|s| s.to_string()));
            if before.contains("#{") {
                w.extend(OPTION_KEYS.iter().map(|s| s.to_string()));
            }
            w
        };
        words.sort();
        words.dedup();
        // A name inside a string is completed with its closing quote.
        let close = if in_string && !line[pos..].starts_with('"') {
            "\""
        } else {
            ""
        };
        let pairs = words
            .into_iter()
            .filter(|w| w.starts_with(word))
            .map(|w| Pair {
                display: w.clone(),
                replacement: format!("{w}{close}"),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hinter.hint(line, pos, ctx)
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

/// Every line is taken as typed; whether the input is finished is decided in `repl`
/// (rustyline has no prompt for the further lines of an input, so each is read anew
/// with the `...> ` prompt).
impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

fn incomplete(input: &str, e: &rhai::ParseError) -> bool {
    let lines = input.lines().count().max(1);
    let at_end = match e.position().line() {
        None => true,
        Some(l) => {
            l > lines
                || (l == lines
                    && e.position().position().unwrap_or(0)
                        > input.lines().last().unwrap_or("").len())
        }
    };
    match e.err_type() {
        ParseErrorType::UnexpectedEOF => true,
        ParseErrorType::BadInput(le) => le.to_string().contains("not terminated"),
        ParseErrorType::MissingToken(..) => at_end,
        _ => false,
    }
}

fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("netscript").join("history"))
}

/// Arrays of maps print as aligned tables, a map as a table of keys and values;
/// everything else as in messages.
pub fn render(v: &Dynamic) -> String {
    if let Some(m) = v.clone().try_cast::<rhai::Map>() {
        let w = m.keys().map(|k| k.len()).max().unwrap_or(0);
        return m
            .iter()
            .map(|(k, v)| format!("{k:<w$}  {}", cell(v)))
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(rows) = v.clone().try_cast::<rhai::Array>() {
        let maps: Vec<rhai::Map> = rows
            .iter()
            .filter_map(|r| r.clone().try_cast::<rhai::Map>())
            .collect();
        if !maps.is_empty() && maps.len() == rows.len() {
            return table(&maps);
        }
    }
    lang::show_value(v)
}

fn cell(v: &Dynamic) -> String {
    if v.is_unit() {
        "-".into()
    } else if let Some(a) = v.clone().try_cast::<rhai::Array>() {
        a.iter().map(lang::show_value).collect::<Vec<_>>().join(",")
    } else {
        lang::show_value(v)
    }
}

pub fn table(rows: &[rhai::Map]) -> String {
    let mut cols: Vec<String> = vec![];
    for r in rows {
        for k in r.keys() {
            if !cols.iter().any(|c| c == k.as_str()) {
                cols.push(k.to_string());
            }
        }
    }
    // The API's usual order first, for the familiar `ip`-like look.
    const ORDER: &[&str] = &[
        "name", "dev", "dst", "ip", "proto", "local", "kind", "addr", "via", "up", "mac", "mtu",
        "master", "peer", "addrs",
    ];
    cols.sort_by_key(|c| ORDER.iter().position(|o| o == c).unwrap_or(ORDER.len()));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| r.get(c.as_str()).map(cell).unwrap_or_else(|| "-".into()))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |vals: Vec<&str>| -> String {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count())))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(
        cols.iter()
            .map(|c| c.to_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(|s| s.as_str())
            .collect(),
    )];
    for r in &cells {
        out.push(line(r.iter().map(|s| s.as_str()).collect()));
    }
    out.join("\n")
}

pub fn repl(opts: &RunOpts) -> i32 {
    // A REPL builds a lab like a run does: one holder at a time.
    let _lock = match crate::lab::store::lock(&opts.lab) {
        Ok(l) => l,
        Err(e) => {
            crate::errln!("netscript: {e}");
            return exit::code(exit::FAILURE);
        }
    };
    let session = match run::kernel_session(opts) {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("netscript: {e}");
            return exit::code(exit::FAILURE);
        }
    };
    let ctx: Ctx = Rc::new(RefCell::new(session));
    let (mut engine, mut scope) =
        run::engine_for(&ctx, vec![], None, crate::lang::stdlib::Mode::Run);
    // What save() writes: the inputs that built something.
    let kept = save::Shared::default();
    save::register(&mut engine, &kept, &opts.lab);
    let shared = Rc::new(RefCell::new(Some(engine)));
    let config = rustyline::Config::builder().auto_add_history(false).build();
    let mut rl: Editor<ReplHelper, rustyline::history::DefaultHistory> =
        match Editor::with_config(config) {
            Ok(r) => r,
            Err(e) => {
                crate::errln!("netscript: cannot start the REPL: {e}");
                return exit::code(exit::FAILURE);
            }
        };
    rl.set_helper(Some(ReplHelper {
        ctx: ctx.clone(),
        hinter: HistoryHinter::new(),
        live: Default::default(),
    }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = std::fs::create_dir_all(h.parent().expect("has a parent"));
        let _ = rl.load_history(h);
    }
    crate::signals::install();
    crate::signals::end_prompt_on_terminate();
    crate::outln!(
        "netscript REPL: help() lists the functions, help(\"veth\") explains one; Ctrl-D leaves."
    );
    let mut functions = AST::empty();
    // The input that defined each function, for errors inside it.
    let mut defined: HashMap<String, String> = HashMap::new();
    let mut status = 0;
    // The lines of an unfinished input so far.
    let mut pending: Vec<String> = vec![];
    loop {
        let prompt = if pending.is_empty() { PROMPT } else { MORE };
        // SIGTERM or SIGHUP (during an input, or while waiting for one): the REPL ends
        // as with Ctrl-D, what it built stays up.
        if let Some(sig) = crate::signals::terminated() {
            status = end_on_signal(sig, &pending);
            break;
        }
        crate::signals::at_prompt(true);
        let read = rl.readline(prompt);
        crate::signals::at_prompt(false);
        if let Some(sig) = crate::signals::terminated() {
            status = end_on_signal(sig, &pending);
            break;
        }
        let typed = match read {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => {
                if !pending.is_empty() {
                    crate::errln!(
                        "(dropped the unfinished input: {})",
                        crate::out::plural(pending.len() as u64, "line")
                    );
                    pending.clear();
                }
                continue;
            }
            Err(ReadlineError::Eof) => {
                if !pending.is_empty() {
                    crate::errln!(
                        "(dropped the unfinished input: {})",
                        crate::out::plural(pending.len() as u64, "line")
                    );
                }
                break;
            }
            Err(e) => {
                crate::errln!("netscript: {e}");
                break;
            }
        };
        if pending.is_empty() && typed.trim().is_empty() {
            continue;
        }
        pending.push(typed);
        let typed = pending.join("\n");
        let line = input::prepare(&typed);
        let guard = shared.borrow();
        let engine = guard.as_ref().expect("engine is set");
        // Unfinished (an open block, string, bracket): read the next line.
        if let Err(e) = engine.compile_with_scope(&scope, &line) {
            if incomplete(&line, &e) {
                continue;
            }
        }
        pending.clear();
        let _ = rl.add_history_entry(typed.as_str());
        if let Some(h) = &history {
            let _ = rl.append_history(h);
        }
        let ast = match engine.compile_with_scope(&scope, &line) {
            Ok(a) => a,
            Err(e) => {
                run::print_at(
                    "input",
                    Some(&line),
                    e.position(),
                    &e.err_type().to_string(),
                );
                continue;
            }
        };
        // Functions defined earlier stay callable; statements run once.
        for f in ast.iter_functions() {
            defined.insert(f.name.to_string(), line.clone());
        }
        let defines = ast.iter_functions().next().is_some();
        let before = save::before(
            ctx.borrow().journal.entries.len(),
            &scope,
            defines,
            !imports(&ast).is_empty(),
        );
        let whole = functions.merge(&ast);
        crate::signals::reset();
        let result = engine.eval_ast_with_scope::<Dynamic>(&mut scope, &whole);
        functions = whole.clone_functions_only();
        // A change still held back belongs to this input: its error is reported here.
        let result = result.and_then(|v| {
            ctx.borrow_mut()
                .flush()
                .map(|()| v)
                .map_err(|e| lang::fail("", e))
        });
        drop(guard);
        // What the input did may have added or removed names: read them again at the
        // next Tab (an `exec` may change them too, so after every input that ran).
        if let Some(h) = rl.helper_mut() {
            h.live.get_mut().stale();
        }
        save::after(
            &kept,
            &line,
            result.is_ok(),
            before,
            ctx.borrow().journal.entries.len(),
            &scope,
        );
        // exit(N) leaves the REPL as Ctrl-D does, with status N.
        if let Some(code) = lang::exit_code() {
            if let Err(e) = &result {
                report(&line, &defined, &lang::explain(e));
            }
            status = code;
            break;
        }
        match result {
            Ok(v) => {
                keep_imports(&mut shared.borrow_mut(), &ast);
                if !v.is_unit() {
                    crate::outln!("{}", render(&v));
                }
            }
            Err(e) => report(&line, &defined, &lang::explain(&e)),
        }
    }
    let mut s = ctx.borrow_mut();
    s.stop_processes();
    if let Err(e) = s.finish() {
        crate::errln!("netscript: {e}");
    }
    if !s.journal.entries.is_empty() && !opts.sandbox {
        crate::outln!(
            "what this session built stays up as lab {:?}: `netscript down {}` removes it",
            opts.lab,
            opts.lab
        );
    }
    status
}

/// The REPL ends on terminating signal `sig`: say so; the exit status, as a shell's.
fn end_on_signal(sig: i32, pending: &[String]) -> i32 {
    let name = nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str())
        .unwrap_or("a signal");
    let dropped = match pending.len() {
        0 => String::new(),
        n => format!(
            " (dropped the unfinished input: {})",
            crate::out::plural(n as u64, "line")
        ),
    };
    crate::errln!("netscript: {name}: the REPL ends{dropped}");
    128 + sig
}

/// Report an error of `input`. One inside a function an earlier input defined points
/// into that input's text (its line and column are there), not under this one.
fn report(input: &str, defined: &HashMap<String, String>, err: &lang::ScriptError) {
    let inner = match (&err.source, err.calls.last()) {
        (None, Some((_, _, name))) => defined.get(name).filter(|t| *t != input),
        _ => None,
    };
    let Some(text) = inner else {
        return run::report("input", input, err);
    };
    // Each call was made from the body of the function one frame out (the first from
    // this input).
    let label = |i: usize| match i {
        0 => "input".to_string(),
        _ => format!("input (fn {})", err.calls[i - 1].2),
    };
    let innermost = label(err.calls.len());
    run::print_at(&innermost, Some(text), err.pos, &err.message);
    let notes: Vec<String> = err
        .calls
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, (_, pos, name))| {
            let line = pos.line()?;
            let col = pos.position().unwrap_or(1);
            Some(format!(
                "in {name}(), called from {}:{line}:{col}",
                label(i)
            ))
        })
        .collect();
    run::print_notes(&notes);
}

/// `import "NAME" as ALIAS` on one input stays in force for the next ones: the module
/// (already loaded, so its top level does not run again) becomes a static module.
fn keep_imports(engine: &mut Option<Engine>, input: &AST) {
    let Some(engine) = engine.as_mut() else {
        return;
    };
    for (path, alias) in imports(input) {
        if let Ok(m) = crate::lang::stdlib::resolve(engine, &path) {
            engine.register_static_module(alias, m);
        }
    }
}

/// The `import "PATH" as ALIAS` statements at the top level of an input, in order (read
/// from the compiled input, so text that only looks like one, in a string, is not).
fn imports(ast: &AST) -> Vec<(String, String)> {
    ast.statements()
        .iter()
        .filter_map(|st| match st {
            rhai::Stmt::Import(b, _) => match &b.0 {
                rhai::Expr::StringConstant(path, _) if !b.1.name.is_empty() => {
                    Some((path.to_string(), b.1.name.to_string()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn imports_are_found() {
        let ast = |src: &str| rhai::Engine::new().compile(src).unwrap();
        assert_eq!(
            super::imports(&ast(
                r#"import "lab" as lab; let x = 1; import "my/mod" as m;"#
            )),
            vec![
                ("lab".to_string(), "lab".to_string()),
                ("my/mod".to_string(), "m".to_string())
            ]
        );
        assert!(super::imports(&ast(r#"let s = "import \"lab\" as lab";"#)).is_empty());
    }

    use super::*;

    /// Completion fed arbitrary partial lines, the cursor at any character boundary,
    /// over a model with namespaces and links: it never panics.
    #[test]
    fn completion_never_panics_on_any_partial_line() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let mut s = crate::lab::session::Session::new(
            Box::new(crate::backend::model::ModelBackend::of_host(None)),
            crate::lab::journal::Journal::in_memory(),
            false,
        );
        s.planning = true;
        let ctx: Ctx = Rc::new(RefCell::new(s));
        let (engine, mut scope) =
            run::engine_for(&ctx, vec![], None, crate::lang::stdlib::Mode::Run);
        engine
            .run_with_scope(
                &mut scope,
                r#"let red = netns("red"); veth("va", "vb", #{ a_ns: red }); bridge("br0");"#,
            )
            .unwrap();
        let helper = ReplHelper {
            ctx,
            hinter: HistoryHinter::new(),
            live: Default::default(),
        };
        let history = rustyline::history::DefaultHistory::new();
        let rl = Context::new(&history);
        let mut runner = TestRunner::new(Config {
            cases: 20_000,
            failure_persistence: None,
            ..Config::default()
        });
        let line = prop_oneof![
            ".{0,60}",
            "[a-z_.\\(\\)\\\"#{}: ,-]{0,40}",
            Just("red.link(\"v".to_string()),
            Just("#{ a_".to_string()),
        ];
        runner
            .run(&(line, any::<prop::sample::Index>()), |(line, at)| {
                let bounds: Vec<usize> = line
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([line.len()])
                    .collect();
                let pos = bounds[at.index(bounds.len())];
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    helper.complete(&line, pos, &rl).map(|(start, _)| start)
                }));
                match done {
                    Ok(Ok(start)) if start <= pos => Ok(()),
                    Ok(r) => Err(TestCaseError::fail(format!("{line:?} at {pos}: {r:?}"))),
                    Err(_) => Err(TestCaseError::fail(format!("{line:?} at {pos} panicked"))),
                }
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn tables_align_columns() {
        let mut a = rhai::Map::new();
        a.insert("name".into(), "lo".into());
        a.insert("up".into(), true.into());
        a.insert(
            "addrs".into(),
            Dynamic::from(vec![Dynamic::from("127.0.0.1/8")]),
        );
        let mut b = rhai::Map::new();
        b.insert("name".into(), "veth-red".into());
        b.insert("up".into(), false.into());
        b.insert("addrs".into(), Dynamic::from(rhai::Array::new()));
        assert_eq!(
            table(&[a, b]),
            "NAME      UP     ADDRS\nlo        true   127.0.0.1/8\nveth-red  false"
        );
    }

    #[test]
    fn unfinished_input_continues() {
        let e = Engine::new();
        for src in ["fn f() {", "let x = [1, 2,", "if true {\n print(1);"] {
            let err = e.compile(src).unwrap_err();
            assert!(incomplete(src, &err), "{src:?}: {err:?}");
        }
        let src = "let = 5;";
        assert!(!incomplete(src, &e.compile(src).unwrap_err()));
    }
}
