//! Lifecycle: processes do not escape. What a started process leaves behind — a member of
//! its process group that ignores SIGTERM after the leader exited, a `setsid` child, a
//! child that cleared its environment, anything else inside the lab's namespaces — is
//! stopped by `Proc.kill()`, by the end of the run (not detached), by rollback and by
//! `netscript down` (detached); the namespaces then really go (the veth end outside
//! disappears). A detached process and its `setsid` child survive the run. `Proc.wait()`
//! gives way to SIGINT, SIGTERM and SIGHUP.
//!
//! Every sleep these tests start has a unique duration (`sleep 371.1`), so a test looks
//! for exactly its own processes.

mod common;

use common::procs::{run_file_sh, sandboxed_guarded, PROCS_SH};
use common::*;

/// Rhai: namespace `n` with a veth to the host (`vh`); in it `a`, a shell that leaves
/// behind a `sleep S.1` in its process group that ignores SIGTERM and a `setsid sleep S.2`,
/// then exits; on the host `b`, the same with `S.3` and `S.4` (`opts`: the two `start`s'
/// options, `["", DETACH]`). Then `more`, and a wait until the processes `procs` have
/// exited and `count` sleeps `sleep S.1` .. `sleep S.COUNT` run.
fn left_behind(series: u32, opts: [&str; 2], more: &str, procs: &str, count: usize) -> String {
    let leaves = |a: u32, b: u32| {
        format!(
            r#"["sh", "-c", "trap '' TERM; sleep {series}.{a} & setsid sleep {series}.{b} & exit 0"]"#
        )
    };
    let pat = format!("sleep {series}[.][1-{count}]");
    format!(
        r#"let n = netns("n");
veth("vh", "vn", #{{ b_ns: "n" }});
let a = n.start({a}{oa});
let b = host().start({b}{ob});
{more}
for p in [{procs}] {{ while p.running() {{ sleep(5); }} }}
for i in 0..600 {{ if host().exec(["sh", "-c", "[ \"$(pgrep -cxf '{pat}')\" = {count} ]"]).code == 0 {{ break; }} sleep(10); }}
"#,
        a = leaves(1, 2),
        b = leaves(3, 4),
        oa = opts[0],
        ob = opts[1],
    )
}

/// `start`'s options for a detached process.
const DETACH: &str = ", #{ detach: true }";

/// The sections of a sandbox that runs `script` as `$T/NAME.rhai` ([`run_file_sh`]:
/// `@@rc`, `@@out`), then the shell lines `after`.
fn run_then(name: &str, script: &str, after: &str) -> Sections {
    sh_ok(&format!("{PROCS_SH}\n{}{after}", run_file_sh(name, script))).sections()
}

#[test]
fn kill_stops_a_group_member_that_ignores_sigterm_and_a_setsid_child() {
    let count = r#"host().exec(["sh", "-c", "pgrep -cxf 'sleep 371[.][1-4]' || true"]).stdout"#;
    let script = format!(
        r#"{}
print("@@before"); print({count});
a.kill(); b.kill();
print("@@after"); print({count});
netns_delete("n");
print("@@veth"); print(host().exec(["ip", "link", "show", "vh"]).code);"#,
        left_behind(371, ["", ""], "", "a, b", 4)
    );
    let run = sandboxed_guarded(&["-e", &script]).success();
    let s = run.sections();
    assert_eq!(s.text("before"), "4", "{run}");
    assert_eq!(s.text("after"), "0", "kill() left some running\n{run}");
    assert_ne!(
        s.text("veth"),
        "0",
        "the namespace outlived its deletion\n{run}"
    );
}

#[test]
fn the_end_of_a_run_stops_what_its_processes_left_behind() {
    // And a child that clears its environment and leaves its parent.
    let more = r#"let c = n.start(["env", "-i", "sh", "-c", "setsid sleep 372.5 & exit 0"]);"#;
    let script = left_behind(372, ["", ""], more, "a, b, c", 5) + "print(\"built\");";
    let s = run_then(
        "endrun",
        &script,
        r#"echo @@alive; for i in 1 2 3 4 5; do alive sleep 372.$i; done
echo @@netns; ip netns list
netscript down endrun > /dev/null
"#,
    );
    assert_eq!(s.text("rc"), "0", "{}", s.context());
    assert_eq!(s.text("out"), "built", "{}", s.context());
    assert_eq!(s.text("alive"), "", "left running\n{}", s.context());
    assert!(s.text("netns").starts_with('n'), "{}", s.context());
}

#[test]
fn down_stops_detached_processes_with_all_they_left_and_the_namespace_goes() {
    let more = r#"host().start(["sleep", "373.9"], #{ detach: true });"#;
    let script = left_behind(373, [DETACH, DETACH], more, "a, b", 4) + "print(\"built\");";
    let s = run_then(
        "dl",
        &script,
        r#"# Not the lab's: one with the same command line outside, and one put into the lab's
# namespace by someone else (it would keep the namespace alive).
sleep 373.9 &
ip netns exec n setsid sleep 373.5 > /dev/null 2>&1 &
for i in $(seq 300); do [ -n "$(alive sleep 373.5)" ] && break; sleep 0.02; done
echo @@run; for i in 1 2 3 4 5 9; do alive sleep 373.$i; done
netscript down dl > $T/down 2>&1 || cat $T/down
echo @@down; for i in 1 2 3 4 5 9; do alive sleep 373.$i; done
echo @@veth; ip link show vh > /dev/null 2>&1 && echo still there
echo @@netns; ip netns list
"#,
    );
    assert_eq!(s.text("rc"), "0", "{}", s.context());
    assert_eq!(s.text("out"), "built", "{}", s.context());
    assert_eq!(
        s.lines("run"),
        [
            "sleep 373.1",
            "sleep 373.2",
            "sleep 373.3",
            "sleep 373.4",
            "sleep 373.5",
            "sleep 373.9",
            "sleep 373.9"
        ],
        "detached processes and theirs outlive the run\n{}",
        s.context()
    );
    assert_eq!(
        s.text("down"),
        "sleep 373.9",
        "down leaves only what is not the lab's\n{}",
        s.context()
    );
    assert_eq!(s.text("veth"), "", "{}", s.context());
    assert_eq!(s.text("netns"), "", "{}", s.context());
}

/// A detached process in a namespace, and the `setsid` child it leaves.
const DD: &str = r#"let n = netns("n");
veth("vh", "vn", #{ b_ns: "n" });
n.start(["sh", "-c", "setsid sleep 374.1 & exec sleep 374.2"], #{ detach: true });
for i in 0..600 { if host().exec(["pgrep", "-xf", "sleep 374[.]1"]).code == 0 { break; } sleep(10); }"#;

#[test]
fn a_detached_process_in_a_namespace_survives_the_run_and_down_stops_its_setsid_child() {
    let s = run_then(
        "dd",
        DD,
        r#"echo @@run; alive sleep 374.1; alive sleep 374.2
netscript down dd > $T/down 2>&1 || cat $T/down
echo @@down; alive sleep 374.1; alive sleep 374.2
echo @@veth; ip link show vh > /dev/null 2>&1 && echo still there
echo @@netns; ip netns list
"#,
    );
    assert_eq!(s.text("rc"), "0", "{}", s.context());
    assert_eq!(s.text("out"), "", "{}", s.context());
    assert_eq!(s.text("run"), "sleep 374.1\nsleep 374.2", "{}", s.context());
    assert_eq!(s.text("down"), "", "{}", s.context());
    assert_eq!(s.text("veth"), "", "{}", s.context());
    assert_eq!(s.text("netns"), "", "{}", s.context());
}

#[test]
fn rollback_stops_every_process_of_the_run_and_its_namespaces_go() {
    let more = r#"let c = n.start(["env", "-i", "sh", "-c", "setsid sleep 375.5 & exit 0"], #{ detach: true });"#;
    let script = left_behind(375, [DETACH, ""], more, "a, b, c", 5)
        + "print(\"built\");\nthrow \"stop here\";";
    let s = run_then(
        "rb",
        &script,
        r#"echo @@alive; for i in 1 2 3 4 5; do alive sleep 375.$i; done
echo @@veth; ip link show vh > /dev/null 2>&1 && echo still there
echo @@netns; ip netns list
"#,
    );
    assert_eq!(s.text("rc"), "1", "{}", s.context());
    assert!(s.text("out").contains("built"), "{}", s.context());
    assert_eq!(s.text("alive"), "", "left running\n{}", s.context());
    assert_eq!(s.text("veth"), "", "{}", s.context());
    assert_eq!(s.text("netns"), "", "{}", s.context());
}

#[test]
fn wait_gives_way_to_sigint_sigterm_and_sighup() {
    for sig in ["INT", "TERM", "HUP"] {
        let s = sh_ok(&format!(
            r#"{PROCS_SH}
bg netscript -e 'let p = netns("n").start(["sleep", "376.1"]); print("ready"); p.wait(); print("not reached")'
for i in $(seq 300); do grep -q ready $T/out && [ -n "$(alive sleep 376.1)" ] && break; sleep 0.02; done
interrupt {sig}
echo @@alive; alive sleep 376.1
echo @@netns; ip netns list
"#
        ))
        .sections();
        assert_eq!(s.text("rc"), "1", "SIG{sig}\n{}", s.context());
        assert_eq!(s.text("out"), "ready", "SIG{sig}\n{}", s.context());
        assert!(
            s.text("err").contains("interrupted by a signal"),
            "SIG{sig}\n{}",
            s.context()
        );
        assert_eq!(s.text("alive"), "", "SIG{sig}\n{}", s.context());
        assert_eq!(s.text("netns"), "", "SIG{sig}\n{}", s.context());
    }
}
