//! `ns.capture(link, #{ count, seconds, file, filter })`: see packets on a link, as
//! `tcpdump -i LINK -c COUNT -w FILE` would (see `crate::ui::capture`).

use rhai::{Dynamic, Engine, Map};

use super::{call, fail, to_link, Ctx, Netns, Opts, OrFail, RhaiResult};
use crate::ns_fn;
use crate::ui::capture::{self, Filter, Packet, PcapWriter, Sink};

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    ns_fn!(engine, ctx, "capture", |cx, ns, link: Dynamic| -> Map {
        let c = call(Some(&ns), "capture", std::slice::from_ref(&link));
        run(cx, &c, &ns, &link, Map::new())
    });
    ns_fn!(engine, ctx, "capture", |cx,
                                    ns,
                                    link: Dynamic,
                                    opts: Map|
     -> Map {
        let c = call(Some(&ns), "capture", &[link.clone(), opts.clone().into()]);
        run(cx, &c, &ns, &link, opts)
    });
}

fn run(cx: &Ctx, c: &str, ns: &Netns, link: &Dynamic, opts: Map) -> RhaiResult<Map> {
    let link = to_link(c, &ns.ns, link)?;
    let o = Opts::new(c, opts, &["count", "seconds", "file", "filter"])?;
    let mut want = capture::Opts {
        count: o
            .int("count", 1, 1_000_000)?
            .unwrap_or(capture::DEFAULT_COUNT as i64) as u32,
        seconds: o
            .int("seconds", 1, 86_400)?
            .unwrap_or(capture::DEFAULT_SECONDS as i64) as u64,
        filter: Filter::default(),
    };
    if let Some(f) = o.get("filter") {
        let map = f
            .try_cast::<Map>()
            .ok_or_else(|| fail(c, "option filter must be a map: #{ proto, host, port }"))?;
        want.filter = filter(c, map)?;
    }
    let file = o.str("file")?;
    let planning = cx.borrow().planning;
    // Opened before capturing: an unwritable file is an error at once, not after the wait.
    let sink = match (&file, planning) {
        (Some(path), false) => {
            let f = std::fs::File::create(path)
                .map_err(|e| fail(c, format!("cannot write {path:?}: {e}")))?;
            let out: Box<dyn std::io::Write + Send> = Box::new(std::io::BufWriter::new(f));
            Sink::Pcap(PcapWriter::new(out).map_err(|e| fail(c, format!("writing {path:?}: {e}")))?)
        }
        _ => Sink::None,
    };
    let packets = cx
        .borrow_mut()
        .probe(|b| b.capture(&ns.ns, &link, &want, sink, &mut |_| {}))
        .or_fail(c)?;
    let mut m = Map::new();
    let list: rhai::Array = packets
        .iter()
        .map(|p| Dynamic::from_map(packet(p)))
        .collect();
    m.insert("packets".into(), list.into());
    m.insert(
        "file".into(),
        file.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
    );
    Ok(m)
}

fn filter(c: &str, map: Map) -> RhaiResult<Filter> {
    let o = Opts::new(c, map, &["proto", "host", "port"])?;
    let proto = o.str("proto")?.map(|p| p.to_lowercase());
    if let Some(p) = &proto {
        if !capture::PROTOS.contains(&p.as_str()) {
            return Err(fail(
                c,
                format!(
                    "filter proto {p:?} is not one of {}",
                    capture::PROTOS.join(", ")
                ),
            ));
        }
    }
    let host = o
        .str("host")?
        .map(|h| crate::lab::names::ip(&h).map_err(|e| fail(c, format!("filter host: {e}"))))
        .transpose()?;
    let port = o.int("port", 1, 65535)?.map(|p| p as u16);
    Ok(Filter { proto, host, port })
}

fn packet(p: &Packet) -> Map {
    let port = |p: Option<u16>| p.map(|n| Dynamic::from(n as i64)).unwrap_or(Dynamic::UNIT);
    let mut m = Map::new();
    m.insert("time".into(), Dynamic::from_float(p.time));
    m.insert("proto".into(), p.proto.clone().into());
    m.insert("src".into(), p.src.clone().into());
    m.insert("dst".into(), p.dst.clone().into());
    m.insert("sport".into(), port(p.sport));
    m.insert("dport".into(), port(p.dport));
    m.insert("len".into(), (p.len as i64).into());
    m.insert("info".into(), p.info.clone().into());
    m
}
