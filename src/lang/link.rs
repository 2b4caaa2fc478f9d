//! Links: veth, bridge, link, and the `Link` and `Veth` handles.

use rhai::{Dynamic, Engine, Map, NativeCallContext};

use super::{call, fail, to_link, to_ns, Ctx, Link, Netns, Opts, OrFail, RhaiResult, Veth};
use crate::lab::names::{self, Cidr};
use crate::lab::op::{LinkSpec, Ns, Op};
use crate::ns_fn;

fn veth(
    cx: &Ctx,
    at: &NativeCallContext,
    recv: Option<&Netns>,
    a: &str,
    b: &str,
    opts: Map,
) -> RhaiResult<Veth> {
    let mut args: Vec<Dynamic> = vec![a.into(), b.into()];
    if !opts.is_empty() {
        args.push(opts.clone().into());
    }
    let c = &call(recv, "veth", &args);
    super::locate(cx, at);
    let default_ns = &recv.map(|n| n.ns.clone()).unwrap_or_default();
    let o = Opts::new(c, opts, &["a_ns", "b_ns", "mtu"])?;
    names::ifname(a).or_fail(c)?;
    names::ifname(b).or_fail(c)?;
    let a_ns = o.ns("a_ns")?.unwrap_or_else(|| default_ns.clone());
    let b_ns = o.ns("b_ns")?.unwrap_or_else(|| default_ns.clone());
    if a == b && a_ns == b_ns {
        return Err(fail(c, "the two ends need different names"));
    }
    let mtu = o.int("mtu", 68, 65535)?.map(|m| m as u32);
    let queues = crate::lab::tuning::veth_queues(cx.borrow().kernel_defaults);
    let op = Op::VethAdd {
        a: a.into(),
        a_ns: a_ns.clone(),
        b: b.into(),
        b_ns: b_ns.clone(),
        mtu,
        queues,
    };
    let at = super::at(at);
    cx.borrow_mut().veth(op, c.to_string(), at).or_fail(c)?;
    Ok(Veth {
        a: Link {
            ns: a_ns,
            name: a.into(),
        },
        b: Link {
            ns: b_ns,
            name: b.into(),
        },
    })
}

fn bridge(
    cx: &Ctx,
    c: &str,
    ns: &Ns,
    name: &str,
    cidr: Option<&str>,
    opts: Map,
) -> RhaiResult<Link> {
    let o = Opts::new(c, opts, &["lab_mode"])?;
    names::ifname(name).or_fail(c)?;
    let cidr: Option<Cidr> = cidr.map(|s| s.parse().or_fail(c)).transpose()?;
    let mut s = cx.borrow_mut();
    let mcast_snooping = crate::lab::tuning::bridge_mcast_snooping(s.kernel_defaults);
    let said = o.bool("lab_mode")?;
    let lab_mode = said.unwrap_or(s.lab_mode);
    s.apply(Op::LinkAdd {
        ns: ns.clone(),
        name: name.into(),
        spec: LinkSpec::Bridge {
            mcast_snooping,
            // As asked; on by `--lab-mode` alone is recorded as on.
            lab_mode: said.or(lab_mode.then_some(true)),
        },
    })
    .or_fail(c)?;
    // A plain bridge under a name a lab-mode one had (deleted by someone else) is plain.
    s.lab_bridges.remove(&(ns.clone(), name.to_string()));
    if lab_mode {
        s.lab_bridges.insert((ns.clone(), name.into()));
        let notice = crate::lab::tuning::lab_mode_notice(name);
        if s.notices.insert(notice.clone()) {
            match s.planning {
                true => s.note(notice),
                false => crate::errln!("{}", crate::style::warning(&notice)),
            }
        }
    }
    if let Some(cidr) = cidr {
        s.apply(Op::AddrAdd {
            ns: ns.clone(),
            dev: name.into(),
            cidr,
            nodad: false,
        })
        .or_fail(c)?;
    }
    drop(s);
    // With br_netfilter, a foreign forward chain that drops (Docker's) cuts it off.
    super::foreign::open(cx, c, ns, super::foreign::Devs::These(&[name.to_string()]))?;
    Ok(Link {
        ns: ns.clone(),
        name: name.into(),
    })
}

/// A handle to an existing link (checked now, so a typo fails at its own line).
fn existing(cx: &Ctx, c: &str, ns: &Ns, name: &str) -> RhaiResult<Link> {
    names::ifname(name).or_fail(c)?;
    cx.borrow_mut().check_link(ns, name).or_fail(c)?;
    Ok(Link {
        ns: ns.clone(),
        name: name.into(),
    })
}

fn link_call(l: &Link, name: &str, args: &[Dynamic]) -> String {
    let a: Vec<String> = args.iter().map(super::show).collect();
    format!("{l}.{name}({})", a.join(", "))
}

/// Register a `Link` method that makes a change: `link.NAME(args..)`.
macro_rules! link_fn {
    ($engine:expr, $ctx:expr, $name:literal, |$c:ident, $l:ident $(, $arg:ident : $ty:ty)*| $body:block) => {{
        let cx = $ctx.clone();
        $engine.register_fn($name, move |at: NativeCallContext, $l: &mut Link $(, $arg: $ty)*| -> RhaiResult<()> {
            let $c = &cx;
            super::locate($c, &at);
            $body
        });
    }};
}

/// `link.addr(cidr)` and `link.addr(cidr, #{ nodad })`.
fn link_addr(cx: &Ctx, l: &Link, cidr: &str, opts: Option<Map>) -> RhaiResult<()> {
    let mut args: Vec<Dynamic> = vec![cidr.into()];
    args.extend(opts.clone().map(Dynamic::from));
    let c = link_call(l, "addr", &args);
    let cidr: Cidr = cidr.parse().or_fail(&c)?;
    let nodad = match opts {
        Some(opts) => super::route::addr_nodad(&c, &cidr, &Opts::new(&c, opts, &["nodad"])?)?,
        None => false,
    };
    set(
        cx,
        &c,
        Op::AddrAdd {
            ns: l.ns.clone(),
            dev: l.name.clone(),
            cidr,
            nodad,
        },
    )
}

fn set(cx: &Ctx, c: &str, op: Op) -> RhaiResult<()> {
    cx.borrow_mut().apply(op).or_fail(c)
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip link add A type veth peer name B (the call's position is kept: the creation
    // may be applied a moment later, folded with the moves that follow it)
    let cx = ctx.clone();
    engine.register_fn("veth", move |at: NativeCallContext, a: &str, b: &str| {
        veth(&cx, &at, None, a, b, Map::new())
    });
    let cx = ctx.clone();
    engine.register_fn(
        "veth",
        move |at: NativeCallContext, a: &str, b: &str, o: Map| veth(&cx, &at, None, a, b, o),
    );
    let cx = ctx.clone();
    engine.register_fn(
        "veth",
        move |at: NativeCallContext, ns: &mut Netns, a: &str, b: &str| {
            veth(&cx, &at, Some(ns), a, b, Map::new())
        },
    );
    let cx = ctx.clone();
    engine.register_fn(
        "veth",
        move |at: NativeCallContext, ns: &mut Netns, a: &str, b: &str, o: Map| {
            veth(&cx, &at, Some(ns), a, b, o)
        },
    );
    // ip link add NAME type bridge; ip link set NAME up
    ns_fn!(engine, ctx, "bridge", |cx, ns, name: &str| -> Link {
        let c = call(Some(&ns), "bridge", &[name.into()]);
        bridge(cx, &c, &ns.ns, name, None, Map::new())
    });
    ns_fn!(engine, ctx, "bridge", |cx,
                                   ns,
                                   name: &str,
                                   cidr: &str|
     -> Link {
        let c = call(Some(&ns), "bridge", &[name.into(), cidr.into()]);
        bridge(cx, &c, &ns.ns, name, Some(cidr), Map::new())
    });
    // ip link add NAME type bridge, with options (lab_mode)
    ns_fn!(engine, ctx, "bridge", |cx,
                                   ns,
                                   name: &str,
                                   o: Map|
     -> Link {
        let c = call(Some(&ns), "bridge", &[name.into(), o.clone().into()]);
        bridge(cx, &c, &ns.ns, name, None, o)
    });
    ns_fn!(engine, ctx, "bridge", |cx,
                                   ns,
                                   name: &str,
                                   cidr: &str,
                                   o: Map|
     -> Link {
        let c = call(
            Some(&ns),
            "bridge",
            &[name.into(), cidr.into(), o.clone().into()],
        );
        bridge(cx, &c, &ns.ns, name, Some(cidr), o)
    });
    // ip link show DEV
    ns_fn!(engine, ctx, "link", |cx, ns, name: &str| -> Link {
        let c = call(Some(&ns), "link", &[name.into()]);
        existing(cx, &c, &ns.ns, name)
    });
    // ip link set DEV up / down
    for (verb, up) in [("up", true), ("down", false)] {
        ns_fn!(engine, ctx, verb, |cx, ns, l: Dynamic| -> () {
            let c = call(Some(&ns), verb, std::slice::from_ref(&l));
            let name = to_link(&c, &ns.ns, &l)?;
            set(
                cx,
                &c,
                Op::LinkSet {
                    ns: ns.ns,
                    name,
                    up,
                },
            )
        });
    }

    engine.register_get("a", |v: &mut Veth| v.a.clone());
    engine.register_get("b", |v: &mut Veth| v.b.clone());
    engine.register_get("name", |l: &mut Link| l.name.clone());
    engine.register_get("ns", |l: &mut Link| Netns { ns: l.ns.clone() });
    for (prop, pick) in [
        (
            "kind",
            (|i: crate::backend::LinkInfo| Dynamic::from(i.kind.to_string()))
                as fn(crate::backend::LinkInfo) -> Dynamic,
        ),
        ("mac", |i| Dynamic::from(i.mac)),
        ("peer", |i| {
            i.peer.map(Dynamic::from).unwrap_or(Dynamic::UNIT)
        }),
    ] {
        let cx = ctx.clone();
        engine.register_get(prop, move |l: &mut Link| -> RhaiResult<Dynamic> {
            let info = cx
                .borrow_mut()
                .query(|b| b.link(&l.ns, &l.name))
                .or_fail(&format!("{l}.{prop}"))?;
            Ok(pick(info))
        });
    }

    // ip link set DEV up / down
    link_fn!(engine, ctx, "up", |cx, l| {
        set(
            cx,
            &link_call(l, "up", &[]),
            Op::LinkSet {
                ns: l.ns.clone(),
                name: l.name.clone(),
                up: true,
            },
        )
    });
    link_fn!(engine, ctx, "down", |cx, l| {
        set(
            cx,
            &link_call(l, "down", &[]),
            Op::LinkSet {
                ns: l.ns.clone(),
                name: l.name.clone(),
                up: false,
            },
        )
    });
    // ip addr add CIDR dev DEV [nodad]
    link_fn!(engine, ctx, "addr", |cx, l, cidr: &str| {
        link_addr(cx, l, cidr, None)
    });
    link_fn!(engine, ctx, "addr", |cx, l, cidr: &str, opts: Map| {
        link_addr(cx, l, cidr, Some(opts))
    });
    // ip link set DEV mtu N
    link_fn!(engine, ctx, "mtu", |cx, l, mtu: i64| {
        let c = link_call(l, "mtu", &[mtu.into()]);
        if !(68..=65535).contains(&mtu) {
            return Err(fail(&c, format!("MTU {mtu} is out of range (68..=65535)")));
        }
        set(
            cx,
            &c,
            Op::LinkMtu {
                ns: l.ns.clone(),
                name: l.name.clone(),
                mtu: mtu as u32,
            },
        )?;
        // On a bridge: its segment's MTU (see segment.rs).
        super::segment::given(cx, &c, &l.ns, &l.name, mtu as u32)
    });
    // ip link set DEV master BR / nomaster
    link_fn!(engine, ctx, "master", |cx, l, br: Dynamic| {
        let c = link_call(l, "master", std::slice::from_ref(&br));
        let master = to_link(&c, &l.ns, &br)?;
        super::segment::joining(cx, &c, &l.ns, &l.name, &master)?;
        let lab_port = cx
            .borrow()
            .lab_bridges
            .contains(&(l.ns.clone(), master.clone()));
        set(
            cx,
            &c,
            Op::LinkMaster {
                ns: l.ns.clone(),
                name: l.name.clone(),
                master: Some(master),
            },
        )?;
        if lab_port {
            let op = Op::PortLabMode {
                ns: l.ns.clone(),
                name: l.name.clone(),
                on: true,
            };
            set(cx, &c, op)?;
        }
        Ok(())
    });
    link_fn!(engine, ctx, "nomaster", |cx, l| {
        set(
            cx,
            &link_call(l, "nomaster", &[]),
            Op::LinkMaster {
                ns: l.ns.clone(),
                name: l.name.clone(),
                master: None,
            },
        )
    });
    // ip link set DEV netns NS
    let cx = ctx.clone();
    engine.register_fn(
        "move_to",
        move |at: NativeCallContext, l: &mut Link, to: Dynamic| -> RhaiResult<Link> {
            super::locate(&cx, &at);
            let c = link_call(l, "move_to", std::slice::from_ref(&to));
            let to = to_ns(&c, "the namespace", &to)?;
            if to == l.ns {
                return Err(fail(&c, format!("{l} is already there")));
            }
            let op = Op::LinkMove {
                ns: l.ns.clone(),
                name: l.name.clone(),
                to: to.clone(),
            };
            cx.borrow_mut()
                .move_link(op, c.clone(), super::at(&at))
                .or_fail(&c)?;
            Ok(Link {
                ns: to,
                name: l.name.clone(),
            })
        },
    );
    // ip link del DEV
    link_fn!(engine, ctx, "delete", |cx, l| {
        set(
            cx,
            &link_call(l, "delete", &[]),
            Op::LinkDel {
                ns: l.ns.clone(),
                name: l.name.clone(),
            },
        )
    });
}
