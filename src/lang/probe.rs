//! Probes from inside a namespace: ping, connect, http_get. No external binaries.

use rhai::{Dynamic, Engine, Map};

use super::{call, Ctx, Netns, Opts, OrFail, RhaiResult};
use crate::lab::names;
use crate::ns_fn;

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ping -c 1 -W 1 ADDR, as a question: the one echo is re-sent until answered (1 s).
    ns_fn!(engine, ctx, "ping", |cx, ns, addr: &str| -> bool {
        let c = call(Some(&ns), "ping", &[addr.into()]);
        let ip = names::ip(addr).or_fail(&c)?;
        cx.borrow_mut()
            .probe(|b| b.reachable(&ns.ns, ip, 1000))
            .or_fail(&c)
    });
    // ping -c COUNT -W TIMEOUT ADDR: COUNT distinct echoes, each sent once.
    ns_fn!(engine, ctx, "ping", |cx,
                                 ns,
                                 addr: &str,
                                 opts: Map|
     -> Map {
        let c = call(Some(&ns), "ping", &[addr.into(), opts.clone().into()]);
        let o = Opts::new(&c, opts, &["count", "timeout_ms"])?;
        let ip = names::ip(addr).or_fail(&c)?;
        let count = o.int("count", 1, 10_000)?.unwrap_or(1) as u32;
        let timeout = o.int("timeout_ms", 1, 600_000)?.unwrap_or(1000) as u64;
        let r = cx
            .borrow_mut()
            .probe(|b| b.ping(&ns.ns, ip, count, timeout))
            .or_fail(&c)?;
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
        let sa = names::socket_addr(target).or_fail(&c)?;
        cx.borrow_mut()
            .probe(|b| b.connect(&ns.ns, sa, 1000))
            .or_fail(&c)
    });
    // curl -m 10 URL
    ns_fn!(engine, ctx, "http_get", |cx, ns, url: &str| -> Map {
        let c = call(Some(&ns), "http_get", &[url.into()]);
        http_get(cx, &c, &ns, url, HTTP_TIMEOUT_MS)
    });
    // curl -m TIMEOUT URL
    ns_fn!(engine, ctx, "http_get", |cx,
                                     ns,
                                     url: &str,
                                     opts: Map|
     -> Map {
        let c = call(Some(&ns), "http_get", &[url.into(), opts.clone().into()]);
        let o = Opts::new(&c, opts, &["timeout_ms"])?;
        let timeout = o
            .int("timeout_ms", 1, 600_000)?
            .unwrap_or(HTTP_TIMEOUT_MS as i64) as u64;
        http_get(cx, &c, &ns, url, timeout)
    });
}

/// How long `http_get(url)` may take, all of it: connect, request, the whole response.
const HTTP_TIMEOUT_MS: u64 = 10_000;

fn http_get(cx: &Ctx, c: &str, ns: &Netns, url: &str, timeout_ms: u64) -> RhaiResult<Map> {
    let r = cx
        .borrow_mut()
        .probe(|b| b.http_get(&ns.ns, url, timeout_ms))
        .or_fail(c)?;
    let mut m = Map::new();
    m.insert("status".into(), r.status.into());
    m.insert("body".into(), r.body.into());
    Ok(m)
}
