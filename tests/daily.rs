//! Issue 12 (part): into a node and back out, and running a lab's script again.
//! `netscript exec NS -- CMD` and `netscript shell NS` run on the terminal inside a lab's
//! namespace (stdio passed through, exit code passed back); `ns.shell()` from a script;
//! `--replace`, and the clash message that suggests it.

mod common;

use common::{q, script_path, sh, sh_ok};

/// A small lab: `red` and `blue` joined by veth-red / veth-blue, as lab `pair`.
const PAIR: &str = r#"
cat > $T/pair.rhai <<'RHAI'
let red = netns("red");
let blue = netns("blue");
veth("veth-red", "veth-blue", #{ a_ns: red, b_ns: blue });
RHAI
netscript $T/pair.rhai
"#;

#[test]
fn exec_runs_inside_the_namespace_with_stdio_and_exit_code() {
    let run = sh_ok(&format!(
        r#"{PAIR}
echo @@links; netscript exec red -- ip -o link
echo @@lab-links; netscript exec --lab pair blue -- ip -o link
echo @@code; netscript exec red -- sh -c 'exit 7' && echo 0 || echo $?
echo @@signal; netscript exec red -- sh -c 'kill -9 $$' && echo 0 || echo $?
echo @@stdin; echo hi | netscript exec red -- cat
echo @@host; netscript exec host -- ip -o link | cut -d: -f2
"#
    ));
    let s = run.sections();
    let links = s.get("links");
    assert!(links.contains("veth-red"), "{run}");
    assert!(!links.contains("veth-blue"), "only red's links\n{run}");
    assert!(s.get("lab-links").contains("veth-blue"), "{run}");
    assert_eq!(s.get("code").trim(), "7", "{run}");
    assert_eq!(s.get("signal").trim(), "137", "128 + SIGKILL\n{run}");
    assert_eq!(s.get("stdin").trim(), "hi", "{run}");
    assert!(!s.get("host").contains("veth-"), "host has no veth\n{run}");
}

#[test]
fn exec_refuses_a_namespace_outside_the_lab_and_a_missing_one() {
    let run = sh_ok(&format!(
        r#"{PAIR}
netscript exec red -- true
ip netns add other
echo @@lab; netscript exec --lab pair other -- echo ran 2>&1 && echo 0 || echo code $?
echo @@missing; netscript exec nope -- echo ran 2>&1 && echo 0 || echo code $?
echo @@nolab; netscript exec --lab nolab red -- echo ran 2>&1 && echo 0 || echo code $?
echo @@usage; netscript exec red 2>/dev/null && echo 0 || echo code $?
"#
    ));
    let s = run.sections();
    let lab = s.get("lab");
    assert!(!lab.contains("ran"), "{run}");
    assert!(
        lab.contains(r#"lab "pair" has no namespace "other""#) && lab.contains("code 1"),
        "{run}"
    );
    let missing = s.get("missing");
    assert!(
        missing.contains(r#"namespace "nope" does not exist"#) && missing.contains("code 1"),
        "{run}"
    );
    assert_eq!(missing.trim().lines().count(), 2, "a one-line error\n{run}");
    assert!(s.get("nolab").contains(r#"no lab named "nolab""#), "{run}");
    assert_eq!(s.get("usage").trim(), "code 2", "{run}");
}

#[test]
fn shell_runs_the_users_shell_with_the_namespace_in_its_environment() {
    let run = sh_ok(&format!(
        r#"{PAIR}
echo @@ns; echo 'echo $NETSCRIPT_NS' | SHELL=/bin/sh netscript shell red
echo @@ps1; echo 'echo "$PS1"' | SHELL=/bin/sh netscript shell --lab pair blue
echo @@links; echo 'ip -o link' | SHELL=/bin/sh netscript shell red
echo @@code; echo 'exit 5' | SHELL=/bin/sh netscript shell red && echo 0 || echo $?
echo @@script
cat > $T/look.rhai <<'RHAI'
let red = netns_open("red");
let code = red.shell();
print(`back: ${{code}}`);
RHAI
echo 'echo "in $NETSCRIPT_NS"; exit 4' | SHELL=/bin/sh netscript --lab look $T/look.rhai
echo @@plan; netscript plan $T/look.rhai
"#
    ));
    let s = run.sections();
    assert_eq!(s.get("ns").trim(), "red", "{run}");
    assert!(s.get("ps1").trim().starts_with("[blue] "), "{run}");
    assert!(s.get("links").contains("veth-red"), "{run}");
    assert_eq!(s.get("code").trim(), "5", "{run}");
    assert_eq!(s.get("script").trim(), "in red\nback: 4", "{run}");
    let plan = s.get("plan");
    assert!(plan.contains("# interactive in namespace \"red\""), "{run}");
}

#[test]
fn a_second_run_names_the_lab_that_is_up_and_replace_rebuilds_it() {
    let lab = q(&script_path("build-lab"));
    let run = sh(&format!(
        r#"netscript {lab} >/dev/null
echo @@again; netscript {lab} 2>&1 && echo 0 || echo code $?
echo @@replace; netscript --replace {lab} >/dev/null && echo 0 || echo code $?
echo @@replace2; netscript --replace {lab} >/dev/null && echo 0 || echo code $?
echo @@ls; netscript ls
echo @@c1; netscript exec c1 -- ip -o link | grep -c veth-c1
"#
    ));
    let s = run.sections();
    let again = s.get("again");
    assert!(again.contains("already exists"), "{run}");
    assert!(
        again.contains("\"build-lab\"")
            && again.contains("--replace")
            && again.contains("netscript down build-lab"),
        "{run}"
    );
    assert!(again.contains("code 1"), "{run}");
    assert_eq!(s.get("replace").trim(), "0", "{run}");
    assert_eq!(s.get("replace2").trim(), "0", "{run}");
    let labs: Vec<&str> = s.get("ls").lines().skip(1).collect();
    assert_eq!(labs.len(), 1, "{run}");
    assert!(labs[0].starts_with("build-lab "), "{run}");
    assert_eq!(s.get("c1").trim(), "1", "{run}");
}

/// `ns.shell()` from the REPL, on a real terminal, with bash as the user's shell: the
/// prompt shows the namespace even though Debian's /etc/bash.bashrc sets its own PS1, `ip
/// link` inside lists the namespace's links, and `exit` returns to the REPL with the code.
#[test]
fn shell_from_the_repl_on_a_terminal_shows_the_namespace_and_returns() {
    use common::tmux::*;
    let state = StateDir::new();
    let r = Repl::start_with(
        &state.path,
        "SHELL=/bin/bash PROMPT_COMMAND= HOME=/nonexistent",
        &["--sandbox"],
    );
    r.eval(r#"let red = netns("red")"#);
    r.eval(r#"veth("veth-red", "veth-out", #{ a_ns: red })"#);
    r.type_text("red.shell()");
    r.key("Enter");
    r.wait_for_input_line("bash's prompt with the namespace", |l| {
        l.starts_with("[red] ")
    });
    r.type_text("ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d ' ' | sort | tr '\\n' ,");
    r.key("Enter");
    r.wait_for("the namespace's links", |p| p.contains("lo,veth-red,"));
    let pane = r.capture();
    assert!(
        !pane.contains("veth-out,"),
        "the host's end is not in red\n{pane}"
    );
    let before = prompt_lines(&pane).len();
    r.type_text("exit 3");
    r.key("Enter");
    let pane = r.wait_for("the REPL's prompt again", |p| {
        prompt_lines(p).len() > before
    });
    assert!(
        pane.lines().any(|l| l.trim() == "3"),
        "the shell's exit code\n{pane}"
    );
}
