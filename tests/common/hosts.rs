//! Machines simulated for `--hosts` tests: each "host" is a network namespace (h-a, h-b,
//! h-c) with its own mount namespace (private /run/netns, /run/netscript, /sys, and no
//! shell start-up files), all joined by an underlay bridge, each running its own `sshd`
//! with the test's keys. Everything is inside one `sandbox_sh` sandbox: the sshds listen
//! only on its underlay, and die with it.

use super::{sh, Run};

/// Three hosts a, b, c (10.99.0.1..3) reachable as `ssh a` etc. through `$T/ssh.conf`,
/// and `$T/hosts.toml` naming them. `remote_path`: what the remote sessions get on PATH
/// (the upload path when it has no netscript). Defines `holder H` (a process in host H's
/// mount and network namespaces), `state` (every host's namespaces, links and labs),
/// `start_sshd H`, `kill_sshd H`, and `N` (this netscript with --hosts).
pub fn hosts_env(remote_path: &str) -> String {
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
# A remote machine has shell start-up files of its own, not this one's: sshd runs the
# command through the user's shell, which reads ~/.bashrc, and something there (a pyenv
# rehash, say) cut off by a test that kills a session could leave a lock that stalls every
# later login.
MASK_RC=""
for f in "$HOME/.bashrc" "$HOME/.profile" "$HOME/.bash_profile" "$HOME/.bash_login"; do
    if [ -f "$f" ]; then MASK_RC="$MASK_RC mount --bind /dev/null '$f';"; fi
done
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
        "mount -t tmpfs tmpfs /run/netns; mount -t tmpfs tmpfs /run/netscript; $MASK_RC echo \$\$ > $T/$h/holder.pid; exec sleep 1000000" &
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
pub const PLAIN_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";

pub fn with_hosts(remote_path: &str, script: &str) -> Run {
    sh(&format!("{}\n{script}", hosts_env(remote_path)))
}

/// `script` on the hosts, between two pictures of every host (sections @@before and
/// @@after, for `assert_as_before`).
pub fn around(remote_path: &str, script: &str) -> Run {
    with_hosts(
        remote_path,
        &format!("echo @@before; state\n{script}\necho @@after; state\n"),
    )
}

/// `around`, with the netscript script `rhai` in `$T/FILE` for `shell` to run.
pub fn around_script(remote_path: &str, file: &str, rhai: &str, shell: &str) -> Run {
    around(
        remote_path,
        &format!("cat > {file} <<'S'\n{}\nS\n{shell}", rhai.trim()),
    )
}

/// Every host is as it was before the script (see `around`).
pub fn assert_as_before(r: &Run) {
    let s = r.sections();
    assert_eq!(s.get("before"), s.get("after"), "every host as before\n{r}");
}

/// The run's report says each of `hosts` was rolled back: taken down when its own run
/// had succeeded, or stopped while it ran.
pub fn assert_rolled_back(run: &str, hosts: &[&str], r: &Run) {
    for h in hosts {
        let taken = format!("host {h}: built, then taken down");
        let stopped = format!("host {h}: stopped; it rolled back what it had built");
        assert!(run.contains(&taken) || run.contains(&stopped), "{r}");
    }
}
