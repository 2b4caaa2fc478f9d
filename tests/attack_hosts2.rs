//! An attacker's pass over `--hosts` (hosts simulated as in tests/hosts.rs: each a
//! network namespace with its own mount namespace and sshd, inside one sandbox),
//! concurrency between labs, REPL signals, and impairment.

mod common;

use common::{q, sh, Run};

/// Three hosts a, b, c (10.99.0.1..3) reachable as `ssh a` etc. through `$T/ssh.conf`,
/// and `$T/hosts.toml` naming them. `remote_path`: what the remote sessions get on PATH
/// (the upload path when it has no netscript). Defines `holder H` (a process in host H's
/// mount and network namespaces), `state` (every host's namespaces, links and labs),
/// `start_sshd H`, `kill_sshd H`, and `N` (this netscript with --hosts).
fn hosts_env(remote_path: &str) -> String {
    let sshd = ["/usr/sbin/sshd", "/sbin/sshd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("these tests need sshd (openssh-server; tools/deps.sh installs it)");
    format!(
        r#"
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f $T/hostkey
ssh-keygen -q -t ed25519 -N '' -f $T/id
cp $T/id.pub $T/authorized_keys
ip link add ul type bridge; ip link set ul up; ip addr add 10.99.0.254/24 dev ul
: > $T/known_hosts; : > $T/ssh.conf
holder() {{ cat $T/$1/holder.pid; }}
start_sshd() {{ nsenter -t $(holder $1) -m -n {sshd} -f $T/$1/sshd_config -E $T/$1/log; }}
kill_sshd() {{
    for p in $(ip netns pids h-$1); do
        case "$(cat /proc/$p/comm 2>/dev/null)" in sshd*) kill -9 $p ;; esac
    done
}}
i=0
for h in a b c; do
    i=$((i+1))
    ip netns add h-$h
    ip link add ul-$h type veth peer name eth0 netns h-$h
    ip link set ul-$h master ul up
    ip -n h-$h addr add 10.99.0.$i/24 dev eth0
    ip -n h-$h link set eth0 up
    ip -n h-$h link set lo up
    # Like many real underlays (firewalls, clouds), this one drops IP fragments: the
    # overlay must fit the underlay's MTU, not count on fragmenting around it.
    ip netns exec h-$h nft -f - <<F
table netdev underlay {{
    chain frags {{ type filter hook ingress device eth0 priority 0; ip frag-off & 0x3fff != 0 counter drop; }}
}}
F
    mkdir -p $T/$h/cache $T/$h/tmp
    cat > $T/$h/sshd_config <<C
ListenAddress 10.99.0.$i
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PidFile $T/$h/sshd.pid
SetEnv PATH={remote_path} XDG_CACHE_HOME=$T/$h/cache TMPDIR=$T/$h/tmp
C
    # The host's own mount namespace, kept by a sleeper so sshd can be restarted in it.
    ip netns exec h-$h unshare --mount --propagation private sh -c \
        "mount -t tmpfs tmpfs /run/netns; mount -t tmpfs tmpfs /run/netscript; echo \$\$ > $T/$h/holder.pid; exec sleep 1000000" &
    while [ ! -s $T/$h/holder.pid ]; do sleep 0.05; done
    start_sshd $h
    echo "10.99.0.$i $(cut -d' ' -f1,2 $T/hostkey.pub)" >> $T/known_hosts
    printf 'Host %s\n HostName 10.99.0.%s\n User root\n' $h $i >> $T/ssh.conf
done
printf 'Host *\n IdentityFile %s/id\n UserKnownHostsFile %s/known_hosts\n LogLevel ERROR\n' $T $T >> $T/ssh.conf
cat > $T/hosts.toml <<H
ssh_config = "ssh.conf"
[hosts.a]
ssh = "a"
[hosts.b]
ssh = "b"
[hosts.c]
ssh = "c"
H
state() {{
    for h in a b c; do
        echo "host $h"
        nsenter -t $(holder $h) -m -n sh -c 'ip netns list; ip -br link | cut -d" " -f1 | sort; ls /run/netscript | grep -v -e "[.]lock\$" -e "[.]down\$"'
    done
}}
N() {{ netscript --hosts $T/hosts.toml "$@"; }}
# run KEY CMD...: section @@KEY with CMD's output (both streams) and its exit status.
run() {{ k=$1; shift; echo "@@$k"; "$@" 2>&1; echo "rc=$?"; }}
cd $T
set +e
# This side's temporary files (the SSH control sockets) where the test can see them.
mkdir -p $T/ltmp; export TMPDIR=$T/ltmp
# Whatever is left of a run: ssh processes of ours, remote netscripts, temporary files.
leftovers() {{
    ps -eo args | grep -e '^ssh ' -e '^ssh: ' -e '/cache/netscript/' | grep -v grep
    find $T/ltmp $T/a/tmp $T/b/tmp $T/c/tmp -mindepth 1
}}
"#
    )
}

/// The test's own PATH for the remote sessions: without this build's directory (the
/// upload path), or with it (the version-match path).
const PLAIN_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";

fn with_hosts(remote_path: &str, script: &str) -> Run {
    sh(&format!("{}\n{script}", hosts_env(remote_path)))
}

/// `script` on the hosts, between two pictures of every host (sections @@before and
/// @@after, for `assert_as_before`).
fn around(remote_path: &str, script: &str) -> Run {
    with_hosts(
        remote_path,
        &format!("echo @@before; state\n{script}\necho @@after; state\n"),
    )
}

/// `around`, with the netscript script `rhai` in `$T/FILE` for `shell` to run.
fn around_script(remote_path: &str, file: &str, rhai: &str, shell: &str) -> Run {
    around(
        remote_path,
        &format!("cat > {file} <<'S'\n{}\nS\n{shell}", rhai.trim()),
    )
}

/// Every host is as it was before the script (see `around`).
fn assert_as_before(r: &Run) {
    let s = r.sections();
    assert_eq!(s.get("before"), s.get("after"), "every host as before\n{r}");
}

/// The run's report says each of `hosts` was rolled back: taken down when its own run
/// had succeeded, or stopped while it ran.
fn assert_rolled_back(run: &str, hosts: &[&str], r: &Run) {
    for h in hosts {
        let taken = format!("host {h}: built, then taken down");
        let stopped = format!("host {h}: stopped; it rolled back what it had built");
        assert!(run.contains(&taken) || run.contains(&stopped), "{r}");
    }
}

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
