//! The single-ended link kinds beyond bridge and vxlan: `macvlan` (a second MAC on a
//! parent link: the "container on the physical LAN" without a bridge) and `tun` (a tun or
//! tap device for a user-space program). Each builds one `Op::LinkAdd`.

use rhai::{Dynamic, Engine, Map};

use super::{call, fail, to_link, Ctx, Link, Opts, RhaiResult};
use crate::lab::link_kind::{resolve_owner, MacvlanMode};
use crate::lab::names;
use crate::lab::op::{LinkSpec, Ns, Op};
use crate::ns_fn;

fn add(cx: &Ctx, c: &str, ns: &Ns, name: &str, spec: LinkSpec) -> RhaiResult<Link> {
    cx.borrow_mut()
        .apply(Op::LinkAdd {
            ns: ns.clone(),
            name: name.into(),
            spec,
        })
        .map_err(|e| fail(c, e))?;
    Ok(Link {
        ns: ns.clone(),
        name: name.into(),
    })
}

fn macvlan(cx: &Ctx, c: &str, ns: &Ns, name: &str, opts: Map) -> RhaiResult<Link> {
    let o = Opts::new(c, opts, &["parent", "mode"])?;
    names::ifname(name).map_err(|e| fail(c, e))?;
    let parent = o
        .get("parent")
        .ok_or_else(|| fail(c, "option parent (the link it sits on) is required"))?;
    let parent = to_link(c, ns, &parent)?;
    let mode = match o.str("mode")? {
        Some(m) => MacvlanMode::parse(&m).map_err(|e| fail(c, e))?,
        None => MacvlanMode::default(),
    };
    add(cx, c, ns, name, LinkSpec::Macvlan { parent, mode })
}

fn tun(cx: &Ctx, c: &str, ns: &Ns, name: &str, opts: Map) -> RhaiResult<Link> {
    let o = Opts::new(c, opts, &["tap", "owner"])?;
    names::ifname(name).map_err(|e| fail(c, e))?;
    let tap = o.bool("tap")?.unwrap_or(false);
    let owner = match o.get("owner") {
        None => None,
        Some(d) if d.is_int() => Some(
            u32::try_from(d.as_int().unwrap_or(-1))
                .map_err(|_| fail(c, "owner: a uid is 0..=4294967295"))?,
        ),
        Some(d) if d.is_string() => {
            Some(resolve_owner(&d.into_string().unwrap_or_default()).map_err(|e| fail(c, e))?)
        }
        Some(d) => {
            return Err(fail(
                c,
                format!("owner: a uid or a user name, not {}", d.type_name()),
            ))
        }
    };
    add(cx, c, ns, name, LinkSpec::Tun { tap, owner })
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip link add NAME link PARENT type macvlan mode MODE
    ns_fn!(engine, ctx, "macvlan", |cx,
                                    ns,
                                    name: &str,
                                    opts: Map|
     -> Link {
        let c = call(Some(&ns), "macvlan", &[name.into(), opts.clone().into()]);
        macvlan(cx, &c, &ns.ns, name, opts)
    });
    // ip tuntap add dev NAME mode tun|tap [user OWNER]
    ns_fn!(engine, ctx, "tun", |cx, ns, name: &str| -> Link {
        let c = call(Some(&ns), "tun", &[name.into()]);
        tun(cx, &c, &ns.ns, name, Map::new())
    });
    ns_fn!(engine, ctx, "tun", |cx,
                                ns,
                                name: &str,
                                opts: Map|
     -> Link {
        let args: [Dynamic; 2] = [name.into(), opts.clone().into()];
        let c = call(Some(&ns), "tun", &args);
        tun(cx, &c, &ns.ns, name, opts)
    });
}
