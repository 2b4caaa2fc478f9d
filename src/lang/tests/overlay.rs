//! lang/overlay.rs: vxlan, impair, unimpair.

use crate::backend::model::ModelBackend;
use crate::backend::Features;
use crate::lab::op::{LinkSpec, Op, Qdisc};
use crate::lang::test_support::{assert_message, error_of, ns, run, run_over};

#[test]
fn vxlan_records_its_vni_peers_and_port() {
    let r = run(r#"let red = netns("red");
                   red.veth("u", "w");
                   red.vxlan("vx0", #{ vni: 42, remote: "10.0.0.2", dev: "u" });
                   vxlan("vx1", #{ vni: 7, remotes: ["10.0.0.2", "10.0.0.3"], port: 8472, ns: red });"#);
    r.ok();
    let spec = |op: &Op| match op {
        Op::LinkAdd {
            ns,
            name,
            spec:
                LinkSpec::Vxlan {
                    vni,
                    remote,
                    remotes,
                    dev,
                    port,
                    ..
                },
        } => (
            ns.clone(),
            name.clone(),
            *vni,
            remote.map(|a| a.to_string()),
            remotes.len(),
            dev.clone(),
            *port,
        ),
        other => panic!("not a vxlan: {other:?}"),
    };
    assert_eq!(
        spec(&r.ops[2]),
        (
            ns("red"),
            "vx0".into(),
            42,
            Some("10.0.0.2".into()),
            0,
            Some("u".into()),
            4789
        )
    );
    assert_eq!(
        spec(&r.ops[3]),
        (ns("red"), "vx1".into(), 7, None, 2, None, 8472)
    );
    assert!(
        r.plan.contains(
            "ip -n red link add name vx0 type vxlan id 42 remote 10.0.0.2 dev u dstport 4789\n"
        ),
        "{}",
        r.plan
    );
}

#[test]
fn vxlan_options_that_do_not_fit_together_are_refused() {
    for (opts, why) in [
        (
            "#{ remote: \"10.0.0.2\" }",
            "option vni (1..=16777215) is required",
        ),
        (
            "#{ vni: 0 }",
            "option vni = 0 is out of range (1..=16777215)",
        ),
        (
            "#{ group: \"239.1.1.1\", remote: \"10.0.0.2\", vni: 1 }",
            "give remote (unicast) or group (multicast), not both",
        ),
        (
            "#{ vni: 1, remotes: [\"10.0.0.2\"], remote: \"10.0.0.3\" }",
            "give remotes (several peers), remote (one) or group (multicast), not more than one",
        ),
        (
            "#{ vni: 1, remotes: [] }",
            "remotes: give at least one address",
        ),
        (
            "#{ vni: 1, remotes: [\"10.0.0.2\", \"10.0.0.2\"] }",
            "remotes: 10.0.0.2 is given twice",
        ),
        (
            "#{ vni: 1, remote: \"fd00::2\", local: \"10.0.0.1\" }",
            "remote fd00::2 is IPv6 but local 10.0.0.1 is IPv4: the underlay is one IP version",
        ),
        (
            "#{ vni: 1, group: \"10.0.0.9\", dev: \"lo\" }",
            "group: 10.0.0.9 is not a multicast address",
        ),
        (
            "#{ vni: 1, group: \"239.1.1.1\" }",
            "a multicast group needs dev, the underlay link",
        ),
        ("#{ vni: 1, port: 0 }", "option port = 0 is out of range"),
    ] {
        // (The call shows the map's keys in order, as Rhai keeps them.)
        let (m, _) = error_of(&format!(r#"vxlan("vx0", {opts})"#));
        assert!(m.starts_with(r#"vxlan("vx0", #{ "#), "{m}");
        assert!(
            m.ends_with(why) || m.contains(&format!("): {why}")),
            "{m:?} lacks {why:?}"
        );
    }
}

/// What `impair(#{ loss_pct: 10 })` then `unimpair()` record, over `model`.
fn loss_ops(model: ModelBackend) -> (Vec<Op>, String) {
    let r = run_over(
        model,
        r#"veth("a", "b");
           link("a").impair(#{ loss_pct: 10 });
           link("a").unimpair();"#,
    );
    r.ok();
    (r.ops[1..].to_vec(), r.plan)
}

#[test]
fn impair_loss_is_netem_where_the_kernel_has_it() {
    let (ops, plan) = loss_ops(ModelBackend::of_host(None));
    assert_eq!(
        ops,
        [
            Op::QdiscSet {
                ns: None,
                dev: "a".into(),
                qdisc: Qdisc::Netem {
                    delay_ms: 0,
                    jitter_ms: 0,
                    loss_pct: 10
                }
            },
            Op::QdiscDel {
                ns: None,
                dev: "a".into()
            },
        ]
    );
    assert!(
        plan.contains("tc qdisc replace dev a root netem loss 10%\n"),
        "{plan}"
    );
}

#[test]
fn impair_loss_without_netem_drops_at_random_on_the_egress_hook() {
    let (ops, plan) =
        loss_ops(ModelBackend::of_host(None).with_features(Features { netem: false }));
    assert_eq!(
        ops,
        [
            Op::LossAdd {
                ns: None,
                dev: "a".into(),
                pct: 10
            },
            Op::LossDel {
                ns: None,
                dev: "a".into()
            },
        ]
    );
    assert!(
        plan.contains("nft 'add rule netdev netscript impair-a numgen random mod 100 < 10 drop'"),
        "{plan}"
    );
}

#[test]
fn a_delay_without_netem_is_refused_at_the_call() {
    let r = run_over(
        ModelBackend::of_host(None).with_features(Features { netem: false }),
        "veth(\"a\", \"b\");\nlink(\"a\").impair(#{ delay_ms: 20 });",
    );
    let e = crate::lang::explain(&r.result.unwrap_err());
    assert!(
        e.message
            .starts_with(r#"Link("a").impair(#{ delay_ms: 20 }): "#),
        "{}",
        e.message
    );
    assert!(e.message.contains("netem"), "{}", e.message);
    assert_eq!(e.pos.line(), Some(2));
}

#[test]
fn impair_with_a_rate_sets_a_token_bucket_after_clearing_the_old_one() {
    let r = run(r#"veth("a", "b");
                   link("a").impair(#{ rate_kbit: 1000 });
                   link("a").impair(#{ rate_kbit: 2000 });"#);
    r.ok();
    let qdiscs: Vec<_> = r.ops[1..]
        .iter()
        .map(|o| match o {
            Op::QdiscSet { qdisc, .. } => format!("set {qdisc:?}"),
            Op::QdiscDel { .. } => "del".into(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        qdiscs,
        [
            "set Tbf { rate_kbit: 1000 }",
            "del",
            "set Tbf { rate_kbit: 2000 }"
        ]
    );
    assert!(matches!(
        r.ops[3],
        Op::QdiscSet {
            qdisc: Qdisc::Tbf { rate_kbit: 2000 },
            ..
        }
    ));
}

#[test]
fn impair_options_are_checked_and_the_link_must_exist() {
    for (opts, why) in [
        ("#{ jitter_ms: 5 }", "jitter_ms needs delay_ms"),
        (
            "#{ delay_ms: 5, rate_kbit: 10 }",
            "rate_kbit and delay_ms on one link need tbf and netem stacked",
        ),
        (
            "#{ loss_pct: 101 }",
            "option loss_pct = 101 is out of range (0..=100)",
        ),
        ("#{ lag: 1 }", r#"unknown option "lag""#),
    ] {
        let code = format!(r#"link("lo").impair({opts})"#);
        assert_message(&code, &format!(r#"Link("lo").impair({opts})"#), &[why]);
    }
    let (m, at) = error_of("let v = veth(\"a\", \"b\");\nv.a.delete();\nv.a.unimpair()");
    assert_eq!(m, r#"Link("a").unimpair(): link "a" does not exist"#);
    assert_eq!(at, (3, 5));
}
