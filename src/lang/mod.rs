//! The language layer: the Rhai engine and the modules shipped inside the binary (`stdlib`).
//! Bindings only convert arguments, build `Op`s and hand them to the session; they know
//! nothing of netlink. One file per area.

mod capture;
pub mod docs;
mod firewall;
mod foreign;
#[cfg(test)]
mod fuzz_tests;
mod inspect;
mod link;
mod link_kinds;
mod netns;
mod overlay;
mod probe;
mod process;
mod route;
mod segment;
pub mod stdlib;
pub mod teach;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use docs::{definitions, Doc, DOCS};

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Position};

use crate::lab::names;
use crate::lab::op::Ns;
use crate::lab::session::Session;

pub type Ctx = Rc<RefCell<Session>>;

pub const INTERRUPTED: &str = "interrupted by a signal";
pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A network namespace: `host()` or a named one.
#[derive(Clone, Debug, PartialEq)]
pub struct Netns {
    pub ns: Ns,
}

impl Netns {
    pub fn host() -> Netns {
        Netns { ns: None }
    }
    pub fn name(&self) -> String {
        self.ns.clone().unwrap_or_else(|| "host".into())
    }
}

impl fmt::Display for Netns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ns {
            None => write!(f, "Netns(host)"),
            Some(n) => write!(f, "Netns({n:?})"),
        }
    }
}

/// A link, by name, in a namespace.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub ns: Ns,
    pub name: String,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ns {
            None => write!(f, "Link({:?})", self.name),
            Some(n) => write!(f, "Link({:?} in {n})", self.name),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Veth {
    pub a: Link,
    pub b: Link,
}

impl fmt::Display for Veth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Veth({} <=> {})", self.a, self.b)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Proc {
    pub pid: u32,
}

thread_local! {
    /// The file of a held-back call whose error surfaced in a later call (made perhaps
    /// in another file): (message, file).
    static LATE_SOURCE: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

thread_local! {
    /// The status `exit(N)` asked for.
    static EXIT_CODE: std::cell::Cell<Option<i32>> = const { std::cell::Cell::new(None) };
}

/// The status the script asked for with `exit(N)`, if it did.
pub fn exit_code() -> Option<i32> {
    EXIT_CODE.with(|c| c.get())
}

/// The error a script sees: the call, then what and why.
/// A held-back change the kernel refused when it was applied, during a later call: the
/// message of the call that asked for it.
#[derive(Clone)]
pub struct LateFailure(pub String);

pub fn fail(call: &str, msg: impl fmt::Display + 'static) -> Box<EvalAltResult> {
    if let Some(crate::error::Error::Deferred { call, at, inner }) =
        (&msg as &dyn std::any::Any).downcast_ref()
    {
        // Point at the call that asked for the change, not the one that applied it,
        // in its own file.
        let text = format!("{call}: {inner}");
        if let Some(src) = &at.source {
            LATE_SOURCE.with(|l| *l.borrow_mut() = Some((text.clone(), src.clone())));
        }
        // It surfaces during a later call, maybe inside a `try` that has nothing to do
        // with it: that `try` must not catch it, so it ends the script (Rhai's `try`
        // does not catch a termination).
        return Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from(LateFailure(text)),
            Position::new(at.line, at.col),
        ));
    }
    format!("{call}: {msg}").into()
}

/// `.or_fail(call)`: a failed result as the error a script sees (see [`fail`]).
pub trait OrFail<T> {
    fn or_fail(self, call: &str) -> RhaiResult<T>;
}

impl<T, E: fmt::Display + 'static> OrFail<T> for Result<T, E> {
    fn or_fail(self, call: &str) -> RhaiResult<T> {
        self.map_err(|e| fail(call, e))
    }
}

/// How a value appears in an error message.
pub fn show(d: &Dynamic) -> String {
    if let Some(s) = d.clone().try_cast::<String>() {
        return format!("{s:?}");
    }
    if let Some(n) = d.clone().try_cast::<Netns>() {
        return n.to_string();
    }
    if let Some(l) = d.clone().try_cast::<Link>() {
        return l.to_string();
    }
    if let Some(v) = d.clone().try_cast::<Veth>() {
        return v.to_string();
    }
    if let Some(p) = d.clone().try_cast::<Proc>() {
        return format!("Proc({})", p.pid);
    }
    if let Some(m) = d.clone().try_cast::<Map>() {
        let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {}", show(v))).collect();
        return format!("#{{ {} }}", inner.join(", "));
    }
    if let Some(a) = d.clone().try_cast::<rhai::Array>() {
        let inner: Vec<String> = a.iter().map(show).collect();
        return format!("[{}]", inner.join(", "));
    }
    d.to_string()
}

/// `name(args)` for a function, `recv.name(args)` for a method.
pub fn call(recv: Option<&Netns>, name: &str, args: &[Dynamic]) -> String {
    let args: Vec<String> = args.iter().map(show).collect();
    match recv {
        Some(n) => match &n.ns {
            None => format!("{name}({})", args.join(", ")),
            Some(ns) => format!("{ns}.{name}({})", args.join(", ")),
        },
        None => format!("{name}({})", args.join(", ")),
    }
}

/// A namespace argument: a `Netns` handle or a name.
pub fn to_ns(call: &str, what: &str, d: &Dynamic) -> RhaiResult<Ns> {
    if let Some(n) = d.clone().try_cast::<Netns>() {
        return Ok(n.ns);
    }
    if let Some(s) = d.clone().try_cast::<String>() {
        names::nsname(&s).map_err(|e| fail(call, format!("{what}: {e}")))?;
        return Ok(Some(s));
    }
    Err(fail(
        call,
        format!(
            "{what} must be a Netns or a namespace name, not {}",
            type_label(d)
        ),
    ))
}

/// A value's type as a script names it (`Netns`, not a Rust path; `int`, not `i64`).
pub fn type_label(d: &Dynamic) -> String {
    teach::script_type(&teach::plain_types(d.type_name())).to_string()
}

/// A `Netns` where another value belongs: a method call short of an argument
/// (`red.addr("veth-red")` reaches `addr(link, cidr)` on the host), said so.
pub fn receiver_misplaced(call: &str, d: &Dynamic) -> Option<Box<EvalAltResult>> {
    d.is::<Netns>()
        .then(|| teach::receiver_in_arguments(call))
        .flatten()
        .map(|m| m.into())
}

/// A link argument, in the namespace `ns`: a `Link` handle there, or a name.
pub fn to_link(call: &str, ns: &Ns, d: &Dynamic) -> RhaiResult<String> {
    if let Some(e) = receiver_misplaced(call, d) {
        return Err(e);
    }
    if let Some(l) = d.clone().try_cast::<Link>() {
        if &l.ns != ns {
            return Err(fail(
                call,
                format!("{l} is not in {}", crate::lab::op::ns_label(ns)),
            ));
        }
        return Ok(l.name);
    }
    if let Some(s) = d.clone().try_cast::<String>() {
        names::ifname(&s).or_fail(call)?;
        return Ok(s);
    }
    Err(fail(
        call,
        format!(
            "the link must be a Link or an interface name, not {}",
            type_label(d)
        ),
    ))
}

pub fn to_str(call: &str, what: &str, d: &Dynamic) -> RhaiResult<String> {
    d.clone().try_cast::<String>().ok_or_else(|| {
        fail(
            call,
            format!("{what} must be a string, not {}", type_label(d)),
        )
    })
}

/// Option maps: unknown keys are errors, not ignored.
pub struct Opts<'a> {
    call: &'a str,
    map: Map,
}

impl<'a> Opts<'a> {
    pub fn new(call: &'a str, map: Map, known: &[&str]) -> RhaiResult<Opts<'a>> {
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(fail(
                call,
                format!(
                    "unknown option {:?} (known: {})",
                    k.as_str(),
                    known.join(", ")
                ),
            ));
        }
        Ok(Opts { call, map })
    }

    pub fn get(&self, key: &str) -> Option<Dynamic> {
        self.map.get(key).filter(|v| !v.is_unit()).cloned()
    }

    pub fn str(&self, key: &str) -> RhaiResult<Option<String>> {
        self.get(key)
            .map(|v| to_str(self.call, key, &v))
            .transpose()
    }

    pub fn int(&self, key: &str, min: i64, max: i64) -> RhaiResult<Option<i64>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let n = v.as_int().map_err(|t| {
            fail(
                self.call,
                format!(
                    "option {key} must be an integer, not {}",
                    teach::script_type(t)
                ),
            )
        })?;
        if n < min || n > max {
            return Err(fail(
                self.call,
                format!("option {key} = {n} is out of range ({min}..={max})"),
            ));
        }
        Ok(Some(n))
    }

    pub fn bool(&self, key: &str) -> RhaiResult<Option<bool>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_bool().map(Some).map_err(|t| {
            fail(
                self.call,
                format!(
                    "option {key} must be true or false, not {}",
                    teach::script_type(t)
                ),
            )
        })
    }

    pub fn ns(&self, key: &str) -> RhaiResult<Option<Ns>> {
        self.get(key).map(|v| to_ns(self.call, key, &v)).transpose()
    }
}

/// Where a call is made, for errors that surface after it returned.
pub fn at(ctx: &rhai::NativeCallContext) -> crate::lab::session::At {
    let pos = ctx.call_position();
    crate::lab::session::At {
        source: ctx.call_source().map(str::to_string),
        line: pos.line().unwrap_or(0) as u16,
        col: pos.position().unwrap_or(0) as u16,
    }
}

/// In a plan, tell the session where the call comes from (`file:line`).
/// A call made inside a shipped module (`stdlib/lab.rhai`) is cited as the user's line
/// that led to it, then the module's: `build-lab.rhai:10 (stdlib/lab.rhai:22)`.
pub fn locate(cx: &Ctx, at: &rhai::NativeCallContext) {
    let mut s = cx.borrow_mut();
    if !s.planning {
        return;
    }
    let here = format!(
        "{}:{}",
        at.call_source().unwrap_or("-e"),
        at.call_position().line().unwrap_or(0)
    );
    if !at
        .call_source()
        .is_some_and(crate::lang::stdlib::is_shipped)
    {
        return s.locate(here);
    }
    // The plan's engine keeps a call stack (see `run::plan`). Each frame is a call, at a
    // position in its caller, and names the source of the function it calls; so the
    // caller of frame i is frame i - 1's function (the script itself for the first).
    let user = at.debugger().and_then(|d| {
        let frames = d.call_stack();
        (0..frames.len()).rev().find_map(|i| {
            let caller = match i {
                0 => s.script.clone(),
                _ => frames[i - 1].source.as_deref().unwrap_or("-e").to_string(),
            };
            let line = frames[i].pos.line()?;
            (!crate::lang::stdlib::is_shipped(&caller)).then(|| format!("{caller}:{line}"))
        })
    });
    match user {
        Some(u) => s.locate(format!("{u} ({here})")),
        None => s.locate(here),
    }
}

/// Register `name(Netns, args..)` as a method and `name(args..)` acting on `host()`.
#[macro_export]
macro_rules! ns_fn {
    ($engine:expr, $ctx:expr, $name:expr, |$c:ident, $ns:ident $(, $arg:ident : $ty:ty)*| -> $ret:ty $body:block) => {{
        let cx = $ctx.clone();
        $engine.register_fn($name, move |at: rhai::NativeCallContext, $ns: &mut $crate::lang::Netns $(, $arg: $ty)*| -> $crate::lang::RhaiResult<$ret> {
            let $c = &cx;
            $crate::lang::locate($c, &at);
            let $ns: $crate::lang::Netns = $ns.clone();
            $body
        });
        let cx = $ctx.clone();
        $engine.register_fn($name, move |at: rhai::NativeCallContext, $($arg: $ty),*| -> $crate::lang::RhaiResult<$ret> {
            let $c = &cx;
            $crate::lang::locate($c, &at);
            let $ns = $crate::lang::Netns::host();
            $body
        });
    }};
}

fn check(cx: &Ctx, c: bool, msg: Option<&str>) -> RhaiResult<()> {
    let mut s = cx.borrow_mut();
    // A plan checks what it can know: conditions on the script's arguments and on the
    // model's state hold or fail as in the run; after a probe or exec, whose answers a
    // plan makes up, the check is left to the run.
    if s.planning && (c || s.guessed) {
        let what = msg.unwrap_or("(a condition)");
        let guessed = s.guessed;
        s.note(match guessed {
            false => format!("check: {what} (holds)"),
            true => format!("check: {what} (left to the run: it depends on a probe or exec)"),
        });
        return Ok(());
    }
    match (c, msg) {
        (true, _) => Ok(()),
        (false, None) => Err("assertion failed".into()),
        (false, Some(m)) => Err(format!("assertion failed: {m}").into()),
    }
}

pub fn build_engine(ctx: &Ctx, args: Vec<String>) -> (Engine, rhai::Scope<'static>) {
    let mut engine = Engine::new();
    engine.set_max_expr_depths(256, 256);
    // The same limit in debug and release builds (Rhai lowers it in debug ones).
    engine.set_max_call_levels(64);
    engine.register_type_with_name::<Netns>("Netns");
    engine.register_type_with_name::<Link>("Link");
    engine.register_type_with_name::<Veth>("Veth");
    engine.register_type_with_name::<Proc>("Proc");
    for name in ["to_string", "to_debug"] {
        engine.register_fn(name, |n: &mut Netns| n.to_string());
        engine.register_fn(name, |l: &mut Link| l.to_string());
        engine.register_fn(name, |v: &mut Veth| v.to_string());
        engine.register_fn(name, |p: &mut Proc| format!("Proc({})", p.pid));
    }
    engine.register_fn("==", |a: Netns, b: Netns| a == b);
    engine.register_fn("==", |a: Link, b: Link| a == b);
    engine.register_fn("!=", |a: Netns, b: Netns| a != b);
    engine.register_fn("!=", |a: Link, b: Link| a != b);
    // Assertions check what really happened; a plan has nothing to check.
    let cx = ctx.clone();
    engine.register_fn("assert", move |c: bool| -> RhaiResult<()> {
        check(&cx, c, None)
    });
    let cx = ctx.clone();
    engine.register_fn("assert", move |c: bool, msg: &str| -> RhaiResult<()> {
        check(&cx, c, Some(msg))
    });
    // In slices, so Ctrl-C and SIGTERM stop a sleeping script promptly.
    let cx = ctx.clone();
    engine.register_fn("sleep", move |ms: i64| -> RhaiResult<()> {
        if cx.borrow().planning {
            cx.borrow_mut().note_sleep(ms.max(0) as u64);
            return Ok(());
        }
        let end = std::time::Instant::now() + std::time::Duration::from_millis(ms.max(0) as u64);
        loop {
            if crate::signals::interrupted() {
                return Err(INTERRUPTED.into());
            }
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
        }
    });
    engine.register_fn("help", || {
        for e in docs::entries() {
            let forms: Vec<String> = e.forms.iter().map(|f| teach::short_form(f)).collect();
            crate::outln!("{:<18} {}", e.name, forms.join("  |  "));
        }
        crate::outln!("\nhelp(\"NAME\") shows one function with its ip equivalent and an example.");
    });
    engine.register_fn("help", |name: &str| match docs::find(name) {
        Some(e) => crate::out!("{}", e.text()),
        None => crate::outln!("no function named {name:?}; help() lists them all"),
    });
    // Address arithmetic for labs of N containers.
    engine.register_fn("cidr_host", |cidr: &str, n: i64| -> RhaiResult<String> {
        let c = call(None, "cidr_host", &[cidr.into(), n.into()]);
        let parsed: crate::lab::names::Cidr = cidr.parse().or_fail(&c)?;
        u128::try_from(n)
            .ok()
            .and_then(|n| parsed.nth(n))
            .map(|h| h.to_string())
            .ok_or_else(|| fail(&c, format!("{} has no host number {n}", parsed.network())))
    });
    engine.register_fn("cidr_network", |cidr: &str| -> RhaiResult<String> {
        let c = call(None, "cidr_network", &[cidr.into()]);
        let parsed: crate::lab::names::Cidr = cidr.parse().or_fail(&c)?;
        Ok(parsed.network().to_string())
    });
    engine.register_fn("cidr_addr", |cidr: &str| -> RhaiResult<String> {
        let c = call(None, "cidr_addr", &[cidr.into()]);
        let parsed: crate::lab::names::Cidr = cidr.parse().or_fail(&c)?;
        Ok(parsed.addr.to_string())
    });
    let cx = ctx.clone();
    engine.register_fn("teardown", move || -> RhaiResult<()> {
        let errors = cx.borrow_mut().teardown();
        match errors.is_empty() {
            true => Ok(()),
            false => Err(fail(
                "teardown()",
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    });
    // What `print` and `debug` show comes after every change made before them.
    macro_rules! flush_first {
        ($($t:ty),*) => {$(
            for (name, conv) in [("print", "to_string"), ("debug", "to_debug")] {
                let cx = ctx.clone();
                engine.register_fn(
                    name,
                    move |nc: rhai::NativeCallContext, x: $t| -> RhaiResult<rhai::ImmutableString> {
                        cx.borrow_mut().flush().or_fail("")?;
                        nc.call_native_fn(conv, (x,))
                    },
                );
            }
        )*};
    }
    flush_first!(
        rhai::ImmutableString,
        rhai::INT,
        rhai::FLOAT,
        bool,
        char,
        (),
        rhai::Array,
        Map,
        rhai::Blob,
        Netns,
        Link,
        Veth,
        Proc,
        Dynamic
    );
    netns::register(&mut engine, ctx);
    link::register(&mut engine, ctx);
    link_kinds::register(&mut engine, ctx);
    route::register(&mut engine, ctx);
    process::register(&mut engine, ctx);
    probe::register(&mut engine, ctx);
    capture::register(&mut engine, ctx);
    firewall::register(&mut engine, ctx);
    inspect::register(&mut engine, ctx);
    overlay::register(&mut engine, ctx);
    engine.on_progress(|_| {
        (crate::signals::interrupted() || crate::out::closed().is_some())
            .then(|| Dynamic::from("interrupted"))
    });
    engine.on_print(|text| crate::outln!("{text}"));
    engine.on_debug(|text, source, pos| match source {
        Some(s) => crate::errln!("{s} @ {pos:?} | {text}"),
        None => crate::errln!("{pos:?} | {text}"),
    });
    // exit(N): the run ends with status N; a non-zero one is a failed run (rolled back).
    engine.register_fn("exit", |code: rhai::INT| -> RhaiResult<()> {
        // Not clamped: exit(-1) would become 0, a success that keeps the lab.
        if !(0..=255).contains(&code) {
            return Err(fail(
                &format!("exit({code})"),
                "an exit status is 0 (success) to 255",
            ));
        }
        EXIT_CODE.with(|c| c.set(Some(code as i32)));
        Err(EvalAltResult::Exit(code.into(), Position::NONE).into())
    });
    // exit(): as exit(0), and known as an exit (the REPL leaves on it).
    engine.register_fn("exit", || -> RhaiResult<()> {
        EXIT_CODE.with(|c| c.set(Some(0)));
        Err(EvalAltResult::Exit(Dynamic::UNIT, Position::NONE).into())
    });

    // save(path[, opts]) keeps a REPL session as a script; the REPL registers the real
    // one over these. In a script there is no session to keep.
    engine.register_fn("save", |path: &str| -> RhaiResult<()> {
        Err(fail(&format!("save({path:?})"), SAVE_OUTSIDE))
    });
    engine.register_fn("save", |path: &str, _: Map| -> RhaiResult<()> {
        Err(fail(&format!("save({path:?}, ...)"), SAVE_OUTSIDE))
    });

    let mut scope = rhai::Scope::new();
    let args: rhai::Array = args.into_iter().map(Dynamic::from).collect();
    scope.push_constant("ARGS", args);
    (engine, scope)
}

const SAVE_OUTSIDE: &str = "save() keeps the statements of a REPL session and only works in the REPL (netscript with no script); for a lab built by a script, `netscript export LAB` writes it out";

/// Where an error happened and what it says, looking through the wrappers Rhai puts
/// around errors raised inside functions and modules.
pub struct ScriptError {
    /// The file the error is in (`None`: the script itself).
    pub source: Option<String>,
    pub pos: Position,
    pub message: String,
    /// The calls that led there, outermost first: (file, position, function).
    pub calls: Vec<(Option<String>, Position, String)>,
}

pub fn explain(err: &EvalAltResult) -> ScriptError {
    let mut source: Option<String> = None;
    let mut calls = vec![];
    let mut e = err;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                calls.push((source.clone(), *pos, name.clone()));
                if !src.is_empty() {
                    source = Some(src.clone());
                }
                e = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                calls.push((source.clone(), *pos, format!("import {name:?}")));
                source = Some(crate::lang::stdlib::file_of_import(name));
                e = inner;
            }
            _ => break,
        }
    }
    let pos = e.position();
    if let EvalAltResult::ErrorTerminated(d, _) = e {
        if let Some((text, src)) = LATE_SOURCE.with(|l| l.borrow().clone()) {
            if d.clone()
                .try_cast::<LateFailure>()
                .is_some_and(|f| f.0 == text)
            {
                // The calls that led here are the later call's, not the held-back one's.
                source = Some(src);
                calls.clear();
            }
        }
    }
    // The script function the error is in (not a module's top level).
    let in_fn = calls
        .last()
        .map(|(_, _, name)| name.as_str())
        .filter(|n| !n.starts_with("import "));
    let message = match e {
        EvalAltResult::ErrorRuntime(d, _) => d.to_string(),
        EvalAltResult::ErrorVariableNotFound(var, _) => teach::variable_not_found(var, in_fn),
        EvalAltResult::ErrorDotExpr(msg, _) => {
            teach::dot_expr(msg).unwrap_or_else(|| msg.to_string())
        }
        EvalAltResult::ErrorTerminated(d, _) if d.is::<LateFailure>() => {
            d.clone().cast::<LateFailure>().0
        }
        EvalAltResult::ErrorTerminated(_, _) if crate::out::closed().is_some() => {
            crate::out::closed().unwrap_or_default().into()
        }
        EvalAltResult::ErrorTerminated(_, _) => INTERRUPTED.into(),
        EvalAltResult::ErrorFunctionNotFound(sig, _) => teach::function_not_found(sig),
        other => {
            let text = other.to_string();
            let suffix = format!(" ({pos})");
            text.strip_suffix(&suffix)
                .map(str::to_string)
                .unwrap_or(text)
        }
    };
    ScriptError {
        source,
        pos,
        message: teach::plain_types(&message),
        calls,
    }
}

/// A value as JSON (`--json -e`): maps, arrays, strings, numbers, booleans; `()` is null
/// and handles are their display form.
pub fn to_json(d: &Dynamic) -> serde_json::Value {
    use serde_json::Value;
    if d.is_unit() {
        Value::Null
    } else if let Ok(b) = d.as_bool() {
        Value::Bool(b)
    } else if let Ok(i) = d.as_int() {
        Value::from(i)
    } else if let Ok(f) = d.as_float() {
        Value::from(f)
    } else if let Some(s) = d.clone().try_cast::<String>() {
        Value::String(s)
    } else if let Some(a) = d.clone().try_cast::<rhai::Array>() {
        Value::Array(a.iter().map(to_json).collect())
    } else if let Some(m) = d.clone().try_cast::<Map>() {
        Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect())
    } else {
        Value::String(show(d))
    }
}

/// A result as `-e` and the REPL print it: strings bare, everything else as in messages.
pub fn show_value(d: &Dynamic) -> String {
    match d.clone().try_cast::<String>() {
        Some(s) => s,
        None => show(d),
    }
}
