//! lang/route.rs: addr, route, forward, sysctl.

use crate::lab::op::{Op, Route};
use crate::lang::test_support::{assert_message, error_of, ns, ops, run, value};

/// A namespace with link `a` up at 10.0.0.1/24 (and fd00::1/64), so gateways are on-link.
const WIRED: &str = r#"let red = netns("red");
red.veth("a", "b");
red.addr("a", "10.0.0.1/24");
red.link("a").addr("fd00::1/64", #{ nodad: true });
red.up("a");
"#;

#[test]
fn addr_records_the_address_on_the_link_in_the_namespace() {
    let o = ops(WIRED);
    assert_eq!(
        o[2..4],
        [
            Op::AddrAdd {
                ns: ns("red"),
                dev: "a".into(),
                cidr: "10.0.0.1/24".parse().unwrap(),
                nodad: false
            },
            Op::AddrAdd {
                ns: ns("red"),
                dev: "a".into(),
                cidr: "fd00::1/64".parse().unwrap(),
                nodad: true
            },
        ]
    );
}

#[test]
fn nodad_is_for_ipv6_only() {
    assert_message(
        r#"veth("a", "b"); addr("a", "10.0.0.1/24", #{ nodad: true })"#,
        r#"addr("a", "10.0.0.1/24", #{ nodad: true })"#,
        &["nodad: 10.0.0.1/24 is IPv4, which has no duplicate address detection"],
    );
}

#[test]
fn routes_record_destination_gateway_device_and_metric() {
    let r = run(&format!(
        r#"{WIRED}red.route("10.1.0.0/16", "10.0.0.2");
red.route("default", #{{ dev: "a", metric: 5 }});
red.route("fd01::/64", #{{ via: "fd00::2" }});"#
    ));
    r.ok();
    let route =
        |dst: Option<&str>, v6, via: Option<&str>, dev: Option<&str>, metric| Op::RouteAdd {
            ns: ns("red"),
            route: Route {
                dst: dst.map(|d| d.parse().unwrap()),
                v6,
                via: via.map(|v| v.parse().unwrap()),
                dev: dev.map(str::to_string),
                metric,
            },
        };
    assert_eq!(
        r.ops[5..],
        [
            route(Some("10.1.0.0/16"), false, Some("10.0.0.2"), None, None),
            route(None, false, None, Some("a"), Some(5)),
            route(Some("fd01::/64"), true, Some("fd00::2"), None, None),
        ]
    );
    assert_eq!(
        r.lines()[r.lines().len() - 6..],
        [
            "# -e:6",
            "ip -n red route add 10.1.0.0/16 via 10.0.0.2",
            "# -e:7",
            "ip -n red route add default dev a metric 5",
            "# -e:8",
            "ip -n red -6 route add fd01::/64 via fd00::2",
        ]
    );
}

#[test]
fn a_route_the_network_cannot_take_fails_at_its_line() {
    let (m, at) = error_of(&format!(r#"{WIRED}red.route("10.2.0.0/16", "10.9.9.9");"#));
    assert_eq!(
        m,
        r#"red.route("10.2.0.0/16", "10.9.9.9"): route 10.2.0.0/16 in namespace "red": gateway 10.9.9.9 is not on a directly connected network"#
    );
    assert_eq!(at, (6, 5));
    assert_message(
        r#"route("fd01::/64", #{ via: "fe80::1" })"#,
        r#"route("fd01::/64", #{ via: "fe80::1" })"#,
        &["gateway fe80::1 is link-local, so it needs the link too"],
    );
    assert_message(
        r#"route("10.0.0.0/8", #{ via: "nope" })"#,
        r#"route("10.0.0.0/8", #{ via: "nope" })"#,
        &["via: "],
    );
}

#[test]
fn forward_sets_both_forwarding_sysctls() {
    let sysctl = |key: &str, value: &str| Op::Sysctl {
        ns: ns("red"),
        key: key.into(),
        value: value.into(),
    };
    assert_eq!(
        ops(r#"let red = netns("red"); red.forward(true); red.forward(false);"#)[1..],
        [
            sysctl("net.ipv4.ip_forward", "1"),
            sysctl("net.ipv6.conf.all.forwarding", "1"),
            sysctl("net.ipv4.ip_forward", "0"),
            sysctl("net.ipv6.conf.all.forwarding", "0"),
        ]
    );
}

#[test]
fn sysctl_writes_ints_and_booleans_as_the_kernel_reads_them_and_reads_back() {
    let r = run(r#"let red = netns("red");
                   red.sysctl("net.ipv4.conf.all.rp_filter", 2);
                   red.sysctl("net.ipv4.conf.all.arp_ignore", true);
                   red.sysctl("net.ipv4.conf.all.arp_announce", "1");
                   red.sysctl("net.ipv4.conf.all.rp_filter")"#);
    assert_eq!(crate::lang::show_value(r.ok()), "2");
    let values: Vec<_> = r.ops[1..]
        .iter()
        .map(|o| match o {
            Op::Sysctl { value, .. } => value.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(values, ["2", "1", "1"]);
    assert!(r
        .plan
        .contains("ip netns exec red sysctl -qw net.ipv4.conf.all.rp_filter=2\n"));
    assert_eq!(value(r#"sysctl("net.ipv4.ip_forward")"#), "0");
}

#[test]
fn sysctl_keys_and_values_are_checked() {
    assert_message(
        r#"sysctl("../../etc/passwd", 1)"#,
        r#"sysctl("../../etc/passwd", 1)"#,
        &["../../etc/passwd"],
    );
    assert_eq!(
        error_of(r#"sysctl("net.ipv4.ip_forward", [])"#).0,
        r#"sysctl("net.ipv4.ip_forward", []): the value must be a string, not array"#
    );
}
