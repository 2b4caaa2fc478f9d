//! `netscript export LAB`: a lab's journal written back as a straight-line netscript
//! script that rebuilds it. Each op that still stands (crate::lab::journal::standing) becomes
//! the call that makes it; an op with no call of its own becomes a comment saying so.

use std::collections::HashMap;
use std::fmt::Write;

use crate::lab::firewall::{Action, Chain, Proto, Rule};
use crate::lab::journal::{self, Entry};
use crate::lab::op::{LinkSpec, Ns, Op};

/// A Rhai string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// The script for `entries` of lab `lab`.
pub fn script(lab: &str, entries: &[Entry]) -> String {
    let mut out = format!(
        "// Exported by `netscript export {lab}` from the lab's journal.\n\
         // Run it with `netscript FILE` (or `netscript --sandbox FILE`) to rebuild the lab.\n"
    );
    let mut vars = Vars::default();
    let standing = journal::standing(entries);
    for (e, keep) in entries.iter().zip(standing) {
        if !keep {
            continue;
        }
        if let Some(line) = call(&e.op, &mut vars) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The variables holding the namespaces the script made, by namespace name.
#[derive(Default)]
struct Vars {
    by_ns: HashMap<String, String>,
}

impl Vars {
    fn bind(&mut self, name: &str) -> String {
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let base = if ok {
            name.to_string()
        } else {
            let clean: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!("ns_{clean}")
        };
        // Never shadow a keyword or an API function.
        // (A property, `a` of a Veth, is no function: a namespace may be called so.)
        let base = if crate::lang::DOCS
            .iter()
            .any(|d| d.name == base && d.forms.iter().any(|f| f.contains('(')))
            || [
                "let", "fn", "if", "for", "in", "while", "loop", "true", "false", "import",
            ]
            .contains(&base.as_str())
        {
            format!("ns_{base}")
        } else {
            base
        };
        let mut v = base.clone();
        let mut n = 2;
        while self.by_ns.values().any(|x| *x == v) {
            v = format!("{base}_{n}");
            n += 1;
        }
        self.by_ns.insert(name.to_string(), v.clone());
        v
    }

    /// How the script names namespace `ns`.
    fn of(&self, ns: &Ns) -> String {
        match ns {
            None => "host()".into(),
            Some(n) => self
                .by_ns
                .get(n)
                .cloned()
                .unwrap_or_else(|| format!("netns_open({})", lit(n))),
        }
    }

    /// The value for an `a_ns` / `b_ns` / `move_to` argument.
    fn arg(&self, ns: &Ns) -> String {
        match ns {
            None => "host()".into(),
            Some(n) => self.by_ns.get(n).cloned().unwrap_or_else(|| lit(n)),
        }
    }
}

fn not_expressed(op: &Op) -> String {
    format!(
        "// not expressed as a netscript call: {}",
        op.render().join("; ")
    )
}

/// A single-ended link as the call that makes it (`None`: no call takes all it says).
fn link_add(ns: &Ns, name: &str, spec: &LinkSpec, v: &Vars) -> Option<String> {
    let on = match ns {
        None => String::new(),
        Some(_) => format!("{}.", v.of(ns)),
    };
    Some(match spec {
        LinkSpec::Bridge { lab_mode: None, .. } => format!("{on}bridge({});", lit(name)),
        LinkSpec::Bridge {
            lab_mode: Some(on_),
            ..
        } => format!("{on}bridge({}, #{{ lab_mode: {on_} }});", lit(name)),
        LinkSpec::Macvlan {
            parent,
            mode,
            parent_ns,
        } => {
            // The parent is in host() unless parent_ns says otherwise.
            let parent_ns = match parent_ns.as_ref().unwrap_or(ns) {
                Some(p) => format!(", parent_ns: {}", lit(p)),
                None => String::new(),
            };
            format!(
                "{on}macvlan({}, #{{ parent: {}{parent_ns}, mode: {} }});",
                lit(name),
                lit(parent),
                lit(mode.as_str())
            )
        }
        LinkSpec::Tun { tap, owner, group } => {
            let mut opts = vec![format!("tap: {tap}")];
            if let Some(o) = owner {
                opts.push(format!("owner: {o}"));
            }
            if let Some(g) = group {
                opts.push(format!("group: {g}"));
            }
            format!("{on}tun({}, #{{ {} }});", lit(name), opts.join(", "))
        }
        // Written as its command, as before.
        LinkSpec::Vxlan { .. } => return None,
    })
}

fn call(op: &Op, v: &mut Vars) -> Option<String> {
    Some(match op {
        Op::NetnsAdd { name, lo } => {
            let var = v.bind(name);
            if *lo {
                format!("let {var} = netns({});", lit(name))
            } else {
                format!("let {var} = netns({}, #{{ lo: false }});", lit(name))
            }
        }
        Op::VethAdd {
            a,
            a_ns,
            b,
            b_ns,
            mtu,
            ..
        } => {
            let mut opts = vec![];
            if a_ns.is_some() {
                opts.push(format!("a_ns: {}", v.arg(a_ns)));
            }
            if b_ns.is_some() {
                opts.push(format!("b_ns: {}", v.arg(b_ns)));
            }
            if let Some(m) = mtu {
                opts.push(format!("mtu: {m}"));
            }
            if opts.is_empty() {
                format!("veth({}, {});", lit(a), lit(b))
            } else {
                format!("veth({}, {}, #{{ {} }});", lit(a), lit(b), opts.join(", "))
            }
        }
        Op::LinkAdd { ns, name, spec } => {
            link_add(ns, name, spec, v).unwrap_or_else(|| not_expressed(op))
        }
        Op::LinkSet { ns, name, up } => {
            let verb = if *up { "up" } else { "down" };
            format!("{}.{verb}({});", v.of(ns), lit(name))
        }
        Op::LinkMtu { ns, name, mtu } => {
            format!("{}.link({}).mtu({mtu});", v.of(ns), lit(name))
        }
        Op::LinkMaster { ns, name, master } => match master {
            Some(m) => format!("{}.link({}).master({});", v.of(ns), lit(name), lit(m)),
            None => format!("{}.link({}).nomaster();", v.of(ns), lit(name)),
        },
        Op::LinkMove { ns, name, to } => {
            format!("{}.link({}).move_to({});", v.of(ns), lit(name), v.arg(to))
        }
        Op::AddrAdd {
            ns,
            dev,
            cidr,
            nodad,
        } => {
            let extra = if *nodad { ", #{ nodad: true }" } else { "" };
            format!(
                "{}.addr({}, {}{extra});",
                v.of(ns),
                lit(dev),
                lit(&cidr.to_string())
            )
        }
        Op::RouteAdd { ns, route } => {
            let dst = match (&route.dst, route.v6) {
                (Some(d), _) => d.to_string(),
                (None, false) => "default".into(),
                (None, true) => "::/0".into(),
            };
            let mut opts = vec![];
            if let Some(via) = route.via {
                opts.push(format!("via: {}", lit(&via.to_string())));
            }
            if let Some(d) = &route.dev {
                opts.push(format!("dev: {}", lit(d)));
            }
            if let Some(m) = route.metric {
                opts.push(format!("metric: {m}"));
            }
            format!(
                "{}.route({}, #{{ {} }});",
                v.of(ns),
                lit(&dst),
                opts.join(", ")
            )
        }
        // forward(), not the bare sysctl: on a Docker host it also lets the lab's
        // traffic through a forward chain that drops.
        Op::Sysctl { ns, key, value }
            if key == "net.ipv4.ip_forward" && (value == "1" || value == "0") =>
        {
            format!("{}.forward({});", v.of(ns), value == "1")
        }
        Op::Sysctl { ns, key, value } => {
            format!("{}.sysctl({}, {});", v.of(ns), lit(key), lit(value))
        }
        Op::ProcStarted {
            ns,
            argv,
            detached: true,
            ..
        } => {
            let args: Vec<String> = argv.iter().map(|a| lit(a)).collect();
            format!(
                "{}.start([{}], #{{ detach: true }});",
                v.of(ns),
                args.join(", ")
            )
        }
        // A process that belonged to its run ended with it: nothing to rebuild.
        Op::ProcStarted { .. } => return None,
        Op::NftAdd { ns, rules } => nft(ns, rules, v).unwrap_or_else(|| not_expressed(op)),
        // Made again by master() on a bridge in lab mode.
        Op::PortLabMode { on: true, .. } => return None,
        // Made again by bridge() and forward(true) where a foreign chain needs them.
        Op::ForeignAccept { .. } => return None,
        _ => not_expressed(op),
    })
}

/// Masquerade and port-forward rules as their calls; other rule sets are not expressed.
fn nft(ns: &Ns, rules: &[Rule], v: &Vars) -> Option<String> {
    let mut out = String::new();
    for r in rules {
        match (&r.action, r.chain) {
            (Action::Masquerade, Chain::Postrouting)
                if r.proto.is_none() && r.dport.is_none() && r.dst.is_none() =>
            {
                let src = r.src?;
                let mut opts = vec![];
                if let Some(o) = &r.oif {
                    opts.push(format!("out: {}", lit(o)));
                }
                if let Some(o) = &r.not_oif {
                    opts.push(format!("not_out: {}", lit(o)));
                }
                let o = if opts.is_empty() {
                    String::new()
                } else {
                    format!(", #{{ {} }}", opts.join(", "))
                };
                let _ = writeln!(
                    out,
                    "{}.masquerade({}{o});",
                    v.of(ns),
                    lit(&src.to_string())
                );
            }
            (Action::Dnat(to), Chain::Prerouting) => {
                let port = r.dport?;
                let proto = match r.proto {
                    Some(Proto::Udp) => ", #{ proto: \"udp\" }",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "{}.port_forward({port}, {}{proto});",
                    v.of(ns),
                    lit(&to.to_string())
                );
            }
            // The output half of a port_forward, made by the same call.
            (Action::Dnat(_), Chain::OutputNat) => {}
            _ => return None,
        }
    }
    Some(out.trim_end().to_string()).filter(|s| !s.is_empty())
}
