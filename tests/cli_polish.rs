//! The command line's finish: colour (`--color`, `NO_COLOR`), the live progress line of a
//! long run on a terminal, `rolled back N changes`, the REPL's `...> ` continuation
//! prompt, `check FILE...`, scripts from standard input (`-`), and `--json` errors.
//!
//! A terminal is a real pseudo-terminal: `script -qec CMD /dev/null` runs CMD on one and
//! copies what it wrote, escape sequences and all, to its own standard output.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::tmux::{repl, MORE, PROMPT};
use common::{q, sh_ok, Run, TempScript, BIN};

/// `netscript ARGS` on a pseudo-terminal (stdout and stderr both), with `env` set; what
/// the terminal received.
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> Run {
    let cmd = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(q)
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    Run::new(
        c.output().expect("running script"),
        format!("(on a pty) {cmd}"),
    )
}

/// `netscript ARGS` with `input` on its standard input.
fn with_stdin(args: &[&str], input: &str) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running netscript");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run::new(out, format!("netscript {} < {input:?}", args.join(" ")))
}

/// What a terminal shows at the end, given the bytes written to it: `\r` goes back to the
/// start of the line, `ESC [ K` erases to its end, other escape sequences draw nothing.
fn screen(raw: &str) -> Vec<String> {
    let mut lines = vec![];
    for line in raw.split('\n') {
        let mut cells: Vec<char> = vec![];
        let mut col = 0;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => col = 0,
                '\x1b' if chars.peek() == Some(&'[') => {
                    chars.next();
                    let mut body = String::new();
                    for d in chars.by_ref() {
                        if d.is_ascii_alphabetic() {
                            if d == 'K' {
                                cells.truncate(col);
                            }
                            break;
                        }
                        body.push(d);
                    }
                }
                c => {
                    if col < cells.len() {
                        cells[col] = c;
                    } else {
                        cells.push(c);
                    }
                    col += 1;
                }
            }
        }
        lines.push(cells.into_iter().collect::<String>().trim_end().to_string());
    }
    lines
}

/// A script that fails on its second line: one change made, then rolled back.
const FAILS: &str = "netns(\"a\");\nnetns(\"a\");\n";

// ---------------------------------------------------------------- colour

#[test]
fn colour_on_a_terminal_unless_no_color_or_never() {
    let s = TempScript::new("fails", FAILS);
    let coloured = on_terminal(&["--sandbox", s.path()], &[]);
    assert!(
        coloured.stdout.contains("\x1b[1;31merror\x1b[0m"),
        "a terminal gets a red `error`\n{coloured}"
    );
    // NO_COLOR set and non-empty turns it off; --color never too.
    for (args, env) in [
        (vec!["--sandbox", s.path()], vec![("NO_COLOR", "1")]),
        (vec!["--sandbox", "--color", "never", s.path()], vec![]),
    ] {
        let plain = on_terminal(&args, &env);
        assert!(plain.stdout.contains("error: "), "{plain}");
        assert!(!plain.stdout.contains('\x1b'), "no escape codes\n{plain}");
    }
    // An empty NO_COLOR is as if unset.
    let empty = on_terminal(&["--sandbox", s.path()], &[("NO_COLOR", "")]);
    assert!(empty.stdout.contains("\x1b[1;31merror"), "{empty}");
}

#[test]
fn color_always_colours_a_pipe_and_never_is_plain() {
    let s = TempScript::new("fails", FAILS);
    let run = common::sandboxed(&["--color", "always", s.path()]).fails_with(1);
    assert!(
        run.stderr.contains("\x1b[1;31merror\x1b[0m: netns(\"a\")"),
        "{run}"
    );
    let caret = run
        .stderr
        .lines()
        .find(|l| l.contains('^'))
        .unwrap_or_else(|| panic!("no caret\n{run}"));
    assert_eq!(caret, "    \x1b[1;31m^\x1b[0m", "{run}");
    // By default a pipe gets no colour (and NO_COLOR need not be set).
    let plain = common::sandboxed(&[s.path()]).fails_with(1);
    assert!(!plain.stderr.contains('\x1b'), "{plain}");
    // -x trace lines are dimmed when colour is on.
    let traced = common::sandboxed(&["--color", "always", "-x", "-e", "netns(\"t\")"]).success();
    assert!(
        traced.stderr.contains("\x1b[2m+ ip netns add t\x1b[0m"),
        "{traced}"
    );
}

// ---------------------------------------------------------------- rollback

#[test]
fn a_failed_run_says_how_many_changes_it_rolled_back() {
    let one = common::sandboxed(&["-e", "netns(\"a\"); netns(\"a\")"]).fails_with(1);
    assert_eq!(
        one.stderr.lines().last(),
        Some("netscript: rolled back 1 change"),
        "{one}"
    );
    let two = common::sandboxed(&["-e", "netns(\"a\"); netns(\"b\"); netns(\"a\")"]).fails_with(1);
    assert_eq!(
        two.stderr.lines().last(),
        Some("netscript: rolled back 2 changes"),
        "{two}"
    );
}

// ---------------------------------------------------------------- progress

/// More than a second passes before its last changes (the sleep), so a terminal sees the
/// progress line; it prints, then fails (a print and an error after the line).
const SLOW: &str = r#"netns("a");
sleep(1100);
for i in 0..3 { netns(`n${i}`); }
print("printed");
netns("a");
"#;

#[test]
fn progress_is_drawn_on_a_terminal_and_erased() {
    let s = TempScript::new("slow", SLOW);
    let run = on_terminal(&["--sandbox", s.path()], &[]);
    assert!(
        run.stdout
            .contains("\r\x1b[Knetscript: 2 changes, 2 namespaces, 0 links, "),
        "the progress line was drawn\n{:?}",
        run.stdout
    );
    let screen = screen(&run.stdout);
    assert!(
        !screen.iter().any(|l| l.contains("namespaces")),
        "no progress is left on the screen\n{screen:#?}"
    );
    // The print and the error start on a line of their own.
    assert!(screen.iter().any(|l| l == "printed"), "{screen:#?}");
    assert!(
        screen
            .iter()
            .any(|l| l.starts_with(&format!("{}:5:1: error: ", s.path()))),
        "{screen:#?}"
    );
    assert_eq!(
        screen
            .iter()
            .rev()
            .find(|l| !l.is_empty())
            .map(String::as_str),
        Some("netscript: rolled back 4 changes"),
        "{screen:#?}"
    );
}

#[test]
fn no_progress_in_a_pipe() {
    let s = TempScript::new("slow", SLOW);
    let run = common::sandboxed(&[s.path()]).fails_with(1);
    assert!(!run.stderr.contains('\r'), "{run}");
    assert!(!run.stderr.contains("namespaces"), "{run}");
    assert_eq!(run.stdout, "printed\n", "{run}");
}

// ---------------------------------------------------------------- REPL

#[test]
fn repl_continues_an_open_string_at_a_continuation_prompt() {
    let (_s, r) = repl();
    // An open string: the next line is read at `...> `; closing it runs the input, the
    // line break part of the string.
    r.type_text("let s = \"abc");
    r.key("Enter");
    r.wait_for_input_line("the continuation prompt", |l| l == MORE.trim_end());
    r.type_text("def\"");
    r.key("Enter");
    r.wait_for_input_line("a fresh prompt", |l| l == PROMPT.trim_end());
    assert_eq!(r.eval("s.len()"), "7");
    assert_eq!(r.eval("s.split(\"\\n\").len()"), "2");
    // Ctrl-C at `...> ` drops the unfinished input and says so.
    r.type_text("let t = \"xyz");
    r.key("Enter");
    r.wait_for_input_line("the continuation prompt", |l| l == MORE.trim_end());
    r.type_text("more");
    r.key("Enter");
    r.wait_for_input_line("the continuation prompt again", |l| l == MORE.trim_end());
    r.cancel_line();
    let pane = r.capture();
    assert!(
        pane.contains("(dropped the unfinished input: 2 lines)"),
        "{pane}"
    );
    let out = r.eval("t");
    assert!(
        out.contains("error:") && out.contains('t'),
        "t was never set\n{out}"
    );
}

// ---------------------------------------------------------------- check, stdin

#[test]
fn check_checks_every_file() {
    let bad = TempScript::new("bad", "let x = ;\n");
    let good = TempScript::new("good", "let x = 1;\n");
    let also = TempScript::new("also", "fn f() { 1 }\n");
    let run = Run::new(
        Command::new(BIN)
            .args(["check", bad.path(), good.path(), also.path()])
            .output()
            .unwrap(),
        "netscript check bad good also".into(),
    )
    .fails_with(1);
    assert_eq!(
        run.stdout,
        format!("ok {}\nok {}\n", good.path(), also.path()),
        "{run}"
    );
    assert!(
        run.stderr
            .starts_with(&format!("{}:1:9: error: ", bad.path())),
        "{run}"
    );
    let ok = Run::new(
        Command::new(BIN)
            .args(["check", good.path(), also.path()])
            .output()
            .unwrap(),
        "netscript check good also".into(),
    )
    .success();
    assert_eq!(ok.stderr, "", "{ok}");
}

#[test]
fn scripts_come_from_standard_input() {
    // A run: its lab is `stdin`.
    let run = sh_ok(
        "printf 'netns(\"a\");\\nprint(\"built\");\\n' | netscript -\necho @@ls; netscript ls",
    );
    let s = run.sections();
    assert_eq!(s.text(""), "built", "{run}");
    assert!(s.text("ls").contains("stdin"), "{run}");
    // Its errors name `<stdin>`.
    let bad = with_stdin(
        &["--sandbox", "-"],
        "let a = 1;\nnetns(\"a\"); netns(\"a\");\n",
    )
    .fails_with(1);
    assert!(
        bad.stderr.starts_with("<stdin>:2:13: error: netns(\"a\")"),
        "{bad}"
    );
    // A plan and a check.
    let plan = with_stdin(&["plan", "-"], "netns(\"p\");\n").success();
    assert!(plan.stdout.contains("ip netns add p"), "{plan}");
    let check = with_stdin(&["check", "-"], "let x = ;\n").fails_with(1);
    assert!(check.stderr.starts_with("<stdin>:1:9: error: "), "{check}");
    with_stdin(&["check", "-"], "let x = 1;\n").success();
}

// ---------------------------------------------------------------- JSON errors

/// The first line of stderr, which must be a JSON error object.
fn json_error(run: &Run) -> serde_json::Value {
    let line = run.stderr.lines().next().unwrap_or("");
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e})\n{run}"));
    for key in ["file", "line", "col", "message", "calls"] {
        assert!(v.get(key).is_some(), "no {key:?}\n{run}");
    }
    v
}

#[test]
fn json_errors_of_runs_checks_and_plans() {
    let s = TempScript::new(
        "deep",
        "let a = netns(\"a\");\nfn f(x) { netns(x) }\nf(\"a\");\n",
    );
    let run = common::sandboxed(&["--json", s.path()]).fails_with(1);
    let v = json_error(&run);
    assert_eq!(v["file"], s.path(), "{run}");
    assert_eq!(
        (v["line"].as_u64(), v["col"].as_u64()),
        (Some(2), Some(11)),
        "{run}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("namespace \"a\" already exists"),
        "{run}"
    );
    assert_eq!(
        v["calls"],
        serde_json::json!([{ "function": "f", "file": s.path(), "line": 3, "col": 1 }]),
        "{run}"
    );
    // A plan: the same error, from the model.
    let plan = Run::new(
        Command::new(BIN)
            .args(["--json", "plan", s.path()])
            .output()
            .unwrap(),
        "netscript --json plan".into(),
    )
    .fails_with(1);
    assert_eq!(json_error(&plan)["line"], 2, "{plan}");
    // A check: a syntax error, with no calls.
    let bad = TempScript::new("bad", "let x = 1;\nlet y = ;\n");
    let check = Run::new(
        Command::new(BIN)
            .args(["check", "--json", bad.path()])
            .output()
            .unwrap(),
        "netscript check --json".into(),
    )
    .fails_with(1);
    let v = json_error(&check);
    assert_eq!(
        (v["file"].as_str(), v["line"].as_u64(), v["col"].as_u64()),
        (Some(bad.path()), Some(2), Some(9)),
        "{check}"
    );
    assert_eq!(v["calls"], serde_json::json!([]), "{check}");
    // An unreadable script: no line or column.
    let missing = with_stdin(&["--json", "check", "/nonexistent/x.rhai"], "").fails_with(2);
    let v = json_error(&missing);
    assert!(v["line"].is_null() && v["col"].is_null(), "{missing}");
}
