//! The live topology as a picture: namespaces as boxes, links in them, veth pairs as
//! wires, bridges with their ports, addresses, default routes, NAT and published ports.
//! Gathered through the `Backend` trait; drawn as text (like the seed's diagrams), dot,
//! mermaid, or svg (dot through Graphviz).

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::backend::{Backend, LinkInfo};
use crate::error::Result;
use crate::lab::firewall::Rule;
use crate::lab::journal::Entry;
use crate::lab::link_kind::LinkKind;
use crate::lab::op::{Ns, Op};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Topology {
    pub spaces: Vec<Space>,
    /// veth pairs: (space, link) at each end.
    pub wires: Vec<((usize, String), (usize, String))>,
    /// Macvlans and the link each sits on: (space, macvlan), (space, parent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<((usize, String), (usize, String))>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Space {
    pub name: String,
    pub links: Vec<Link>,
    pub default_via: Option<String>,
    /// NAT and published ports, in nft syntax.
    pub nat: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    pub kind: LinkKind,
    pub up: bool,
    pub addrs: Vec<String>,
    pub master: Option<String>,
    /// Extra facts worth drawing (a VXLAN's VNI and remote).
    pub detail: Option<String>,
    #[serde(skip)]
    index: u32,
    #[serde(skip)]
    peer_index: Option<u32>,
    #[serde(skip)]
    peer_elsewhere: bool,
    #[serde(skip)]
    peer: Option<String>,
    #[serde(skip)]
    peer_nsid: Option<i32>,
}

impl From<&LinkInfo> for Link {
    fn from(l: &LinkInfo) -> Link {
        Link {
            name: l.name.clone(),
            kind: l.kind.clone(),
            up: l.up,
            // Link-local IPv6 addresses are noise in a picture.
            addrs: l
                .addrs
                .iter()
                .filter(|a| !a.to_string().starts_with("fe80:"))
                .map(|a| a.to_string())
                .collect(),
            master: l.master.clone(),
            detail: l.detail.clone(),
            index: l.index,
            peer_index: l.peer_index,
            peer_elsewhere: l.peer_elsewhere,
            peer: l.peer.clone(),
            peer_nsid: l.peer_nsid,
        }
    }
}

/// The NAT rules (masquerade, DNAT) `entries` added and did not delete since, with their
/// namespace: what the graph draws, from the rule model rather than from nft's text.
pub fn nat_rules(entries: &[Entry]) -> Vec<(Ns, Rule)> {
    let mut out: Vec<(Ns, Rule)> = vec![];
    for e in entries {
        match &e.op {
            Op::NftAdd { ns, rules } => {
                for r in rules.iter().filter(|r| r.is_nat()) {
                    if !out.iter().any(|(n, o)| n == ns && o.id == r.id) {
                        out.push((ns.clone(), r.clone()));
                    }
                }
            }
            // An id ending in ':' stands for every rule tagged with it.
            Op::NftDel { ns, rules } => out.retain(|(n, o)| {
                n != ns
                    || !rules.iter().any(|d| match d.id.ends_with(':') {
                        true => o.id.starts_with(&d.id),
                        false => o.id == d.id,
                    })
            }),
            _ => {}
        }
    }
    out
}

/// Read the topology of the host and the given namespaces; `rules` are netscript's NAT
/// rules (`nat_rules`, from the journals: a rule deleted by hand is still drawn).
pub fn gather(
    b: &mut dyn Backend,
    namespaces: &[String],
    rules: &[(Ns, Rule)],
) -> Result<Topology> {
    let mut t = Topology::default();
    let all: Vec<Ns> = std::iter::once(None)
        .chain(namespaces.iter().cloned().map(Some))
        .collect();
    for ns in &all {
        let links = b.links(ns)?;
        let default_via = b
            .routes(ns)?
            .into_iter()
            .find(|r| r.dst == "default")
            .and_then(|r| r.via.map(|v| v.to_string()));
        let nat = rules
            .iter()
            .filter(|(n, _)| n == ns)
            .map(|(_, r)| r.shown())
            .collect();
        t.spaces.push(Space {
            name: ns.clone().unwrap_or_else(|| "host".into()),
            links: links
                .iter()
                .filter(|l| l.kind != LinkKind::Loopback)
                .map(Link::from)
                .collect(),
            default_via,
            nat,
        });
    }
    t.pair_veths(&mut |from, of| b.nsid(&all[from], &all[of]));
    t.find_parents(&mut |from, of| b.nsid(&all[from], &all[of]));
    Ok(t)
}

impl Topology {
    /// Match veth ends: within a namespace by name, across namespaces by each end naming
    /// the other's index; where indexes repeat (several "hosts" number their links alike),
    /// by the namespace ids the ends have for each other (`nsid(from, of)`).
    fn pair_veths(&mut self, nsid: &mut dyn FnMut(usize, usize) -> Option<i32>) {
        let mut wires = vec![];
        // Veth ends whose peer is elsewhere, by (index, peer index): each end's candidates
        // are looked up, not searched for among every link of every namespace.
        let mut by_indexes: std::collections::HashMap<(u32, u32), Vec<(usize, &Link)>> =
            Default::default();
        for (sj, o) in self.spaces.iter().enumerate() {
            for p in o
                .links
                .iter()
                .filter(|p| p.kind == LinkKind::Veth && p.peer_elsewhere)
            {
                if let Some(pi) = p.peer_index {
                    by_indexes.entry((p.index, pi)).or_default().push((sj, p));
                }
            }
        }
        for (si, s) in self.spaces.iter().enumerate() {
            for l in s.links.iter().filter(|l| l.kind == LinkKind::Veth) {
                if !l.peer_elsewhere {
                    if let Some(p) = &l.peer {
                        if l.name < *p {
                            wires.push(((si, l.name.clone()), (si, p.clone())));
                        }
                    }
                    continue;
                }
                let candidates: Vec<(usize, &Link)> = l
                    .peer_index
                    .and_then(|pi| by_indexes.get(&(pi, l.index)))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|(sj, _)| *sj != si)
                    .collect();
                let found = match candidates.as_slice() {
                    [one] => Some(*one),
                    many => many.iter().copied().find(|(sj, p)| {
                        l.peer_nsid.is_some()
                            && nsid(si, *sj) == l.peer_nsid
                            && nsid(*sj, si) == p.peer_nsid
                    }),
                };
                if let Some((sj, p)) = found {
                    // Each pair once: from the end in the earlier namespace.
                    if sj > si {
                        wires.push(((si, l.name.clone()), (sj, p.name.clone())));
                    }
                }
            }
        }
        self.wires = wires;
    }

    /// Each macvlan to its parent: in its own namespace by index; moved elsewhere, the
    /// link of that index in the namespace whose id it names (`nsid(from, of)`, asked
    /// only where indexes repeat).
    fn find_parents(&mut self, nsid: &mut dyn FnMut(usize, usize) -> Option<i32>) {
        let mut parents = vec![];
        for (si, s) in self.spaces.iter().enumerate() {
            for l in s.links.iter().filter(|l| l.kind == LinkKind::Macvlan) {
                let Some(pi) = l.peer_index else { continue };
                let here = l.peer_nsid.is_none();
                let found: Vec<(usize, &Link)> = self
                    .spaces
                    .iter()
                    .enumerate()
                    .filter(|(sj, _)| (*sj == si) == here)
                    .flat_map(|(sj, o)| o.links.iter().map(move |p| (sj, p)))
                    .filter(|(_, p)| p.index == pi && p.kind != LinkKind::Macvlan)
                    .collect();
                let one = match found.as_slice() {
                    [one] => Some(*one),
                    many => many
                        .iter()
                        .copied()
                        .find(|(sj, _)| nsid(si, *sj) == l.peer_nsid),
                };
                if let Some((sj, p)) = one {
                    parents.push(((si, l.name.clone()), (sj, p.name.clone())));
                }
            }
        }
        self.parents = parents;
    }

    fn parent_of(&self, si: usize, name: &str) -> Option<(usize, &str)> {
        self.parents
            .iter()
            .find(|((s, n), _)| *s == si && n == name)
            .map(|(_, (sj, p))| (*sj, p.as_str()))
    }

    fn other_end(&self, si: usize, name: &str) -> Option<(usize, &str)> {
        self.wires.iter().find_map(|((a, an), (b, bn))| {
            if *a == si && an == name {
                Some((*b, bn.as_str()))
            } else if *b == si && bn == name {
                Some((*a, an.as_str()))
            } else {
                None
            }
        })
    }

    fn link(&self, si: usize, name: &str) -> Option<&Link> {
        self.spaces[si].links.iter().find(|l| l.name == name)
    }
}

fn describe(l: &Link) -> String {
    let mut s = l.name.clone();
    if l.kind != LinkKind::Veth {
        write!(s, " ({})", l.kind).unwrap();
    }
    if let Some(d) = &l.detail {
        write!(s, " {d}").unwrap();
    }
    for a in &l.addrs {
        write!(s, " {a}").unwrap();
    }
    if !l.up {
        s.push_str(" DOWN");
    }
    s
}

pub fn boxed(title: &str, lines: &[String], width: usize) -> Vec<String> {
    let w = lines
        .iter()
        .map(|l| l.chars().count())
        .chain([title.chars().count() + 2, width])
        .max()
        .unwrap_or(0);
    let mut out = vec![format!(
        "┌─ {title} {}┐",
        "─".repeat(w - title.chars().count() - 1)
    )];
    for l in lines {
        out.push(format!("│ {l}{} │", " ".repeat(w - l.chars().count())));
    }
    out.push(format!("└{}┘", "─".repeat(w + 2)));
    out
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())))
}

/// The seed's picture of a bridge and the namespaces on it: the bridge box, each port
/// going down a veth pair into the namespace's box.
/// One container under a bridge: its port, the peer's name, the lines of its box, and the
/// box's width.
type Column = (String, String, Vec<String>, usize);

fn draw_bridge(t: &Topology, si: usize, br: &Link, drawn: &mut Vec<usize>) -> Vec<String> {
    let ports: Vec<&Link> = t.spaces[si]
        .links
        .iter()
        .filter(|l| l.master.as_deref() == Some(&br.name))
        .collect();
    let mut out = vec![];
    let title = format!("Bridge: {}", describe(br));
    let mut cols: Vec<Column> = vec![];
    let mut extra = vec![];
    for p in &ports {
        match t.other_end(si, &p.name) {
            Some((sj, peer)) if sj != si => {
                drawn.push(sj);
                let s = &t.spaces[sj];
                let mut body = vec![format!("NS: {}", s.name)];
                if let Some(l) = t.link(sj, peer) {
                    body.extend(l.addrs.iter().cloned());
                }
                if let Some(v) = &s.default_via {
                    body.push(format!("via {v}"));
                }
                let w = body
                    .iter()
                    .chain([&p.name, &peer.to_string()])
                    .map(|x| x.chars().count())
                    .max()
                    .unwrap_or(0)
                    + 4;
                cols.push((p.name.clone(), peer.to_string(), body, w));
            }
            _ => extra.push(describe(p)),
        }
    }
    for group in cols.chunks(4) {
        let total: usize = group.iter().map(|c| c.3 + 1).sum::<usize>() - 1;
        let bw = total.max(title.chars().count() + 4);
        out.push(format!("┌{}┐", "─".repeat(bw - 2)));
        out.push(format!("│ {}│", pad(&title, bw - 3)));
        // The bridge's bottom edge, with a port coming down above each namespace.
        let mut bottom: Vec<char> = std::iter::repeat_n('─', bw).collect();
        bottom[0] = '└';
        bottom[bw - 1] = '┘';
        let mut x = 0;
        for c in group {
            bottom[x + 3] = '┬';
            x += c.3 + 1;
        }
        out.push(bottom.into_iter().collect());
        let row = |f: &dyn Fn(&Column) -> String| -> String {
            group
                .iter()
                .map(|c| pad(&f(c), c.3 + 1))
                .collect::<String>()
                .trim_end()
                .to_string()
        };
        out.push(row(&|c| format!("   │{}", c.0)));
        out.push(row(&|_| "   ║".to_string()));
        out.push(row(&|c| format!("   ║{}", c.1)));
        out.push(row(&|c| format!("┌──╨{}┐", "─".repeat(c.3 - 5))));
        let depth = group.iter().map(|c| c.2.len()).max().unwrap_or(0);
        for i in 0..depth {
            out.push(row(&|c| match c.2.get(i) {
                Some(line) => format!("│ {}│", pad(line, c.3 - 3)),
                None => format!("│{}│", " ".repeat(c.3 - 2)),
            }));
        }
        out.push(row(&|c| format!("└{}┘", "─".repeat(c.3 - 2))));
    }
    if cols.is_empty() {
        out.push(format!("[{title}]"));
    }
    for e in extra {
        out.push(format!("  port {e}"));
    }
    out
}

/// Text: the host (and every namespace) as a box; bridges drawn as in the seed.
pub fn text(t: &Topology) -> String {
    let mut drawn = vec![0usize];
    let mut blocks = vec![];
    // Namespaces with bridges first: the ones on their bridges are drawn inside them.
    let has_bridge = |i: &usize| {
        t.spaces[*i]
            .links
            .iter()
            .any(|l| l.kind == LinkKind::Bridge)
    };
    let order: Vec<usize> = std::iter::once(0)
        .chain((1..t.spaces.len()).filter(|i| has_bridge(i)))
        .chain((1..t.spaces.len()).filter(|i| !has_bridge(i)))
        .collect();
    for si in order {
        if drawn.contains(&si) && si != 0 {
            continue;
        }
        let s = &t.spaces[si];
        let mut lines = vec![];
        for br in s.links.iter().filter(|l| l.kind == LinkKind::Bridge) {
            lines.extend(draw_bridge(t, si, br, &mut drawn));
        }
        for l in s
            .links
            .iter()
            .filter(|l| l.kind != LinkKind::Bridge && l.master.is_none())
        {
            let mut d = describe(l);
            if let Some((sj, peer)) = t.other_end(si, &l.name) {
                write!(d, " ══ {peer} in {}", t.spaces[sj].name).unwrap();
            }
            // A macvlan hangs off its parent.
            match t.parent_of(si, &l.name) {
                Some((sj, p)) if sj == si => write!(d, " ── on {p}").unwrap(),
                Some((sj, p)) => write!(d, " ── on {p} in {}", t.spaces[sj].name).unwrap(),
                None => {}
            }
            lines.push(d);
        }
        if let Some(v) = &s.default_via {
            lines.push(format!("default via {v}"));
        }
        for n in &s.nat {
            lines.push(format!("nat: {n}"));
        }
        let title = if si == 0 {
            "HOST".to_string()
        } else {
            format!("NS: {}", s.name)
        };
        blocks.push(boxed(&title, &lines, 0).join("\n"));
        drawn.push(si);
    }
    blocks.join("\n") + "\n"
}

fn id(space: &str, link: &str) -> String {
    format!("{space}_{link}").replace(|c: char| !c.is_ascii_alphanumeric(), "_")
}

/// How a graph language writes each part of the picture, as templates whose `{NAME}`s
/// [`fill`] replaces: a cluster per namespace (`{i}`: its index, `{id}`, `{title}`), a node
/// per link, the default route and each NAT rule (`{id}`, `{label}`), and the edges
/// between two nodes (`{a}`, `{b}`): a bridge port to its bridge, a macvlan to its
/// parent, a veth pair.
struct Syntax {
    head: &'static str,
    cluster: &'static str,
    link: &'static str,
    route: &'static str,
    nat: &'static str,
    cluster_end: &'static str,
    port: &'static str,
    macvlan: &'static str,
    veth: &'static str,
    tail: &'static str,
}

/// Graphviz: a cluster per namespace, a node per link, veth pairs and bridge ports as edges.
const DOT: Syntax = Syntax {
    head: "graph netscript {\n  node [shape=box, fontname=monospace];\n",
    cluster: "  subgraph cluster_{i} {\n    label=\"{title}\";\n",
    link: "    {id} [label=\"{label}\"];\n",
    route: "    {id} [label=\"{label}\", shape=plaintext];\n",
    nat: "    {id} [label=\"{label}\", shape=note];\n",
    cluster_end: "  }\n",
    port: "  {a} -- {b};\n",
    macvlan: "  {a} -- {b} [style=dashed, label=\"macvlan\"];\n",
    veth: "  {a} -- {b} [style=bold, label=\"veth\"];\n",
    tail: "}\n",
};

/// Mermaid flowchart: the same graph, for Markdown.
const MERMAID: Syntax = Syntax {
    head: "flowchart TB\n",
    cluster: "  subgraph {id}[\"{title}\"]\n",
    link: "    {id}[\"{label}\"]\n",
    route: "    {id}([\"{label}\"])\n",
    nat: "    {id}>\"{label}\"]\n",
    cluster_end: "  end\n",
    port: "  {a} --- {b}\n",
    macvlan: "  {a} -.-|macvlan| {b}\n",
    veth: "  {a} ===|veth| {b}\n",
    tail: "",
};

/// `template` with each `{NAME}` of `vars` replaced by its value, in one pass (a value
/// holding `{...}` itself stays as it is).
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let var = rest[open + 1..].find('}').and_then(|close| {
            let name = &rest[open + 1..open + 1 + close];
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, open + close + 2))
        });
        match var {
            Some((value, end)) => {
                out.push_str(value);
                rest = &rest[end..];
            }
            None => {
                out.push('{');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The node id of `link` in `space`, in a graph whose ids start with `pre` (one host's
/// part of a graph of several: see `hosts::graph`).
pub fn node_id(pre: &str, space: &str, link: &str) -> String {
    format!("{pre}{}", id(space, link))
}

/// The topology's clusters and edges in the graph language `syn`, every id (and cluster
/// number) starting with `pre`.
fn draw_body(t: &Topology, syn: &Syntax, pre: &str) -> String {
    let id = |space: &str, link: &str| node_id(pre, space, link);
    let mut s = String::new();
    for (i, sp) in t.spaces.iter().enumerate() {
        let title = if i == 0 {
            "host".to_string()
        } else {
            format!("ns {}", sp.name)
        };
        let (i, space) = (format!("{pre}{i}"), id("space", &sp.name));
        s += &fill(syn.cluster, &[("i", &i), ("id", &space), ("title", &title)]);
        let node = |template: &str, node: &str, label: &str| {
            fill(template, &[("id", &id(&sp.name, node)), ("label", label)])
        };
        for l in &sp.links {
            s += &node(syn.link, &l.name, &describe(l).replace('"', "'"));
        }
        if let Some(v) = &sp.default_via {
            s += &node(syn.route, "_route", &format!("default via {v}"));
        }
        for (k, n) in sp.nat.iter().enumerate() {
            s += &node(syn.nat, &format!("_nat{k}"), &n.replace('"', "'"));
        }
        s += syn.cluster_end;
    }
    let edge = |template: &str, a: &str, b: &str| fill(template, &[("a", a), ("b", b)]);
    for sp in &t.spaces {
        for l in &sp.links {
            if let Some(m) = &l.master {
                s += &edge(syn.port, &id(&sp.name, &l.name), &id(&sp.name, m));
            }
        }
    }
    for (template, pairs) in [(syn.macvlan, &t.parents), (syn.veth, &t.wires)] {
        for ((a, an), (b, bn)) in pairs {
            let (a, b) = (id(&t.spaces[*a].name, an), id(&t.spaces[*b].name, bn));
            s += &edge(template, &a, &b);
        }
    }
    s
}

/// Graphviz: a cluster per namespace, a node per link, veth pairs and bridge ports as edges.
pub fn dot(t: &Topology) -> String {
    format!("{}{}{}", DOT.head, dot_body(t, ""), DOT.tail)
}

/// `dot`'s clusters and edges, every id and cluster name starting with `pre`.
pub fn dot_body(t: &Topology, pre: &str) -> String {
    draw_body(t, &DOT, pre)
}

/// Mermaid flowchart: the same graph, for Markdown.
pub fn mermaid(t: &Topology) -> String {
    format!("{}{}{}", MERMAID.head, mermaid_body(t, ""), MERMAID.tail)
}

/// `mermaid`'s subgraphs and edges, every id starting with `pre`.
pub fn mermaid_body(t: &Topology, pre: &str) -> String {
    draw_body(t, &MERMAID, pre)
}

/// SVG through Graphviz's `dot`, where it is installed.
pub fn svg(t: &Topology) -> crate::error::Result<String> {
    svg_of(&dot(t))
}

/// The SVG Graphviz's `dot` makes of `dot` text.
pub fn svg_of(dot: &str) -> crate::error::Result<String> {
    use crate::error::Error;
    use std::io::Write as _;
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Unsupported(
                "svg needs Graphviz's dot: install it (apt-get install graphviz), or use --format dot".into(),
            ),
            _ => Error::os("running dot", e),
        })?;
    let written = child.stdin.take().expect("piped").write_all(dot.as_bytes());
    // Only the text of these, as before: no "what" in front.
    written.map_err(|e| Error::Other(e.to_string()))?;
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Other(e.to_string()))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "dot failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
pub mod tests {
    use super::*;

    fn link(name: &str, kind: &str, addrs: &[&str], master: Option<&str>) -> Link {
        Link {
            name: name.into(),
            kind: kind.into(),
            up: true,
            addrs: addrs.iter().map(|a| a.to_string()).collect(),
            master: master.map(str::to_string),
            ..Default::default()
        }
    }

    /// The seed's lab: br0 with c1 and c2.
    pub fn seed_lab() -> Topology {
        let host = Space {
            name: "host".into(),
            links: vec![
                link("br0", "bridge", &["10.100.0.1/24"], None),
                link("veth-c1-br", "veth", &[], Some("br0")),
                link("veth-c2-br", "veth", &[], Some("br0")),
            ],
            default_via: None,
            nat: vec![r#"ip saddr 10.100.0.0/24 oifname != "br0" masquerade"#.into()],
        };
        let c = |n: &str, ip: &str| Space {
            name: n.into(),
            links: vec![link(&format!("veth-{n}"), "veth", &[ip], None)],
            default_via: Some("10.100.0.1".into()),
            nat: vec![],
        };
        Topology {
            spaces: vec![host, c("c1", "10.100.0.2/24"), c("c2", "10.100.0.3/24")],
            wires: vec![
                ((0, "veth-c1-br".into()), (1, "veth-c1".into())),
                ((0, "veth-c2-br".into()), (2, "veth-c2".into())),
            ],
            parents: vec![],
        }
    }

    #[test]
    fn text_looks_like_the_seed() {
        let t = text(&seed_lab());
        let expected = "\
┌─ HOST ──────────────────────────────────────────────────┐
│ ┌────────────────────────────────────┐                  │
│ │ Bridge: br0 (bridge) 10.100.0.1/24 │                  │
│ └──┬──────────────────┬──────────────┘                  │
│    │veth-c1-br        │veth-c2-br                       │
│    ║                  ║                                 │
│    ║veth-c1           ║veth-c2                          │
│ ┌──╨─────────────┐ ┌──╨─────────────┐                   │
│ │ NS: c1         │ │ NS: c2         │                   │
│ │ 10.100.0.2/24  │ │ 10.100.0.3/24  │                   │
│ │ via 10.100.0.1 │ │ via 10.100.0.1 │                   │
│ └────────────────┘ └────────────────┘                   │
│ nat: ip saddr 10.100.0.0/24 oifname != \"br0\" masquerade │
└─────────────────────────────────────────────────────────┘
";
        // Printed for a human to compare with the seed's picture when this fails.
        assert_eq!(t, expected, "\n{t}");
    }

    /// A link's name may hold braces: they are not read as a template's names.
    #[test]
    fn fill_replaces_each_name_once() {
        let vars = [("a", "{b}"), ("b", "x")];
        assert_eq!(fill("{a} -- {b} {c} {", &vars), "{b} -- x {c} {");
    }

    #[test]
    fn dot_and_mermaid_have_the_wires() {
        let t = seed_lab();
        let d = dot(&t);
        assert!(
            d.contains("host_veth_c1_br -- c1_veth_c1 [style=bold, label=\"veth\"];"),
            "{d}"
        );
        assert!(d.contains("host_veth_c1_br -- host_br0;"), "{d}");
        assert!(d.contains("label=\"ns c1\""), "{d}");
        let m = mermaid(&t);
        assert!(m.starts_with("flowchart TB\n"), "{m}");
        assert!(m.contains("host_veth_c2_br ===|veth| c2_veth_c2"), "{m}");
        assert!(m.contains("c1__route([\"default via 10.100.0.1\"])"), "{m}");
    }
}
