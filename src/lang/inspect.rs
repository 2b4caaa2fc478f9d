//! Inspection as data: links, addrs, routes, neighbors, sockets (arrays of maps a script
//! can assert on), and the namespace of a process: netns_of, netns_attach.

use rhai::{Array, Dynamic, Engine, Map};

use super::{call, fail, Ctx, Netns, OrFail, RhaiResult};
use crate::backend::LinkInfo;
use crate::lab::names;
use crate::lab::op::Op;
use crate::ns_fn;

fn opt<T: ToString>(v: Option<T>) -> Dynamic {
    v.map(|x| Dynamic::from(x.to_string()))
        .unwrap_or(Dynamic::UNIT)
}

fn map(pairs: Vec<(&str, Dynamic)>) -> Dynamic {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.into(), v);
    }
    m.into()
}

pub fn link_map(l: &LinkInfo) -> Dynamic {
    map(vec![
        ("name", l.name.clone().into()),
        ("kind", l.kind.to_string().into()),
        ("up", l.up.into()),
        ("mac", l.mac.clone().into()),
        ("mtu", (l.mtu as i64).into()),
        ("master", opt(l.master.clone())),
        ("peer", opt(l.peer.clone())),
        (
            "addrs",
            l.addrs
                .iter()
                .map(|a| Dynamic::from(a.to_string()))
                .collect::<Array>()
                .into(),
        ),
    ])
}

fn pid_arg(c: &str, pid: i64) -> RhaiResult<u32> {
    u32::try_from(pid)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| fail(c, format!("{pid} is not a process id")))
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip link
    ns_fn!(engine, ctx, "links", |cx, ns| -> Array {
        let c = call(Some(&ns), "links", &[]);
        let links = cx.borrow_mut().query(|b| b.links(&ns.ns)).or_fail(&c)?;
        Ok(links.iter().map(link_map).collect())
    });
    // ip addr
    ns_fn!(engine, ctx, "addrs", |cx, ns| -> Array {
        let c = call(Some(&ns), "addrs", &[]);
        let addrs = cx.borrow_mut().query(|b| b.addrs(&ns.ns)).or_fail(&c)?;
        Ok(addrs
            .into_iter()
            .map(|a| {
                map(vec![
                    ("dev", a.dev.into()),
                    ("addr", a.addr.to_string().into()),
                ])
            })
            .collect())
    });
    // ip route; ip -6 route
    ns_fn!(engine, ctx, "routes", |cx, ns| -> Array {
        let c = call(Some(&ns), "routes", &[]);
        let routes = cx.borrow_mut().query(|b| b.routes(&ns.ns)).or_fail(&c)?;
        Ok(routes
            .into_iter()
            .map(|r| {
                map(vec![
                    ("dst", r.dst.into()),
                    ("via", opt(r.via)),
                    ("dev", opt(r.dev)),
                    ("src", opt(r.src)),
                    ("scope", r.scope.into()),
                    ("proto", r.proto.into()),
                ])
            })
            .collect())
    });
    // ip neigh
    ns_fn!(engine, ctx, "neighbors", |cx, ns| -> Array {
        let c = call(Some(&ns), "neighbors", &[]);
        let list = cx.borrow_mut().query(|b| b.neighbors(&ns.ns)).or_fail(&c)?;
        Ok(list
            .into_iter()
            .map(|n| {
                map(vec![
                    ("ip", n.ip.into()),
                    ("mac", n.mac.into()),
                    ("dev", n.dev.into()),
                    ("state", n.state.into()),
                ])
            })
            .collect())
    });
    // ss -tulnp
    ns_fn!(engine, ctx, "sockets", |cx, ns| -> Array {
        let c = call(Some(&ns), "sockets", &[]);
        let list = cx.borrow_mut().query(|b| b.sockets(&ns.ns)).or_fail(&c)?;
        Ok(list
            .into_iter()
            .map(|s| {
                map(vec![
                    ("proto", s.proto.into()),
                    ("local", s.local.into()),
                    (
                        "pid",
                        s.pid
                            .map(|p| Dynamic::from(p as i64))
                            .unwrap_or(Dynamic::UNIT),
                    ),
                    ("process", opt(s.process)),
                ])
            })
            .collect())
    });
    // netscript graph: the live topology as a text picture
    let cx = ctx.clone();
    engine.register_fn("show", move || -> RhaiResult<()> {
        let mut s = cx.borrow_mut();
        // The rules of every lab that is up, and of this run (a plan writes no journal).
        let mut entries = crate::lab::store::all_entries();
        entries.extend(s.journal.entries.iter().cloned());
        let rules = crate::ui::graph::nat_rules(&entries);
        let t = s
            .query(|b| {
                let names = b.netns_list()?;
                crate::ui::graph::gather(b, &names, &rules)
            })
            .or_fail("show()")?;
        // In a plan the picture is a comment: stdout is the shell script.
        match s.planning {
            true => s.note(crate::ui::graph::text(&t)),
            false => crate::out!("{}", crate::ui::graph::text(&t)),
        }
        Ok(())
    });
    // nsenter --target PID --net
    let cx = ctx.clone();
    engine.register_fn("netns_of", move |pid: i64| -> RhaiResult<Netns> {
        let c = call(None, "netns_of", &[pid.into()]);
        let pid = pid_arg(&c, pid)?;
        let ns = cx.borrow_mut().query(|b| b.netns_of(pid)).or_fail(&c)?;
        Ok(Netns { ns })
    });
    // ip netns attach NAME PID (the Docker symlink trick, as a bind mount)
    let cx = ctx.clone();
    engine.register_fn(
        "netns_attach",
        move |at: rhai::NativeCallContext, name: &str, pid: i64| -> RhaiResult<Netns> {
            super::locate(&cx, &at);
            let c = call(None, "netns_attach", &[name.into(), pid.into()]);
            names::nsname(name).or_fail(&c)?;
            let pid = pid_arg(&c, pid)?;
            cx.borrow_mut()
                .apply(Op::NetnsAttach {
                    name: name.into(),
                    pid,
                })
                .or_fail(&c)?;
            Ok(Netns {
                ns: Some(name.into()),
            })
        },
    );
}
