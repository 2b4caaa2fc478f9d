//! No input panics. Every function, method and property the engine registers is called
//! with arbitrary arguments (wrong types and arities, huge and negative numbers, empty,
//! long, unicode and NUL strings, nested maps, unit, the script's own values) over the
//! model backend: each call succeeds or raises an error that points at the call. The
//! same for the import translator fed arbitrary shell text.
//!
//! `FUZZ_CALLS=N` sets the number of calls (default 100,000, about 10 s in a debug build).

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::lang::docs;

/// Values a script can pass, as Rhai source.
const ARGS: &[&str] = &[
    "()",
    "0",
    "1",
    "-1",
    "80",
    "65535",
    "65536",
    "4294967296",
    "9223372036854775807",
    "(-9223372036854775807 - 1)",
    "true",
    "false",
    "\"\"",
    "\" \"",
    "\"red\"",
    "\"va\"",
    "\"br0\"",
    "\"lo\"",
    "\"all\"",
    "\"default\"",
    "\"host\"",
    "\"10.0.0.1/24\"",
    "\"10.0.0.1\"",
    "\"10.0.0.1:80\"",
    "\"fd00::1/64\"",
    "\"::\"",
    "\"0.0.0.0/0\"",
    "\"256.1.1.1/33\"",
    "\"net.ipv4.ip_forward\"",
    "\"kernel.hostname\"",
    "\"../../etc/passwd\"",
    "\"a/b\"",
    "\".\"",
    "\"a\\0b\"",
    "\"\\0\"",
    "\"ü☃\\u{1F600}\"",
    "\"\\n\\t\\r\"",
    "\"%s%n%x\"",
    "\"http://10.0.0.1:80/\"",
    "\"http://[::1]:99999/\"",
    "\"sh -c 'exit 3'\"",
    "#{}",
    "#{ a_ns: \"ghost\" }",
    "#{ a_ns: red, b_ns: blue, mtu: 1 }",
    "#{ count: -1, timeout_ms: 0 }",
    "#{ count: 9223372036854775807 }",
    "#{ vni: 99999999999, remote: \"x\" }",
    "#{ proto: \"tcp\", dport: 70000, sport: -5 }",
    "#{ chain: \"nope\", src: 5 }",
    "#{ tap: \"yes\", owner: -1 }",
    "#{ parent: \"lo\", mode: \"private\" }",
    "#{ x: #{ y: [1, (), #{ z: \"\" }] } }",
    "#{ detach: true }",
    "#{ rate_kbit: 0, loss_pct: 101, delay_ms: -1 }",
    "#{ via: \"10.0.0.9\", dev: \"va\", metric: -1 }",
    "[]",
    "[1, \"a\", ()]",
    "[\"true\"]",
    "red",
    "blue",
    "l",
    "v",
    "br",
    "p",
    "host()",
];

/// What may not be called here: waiting for the terminal or for time to pass.
const SKIP: &[&str] = &["shell", "sleep", "wait"];

/// The prelude every engine starts from: values of each script type, as `ARGS` names them.
const PRELUDE: &str = r#"
let red = netns("red");
let blue = netns("blue");
let v = veth("va", "vb", #{ a_ns: red, b_ns: blue });
let l = red.link("va");
let br = bridge("br0");
let p = red.start("sleep 1");
"#;

struct Fuzz {
    engine: rhai::Engine,
    scope: rhai::Scope<'static>,
    /// Each engine serves some calls, then a fresh one starts (a model that only grows
    /// would slow every call down).
    calls: usize,
}

fn fresh() -> Fuzz {
    let (mut engine, mut scope, _) = crate::lang::test_support::engine();
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine
        .run_with_scope(&mut scope, PRELUDE)
        .expect("the prelude runs over the model");
    Fuzz {
        engine,
        scope,
        calls: 0,
    }
}

/// The calls to try: a registered function by name with its arity (and one more and one
/// fewer argument), or a property read.
fn targets() -> Vec<(String, usize)> {
    let f = fresh();
    let mut out: Vec<(String, usize)> = docs::registered(&f.engine)
        .into_iter()
        .filter(|r| !SKIP.contains(&r.name.as_str()))
        .flat_map(|r| {
            let n = r.params.len();
            [
                (r.name.clone(), n),
                (r.name.clone(), n + 1),
                (r.name, n.saturating_sub(1)),
            ]
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The Rhai source of one call: `f(a, b)`, or `a.x` for a getter `get$x`.
fn call_text(name: &str, args: &[&str]) -> String {
    match name.strip_prefix("get$") {
        Some(prop) => format!("{}.{prop}", args.first().unwrap_or(&"red")),
        None if name.starts_with("set$") => format!(
            "{}.{} = {}",
            args.first().unwrap_or(&"red"),
            &name[4..],
            args.get(1).unwrap_or(&"()")
        ),
        None => format!("{name}({})", args.join(", ")),
    }
}

#[test]
fn no_registered_function_panics_on_any_arguments() {
    let total: u32 = std::env::var("FUZZ_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let targets = targets();
    assert!(targets.len() > 100, "{} call forms", targets.len());
    let fuzz = RefCell::new(fresh());
    // (calls that succeeded, calls that raised an error): both must happen.
    let tally = RefCell::new((0u32, 0u32));
    let mut runner = TestRunner::new(Config {
        cases: total,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0..targets.len(), prop::collection::vec(0..ARGS.len(), 0..5));
    runner
        .run(&strategy, |(t, picks)| {
            let (name, arity) = &targets[t];
            let args: Vec<&str> = picks
                .iter()
                .cycle()
                .take(*arity)
                .map(|&i| ARGS[i])
                .collect();
            let args = if picks.is_empty() {
                vec!["()"; *arity]
            } else {
                args
            };
            let code = call_text(name, &args);
            let mut f = fuzz.borrow_mut();
            if f.calls == 500 {
                *f = fresh();
            }
            f.calls += 1;
            let Fuzz { engine, scope, .. } = &mut *f;
            let result = catch_unwind(AssertUnwindSafe(|| {
                engine.eval_with_scope::<rhai::Dynamic>(scope, &code)
            }));
            match result {
                Err(_) => Err(TestCaseError::fail(format!("{code} panicked"))),
                Ok(Err(e)) if e.position().is_none() && !is_control(&e) => Err(
                    TestCaseError::fail(format!("{code}: an error with no position: {e}")),
                ),
                Ok(r) => {
                    let mut t = tally.borrow_mut();
                    match r {
                        Ok(_) => t.0 += 1,
                        Err(_) => t.1 += 1,
                    }
                    Ok(())
                }
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (ok, failed) = *tally.borrow();
    assert!(
        ok > total / 50 && failed > total / 50,
        "{ok} calls succeeded, {failed} failed"
    );
}

/// `exit()` and `teardown()` end the script on purpose, without a position.
fn is_control(e: &rhai::EvalAltResult) -> bool {
    matches!(
        e,
        rhai::EvalAltResult::Return(..) | rhai::EvalAltResult::ErrorTerminated(..)
    )
}

/// Words a lab script is made of, to make the translator's input look like one.
const SHELL_WORDS: &[&str] = &[
    "ip",
    "netns",
    "add",
    "del",
    "exec",
    "link",
    "set",
    "dev",
    "up",
    "down",
    "type",
    "veth",
    "peer",
    "name",
    "bridge",
    "master",
    "addr",
    "route",
    "via",
    "default",
    "mtu",
    "vxlan",
    "id",
    "macvlan",
    "mode",
    "tuntap",
    "tap",
    "tun",
    "user",
    "sysctl",
    "-w",
    "-n",
    "-q",
    "net.ipv4.ip_forward=1",
    "iptables",
    "-t",
    "nat",
    "-A",
    "POSTROUTING",
    "-s",
    "10.0.0.0/24",
    "-j",
    "MASQUERADE",
    "DNAT",
    "--to",
    "10.0.0.2:80",
    "--dport",
    "-p",
    "tcp",
    "red",
    "blue",
    "br0",
    "eth0",
    "10.0.0.1/24",
    "\"",
    "'",
    "\\",
    "$X",
    "${X:-y}",
    "$(ls)",
    "`id`",
    ";",
    "&&",
    "||",
    "|",
    "&",
    "#",
    "\n",
    "\\\n",
    "=",
    "X=1",
    "{",
    "}",
    "(",
    ")",
    "if",
    "then",
    "fi",
    "for",
    "do",
    "done",
    "<<EOF",
    "EOF",
    "ü",
    "\0",
    "",
];

#[test]
fn the_import_translator_never_panics() {
    let total: u32 = std::env::var("FUZZ_CALLS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map(|n| n / 10)
        .unwrap_or(10_000);
    let mut runner = TestRunner::new(Config {
        cases: total,
        failure_persistence: None,
        ..Config::default()
    });
    let words = prop::collection::vec(0..SHELL_WORDS.len(), 0..40).prop_map(|ws| {
        ws.iter()
            .map(|&i| SHELL_WORDS[i])
            .collect::<Vec<_>>()
            .join(" ")
    });
    let text = prop_oneof![words, ".{0,200}"];
    runner
        .run(&text, |src| {
            match catch_unwind(|| crate::ui::import::translate("fuzz.sh", &src)) {
                Ok(_) => Ok(()),
                Err(_) => Err(TestCaseError::fail(format!("import panicked on {src:?}"))),
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
