//! lang/firewall.rs: masquerade, unmasquerade, port_forward, drop / accept / reject, rules.

use crate::lab::firewall::{Action, Chain, Proto, Rule};
use crate::lab::op::Op;
use crate::lang::test_support::{assert_message, error_of, ns, run};

/// The rules of each `NftAdd` / `NftDel` in `ops`, tags cleared (they are unique per rule).
fn rules(ops: &[Op]) -> Vec<(&'static str, Rule)> {
    ops.iter()
        .flat_map(|o| match o {
            Op::NftAdd { rules, .. } => rules.iter().map(|r| ("add", r.clone())).collect(),
            Op::NftDel { rules, .. } => rules.iter().map(|r| ("del", r.clone())).collect(),
            _ => vec![],
        })
        .map(|(verb, mut r)| {
            assert!(!r.id.is_empty(), "a rule carries a tag to find it by");
            r.id.clear();
            (verb, r)
        })
        .collect()
}

#[test]
fn masquerade_records_a_postrouting_rule_for_the_network() {
    let r = run(r#"let red = netns("red");
                   red.masquerade("10.0.0.5/24", #{ not_out: "br0" });
                   red.unmasquerade("10.0.0.5/24", #{ not_out: "br0" });"#);
    r.ok();
    let mut want = Rule::new(Chain::Postrouting, Action::Masquerade);
    want.src = Some("10.0.0.0/24".parse().unwrap());
    want.not_oif = Some("br0".into());
    assert_eq!(rules(&r.ops), [("add", want.clone()), ("del", want)]);
    assert!(r.ops.iter().all(|o| o.ns() == ns("red")));
    assert!(
        r.plan.contains(
            r#"ip netns exec red nft 'add rule inet netscript postrouting ip saddr 10.0.0.0/24 oifname != "br0" masquerade comment "ns-"#
        ),
        "{}",
        r.plan
    );
}

#[test]
fn unmasquerade_of_a_rule_never_made_says_so() {
    assert_eq!(
        error_of(r#"unmasquerade("10.0.0.0/24")"#).0,
        r#"unmasquerade("10.0.0.0/24"): no such masquerade rule"#
    );
}

#[test]
fn port_forward_records_a_dnat_for_packets_from_outside_and_from_inside() {
    let r = run(r#"port_forward(8080, "10.0.0.2:80", #{ proto: "udp" })"#);
    r.ok();
    let dnat = |chain| {
        let mut rule = Rule::new(chain, Action::Dnat("10.0.0.2:80".parse().unwrap()));
        rule.local_dst = true;
        rule.proto = Some(Proto::Udp);
        rule.dport = Some(8080);
        ("add", rule)
    };
    assert_eq!(
        rules(&r.ops),
        [dnat(Chain::Prerouting), dnat(Chain::OutputNat)]
    );
}

#[test]
fn port_forward_arguments_are_checked() {
    for (code, why) in [
        (
            r#"port_forward(0, "10.0.0.2:80")"#,
            "port 0 is out of range (1..=65535)",
        ),
        (
            r#"port_forward(65536, "10.0.0.2:80")"#,
            "port 65536 is out of range (1..=65535)",
        ),
        (
            r#"port_forward(80, "10.0.0.2:0")"#,
            r#""10.0.0.2:0": port 0 is not a destination"#,
        ),
        (
            r#"port_forward(80, "10.0.0.2:80", #{ proto: "sctp" })"#,
            r#"proto "sctp" is not "tcp" or "udp""#,
        ),
    ] {
        assert_message(code, code, &[why]);
    }
    assert_message(
        r#"port_forward(80, "10.0.0.2")"#,
        r#"port_forward(80, "10.0.0.2")"#,
        &["10.0.0.2"],
    );
}

#[test]
fn filter_rules_go_to_their_chain_with_their_matches() {
    let r = run(r#"drop(#{ proto: "tcp", dport: 22 });
                   accept(#{ chain: "forward", iif: "a", oif: "b", src: "10.0.0.0/8" });
                   reject(#{ chain: "output", dst: "10.9.0.0/16", proto: "udp", sport: 53 });"#);
    r.ok();
    let mut drop = Rule::new(Chain::Input, Action::Drop);
    drop.proto = Some(Proto::Tcp);
    drop.dport = Some(22);
    let mut accept = Rule::new(Chain::Forward, Action::Accept);
    accept.iif = Some("a".into());
    accept.oif = Some("b".into());
    accept.src = Some("10.0.0.0/8".parse().unwrap());
    let mut reject = Rule::new(Chain::Output, Action::Reject);
    reject.dst = Some("10.9.0.0/16".parse().unwrap());
    reject.proto = Some(Proto::Udp);
    reject.sport = Some(53);
    assert_eq!(
        rules(&r.ops),
        [("add", drop), ("add", accept), ("add", reject)]
    );
    assert!(
        r.plan
            .contains("\nnft 'add rule inet netscript input tcp dport 22 drop comment \"ns-"),
        "{}",
        r.plan
    );
}

#[test]
fn filter_options_that_cannot_match_are_refused() {
    for (code, why) in [
        (
            r#"drop(#{ chain: "nope" })"#,
            r#"chain "nope" is not "input", "forward" or "output""#,
        ),
        (
            r#"drop(#{ proto: "gre" })"#,
            r#"proto "gre" is not "tcp", "udp", "icmp" or "icmpv6""#,
        ),
        (
            r#"drop(#{ dport: 22 })"#,
            r#"a port needs proto "tcp" or "udp""#,
        ),
        (
            r#"drop(#{ proto: "icmp", sport: 1 })"#,
            r#"a port needs proto "tcp" or "udp""#,
        ),
        (
            r#"drop(#{ dport: 0, proto: "tcp" })"#,
            "option dport = 0 is out of range (1..=65535)",
        ),
        (
            r#"drop(#{ chain: "output", iif: "a" })"#,
            "iif cannot be matched in the output chain",
        ),
        (
            r#"accept(#{ oif: "a" })"#,
            "oif cannot be matched in the input chain",
        ),
        (r#"reject(#{ src: "10.0.0.300/8" })"#, "src: "),
        (r#"reject(#{ iif: "a/b" })"#, "iif: "),
        (r#"reject(#{ port: 1 })"#, r#"unknown option "port""#),
    ] {
        assert_message(code, code, &[why]);
    }
}

#[test]
fn rules_lists_what_the_namespace_holds() {
    let r = run(r#"let red = netns("red");
                   red.drop(#{ proto: "tcp", dport: 22 });
                   red.rules()"#);
    let text = crate::lang::show_value(r.ok());
    assert!(text.contains("tcp dport 22 drop"), "{text}");
    assert_eq!(r.ops.len(), 2, "asking records nothing");
}
