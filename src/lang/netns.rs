//! Namespaces: netns, netns_open, netns_exists, netns_list, netns_delete, host(),
//! and the `Netns` properties.

use rhai::{Dynamic, Engine};

use super::{call, fail, to_ns, Ctx, Netns, OrFail, RhaiResult};
use crate::lab::names;
use crate::lab::op::Op;

fn netns(
    cx: &Ctx,
    at: &rhai::NativeCallContext,
    c: &str,
    name: &str,
    lo: bool,
) -> RhaiResult<Netns> {
    super::locate(cx, at);
    names::nsname(name).or_fail(c)?;
    cx.borrow_mut()
        .apply(Op::NetnsAdd {
            name: name.into(),
            lo,
        })
        .or_fail(c)?;
    Ok(Netns {
        ns: Some(name.into()),
    })
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip netns add NAME (+ lo up)
    let cx = ctx.clone();
    engine.register_fn(
        "netns",
        move |at: rhai::NativeCallContext, name: &str| -> RhaiResult<Netns> {
            let c = call(None, "netns", &[name.into()]);
            netns(&cx, &at, &c, name, true)
        },
    );
    // ip netns add NAME (lo: false leaves lo down, as ip netns add does)
    let cx = ctx.clone();
    engine.register_fn(
        "netns",
        move |at: rhai::NativeCallContext, name: &str, opts: rhai::Map| -> RhaiResult<Netns> {
            let c = call(None, "netns", &[name.into(), opts.clone().into()]);
            let o = super::Opts::new(&c, opts, &["lo"])?;
            let lo = o.bool("lo")?.unwrap_or(true);
            netns(&cx, &at, &c, name, lo)
        },
    );

    let cx = ctx.clone();
    engine.register_fn("netns_open", move |name: &str| -> RhaiResult<Netns> {
        let c = call(None, "netns_open", &[name.into()]);
        names::nsname(name).or_fail(&c)?;
        if !cx
            .borrow_mut()
            .query(|b| Ok(b.netns_exists(name)))
            .or_fail(&c)?
        {
            return Err(fail(&c, format!("namespace {name:?} does not exist")));
        }
        Ok(Netns {
            ns: Some(name.into()),
        })
    });

    let cx = ctx.clone();
    engine.register_fn("netns_exists", move |name: &str| -> RhaiResult<bool> {
        let c = call(None, "netns_exists", &[name.into()]);
        names::nsname(name).or_fail(&c)?;
        cx.borrow_mut()
            .query(|b| Ok(b.netns_exists(name)))
            .or_fail(&c)
    });

    let cx = ctx.clone();
    engine.register_fn("netns_list", move || -> RhaiResult<rhai::Array> {
        let list = cx
            .borrow_mut()
            .query(|b| b.netns_list())
            .or_fail("netns_list()")?;
        Ok(list.into_iter().map(Dynamic::from).collect())
    });

    // ip netns del NAME
    let cx = ctx.clone();
    engine.register_fn(
        "netns_delete",
        move |at: rhai::NativeCallContext, ns: Dynamic| -> RhaiResult<()> {
            super::locate(&cx, &at);
            let c = call(None, "netns_delete", std::slice::from_ref(&ns));
            let Some(name) = to_ns(&c, "the namespace", &ns)? else {
                return Err(fail(&c, "the host namespace cannot be deleted"));
            };
            cx.borrow_mut().apply(Op::NetnsDel { name }).or_fail(&c)
        },
    );

    engine.register_fn("host", Netns::host);
    engine.register_get("name", |n: &mut Netns| n.name());
    let cx = ctx.clone();
    engine.register_get("inode", move |n: &mut Netns| -> RhaiResult<i64> {
        cx.borrow_mut()
            .query(|b| b.netns_inode(&n.ns))
            .map(|i| i as i64)
            .or_fail(&format!("{n}.inode"))
    });
}
