//! An attacker's second pass over what users were burned by: ports that leave a lab-mode
//! bridge in ways other than `nomaster`, and what `down` makes of them. Every run is
//! inside `sandbox_sh` (private net, mount and PID namespaces).

mod common;

use common::*;

fn value(run: &Run, key: &str) -> String {
    let prefix = format!("{key} ");
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{key}` line\n{run}"))
        .trim()
        .to_string()
}

/// Deleting a lab-mode bridge takes its ports off it: like `nomaster`, that is leaving
/// lab mode, so they get their IPv6 back. Before, they stayed without IPv6 for the rest
/// of the run: an IPv6 address on the former port was refused, no IPv6 packet passed.
#[test]
fn a_deleted_lab_mode_bridge_gives_its_ports_their_ipv6_back() {
    let script = TempScript::new(
        "bridge-gone",
        r#"let a = netns("a");
bridge("lab1", #{ lab_mode: true });
veth("pa", "eth0", #{ b_ns: a }).a.master("lab1");
print(`during ${exec("cat /proc/sys/net/ipv6/conf/pa/disable_ipv6").stdout}`);
link("lab1").delete();
print(`after ${exec("cat /proc/sys/net/ipv6/conf/pa/disable_ipv6").stdout}`);
link("pa").addr("fd00:9::1/64", #{ nodad: true });
link("pa").up();
a.addr("eth0", "fd00:9::2/64", #{ nodad: true });
a.up("eth0");
print(`ping6 ${a.ping("fd00:9::1")}`);"#,
    );
    let run = sh(&format!(
        "netscript {s} 2>&1 || true; netscript down bridge-gone >/dev/null 2>&1 || true",
        s = q(script.path())
    ));
    assert_eq!(value(&run, "during"), "1", "{run}");
    assert_eq!(value(&run, "after"), "0", "{run}");
    assert_eq!(value(&run, "ping6"), "true", "{run}");
}

/// A link the lab did not make, put on a lab-mode bridge the lab then deleted: `down`
/// used to fail on it ("link: Operation not supported", the multicast flooding of a port
/// that is no longer one) and leave it without IPv6. It must go down cleanly and leave
/// the link as it was found, its IPv6 on.
#[test]
fn down_after_a_lab_mode_bridge_was_deleted_leaves_a_foreign_port_as_found() {
    let script = TempScript::new(
        "foreign-gone",
        r#"bridge("lab1", #{ lab_mode: true });
link("fa").master("lab1");
link("lab1").delete();"#,
    );
    let run = sh(&format!(
        r#"ip link add fa type veth peer name fb
netscript {s} >/dev/null 2>&1
echo "during $(cat /proc/sys/net/ipv6/conf/fa/disable_ipv6)"
if netscript down foreign-gone > $T/down 2>&1; then echo "down ok"; else echo "down failed"; cat $T/down; fi
echo "after $(cat /proc/sys/net/ipv6/conf/fa/disable_ipv6)"
echo "left $(ip -o link show fa | wc -l)""#,
        s = q(script.path())
    ));
    assert_eq!(value(&run, "down"), "ok", "{run}");
    assert_eq!(value(&run, "after"), "0", "{run}");
    assert_eq!(value(&run, "left"), "1", "{run}");
}

/// A forward chain that ends in a catch-all *reject* drops what it does not know just as
/// one with policy drop does: firewalld's (`inet firewalld`, `reject with icmpx
/// admin-prohibited` last) and the RHEL iptables default (`-A FORWARD -j REJECT
/// --reject-with icmp-host-prohibited`, here through iptables-nft). Before, only a last
/// `drop` counted: such a host silently cut the lab's bridge and its NAT off, without a
/// word. Now the lab's accept rules go in as for Docker, and `down` leaves the foreign
/// table as it was.
#[test]
fn a_forward_chain_ending_in_reject_is_treated_as_one_that_drops() {
    let firewalld = r#"printf 'table inet fw {\n chain FWD {\n  type filter hook forward priority 0; policy accept;\n  ct state established,related accept\n  reject with icmpx type admin-prohibited\n }\n}\n' > $T/fw.nft
nft -f $T/fw.nft
list() { nft list table inet fw; }"#;
    let iptables = r#"iptables-nft -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A FORWARD -j REJECT --reject-with icmp-host-prohibited
list() { nft list table ip filter; }"#;
    for (what, setup) in [("firewalld", firewalld), ("iptables-nft", iptables)] {
        let script = TempScript::new("reject-host", BRIDGE_LAB);
        let run = sh(&format!(
            r#"{setup}
list > $T/before
echo @@run; netscript --lab rj {s} 2> $T/err
echo @@err; cat $T/err
echo @@down; netscript down rj
echo @@same; list | cmp - $T/before && echo identical"#,
            s = q(script.path())
        ));
        let s = run.sections();
        assert!(s.text("run").contains("c1-c2 true"), "{what}\n{run}");
        assert!(s.text("run").contains("c1-upstream true"), "{what}\n{run}");
        assert!(
            s.text("err").contains("the forward chain of table"),
            "{what}: one line says what netscript did\n{run}"
        );
        assert_eq!(s.text("same"), "identical", "{what}\n{run}");
    }
}

/// A bridge made a port of another bridge: the kernel refuses it with ELOOP, which a run
/// used to show as "Too many levels of symbolic links (os error 40)", while `plan` let it
/// pass. Now both say what is wrong, at the call's line in the module that made it, and
/// the `try` around it catches it.
#[test]
fn a_bridge_as_a_port_of_a_bridge_is_refused_clearly_in_plan_and_run() {
    let dir = std::env::temp_dir().join(format!("ns-attack2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("helpers.rhai"),
        "fn enslave(a, b) {\n    link(a).master(b);\n}\n",
    )
    .unwrap();
    let tried = r#"import "helpers" as h;
bridge("b1"); bridge("b2");
try { h::enslave("b1", "b2"); print("not caught"); } catch (e) { print(`caught: ${e}`); }
"#;
    for (stem, text) in [
        ("tried", tried.to_string()),
        ("main", format!("{tried}h::enslave(\"b1\", \"b2\");\n")),
    ] {
        std::fs::write(dir.join(format!("{stem}.rhai")), text).unwrap();
    }
    let path = |stem: &str| dir.join(format!("{stem}.rhai")).display().to_string();
    let want = r#"Link("b1").master("b2"): link "b1" is a bridge: a bridge cannot be a port of another bridge"#;
    for cmd in ["plan", "run"] {
        let args = |stem: &str| match cmd {
            "plan" => vec!["plan".to_string(), path(stem)],
            _ => vec![path(stem)],
        };
        let argv = args("tried");
        let run = sandboxed(&argv.iter().map(String::as_str).collect::<Vec<_>>()).success();
        assert!(
            run.stdout.contains(&format!("caught: {want}")),
            "{cmd}\n{run}"
        );
        assert!(!run.stdout.contains("not caught"), "{cmd}\n{run}");
        let argv = args("main");
        let run = sandboxed(&argv.iter().map(String::as_str).collect::<Vec<_>>()).fails_with(1);
        let e = error_report(&run);
        assert!(e.message.contains(want), "{cmd}\n{run}");
        assert_eq!((e.line, e.col), (2, 13), "{cmd}\n{run}");
        assert!(e.file.ends_with("helpers.rhai"), "{cmd}\n{run}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
