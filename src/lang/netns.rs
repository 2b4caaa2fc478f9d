//! Namespaces: netns, netns_open, netns_exists, netns_list, netns_delete, host(),
//! and the `Netns` properties.

use rhai::{Dynamic, Engine};

use super::{call, fail, to_ns, Ctx, Netns, RhaiResult};
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
    names::nsname(name).map_err(|e| fail(c, e))?;
    cx.borrow_mut()
        .apply(Op::NetnsAdd {
            name: name.into(),
            lo,
        })
        .map_err(|e| fail(c, e))?;
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
        names::nsname(name).map_err(|e| fail(&c, e))?;
        if !cx
            .borrow_mut()
            .query(|b| Ok(b.netns_exists(name)))
            .map_err(|e| fail(&c, e))?
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
        names::nsname(name).map_err(|e| fail(&c, e))?;
        Ok(cx
            .borrow_mut()
            .query(|b| Ok(b.netns_exists(name)))
            .map_err(|e| fail(&c, e))?)
    });

    let cx = ctx.clone();
    engine.register_fn("netns_list", move || -> RhaiResult<rhai::Array> {
        let list = cx
            .borrow_mut()
            .query(|b| b.netns_list())
            .map_err(|e| fail("netns_list()", e))?;
        Ok(list.into_iter().map(Dynamic::from).collect())
    });

    // ip netns del NAME
    let cx = ctx.clone();
    engine.register_fn(
        "netns_delete",
        move |at: rhai::NativeCallContext, ns: Dynamic| -> RhaiResult<()> {
            super::locate(&cx, &at);
            let c = call(None, "netns_delete", &[ns.clone()]);
            let Some(name) = to_ns(&c, "the namespace", &ns)? else {
                return Err(fail(&c, "the host namespace cannot be deleted"));
            };
            cx.borrow_mut()
                .apply(Op::NetnsDel { name })
                .map_err(|e| fail(&c, e))
        },
    );

    engine.register_fn("host", Netns::host);
    engine.register_get("name", |n: &mut Netns| n.name());
    let cx = ctx.clone();
    engine.register_get("inode", move |n: &mut Netns| -> RhaiResult<i64> {
        cx.borrow_mut()
            .query(|b| b.netns_inode(&n.ns))
            .map(|i| i as i64)
            .map_err(|e| fail(&format!("{n}.inode"), e))
    });
}
