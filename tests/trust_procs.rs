//! Trust: processes. `exec` of a command that leaves something in the background returns
//! (and what it left is stopped when the run ends); nothing outlives `--sandbox`; `wait`
//! after `kill` (or twice) answers the exit status; `netscript import` keeps its promise
//! that a `set -e` script stops at the first failing command, and turns `CMD &` into a
//! detached `start`.
//!
//! Every sleep these tests start has a unique duration (`sleep 341.5`), so a test can look
//! for exactly its own processes on the machine, and remove them (by pid) if a broken
//! netscript left them behind.

mod common;

use std::process::{Command, Stdio};

use common::procs::{sandboxed_guarded, PROCS_SH};
use common::*;

/// Pids of the live (not zombie) processes whose argv is exactly `argv`, on this machine.
fn live(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rfind(')')
            .is_some_and(|i| stat[i + 1..].trim_start().starts_with('Z'));
        if cmdline == want && !zombie {
            out.push(pid);
        }
    }
    out
}

/// The live processes among `sleeps` (`sleep ARG`), each killed (by pid) once found: a
/// broken netscript must not leave them running on the machine.
fn surviving_sleeps(sleeps: &[&str]) -> Vec<String> {
    let mut out = vec![];
    for s in sleeps {
        for pid in live(&["sleep", s]) {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            out.push(format!("sleep {s} (pid {pid})"));
        }
    }
    out
}

// ---------------------------------------------------------------- exec

#[test]
fn exec_of_a_command_that_leaves_a_background_job_returns_with_its_output() {
    let run = sandboxed_guarded(&[
        "-e",
        r#"let r = host().exec("echo before; sleep 341.5 & echo after");
           print(r.stdout); print(r.code);
           let n = netns("n");
           let r = n.exec(["sh", "-c", "sleep 342.5 & echo in-n >&2; exit 4"]);
           print(r.stderr); print(r.code);"#,
    ]);
    let left = surviving_sleeps(&["341.5", "342.5"]);
    let run = run.success();
    assert_eq!(
        run.stdout.split_whitespace().collect::<Vec<_>>(),
        ["before", "after", "0", "in-n", "4"],
        "{run}"
    );
    assert!(left.is_empty(), "left running: {left:?}\n{run}");
}

#[test]
fn what_exec_leaves_running_is_stopped_when_the_run_ends_but_detached_processes_stay() {
    let s = sh_ok(&format!(
        r#"{PROCS_SH}
bg netscript -e '
    let n = netns("n");
    n.exec("sleep 343.5 >/dev/null 2>&1 &");
    n.exec("setsid sleep 344.5 >/dev/null 2>&1 &");
    host().exec("sleep 345.5 &");
    n.start(["sleep", "346.5"], #{{ detach: true }});
    print("built")'
finish
echo @@out; cat $T/out $T/err
echo @@alive; alive sleep 343.5; alive sleep 344.5; alive sleep 345.5; alive sleep 346.5
"#
    ))
    .sections();
    assert_eq!(s.text("rc"), "0", "{}", s.context());
    assert!(s.text("out").contains("built"), "{}", s.context());
    assert_eq!(
        s.text("alive"),
        "sleep 346.5",
        "only the detached process is left\n{}",
        s.context()
    );
}

#[test]
fn exec_is_stopped_by_sigint_and_sigterm() {
    for sig in ["INT", "TERM"] {
        let s = sh_ok(&format!(
            r#"{PROCS_SH}
bg netscript -e 'netns("n").exec("sleep 347.5"); print("not reached")'
for i in $(seq 300); do [ -n "$(alive sleep 347.5)" ] && break; sleep 0.05; done
echo @@running; alive sleep 347.5
interrupt {sig}
echo @@alive; alive sleep 347.5
echo @@netns; ip netns list
"#
        ))
        .sections();
        assert_eq!(s.text("running"), "sleep 347.5", "{}", s.context());
        assert_eq!(s.text("rc"), "1", "SIG{sig}\n{}", s.context());
        assert!(
            s.text("err").contains("interrupted by a signal"),
            "{}",
            s.context()
        );
        assert_eq!(s.text("out"), "", "{}", s.context());
        assert_eq!(
            s.text("alive"),
            "",
            "the command was stopped\n{}",
            s.context()
        );
        assert_eq!(s.text("netns"), "", "rolled back\n{}", s.context());
    }
}

// ---------------------------------------------------------------- --sandbox

#[test]
fn nothing_outlives_the_sandbox() {
    let sleeps = ["351.5", "352.5", "353.5", "354.5", "354.6"];
    let run = sandboxed_guarded(&[
        "-e",
        r#"let n = netns("n");
           host().exec("sleep 351.5 >/dev/null 2>&1 &");
           n.exec("setsid sleep 352.5 >/dev/null 2>&1 &");
           start(["sleep", "353.5"], #{ detach: true });
           n.start(["sh", "-c", "setsid sleep 354.5 & exec sleep 354.6"], #{ detach: true });
           for i in 0..300 { if host().exec(["pgrep", "-x", "-f", "sleep 354.5"]).code == 0 { break; } sleep(10); }
           print("built");"#,
    ]);
    let left = surviving_sleeps(&sleeps);
    let run = run.success();
    assert_eq!(run.stdout.trim(), "built", "{run}");
    assert!(left.is_empty(), "outlived the sandbox: {left:?}\n{run}");
}

#[test]
fn a_sandboxed_hostname_change_stays_in_the_sandbox() {
    // In a UTS namespace of the test's own, so even a netscript that leaked the change
    // would not touch the machine's hostname.
    let out = Command::new("unshare")
        .args(["--uts", "sh", "-c"])
        .arg(format!(
            "hostname outer-name-test && {} --sandbox -e {} && echo \"@@outer\" && hostname",
            q(BIN),
            q(r#"host().exec("hostname inner-name-test"); print("@@inner"); print(host().exec("hostname").stdout)"#)
        ))
        .stdin(Stdio::null())
        .output()
        .expect("running unshare");
    let run = Run::new(
        out,
        "unshare --uts: netscript --sandbox sets the hostname".into(),
    )
    .success();
    let s = run.sections();
    assert_eq!(s.text("inner"), "inner-name-test", "{run}");
    assert_eq!(s.text("outer"), "outer-name-test", "{run}");
}

#[test]
fn signals_to_a_sandboxed_run_still_roll_it_back() {
    for sig in ["INT", "TERM"] {
        let s = sh_ok(&format!(
            r#"{PROCS_SH}
bg netscript --sandbox -e 'netns("x"); start(["sleep", "355.5"], #{{ detach: true }}); print("ready"); sleep(60000)'
for i in $(seq 300); do grep -q ready $T/out && break; sleep 0.05; done
interrupt {sig}
echo @@alive; alive sleep 355.5
"#
        ))
        .sections();
        assert_eq!(s.text("rc"), "1", "SIG{sig}\n{}", s.context());
        assert!(
            s.text("err").contains("interrupted by a signal"),
            "{}",
            s.context()
        );
        assert_eq!(s.text("alive"), "", "{}", s.context());
    }
}

// ---------------------------------------------------------------- Proc.wait

#[test]
fn wait_after_kill_and_wait_twice_answer_the_exit_status() {
    let out = eval_ok(
        r#"let n = netns("n");
           let p = n.start(["sleep", "300"]);
           p.kill();
           print(p.wait()); print(p.wait()); print(p.running());
           let q = n.start(["sh", "-c", "exit 3"]);
           print(q.wait()); print(q.wait()); print(q.running());
           let k = n.start(["sh", "-c", "kill -9 $$"]);
           print(k.wait());
           let d = n.start(["sleep", "300"], #{ detach: true });
           d.kill();
           print(d.wait());
           let e = n.start(["true"]);
           while e.running() { sleep(5); }
           print(e.wait());"#,
    );
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["143", "143", "false", "3", "3", "false", "137", "143", "0"]
    );
}

// ---------------------------------------------------------------- import

/// Write `src` as a bash script in `$T/NAME.sh` inside a sandbox_sh script.
fn bash_file(name: &str, src: &str) -> String {
    format!("cat > $T/{name}.sh <<'EOF'\n{src}EOF\n")
}

#[test]
fn an_imported_set_e_script_stops_where_bash_stops() {
    let src = r#"#!/bin/bash
set -e
ip netns add red
[ -e /nonexistent-356 ] && echo never
ip netns exec red true
echo reached
ip netns exec red sh -c 'echo oops >&2; exit 3'
ip netns add never
"#;
    let s = sh_ok(&format!(
        r#"{file}
rc=0; bash $T/lab.sh > $T/bash.out 2>&1 || rc=$?
echo @@bash; echo $rc; ip netns list | cut -d' ' -f1
ip netns del red
netscript import $T/lab.sh > $T/lab.rhai
echo @@rhai; cat $T/lab.rhai
rc=0; netscript $T/lab.rhai > $T/ns.out 2> $T/ns.err || rc=$?
echo @@ns; echo $rc; ip netns list | cut -d' ' -f1
echo @@out; cat $T/ns.out
echo @@err; cat $T/ns.err
"#,
        file = bash_file("lab", src)
    ))
    .sections();
    assert_eq!(
        s.text("bash"),
        "3\nred",
        "bash stops at the exit 3\n{}",
        s.context()
    );
    assert_eq!(
        s.text("ns"),
        "1",
        "the imported script stops there too (and rolls back)\n{}",
        s.context()
    );
    assert_eq!(s.text("out"), "reached", "{}", s.context());
    let err = s.text("err");
    assert!(
        err.contains("exit code 3") && err.contains("oops"),
        "the error says what failed\n{}",
        s.context()
    );
}

#[test]
fn import_turns_a_background_line_into_a_detached_start() {
    let src = "#!/bin/bash\nset -e\nip netns add red\nip netns exec red sleep 357.5 &\nsleep 358.5 >/dev/null 2>&1 &\necho done\n";
    let s = sh_ok(&format!(
        r#"{PROCS_SH}{file}
netscript import $T/bg.sh > $T/bg.rhai
echo @@rhai; cat $T/bg.rhai
bg netscript $T/bg.rhai
finish
echo @@out; cat $T/out $T/err
echo @@alive; alive sleep 357.5; alive sleep 358.5
netscript down bg > /dev/null
echo @@down; alive sleep 357.5; alive sleep 358.5
"#,
        file = bash_file("bg", src)
    ))
    .sections();
    let rhai = s.text("rhai");
    assert!(
        rhai.contains(r#"red.start(["sleep", "357.5"], #{ detach: true });"#),
        "{rhai}"
    );
    assert!(
        rhai.contains(r#"start("sleep 358.5 >/dev/null 2>&1", #{ detach: true });"#),
        "{rhai}"
    );
    assert!(!rhai.contains("exec("), "{rhai}");
    assert_eq!(s.text("rc"), "0", "{}", s.context());
    assert_eq!(s.text("out"), "done", "{}", s.context());
    assert_eq!(
        s.text("alive"),
        "sleep 357.5\nsleep 358.5",
        "like bash's background jobs, they outlive the script\n{}",
        s.context()
    );
    assert_eq!(s.text("down"), "", "and belong to the lab\n{}", s.context());
}
