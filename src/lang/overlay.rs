//! Beyond one host and one perfect wire: vxlan links, and links made slow or lossy
//! on purpose (impair / unimpair).

use rhai::{Dynamic, Engine, Map};

use super::{call, fail, to_link, Ctx, Link, Opts, OrFail, RhaiResult};
use crate::error::Error;
use crate::lab::names;
use crate::lab::op::{LinkSpec, Ns, Op, Qdisc};
use crate::ns_fn;

fn vxlan(cx: &Ctx, c: &str, default_ns: &Ns, name: &str, opts: Map) -> RhaiResult<Link> {
    let o = Opts::new(
        c,
        opts,
        &[
            "vni", "remote", "remotes", "local", "dev", "port", "group", "ns",
        ],
    )?;
    names::ifname(name).or_fail(c)?;
    let vni = o
        .int("vni", 1, 16_777_215)?
        .ok_or_else(|| fail(c, "option vni (1..=16777215) is required"))? as u32;
    let ip = |key: &str| -> RhaiResult<Option<std::net::IpAddr>> {
        o.str(key)?
            .map(|s| names::ip(&s).map_err(|e| fail(c, format!("{key}: {e}"))))
            .transpose()
    };
    let (remote, group, local) = (ip("remote")?, ip("group")?, ip("local")?);
    let remotes = remotes(c, o.get("remotes"))?;
    if !remotes.is_empty() && (remote.is_some() || group.is_some()) {
        return Err(fail(
            c,
            "give remotes (several peers), remote (one) or group (multicast), not more than one",
        ));
    }
    if let Some(l) = local {
        if let Some(r) = remotes.iter().find(|r| r.is_ipv6() != l.is_ipv6()) {
            return Err(fail(c, format!("remotes: {r} and local {l} are not one IP version: the underlay is one IP version")));
        }
    }
    if remote.is_some() && group.is_some() {
        return Err(fail(
            c,
            "give remote (unicast) or group (multicast), not both",
        ));
    }
    // The kernel answers a mix with a bare "Invalid argument".
    if let (Some(peer), Some(l)) = (remote.or(group), local) {
        if peer.is_ipv6() != l.is_ipv6() {
            let v = |a: &std::net::IpAddr| if a.is_ipv6() { "IPv6" } else { "IPv4" };
            return Err(fail(
                c,
                format!(
                    "{} {peer} is {} but local {l} is {}: the underlay is one IP version",
                    if remote.is_some() { "remote" } else { "group" },
                    v(&peer),
                    v(&l)
                ),
            ));
        }
    }
    if let Some(g) = group {
        if !g.is_multicast() {
            return Err(fail(c, format!("group: {g} is not a multicast address")));
        }
    }
    let ns = o.ns("ns")?.unwrap_or_else(|| default_ns.clone());
    let dev = o.get("dev").map(|d| to_link(c, &ns, &d)).transpose()?;
    if group.is_some() && dev.is_none() {
        return Err(fail(c, "a multicast group needs dev, the underlay link"));
    }
    let port = o.int("port", 1, 65535)?.unwrap_or(4789) as u16;
    cx.borrow_mut()
        .apply(Op::LinkAdd {
            ns: ns.clone(),
            name: name.into(),
            spec: LinkSpec::Vxlan {
                vni,
                remote,
                group,
                local,
                dev,
                port,
                remotes,
            },
        })
        .or_fail(c)?;
    Ok(Link {
        ns,
        name: name.into(),
    })
}

/// `remotes: [..]`: the peers' addresses, at least one, each once.
fn remotes(c: &str, v: Option<Dynamic>) -> RhaiResult<Vec<std::net::IpAddr>> {
    let Some(v) = v else { return Ok(vec![]) };
    let Some(list) = v.clone().try_cast::<rhai::Array>() else {
        return Err(fail(
            c,
            format!(
                "remotes: expected an array of addresses, got {}",
                super::type_label(&v)
            ),
        ));
    };
    if list.is_empty() {
        return Err(fail(c, "remotes: give at least one address"));
    }
    let mut out = Vec::new();
    for r in list {
        let Some(s) = r.clone().try_cast::<rhai::ImmutableString>() else {
            return Err(fail(c, format!("remotes: {r} is not an address string")));
        };
        let a = names::ip(&s).map_err(|e| fail(c, format!("remotes: {e}")))?;
        if out.contains(&a) {
            return Err(fail(c, format!("remotes: {a} is given twice")));
        }
        out.push(a);
    }
    Ok(out)
}

/// Remove what impaired the link; nothing there is fine.
fn clear(cx: &Ctx, c: &str, l: &Link) -> RhaiResult<()> {
    let mut s = cx.borrow_mut();
    for op in [
        Op::QdiscDel {
            ns: l.ns.clone(),
            dev: l.name.clone(),
        },
        Op::LossDel {
            ns: l.ns.clone(),
            dev: l.name.clone(),
        },
    ] {
        match s.apply(op) {
            Ok(()) => {}
            Err(e) if e.is_gone() => {}
            Err(e) => return Err(fail(c, e)),
        }
    }
    Ok(())
}

fn impair(cx: &Ctx, c: &str, l: &Link, opts: Map) -> RhaiResult<()> {
    let o = Opts::new(c, opts, &["delay_ms", "jitter_ms", "loss_pct", "rate_kbit"])?;
    let delay = o.int("delay_ms", 0, 3_600_000)?.unwrap_or(0) as u32;
    let jitter = o.int("jitter_ms", 0, 3_600_000)?.unwrap_or(0) as u32;
    let loss = o.int("loss_pct", 0, 100)?.unwrap_or(0) as u32;
    let rate = o.int("rate_kbit", 1, 100_000_000)?.map(|r| r as u64);
    if jitter > 0 && delay == 0 {
        return Err(fail(c, "jitter_ms needs delay_ms"));
    }
    if rate.is_some() && delay > 0 {
        return Err(fail(c, "rate_kbit and delay_ms on one link need tbf and netem stacked, which netscript does not do yet: impair two links"));
    }
    cx.borrow_mut().check_link(&l.ns, &l.name).or_fail(c)?;
    clear(cx, c, l)?;
    let apply = |op: Op| cx.borrow_mut().apply(op);
    if delay > 0 {
        // netem or nothing: a delay has no fallback.
        let q = Qdisc::Netem {
            delay_ms: delay,
            jitter_ms: jitter,
            loss_pct: loss,
        };
        return apply(Op::QdiscSet {
            ns: l.ns.clone(),
            dev: l.name.clone(),
            qdisc: q,
        })
        .or_fail(c);
    }
    if let Some(r) = rate {
        apply(Op::QdiscSet {
            ns: l.ns.clone(),
            dev: l.name.clone(),
            qdisc: Qdisc::Tbf { rate_kbit: r },
        })
        .or_fail(c)?;
    }
    if loss > 0 {
        // netem where the kernel has it (and no tbf holds the root); else a random drop
        // on the link's egress hook, where netem would act (see crate::lab::egress).
        let netem = rate.is_none()
            && match apply(Op::QdiscSet {
                ns: l.ns.clone(),
                dev: l.name.clone(),
                qdisc: Qdisc::Netem {
                    delay_ms: 0,
                    jitter_ms: 0,
                    loss_pct: loss,
                },
            }) {
                Ok(()) => true,
                Err(Error::Unsupported(_)) => false,
                Err(e) => return Err(fail(c, e)),
            };
        if !netem {
            apply(Op::LossAdd {
                ns: l.ns.clone(),
                dev: l.name.clone(),
                pct: loss as u8,
            })
            .or_fail(c)?;
        }
    }
    Ok(())
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip link add NAME type vxlan id VNI remote R [local L] [dev D] dstport P
    ns_fn!(engine, ctx, "vxlan", |cx,
                                  ns,
                                  name: &str,
                                  opts: Map|
     -> Link {
        let c = call(Some(&ns), "vxlan", &[name.into(), opts.clone().into()]);
        vxlan(cx, &c, &ns.ns, name, opts)
    });
    // tc qdisc replace dev DEV root netem/tbf ... (or an nft random drop on DEV's egress)
    let cx = ctx.clone();
    engine.register_fn(
        "impair",
        move |at: rhai::NativeCallContext, l: &mut Link, opts: Map| -> RhaiResult<()> {
            super::locate(&cx, &at);
            let c = format!("{l}.impair({})", super::show(&Dynamic::from(opts.clone())));
            impair(&cx, &c, l, opts)
        },
    );
    // tc qdisc del dev DEV root
    let cx = ctx.clone();
    engine.register_fn(
        "unimpair",
        move |at: rhai::NativeCallContext, l: &mut Link| -> RhaiResult<()> {
            super::locate(&cx, &at);
            let c = format!("{l}.unimpair()");
            cx.borrow_mut().check_link(&l.ns, &l.name).or_fail(&c)?;
            clear(&cx, &c, l)
        },
    );
}
