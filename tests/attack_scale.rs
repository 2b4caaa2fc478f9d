//! Attacks on lab mode, namespace creation on the calling thread and the bridge MTU rule:
//! each test here failed before its fix (or guards a case found to hold), with real
//! namespaces and links in a sandbox.

mod common;

use common::*;

/// The value printed after `KEY ` on its line of `run`'s stdout.
fn value(run: &Run, key: &str) -> String {
    let prefix = format!("{key} ");
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key:?} line\n{run}"))
        .to_string()
}

/// A link netscript did not make, with IPv6 already off, attached to a lab-mode bridge:
/// undoing the port's lab mode (rollback or `down`) leaves IPv6 off, as it was found,
/// while a foreign link that had IPv6 on gets it back.
#[test]
fn a_foreign_port_with_ipv6_off_keeps_it_off_after_rollback_and_down() {
    let script = TempScript::new(
        "ipv6-was-off",
        r#"bridge("br0", #{ lab_mode: true });
link("fx").master("br0");
link("fy").master("br0");
if ARGS[0] == "fail" { throw "the run fails after the ports"; }"#,
    );
    let run = sh(&format!(
        r#"ip link add fx type veth peer name fy
echo 1 > /proc/sys/net/ipv6/conf/fx/disable_ipv6
v() {{ echo "$(cat /proc/sys/net/ipv6/conf/fx/disable_ipv6) $(cat /proc/sys/net/ipv6/conf/fy/disable_ipv6)"; }}
netscript {s} fail 2>/dev/null || true
echo "rolled-back $(v)"
netscript {s} ok 2>/dev/null
echo "during $(v)"
netscript down ipv6-was-off >/dev/null
echo "down $(v) $(ip -o link show master br0 2>/dev/null | wc -l)""#,
        s = q(script.path())
    ));
    assert_eq!(value(&run, "rolled-back"), "1 0", "{run}");
    assert_eq!(value(&run, "during"), "1 1", "{run}");
    assert_eq!(value(&run, "down"), "1 0 0", "{run}");
}
