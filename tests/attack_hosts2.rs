//! An attacker's pass over `--hosts`, on the simulated machines of `common::hosts` (each
//! a network namespace with its own mount namespace and sshd, inside one sandbox): odd
//! host names, and signals while connecting and mid-run.

mod common;

use common::hosts::*;

/// Host names the file accepts (a dot, a dash, a `%`, 100 bytes) work as any other: the
/// control socket of a host's connection was named after the host, so a long name
/// overflowed a socket path ("too long for Unix domain socket") and a `%` was expanded by
/// ssh as a token ("percent_dollar_expand: failed"), both reported as "unreachable".
#[test]
fn odd_host_names_reach_their_hosts() {
    let long = "h".repeat(100);
    let r = around(
        PLAIN_PATH,
        &format!(
            r#"
echo 'let n = netns("odd"); print(`hi ${{HOST}}`);' > x.rhai
printf 'ssh_config = "ssh.conf"\n[hosts."a.b-c"]\nssh = "a"\n[hosts."{long}"]\nssh = "b"\n[hosts."p%%z"]\nssh = "c"\n' > odd.toml
run run netscript --hosts odd.toml x.rhai
run ls netscript --hosts odd.toml ls
run exec netscript --hosts odd.toml exec p%z:odd -- ip -br link show lo
run down netscript --hosts odd.toml down x
echo @@left; leftovers
"#
        ),
    );
    let s = r.sections();
    let run = s.get("run");
    assert!(run.ends_with("rc=0\n"), "{r}");
    for h in ["a.b-c", long.as_str(), "p%z"] {
        assert!(run.contains(&format!("[{h}] hi {h}\n")), "{r}");
        assert!(s.get("ls").contains(&format!("[{h}] x ")), "{r}");
        assert!(
            s.get("down").contains(&format!("[{h}] lab \"x\" is down")),
            "{r}"
        );
    }
    assert!(
        s.get("exec").contains("lo ") && s.get("exec").ends_with("rc=0\n"),
        "{r}"
    );
    assert!(s.get("left").trim().is_empty(), "{r}");
    assert_as_before(&r);
}

/// SIGTERM to netscript while it still connects (host d never answers): it said nothing,
/// exited 143, and left the other hosts' SSH master connections running (ControlPersist)
/// and their script directories behind. Now it stops as a run stopped before anything was
/// built: one line, nothing left here or there.
#[test]
fn sigterm_while_connecting_leaves_no_connection_or_directory() {
    let r = around(
        PLAIN_PATH,
        r#"
echo 'let n = netns(`n-${HOST}`);' > x.rhai
# d: an address nobody answers, so its connection hangs until ConnectTimeout.
printf 'Host d\n HostName 10.99.0.9\n' >> ssh.conf
cat hosts.toml > four.toml; printf '[hosts.d]\nssh = "d"\nunderlay = "10.99.0.4"\n' >> four.toml
netscript --hosts four.toml x.rhai > $T/out 2>&1 &
bg=$!
# a, b and c checked (their masters up, their script directories made), d still trying.
# (Not sooner: a session cut short may leave its login shell's start-up half done.)
for i in $(seq 600); do
    [ $(ps -eo args | grep -c '^ssh: .*\[mux\]') = 3 ] && [ $(ps -eo args | grep -c '^ssh .*ControlMaster=yes') = 1 ] \
        && [ -n "$(ls $T/a/tmp)" ] && [ -n "$(ls $T/b/tmp)" ] && [ -n "$(ls $T/c/tmp)" ] && break
    sleep 0.05
done
kill -TERM $bg
wait $bg; rc=$?; echo "@@run"; cat $T/out; echo "rc=$rc"
echo @@left; leftovers
"#,
    );
    let s = r.sections();
    let run = s.get("run");
    assert!(
        run.contains("nothing was done on any host") && run.ends_with("rc=1\n"),
        "{r}"
    );
    assert!(s.get("left").trim().is_empty(), "{r}");
    assert_as_before(&r);
}

/// SIGTERM to netscript mid-run does what Ctrl-C does: every host rolls back, and nothing
/// of the run is left running, here (ssh) or there (netscript).
#[test]
fn sigterm_mid_run_rolls_every_host_back_and_leaves_nothing_running() {
    let r = around(
        PLAIN_PATH,
        r#"
cat > slow.rhai <<'S'
let n = netns(`n-${HOST}`);
print("ready");
for i in 0..600 { sleep(100); }
S
netscript --hosts $T/hosts.toml slow.rhai > $T/out 2>&1 &
bg=$!
for h in a b c; do
    for i in $(seq 600); do grep -q "^\[$h\] ready" $T/out && break; sleep 0.05; done
done
kill -TERM $bg
wait $bg; rc=$?; echo "@@run"; cat $T/out; echo "rc=$rc"
echo @@left; leftovers
"#,
    );
    let s = r.sections();
    let run = s.get("run");
    assert!(
        run.contains("the run failed on an interrupt") && run.ends_with("rc=1\n"),
        "{r}"
    );
    assert_rolled_back(run, &["a", "b", "c"], &r);
    assert!(s.get("left").trim().is_empty(), "{r}");
    assert_as_before(&r);
}
