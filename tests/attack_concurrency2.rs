//! An attacker's pass over two netscripts at once on overlapping labs (each case in one
//! private sandbox), and over signals sent to a REPL (driven in tmux). No timing
//! assertions: every wait polls for a marker with a generous deadline.

mod common;

use std::process::Command;

use common::tmux::*;
use common::{q, sh_ok, BIN};

/// Shell helpers for the sandbox: `wait_for FILE TEXT` polls until FILE holds TEXT.
const WAIT_FOR: &str = r#"
wait_for() { for i in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "timed out waiting for $2 in $1"; cat "$1"; exit 1; }
"#;

/// Lab A makes `shared` and `brx` and then waits (still building) until told to go on;
/// lab B, started meanwhile, asks for the same names.
#[test]
fn a_second_lab_asking_for_names_a_lab_being_built_holds_is_refused_at_its_line() {
    let s = sh_ok(&format!(
        r#"{WAIT_FOR}
cat > $T/a.rhai <<'R'
netns("a0");
netns("shared");
bridge("brx");
print("ready");
while !netns_exists("go") {{ sleep(20); }}
R
cat > $T/b.rhai <<'R'
netns("b0");
bridge("brx");
R
netscript --lab A $T/a.rhai > $T/a.out 2>&1 & pa=$!
wait_for $T/a.out ready
rc=0; netscript --lab B $T/b.rhai > $T/b.out 2>&1 || rc=$?
echo @@b; echo $rc; cat $T/b.out
echo @@during; ip netns list | cut -d' ' -f1 | sort; ip -o link show brx | wc -l
ip netns add go
rc=0; wait $pa || rc=$?; ip netns del go
echo @@a; echo $rc
echo @@after; ip netns list | cut -d' ' -f1 | sort; ip -o link show brx | wc -l
echo @@ls; netscript ls | tail -n +2 | cut -d' ' -f1
netscript down A > /dev/null
echo @@end; ip netns list; ip -o link | grep -v ': lo:' || true
"#
    ))
    .sections();
    let b = s.text("b");
    assert!(b.starts_with("1\n"), "B fails\n{}", s.context());
    assert!(
        b.contains("b.rhai:2:1: error: bridge(\"brx\"): link \"brx\" already exists"),
        "B is refused at its line\n{}",
        s.context()
    );
    assert!(
        b.contains("lab \"A\""),
        "the note names lab A\n{}",
        s.context()
    );
    // A is still being built: --replace (or down) would only be told A is in use.
    assert!(
        !b.contains("--replace") && b.contains("still running"),
        "the note says A's run is still going, not to --replace it\n{}",
        s.context()
    );
    assert_eq!(
        s.text("during"),
        "a0\nshared\n1",
        "B's a0 is rolled back, A untouched"
    );
    assert_eq!(s.text("a"), "0", "A finishes\n{}", s.context());
    assert_eq!(s.text("after"), "a0\nshared\n1");
    assert_eq!(s.text("ls"), "A", "only A is up");
    assert_eq!(s.text("end"), "", "nothing left");
}

/// Two `netscript down A` at once: both exit sanely (one tears it down; the other is told
/// it is in use or that it is already down), nothing is left, no object is said to be a
/// stranger's.
#[test]
fn two_downs_of_one_lab_at_once() {
    let s = sh_ok(
        r#"
cat > $T/a.rhai <<'R'
for i in 0..20 { let n = netns(`n${i}`); veth(`x${i}`, `h${i}`, #{ a_ns: n }); }
bridge("brx");
R
for round in 1 2 3 4 5; do
    netscript --lab A $T/a.rhai > /dev/null
    netscript down A > $T/d1 2>&1 & p1=$!
    netscript down A > $T/d2 2>&1 & p2=$!
    r1=0; wait $p1 || r1=$?; r2=0; wait $p2 || r2=$?
    echo "@@round$round"; echo "$r1 $r2"; cat $T/d1 $T/d2
    echo "@@left$round"; ip netns list; ip -o link | grep -v ': lo:' || true; ls /run/netscript | grep journal || true
done
"#,
    )
    .sections();
    for round in 1..=5 {
        let out = s.text(&format!("round{round}"));
        let codes = out.lines().next().unwrap_or_default();
        assert!(
            ["0 0", "0 1", "1 0"].contains(&codes),
            "round {round}: one down at least succeeds\n{}",
            s.context()
        );
        assert!(
            out.contains("lab \"A\" is down"),
            "round {round}: one of them tore it down\n{}",
            s.context()
        );
        for bad in [
            "not the one",
            "replaced",
            "left alone",
            "no lab named",
            "--lab",
        ] {
            assert!(
                !out.contains(bad),
                "round {round}: {bad:?} in\n{}",
                s.context()
            );
        }
        assert_eq!(s.text(&format!("left{round}")), "", "round {round}");
    }
}

/// `down` of one lab while another is being built, and `--replace` of a lab that is up
/// and of one whose run is still going.
#[test]
fn down_and_replace_while_another_run_goes_on() {
    let s = sh_ok(&format!(
        r#"{WAIT_FOR}
cat > $T/slow.rhai <<'R'
netns("s0");
print("ready");
while !netns_exists("go") {{ sleep(20); }}
netns("s1");
R
netscript --lab Z -e 'netns("z1"); ()'
netscript --lab S $T/slow.rhai > $T/s.out 2>&1 & ps=$!
wait_for $T/s.out ready
rc=0; netscript down Z > $T/z.out 2>&1 || rc=$?
echo @@downz; echo $rc; cat $T/z.out
rc=0; netscript --lab S --replace -e 'netns("r1"); ()' > $T/r.out 2>&1 || rc=$?
echo @@replace_held; echo $rc; cat $T/r.out
echo @@during; ip netns list | cut -d' ' -f1 | sort
ip netns add go
rc=0; wait $ps || rc=$?; ip netns del go
echo @@s; echo $rc
rc=0; netscript --lab S --replace -e 'netns("r1"); ()' > $T/r.out 2>&1 || rc=$?
echo @@replace_up; echo $rc
echo @@after; ip netns list | cut -d' ' -f1 | sort
netscript down S > /dev/null
echo @@end; ip netns list
"#
    ))
    .sections();
    assert!(s.text("downz").starts_with("0\n"), "{}", s.context());
    let held = s.text("replace_held");
    assert!(held.starts_with("1\n"), "{}", s.context());
    assert!(
        held.contains("lab \"S\" is in use"),
        "--replace of a lab whose run goes on is refused\n{}",
        s.context()
    );
    assert_eq!(s.text("during"), "s0", "z1 gone, S untouched, r1 not made");
    assert_eq!(s.text("s"), "0", "S finishes\n{}", s.context());
    assert_eq!(s.text("replace_up"), "0", "{}", s.context());
    assert_eq!(s.text("after"), "r1", "the replaced lab is gone");
    assert_eq!(s.text("end"), "");
}

/// The pane command: netscript's REPL, then what `stty -a` says of the terminal after it
/// (icanon and echo on, or `-icanon` / `-echo`), then netscript's status.
fn repl_then_stty(state: &StateDir) -> Repl {
    Repl::spawn(&format!(
        "XDG_STATE_HOME={} {} --sandbox; s=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/stty:/'; (exit $s)",
        q(&state.path.display().to_string()),
        q(BIN)
    ))
}

/// The pid the shell in the pane started (netscript's sandbox parent, which passes
/// signals on to the REPL).
fn netscript_pid(r: &Repl) -> String {
    let pane = r
        .tmux_ok(&["display-message", "-p", "-t", &r.session, "#{pane_pid}"])
        .trim()
        .to_string();
    let out = Command::new("pgrep")
        .args(["-P", &pane, "-x", "netscript"])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn kill(sig: &str, pid: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), pid])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

fn assert_sane_terminal(r: &Repl) {
    let pane = r.capture();
    let stty: Vec<&str> = pane
        .lines()
        .filter_map(|l| l.strip_prefix("stty:"))
        .collect();
    assert!(
        stty.contains(&"icanon") && stty.contains(&"echo"),
        "the terminal is left sane after the REPL: {stty:?}\n{pane}"
    );
}

/// SIGTERM while an input runs (a loop of pings) ends that input and the REPL, with 143,
/// and leaves the terminal sane.
#[test]
fn sigterm_during_a_running_input_ends_the_repl() {
    let state = StateDir::new();
    let r = repl_then_stty(&state);
    r.wait_for("the first prompt", |p| prompt_lines(p).len() == 1);
    r.type_text(
        r#"let n = netns("p"); n.up("lo"); print("pinging"); loop { n.ping("127.0.0.1"); }"#,
    );
    r.key("Enter");
    r.wait_for("the loop to run", |p| p.lines().any(|l| l == "pinging"));
    kill("TERM", &netscript_pid(&r));
    assert_eq!(r.wait_exit(), 143, "{}", r.capture());
    assert_sane_terminal(&r);
}

/// SIGTERM twice quickly, at the prompt: one end, status 143, a sane terminal.
#[test]
fn sigterm_twice_quickly_at_the_prompt() {
    let state = StateDir::new();
    let r = repl_then_stty(&state);
    r.wait_for("the first prompt", |p| prompt_lines(p).len() == 1);
    let pid = netscript_pid(&r);
    kill("TERM", &pid);
    // The second may find the process gone already: that is fine.
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    assert_eq!(r.wait_exit(), 143, "{}", r.capture());
    assert_sane_terminal(&r);
}

/// SIGTERM right after startup, before the prompt may be up: the REPL still ends with
/// 143, and the terminal is sane.
#[test]
fn sigterm_right_after_startup() {
    let state = StateDir::new();
    let r = repl_then_stty(&state);
    let pid = r.wait_for("netscript to start", |_| !netscript_pid(&r).is_empty());
    let _ = pid;
    kill("TERM", &netscript_pid(&r));
    assert_eq!(r.wait_exit(), 143, "{}", r.capture());
    assert_sane_terminal(&r);
}

/// Ctrl-C at the prompt, even twice, does not end the REPL; Ctrl-C during a running
/// input stops that input only. Ctrl-D then leaves with 0 and a sane terminal.
#[test]
fn ctrl_c_never_ends_the_repl() {
    let state = StateDir::new();
    let r = repl_then_stty(&state);
    r.wait_for("the first prompt", |p| prompt_lines(p).len() == 1);
    r.cancel_line();
    r.cancel_line();
    assert_eq!(r.eval("1 + 1"), "2");
    r.type_text(r#"print("spinning"); loop { sleep(10); }"#);
    r.key("Enter");
    r.wait_for("the loop to run", |p| p.lines().any(|l| l == "spinning"));
    let before = prompt_lines(&r.capture()).len();
    r.key("C-c");
    r.wait_for("the prompt after the interrupted input", |p| {
        prompt_lines(p).len() > before
    });
    assert!(!r.pane_dead(), "{}", r.capture());
    assert_eq!(r.eval("6 * 7"), "42");
    r.key("C-d");
    assert_eq!(r.wait_exit(), 0, "{}", r.capture());
    assert_sane_terminal(&r);
}

/// SIGTERM while an input waits on a long `exec` (a `sleep` that would last minutes) or
/// a ping with a long timeout: the REPL ends at once with 143, nothing waits it out.
#[test]
fn sigterm_during_a_long_exec_or_ping_ends_the_repl() {
    for input in [
        r#"let n = netns("e"); print("waiting"); n.exec("sleep 600")"#,
        r#"let n = netns("e"); n.up("lo"); print("waiting"); n.ping("10.9.9.9", #{ count: 1, timeout_ms: 600000 })"#,
        r#"let n = netns("e"); let p = n.start("sleep 600"); print("waiting"); p.wait()"#,
    ] {
        let state = StateDir::new();
        let r = repl_then_stty(&state);
        r.wait_for("the first prompt", |p| prompt_lines(p).len() == 1);
        r.type_text(input);
        r.key("Enter");
        r.wait_for("the input to run", |p| p.lines().any(|l| l == "waiting"));
        kill("TERM", &netscript_pid(&r));
        assert_eq!(r.wait_exit(), 143, "{input}\n{}", r.capture());
        assert_sane_terminal(&r);
    }
}

/// A REPL reading its input from a pipe (no terminal): SIGTERM while it waits for the
/// next line ends it with 143, its lab left up for `down`; SIGTERM during an input ends
/// that input and the REPL the same way. (It used to wait forever: a read from a pipe
/// is retried after the signal, so nothing ended the wait.)
#[test]
fn sigterm_ends_a_repl_that_reads_a_pipe() {
    let s = sh_ok(&format!(
        r#"{WAIT_FOR}
mkfifo $T/in
# stop PID: SIGTERM, then its status once it ends (or `hung` after a minute).
stop() {{
    kill -TERM $1
    for i in $(seq 1200); do kill -0 $1 2>/dev/null || break; sleep 0.05; done
    if kill -0 $1 2>/dev/null; then kill -KILL $1; echo hung; fi
    rc=0; wait $1 || rc=$?; echo $rc
}}
n=0
for input in 'print("built")' 'print("built"); loop {{ sleep(10); }}'; do
    n=$((n+1))
    netscript --lab R < $T/in > $T/r.out 2>&1 & pr=$!
    exec 3>$T/in
    echo "netns(\"r1\"); $input" >&3
    wait_for $T/r.out built
    echo @@stop$n; stop $pr; cat $T/r.out
    exec 3>&-
    echo @@ls$n; netscript ls | tail -n +2 | cut -d' ' -f1; ip netns list
    netscript down R > /dev/null
done
"#
    ))
    .sections();
    for n in 1..=2 {
        let stop = s.text(&format!("stop{n}"));
        assert!(
            stop.starts_with("143\n") && stop.contains("netscript: SIGTERM: the REPL ends"),
            "input {n}\n{}",
            s.context()
        );
        assert_eq!(
            s.text(&format!("ls{n}")),
            "R\nr1",
            "the REPL's lab stays up for down"
        );
    }
}
