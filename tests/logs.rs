//! Processes you can see: what a started process prints is kept (the last 1 MiB of each
//! stream) in the lab's folder, readable as `p.output()` and `netscript logs [--follow]`;
//! `ns.processes()` and `netscript ps` list a lab's processes; a process that fails at
//! once is a warning at the next probe; the output goes when the lab goes.
//!
//! Nothing here waits a fixed time for something to happen: scripts poll (with a generous
//! bound) for what they wait for, and the shell waits for files.

mod common;

use common::*;

/// A TCP server in python: says where it listens (stdout), and who connected (stderr).
const SERVER: &str = "import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 8081))
s.listen()
print('listening on 127.0.0.1:8081', flush=True)
while True:
    c, a = s.accept()
    print('client from', a[0], file=sys.stderr, flush=True)
    c.close()
";

#[test]
fn output_of_a_python_and_a_sh_server_after_they_print() {
    let script = TempScript::new(
        "servers",
        &format!(
            r#"
let red = netns("red");
let py = red.start(["python3", "-c", {server}]);
let sh = red.start("echo sh says hi; echo and warns >&2; exec sleep 60");
// Until the server answers (it prints before it accepts).
let up = false;
for i in 0..400 {{ if red.connect("127.0.0.1:8081") {{ up = true; break; }} sleep(50); }}
assert(up, "the python server never came up");
let o = #{{}};
for i in 0..400 {{ o = py.output(); if o.stderr.contains("client from") {{ break; }} sleep(50); }}
print("@@py.stdout"); print(o.stdout);
print("@@py.stderr"); print(o.stderr);
let o = #{{}};
for i in 0..400 {{ o = sh.output(); if o.stderr != "" {{ break; }} sleep(50); }}
print("@@sh.stdout"); print(o.stdout);
print("@@sh.stderr"); print(o.stderr);
print("@@type"); print(type_of(o.stdout));
// python3 -m http.server prints to stdout, block-buffered into a file unless told not
// to: netscript tells it (PYTHONUNBUFFERED=1).
let web = red.start("python3 -m http.server 8000 --bind 127.0.0.1");
let o = #{{}};
for i in 0..400 {{ o = web.output(); if o.stdout.contains("Serving HTTP") {{ break; }} sleep(50); }}
print("@@web.stdout"); print(o.stdout);
let r = red.http_get("http://127.0.0.1:8000/");
for i in 0..400 {{ o = web.output(); if o.stderr.contains("GET /") {{ break; }} sleep(50); }}
print("@@web.stderr"); print(o.stderr);
"#,
            server = serde_json::to_string(SERVER).unwrap()
        ),
    );
    let run = sandboxed(&[script.path()]).success();
    let s = run.sections();
    assert_eq!(
        s.get("py.stdout").trim(),
        "listening on 127.0.0.1:8081",
        "{run}"
    );
    assert!(
        s.get("py.stderr").contains("client from 127.0.0.1"),
        "{run}"
    );
    assert_eq!(s.get("sh.stdout").trim(), "sh says hi", "{run}");
    assert_eq!(s.get("sh.stderr").trim(), "and warns", "{run}");
    assert_eq!(s.get("type").trim(), "string", "{run}");
    assert!(
        s.get("web.stdout")
            .starts_with("Serving HTTP on 127.0.0.1 port 8000"),
        "{run}"
    );
    assert!(
        s.get("web.stderr").contains(r#""GET / HTTP/1.1" 200"#),
        "{run}"
    );
}

#[test]
fn a_process_that_fails_at_once_is_a_warning_at_the_next_probe_once() {
    // stdout and stderr in one stream: the warning comes at the probe, before what the
    // script prints after it.
    let run = sh_ok(
        r#"
cat > $T/w.rhai <<'EOF'
let red = netns("red");
red.start("sh -c 'echo cannot bind >&2; exit 1'");
// Until it has ended (asking does not count as the script seeing its failure).
for i in 0..400 { if !red.processes()[0].running { break; } sleep(25); }
print("before the probe");
red.ping("127.0.0.1");
print("after the probe");
red.ping("127.0.0.1");
print("at the end");
EOF
netscript $T/w.rhai 2>&1; echo "rc=$?"
"#,
    );
    let warning =
        r#"warning: red.start("sh -c 'echo cannot bind >&2; exit 1'") exited with 1: cannot bind"#;
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "before the probe",
            warning,
            "after the probe",
            "at the end",
            "rc=0"
        ],
        "{run}"
    );
}

#[test]
fn a_failure_seen_by_wait_is_not_warned_about_and_the_end_of_the_run_reports_one() {
    // wait() told the script: no warning for it. The other one ends with the run.
    let run = eval(
        r#"
let red = netns("red");
let p = red.start("exit 4");
let code = p.wait();
red.start("echo gone >&2; exit 2");
for i in 0..400 { if !red.processes()[1].running { break; } sleep(25); }
code
"#,
    )
    .success();
    assert_eq!(run.stdout.trim(), "4", "{run}");
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(
        warnings,
        [r#"warning: red.start("echo gone >&2; exit 2") exited with 2: gone"#],
        "{run}"
    );
}

#[test]
fn a_process_that_prints_more_than_a_mib_keeps_only_the_last_mib() {
    // 400000 lines of 8 bytes (3.2 MB), then END.
    let run = sandboxed(&[
        "--lab",
        "big",
        "-e",
        r#"
let red = netns("red");
let p = red.start(["python3", "-c", "import sys\nw = sys.stdout.write\nfor i in range(400000): w('%07d\\n' % i)\nw('END\\n')"]);
p.wait();
let o = p.output();
let du = exec(["du", "-k", `/run/netscript/big.output/${p.pid}.stdout`]).stdout;
#{ len: o.stdout.len(), tail: o.stdout.sub_string(o.stdout.len() - 20), head: o.stdout.sub_string(0, 16),
   kb: parse_int(du.split()[0]) }
"#,
        "--json",
    ])
    .success();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json");
    assert_eq!(v["len"], 1 << 20, "{run}");
    assert_eq!(v["tail"], "0399998\n0399999\nEND\n", "{run}");
    // 3200004 bytes written; the last 1048576 begin at 2151428 = 8 * 268928 + 4: four
    // bytes into line 268928.
    assert_eq!(v["head"], "928\n0268929\n0268", "{run}");
    // What the file holds (not its length, which counts all that was written) is bounded.
    let kb = v["kb"].as_i64().unwrap();
    assert!(kb <= 2 * 1024, "the file holds {kb} KiB\n{run}");
}

/// A lab `l` with one detached process in `red` that prints `tick 0`, waits for the file
/// $T/go, prints `tick 1` and `done` (stderr), and exits. `$PID` is its pid.
const TICKER: &str = r#"
cat > $T/l.rhai <<'EOF'
let red = netns("red");
let p = red.start("echo tick 0; while [ ! -e /run/netscript-test/go ]; do sleep 0.05; done; echo tick 1; echo done >&2", #{ detach: true });
print(p.pid);
EOF
PID=$(netscript $T/l.rhai)
echo $PID
"#;

#[test]
fn logs_follow_prints_what_comes_until_the_process_exits() {
    let run = sh_ok(&format!(
        r#"{TICKER}
timeout 60 netscript logs --lab l --follow $PID > $T/out 2> $T/err &
F=$!
# Until follow has printed what was there, then let the process go on.
i=0; until grep -q 'tick 0' $T/out; do i=$((i+1)); [ $i -lt 600 ] || exit 7; sleep 0.05; done
touch $T/go
wait $F; echo "@@rc"; echo $?
echo "@@out"; cat $T/out
echo "@@err"; cat $T/err
echo "@@again"; netscript logs $PID 2>&1
echo "@@all"; netscript logs --lab l
"#
    ));
    let s = run.sections();
    assert_eq!(
        s.get("rc").trim(),
        "0",
        "follow must end with the process\n{run}"
    );
    assert_eq!(s.get("out"), "tick 0\ntick 1\n", "{run}");
    assert_eq!(s.get("err"), "done\n", "{run}");
    assert_eq!(s.lines("again"), ["done", "tick 0", "tick 1"], "{run}");
    let pid = s.get("").trim().to_string();
    assert_eq!(
        s.get("all"),
        format!("[red:{pid}] tick 0\n[red:{pid}] tick 1\n"),
        "{run}"
    );
}

#[test]
fn logs_says_what_is_wrong() {
    let run = sh_ok(&format!(
        r#"{TICKER}
echo "@@nolab"; netscript logs --lab nope 2>&1 || echo "rc=$?"
echo "@@nopid"; netscript logs --lab l 999999 2>&1 || echo "rc=$?"
echo "@@badname"; netscript logs --lab ../x 2>&1 || echo "rc=$?"
"#
    ));
    let s = run.sections();
    assert!(
        s.get("nolab").contains("there is no lab named \"nope\"")
            && s.get("nolab").contains("rc=1"),
        "{run}"
    );
    assert!(
        s.get("nopid")
            .contains("lab \"l\" started no process 999999 (see netscript ps l)"),
        "{run}"
    );
    assert!(s.get("badname").contains("rc=2"), "{run}");
}

#[test]
fn ps_and_processes_list_the_labs_processes_and_down_removes_their_output() {
    let run = sh_ok(
        r#"
cat > $T/p.rhai <<'EOF'
let red = netns("red");
let blue = netns("blue");
red.start(["sleep", "3600"], #{ detach: true });
let q = blue.start("echo bye; exit 3");
q.wait();
print("@@red"); print(red.processes());
print("@@blue"); let b = blue.processes()[0]; print([b.command, b.running, b.exit, b.ns]);
EOF
netscript $T/p.rhai
echo "@@ps"; netscript ps p
echo "@@json"; netscript ps --json
echo "@@files"; ls /run/netscript/p.output
netscript down p > /dev/null
echo "@@after"; ls /run/netscript; netscript ps p 2>&1 || echo "rc=$?"
"#,
    );
    let s = run.sections();
    let red = s.get("red");
    assert!(
        red.contains(r#""command": "sleep 3600""#)
            && red.contains(r#""running": true"#)
            && red.contains(r#""exit": ()"#)
            && red.contains(r#""ns": "red""#)
            && !red.contains("bye"),
        "{run}"
    );
    assert_eq!(
        s.get("blue").trim(),
        r#"["echo bye; exit 3", false, 3, "blue"]"#,
        "{run}"
    );
    let ps: Vec<Vec<String>> = s
        .get("ps")
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(ps[0], ["PID", "NS", "STATE", "COMMAND"], "{run}");
    assert_eq!(ps[1][1..], ["red", "running", "sleep", "3600"], "{run}");
    assert_eq!(ps[2][1..4], ["blue", "exited", "3"], "{run}");
    let json: serde_json::Value = serde_json::from_str(s.get("json")).expect("ps --json");
    let procs = json.as_array().unwrap();
    assert_eq!(procs.len(), 2, "{run}");
    assert_eq!(procs[0]["lab"], "p");
    assert_eq!(procs[0]["running"], true);
    assert_eq!(procs[0]["exit"], serde_json::Value::Null);
    assert_eq!(procs[1]["exit"], 3);
    assert_eq!(procs[1]["command"], "echo bye; exit 3");
    assert_eq!(
        s.lines("files").len(),
        5,
        "two streams each and blue's exit\n{run}"
    );
    let after = s.get("after");
    assert!(!after.contains("p.output"), "{run}");
    assert!(after.contains("rc=1"), "{run}");
}

#[test]
fn a_rolled_back_run_and_rm_leave_no_output_behind() {
    let run = sh_ok(
        r#"
cat > $T/r.rhai <<'EOF'
let red = netns("red");
red.start("echo x", #{ detach: true });
red.start("echo y");
print(exec(["ls", "/run/netscript/r.output"]).stdout);
throw "no";
EOF
echo "@@during"; netscript $T/r.rhai 2>/dev/null || true
cat > $T/k.rhai <<'EOF'
netns("red").start("echo x", #{ detach: true });
EOF
netscript --rm $T/k.rhai
echo "@@left"; ls -A /run/netscript | grep output || true
"#,
    );
    let s = run.sections();
    // Both processes had their files while the run lasted.
    assert_eq!(s.lines("during").len(), 4, "{run}");
    assert_eq!(s.get("left").trim(), "", "{run}");
}

#[test]
fn the_keeper_bounds_the_file_of_a_detached_process_that_runs_on_after_its_run() {
    // Nothing reads the output here: what frees the file's head is the keeper netscript
    // started with the process, which outlives the run as the process does.
    let run = sh_ok(
        r#"
cat > $T/k.rhai <<'EOF'
let p = netns("red").start(["python3", "-c", "import sys, time\nfor i in range(625000): sys.stdout.write('%07d\\n' % i)\nsys.stdout.flush()\ntime.sleep(3600)"], #{ detach: true });
print(p.pid);
EOF
PID=$(netscript $T/k.rhai)
echo "@@pid"; echo $PID
F=/run/netscript/k.output/$PID.stdout
i=0; until [ "$(stat -c %s $F)" -ge 5000000 ]; do i=$((i+1)); [ $i -lt 2400 ] || exit 7; sleep 0.05; done
# A deadline, not a timing: under a loaded suite the machine can be slow for a while.
# Past it, say whether the keeper still runs (a dead keeper is the failure to find).
i=0; until [ "$(du -k $F | cut -f1)" -le 2048 ]; do i=$((i+1)); [ $i -lt 2400 ] || { echo "du $(du -k $F)"; ps -eo pid,ppid,stat,args; exit 8; }; sleep 0.05; done
echo "@@state"; netscript ps k | tail -1
# The keeper is in the process's group: what makes it the process's, whatever /proc shows
# of its environment in the instant after its exec (the end of the run may look then).
echo "@@group"; ps -eo pgid=,args= | grep '[_]_keep-output' | awk '{print $1}'
echo "@@bytes"; netscript logs --lab k $PID | wc -c
echo "@@tail"; netscript logs --lab k $PID | tail -1
"#,
    );
    let s = run.sections();
    assert!(s.get("state").contains(" running "), "{run}");
    assert_eq!(s.lines("group"), [s.get("pid").trim()], "{run}");
    assert_eq!(s.get("bytes").trim(), (1 << 20).to_string(), "{run}");
    assert_eq!(s.get("tail").trim(), "0624999", "{run}");
}
