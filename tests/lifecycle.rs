//! Labs' own files and netscript's internal state never collide: a lab may be named like
//! an internal lock, a lab name must fit its file names, an unreadable journal spoils
//! only its own lab in `ls`, and the REPL holds its lab's lock like a run. Every test runs
//! in `sandbox_sh` (private network, mount and PID namespaces, a private /run/netscript).

mod common;

use common::{q, sandbox_sh, BIN};

/// `sh(&format!(SCRIPT, ..))` with `{bin}` the netscript binary, which must exit 0: its
/// stdout and stderr.
macro_rules! sh_ok {
    ($($format:tt)+) => {{
        let (code, out, err) = sh(&format!($($format)+, bin = q(BIN)));
        assert_eq!(code, 0, "{out}\n{err}");
        (out, err)
    }};
}

fn sh(script: &str) -> (i32, String, String) {
    let out = sandbox_sh(script);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn labs_named_like_internal_locks_run_and_come_down() {
    // Before: lab `nft` took the nftables lock as its own lab lock and hung at its first
    // rule; lab `sysctl-claims` took the sysctl lock.
    let (out, err) = sh_ok!(
        "cd $T\n\
         printf 'let c = netns(\"c\");\\nc.masquerade(\"10.0.0.0/24\");\\n' > nft.rhai\n\
         timeout -k 5 30 {bin} nft.rhai; echo \"nft: $?\"\n\
         printf 'forward(true);\\n' > sysctl-claims.rhai\n\
         timeout -k 5 30 {bin} sysctl-claims.rhai; echo \"claims: $?\"\n\
         cat /proc/sys/net/ipv4/ip_forward\n\
         timeout -k 5 30 {bin} down nft; timeout -k 5 30 {bin} down sysctl-claims\n\
         cat /proc/sys/net/ipv4/ip_forward; ip netns list | wc -l"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"nft: 0"), "{out}\n{err}");
    assert!(lines.contains(&"claims: 0"), "{out}\n{err}");
    let tail: Vec<&str> = lines.iter().rev().take(2).copied().collect();
    assert_eq!(
        tail,
        ["0", "0"],
        "forwarding restored, no namespace left:\n{out}\n{err}"
    );
}

#[test]
fn lab_names_must_fit_their_files() {
    let long = "x".repeat(250);
    let (_, out, err) = sh(&format!(
        "{bin} --lab {long} -e 'netns(\"n\")' || echo \"long: $?\"\n\
         {bin} --lab .state -e 'netns(\"n\")' || echo \"dot: $?\"\n\
         {bin} down ../etc || echo \"down: $?\"\n\
         ip netns list | wc -l",
        bin = q(BIN)
    ));
    assert!(out.contains("long: 2"), "{out}\n{err}");
    assert!(out.contains("dot: 2"), "{out}\n{err}");
    assert!(out.contains("down: 2"), "{out}\n{err}");
    assert!(err.contains("invalid lab name"), "{err}");
    assert_eq!(out.lines().last(), Some("0"), "nothing was made:\n{out}");
}

#[test]
fn an_unreadable_lab_does_not_hide_the_others() {
    let (out, err) = sh_ok!(
        "cd $T; printf 'netns(\"a\");\\n' > good.rhai; {bin} good.rhai\n\
         mkdir /run/netscript/broken.journal\n\
         {bin} ls; echo \"ls: $?\"; {bin} --json ls"
    );
    assert!(out.contains("ls: 0"), "{out}\n{err}");
    assert!(out.lines().any(|l| l.starts_with("good ")), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("broken ") && l.contains("unreadable")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("{\"error\":\"/run/netscript/broken.journal")
                && l.contains("\"lab\":\"broken\"}")),
        "{out}"
    );
}

#[test]
fn a_run_cannot_take_the_lab_of_a_live_repl() {
    // The REPL waits on its input (a FIFO kept open) while a run asks for its lab.
    let (_, out, err) = sh(&format!(
        "mkfifo $T/in; ({bin} < $T/in > $T/repl.out 2>&1 &) ; exec 3>$T/in\n\
         sleep 1\n\
         {bin} --lab repl -e 'netns(\"x\")' || echo \"run: $?\"\n\
         exec 3>&-; sleep 0.5; ip netns list | wc -l",
        bin = q(BIN)
    ));
    assert!(out.contains("run: 1"), "{out}\n{err}");
    assert!(err.contains("in use"), "{err}");
    assert_eq!(out.lines().last(), Some("0"), "{out}");
}

#[test]
fn a_corrupt_journal_line_stops_down_unless_forced() {
    let (out, err) = sh_ok!(
        "cd $T; printf 'netns(\"n1\");\\nnetns(\"n2\");\\nnetns(\"n3\");\\n' > three.rhai\n\
         {bin} three.rhai\n\
         sed -i '/\"n2\"/s/n2/n\\x01/' /run/netscript/three.journal\n\
         {bin} down three || echo \"down: $?\"\n\
         ip netns list | sort | tr '\\n' ' '; echo\n\
         test -f /run/netscript/three.journal && echo kept\n\
         {bin} down --force three; echo \"forced: $?\"\n\
         ip netns list | sort | tr '\\n' ' '; echo"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"down: 1"), "{out}\n{err}");
    assert!(
        err.contains("three.journal: line 3"),
        "names file and line: {err}"
    );
    assert!(lines.contains(&"n1 n2 n3 "), "nothing was undone: {out}");
    assert!(lines.contains(&"kept"), "{out}");
    assert!(lines.contains(&"forced: 0"), "{out}\n{err}");
    assert!(err.contains("skipped (--force)"), "{err}");
    // n2's entry was unreadable: it is left; the others are gone.
    assert_eq!(lines.last(), Some(&"n2 "), "{out}");
}

#[test]
fn a_crafted_journal_entry_is_refused() {
    let (out, err) = sh_ok!(
        "cd $T; printf 'netns(\"n1\");\\n' > lab.rhai; {bin} lab.rhai\n\
         touch $T/victim\n\
         cat /run/netscript/lab.journal > /run/netscript/evil.journal\n\
         # An entry whose undo deletes a namespace by a path: it deleted any plain file.\n\
         printf '%s\\n' '{{\"op\":{{\"op\":\"sysctl\",\"ns\":null,\"key\":\"net.ipv4.ip_forward\",\"value\":\"1\"}},\"undo\":[{{\"op\":\"netns_del\",\"name\":\"../../run/netscript-test/victim\"}}]}}' >> /run/netscript/evil.journal\n\
         echo '{{}}' >> /run/netscript/evil.journal\n\
         {bin} down evil || echo \"down: $?\"\n\
         test -f $T/victim && echo victim-intact"
    );
    assert!(out.contains("down: 1"), "{out}\n{err}");
    assert!(out.contains("victim-intact"), "{out}\n{err}");
    // Line 3: after the lab's own entry and its identity line.
    assert!(err.contains("evil.journal: line 3"), "{err}");
}

#[test]
fn only_network_sysctls_can_be_set() {
    let (out, err) = sh_ok!(
        "hostname > $T/before\n\
         {bin} -e 'sysctl(\"kernel.hostname\", \"pwned\")' || echo \"host: $?\"\n\
         {bin} -e 'netns(\"n\").sysctl(\"vm.swappiness\", \"1\")' || echo \"ns: $?\"\n\
         hostname | cmp - $T/before && echo same"
    );
    assert!(
        out.contains("host: 1") && out.contains("ns: 1"),
        "{out}\n{err}"
    );
    assert!(
        err.contains("\"kernel.hostname\" is not a network sysctl"),
        "{err}"
    );
    assert!(out.contains("same"), "{out}");
}

#[test]
fn exit_with_a_status_ends_the_run_with_it() {
    let (out, err) = sh_ok!(
        "{bin} -e 'netns(\"a\"); exit(3)' || echo \"three: $?\"\n\
         ip netns list | wc -l\n\
         {bin} --lab zero -e 'netns(\"b\"); exit(0)'; echo \"zero: $?\"\n\
         ip netns list"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..2],
        ["three: 3", "0"],
        "exit(3) rolls back:\n{out}\n{err}"
    );
    assert!(err.contains("exit(3)"), "{err}");
    assert_eq!(
        lines[2..],
        ["zero: 0", "b"],
        "exit(0) keeps the lab:\n{out}\n{err}"
    );
}

#[test]
fn a_closed_stdout_rolls_back_and_fails() {
    let (out, err) = sh_ok!(
        "cd $T; printf 'netns(\"a\");\\nfor i in 0..100000 {{ print(`line ${{i}}`); }}\\n' > many.rhai\n\
         {{ {bin} many.rhai 2>$T/err && echo 0 > $T/status || echo $? > $T/status; }} | head -2\n\
         echo \"status: $(cat $T/status)\"; cat $T/err >&2\n\
         ip netns list | wc -l"
    );
    assert!(out.contains("status: 1"), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("standard output is closed"), "{err}");
    assert_eq!(out.lines().last(), Some("0"), "rolled back:\n{out}");
}

#[test]
fn sighup_rolls_back_like_sigterm() {
    let (out, err) = sh_ok!(
        "cd $T; printf 'netns(\"a\");\\nnetns(\"b\");\\nprint(\"built\");\\nsleep(60000);\\n' > hup.rhai\n\
         {bin} hup.rhai > $T/out 2>$T/err & pid=$!\n\
         for i in $(seq 100); do grep -q built $T/out && break; sleep 0.1; done\n\
         kill -HUP $pid; wait $pid || echo \"status: $?\"\n\
         cat $T/err >&2; ip netns list | wc -l"
    );
    assert!(out.contains("status: 1"), "{out}\n{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(out.lines().last(), Some("0"), "rolled back:\n{out}\n{err}");
}

#[test]
fn down_leaves_alone_what_replaced_its_objects() {
    let (out, err) = sh_ok!(
        "cd $T; printf 'let c1 = netns(\"c1\");\\nlet c2 = netns(\"c2\");\\nbridge(\"br0\");\\nbridge(\"br1\");\\nveth(\"h1\", \"h2\");\\n' > lab.rhai\n\
         {bin} lab.rhai\n\
         ip netns del c2; ip netns add c2; ip -n c2 link add mine type bridge\n\
         ip link del br0; ip link add br0 type bridge\n\
         ip link set br1 name brX\n\
         {bin} down lab || echo \"down: $?\"\n\
         echo \"netns: $(ip netns list | cut -d' ' -f1 | sort | tr '\\n' ' ')\"\n\
         echo \"links: $(ip -o link show | cut -d: -f2 | tr -d ' ' | sort | tr '\\n' ' ')\"\n\
         echo \"theirs: $(ip -n c2 -o link show mine | wc -l)\"\n\
         test -f /run/netscript/lab.journal && echo kept || echo removed"
    );
    assert!(
        out.contains("down: 1"),
        "something could not be undone as recorded:\n{out}\n{err}"
    );
    assert!(
        err.contains("namespace \"c2\" is not the one this lab made (it was replaced); left alone"),
        "{err}"
    );
    assert!(
        err.contains("link \"br0\" is not the one this lab made (it was replaced); left alone"),
        "{err}"
    );
    // The stranger's c2 (with its bridge) and br0 stay; ours are gone, the renamed br1 too.
    assert!(out.contains("netns: c2 \n"), "{out}");
    assert!(out.contains("links: br0 lo \n"), "{out}");
    assert!(out.contains("theirs: 1"), "{out}");
    assert!(out.contains("removed"), "{out}");
}

#[test]
fn a_renamed_link_is_found_and_removed() {
    let (out, err) = sh_ok!(
        "{bin} --lab ren -e 'bridge(\"br0\"); veth(\"v1\", \"v2\")'\n\
         ip link set br0 name elsewhere; ip link set v1 name v1-renamed\n\
         {bin} down ren; echo \"down: $?\"\n\
         ip -o link show | cut -d: -f2 | tr -d ' ' | sort | tr '\\n' ' '"
    );
    assert!(out.contains("down: 0"), "{out}\n{err}");
    assert!(out.trim_end().ends_with("lo"), "only lo is left: {out}");
}

#[test]
fn nothing_survives_a_sandbox_killed_with_sigkill() {
    let (out, err) = sh_ok!(
        "cd $T; printf 'let n = netns(\"n\");\\nn.start([\"sleep\", \"307.25\"], #{{ detach: true }});\\nstart([\"sleep\", \"307.25\"]);\\nprint(\"up\");\\nsleep(60000);\\n' > k.rhai\n\
         {bin} --sandbox k.rhai > $T/out 2>&1 & pid=$!\n\
         for i in $(seq 100); do grep -q up $T/out && break; sleep 0.1; done\n\
         echo \"before: $(pgrep -fc '^sleep 307[.]25')\"\n\
         kill -9 $pid; wait $pid || true\n\
         for i in $(seq 50); do [ \"$(pgrep -fc '^sleep 307[.]25')\" = 0 ] && break; sleep 0.1; done\n\
         echo \"after: $(pgrep -fc '^sleep 307[.]25')\""
    );
    assert!(out.contains("before: 2"), "{out}\n{err}");
    assert!(out.contains("after: 0"), "{out}\n{err}");
}

#[test]
fn sigterm_stops_a_counted_ping_at_its_own_line() {
    // Echoes to an address nobody answers (no neighbour): a long counted ping. SIGTERM
    // stops it at its own line (not after it ran out, at the next one) and rolls back.
    let (out, err) = sh_ok!(
        "cd $T; printf 'let n = netns(\"n\");\\nn.veth(\"a\", \"b\"); n.up(\"a\"); n.up(\"b\"); n.addr(\"a\", \"10.9.0.1/24\");\\nprint(\"up\");\\nn.ping(\"10.9.0.99\", #{{ count: 1000, timeout_ms: 1000 }});\\nprint(\"after\");\\n' > p.rhai\n\
         {bin} p.rhai > $T/out 2>$T/err & pid=$!\n\
         for i in $(seq 100); do grep -q up $T/out && break; sleep 0.1; done\n\
         sleep 0.3; kill -TERM $pid\n\
         # A ping that ignored the signal would run for minutes: give up on it after 20 s.\n\
         for i in $(seq 200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done\n\
         kill -9 $pid 2>/dev/null && echo stuck\n\
         wait $pid || echo \"status: $?\"\n\
         cat $T/out; cat $T/err >&2; ip netns list | wc -l"
    );
    assert!(out.contains("status: 1"), "{out}\n{err}");
    assert!(!out.contains("after"), "{out}");
    assert!(
        err.contains("p.rhai:4:"),
        "the error is at the ping's line: {err}"
    );
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(out.lines().last(), Some("0"), "rolled back:\n{out}");
}

#[test]
fn a_renamed_namespace_is_found_and_removed() {
    // `ip` cannot rename a namespace, but its name is a mount: moving the mount renames it.
    let (out, err) = sh_ok!(
        "{bin} --lab mv -e 'let c = netns(\"c2\"); veth(\"h\", \"i\", #{{ b_ns: c }})'\n\
         mount --make-private /run/netns; touch /run/netns/c9\n\
         mount --move /run/netns/c2 /run/netns/c9; rm /run/netns/c2\n\
         ip netns list\n\
         {bin} down mv; echo \"down: $?\"\n\
         echo \"left: $(ip netns list | wc -l) $(ip -o link show | wc -l)\""
    );
    assert!(out.contains("c9"), "renamed: {out}");
    assert!(out.contains("down: 0"), "{out}\n{err}");
    assert!(
        out.contains("left: 0 1"),
        "no namespace, only lo: {out}\n{err}"
    );
}

#[test]
fn a_corrupt_claims_file_is_never_overwritten() {
    // Two labs turn forwarding on; the claims file is then damaged. Taking one lab down
    // neither wipes the file (the other lab's claim) nor fails silently.
    let (out, err) = sh_ok!(
        "{bin} --lab one -e 'forward(true)'; {bin} --lab two -e 'forward(true)'\n\
         printf 'garbage' > /run/netscript/.state/sysctl-claims.json\n\
         {bin} down one; echo \"down: $?\"\n\
         cat /run/netscript/.state/sysctl-claims.json; echo"
    );
    assert!(out.contains("down: 0"), "{out}\n{err}");
    assert!(err.contains("sysctl-claims.json is unreadable"), "{err}");
    assert!(
        out.contains("garbage"),
        "the file is left for a person to look at: {out}"
    );
}

#[test]
fn down_reports_what_vanished() {
    let (out, err) = sh_ok!(
        "{bin} --lab gone -e 'netns(\"c1\"); netns(\"c2\"); bridge(\"br0\"); ()'\n\
         ip netns del c1; ip link del br0\n\
         {bin} down gone; echo \"down: $?\"; ip netns list | wc -l"
    );
    assert!(
        out.contains("down: 0"),
        "nothing left to undo is no failure: {out}\n{err}"
    );
    assert!(err.contains("namespace \"c1\" was already gone"), "{err}");
    assert!(err.contains("link \"br0\" was already gone"), "{err}");
    assert_eq!(out.lines().last(), Some("0"), "{out}");
}

#[test]
fn a_link_in_a_replaced_foreign_namespace_is_left_alone() {
    // The lab made brx in a namespace it did not make; that namespace is then replaced by
    // one with its own brx (whose index may well be the same).
    let (out, err) = sh_ok!(
        "ip netns add outer\n\
         {bin} --lab fx -e 'netns_open(\"outer\").bridge(\"brx\"); ()'\n\
         ip netns del outer; ip netns add outer; ip -n outer link add brx type bridge\n\
         {bin} down fx || echo \"down: $?\"\n\
         echo \"theirs: $(ip -n outer -o link show brx | wc -l)\""
    );
    assert!(out.contains("down: 1"), "{out}\n{err}");
    assert!(err.contains("not the one it was made in"), "{err}");
    assert!(out.contains("theirs: 1"), "{out}");
}

#[test]
fn a_closed_stderr_rolls_back_and_fails() {
    // The trace goes to stderr; whatever read it stops after two lines.
    let (out, err) = sh_ok!(
        "cd $T; printf 'for i in 0..300 {{ netns(`n${{i}}`); }}\\n' > many.rhai\n\
         {{ {bin} -x many.rhai 2>&1 >/dev/null && echo 0 > $T/status || echo $? > $T/status; }} | head -2 > /dev/null\n\
         echo \"status: $(cat $T/status)\"; ip netns list | wc -l"
    );
    assert!(out.contains("status: 1"), "{out}\n{err}");
    assert_eq!(out.lines().last(), Some("0"), "rolled back:\n{out}");
}

#[test]
fn exec_keeps_a_bounded_tail_of_endless_output() {
    // 100 MB of output: the last 64 MiB are kept, and the run goes on.
    let r = common::eval(r#"let r = exec("yes | head -c 100000000"); r.stdout.len()"#).success();
    assert_eq!(r.stdout.trim(), (64u64 << 20).to_string(), "{r}");
}
