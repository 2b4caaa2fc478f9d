//! Every call does what it says, at its own line: errors raised by the call that caused
//! them (even when its change is held back to be folded with a move), names checked as
//! the kernel checks them, scripts that start with a BOM or `#!`, `check` that runs
//! nothing, errors in a user's module shown like the script's own, plans that check the
//! arguments. Every run is `--sandbox` (or inside `sandbox_sh`).

mod common;

use std::process::{Command, Stdio};

use common::{error_report, q, sandbox_sh, sandboxed, Run, TempScript, BIN};

fn run_script(stem: &str, text: &str) -> Run {
    let s = TempScript::new(stem, text);
    sandboxed(&[s.path()])
}

// ------------------------------------------------------ errors at the call that caused them

#[test]
fn try_catches_a_veth_into_a_missing_namespace() {
    let r = run_script(
        "ghost",
        r#"
try { veth("m1", "m2", #{ a_ns: "ghost" }); print("not caught"); }
catch (e) { print(`caught: ${e}`); }
print(`m1 exists: ${host().links().some(|l| l.name == "m1")}`);
"#,
    )
    .success();
    assert!(
        r.stdout.contains(
            r#"caught: veth("m1", "m2", #{ a_ns: "ghost" }): namespace "ghost" does not exist"#
        ),
        "{r}"
    );
    assert!(r.stdout.contains("m1 exists: false"), "{r}");
    assert!(!r.stdout.contains("not caught"), "{r}");
}

#[test]
fn no_statement_after_a_failing_veth_runs_first() {
    let r = run_script(
        "order",
        "veth(\"m1\", \"m2\", #{ a_ns: \"ghost\" });\nprint(\"NOT REACHED\");\n",
    )
    .fails_with(1);
    assert!(!r.stdout.contains("NOT REACHED"), "{r}");
    let e = error_report(&r);
    assert_eq!((e.line, e.col), (1, 1), "{r}");
}

#[test]
fn a_taken_name_is_caught_by_the_try_around_its_own_call() {
    // Before: the second veth's error escaped into the unrelated later `try`, and the
    // script went on without `x`.
    let r = run_script(
        "taken",
        r#"
veth("a", "b");
let second = "";
try { veth("a", "c"); } catch (e) { second = e; }
let x = "";
try { netns("x"); } catch (e) { x = e; }
print(`second: ${second}`);
print(`x: ${x} exists: ${netns_exists("x")}`);
"#,
    )
    .success();
    assert!(
        r.stdout
            .contains(r#"second: veth("a", "c"): link "a" already exists"#),
        "{r}"
    );
    assert!(r.stdout.contains("x:  exists: true"), "{r}");
}

#[test]
fn a_name_taken_in_the_target_namespace_fails_at_the_move() {
    // The create is folded with the move; a name taken where the end goes fails at the
    // move's own line (the veth itself was fine).
    let r = run_script(
        "movetaken",
        r#"let c1 = netns("c1");
veth("x", "y", #{ a_ns: c1 });
veth("x", "z");
link("x").move_to(c1);
"#,
    )
    .fails_with(1);
    let e = error_report(&r);
    assert_eq!(e.line, 4, "{r}");
    assert!(e.message.contains("move_to"), "{r}");
    assert!(e.message.contains("already exists"), "{r}");
}

#[test]
fn a_late_kernel_failure_points_at_the_call_and_stops_before_the_next_print() {
    // Only a failure nothing could foresee (here an injected one) surfaces after the
    // call returned: then before the next print, at the call's own position, naming the
    // move that was folded in.
    let s = TempScript::new(
        "late",
        "let c1 = netns(\"c1\");\nveth(\"v1\", \"v2\");\nlink(\"v2\").move_to(c1);\nprint(\"NOT REACHED\");\n",
    );
    let out = Command::new(BIN)
        .args(["--sandbox", s.path()])
        // Op 1 is the sandbox's lo, op 2 the namespace, op 3 the veth.
        .env("NETSCRIPT_FAIL_AT", "3")
        .stdin(Stdio::null())
        .output()
        .expect("running netscript");
    let r = Run::new(out, "late failure".into()).fails_with(1);
    assert!(!r.stdout.contains("NOT REACHED"), "{r}");
    let e = error_report(&r);
    assert_eq!((e.line, e.col), (2, 1), "{r}");
    assert!(e.message.contains("injected fault"), "{r}");
    assert!(
        e.message
            .contains(r#"(with Link("v2").move_to(Netns("c1")), line 3, folded in)"#),
        "{r}"
    );
}

#[test]
fn a_veth_failing_in_a_module_is_reported_in_the_module() {
    let main = TempScript::new("main", "import \"mymod\" as m;\nlet x = 1;\nm::make();\n");
    let dir = main.path.parent().unwrap();
    std::fs::write(
        dir.join("mymod.rhai"),
        "fn make() {\n    veth(\"q1\", \"q2\", #{ b_ns: \"nope\" });\n}\n",
    )
    .unwrap();
    let r = sandboxed(&[main.path()]).fails_with(1);
    let e = error_report(&r);
    assert!(e.file.ends_with("mymod.rhai"), "the module's path: {r}");
    assert_eq!((e.line, e.col), (2, 5), "{r}");
    assert_eq!(
        e.source_line,
        "        veth(\"q1\", \"q2\", #{ b_ns: \"nope\" });"
    );
    assert!(r.stderr.contains("note: in make(), called from"), "{r}");
}

// ------------------------------------------------------------------- names and inputs

#[test]
fn names_the_kernel_would_rewrite_or_refuse_are_rejected_first() {
    for (call, why) in [
        (r#"bridge("br%d")"#, "template"),
        (r#"veth("v%d", "w%d")"#, "template"),
        (r#"bridge("br0:1")"#, "':'"),
        ("bridge(\"veth\u{e0}\")", "0xa0"),
        (r#"bridge("all")"#, "reserved"),
        (r#"bridge("default")"#, "reserved"),
    ] {
        let code = format!("{call}; print(`links: ${{host().links().len()}}`)");
        let r = common::eval(&code).fails_with(1);
        assert!(r.stderr.contains(why), "{call}: {r}");
        assert!(!r.stderr.contains("os error"), "{call}: {r}");
    }
    // Nothing reached the kernel: the sandbox has only lo afterwards.
    let r = sandbox_sh(&format!(
        "{} -e 'try {{ bridge(\"br%d\") }} catch {{}}' ; ip -j link show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'",
        q(BIN)
    ));
    let out = String::from_utf8_lossy(&r.stdout);
    assert_eq!(out.trim(), "1", "only lo: {out}");
}

#[test]
fn a_cidr_is_parsed_strictly() {
    for bad in ["10.0.0.1/+24", "10.0.0.1/", "10.0.0.1/024x"] {
        let r = common::eval(&format!(r#"bridge("br0"); addr("br0", "{bad}")"#)).fails_with(1);
        assert!(r.stderr.contains("invalid prefix length"), "{bad}: {r}");
    }
}

#[test]
fn a_byte_order_mark_and_a_shebang_line_are_allowed() {
    let s = TempScript::new(
        "shebang",
        "\u{feff}#!/usr/bin/env netscript\nlet x = 40;\nprint(x + 2);\nundefined_fn();\n",
    );
    let r = sandboxed(&[s.path()]).fails_with(1);
    assert_eq!(r.stdout.trim(), "42", "{r}");
    // Line numbers are the file's own.
    assert_eq!(error_report(&r).line, 4, "{r}");
    // Runnable as ./lab.rhai through `env`.
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(
        &s.path,
        "#!/usr/bin/env -S netscript --sandbox\nprint(\"ran\");\n",
    )
    .unwrap();
    std::fs::set_permissions(&s.path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(&s.path)
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", common::bin_dir().display()),
        )
        .output()
        .expect("running the script itself");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ran");
}

#[test]
fn check_resolves_imports_without_running_them() {
    let main = TempScript::new("main", "import \"spin\" as s;\ns::f();\n");
    let dir = main.path.parent().unwrap();
    std::fs::write(dir.join("spin.rhai"), "fn f() { 1 }\nloop { }\n").unwrap();
    let out = Command::new("timeout")
        .args(["20", BIN, "check", main.path()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // A syntax error in the module is still found.
    std::fs::write(dir.join("spin.rhai"), "fn f() { 1 \n").unwrap();
    let out = Command::new(BIN)
        .args(["check", main.path()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn deep_recursion_prints_one_folded_note() {
    let r = run_script(
        "deep",
        "fn g(n) { if n == 0 { throw \"deep\"; } g(n - 1) }\ng(50);\n",
    )
    .fails_with(1);
    let notes: Vec<&str> = r.stderr.lines().filter(|l| l.contains("note:")).collect();
    assert_eq!(notes.len(), 2, "{r}");
    assert!(notes[0].contains("(50 times)"), "{r}");
}

#[test]
fn gateway_and_vxlan_mistakes_are_explained() {
    let r = common::eval(r#"let r = netns("r"); r.route("fd00::/64", "fe80::1")"#).fails_with(1);
    assert!(r.stderr.contains("link-local"), "{r}");
    let r = common::eval(r#"vxlan("vx0", #{ vni: 42, remote: "fd00::2", local: "10.0.0.1" })"#)
        .fails_with(1);
    assert!(r.stderr.contains("IPv6 but local 10.0.0.1 is IPv4"), "{r}");
}

// ------------------------------------------------------------------------ smaller things

#[test]
fn a_namespace_can_start_with_lo_down() {
    let r = sandbox_sh(&format!(
        "{} -e 'netns(\"bare\", #{{ lo: false }}); netns(\"usual\");'\n\
         ip -n bare -j link show lo; echo; ip -n usual -j link show lo",
        q(BIN)
    ));
    let out = String::from_utf8_lossy(&r.stdout);
    let mut lines = out.lines().filter(|l| l.starts_with('['));
    let bare = lines.next().expect("bare's lo");
    let usual = lines.next().expect("usual's lo");
    assert!(
        bare.contains("\"operstate\":\"DOWN\"") && !bare.contains("\"UP\""),
        "{out}"
    );
    assert!(usual.contains("\"UP\""), "{out}");
}

#[test]
fn ls_counts_what_is_still_there() {
    let r = sandbox_sh(&format!(
        "cd $T; printf 'let c = netns(\"c\");\\nveth(\"a1\", \"b1\", #{{ b_ns: c }});\\nveth(\"a2\", \"b2\", #{{ b_ns: c }});\\n' > two.rhai\n\
         {bin} two.rhai\n\
         {bin} --json ls\n\
         ip link del a1; sleep 0.2\n\
         {bin} --json ls",
        bin = q(BIN)
    ));
    let out = String::from_utf8_lossy(&r.stdout);
    let lists: Vec<&str> = out.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(lists.len(), 2, "{out}");
    assert!(lists[0].contains("\"links\":2"), "{out}");
    assert!(lists[1].contains("\"links\":1"), "{out}");
}

#[test]
fn a_plan_checks_assertions_on_the_arguments() {
    let s = TempScript::new(
        "args",
        "let n = ARGS[0].parse_int();\nassert(n >= 1, \"N is at least 1\");\nlet r = netns(\"r\");\nassert(r.ping(\"10.0.0.1\"), \"r pings\");\n",
    );
    let bad = Command::new(BIN)
        .args(["plan", s.path(), "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("assertion failed: N is at least 1"));
    let good = Command::new(BIN)
        .args(["plan", s.path(), "3"])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&good.stdout);
    assert!(plan.contains("# check: N is at least 1 (holds)"), "{plan}");
    assert!(plan.contains("# check: r pings (left to the run"), "{plan}");
    assert!(
        !plan.contains("assert"),
        "no comment reads like a failure: {plan}"
    );
}

#[test]
fn a_plan_cites_the_users_line_for_calls_inside_the_stdlib() {
    let plan = Command::new(BIN)
        .args(["plan", &common::script_path("build-lab"), "2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    // bridge_network() is called on line 10 of build-lab.rhai; the bridge is made in
    // stdlib/lab.rhai.
    let cite = text
        .lines()
        .find(|l| l.starts_with("# ") && l.contains("stdlib/lab.rhai"))
        .unwrap_or_else(|| panic!("no stdlib citation:\n{text}"));
    assert!(
        cite.contains("build-lab.rhai:10 (stdlib/lab.rhai:"),
        "{cite}\n{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("# stdlib/")),
        "every stdlib line is cited with the user's:\n{text}"
    );
}
