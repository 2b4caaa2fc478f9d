//! Probes from inside a namespace: ping, connect, http_get. No external binaries.

use rhai::{Dynamic, Engine, Map};

use super::{call, fail, Ctx, Opts};
use crate::names;
use crate::ns_fn;

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ping -c 1 -W 1 ADDR
    ns_fn!(engine, ctx, "ping", |cx, ns, addr: &str| -> bool {
        let c = call(Some(&ns), "ping", &[addr.into()]);
        let ip = names::ip(addr).map_err(|e| fail(&c, e))?;
        let r = cx
            .borrow_mut()
            .probe(|b| b.ping(&ns.ns, ip, 1, 1000))
            .map_err(|e| fail(&c, e))?;
        Ok(r.received > 0)
    });
    // ping -c COUNT -W TIMEOUT ADDR
    ns_fn!(engine, ctx, "ping", |cx,
                                 ns,
                                 addr: &str,
                                 opts: Map|
     -> Map {
        let c = call(Some(&ns), "ping", &[addr.into(), opts.clone().into()]);
        let o = Opts::new(&c, opts, &["count", "timeout_ms"])?;
        let ip = names::ip(addr).map_err(|e| fail(&c, e))?;
        let count = o.int("count", 1, 10_000)?.unwrap_or(1) as u32;
        let timeout = o.int("timeout_ms", 1, 600_000)?.unwrap_or(1000) as u64;
        let r = cx
            .borrow_mut()
            .probe(|b| b.ping(&ns.ns, ip, count, timeout))
            .map_err(|e| fail(&c, e))?;
        let mut m = Map::new();
        m.insert("sent".into(), (r.sent as i64).into());
        m.insert("received".into(), (r.received as i64).into());
        let rtt = if r.rtt_ms.is_empty() {
            Dynamic::UNIT
        } else {
            Dynamic::from_float(r.rtt_ms.iter().sum::<f64>() / r.rtt_ms.len() as f64)
        };
        m.insert("rtt_ms".into(), rtt);
        Ok(m)
    });
    // nc -z -w 1 IP PORT
    ns_fn!(engine, ctx, "connect", |cx, ns, target: &str| -> bool {
        let c = call(Some(&ns), "connect", &[target.into()]);
        let sa = names::socket_addr(target).map_err(|e| fail(&c, e))?;
        cx.borrow_mut()
            .probe(|b| b.connect(&ns.ns, sa, 1000))
            .map_err(|e| fail(&c, e))
    });
    // curl URL
    ns_fn!(engine, ctx, "http_get", |cx, ns, url: &str| -> Map {
        let c = call(Some(&ns), "http_get", &[url.into()]);
        let r = cx
            .borrow_mut()
            .probe(|b| b.http_get(&ns.ns, url))
            .map_err(|e| fail(&c, e))?;
        let mut m = Map::new();
        m.insert("status".into(), r.status.into());
        m.insert("body".into(), r.body.into());
        Ok(m)
    });
}
