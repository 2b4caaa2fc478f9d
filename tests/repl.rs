//! The REPL (`netscript --sandbox` with no file) driven through a real pseudo-terminal:
//! each test starts it in its own tmux server (`tmux -S SOCKET` in the temp directory, so
//! nothing is shared with other tmux users or other tests, and the socket is removed after), types with `send-keys` and reads the screen with
//! `capture-pane`. Every REPL runs with `--sandbox`, so nothing it builds touches the host,
//! and with its own `XDG_STATE_HOME`, so its history file is private to the test.
//!
//! No timing assertions: every wait polls the pane with a generous deadline.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::*;
use common::BIN;

/// Check an error report in REPL output: `input:LINE:COL: error: ...`, the source line
/// indented by 4, a caret under COL. Returns the message.
fn check_error(out: &str, line: usize, col: usize, source: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains(&format!("input:{line}:{col}: error: ")))
        .unwrap_or_else(|| panic!("no `input:{line}:{col}: error:` line in:\n{out}"));
    let message = lines[i].split_once(": error: ").unwrap().1.to_string();
    // The message may wrap onto more lines; the source line and the caret come last.
    let src = lines
        .iter()
        .skip(i + 1)
        .position(|l| *l == format!("    {source}"));
    let src =
        src.unwrap_or_else(|| panic!("the source line {source:?} is not shown:\n{out}")) + i + 1;
    assert_eq!(
        lines.get(src + 1).copied(),
        Some(format!("    {}^", " ".repeat(col - 1)).as_str()),
        "the caret is under column {col}:\n{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    message
}

// ---------------------------------------------------------------- evaluation

#[test]
fn expression_prints_its_value() {
    let (_s, r) = repl();
    assert_eq!(r.eval("1 + 2"), "3");
    assert_eq!(r.eval(r#""net" + "script""#), "netscript");
    assert_eq!(r.eval("[1, 2, 3]"), "[1, 2, 3]");
    // A statement with no value prints nothing.
    assert_eq!(r.eval("let quiet = 5"), "");
}

#[test]
fn variables_and_functions_persist_across_lines() {
    let (_s, r) = repl();
    assert_eq!(r.eval(r#"let red = netns("red")"#), "");
    assert_eq!(r.eval("red.name"), "red");
    assert_eq!(r.eval("netns_list()"), r#"["red"]"#);
    assert_eq!(r.eval("fn twice(x) { x * 2 }"), "");
    assert_eq!(r.eval("twice(21)"), "42");
    // A function defined earlier is still callable from later definitions and statements.
    assert_eq!(r.eval("fn quad(x) { twice(twice(x)) }"), "");
    assert_eq!(r.eval("let n = quad(3)"), "");
    assert_eq!(r.eval("n + twice(1)"), "14");
    assert_eq!(r.eval("red.inode == netns_open(\"red\").inode"), "true");
}

#[test]
fn unfinished_input_continues_on_the_next_line() {
    let (_s, r) = repl();
    assert_eq!(r.enter_lines(&["fn f(x) {", "x + 1", "}"]), "");
    assert_eq!(r.eval("f(1)"), "2");
    // An unfinished expression (an open array) also continues.
    assert_eq!(r.enter_lines(&["let y = [1, 2,", "3]"]), "");
    assert_eq!(r.eval("y.len()"), "3");
    // An unfinished call with a map spanning lines.
    assert_eq!(r.enter_lines(&["let m = #{", "a: 1,", "b: 2 }"]), "");
    assert_eq!(r.eval("m.a + m.b"), "3");
}

// ---------------------------------------------------------------- completion

#[test]
fn tab_completes_function_and_method_names() {
    let (_s, r) = repl();
    r.type_text("netns_li");
    r.key("Tab");
    r.wait_for_input_line("netns_li to complete to netns_list", |l| {
        l == "netscript> netns_list"
    });
    assert_eq!(r.eval("()"), "[]", "the completed name is callable");

    r.type_text("host().neighb");
    r.key("Tab");
    r.wait_for_input_line("a method name to complete", |l| {
        l == "netscript> host().neighbors"
    });
    assert_eq!(r.eval("()"), "[]");
}

#[test]
fn tab_completes_option_keys_inside_a_map() {
    let (_s, r) = repl();
    r.type_text(r#"veth("a", "b", #{ mt"#);
    r.key("Tab");
    r.wait_for_input_line("the option key mtu", |l| {
        l == r#"netscript> veth("a", "b", #{ mtu"#
    });
    // `input ": 1400 })"` finishes the line the completion made.
    let out = r.eval(": 1400 })");
    assert_eq!(out, r#"Veth(Link("a") <=> Link("b"))"#);
    assert_eq!(
        r.eval(r#"host().links().filter(|l| l.name == "b")[0].mtu"#),
        "1400"
    );
}

/// Complete a name inside a string: returns the input line after Tab.
fn complete_in_string(r: &Repl, typed: &str, expect: &str) -> String {
    r.type_text(typed);
    r.key("Tab");
    let full = format!("{PROMPT}{}", typed.rsplit_once('"').unwrap().0);
    r.wait_for_input_line(&format!("{typed:?} to complete to {expect:?}"), |l| {
        l == format!("{full}\"{expect}") || l == format!("{full}\"{expect}\"")
    })
}

/// Finish a line that ends inside a string that completion may or may not have closed.
fn close_string(line: &str) -> &'static str {
    if line.ends_with('"') {
        ""
    } else {
        "\""
    }
}

#[test]
fn tab_completes_live_namespace_and_link_names() {
    let (_s, r) = repl();
    assert_eq!(r.eval(r#"let red = netns("red")"#), "");
    let line = complete_in_string(&r, r#"netns_open("re"#, "red");
    assert_eq!(r.eval(&format!("{}).name", close_string(&line))), "red");

    // Link names, in the namespace too.
    assert_eq!(r.eval(r#"let v = red.veth("veth-red", "veth-peer")"#), "");
    let line = complete_in_string(&r, r#"red.link("veth-r"#, "veth-red");
    assert_eq!(
        r.eval(&format!("{}).name", close_string(&line))),
        "veth-red"
    );

    // Names come from the kernel at the time of completion, not from netscript's memory:
    // a link made behind netscript's back is offered too.
    let made = r.eval(r#"host().exec("ip link add kernbr type bridge").code"#);
    assert_eq!(made, "0");
    let line = complete_in_string(&r, r#"link("kernb"#, "kernbr");
    assert_eq!(r.eval(&format!("{}).kind", close_string(&line))), "bridge");
}

#[test]
fn tab_completion_in_a_string_closes_the_quote() {
    let (_s, r) = repl();
    assert_eq!(r.eval(r#"let red = netns("red")"#), "");
    let line = complete_in_string(&r, r#"netns_open("re"#, "red");
    assert_eq!(line, format!(r#"{PROMPT}netns_open("red""#));
}

#[test]
fn completion_and_inspection_of_a_vanished_namespace() {
    let (_s, r) = repl();
    assert_eq!(r.eval(r#"let g = netns("gone")"#), "");
    assert_eq!(r.eval(r#"netns_delete("gone")"#), "");
    let out = r.eval("g.links()");
    let msg = check_error(&out, 1, 3, "g.links()");
    assert!(
        msg.contains("\"gone\"") && msg.contains("does not exist"),
        "{out}"
    );
    // Nothing left to complete: Tab changes nothing, and the REPL goes on.
    r.type_text(r#"netns_open("go"#);
    r.key("Tab");
    r.type_text("X");
    r.wait_for_input_line("the input to stay as typed", |l| {
        l == r#"netscript> netns_open("goX"#
    });
    r.cancel_line();
    assert_eq!(r.eval("1 + 1"), "2");
}

// ---------------------------------------------------------------- printing

#[test]
fn handles_print_readably() {
    let (_s, r) = repl();
    assert_eq!(r.eval("host()"), "Netns(host)");
    assert_eq!(r.eval(r#"let red = netns("red")"#), "");
    assert_eq!(r.eval("red"), r#"Netns("red")"#);
    assert_eq!(
        r.eval(r#"red.veth("veth-red", "veth-x")"#),
        r#"Veth(Link("veth-red" in red) <=> Link("veth-x" in red))"#
    );
    assert_eq!(
        r.eval(r#"red.link("veth-red")"#),
        r#"Link("veth-red" in red)"#
    );
    assert_eq!(r.eval(r#"link("lo")"#), r#"Link("lo")"#);
}

/// Column start offsets of the words of a table header line.
fn columns(header: &str) -> Vec<(String, usize)> {
    let mut out = vec![];
    let mut prev = ' ';
    for (i, c) in header.char_indices() {
        if c != ' ' && prev == ' ' {
            let word: String = header[i..].chars().take_while(|c| *c != ' ').collect();
            out.push((word, i));
        }
        prev = c;
    }
    out
}

#[test]
fn arrays_of_maps_print_as_aligned_tables() {
    let (_s, r) = repl();
    let out = r.eval("host().links()");
    let lines: Vec<&str> = out.lines().collect();
    let cols = columns(lines[0]);
    let names: Vec<&str> = cols.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(names.first(), Some(&"NAME"), "{out}");
    assert!(
        names.contains(&"KIND") && names.contains(&"MTU") && names.contains(&"UP"),
        "{out}"
    );
    let kind_col = cols.iter().find(|(w, _)| w == "KIND").unwrap().1;
    let lo = lines
        .iter()
        .find(|l| l.starts_with("lo "))
        .unwrap_or_else(|| panic!("no row for lo:\n{out}"));
    assert_eq!(
        &lo[kind_col..kind_col + "loopback".len()],
        "loopback",
        "KIND is aligned:\n{out}"
    );

    // Several rows of different widths stay aligned under their headers.
    assert_eq!(r.eval(r#"let red = netns("red")"#), "");
    assert_eq!(r.eval(r#"let v = red.veth("veth-long-name", "v2")"#), "");
    let out = r.eval("red.links()");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three rows:\n{out}");
    let cols = columns(lines[0]);
    let kind_col = cols.iter().find(|(w, _)| w == "KIND").unwrap().1;
    let mtu_col = cols.iter().find(|(w, _)| w == "MTU").unwrap().1;
    for row in &lines[1..] {
        let kind: String = row[kind_col..].chars().take_while(|c| *c != ' ').collect();
        assert!(
            kind == "loopback" || kind == "veth",
            "KIND column of {row:?}:\n{out}"
        );
        let mtu: String = row[mtu_col..].chars().take_while(|c| *c != ' ').collect();
        assert!(
            mtu == "65536" || mtu == "1500",
            "MTU column of {row:?}:\n{out}"
        );
        assert!(
            row[..kind_col].ends_with("  "),
            "two spaces before KIND in {row:?}:\n{out}"
        );
    }
    // An empty array is not a table.
    assert_eq!(r.eval("red.neighbors()"), "[]");
}

#[test]
fn a_map_prints_as_an_aligned_table() {
    let (_s, r) = repl();
    let out = r.eval(r#"host().exec("echo hi")"#);
    assert!(!out.starts_with("#{"), "{out}");
    assert!(out.lines().count() >= 2, "{out}");
    let lower = out.to_lowercase();
    assert!(
        lower.contains("code") && lower.contains("stdout") && lower.contains("stderr"),
        "{out}"
    );
}

// ---------------------------------------------------------------- errors, Ctrl-C, help

#[test]
fn errors_show_the_position_and_a_caret() {
    let (_s, r) = repl();
    let out = r.eval("let x = 1 +* 2");
    check_error(&out, 1, 12, "let x = 1 +* 2");

    let out = r.eval(r#"netns_open("nothere")"#);
    let msg = check_error(&out, 1, 1, r#"netns_open("nothere")"#);
    assert!(
        msg.contains("netns_open(\"nothere\")") && msg.contains("does not exist"),
        "{out}"
    );

    let out = r.eval(r#"let y = 1; veth("bad name", "b")"#);
    let msg = check_error(&out, 1, 12, r#"let y = 1; veth("bad name", "b")"#);
    assert!(msg.contains("bad name"), "{out}");

    // The REPL goes on, and the variables from before the error are still there.
    assert_eq!(r.eval("y"), "1");
}

#[test]
fn ctrl_c_interrupts_a_running_evaluation() {
    let (_s, r) = repl();
    let before = prompt_lines(&r.capture()).len();
    r.type_text(r#"print("looping"); loop { sleep(100) }"#);
    r.key("Enter");
    r.wait_for("the loop to start", |p| p.lines().any(|l| l == "looping"));
    // Press Ctrl-C until the evaluation stops (once should do; the retry only guards
    // against the key arriving in a gap where no evaluation is running).
    let start = Instant::now();
    loop {
        r.key("C-c");
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) && prompt_lines(&r.capture()).len() == before {
            std::thread::sleep(Duration::from_millis(50));
        }
        if prompt_lines(&r.capture()).len() > before {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "Ctrl-C did not stop the loop:\n{}",
            r.capture()
        );
    }
    let pane = r.capture();
    assert!(
        pane.contains("interrupted"),
        "the evaluation says it was interrupted:\n{pane}"
    );
    assert!(pane.contains("input:1:"), "{pane}");
    assert!(!r.pane_dead(), "the REPL is still running");
    assert_eq!(r.eval("40 + 2"), "42");
    // Ctrl-C at the prompt abandons the line and stays in the REPL.
    r.type_text("this is not finished");
    r.wait_for_input_line("the typed text", |l| l.ends_with("not finished"));
    r.cancel_line();
    assert_eq!(r.eval("2 * 3"), "6");
}

#[test]
fn help_shows_signature_ip_equivalent_and_the_same_text_as_doc() {
    let (_s, r) = repl();
    let out = r.eval(r#"help("veth")"#);
    assert!(out.contains("veth(a: String, b: String) -> Veth"), "{out}");
    assert!(out.contains("ip link add"), "{out}");
    assert!(out.contains("peer name"), "{out}");
    let doc = Command::new(BIN)
        .args(["doc", "veth"])
        .output()
        .expect("running netscript doc");
    assert!(doc.status.success());
    assert_eq!(
        out.trim_end(),
        String::from_utf8_lossy(&doc.stdout).trim_end(),
        "help(\"veth\") is `netscript doc veth`"
    );

    let all = r.eval("help()");
    for name in [
        "netns",
        "veth",
        "bridge",
        "links",
        "sockets",
        "netns_of",
        "netns_attach",
        "show",
    ] {
        assert!(
            all.lines().any(|l| l.starts_with(&format!("{name} "))),
            "help() lists {name}:\n{all}"
        );
    }
}

// ---------------------------------------------------------------- history, Ctrl-D

#[test]
fn ctrl_d_exits() {
    let (_s, r) = repl();
    assert_eq!(r.eval("1"), "1");
    r.key("C-d");
    assert_eq!(
        r.wait_exit(),
        0,
        "Ctrl-D exits with status 0:\n{}",
        r.capture()
    );
}

/// SIGTERM or SIGHUP while the REPL waits at its prompt ends it as Ctrl-D does, at once,
/// with a shell's status for the signal; an unfinished input is said to be dropped.
/// SIGTERM goes to the pid the shell knows (the sandbox's parent passes it on), SIGHUP
/// to the REPL itself (the parent passes every signal on as SIGTERM).
#[test]
fn a_terminating_signal_at_the_prompt_ends_the_repl() {
    for (sig, status, target) in [
        ("TERM", 143, "$(pgrep -P $PANE -x netscript)"),
        ("HUP", 129, "$(pgrep -P $(pgrep -P $PANE -x netscript))"),
    ] {
        let (_s, r) = repl();
        assert_eq!(r.eval("1"), "1");
        // An unfinished input: the REPL waits for its next line.
        r.type_text("let xs = [");
        r.key("Enter");
        r.wait_for("the continuation prompt", |p| p.contains("xs = ["));
        let pane = r
            .tmux_ok(&["display-message", "-p", "-t", &r.session, "#{pane_pid}"])
            .trim()
            .to_string();
        let kill = Command::new("sh")
            .arg("-c")
            .arg(format!("PANE={pane}; kill -{sig} {target}"))
            .status()
            .expect("kill");
        assert!(kill.success(), "{sig}: no netscript under the pane");
        assert_eq!(r.wait_exit(), status, "{sig}:\n{}", r.capture());
        let screen = r.capture();
        assert!(
            screen.contains(&format!(
                "netscript: SIG{sig}: the REPL ends (dropped the unfinished input: 1 line)"
            )),
            "{sig}:\n{screen}"
        );
    }
}

#[test]
fn history_is_saved_and_recalled_in_a_new_session() {
    let state = StateDir::new();
    {
        let r = Repl::start(&state.path);
        assert_eq!(r.eval(r#"let hist = "saved""#), "");
        assert_eq!(r.enter_lines(&["fn h(x) {", "x", "}"]), "");
        assert_eq!(r.eval("6 * 7"), "42");
        r.key("C-d");
        assert_eq!(r.wait_exit(), 0);
    }
    let history = std::fs::read_to_string(state.history())
        .unwrap_or_else(|e| panic!("reading {}: {e}", state.history().display()));
    let lines: Vec<&str> = history.lines().collect();
    for typed in [r#"let hist = "saved""#, "6 * 7"] {
        assert!(
            lines.contains(&typed),
            "{typed:?} is in the history file:\n{history}"
        );
    }
    assert!(
        history.contains("fn h(x) {"),
        "the multi-line entry is saved:\n{history}"
    );
    assert_eq!(
        lines.last(),
        Some(&"6 * 7"),
        "the last line typed is last:\n{history}"
    );

    let r = Repl::start(&state.path);
    // Up recalls the last line of the previous session.
    r.key("Up");
    r.wait_for_input_line("Up to recall `6 * 7`", |l| l == "netscript> 6 * 7");
    let before = prompt_lines(&r.capture()).len();
    r.key("Enter");
    let pane = r.wait_for("the recalled line to run", |p| {
        prompt_lines(p).len() > before
    });
    assert!(pane.lines().any(|l| l == "42"), "{pane}");
    // Hints from history: typing the start of an earlier line shows the rest.
    r.type_text("let hi");
    r.wait_for_input_line("the hint from history", |l| {
        l == r#"netscript> let hist = "saved""#
    });
    r.cancel_line();
    // The first session's variables are gone (history is not state), the REPL answers.
    let out = r.eval("hist");
    assert!(out.contains("error:") && out.contains("hist"), "{out}");
}

// ---------------------------------------------------------------- trust

#[test]
fn an_import_stays_in_force_for_later_inputs() {
    let (_s, r) = repl();
    assert_eq!(r.eval(r#"import "lab" as lab"#), "");
    // On a later input, the module is still there (its functions run for real).
    assert_eq!(r.eval(r#"let r1 = netns("r1")"#), "");
    assert_eq!(r.eval(r#"let r2 = netns("r2")"#), "");
    let out = r.eval(r#"lab::p2p(r1, "10.9.0.1/24", r2, "10.9.0.2/24")"#);
    assert!(!out.contains("error"), "{out}");
    assert_eq!(r.eval(r#"r1.ping("10.9.0.2")"#), "true");
}

#[test]
fn a_failing_veth_is_reported_on_its_own_input() {
    let (_s, r) = repl();
    r.eval(r#"let blue = netns("blue")"#);
    r.eval(r#"veth("veth-red", "veth-blue", #{ b_ns: blue })"#);
    let out = r.eval(r#"veth("veth-red2", "veth-blue", #{ b_ns: blue })"#);
    let msg = check_error(
        &out,
        1,
        1,
        r#"veth("veth-red2", "veth-blue", #{ b_ns: blue })"#,
    );
    assert!(msg.contains("already exists"), "{out}");
    assert!(
        !out.contains("Veth("),
        "no handle is printed for a failed call: {out}"
    );
    // The next input runs, and runs alone.
    assert_eq!(r.eval("40 + 2"), "42");
}

#[test]
fn lines_typed_ahead_all_run() {
    let (_s, r) = repl();
    let before = prompt_lines(&r.capture()).len();
    // Three lines sent at once, as a fast typist or a plain (non-bracketed) paste would.
    r.tmux_ok(&[
        "send-keys",
        "-t",
        &r.session,
        "let b1 = 5",
        "Enter",
        "let b2 = b1 * 2",
        "Enter",
        "b2 + 1",
        "Enter",
    ]);
    let pane = r.wait_for("three prompts more", |p| {
        prompt_lines(p).len() >= before + 3
    });
    assert!(
        pane.lines().any(|l| l == "11"),
        "the third line ran:\n{pane}"
    );
}
