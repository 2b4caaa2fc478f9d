//! NAT and filter rules: masquerade, port_forward, drop / accept / reject, rules().

use rhai::{Engine, Map};

use super::{call, fail, Ctx, Netns, Opts, OrFail, RhaiResult};
use crate::lab::firewall::{Action, Chain, Proto, Rule};
use crate::lab::names::{self, Cidr};
use crate::lab::op::Op;
use crate::ns_fn;

fn add(cx: &Ctx, c: &str, ns: &Netns, rules: Vec<Rule>) -> RhaiResult<()> {
    let rules = rules.into_iter().map(Rule::tagged).collect();
    cx.borrow_mut()
        .apply(Op::NftAdd {
            ns: ns.ns.clone(),
            rules,
        })
        .or_fail(c)
}

fn ifname_opt(c: &str, o: &Opts, key: &str) -> RhaiResult<Option<String>> {
    let v = o.str(key)?;
    if let Some(n) = &v {
        names::ifname(n).map_err(|e| fail(c, format!("{key}: {e}")))?;
    }
    Ok(v)
}

fn cidr_opt(c: &str, o: &Opts, key: &str) -> RhaiResult<Option<Cidr>> {
    o.str(key)?
        .map(|s| {
            s.parse::<Cidr>()
                .map_err(|e| fail(c, format!("{key}: {e}")))
        })
        .transpose()
}

fn masquerade_rule(c: &str, src: &str, opts: Map) -> RhaiResult<Rule> {
    let o = Opts::new(c, opts, &["out", "not_out"])?;
    let src: Cidr = src.parse().or_fail(c)?;
    let mut r = Rule::new(Chain::Postrouting, Action::Masquerade);
    r.src = Some(src.network());
    r.oif = ifname_opt(c, &o, "out")?;
    r.not_oif = ifname_opt(c, &o, "not_out")?;
    Ok(r)
}

fn masquerade(cx: &Ctx, c: &str, ns: &Netns, src: &str, opts: Map) -> RhaiResult<()> {
    let r = masquerade_rule(c, src, opts)?;
    add(cx, c, ns, vec![r])
}

/// Delete the masquerade rules that match this description, as `iptables -t nat -D` does.
fn unmasquerade(cx: &Ctx, c: &str, ns: &Netns, src: &str, opts: Map) -> RhaiResult<()> {
    let r = masquerade_rule(c, src, opts)?.any_like();
    cx.borrow_mut()
        .apply(Op::NftDel {
            ns: ns.ns.clone(),
            rules: vec![r],
        })
        .map_err(|e| match e {
            crate::error::Error::Missing(_) => fail(c, "no such masquerade rule"),
            e => fail(c, e),
        })
}

fn port_forward(
    cx: &Ctx,
    c: &str,
    ns: &Netns,
    port: i64,
    target: &str,
    opts: Map,
) -> RhaiResult<()> {
    let o = Opts::new(c, opts, &["proto"])?;
    if !(1..=65535).contains(&port) {
        return Err(fail(c, format!("port {port} is out of range (1..=65535)")));
    }
    let to = names::socket_addr(target).or_fail(c)?;
    if to.port() == 0 {
        return Err(fail(c, format!("{target:?}: port 0 is not a destination")));
    }
    let proto = match o.str("proto")?.as_deref() {
        None | Some("tcp") => Proto::Tcp,
        Some("udp") => Proto::Udp,
        Some(p) => return Err(fail(c, format!("proto {p:?} is not \"tcp\" or \"udp\""))),
    };
    // As Docker does: packets from outside arrive through prerouting, packets the
    // namespace sends to its own address through the output hook.
    let rules = [Chain::Prerouting, Chain::OutputNat]
        .into_iter()
        .map(|chain| {
            let mut r = Rule::new(chain, Action::Dnat(to));
            r.local_dst = true;
            r.proto = Some(proto);
            r.dport = Some(port as u16);
            r
        })
        .collect();
    add(cx, c, ns, rules)
}

fn filter(cx: &Ctx, c: &str, ns: &Netns, action: Action, opts: Map) -> RhaiResult<()> {
    let o = Opts::new(
        c,
        opts,
        &[
            "chain", "proto", "dport", "sport", "src", "dst", "iif", "oif",
        ],
    )?;
    let chain = match o.str("chain")? {
        None => Chain::Input,
        Some(s) => Chain::parse(&s).ok_or_else(|| {
            fail(
                c,
                format!("chain {s:?} is not \"input\", \"forward\" or \"output\""),
            )
        })?,
    };
    let mut r = Rule::new(chain, action);
    r.proto = o
        .str("proto")?
        .map(|p| {
            Proto::parse(&p).ok_or_else(|| {
                fail(
                    c,
                    format!("proto {p:?} is not \"tcp\", \"udp\", \"icmp\" or \"icmpv6\""),
                )
            })
        })
        .transpose()?;
    r.dport = o.int("dport", 1, 65535)?.map(|p| p as u16);
    r.sport = o.int("sport", 1, 65535)?.map(|p| p as u16);
    if (r.dport.is_some() || r.sport.is_some()) && !r.proto.is_some_and(Proto::has_ports) {
        return Err(fail(c, "a port needs proto \"tcp\" or \"udp\""));
    }
    r.src = cidr_opt(c, &o, "src")?;
    r.dst = cidr_opt(c, &o, "dst")?;
    r.iif = ifname_opt(c, &o, "iif")?;
    r.oif = ifname_opt(c, &o, "oif")?;
    if r.iif.is_some() && chain == Chain::Output {
        return Err(fail(
            c,
            "iif cannot be matched in the output chain (packets there have no input interface)",
        ));
    }
    if r.oif.is_some() && chain == Chain::Input {
        return Err(fail(
            c,
            "oif cannot be matched in the input chain (packets there have no output interface)",
        ));
    }
    add(cx, c, ns, vec![r])
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // iptables -t nat -A POSTROUTING -s SRC -j MASQUERADE
    ns_fn!(engine, ctx, "masquerade", |cx, ns, src: &str| -> () {
        let c = call(Some(&ns), "masquerade", &[src.into()]);
        masquerade(cx, &c, &ns, src, Map::new())
    });
    // iptables -t nat -A POSTROUTING -s SRC [! -o IF | -o IF] -j MASQUERADE
    ns_fn!(engine, ctx, "masquerade", |cx,
                                       ns,
                                       src: &str,
                                       opts: Map|
     -> () {
        let c = call(Some(&ns), "masquerade", &[src.into(), opts.clone().into()]);
        masquerade(cx, &c, &ns, src, opts)
    });
    // iptables -t nat -D POSTROUTING -s SRC [! -o IF] -j MASQUERADE
    ns_fn!(engine, ctx, "unmasquerade", |cx, ns, src: &str| -> () {
        let c = call(Some(&ns), "unmasquerade", &[src.into()]);
        unmasquerade(cx, &c, &ns, src, Map::new())
    });
    ns_fn!(engine, ctx, "unmasquerade", |cx,
                                         ns,
                                         src: &str,
                                         opts: Map|
     -> () {
        let c = call(
            Some(&ns),
            "unmasquerade",
            &[src.into(), opts.clone().into()],
        );
        unmasquerade(cx, &c, &ns, src, opts)
    });
    // iptables -t nat -A PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -p tcp --dport P -j DNAT --to IP:PORT
    ns_fn!(engine, ctx, "port_forward", |cx,
                                         ns,
                                         port: i64,
                                         target: &str|
     -> () {
        let c = call(Some(&ns), "port_forward", &[port.into(), target.into()]);
        port_forward(cx, &c, &ns, port, target, Map::new())
    });
    ns_fn!(engine, ctx, "port_forward", |cx,
                                         ns,
                                         port: i64,
                                         target: &str,
                                         opts: Map|
     -> () {
        let c = call(
            Some(&ns),
            "port_forward",
            &[port.into(), target.into(), opts.clone().into()],
        );
        port_forward(cx, &c, &ns, port, target, opts)
    });
    // iptables -A INPUT -p tcp --dport 22 -j DROP (and ACCEPT, REJECT)
    ns_fn!(engine, ctx, "drop", |cx, ns, opts: Map| -> () {
        let c = call(Some(&ns), "drop", &[opts.clone().into()]);
        filter(cx, &c, &ns, Action::Drop, opts)
    });
    ns_fn!(engine, ctx, "accept", |cx, ns, opts: Map| -> () {
        let c = call(Some(&ns), "accept", &[opts.clone().into()]);
        filter(cx, &c, &ns, Action::Accept, opts)
    });
    ns_fn!(engine, ctx, "reject", |cx, ns, opts: Map| -> () {
        let c = call(Some(&ns), "reject", &[opts.clone().into()]);
        filter(cx, &c, &ns, Action::Reject, opts)
    });
    // nft list table inet netscript
    ns_fn!(engine, ctx, "rules", |cx, ns| -> String {
        let c = call(Some(&ns), "rules", &[]);
        cx.borrow_mut().query(|b| b.rules(&ns.ns)).or_fail(&c)
    });
}
