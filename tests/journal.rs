//! Issue 4: nothing left behind. Fault injection at every op of build-lab, SIGKILL then
//! `down`, `down` / `ls` / `--rm` / `--keep-on-error` / `teardown()`, detached processes,
//! SIGTERM / SIGINT, objects netscript did not create, concurrent labs, the lab lock, and
//! cleanup.rhai followed by build-lab again. All of it inside private namespaces
//! (`support::sh`), where `snap` captures the state compared before and after.

mod support;

use serde_json::Value;
use support::{netns_names, nft_empty, q, script, sh_ok};

/// Run build-lab.rhai N (retried once: the lab under test is what comes after it).
fn build_lab(n: u32) -> String {
    format!(
        "netscript {s} {n} >/dev/null 2>$T/bl.err || {{ cat $T/bl.err >&2; netscript {s} {n} >/dev/null; }}",
        s = q(&script("build-lab"))
    )
}

/// Fault injection at every op of a script: its op count from one successful run, then
/// for each k a run with NETSCRIPT_FAIL_AT=k must exit 1 and leave `snap` as it was.
/// Prints @@count, @@downclean, @@bad (the k that differ) and @@details.
///
/// No lab is up between the runs, so /run/netscript/.state/sysctl-claims.json must hold no
/// claims then; the k after which it does are printed as @@leaks.
fn fault_injection(script_name: &str, args: &str) -> support::Sections {
    let lab = script_name;
    sh_ok(&format!(
        r#"
snap > $T/pristine
netscript {s} {args} >/dev/null 2>$T/first.err || {{ cat $T/first.err >&2; netscript {s} {args} >/dev/null; }}
count=$(grep -c '"op"' /run/netscript/{lab}.journal)
netscript down {lab} >/dev/null
rm -f /run/netscript/{lab}.down
snap > $T/before
echo @@count; echo $count
echo @@downclean; cmp -s $T/pristine $T/before && echo yes || diff $T/pristine $T/before || true
bad=""; leaks=""
claims=/run/netscript/.state/sysctl-claims.json
k=1
while [ $k -le $count ]; do
    if [ -s $claims ] && [ "$(cat $claims)" != "{{}}" ]; then
        leaks="$leaks $((k-1))"; echo "=== claims left after k=$((k-1)): $(cat $claims)" >> $T/details
    fi
    rc=0; NETSCRIPT_FAIL_AT=$k netscript {s} {args} >$T/out 2>$T/err || rc=$?
    snap > $T/after
    if [ $rc -ne 1 ] || ! grep -q "injected fault at op $k " $T/err || ! cmp -s $T/before $T/after; then
        bad="$bad $k"
        {{ echo "=== k=$k exit $rc"; cat $T/err; diff $T/before $T/after || true; }} >> $T/details
    fi
    k=$((k+1))
done
echo @@bad; echo $bad
echo @@leaks; echo $leaks
echo @@details; cat $T/details 2>/dev/null || true
"#,
        s = q(&script(script_name)),
    ))
    .sections()
}

#[test]
fn fault_injection_at_every_step_of_build_lab() {
    let s = fault_injection("build-lab", "2");
    let count: usize = s.text("count").parse().unwrap();
    assert!(
        count >= 19,
        "build-lab with 2 containers applies at least 19 ops, counted {count}"
    );
    assert_eq!(
        s.text("downclean"),
        "yes",
        "down after the counting run restores the pristine state"
    );
    assert_eq!(
        s.text("bad"),
        "",
        "every k in 1..={count} must exit 1 and leave the state as before; these did not:\n{}",
        s.text("details")
    );
    assert_eq!(
        s.text("leaks"),
        "",
        "sysctl claims leaked after these k:\n{}",
        s.text("details")
    );
}

/// The same for a script with NAT, DNAT, processes and host-side veths.
#[test]
fn fault_injection_at_every_step_of_docker_port() {
    let s = fault_injection("docker-port", "");
    let count: usize = s.text("count").parse().unwrap();
    assert!(
        count >= 15,
        "docker-port applies at least 15 ops, counted {count}"
    );
    assert_eq!(s.text("downclean"), "yes");
    assert_eq!(
        s.text("bad"),
        "",
        "k that left something behind:\n{}",
        s.text("details")
    );
}

/// SIGKILL `build-lab.rhai 50` at a random point, then `netscript down build-lab`, until
/// three kills have landed mid-build (at most 20 tries). The delay is random in 10-300 ms,
/// capped at how long a full run takes here so that it lands during the build.
/// (A kill between naming a namespace and mounting it used to make `down` fail for good:
/// see `down_after_a_kill_between_naming_and_mounting_a_namespace`.)
#[test]
fn sigkill_during_a_large_lab_then_down_is_clean() {
    let s = sh_ok(&format!(
        r#"
S={s}
snap > $T/pristine
t0=$(date +%s%N)
netscript $S 50 >/dev/null
t1=$(date +%s%N)
full=$(wc -l < /run/netscript/build-lab.journal)
netscript down build-lab >/dev/null
max=$(( (t1 - t0) / 1000000 )); [ $max -le 300 ] || max=300; [ $max -ge 11 ] || max=11
mid=0; n=0
while [ $mid -lt 3 ] && [ $n -lt 20 ]; do
    n=$((n+1))
    ms=$(shuf -i 10-$max -n 1)
    netscript $S 50 >/dev/null 2>&1 &
    pid=$!
    sleep $(printf '0.%03d' $ms)
    kill -9 $pid 2>/dev/null || true
    rc=0; wait $pid || rc=$?
    if [ -e /run/netscript/build-lab.journal ]; then
        lines=$(wc -l < /run/netscript/build-lab.journal)
        drc=0; netscript down build-lab >$T/down 2>&1 || drc=$?
    else
        lines=0; drc=none; : > $T/down
    fi
    snap > $T/after
    same=yes; cmp -s $T/pristine $T/after || same=no
    if [ $rc -eq 137 ] && [ $lines -lt $full ]; then mid=$((mid+1)); fi
    echo "attempt $n: kill after ${{ms}}ms exit=$rc journal=$lines/$full down=$drc clean=$same" >> $T/log
    if [ $same = no ] || [ $drc != 0 -a $drc != none ]; then cat $T/down >> $T/log; diff $T/pristine $T/after >> $T/log || true; fi
done
echo @@mid; echo $mid
echo @@log; cat $T/log
echo @@state; ip netns list; ip -o link | grep -v ' lo:' || true; nft list ruleset; sysctl -n net.ipv4.ip_forward
"#,
        s = q(&script("build-lab")),
    ))
    .sections();
    let log = s.text("log").to_string();
    eprintln!("{log}");
    for line in log.lines().filter(|l| l.starts_with("attempt")) {
        assert!(line.ends_with("clean=yes"), "not clean after down:\n{log}");
        assert!(
            line.contains("down=0") || line.contains("down=none"),
            "down failed:\n{log}"
        );
    }
    let mid: u32 = s.text("mid").parse().unwrap();
    assert!(mid >= 1, "no kill landed during the build:\n{log}");
    assert_eq!(
        s.text("state"),
        "0",
        "no namespaces, only lo, no nft table, ip_forward 0\n{log}"
    );
}

/// Was a bug (fixed in 8aff04b): a SIGKILL between creating /run/netns/NAME and mounting
/// the namespace on it left a plain file, and `down` failed on it for good with
/// `namespace "c2": Invalid argument (os error 22)`.
#[test]
fn down_after_a_kill_between_naming_and_mounting_a_namespace() {
    // The state such a kill leaves: the journal says netns_add c2, /run/netns/c2 is a plain
    // file with nothing mounted on it (made here by unmounting it by hand).
    let s = sh_ok(
        r#"
netscript --lab k -e 'netns("c1"); netns("c2"); ()'
umount /run/netns/c2
rc=0; netscript down k >$T/o 2>&1 || rc=$?
echo @@rc; echo $rc
echo @@out; cat $T/o
echo @@netns; ip netns list 2>/dev/null
"#,
    )
    .sections();
    assert_eq!(s.text("rc"), "0", "{}", s.context());
    assert_eq!(s.text("netns"), "", "{}", s.context());
}

#[test]
fn down_twice_down_of_unknown_lab_and_objects_already_gone() {
    let s = sh_ok(
        r#"
snap > $T/pristine
netscript --lab twice -e 'netns("t1"); bridge("br-t", "10.3.0.1/24"); forward(true); masquerade("10.3.0.0/24"); ()'
echo @@d1; netscript down twice; echo "rc=$?"
echo @@d2; netscript down twice; echo "rc=$?"
rc=0; netscript down nosuch >$T/o 2>$T/e || rc=$?
echo @@d3; echo rc=$rc; echo @@d3out; cat $T/o; echo @@d3err; cat $T/e
snap > $T/after
echo @@clean; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
# A lab whose objects someone already removed by hand.
netscript --lab gone -e 'netns("g1"); bridge("br-g"); forward(true); masquerade("10.4.0.0/24"); ()'
ip netns del g1; ip link del br-g; nft delete table inet netscript
rc=0; netscript down gone >$T/o 2>&1 || rc=$?
echo @@gone; echo rc=$rc; cat $T/o
snap > $T/after
echo @@goneclean; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
"#,
    )
    .sections();
    assert!(
        s.text("d1").starts_with(r#"lab "twice" is down"#) && s.text("d1").ends_with("rc=0"),
        "{}",
        s.context()
    );
    assert_eq!(s.text("d2"), "lab \"twice\" is already down\nrc=0");
    assert_eq!(s.text("d3"), "rc=1");
    assert_eq!(s.text("d3out"), "");
    let err = s.text("d3err");
    assert!(
        err.contains(r#"no lab named "nosuch""#) && err.lines().count() == 1,
        "one clear line: {err}"
    );
    assert_eq!(s.text("clean"), "yes");
    // Objects already gone are fine (exit 0), and each is reported.
    let gone = s.text("gone");
    assert!(
        gone.starts_with("rc=0\n") && gone.contains("lab \"gone\" is down"),
        "objects already gone are fine\n{}",
        s.context()
    );
    assert!(
        gone.contains("namespace \"g1\" was already gone")
            && gone.contains("link \"br-g\" was already gone"),
        "what vanished is reported\n{}",
        s.context()
    );
    assert_eq!(s.text("goneclean"), "yes");
}

#[test]
fn ls_lists_labs_with_counts_and_json() {
    let s = sh_ok(&format!(
        r#"
echo @@empty; netscript ls
echo @@emptyjson; netscript ls --json
{build}
netscript --lab procs -e 'netns("p1"); netns("p2"); veth("vp1", "vp2", #{{ a_ns: "p1", b_ns: "p2" }}); netns_open("p1").start(["sleep", "60"], #{{ detach: true }}); ()'
echo @@text; netscript ls
echo @@json; netscript ls --json
netscript down procs >/dev/null; netscript down build-lab >/dev/null
echo @@after; netscript ls
echo @@afterjson; netscript ls --json
"#,
        build = build_lab(2)
    ))
    .sections();
    assert_eq!(s.text("empty"), "no labs are up");
    assert_eq!(s.text("emptyjson"), "[]");
    let text = s.text("text");
    let row = |name: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header.join(" "),
        "LAB NAMESPACES LINKS RULES PROCESSES AGE",
        "{text}"
    );
    assert_eq!(&row("build-lab")[1..5], ["2", "3", "1", "0"], "{text}");
    assert_eq!(&row("procs")[1..5], ["2", "1", "0", "1"], "{text}");
    let json = s.json("json");
    let labs = json.as_array().unwrap();
    assert_eq!(labs.len(), 2, "{json}");
    let bl = labs.iter().find(|l| l["lab"] == "build-lab").unwrap();
    assert_eq!(
        (
            bl["namespaces"].as_u64(),
            bl["links"].as_u64(),
            bl["rules"].as_u64(),
            bl["processes"].as_u64()
        ),
        (Some(2), Some(3), Some(1), Some(0)),
        "{json}"
    );
    assert!(bl["age_secs"].is_u64(), "{json}");
    let p = labs.iter().find(|l| l["lab"] == "procs").unwrap();
    assert_eq!(
        (
            p["namespaces"].as_u64(),
            p["links"].as_u64(),
            p["processes"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{json}"
    );
    assert_eq!(s.text("after"), "no labs are up");
    assert_eq!(s.text("afterjson"), "[]");
}

/// Was a bug (fixed in 8aff04b): processes that were not detached, already stopped when
/// their run ended, were counted too.
#[test]
fn ls_counts_only_the_processes_that_belong_to_the_lab() {
    let s = sh_ok(
        r#"
netscript --lab det -e 'let n = netns("d1"); n.start(["sleep", "60"], #{ detach: true }); n.start(["sleep", "61"]); ()'
echo @@json; netscript ls --json
netscript down det >/dev/null
"#,
    )
    .sections();
    let json = s.json("json");
    assert_eq!(
        json[0]["processes"], 1,
        "only the detached process belongs to the lab: {json}"
    );
}

#[test]
fn rm_leaves_nothing() {
    let s = sh_ok(&format!(
        r#"
snap > $T/pristine
netscript --rm {s} 3 > $T/o
echo @@out; cat $T/o
snap > $T/after
echo @@clean; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
echo @@ls; netscript ls
echo @@down; netscript down build-lab
netscript --rm --lab rmp -e 'let p = netns("p").start(["sleep", "60"], #{{ detach: true }}); print(p.pid)' > $T/pid
PIDS="$PIDS $(cat $T/pid)"
echo @@proc; alive $(cat $T/pid) && echo running || echo stopped
snap > $T/after
echo @@clean2; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
"#,
        s = q(&script("build-lab"))
    ))
    .sections();
    assert!(
        s.text("out").contains("with 3 containers"),
        "{}",
        s.context()
    );
    s.expect(&[
        // --rm tears the lab down on success...
        ("clean", "yes"),
        ("ls", "no labs are up"),
        ("down", "lab \"build-lab\" is already down"),
        // ...and stops detached processes too.
        ("proc", "stopped"),
        ("clean2", "yes"),
    ]);
}

#[test]
fn keep_on_error_keeps_the_lab_and_down_removes_it() {
    let s = sh_ok(
        r#"
snap > $T/pristine
cat > $T/halfway.rhai <<'EOF'
import "lab" as lab;
let cs = lab::bridge_network("br0", "10.100.0.1/24", 2);
assert(false, "stop halfway");
EOF
rc=0; netscript --keep-on-error $T/halfway.rhai >$T/o 2>$T/e || rc=$?
echo @@rc; echo $rc
echo @@err; cat $T/e
echo @@netns; ip netns list
echo @@links; ip -o link | cut -d: -f2 | cut -d@ -f1 | sort
echo @@nft; nft -j list ruleset
echo @@ls; netscript ls --json
echo @@down; netscript down halfway
snap > $T/after
echo @@clean; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
"#,
    )
    .sections();
    assert_eq!(s.text("rc"), "1");
    let err = s.text("err");
    assert!(err.contains("assertion failed: stop halfway"), "{err}");
    assert!(
        err.contains("netscript down halfway"),
        "says how to remove it: {err}"
    );
    assert_eq!(netns_names(s.text("netns")), ["c1", "c2"], "kept");
    assert_eq!(s.lines("links"), ["br0", "lo", "veth-c1-br", "veth-c2-br"]);
    assert!(
        !nft_empty(&s.json("nft")),
        "the masquerade rule is kept too"
    );
    assert_eq!(s.json("ls")[0]["lab"], "halfway");
    assert!(
        s.text("down").starts_with("lab \"halfway\" is down"),
        "{}",
        s.context()
    );
    assert_eq!(s.text("clean"), "yes");
}

#[test]
fn teardown_inside_a_script_undoes_this_run_so_far() {
    let s = sh_ok(
        r#"
snap > $T/pristine
netscript --lab td -e '
let t = netns("t1");
bridge("br-t", "10.5.0.1/24");
veth("vt", "vt-peer", #{ b_ns: t }).a.master("br-t");
forward(true);
masquerade("10.5.0.0/24");
let p = t.start(["sleep", "60"], #{ detach: true });
teardown();
print(`after teardown: ${netns_list()} ${host().links().len()} ${rules() == ""} ${host().sysctl("net.ipv4.ip_forward")} ${p.running()}`);
netns("t2");
()' > $T/o
echo @@out; cat $T/o
echo @@netns; ip netns list
echo @@links; ip -o link | cut -d: -f2 | cut -d@ -f1 | sort
echo @@nft; nft -j list ruleset
echo @@fwd; sysctl -n net.ipv4.ip_forward
echo @@down; netscript down td
snap > $T/after
echo @@clean; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
"#,
    )
    .sections();
    assert_eq!(s.text("out"), "after teardown: [] 1 true 0 false");
    assert_eq!(
        netns_names(s.text("netns")),
        ["t2"],
        "only what came after teardown() stays"
    );
    assert_eq!(s.lines("links"), ["lo"]);
    assert!(nft_empty(&s.json("nft")));
    assert_eq!(s.text("fwd"), "0");
    assert!(s.text("down").starts_with("lab \"td\" is down"));
    assert_eq!(s.text("clean"), "yes");
}

#[test]
fn detached_processes_survive_the_run_and_down_stops_them() {
    let s = sh_ok(
        r#"
netscript --lab det -e '
let n = netns("d1");
let a = n.start(["sleep", "120"], #{ detach: true });
let b = n.start(["sleep", "121"]);
let h = host().start(["sleep", "122"], #{ detach: true });
print(`${a.pid} ${b.pid} ${h.pid}`);' > $T/pids
read a b h < $T/pids
PIDS="$PIDS $a $b $h"
st() { alive $1 && echo running || echo stopped; }
echo @@after_run; st $a; st $b; st $h
echo @@a_netns; [ "$(stat -L -c %i /proc/$a/ns/net)" = "$(stat -L -c %i /run/netns/d1)" ] && echo d1 || echo elsewhere
echo @@down; netscript down det
echo @@after_down; st $a; st $b; st $h
echo @@netns; ip netns list
"#,
    )
    .sections();
    assert_eq!(
        s.text("after_run"),
        "running\nstopped\nrunning",
        "detached ones run on, the plain one was stopped"
    );
    assert_eq!(
        s.text("a_netns"),
        "d1",
        "the detached process runs inside d1"
    );
    assert!(s.text("down").starts_with("lab \"det\" is down"));
    assert_eq!(
        s.text("after_down"),
        "stopped\nstopped\nstopped",
        "down stops the lab's processes"
    );
    assert_eq!(s.text("netns"), "");
}

#[test]
fn sigterm_and_sigint_roll_back() {
    let s = sh_ok(
        r#"
snap > $T/pristine
cat > $T/sig.rhai <<'EOF'
import "lab" as lab;
lab::bridge_network("br0", "10.100.0.1/24", 3);
let d = netns_open("c1").start(["sleep", "120"], #{ detach: true });
let p = host().start(["sleep", "121"]);
print(`ready ${d.pid} ${p.pid}`);
sleep(10000);
EOF
for sig in TERM INT; do
    netscript $T/sig.rhai > $T/$sig.out 2>$T/$sig.err &
    pid=$!
    wait_for $T/$sig.out ready
    set -- $(cat $T/$sig.out); PIDS="$PIDS $2 $3"
    echo @@up$sig; ip netns list | wc -l
    kill -$sig $pid
    rc=0; wait $pid || rc=$?
    echo @@rc$sig; echo $rc
    echo @@err$sig; cat $T/$sig.err
    echo @@procs$sig; alive $2 && echo running || echo stopped; alive $3 && echo running || echo stopped
    snap > $T/after
    echo @@clean$sig; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
done
"#,
    )
    .sections();
    for sig in ["TERM", "INT"] {
        assert_eq!(
            s.text(&format!("up{sig}")),
            "3",
            "the lab was up when SIG{sig} came"
        );
        assert_eq!(
            s.text(&format!("rc{sig}")),
            "1",
            "SIG{sig}: exit 1\n{}",
            s.context()
        );
        assert!(
            s.text(&format!("err{sig}"))
                .contains("interrupted by a signal"),
            "{}",
            s.context()
        );
        assert_eq!(
            s.text(&format!("procs{sig}")),
            "stopped\nstopped",
            "SIG{sig}: processes stopped"
        );
        assert_eq!(
            s.text(&format!("clean{sig}")),
            "yes",
            "SIG{sig}: rolled back"
        );
    }
}

#[test]
fn objects_netscript_did_not_create_are_never_deleted() {
    // Each case: make something by hand, run build-lab (it fails on the name), and the
    // state with the hand-made object must be exactly what it was before the run.
    let cases = [
        ("br0", "ip link add br0 type bridge"),
        ("c1", "ip netns add c1; ip -n c1 link add hv1 type veth peer name hv2; ip -n c1 addr add 10.100.0.2/24 dev hv1"),
        ("c2", "ip netns add c2"),
        ("veth", "ip link add veth-c2-br type veth peer name handpeer"),
    ];
    let mut shell = String::new();
    for (name, make) in cases {
        shell.push_str(&format!(
            r#"
{make}
snap > $T/before; ip -n c1 -j addr > $T/c1before 2>/dev/null || true
rc=0; netscript {s} >$T/o 2>$T/e || rc=$?
snap > $T/after; ip -n c1 -j addr > $T/c1after 2>/dev/null || true
echo @@rc-{name}; echo $rc
echo @@err-{name}; head -1 $T/e
echo @@same-{name}; cmp -s $T/before $T/after && cmp -s $T/c1before $T/c1after && echo yes || diff $T/before $T/after || true
for n in $(ip netns list | cut -d' ' -f1); do ip netns del $n; done
ip link del br0 2>/dev/null || true; ip link del veth-c2-br 2>/dev/null || true
"#,
            s = q(&script("build-lab"))
        ));
    }
    let s = sh_ok(&shell).sections();
    for (name, _) in cases {
        assert_eq!(s.text(&format!("rc-{name}")), "1", "{}", s.context());
        assert!(
            s.text(&format!("err-{name}")).contains("already exists"),
            "{}",
            s.context()
        );
        assert_eq!(
            s.text(&format!("same-{name}")),
            "yes",
            "{name}: the hand-made object and nothing else\n{}",
            s.context()
        );
    }
}

/// Links netscript did not create, changed by a run that then fails (or succeeds and is
/// brought down): their state, addresses, master, mtu, namespace and the sysctl come back.
#[test]
fn rollback_and_down_restore_objects_netscript_did_not_create() {
    let s = sh_ok(
        r#"
ip link add hbr type bridge
ip link add hv type veth peer name hvp
ip link set hvp mtu 1400
ip addr add 192.0.2.5/24 dev hbr
sysctl -qw net.ipv4.ip_forward=1
summary() {
    ip -j addr | python3 -c 'import json,sys
for l in json.load(sys.stdin):
    print(l["ifname"], "UP" in l["flags"], l["mtu"], l.get("master"), sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in l["addr_info"]))'
    ip route; ip netns list; nft list ruleset; sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding
}
summary > $T/before
cat > $T/change.rhai <<'EOF'
let n = netns("fx");
up("hbr");
addr("hbr", "198.51.100.1/24");
link("hv").master("hbr");
up("hv");
link("hvp").mtu(1300);
link("hvp").move_to(n);
forward(true);
route("203.0.113.0/24", "198.51.100.254");
masquerade("10.0.0.0/24");
if ARGS[0] == "fail" { assert(false, "boom"); }
EOF
rc=0; netscript --lab change $T/change.rhai fail 2>$T/e || rc=$?
echo @@rc; echo $rc
summary > $T/after
echo @@rollback; cmp -s $T/before $T/after && echo yes || diff $T/before $T/after || true
netscript --lab change $T/change.rhai ok
echo @@changed; ip -o link show hvp >/dev/null 2>&1 && echo still-here || echo moved
netscript down change >/dev/null
summary > $T/after
echo @@down; cmp -s $T/before $T/after && echo yes || diff $T/before $T/after || true
"#,
    )
    .sections();
    assert_eq!(s.text("rc"), "1");
    assert_eq!(
        s.text("rollback"),
        "yes",
        "rollback restores what it changed\n{}",
        s.context()
    );
    assert_eq!(s.text("changed"), "moved");
    assert_eq!(
        s.text("down"),
        "yes",
        "down restores what the lab changed\n{}",
        s.context()
    );
}

#[test]
fn concurrent_labs_do_not_interfere() {
    let s = sh_ok(
        r#"
snap > $T/pristine
lab() {
    netscript --lab $1 -e "
let b = bridge(\"br-$1\", \"$2.0.1/24\");
for i in 1..=10 {
    let n = netns(\`$1\${i}\`);
    let v = veth(\`v$1\${i}\`, \`v$1\${i}p\`, #{ b_ns: n });
    v.a.master(b);
    v.a.up();
    v.b.addr(\`$2.0.\${i + 1}/24\`);
    v.b.up();
    n.route(\"default\", \"$2.0.1\");
}
assert(netns_open(\"$1\" + \"1\").ping(\"$2.0.11\"), \"inside lab $1\");
()" > $T/$1.out 2>&1
}
for round in 1 2 3; do
    lab a 10.6 & pa=$!; lab b 10.7 & pb=$!
    ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
    echo @@build$round; echo "$ra $rb"; cat $T/a.out $T/b.out
    echo @@netns$round; ip netns list | cut -d' ' -f1 | sort | tr '\n' ' '; echo
    echo @@ls$round; netscript ls --json
    netscript down a > $T/a.out 2>&1 & pa=$!; netscript down b > $T/b.out 2>&1 & pb=$!
    ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
    echo @@down$round; echo "$ra $rb"
    snap > $T/after
    echo @@clean$round; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
done
"#,
    )
    .sections();
    let mut want: Vec<String> = (1..=10)
        .flat_map(|i| [format!("a{i}"), format!("b{i}")])
        .collect();
    want.sort();
    for round in 1..=3 {
        assert_eq!(
            s.text(&format!("build{round}")),
            "0 0",
            "round {round}\n{}",
            s.context()
        );
        let got: Vec<&str> = s
            .text(&format!("netns{round}"))
            .split_whitespace()
            .collect();
        assert_eq!(got, want, "round {round}: both labs' namespaces");
        let ls: Value = s.json(&format!("ls{round}"));
        let labs: Vec<(String, u64, u64)> = ls
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["lab"].as_str().unwrap().to_string(),
                    l["namespaces"].as_u64().unwrap(),
                    l["links"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            labs,
            [("a".to_string(), 10, 11), ("b".to_string(), 10, 11)],
            "round {round}: {ls}"
        );
        assert_eq!(
            s.text(&format!("down{round}")),
            "0 0",
            "round {round}\n{}",
            s.context()
        );
        assert_eq!(s.text(&format!("clean{round}")), "yes", "round {round}");
    }
}

/// Was a bug (fixed in 8aff04b by a lock around nft changes): `down a` listed the table,
/// saw only its own rules and deleted the whole table while lab b added its rule.
#[test]
fn concurrent_labs_keep_each_others_nat_rules() {
    let s = sh_ok(
        r#"
lost=0
for i in $(seq 1 20); do
    netscript --lab a -e 'masquerade("10.1.0.0/24"); ()'
    netscript down a >/dev/null & p1=$!
    netscript --lab b -e 'masquerade("10.2.0.0/24"); ()' & p2=$!
    wait $p1; wait $p2
    nft list ruleset | grep -q 10.2.0.0/24 || lost=$((lost+1))
    netscript down b >/dev/null
done
echo @@lost; echo $lost
"#,
    )
    .sections();
    assert_eq!(
        s.text("lost"),
        "0",
        "rounds where lab b's rule vanished while a was torn down"
    );
}

/// Was a bug (fixed in cc141da, sysctl claims): `down a` turned forwarding off under lab b,
/// and after `down b` it was left on.
#[test]
fn labs_torn_down_in_build_order_leave_forwarding_as_found() {
    let s = sh_ok(
        r#"
netscript --lab a -e 'forward(true)'
netscript --lab b -e 'forward(true)'
netscript down a >/dev/null
echo @@between; sysctl -n net.ipv4.ip_forward
netscript down b >/dev/null
echo @@after; sysctl -n net.ipv4.ip_forward
"#,
    )
    .sections();
    assert_eq!(s.text("between"), "1", "lab b is still up and forwards");
    assert_eq!(
        s.text("after"),
        "0",
        "both labs down: forwarding as it was found"
    );
}

#[test]
fn a_failed_sysctl_change_leaves_no_claim() {
    let s = sh_ok(&format!(
        r#"
rc=0; NETSCRIPT_FAIL_AT=17 netscript {s} >/dev/null 2>$T/e || rc=$?
echo @@rc; echo $rc
echo @@err; head -1 $T/e
echo @@claims1; cat /run/netscript/.state/sysctl-claims.json 2>/dev/null || true
netscript {s} >/dev/null
netscript down build-lab >/dev/null
echo @@fwd; sysctl -n net.ipv4.ip_forward
# A write the kernel refuses (a read-only sysctl), caught by the script.
netscript --lab ro -e 'try {{ sysctl("net.ipv4.conf.all.mc_forwarding", "1") }} catch (e) {{ }}; ()'
echo @@claims2; cat /run/netscript/.state/sysctl-claims.json 2>/dev/null || true
"#,
        s = q(&script("build-lab"))
    ))
    .sections();
    assert_eq!(s.text("rc"), "1");
    assert!(
        s.text("err")
            .contains("injected fault at op 17 (sysctl -qw net.ipv4.ip_forward=1)"),
        "{}",
        s.context()
    );
    assert!(
        !s.text("claims1").contains("ip_forward"),
        "the failed write claims nothing\n{}",
        s.context()
    );
    assert_eq!(
        s.text("fwd"),
        "0",
        "build-lab + down restores forwarding\n{}",
        s.context()
    );
    assert!(
        !s.text("claims2").contains("mc_forwarding"),
        "a refused write claims nothing\n{}",
        s.context()
    );
}

#[test]
fn a_failed_run_restores_a_sysctl_another_lab_changed() {
    let s = sh_ok(
        r#"
netscript --lab x -e 'sysctl("net.ipv4.conf.all.rp_filter", "2")'
rc=0; netscript --lab y -e 'sysctl("net.ipv4.conf.all.rp_filter", "1"); assert(false, "boom")' 2>/dev/null || rc=$?
echo @@rc; echo $rc
echo @@after_y; sysctl -n net.ipv4.conf.all.rp_filter
netscript down x >/dev/null
echo @@after_x; sysctl -n net.ipv4.conf.all.rp_filter
"#,
    )
    .sections();
    s.expect(&[
        ("rc", "1"),
        // y's rollback puts back the 2 that y found (lab x is up).
        ("after_y", "2"),
        ("after_x", "0"),
    ]);
}

#[test]
fn same_lab_twice_the_second_says_in_use() {
    let s = sh_ok(
        r#"
netscript --lab L -e 'netns("l1"); print("ready"); sleep(60000); ()' > $T/l1.out 2>$T/l1.err &
p1=$!
wait_for $T/l1.out ready
rc=0; netscript --lab L -e 'netns("l2"); ()' >$T/l2.out 2>$T/l2.err || rc=$?
echo @@second; echo $rc; cat $T/l2.err
echo @@netns; ip netns list
rc=0; netscript down L >$T/d.out 2>$T/d.err || rc=$?
echo @@down; echo $rc; cat $T/d.err
rc=0; netscript --lab other -e 'netns("o1"); ()' || rc=$?
echo @@other; echo $rc
echo @@netns2; ip netns list
kill -TERM $p1; rc=0; wait $p1 || rc=$?
echo @@first; echo $rc
echo @@netns3; ip netns list
netscript down other >/dev/null
echo @@netns4; ip netns list
"#,
    )
    .sections();
    let second = s.text("second");
    assert!(
        second.starts_with("1\n") && second.contains(r#"lab "L" is in use"#),
        "{}",
        s.context()
    );
    assert_eq!(
        netns_names(s.text("netns")),
        ["l1"],
        "the second run built nothing"
    );
    assert!(
        s.text("down").starts_with("1\n") && s.text("down").contains("in use"),
        "down waits its turn too\n{}",
        s.context()
    );
    assert_eq!(s.text("other"), "0", "another lab is not blocked");
    assert_eq!(netns_names(s.text("netns2")), ["l1", "o1"]);
    assert_eq!(s.text("first"), "1", "the first run, stopped, rolls back");
    assert_eq!(
        netns_names(s.text("netns3")),
        ["o1"],
        "without touching the other lab"
    );
    assert_eq!(s.text("netns4"), "");
}

#[test]
fn cleanup_after_build_lab_then_build_lab_again_and_down_then_rebuild() {
    let s = sh_ok(&format!(
        r#"
snap > $T/pristine
{build}
echo @@cleanup; netscript {cleanup}
echo @@netns; ip netns list
echo @@links; ip -o link | cut -d: -f2 | cut -d@ -f1 | sort
echo @@nft; nft -j list ruleset
echo @@again; netscript {lab}
echo @@ping; netscript -e 'netns_open("c1").ping("10.100.0.3")'
netscript down build-lab >/dev/null; netscript down cleanup >/dev/null
snap > $T/after
echo @@clean; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
# down, then the same lab again at once, a few times
for i in 1 2 3; do
    netscript {lab} 10 > /dev/null
    netscript down build-lab > /dev/null
done
snap > $T/after
echo @@clean2; cmp -s $T/pristine $T/after && echo yes || diff $T/pristine $T/after || true
"#,
        build = build_lab(2),
        lab = q(&script("build-lab")),
        cleanup = q(&script("cleanup"))
    ))
    .sections();
    assert_eq!(s.text("cleanup"), "cleaned up");
    assert_eq!(s.text("netns"), "");
    assert_eq!(s.lines("links"), ["lo"]);
    assert!(nft_empty(&s.json("nft")));
    assert!(
        s.text("again").contains("with 2 containers"),
        "build-lab runs again right after cleanup\n{}",
        s.context()
    );
    assert_eq!(s.text("ping"), "true");
    assert_eq!(s.text("clean"), "yes");
    assert_eq!(s.text("clean2"), "yes");
}
