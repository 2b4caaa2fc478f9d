//! Addresses, routes, forwarding and sysctls in a namespace.

use rhai::{Dynamic, Engine, Map};

use super::{call, fail, to_link, to_str, Ctx, Opts, OrFail, RhaiResult};
use crate::lab::names::{self, Cidr};
use crate::lab::op::{Op, Route};
use crate::ns_fn;

fn sysctl_key(c: &str, key: &str) -> RhaiResult<String> {
    names::sysctl_key(key).or_fail(c)
}

fn route(cx: &Ctx, c: &str, ns: &super::Netns, dst: &str, o: Opts) -> RhaiResult<()> {
    let dst = names::route_dst(dst).or_fail(c)?;
    let via = o
        .str("via")?
        .map(|v| names::ip(&v).map_err(|e| fail(c, format!("via: {e}"))))
        .transpose()?;
    let dev = o.get("dev").map(|d| to_link(c, &ns.ns, &d)).transpose()?;
    let metric = o.int("metric", 0, u32::MAX as i64)?.map(|m| m as u32);
    if via.is_none() && dev.is_none() {
        return Err(fail(c, "a route needs a gateway (via) or a device (dev)"));
    }
    // A link-local gateway is on every link at once: the kernel needs to be told which.
    if let (Some(std::net::IpAddr::V6(v)), None) = (via, &dev) {
        if v.segments()[0] & 0xffc0 == 0xfe80 {
            return Err(fail(
                c,
                format!("gateway {v} is link-local, so it needs the link too: route(DST, #{{ via: \"{v}\", dev: \"LINK\" }})"),
            ));
        }
    }
    let v6 = match (dst, via) {
        (Some(d), Some(v)) if d.addr.is_ipv6() != v.is_ipv6() => {
            return Err(fail(
                c,
                format!("destination {d} and gateway {v} are different IP versions"),
            ))
        }
        (Some(d), _) => d.addr.is_ipv6(),
        (None, Some(v)) => v.is_ipv6(),
        (None, None) => false,
    };
    let r = Route {
        dst,
        v6,
        via,
        dev,
        metric,
    };
    cx.borrow_mut()
        .apply(Op::RouteAdd {
            ns: ns.ns.clone(),
            route: r,
        })
        .or_fail(c)
}

/// `addr(dev, cidr[, opts])`: `ip addr add CIDR dev DEV [nodad]`.
fn addr(cx: &Ctx, c: &str, ns: super::Netns, l: &Dynamic, cidr: &str, o: Opts) -> RhaiResult<()> {
    let dev = to_link(c, &ns.ns, l)?;
    let cidr: Cidr = cidr.parse().or_fail(c)?;
    let nodad = addr_nodad(c, &cidr, &o)?;
    cx.borrow_mut()
        .apply(Op::AddrAdd {
            ns: ns.ns,
            dev,
            cidr,
            nodad,
        })
        .or_fail(c)
}

/// The `nodad` option of `addr`: IPv6 only (IPv4 has no duplicate address detection).
pub fn addr_nodad(c: &str, cidr: &Cidr, o: &Opts) -> RhaiResult<bool> {
    let nodad = o.bool("nodad")?.unwrap_or(false);
    if nodad && !cidr.addr.is_ipv6() {
        return Err(fail(
            c,
            format!("nodad: {cidr} is IPv4, which has no duplicate address detection"),
        ));
    }
    Ok(nodad)
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip addr add CIDR dev DEV
    ns_fn!(engine, ctx, "addr", |cx,
                                 ns,
                                 l: Dynamic,
                                 cidr: &str|
     -> () {
        let c = call(Some(&ns), "addr", &[l.clone(), cidr.into()]);
        addr(cx, &c, ns, &l, cidr, Opts::new(&c, Map::new(), &[])?)
    });
    // ip addr add CIDR dev DEV [nodad]
    ns_fn!(engine, ctx, "addr", |cx,
                                 ns,
                                 l: Dynamic,
                                 cidr: &str,
                                 opts: Map|
     -> () {
        let c = call(
            Some(&ns),
            "addr",
            &[l.clone(), cidr.into(), opts.clone().into()],
        );
        addr(cx, &c, ns, &l, cidr, Opts::new(&c, opts, &["nodad"])?)
    });
    // ip route add DST via VIA
    ns_fn!(engine, ctx, "route", |cx, ns, dst: &str, via: &str| -> () {
        let c = call(Some(&ns), "route", &[dst.into(), via.into()]);
        let mut m = Map::new();
        m.insert("via".into(), via.into());
        route(cx, &c, &ns, dst, Opts::new(&c, m, &["via"])?)
    });
    // ip route add DST [via VIA] [dev DEV] [metric M]
    ns_fn!(engine, ctx, "route", |cx, ns, dst: &str, opts: Map| -> () {
        let c = call(Some(&ns), "route", &[dst.into(), opts.clone().into()]);
        route(
            cx,
            &c,
            &ns,
            dst,
            Opts::new(&c, opts, &["via", "dev", "metric"])?,
        )
    });
    // sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    ns_fn!(engine, ctx, "forward", |cx, ns, on: bool| -> () {
        let c = call(Some(&ns), "forward", &[on.into()]);
        let v = if on { "1" } else { "0" };
        let mut s = cx.borrow_mut();
        for key in ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"] {
            s.apply(Op::Sysctl {
                ns: ns.ns.clone(),
                key: key.into(),
                value: v.into(),
            })
            .or_fail(&c)?;
        }
        drop(s);
        if on {
            // A foreign forward chain that drops (Docker's) would still cut the lab off.
            super::foreign::open(cx, &c, &ns.ns, super::foreign::Devs::LabLinks)?;
        }
        Ok(())
    });
    // sysctl KEY
    ns_fn!(engine, ctx, "sysctl", |cx, ns, key: &str| -> String {
        let c = call(Some(&ns), "sysctl", &[key.into()]);
        let k = sysctl_key(&c, key)?;
        cx.borrow_mut().query(|b| b.sysctl(&ns.ns, &k)).or_fail(&c)
    });
    // sysctl -w KEY=VALUE
    ns_fn!(engine, ctx, "sysctl", |cx,
                                   ns,
                                   key: &str,
                                   value: Dynamic|
     -> () {
        let c = call(Some(&ns), "sysctl", &[key.into(), value.clone()]);
        let k = sysctl_key(&c, key)?;
        let v = if value.is_int() || value.is_bool() {
            value.to_string()
        } else {
            to_str(&c, "the value", &value)?
        };
        let v = if v == "true" {
            "1".into()
        } else if v == "false" {
            "0".into()
        } else {
            v
        };
        cx.borrow_mut()
            .apply(Op::Sysctl {
                ns: ns.ns,
                key: k,
                value: v,
            })
            .or_fail(&c)
    });
}
