//! Trust: netfilter where users met it. Loss on links that bridged traffic leaves by (a
//! netdev egress chain, not an inet postrouting rule), labs on a Docker host (whose
//! forward chain drops by default and, through br_netfilter, sees bridged traffic too),
//! and plans that are the same text each time.
//!
//! Safety: everything runs inside `common::sandbox_sh` (private net + mount + pid
//! namespaces): the Docker-like `table ip filter` is made in the sandbox's own namespace,
//! and traffic only flows between namespaces a test made. No timing assertion: loss is
//! counted with an nft counter and checked against a wide band.

mod common;

use common::*;

// --- A: loss on any link ------------------------------------------------------------------

/// c1 (10.0.0.1) and c2 (10.0.0.2), each with a veth `eth0` whose other end (`p1`, `p2`)
/// is a port of bridge br0 in namespace `br`; built as lab `imp`, kept. `imp CODE` runs CODE
/// in the same lab with `c1`, `c2`, `br` and `p2` (the port toward c2) defined; `probe`
/// prints whether c1 pings c2.
const BRIDGED: &str = r#"netscript --lab imp -e '
let c1 = netns("c1"); let c2 = netns("c2"); let br = netns("br");
br.bridge("br0");
let i = 0;
for c in [c1, c2] {
    i += 1;
    let v = veth("eth0", `p${i}`, #{ a_ns: c, b_ns: br });
    v.b.master("br0"); v.b.up();
    c.addr(v.a, `10.0.0.${i}/24`); c.up(v.a);
}
'
imp() {
    netscript --lab imp -e "let c1 = netns_open(\"c1\"); let c2 = netns_open(\"c2\"); let br = netns_open(\"br\"); let p2 = br.link(\"p2\"); $1"
}
probe() {
    netscript -e 'print(netns_open("c1").ping("10.0.0.2"))'
}"#;

#[test]
fn loss_on_a_bridge_port_blocks_and_restores() {
    let run = sh_ok(&format!(
        r#"{BRIDGED}
echo @@before; probe
imp 'p2.impair(#{{ loss_pct: 100 }})'
echo @@nft-100; ip netns exec br nft list ruleset
echo @@blocked; probe
imp 'p2.impair(#{{ loss_pct: 0 }})'
echo @@restored-0; probe
echo @@nft-0; ip netns exec br nft list ruleset
imp 'p2.impair(#{{ loss_pct: 100 }})'
echo @@blocked-again; probe
imp 'p2.unimpair()'
echo @@restored-unimpair; probe
echo @@nft-unimpair; ip netns exec br nft list ruleset"#
    ));
    let s = run.sections();
    assert_eq!(s.text("before"), "true", "{run}");
    let nft = s.text("nft-100");
    assert!(
        nft.contains("table netdev netscript")
            && nft.contains("hook egress device \"p2\"")
            && nft.lines().any(|l| l.trim() == "drop"),
        "100 % loss is a drop in an egress chain of p2\n{run}"
    );
    s.expect(&[
        // 100 % loss on the bridge port toward c2 blocks c1 -> c2.
        ("blocked", "false"),
        // 0 % loss restores, and leaves no table.
        ("restored-0", "true"),
        ("nft-0", ""),
        ("blocked-again", "false"),
        // unimpair restores, and removes the chain and the table.
        ("restored-unimpair", "true"),
        ("nft-unimpair", ""),
    ]);
}

#[test]
fn loss_30_pct_on_a_bridge_port_drops_about_that_share() {
    // 1000 UDP datagrams c1 -> c2, counted by an nft counter in c2's input hook (c2's
    // neighbour entry is made first, by a ping before the loss).
    let run = sh_ok(&format!(
        r#"{BRIDGED}
probe > /dev/null
ip netns exec c2 nft 'add table inet count; add chain inet count in {{ type filter hook input priority 0; }}; add rule inet count in udp dport 9999 counter'
imp 'p2.impair(#{{ loss_pct: 30 }})'
echo @@rule; ip netns exec br nft list ruleset | grep numgen
ip netns exec c1 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1000):
    s.sendto(b"x" * 32, ("10.0.0.2", 9999))
'
echo @@counted; ip netns exec c2 nft -j list chain inet count in | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("rule", {{}}).get("expr", []):
        if "counter" in e: print(e["counter"]["packets"])
'"#
    ));
    let s = run.sections();
    assert!(
        s.text("rule").contains("numgen random mod 100 < 30 drop"),
        "{run}"
    );
    let received: u32 = s.text("counted").parse().expect("a packet count");
    // Binomial(1000, 0.3): 300 +- 14.5; 150..450 lost is a band nothing random leaves.
    assert!(
        (550..=850).contains(&received),
        "30 % loss on the bridge port, but {received} of 1000 datagrams arrived\n{run}"
    );
}

#[test]
fn loss_is_traced_planned_and_removed_by_down_and_rollback() {
    // The link is in the sandbox's own namespace (not one the lab deletes), so the chain
    // must be removed on its own: it outlives the link on recent kernels.
    let code = r#"let x = netns("x"); veth("vh", "eth0", #{ b_ns: x }); up("vh"); link("vh").impair(#{ loss_pct: 25 });"#;
    let run = sh_ok(&format!(
        r#"cat > $T/loss.rhai <<'EOF'
{code}
EOF
echo @@plan; netscript plan $T/loss.rhai
echo @@trace; netscript -x --lab l1 $T/loss.rhai 2>&1
echo @@nft-up; nft list ruleset
echo @@down; netscript down l1
echo @@nft-down; nft list ruleset
echo @@rollback; netscript --lab l2 -e '{code} throw "stop";' 2>&1 || true
echo @@nft-rollback; nft list ruleset"#
    ));
    let s = run.sections();
    let chain = r#"nft 'add chain netdev netscript impair-vh { type filter hook egress device "vh" priority 0; policy accept; }'"#;
    let rule = "nft 'add rule netdev netscript impair-vh numgen random mod 100 < 25 drop'";
    for key in ["plan", "trace"] {
        assert!(
            s.text(key).contains(chain) && s.text(key).contains(rule),
            "{key} shows the netdev egress chain and rule as nft commands\n{run}"
        );
    }
    assert!(
        s.text("nft-up").contains("numgen random mod 100 < 25 drop"),
        "{run}"
    );
    assert_eq!(s.text("nft-down"), "", "down removed the loss\n{run}");
    assert!(s.text("rollback").contains("stop"), "{run}");
    assert_eq!(
        s.text("nft-rollback"),
        "",
        "rollback removed the loss\n{run}"
    );
}

// --- B: Docker hosts ------------------------------------------------------------------------

/// Docker's filter table as iptables-nft leaves it: FORWARD drops by default and jumps
/// to DOCKER-USER first (`$1` = with DOCKER-USER or not).
const DOCKER_TABLE: &str = r#"docker_table() {
    if [ "$1" = user ]; then
        printf 'table ip filter {\n chain DOCKER-USER {\n  return\n }\n chain FORWARD {\n  type filter hook forward priority 0; policy drop;\n  jump DOCKER-USER\n }\n}\n' > $T/docker.nft
    else
        printf 'table ip filter {\n chain FORWARD {\n  type filter hook forward priority 0; policy drop;\n  ct state established,related accept\n }\n}\n' > $T/docker.nft
    fi
    nft -f $T/docker.nft
}"#;

/// The lines of `stderr` that are the notice about a foreign forward chain.
fn notices(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("netscript: the forward chain of table ip filter"))
        .collect()
}

#[test]
fn docker_user_gets_accept_rules_and_down_leaves_the_table_as_it_was() {
    let run = sh_ok(&format!(
        r#"{DOCKER_TABLE}
docker_table user
nft list table ip filter > $T/before
cat > $T/lab.rhai <<'EOF'
{BRIDGE_LAB}
EOF
echo @@plan; netscript plan $T/lab.rhai
echo @@run; netscript -x --lab dk $T/lab.rhai 2> $T/err
echo @@err; cat $T/err
echo @@during; nft list table ip filter
echo @@down; netscript down dk
echo @@same; nft list table ip filter | cmp - $T/before && echo identical"#
    ));
    let s = run.sections();
    let out = s.text("run");
    for (want, why) in [
        (
            "c1-c2 true",
            "c1 reaches c2 over br0 through Docker's forward chain",
        ),
        ("c1-upstream true", "c1 reaches upstream"),
    ] {
        assert!(out.contains(want), "{why}\n{run}");
    }
    let err = s.text("err");
    let n = notices(err);
    assert_eq!(n.len(), 1, "one line says what netscript did\n{run}");
    assert!(
        n[0].contains("(Docker?)")
            && n[0].contains("br0")
            && n[0].contains("DOCKER-USER")
            && n[0].contains("netscript down removes them"),
        "{run}"
    );
    let insert = r#"nft 'insert rule ip filter DOCKER-USER iifname "br0" accept comment "netscript:dk:in:br0"'"#;
    assert!(err.contains(insert), "-x shows the rule as nft\n{run}");
    assert!(
        s.text("plan")
            .contains(r#"nft 'insert rule ip filter DOCKER-USER oifname "br0" accept comment"#),
        "the plan shows the rule as nft\n{run}"
    );
    let during = s.text("during");
    assert!(
        during.contains(r#"iifname "br0" accept comment "netscript:dk:in:br0""#)
            && during.contains(r#"oifname "br0" accept comment "netscript:dk:out:br0""#),
        "{run}"
    );
    assert_eq!(
        s.text("same"),
        "identical",
        "after down, Docker's table is byte-identical to before\n{run}"
    );
}

#[test]
fn without_docker_user_rules_go_to_the_top_of_forward_and_rollback_removes_them() {
    let run = sh_ok(&format!(
        r#"{DOCKER_TABLE}
docker_table
nft list table ip filter > $T/before
cat > $T/lab.rhai <<'EOF'
{BRIDGE_LAB}
print(`during ${{host().exec("nft list chain ip filter FORWARD").stdout}}`);
throw "stop here";
EOF
echo @@run; netscript --lab dk2 $T/lab.rhai 2> $T/err || echo "exit $?"
echo @@err; cat $T/err
echo @@same; nft list table ip filter | cmp - $T/before && echo identical"#
    ));
    let s = run.sections();
    let out = s.text("run");
    assert!(out.contains("c1-c2 true"), "{run}");
    assert!(out.contains("c1-upstream true"), "{run}");
    assert!(out.contains("exit 1"), "{run}");
    // Inserted at the top: before Docker's own rule.
    let during: Vec<&str> = out.lines().map(str::trim).collect();
    let first = during
        .iter()
        .position(|l| l.contains("netscript:dk2:"))
        .expect("our rules in FORWARD");
    let docker = during
        .iter()
        .position(|l| l.starts_with("ct state established,related accept"))
        .expect("Docker's rule");
    assert!(first < docker, "the rules are at the top of FORWARD\n{run}");
    let n = notices(s.text("err"));
    assert_eq!(n.len(), 1, "{run}");
    assert!(n[0].contains("at the top of its chain FORWARD"), "{run}");
    assert_eq!(
        s.text("same"),
        "identical",
        "rollback left Docker's table byte-identical\n{run}"
    );
}

#[test]
fn a_forward_chain_that_accepts_is_left_alone() {
    let run = sh_ok(&format!(
        r#"nft 'add table ip filter; add chain ip filter FORWARD {{ type filter hook forward priority 0; policy accept; }}'
nft list table ip filter > $T/before
cat > $T/lab.rhai <<'EOF'
{BRIDGE_LAB}
EOF
echo @@run; netscript --lab ok $T/lab.rhai 2> $T/err
echo @@err; cat $T/err
echo @@same; nft list table ip filter | cmp - $T/before && echo identical"#
    ));
    let s = run.sections();
    assert!(s.text("run").contains("c1-c2 true"), "{run}");
    assert!(notices(s.text("err")).is_empty(), "{run}");
    assert_eq!(s.text("same"), "identical", "{run}");
}

#[test]
fn iptables_legacy_forward_drop_is_warned_about_once() {
    let has_legacy = std::process::Command::new("sh")
        .args(["-c", "command -v iptables-legacy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_legacy {
        eprintln!("no iptables-legacy here: nothing to check");
        return;
    }
    let run = sh_ok(
        r#"iptables-legacy -P FORWARD DROP
netscript -e 'bridge("br0"); bridge("br1"); forward(true);' 2> $T/err
echo @@err; cat $T/err"#,
    );
    let s = run.sections();
    let warned: Vec<&str> = s
        .text("err")
        .lines()
        .filter(|l| l.starts_with("netscript: iptables-legacy's FORWARD chain drops"))
        .collect();
    assert_eq!(warned.len(), 1, "{run}");
}

// --- C: plans are diffable ------------------------------------------------------------------

#[test]
fn two_plans_of_one_script_are_the_same_text() {
    let run = sh_ok(&format!(
        r#"netscript plan {docker} > $T/a
netscript plan {docker} > $T/b
echo @@cmp; cmp $T/a $T/b && echo same
echo @@nft; grep -c "^nft 'add rule inet netscript" $T/a"#,
        docker = q(&script_path("docker-port"))
    ));
    let s = run.sections();
    assert_eq!(s.text("cmp"), "same", "{run}");
    assert_eq!(s.text("nft"), "3", "the plan has the NAT rules\n{run}");
}
