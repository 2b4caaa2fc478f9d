//! Eight labs with distinct names, built and torn down at the same time, twenty rounds, in
//! one sandbox. They share the host's forwarding sysctls, its nftables NAT table and its
//! bridge-less routing: nothing may leak between rounds, no run may fail with `EBUSY` or
//! `File exists`, and every sysctl is back to its value from before the first lab.

mod common;

use common::sh;

/// Lab `l$1`: two namespaces behind a host bridge, forwarding on (a sysctl every lab
/// shares), masquerade and a published port (the NAT table every lab shares).
const LAB: &str = r#"
cat > $T/lab.rhai <<'RHAI'
let i = parse_int(ARGS[0]);
let br = bridge(`br${i}`, `10.${i}.0.1/24`);
for c in ["a", "b"] {
    let n = netns(`l${i}${c}`);
    veth(`v${i}${c}`, "eth0", #{ b_ns: n });
    link(`v${i}${c}`).master(br);
    link(`v${i}${c}`).up();
    n.addr("eth0", `10.${i}.0.${if c == "a" { 2 } else { 3 }}/24`);
    n.up("eth0");
    n.route("default", `10.${i}.0.1`);
}
forward(true);
sysctl("net.ipv4.conf.all.rp_filter", 2);
masquerade(`10.${i}.0.0/24`, #{ not_out: `br${i}` });
port_forward(8000 + i, `10.${i}.0.2:80`);
assert(netns_open(`l${i}a`).ping(`10.${i}.0.3`));
RHAI
"#;

#[test]
fn eight_labs_built_and_torn_down_at_once_twenty_rounds() {
    let rounds: usize = std::env::var("CONCURRENCY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let run = sh(&format!(
        r#"{LAB}
sysctl -w net.ipv4.conf.all.rp_filter=1 >/dev/null
before="$(sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.rp_filter)"
# at_once STEP: `STEP I` for the eight labs at once, output in $T/STEP-I.out; ends the
# script (with @@fail) at the first that fails.
lab_up() {{ netscript --lab l$1 $T/lab.rhai $1; }}
lab_down() {{ netscript down l$1; }}
at_once() {{
    pids=""
    for i in 1 2 3 4 5 6 7 8; do
        $1 $i > $T/$1-$i.out 2>&1 &
        pids="$pids $!"
    done
    i=1
    for p in $pids; do
        wait $p || {{ echo "@@fail"; echo "round $round: $1 l$i failed"; cat $T/$1-$i.out; exit 0; }}
        i=$((i+1))
    done
}}
round=1
while [ $round -le {rounds} ]; do
    at_once lab_up
    at_once lab_down
    left="$(ip netns list; ip -o link | grep -v ': lo:' || true; nft list ruleset | grep -E 'masquerade|dnat' || true; ls /run/netscript/*.journal 2>/dev/null || true)"
    if [ -n "$left" ]; then echo "@@fail"; echo "round $round left: $left"; exit 0; fi
    after="$(sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.rp_filter)"
    if [ "$after" != "$before" ]; then echo "@@fail"; echo "round $round: sysctls $after, before $before"; exit 0; fi
    round=$((round+1))
done
echo @@rounds; echo $((round-1))
echo @@busy
cat $T/lab_*.out | grep -iE 'EBUSY|File exists|busy' || true
"#
    ))
    .success();
    let s = run.sections();
    assert!(!s.map.contains_key("fail"), "{}", s.text("fail"));
    assert_eq!(s.text("rounds"), rounds.to_string(), "{run}");
    assert_eq!(
        s.text("busy"),
        "",
        "no run was refused for a busy or existing object"
    );
}
