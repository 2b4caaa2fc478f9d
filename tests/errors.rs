//! Bad input: every uncaught error exits 1 and prints `FILE:LINE:COL: error: CALL: MESSAGE`,
//! the source line and a caret; usage errors exit 2; nothing panics. All runs use
//! `--sandbox` (or `sandbox_sh`), so even a wrongly accepted input touches nothing.
//!
//! The validation of each argument (names, addresses, options, types) is tested
//! in-process over the model, in `src/lang/tests/`; here, what needs the binary: the
//! report's form, files, exit statuses.

mod common;

use common::*;

/// Run `-e CODE`, expect exit 1 and a well-formed report; returns the report.
fn error_of(code: &str) -> ErrorReport {
    let run = eval(code).fails_with(1);
    let r = error_report(&run);
    assert_eq!(r.file, "-e", "{run}");
    assert_eq!(
        r.source_line,
        format!("    {}", code.lines().nth(r.line - 1).unwrap()),
        "{run}"
    );
    r
}

// ---------------------------------------------------------------- kernel objects

#[test]
fn duplicate_namespace() {
    let r = error_of(r#"netns("red"); netns("red")"#);
    assert_eq!(r.message, r#"netns("red"): namespace "red" already exists"#);
    assert_eq!((r.line, r.col), (1, 15));
}

#[test]
fn try_catch_catches_errors() {
    let run = eval(r#"try { netns("a"); netns("a"); } catch (e) { print(e) }"#).success();
    assert_eq!(
        run.stdout.trim(),
        r#"netns("a"): namespace "a" already exists"#
    );
    // The script goes on after the catch, and what the try built before the error stays.
    let out = eval_ok(
        r#"try { netns("a"); veth("x", "y", #{ mtuu: 1 }); } catch (e) { print("caught"); }
           netns_exists("a")"#,
    );
    assert_eq!(out, "caught\ntrue");
}

#[test]
fn assertion_messages() {
    assert_eq!(
        error_of(r#"assert(false, "boom")"#).message,
        "assertion failed: boom"
    );
    assert_eq!(error_of("assert(1 == 2)").message, "assertion failed");
    assert_eq!(eval_ok("assert(true); 1"), "1");
}

#[test]
fn no_input_panics() {
    for code in [
        r#"link("lo").mtu(0)"#,
        r#"ping("nope")"#,
        r#"ping("127.0.0.1", #{ count: 0 })"#,
        r#"connect("10.0.0.1")"#,
        r#"connect("10.0.0.1:99999")"#,
        r#"exec([])"#,
        r#"exec("")"#,
        r#"start([])"#,
        r#"exec(["/nonexistent"])"#,
        r#"sysctl("../../etc/passwd")"#,
        r#"sysctl("net.ipv4.nope")"#,
        r#"sysctl("net.ipv4.ip_forward", [])"#,
        r#"route("default", #{})"#,
        r#"veth("a", "a")"#,
        r#"netns_delete(host())"#,
        r#"link("lo").move_to(host())"#,
        r#"link("lo").master("lo")"#,
        r#"http_get("not a url")"#,
        r#"veth("a", "b").a.master("b")"#,
        r#"netns("a").route("default", "10.0.0.1")"#,
        r#"route("default", "fd00::1")"#,
        r#"let x = [1]; x[5]"#,
    ] {
        let run = eval(code);
        assert_eq!(run.code, 1, "{run}");
        error_report(&run);
    }
}

// ---------------------------------------------------------------- positions

#[test]
fn exact_line_and_column_in_a_file() {
    let src = "// a comment\nlet a = 1;\n  let v = veth(\"abcdefghijklmnop\", \"x\");\n";
    let script = TempScript::new("pos", src);
    let run = sandboxed(&[script.path()]).fails_with(1);
    let r = error_report(&run);
    assert_eq!(r.file, script.path(), "FILE as given on the command line");
    assert_eq!((r.line, r.col), (3, 11), "{run}");
    assert_eq!(
        r.source_line,
        "      let v = veth(\"abcdefghijklmnop\", \"x\");"
    );
    assert!(
        r.message.starts_with(r#"veth("abcdefghijklmnop", "x"): "#),
        "{r:?}"
    );

    let src = "let n = netns(\"n\");\nprint(\"before\");\n\n    n.route(\"10.9.0.1/16\", \"10.0.0.1\");\n";
    let script = TempScript::new("method", src);
    let run = sandboxed(&[script.path()]).fails_with(1);
    assert_eq!(run.stdout, "before\n");
    let r = error_report(&run);
    assert_eq!(
        (r.line, r.col),
        (4, 7),
        "a method error points at the method name\n{run}"
    );
    assert!(
        r.message
            .starts_with(r#"n.route("10.9.0.1/16", "10.0.0.1"): "#),
        "{r:?}"
    );
}

#[test]
fn error_inside_a_function_reports_the_line_in_the_function() {
    let src =
        "fn make(name) {\n    let x = 1;\n    netns(name);\n}\n\nmake(\"ok\");\nmake(\"a b\");\n";
    let script = TempScript::new("func", src);
    let run = sandboxed(&[script.path()]).fails_with(1);
    let r = error_report(&run);
    assert_eq!(r.file, script.path());
    assert_eq!((r.line, r.col), (3, 5), "{run}");
    assert_eq!(r.source_line, "        netns(name);");
    assert!(r.message.starts_with(r#"netns("a b"): "#), "{r:?}");
}

#[test]
fn syntax_error_position() {
    let script = TempScript::new("syntax", "let a = 1;\nlet b = [1, 2;\n");
    let run = sandboxed(&[script.path()]).fails_with(1);
    let r = error_report(&run);
    assert_eq!(r.file, script.path());
    assert_eq!(r.line, 2, "{run}");
}

// ---------------------------------------------------------------- command line

#[test]
fn usage_errors_exit_2() {
    let run = sandboxed(&["--bogus"]).fails_with(2);
    assert!(run.stderr.contains("--bogus"), "{run}");
    let run = sandboxed(&["/nonexistent/netscript-test.rhai"]).fails_with(2);
    assert!(
        run.stderr.contains("/nonexistent/netscript-test.rhai"),
        "{run}"
    );
    let run = sh("rc=0; netscript check /nonexistent/netscript-test.rhai || rc=$?; echo $rc");
    assert_eq!(run.stdout.trim(), "2", "{run}");
}

#[test]
fn without_privileges_one_line_and_exit_1() {
    let run = sh_ok(&format!(
        r#"if ! command -v su >/dev/null; then echo @@skip; exit 0; fi
rc=0; su nobody -s /bin/sh -c {} >$T/out 2>$T/err || rc=$?
echo @@rc; echo $rc
echo @@out; cat $T/out
echo @@err; cat $T/err"#,
        q(&format!("{BIN} -e 1"))
    ));
    let s = run.sections();
    if s.map.contains_key("skip") {
        eprintln!("skipped: no `su` on this machine");
        return;
    }
    if s.text("rc") == "126" || s.text("rc") == "127" {
        eprintln!("skipped: user nobody cannot execute {BIN}\n{run}");
        return;
    }
    assert_eq!(s.text("rc"), "1", "{run}");
    assert_eq!(s.text("out"), "", "{run}");
    let err = s.text("err");
    assert_eq!(err.lines().count(), 1, "one line\n{run}");
    assert!(
        err.contains("needs root or CAP_NET_ADMIN + CAP_SYS_ADMIN; or use --sandbox"),
        "{run}"
    );
}
