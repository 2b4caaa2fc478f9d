//! `graph --hosts`: one picture of every host. Each host's topology is read there (its
//! own `netscript graph --json`) and where its VXLANs flood to (`bridge fdb show`: the
//! all-zeros entries); here they become one drawing: a box per host holding its
//! topology, and the overlay between the hosts: an edge between two hosts' VXLANs of one
//! VNI when one floods to the other's underlay address.

use std::fmt::Write;

use serde::Serialize;

use super::file::HostsFile;
use crate::lab::link_kind::LinkKind;
use crate::ui::graph::{self, Topology};

/// One host's part of the picture.
#[derive(Serialize)]
pub struct Part {
    pub name: String,
    pub ssh: String,
    pub underlay: Option<String>,
    /// Its topology, or why there is none (the lab is not up there, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology: Option<Topology>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// (VXLAN, address) for each all-zeros FDB entry: where the VXLAN floods to.
    #[serde(skip)]
    pub floods: Vec<(String, String)>,
}

/// One end of an overlay edge: a host's VXLAN.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct End {
    pub host: String,
    pub link: String,
}

/// An edge of the overlay: two hosts' VXLANs of one VNI, one flooding to the other.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edge {
    pub vni: u32,
    pub a: End,
    pub b: End,
}

/// A VXLAN flooding to an address that is no host of the file's, or to a host that has
/// no VXLAN of its VNI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Loose {
    pub vni: u32,
    pub from: End,
    pub to: String,
}

/// Every host and the overlay between them.
#[derive(Serialize)]
pub struct Picture {
    pub hosts: Vec<Part>,
    pub overlay: Vec<Edge>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub loose: Vec<Loose>,
}

/// (VXLAN, address) of each `00:00:00:00:00:00 dev VX dst R ...` line of `bridge fdb show`.
pub fn floods(fdb: &str) -> Vec<(String, String)> {
    fdb.lines()
        .filter_map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            let after = |k: &str| w.iter().position(|x| *x == k).and_then(|i| w.get(i + 1));
            Some((after("dev")?.to_string(), after("dst")?.to_string()))
        })
        .collect()
}

/// The VNI of a VXLAN as the topology shows it (`vni N ...`).
fn vni(l: &graph::Link) -> Option<u32> {
    let d = l.detail.as_deref()?;
    d.strip_prefix("vni ")?.split(' ').next()?.parse().ok()
}

/// The VXLANs of a host's own namespace (where netscript and `lab::mesh` make them), with
/// their VNI.
fn vxlans(p: &Part) -> Vec<(String, u32)> {
    let Some(host) = p.topology.as_ref().and_then(|t| t.spaces.first()) else {
        return vec![];
    };
    host.links
        .iter()
        .filter(|l| l.kind == LinkKind::Vxlan)
        .filter_map(|l| Some((l.name.clone(), vni(l)?)))
        .collect()
}

impl Picture {
    pub fn new(file: &HostsFile, hosts: Vec<Part>) -> Picture {
        let mut overlay: Vec<Edge> = Vec::new();
        let mut loose = Vec::new();
        for p in &hosts {
            let mine = vxlans(p);
            for (dev, dst) in &p.floods {
                let Some(v) = mine.iter().find(|(d, _)| d == dev).map(|(_, v)| *v) else {
                    continue;
                };
                let from = End {
                    host: p.name.clone(),
                    link: dev.clone(),
                };
                let peer = file
                    .hosts
                    .iter()
                    .position(|h| h.underlay.map(|u| u.to_string()).as_deref() == Some(dst));
                let theirs = peer.and_then(|j| {
                    let link = vxlans(&hosts[j]).into_iter().find(|(_, w)| *w == v)?.0;
                    Some(End {
                        host: hosts[j].name.clone(),
                        link,
                    })
                });
                match theirs {
                    // Each edge once, whichever end floods to the other.
                    Some(to) => {
                        if !overlay
                            .iter()
                            .any(|e| e.vni == v && (e.a == to && e.b == from))
                        {
                            overlay.push(Edge {
                                vni: v,
                                a: from.clone(),
                                b: to,
                            });
                        }
                    }
                    None => loose.push(Loose {
                        vni: v,
                        from: from.clone(),
                        to: match peer {
                            Some(j) => format!("{} (no VXLAN of VNI {v} there)", hosts[j].name),
                            None => dst.clone(),
                        },
                    }),
                }
            }
        }
        Picture {
            hosts,
            overlay,
            loose,
        }
    }

    fn host_index(&self, name: &str) -> usize {
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .expect("an end is a host of the picture")
    }

    /// The overlay's segments: ends joined by edges (directly or through others), one
    /// VNI each, with a label (`vni 42 (vx-mesh): a, b, c`; the edges themselves where
    /// not every pair is joined; where it floods outside the file).
    fn segments(&self) -> Vec<(Vec<End>, String)> {
        // (VNI, ends, edges, loose ends)
        type Seg<'a> = (u32, Vec<End>, Vec<&'a Edge>, Vec<&'a Loose>);
        let mut segs: Vec<Seg> = Vec::new();
        for e in &self.overlay {
            let found: Vec<usize> = (0..segs.len())
                .filter(|&i| {
                    segs[i].0 == e.vni && (segs[i].1.contains(&e.a) || segs[i].1.contains(&e.b))
                })
                .collect();
            let mut seg = (e.vni, vec![], vec![e], vec![]);
            for i in found.into_iter().rev() {
                let s = segs.remove(i);
                seg.1.extend(s.1);
                seg.2.extend(s.2);
            }
            for end in [&e.a, &e.b] {
                if !seg.1.contains(end) {
                    seg.1.push(end.clone());
                }
            }
            segs.push(seg);
        }
        for l in &self.loose {
            match segs
                .iter_mut()
                .find(|s| s.0 == l.vni && s.1.contains(&l.from))
            {
                Some(s) => s.3.push(l),
                None => segs.push((l.vni, vec![l.from.clone()], vec![], vec![l])),
            }
        }
        segs.into_iter()
            .map(|(vni, mut ends, edges, loose)| {
                ends.sort_by_key(|e| self.host_index(&e.host));
                let one_name = ends.iter().all(|e| e.link == ends[0].link);
                let name = |e: &End| match one_name {
                    true => e.host.clone(),
                    false => format!("{}:{}", e.host, e.link),
                };
                let n = ends.len();
                let mut label = match one_name {
                    true => format!("vni {vni} ({}): ", ends[0].link),
                    false => format!("vni {vni}: "),
                };
                if edges.len() == n * (n - 1) / 2 {
                    let names: Vec<String> = ends.iter().map(name).collect();
                    label.push_str(&names.join(", "));
                } else {
                    let mut pairs: Vec<(usize, usize, String)> = edges
                        .iter()
                        .map(|e| {
                            let (a, b) = (self.host_index(&e.a.host), self.host_index(&e.b.host));
                            let (a, b, ea, eb) = match a < b {
                                true => (a, b, &e.a, &e.b),
                                false => (b, a, &e.b, &e.a),
                            };
                            (a, b, format!("{} ═ {}", name(ea), name(eb)))
                        })
                        .collect();
                    pairs.sort();
                    let pairs: Vec<String> = pairs.into_iter().map(|p| p.2).collect();
                    label.push_str(&pairs.join(", "));
                }
                for l in loose {
                    write!(label, "; {} floods to {}", name(&l.from), l.to).unwrap();
                }
                (ends, label)
            })
            .collect()
    }

    /// One drawing: the hosts' boxes one under the other, each holding that host's
    /// picture, and a line per overlay segment on their right, labelled at its top,
    /// joining the box lines of its VXLANs.
    pub fn text(&self) -> String {
        let inner: Vec<(String, Vec<String>)> = self
            .hosts
            .iter()
            .map(|h| {
                let lines = match (&h.topology, &h.error) {
                    (Some(t), _) => graph::text(t).lines().map(String::from).collect(),
                    (None, e) => vec![format!("(no picture: {})", e.as_deref().unwrap_or("?"))],
                };
                (title(h), lines)
            })
            .collect();
        // Every host's box as wide as the widest.
        let w = inner
            .iter()
            .flat_map(|(t, l)| {
                l.iter()
                    .map(|x| x.chars().count())
                    .chain([t.chars().count() + 2])
            })
            .max()
            .unwrap_or(0);
        let boxes: Vec<Vec<String>> = inner.iter().map(|(t, l)| graph::boxed(t, l, w)).collect();
        let width = w + 4;
        let segs = self.segments();
        let top = segs.len();
        let mut rows: Vec<Vec<char>> = vec![vec![]; top];
        // Where each host's box starts, and each end's row (its VXLAN's line).
        let mut ends_at: Vec<Vec<usize>> = vec![vec![]; segs.len()];
        for (i, b) in boxes.iter().enumerate() {
            let start = rows.len();
            for (k, (ends, _)) in segs.iter().enumerate() {
                for e in ends.iter().filter(|e| e.host == self.hosts[i].name) {
                    let at = b.iter().position(|l| shows(l, &e.link)).unwrap_or(0);
                    ends_at[k].push(start + at);
                }
            }
            rows.extend(b.iter().map(|l| l.chars().collect()));
        }
        let lane = |k: usize| width + 3 + 3 * k;
        let cols = lane(segs.len());
        for r in rows.iter_mut() {
            r.resize(cols, ' ');
        }
        for (k, (_, label)) in segs.iter().enumerate() {
            let x = lane(k);
            let bottom = ends_at[k].iter().copied().max().unwrap_or(k);
            rows[k][x] = '┌';
            rows[k].truncate(x + 1);
            rows[k].extend(format!(" {label}").chars());
            for r in rows.iter_mut().take(bottom + 1).skip(k + 1) {
                r[x] = '│';
            }
        }
        for (k, ends) in ends_at.iter().enumerate() {
            let x = lane(k);
            let bottom = ends.iter().copied().max().unwrap_or(k);
            for &r in ends {
                let row = &mut rows[r];
                if row[width - 1] == '│' {
                    row[width - 1] = '├';
                }
                for c in row.iter_mut().take(x).skip(width) {
                    *c = match *c {
                        '│' | '┼' => '┼',
                        _ => '─',
                    };
                }
                row[x] = if r == bottom { '┘' } else { '┤' };
            }
        }
        let mut out = String::new();
        for r in rows {
            let line: String = r.into_iter().collect();
            writeln!(out, "{}", line.trim_end()).unwrap();
        }
        out
    }

    /// Graphviz: a cluster per host holding its graph, the overlay's edges between them.
    pub fn dot(&self) -> String {
        let mut s = String::from("graph netscript {\n  node [shape=box, fontname=monospace];\n");
        for (i, h) in self.hosts.iter().enumerate() {
            writeln!(
                s,
                "subgraph cluster_h{i} {{\n  label=\"{}\";",
                quoted(&title(h))
            )
            .unwrap();
            match &h.topology {
                Some(t) => s.push_str(&graph::dot_body(t, &format!("h{i}_"))),
                None => writeln!(
                    s,
                    "  h{i}_error [label=\"{}\", shape=note];",
                    quoted(h.error.as_deref().unwrap_or("?"))
                )
                .unwrap(),
            }
            s.push_str("}\n");
        }
        for e in &self.overlay {
            writeln!(
                s,
                "  {} -- {} [style=dashed, penwidth=2, label=\"vni {}\"];",
                self.node(&e.a),
                self.node(&e.b),
                e.vni
            )
            .unwrap();
        }
        for (k, l) in self.loose.iter().enumerate() {
            writeln!(
                s,
                "  loose{k} [label=\"{}\", shape=plaintext];\n  {} -- loose{k} [style=dashed, label=\"vni {}\"];",
                quoted(&l.to),
                self.node(&l.from),
                l.vni
            )
            .unwrap();
        }
        s.push_str("}\n");
        s
    }

    /// Mermaid: a subgraph per host holding its graph, the overlay's edges between them.
    pub fn mermaid(&self) -> String {
        let mut s = String::from("flowchart TB\n");
        for (i, h) in self.hosts.iter().enumerate() {
            writeln!(s, "subgraph h{i}[\"{}\"]", quoted(&title(h))).unwrap();
            match &h.topology {
                Some(t) => s.push_str(&graph::mermaid_body(t, &format!("h{i}_"))),
                None => writeln!(
                    s,
                    "  h{i}_error>\"{}\"]",
                    quoted(h.error.as_deref().unwrap_or("?"))
                )
                .unwrap(),
            }
            s.push_str("end\n");
        }
        for e in &self.overlay {
            writeln!(
                s,
                "  {} -.-|vni {}| {}",
                self.node(&e.a),
                e.vni,
                self.node(&e.b)
            )
            .unwrap();
        }
        for (k, l) in self.loose.iter().enumerate() {
            writeln!(
                s,
                "  loose{k}([\"{}\"])\n  {} -.-|vni {}| loose{k}",
                quoted(&l.to),
                self.node(&l.from),
                l.vni
            )
            .unwrap();
        }
        s
    }

    /// The node of a host's VXLAN (in its own namespace, the topology's first space).
    fn node(&self, e: &End) -> String {
        let i = self.host_index(&e.host);
        let space = self.hosts[i]
            .topology
            .as_ref()
            .and_then(|t| t.spaces.first())
            .map(|s| s.name.as_str())
            .unwrap_or("host");
        graph::node_id(&format!("h{i}_"), space, &e.link)
    }
}

fn title(h: &Part) -> String {
    match &h.underlay {
        Some(u) => format!("host {} (underlay {u})", h.name),
        None => format!("host {}", h.name),
    }
}

/// A label inside dot's or mermaid's double quotes (a host name is anything TOML takes).
fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "'")
}

/// This box line shows link `name` (as `name (vxlan)`, its own word).
fn shows(line: &str, name: &str) -> bool {
    let needle = format!("{name} (vxlan)");
    line.match_indices(&needle).any(|(i, _)| {
        line[..i]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || "-_.@".contains(c)))
    })
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::hosts::file::Host;

    fn topo(vxlans: &[(&str, u32)]) -> Topology {
        let links = vxlans
            .iter()
            .map(|(n, v)| {
                serde_json::from_value(serde_json::json!({
                    "name": n, "kind": "vxlan", "up": true, "addrs": [],
                    "master": null, "detail": format!("vni {v} port 4789"),
                }))
                .unwrap()
            })
            .collect();
        Topology {
            spaces: vec![graph::Space {
                name: "host".into(),
                links,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// A host: its name, its VXLANs (name, VNI), where they flood to (name, address).
    type Spec<'a> = (&'a str, &'a [(&'a str, u32)], &'a [(&'a str, &'a str)]);

    fn picture(hosts: &[Spec]) -> Picture {
        let file = HostsFile {
            path: "hosts.toml".into(),
            ssh_config: None,
            ssh_options: vec![],
            hosts: hosts
                .iter()
                .enumerate()
                .map(|(i, (n, _, _))| Host {
                    name: n.to_string(),
                    ssh: n.to_string(),
                    underlay: Some(format!("10.0.0.{}", i + 1).parse().unwrap()),
                })
                .collect(),
        };
        let parts = hosts
            .iter()
            .enumerate()
            .map(|(i, (n, vx, fl))| Part {
                name: n.to_string(),
                ssh: n.to_string(),
                underlay: Some(format!("10.0.0.{}", i + 1)),
                topology: Some(topo(vx)),
                error: None,
                floods: fl
                    .iter()
                    .map(|(d, a)| (d.to_string(), a.to_string()))
                    .collect(),
            })
            .collect();
        Picture::new(&file, parts)
    }

    #[test]
    fn a_full_mesh_is_one_segment_each_edge_once() {
        let p = picture(&[
            (
                "a",
                &[("vx", 42)],
                &[("vx", "10.0.0.2"), ("vx", "10.0.0.3")],
            ),
            (
                "b",
                &[("vx", 42)],
                &[("vx", "10.0.0.1"), ("vx", "10.0.0.3")],
            ),
            (
                "c",
                &[("vx", 42)],
                &[("vx", "10.0.0.1"), ("vx", "10.0.0.2")],
            ),
        ]);
        assert_eq!(p.overlay.len(), 3);
        let segs = p.segments();
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].1, "vni 42 (vx): a, b, c");
        let t = p.text();
        let mut lines = t.lines();
        assert!(
            lines.next().unwrap().ends_with("   ┌ vni 42 (vx): a, b, c"),
            "{t}"
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("┌─ host a (underlay 10.0.0.1) ─"),
            "{t}"
        );
        // Each host's VXLAN line joins the segment's line: two through, the last ends it.
        assert_eq!(t.matches("├───┤").count(), 2, "{t}");
        assert_eq!(t.matches("├───┘").count(), 1, "{t}");
        let d = p.dot();
        assert!(
            d.contains("h0_host_vx -- h1_host_vx [style=dashed, penwidth=2, label=\"vni 42\"];"),
            "{d}"
        );
        let m = p.mermaid();
        assert!(m.contains("h1_host_vx -.-|vni 42| h2_host_vx"), "{m}");
    }

    #[test]
    fn other_vnis_partial_meshes_and_loose_ends_are_told_apart() {
        let p = picture(&[
            (
                "a",
                &[("vx1", 1), ("vx2", 2)],
                &[("vx1", "10.0.0.2"), ("vx2", "192.0.2.9")],
            ),
            ("b", &[("vx1", 1)], &[("vx1", "10.0.0.3")]),
            ("c", &[("vy", 1)], &[]),
        ]);
        let labels: Vec<String> = p.segments().into_iter().map(|s| s.1).collect();
        assert_eq!(
            labels,
            [
                "vni 1: a:vx1 ═ b:vx1, b:vx1 ═ c:vy",
                "vni 2 (vx2): a; a floods to 192.0.2.9"
            ]
        );
    }

    #[test]
    fn host_names_any_toml_key_takes_are_drawn() {
        let p = picture(&[
            ("rack\"1\".a-b", &[("vx", 7)], &[("vx", "10.0.0.2")]),
            ("ä_b", &[("vx", 7)], &[]),
        ]);
        let d = p.dot();
        assert!(
            d.contains("label=\"host rack'1'.a-b (underlay 10.0.0.1)\""),
            "{d}"
        );
        assert!(d.contains("h0_host_vx -- h1_host_vx"), "{d}");
        assert!(p
            .mermaid()
            .contains("subgraph h1[\"host ä_b (underlay 10.0.0.2)\"]"));
        assert!(p.text().contains("host ä_b"));
    }

    #[test]
    fn one_host_or_a_host_without_a_picture_is_still_drawn() {
        let mut p = picture(&[("solo", &[], &[])]);
        let t = p.text();
        assert!(t.starts_with("┌─ host solo (underlay 10.0.0.1) ─"), "{t}");
        assert!(!t.contains('┤') && p.overlay.is_empty(), "{t}");
        p.hosts[0].topology = None;
        p.hosts[0].error = Some("there is no lab named \"x\" that is up".into());
        let t = p.text();
        assert!(
            t.contains("│ (no picture: there is no lab named \"x\" that is up) │"),
            "{t}"
        );
        assert!(p
            .dot()
            .contains("h0_error [label=\"there is no lab named 'x' that is up\", shape=note];"));
    }
}
