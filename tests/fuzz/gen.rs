//! A generator of random but valid netscript programs, deterministic from a seed.
//!
//! It keeps a small model of what the program has built so far (namespaces, links, which
//! are up, their subnets, ports, rules) so that most statements are valid; a few are meant
//! to fail and are wrapped in `try`/`catch`, so error paths run in the middle of a program.
//! Every statement is one line that stands on its own (except that it may use a variable
//! an earlier `let` defined), so a failing program can be shrunk by dropping lines.

/// splitmix64: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0 ..= n - 1 (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `pct` %.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A veth end; its peer's (namespace, name).
    Veth(String, String),
    Bridge,
    Vxlan,
    /// A macvlan on this link of its namespace (it goes with it).
    Macvlan(String),
    Tun,
}

#[derive(Clone, Debug)]
struct Link {
    name: String,
    kind: Kind,
    up: bool,
    /// The /24 (third octet 0) of its IPv4 address: 10.SUBNET.0.X.
    subnet: Option<u8>,
    master: Option<String>,
}

/// What the program has built so far: "host" and the namespaces, each with its links.
#[derive(Default)]
struct World {
    namespaces: Vec<(String, Vec<Link>)>,
    next_name: usize,
    next_subnet: u8,
    /// masquerade calls made (ns expression, source CIDR, options), for unmasquerade.
    masquerades: Vec<(String, String, String)>,
}

impl World {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next_name += 1;
        format!("{prefix}{}", self.next_name)
    }

    fn subnet(&mut self) -> Option<u8> {
        (self.next_subnet < 200).then(|| {
            self.next_subnet += 1;
            self.next_subnet
        })
    }

    fn ns_mut(&mut self, ns: &str) -> &mut Vec<Link> {
        &mut self.namespaces.iter_mut().find(|(n, _)| n == ns).unwrap().1
    }

    fn link_mut(&mut self, ns: &str, name: &str) -> Option<&mut Link> {
        self.ns_mut(ns).iter_mut().find(|l| l.name == name)
    }

    /// Every (namespace, link).
    fn links(&self) -> Vec<(String, Link)> {
        self.namespaces
            .iter()
            .flat_map(|(n, ls)| ls.iter().map(move |l| (n.clone(), l.clone())))
            .collect()
    }

    /// Removes a link and what goes with it: a veth's peer, the ports of a bridge.
    fn remove_link(&mut self, ns: &str, name: &str) {
        let Some(pos) = self.ns_mut(ns).iter().position(|l| l.name == name) else {
            return;
        };
        let link = self.ns_mut(ns).remove(pos);
        if let Kind::Veth(pns, pname) = &link.kind {
            if let Some(list) = self.namespaces.iter_mut().find(|(n, _)| n == pns) {
                list.1.retain(|l| &l.name != pname);
            }
        }
        let uppers: Vec<String> = self
            .ns_mut(ns)
            .iter()
            .filter(|l| l.kind == Kind::Macvlan(name.to_string()))
            .map(|l| l.name.clone())
            .collect();
        for u in uppers {
            self.remove_link(ns, &u);
        }
        if link.kind == Kind::Bridge {
            for l in self.ns_mut(ns).iter_mut() {
                if l.master.as_deref() == Some(name) {
                    l.master = None;
                }
            }
        }
    }

    fn remove_ns(&mut self, ns: &str) {
        let names: Vec<String> = self.ns_mut(ns).iter().map(|l| l.name.clone()).collect();
        for n in names {
            self.remove_link(ns, &n);
        }
        self.namespaces.retain(|(n, _)| n != ns);
        self.masquerades.retain(|(n, _, _)| n != ns);
    }
}

/// The Rhai expression for namespace `ns`: `host()` or its variable.
fn ns_expr(ns: &str) -> String {
    match ns {
        "host" => "host()".into(),
        n => n.to_string(),
    }
}

/// A program of `len` statements (5 ..= 60 when drawn by `program`).
pub fn program(seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let len = 5 + rng.below(56);
    let mut w = World {
        namespaces: vec![("host".into(), vec![])],
        ..World::default()
    };
    let mut out = vec![];
    // Programs start with one or two namespaces: most statements need one.
    for _ in 0..1 + rng.below(2) {
        out.push(new_ns(&mut w));
    }
    while out.len() < len {
        if let Some(s) = statement(&mut rng, &mut w) {
            out.push(s);
        }
    }
    out
}

fn new_ns(w: &mut World) -> String {
    let name = w.fresh("n");
    w.namespaces.push((name.clone(), vec![]));
    format!("let {name} = netns(\"{name}\");")
}

/// One statement, or None when the drawn kind has nothing to work on yet.
fn statement(rng: &mut Rng, w: &mut World) -> Option<String> {
    let nss: Vec<String> = w.namespaces.iter().map(|(n, _)| n.clone()).collect();
    let links = w.links();
    match rng.below(26) {
        0 if nss.len() < 7 => Some(new_ns(w)),
        // A veth with both ends created in place.
        1 | 2 => {
            let (a_ns, b_ns) = (rng.pick(&nss).clone(), rng.pick(&nss).clone());
            let (a, b) = (w.fresh("va"), w.fresh("vb"));
            let mut opts = vec![];
            if a_ns != "host" {
                opts.push(format!("a_ns: {}", ns_expr(&a_ns)));
            }
            if b_ns != "host" {
                opts.push(format!("b_ns: \"{b_ns}\""));
            }
            if rng.chance(20) {
                opts.push(format!("mtu: {}", 1280 + rng.below(8000)));
            }
            add_veth(w, &a_ns, &a, &b_ns, &b);
            Some(match (opts.is_empty(), rng.chance(30) && a_ns != "host") {
                (true, _) => format!("veth(\"{a}\", \"{b}\");"),
                (false, true) => {
                    opts.retain(|o| !o.starts_with("a_ns"));
                    format!("{a_ns}.veth(\"{a}\", \"{b}\", #{{ {} }});", opts.join(", "))
                }
                (false, false) => format!("veth(\"{a}\", \"{b}\", #{{ {} }});", opts.join(", ")),
            })
        }
        // The seed's style: create in the host, then move one or both ends.
        3 => {
            let (a, b) = (w.fresh("vs"), w.fresh("vt"));
            let to = rng.pick(&nss).clone();
            let mut s = format!("veth(\"{a}\", \"{b}\"); link(\"{a}\").move_to(\"{to}\");");
            let mut b_ns = "host".to_string();
            if rng.chance(50) {
                b_ns = rng.pick(&nss).clone();
                s += &format!(" link(\"{b}\").move_to({});", ns_expr(&b_ns));
            }
            add_veth(w, &to, &a, &b_ns, &b);
            Some(s)
        }
        4 => {
            let ns = rng.pick(&nss).clone();
            let name = w.fresh("br");
            let subnet = if rng.chance(60) { w.subnet() } else { None };
            w.ns_mut(&ns).push(Link {
                name: name.clone(),
                kind: Kind::Bridge,
                up: subnet.is_some(),
                subnet,
                master: None,
            });
            Some(match subnet {
                Some(s) => format!("{}.bridge(\"{name}\", \"10.{s}.0.1/24\");", ns_expr(&ns)),
                None if ns == "host" => format!("bridge(\"{name}\");"),
                None => format!("{ns}.bridge(\"{name}\");"),
            })
        }
        // A port: a link (not a bridge) into a bridge of its namespace.
        5 | 6 => {
            let (ns, l) = pick_link(rng, &links, |l| {
                l.kind != Kind::Bridge && l.master.is_none()
            })?;
            let br = w
                .ns_mut(&ns)
                .iter()
                .filter(|b| b.kind == Kind::Bridge)
                .map(|b| b.name.clone())
                .collect::<Vec<_>>();
            if br.is_empty() {
                return None;
            }
            let br = rng.pick(&br).clone();
            w.link_mut(&ns, &l.name)?.master = Some(br.clone());
            Some(format!(
                "{}.link(\"{}\").master(\"{br}\");",
                ns_expr(&ns),
                l.name
            ))
        }
        7 | 8 => {
            let (ns, l) = pick_link(rng, &links, |l| l.subnet.is_none() && l.kind != Kind::Vxlan)?;
            let s = w.subnet()?;
            w.link_mut(&ns, &l.name)?.subnet = Some(s);
            let v6 = match rng.chance(40) {
                true => format!(
                    " {}.addr(\"{}\", \"fd00:{s}::1/64\", #{{ nodad: true }});",
                    ns_expr(&ns),
                    l.name
                ),
                false => String::new(),
            };
            Some(format!(
                "{}.addr(\"{}\", \"10.{s}.0.{}/24\");{v6}",
                ns_expr(&ns),
                l.name,
                1 + rng.below(200)
            ))
        }
        9 | 10 => {
            let (ns, l) = pick_link(rng, &links, |l| !l.up)?;
            w.link_mut(&ns, &l.name)?.up = true;
            Some(match rng.chance(50) {
                true => format!("{}.up(\"{}\");", ns_expr(&ns), l.name),
                false => format!("{}.link(\"{}\").up();", ns_expr(&ns), l.name),
            })
        }
        11 => {
            let (ns, l) = pick_link(rng, &links, |l| l.up)?;
            w.link_mut(&ns, &l.name)?.up = false;
            Some(format!("{}.down(\"{}\");", ns_expr(&ns), l.name))
        }
        12 => {
            let (ns, l) = pick_link(rng, &links, |_| true)?;
            Some(format!(
                "{}.link(\"{}\").mtu({});",
                ns_expr(&ns),
                l.name,
                1280 + rng.below(8000)
            ))
        }
        13 => {
            let (ns, l) = pick_link(rng, &links, |l| l.master.is_some())?;
            w.link_mut(&ns, &l.name)?.master = None;
            Some(format!("{}.link(\"{}\").nomaster();", ns_expr(&ns), l.name))
        }
        // A route through an up, addressed link: via a neighbour, or by device, with a metric.
        14 | 15 => {
            let (ns, l) = pick_link(rng, &links, |l| l.up && l.subnet.is_some())?;
            let s = l.subnet?;
            let dst = match rng.chance(15) {
                true => "default".to_string(),
                false => format!("10.{}.{}.0/24", 201 + rng.below(50), rng.below(250)),
            };
            let via = format!("10.{s}.0.{}", 201 + rng.below(50));
            let e = ns_expr(&ns);
            Some(match rng.below(3) {
                0 => format!("try {{ {e}.route(\"{dst}\", \"{via}\"); }} catch (e) {{ }}"),
                1 => format!(
                    "try {{ {e}.route(\"{dst}\", #{{ dev: \"{}\", metric: {} }}); }} catch (e) {{ }}",
                    l.name,
                    1 + rng.below(1000)
                ),
                _ => format!(
                    "try {{ {e}.route(\"{dst}\", #{{ via: \"{via}\", dev: \"{}\" }}); }} catch (e) {{ }}",
                    l.name
                ),
            })
        }
        16 => {
            let ns = rng.pick(&nss).clone();
            let e = ns_expr(&ns);
            Some(match rng.below(3) {
                0 => format!("{e}.forward({});", rng.chance(70)),
                1 => format!(
                    "{e}.sysctl(\"net.ipv4.conf.all.rp_filter\", {});",
                    rng.below(3)
                ),
                _ => format!(
                    "{e}.sysctl(\"net.ipv6.conf.all.forwarding\", {});",
                    rng.below(2)
                ),
            })
        }
        17 => {
            let ns = rng.pick(&nss).clone();
            let src = format!("10.{}.0.0/24", 1 + rng.below(200));
            let ifs: Vec<String> = w.ns_mut(&ns).iter().map(|l| l.name.clone()).collect();
            let opts = match (ifs.is_empty(), rng.below(3)) {
                (false, 0) => format!(", #{{ out: \"{}\" }}", rng.pick(&ifs)),
                (false, 1) => format!(", #{{ not_out: \"{}\" }}", rng.pick(&ifs)),
                _ => String::new(),
            };
            w.masquerades.push((ns.clone(), src.clone(), opts.clone()));
            Some(format!("{}.masquerade(\"{src}\"{opts});", ns_expr(&ns)))
        }
        18 => {
            if w.masquerades.is_empty() {
                return None;
            }
            let i = rng.below(w.masquerades.len());
            let (ns, src, opts) = w.masquerades.remove(i);
            Some(format!("{}.unmasquerade(\"{src}\"{opts});", ns_expr(&ns)))
        }
        19 => {
            let ns = rng.pick(&nss).clone();
            let proto = match rng.below(3) {
                0 => "".to_string(),
                1 => ", #{ proto: \"tcp\" }".to_string(),
                _ => ", #{ proto: \"udp\" }".to_string(),
            };
            Some(format!(
                "{}.port_forward({}, \"10.{}.0.{}:{}\"{proto});",
                ns_expr(&ns),
                1024 + rng.below(60000),
                1 + rng.below(200),
                2 + rng.below(200),
                1 + rng.below(65000)
            ))
        }
        20 => {
            let ns = rng.pick(&nss).clone();
            let verb = rng.pick(&["drop", "accept", "reject"]);
            let mut o = vec![];
            if rng.chance(60) {
                o.push(format!(
                    "chain: \"{}\"",
                    rng.pick(&["input", "forward", "output"])
                ));
            }
            let proto = *rng.pick(&["", "tcp", "udp", "icmp", "icmpv6"]);
            if !proto.is_empty() {
                o.push(format!("proto: \"{proto}\""));
            }
            if matches!(proto, "tcp" | "udp") {
                if rng.chance(60) {
                    o.push(format!("dport: {}", 1 + rng.below(65535)));
                }
                if rng.chance(30) {
                    o.push(format!("sport: {}", 1 + rng.below(65535)));
                }
            }
            if rng.chance(30) && proto != "icmpv6" {
                o.push(format!("src: \"10.{}.0.0/16\"", rng.below(250)));
            }
            if rng.chance(20) && proto != "icmpv6" {
                o.push(format!(
                    "dst: \"10.{}.{}.1/32\"",
                    rng.below(250),
                    rng.below(250)
                ));
            }
            let ifs: Vec<String> = w.ns_mut(&ns).iter().map(|l| l.name.clone()).collect();
            if !ifs.is_empty() && rng.chance(30) {
                o.push(format!("iif: \"{}\"", rng.pick(&ifs)));
            }
            if !ifs.is_empty() && rng.chance(20) {
                o.push(format!("oif: \"{}\"", rng.pick(&ifs)));
            }
            Some(format!("{}.{verb}(#{{ {} }});", ns_expr(&ns), o.join(", ")))
        }
        21 => {
            let ns = rng.pick(&nss).clone();
            let name = w.fresh("vx");
            let mut o = vec![format!("vni: {}", 1 + rng.below(16_000_000))];
            o.push(format!("remote: \"192.0.2.{}\"", 1 + rng.below(250)));
            if rng.chance(40) {
                o.push(format!("port: {}", 1024 + rng.below(60000)));
            }
            let addressed: Vec<Link> = w
                .ns_mut(&ns)
                .iter()
                .filter(|l| l.subnet.is_some() && l.kind != Kind::Vxlan)
                .cloned()
                .collect();
            if !addressed.is_empty() && rng.chance(50) {
                let l = rng.pick(&addressed);
                o.push(format!("dev: \"{}\"", l.name));
            }
            w.ns_mut(&ns).push(Link {
                name: name.clone(),
                kind: Kind::Vxlan,
                up: false,
                subnet: None,
                master: None,
            });
            Some(format!(
                "{}.vxlan(\"{name}\", #{{ {} }});",
                ns_expr(&ns),
                o.join(", ")
            ))
        }
        22 => {
            // Deletions, and calls that must fail (caught).
            match rng.below(6) {
                0 if nss.len() > 1 => {
                    let ns = rng.pick(&nss[1..]).clone();
                    w.remove_ns(&ns);
                    Some(format!("netns_delete(\"{ns}\");"))
                }
                1 => {
                    let (ns, l) = pick_link(rng, &links, |_| true)?;
                    w.remove_link(&ns, &l.name);
                    Some(format!("{}.link(\"{}\").delete();", ns_expr(&ns), l.name))
                }
                2 if nss.len() > 1 => Some(format!(
                    "try {{ netns(\"{}\"); }} catch (e) {{ }}",
                    rng.pick(&nss[1..])
                )),
                3 => Some(format!(
                    "try {{ veth(\"{}\", \"{}\", #{{ a_ns: \"missing\" }}); }} catch (e) {{ }}",
                    w.fresh("vz"),
                    w.fresh("vz")
                )),
                4 => {
                    let (ns, l) = pick_link(rng, &links, |_| true)?;
                    Some(format!(
                        "try {{ {}.bridge(\"{}\"); }} catch (e) {{ }}",
                        ns_expr(&ns),
                        l.name
                    ))
                }
                _ => {
                    let ns = rng.pick(&nss).clone();
                    Some(format!(
                        "try {{ {}.route(\"10.250.{}.0/24\", \"10.254.254.1\"); }} catch (e) {{ }}",
                        ns_expr(&ns),
                        rng.below(250)
                    ))
                }
            }
        }
        24 => {
            let (ns, parent) = pick_link(rng, &links, |l| {
                matches!(l.kind, Kind::Veth(..) | Kind::Bridge)
            })?;
            let name = w.fresh("mv");
            let mode = *rng.pick(&["bridge", "private", "vepa"]);
            w.ns_mut(&ns).push(Link {
                name: name.clone(),
                kind: Kind::Macvlan(parent.name.clone()),
                up: false,
                subnet: None,
                master: None,
            });
            Some(format!(
                "{0}.macvlan(\"{name}\", #{{ parent: \"{1}\", parent_ns: {0}, mode: \"{mode}\" }});",
                ns_expr(&ns),
                parent.name
            ))
        }
        25 => {
            let ns = rng.pick(&nss).clone();
            let name = w.fresh("tn");
            let opts = match rng.below(3) {
                0 => String::new(),
                1 => ", #{ tap: true }".to_string(),
                _ => ", #{ tap: false, owner: 0 }".to_string(),
            };
            w.ns_mut(&ns).push(Link {
                name: name.clone(),
                kind: Kind::Tun,
                up: false,
                subnet: None,
                master: None,
            });
            Some(format!("{}.tun(\"{name}\"{opts});", ns_expr(&ns)))
        }
        _ => {
            let (ns, l) = pick_link(rng, &links, |l| matches!(l.kind, Kind::Veth(..)))?;
            Some(format!(
                "{}.link(\"{}\").impair(#{{ rate_kbit: {} }});",
                ns_expr(&ns),
                l.name,
                100 + rng.below(100_000)
            ))
        }
    }
}

fn add_veth(w: &mut World, a_ns: &str, a: &str, b_ns: &str, b: &str) {
    for (ns, name, pns, pname) in [(a_ns, a, b_ns, b), (b_ns, b, a_ns, a)] {
        w.ns_mut(ns).push(Link {
            name: name.to_string(),
            kind: Kind::Veth(pns.to_string(), pname.to_string()),
            up: false,
            subnet: None,
            master: None,
        });
    }
}

fn pick_link(
    rng: &mut Rng,
    links: &[(String, Link)],
    ok: impl Fn(&Link) -> bool,
) -> Option<(String, Link)> {
    let fit: Vec<&(String, Link)> = links.iter().filter(|(_, l)| ok(l)).collect();
    (!fit.is_empty()).then(|| fit[rng.below(fit.len())].clone())
}
