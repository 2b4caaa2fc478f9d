//! The session over the model backend, without a script: what it journals and when (a
//! veth held back, folded with the moves that follow, applied before anything
//! observable), and where a held-back change's error points.

use super::*;
use crate::backend::model::ModelBackend;

fn session() -> Session {
    let mut s = Session::new(
        Box::new(ModelBackend::of_host(None)),
        Journal::in_memory(),
        false,
    );
    s.planning = true;
    s
}

fn ns(n: &str) -> Ns {
    Some(n.into())
}

fn at(line: u16) -> At {
    At {
        source: None,
        line,
        col: 1,
    }
}

fn netns(s: &mut Session, name: &str) {
    s.apply(Op::NetnsAdd {
        name: name.into(),
        lo: true,
    })
    .unwrap();
}

fn veth(a: &str, a_ns: Ns, b: &str, b_ns: Ns) -> Op {
    Op::VethAdd {
        a: a.into(),
        a_ns,
        b: b.into(),
        b_ns,
        mtu: None,
        queues: None,
    }
}

fn mv(name: &str, from: Ns, to: Ns) -> Op {
    Op::LinkMove {
        ns: from,
        name: name.into(),
        to,
    }
}

fn journaled(s: &Session) -> Vec<Op> {
    s.journal.entries.iter().map(|e| e.op.clone()).collect()
}

#[test]
fn a_veth_is_held_back_until_flushed_and_flushing_twice_applies_it_once() {
    let mut s = session();
    s.veth(veth("a", None, "b", None), "veth(a, b)".into(), at(1))
        .unwrap();
    assert!(journaled(&s).is_empty(), "held back, not yet journaled");
    // A held-back end counts as there.
    s.check_link(&None, "a").unwrap();
    s.flush().unwrap();
    s.flush().unwrap();
    assert_eq!(journaled(&s), [veth("a", None, "b", None)]);
}

#[test]
fn a_move_of_a_held_back_end_is_folded_into_the_creation() {
    let mut s = session();
    netns(&mut s, "red");
    netns(&mut s, "blue");
    s.veth(veth("a", None, "b", None), "veth".into(), at(3))
        .unwrap();
    s.move_link(mv("a", None, ns("red")), "a.move_to(red)".into(), at(4))
        .unwrap();
    s.move_link(mv("b", None, ns("blue")), "b.move_to(blue)".into(), at(5))
        .unwrap();
    s.finish().unwrap();
    let ops = journaled(&s);
    assert_eq!(ops[2..], [veth("a", ns("red"), "b", ns("blue"))]);
    assert_eq!(
        ops[2].render()[0],
        "ip link add name a netns red type veth peer name b netns blue"
    );
}

#[test]
fn a_move_of_anything_else_is_applied_as_a_move() {
    let mut s = session();
    netns(&mut s, "red");
    s.veth(veth("a", None, "b", None), "veth".into(), at(2))
        .unwrap();
    s.flush().unwrap();
    s.move_link(mv("a", None, ns("red")), "a.move_to(red)".into(), at(3))
        .unwrap();
    assert_eq!(
        journaled(&s)[1..],
        [veth("a", None, "b", None), mv("a", None, ns("red"))]
    );
}

#[test]
fn the_next_change_applies_the_held_back_veth_first() {
    let mut s = session();
    s.veth(veth("a", None, "b", None), "veth".into(), at(1))
        .unwrap();
    netns(&mut s, "red");
    assert_eq!(
        journaled(&s),
        [
            veth("a", None, "b", None),
            Op::NetnsAdd {
                name: "red".into(),
                lo: true
            }
        ]
    );
    // A question does too.
    s.veth(veth("c", None, "d", None), "veth".into(), at(2))
        .unwrap();
    assert!(s.query(|b| b.link_exists(&None, "c")).unwrap());
    assert_eq!(journaled(&s).len(), 3);
}

#[test]
fn a_name_held_back_is_taken_at_the_next_call() {
    let mut s = session();
    s.veth(veth("a", None, "b", None), "veth".into(), at(1))
        .unwrap();
    let e = s
        .veth(veth("c", None, "b", None), "veth".into(), at(2))
        .unwrap_err();
    assert_eq!(e.to_string(), r#"link "b" already exists"#);
    // The first one was applied before the second was checked; the second made nothing.
    assert_eq!(journaled(&s), [veth("a", None, "b", None)]);
}

#[test]
fn a_move_into_a_namespace_where_the_name_is_taken_fails_at_the_move() {
    let mut s = session();
    netns(&mut s, "red");
    s.veth(veth("a", ns("red"), "z", ns("red")), "veth".into(), at(2))
        .unwrap();
    s.veth(veth("a", None, "b", None), "veth".into(), at(3))
        .unwrap();
    let e = s
        .move_link(mv("a", None, ns("red")), "a.move_to(red)".into(), at(4))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"link "a" in namespace "red" already exists"#
    );
    // Not an error of the held-back veth: that one was applied as it was.
    assert!(!matches!(e, Error::Deferred { .. }));
    assert_eq!(journaled(&s).last(), Some(&veth("a", None, "b", None)));
}

#[test]
fn a_move_into_a_missing_namespace_is_not_folded() {
    let mut s = session();
    s.veth(veth("a", None, "b", None), "veth".into(), at(1))
        .unwrap();
    let e = s
        .move_link(mv("a", None, ns("ghost")), "a.move_to(ghost)".into(), at(2))
        .unwrap_err();
    assert_eq!(e.to_string(), r#"namespace "ghost" does not exist"#);
    assert_eq!(journaled(&s), [veth("a", None, "b", None)]);
}

/// A link the journal does not know of, made behind the session's back in a namespace
/// this run made (as a process could): the kernel, not the session's check, refuses the
/// veth that wants its name, when the veth is applied.
fn refused_later() -> Session {
    let mut s = session();
    netns(&mut s, "red");
    s.processes()
        .apply(&Op::LinkAdd {
            ns: ns("red"),
            name: "x".into(),
            spec: crate::lab::link_kind::LinkSpec::Tun {
                tap: false,
                owner: None,
                group: None,
            },
        })
        .unwrap();
    s
}

#[test]
fn a_held_back_veth_refused_later_is_the_error_of_its_own_call() {
    let mut s = refused_later();
    s.veth(
        veth("x", ns("red"), "y", None),
        r#"veth("x", "y", #{ a_ns: "red" })"#.into(),
        at(7),
    )
    .expect("the session's check passes: the journal knows no x in red");
    let e = s.flush().unwrap_err();
    let Error::Deferred { call, at, inner } = &e else {
        panic!("not deferred: {e:?}");
    };
    assert_eq!(call, r#"veth("x", "y", #{ a_ns: "red" })"#);
    assert_eq!((at.line, at.col), (7, 1));
    assert_eq!(
        inner.to_string(),
        r#"link "x" in namespace "red" already exists"#
    );
    // Nothing half-made stays in the journal, and nothing is held back any more.
    assert_eq!(journaled(&s).len(), 1);
    s.flush().unwrap();
}

#[test]
fn a_refused_veth_names_the_moves_folded_into_it() {
    let mut s = refused_later();
    s.veth(veth("y", None, "x", None), "veth(y, x)".into(), at(2))
        .unwrap();
    // Checked against the journal (red is this run's and no process ran), so folded.
    s.move_link(mv("x", None, ns("red")), "x.move_to(red)".into(), at(3))
        .unwrap();
    let e = s.finish().unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"veth(y, x) (with x.move_to(red), line 3, folded in): link "x" in namespace "red" already exists"#
    );
    assert!(matches!(
        e,
        Error::Deferred {
            at: At { line: 2, .. },
            ..
        }
    ));
    assert_eq!(journaled(&s).len(), 1, "only the namespace");
}

#[test]
fn teardown_drops_what_is_held_back_and_undoes_the_rest() {
    let mut s = session();
    netns(&mut s, "red");
    s.veth(veth("a", None, "b", None), "veth".into(), at(2))
        .unwrap();
    assert!(s.teardown().is_empty());
    assert!(journaled(&s).is_empty());
    assert!(!s.query(|b| b.link_exists(&None, "a")).unwrap());
    assert!(!s.query(|b| Ok(b.netns_exists("red"))).unwrap());
}

#[test]
fn a_refused_change_leaves_no_journal_line() {
    let mut s = session();
    let e = s
        .apply(Op::LinkSet {
            ns: None,
            name: "nope".into(),
            up: true,
        })
        .unwrap_err();
    assert_eq!(e.to_string(), r#"link "nope" does not exist"#);
    assert!(journaled(&s).is_empty());
}
