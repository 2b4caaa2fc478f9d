//! A bridge's MTU is its segment's. A bridge forwards no frame larger than the port it
//! leaves by, and nothing tells the sender (no ICMP at layer 2), so one port larger than
//! the rest silently loses its big frames: a TCP transfer stalls while pings pass. So,
//! as Docker gives a network's MTU to its containers' veths: once a run gives a bridge an
//! MTU (`link.mtu(N)` on it; `lab::mesh` does, for the overlay), every veth this run made
//! without an `mtu` that is a port of that bridge takes N on both ends, whichever came
//! first, the port or the MTU. A veth made with an `mtu` keeps it.
//!
//! Everything is read from this run's journal (flushed first), not from the kernel, so a
//! plan (over the model) and a run make the same calls, and `-x` shows them.

use super::{Ctx, OrFail, RhaiResult};
use crate::lab::op::{Ns, Op};

type End = (Ns, String);

/// A veth this run made: where its ends are now, and whether it was given an MTU.
struct Pair {
    ends: [End; 2],
    sized: bool,
}

/// What `decide` makes of this run's ops, in order (a veth held back for folding is
/// this run's too: flushed first). Read in place: a lab of thousands of links has
/// thousands of entries, and this runs at each port.
fn with_ops<T>(cx: &Ctx, c: &str, decide: impl FnOnce(&[&Op]) -> T) -> RhaiResult<T> {
    let mut s = cx.borrow_mut();
    s.flush().or_fail(c)?;
    let ops: Vec<&Op> = s.journal.entries.iter().map(|e| &e.op).collect();
    Ok(decide(&ops))
}

/// The veths this run made that are still there, their ends followed through moves.
fn pairs(ops: &[&Op]) -> Vec<Pair> {
    let mut pairs: Vec<Pair> = Vec::new();
    for op in ops.iter().copied() {
        match op {
            Op::VethAdd {
                a,
                a_ns,
                b,
                b_ns,
                mtu,
                ..
            } => pairs.push(Pair {
                ends: [(a_ns.clone(), a.clone()), (b_ns.clone(), b.clone())],
                sized: mtu.is_some(),
            }),
            Op::LinkMove { ns, name, to } => {
                for e in pairs.iter_mut().flat_map(|p| p.ends.iter_mut()) {
                    if e.0 == *ns && e.1 == *name {
                        e.0 = to.clone();
                    }
                }
            }
            Op::LinkDel { ns, name } => {
                pairs.retain(|p| !p.ends.iter().any(|e| e.0 == *ns && e.1 == *name))
            }
            Op::NetnsDel { name } => {
                pairs.retain(|p| !p.ends.iter().any(|e| e.0.as_ref() == Some(name)))
            }
            _ => {}
        }
    }
    pairs
}

/// The links this run made ports of `br` in `ns` (and did not take off it since).
fn ports(ops: &[&Op], ns: &Ns, br: &str) -> Vec<String> {
    let mut ports: Vec<String> = Vec::new();
    for op in ops.iter().copied() {
        if let Op::LinkMaster {
            ns: n,
            name,
            master,
        } = op
        {
            if n == ns {
                ports.retain(|p| p != name);
                if master.as_deref() == Some(br) {
                    ports.push(name.clone());
                }
            }
        }
    }
    ports
}

/// Both ends of the veth this run made without an MTU that has an end `name` in `ns`.
fn unsized_veth(pairs: &[Pair], ns: &Ns, name: &str) -> Option<[End; 2]> {
    pairs
        .iter()
        .find(|p| !p.sized && p.ends.iter().any(|e| e.0 == *ns && e.1 == name))
        .map(|p| p.ends.clone())
}

fn set_mtu(cx: &Ctx, c: &str, ends: [End; 2], mtu: u32) -> RhaiResult<()> {
    let mut s = cx.borrow_mut();
    for (ns, name) in ends {
        s.apply(Op::LinkMtu { ns, name, mtu }).or_fail(c)?;
    }
    Ok(())
}

/// The veth this run made without an MTU that has an end `name` in `ns` now: both ends
/// where they are now. Read from the newest op back to the one that made it, then
/// forward from there for its peer: a port joins soon after its veth is made
/// (`lab::container`), so a lab of a thousand ports does not read its whole journal a
/// thousand times. The same answer as `unsized_veth(&pairs(ops), ..)`.
fn unsized_veth_back<'a>(
    len: usize,
    op: impl Fn(usize) -> &'a Op,
    ns: &Ns,
    name: &str,
) -> Option<[End; 2]> {
    let at = |e: &End, n: &Ns, nm: &str| e.0 == *n && e.1 == nm;
    // Where the link now at (ns, name) was, going back.
    let mut here: End = (ns.clone(), name.to_string());
    let mut made = None;
    let mut made_as_a = false;
    for i in (0..len).rev() {
        match op(i) {
            Op::LinkMove {
                ns: from,
                name: n,
                to,
            } if at(&here, to, n) => here.0 = from.clone(),
            // Taken away from here before the link now here came: not one of these.
            Op::LinkMove {
                ns: n, name: nm, ..
            }
            | Op::LinkDel { ns: n, name: nm }
                if at(&here, n, nm) =>
            {
                return None
            }
            Op::NetnsDel { name: n } if here.0.as_ref() == Some(n) => return None,
            Op::VethAdd {
                a,
                a_ns,
                b,
                b_ns,
                mtu,
                ..
            } if at(&here, a_ns, a) || at(&here, b_ns, b) => {
                if mtu.is_some() {
                    return None;
                }
                made_as_a = at(&here, a_ns, a);
                let peer = match made_as_a {
                    true => (b_ns.clone(), b.clone()),
                    false => (a_ns.clone(), a.clone()),
                };
                made = Some((i, peer));
                break;
            }
            _ => {}
        }
    }
    // The peer, followed forward through moves; deleted, the pair is gone.
    let (i, mut peer) = made?;
    for j in i + 1..len {
        match op(j) {
            Op::LinkMove {
                ns: n,
                name: nm,
                to,
            } if at(&peer, n, nm) => peer.0 = to.clone(),
            Op::LinkDel { ns: n, name: nm } if at(&peer, n, nm) => return None,
            Op::NetnsDel { name: n } if peer.0.as_ref() == Some(n) => return None,
            _ => {}
        }
    }
    // The ends in the order the veth was made, as `pairs` gives them.
    let port: End = (ns.clone(), name.to_string());
    Some(match made_as_a {
        true => [port, peer],
        false => [peer, port],
    })
}

/// `link.master(br)`: a veth made without an MTU joining a bridge this run gave one
/// takes the bridge's, on both ends (before it joins).
pub fn joining(cx: &Ctx, c: &str, ns: &Ns, link: &str, br: &str) -> RhaiResult<()> {
    // Most bridges were given no MTU: then there is nothing to read.
    let Some(&mtu) = cx.borrow().mtu_given.get(&(ns.clone(), br.to_string())) else {
        return Ok(());
    };
    let ends = {
        let mut s = cx.borrow_mut();
        s.flush().or_fail(c)?;
        let entries = &s.journal.entries;
        unsized_veth_back(entries.len(), |i| &entries[i].op, ns, link)
    };
    match ends {
        Some(ends) => set_mtu(cx, c, ends, mtu),
        None => Ok(()),
    }
}

/// `link.mtu(n)` (applied): if the link is a bridge with ports this run made, its
/// veths made without an MTU take it too, on both ends.
pub fn given(cx: &Ctx, c: &str, ns: &Ns, br: &str, mtu: u32) -> RhaiResult<()> {
    let todo = with_ops(cx, c, |ops| {
        let pairs = pairs(ops);
        ports(ops, ns, br)
            .iter()
            .filter_map(|port| unsized_veth(&pairs, ns, port))
            .collect::<Vec<_>>()
    })?;
    for ends in todo {
        set_mtu(cx, c, ends, mtu)?;
    }
    Ok(())
}

#[cfg(test)]
mod unit {
    use super::*;

    fn veth(a: &str, b: &str, b_ns: &str, mtu: Option<u32>) -> Op {
        Op::VethAdd {
            a: a.into(),
            a_ns: None,
            b: b.into(),
            b_ns: Some(b_ns.into()),
            mtu,
            queues: None,
        }
    }

    #[test]
    fn moved_ends_are_followed_and_sized_veths_are_left_alone() {
        let ops = [
            veth("p1", "e1", "c1", None),
            veth("p2", "e2", "c2", Some(9000)),
            Op::LinkMove {
                ns: Some("c1".into()),
                name: "e1".into(),
                to: Some("d1".into()),
            },
        ];
        let ops: Vec<&Op> = ops.iter().collect();
        let back = |ns: Option<&str>, name| {
            unsized_veth_back(ops.len(), |i| ops[i], &ns.map(String::from), name)
        };
        let pairs = pairs(&ops);
        // Read back from the newest op: the same answers as from all pairs.
        for (ns, name) in [
            (None, "p1"),
            (Some("d1"), "e1"),
            (None, "p2"),
            (Some("c1"), "e1"),
        ] {
            assert_eq!(
                back(ns, name),
                unsized_veth(&pairs, &ns.map(String::from), name),
                "{ns:?} {name}"
            );
        }
        let ends = unsized_veth(&pairs, &None, "p1").expect("p1 is unsized");
        assert_eq!(ends[1], (Some("d1".into()), "e1".to_string()));
        assert!(unsized_veth(&pairs, &None, "p2").is_none());
        assert!(unsized_veth(&pairs, &Some("c1".into()), "e1").is_none());
    }

    #[test]
    fn ports_leave_with_nomaster_and_the_last_mtu_counts() {
        let m = |name: &str, master: Option<&str>| Op::LinkMaster {
            ns: None,
            name: name.into(),
            master: master.map(String::from),
        };
        let mtu = |mtu| Op::LinkMtu {
            ns: None,
            name: "br0".into(),
            mtu,
        };
        let ops = [
            m("p1", Some("br0")),
            m("p2", Some("br0")),
            m("p3", Some("br1")),
            m("p2", None),
            mtu(1450),
            mtu(1400),
        ];
        let ops: Vec<&Op> = ops.iter().collect();
        assert_eq!(ports(&ops, &None, "br0"), vec!["p1".to_string()]);
    }
}
