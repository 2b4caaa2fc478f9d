//! Letting the lab's traffic through forward chains that are not netscript's and drop
//! by default (Docker's): see crate::lab::foreign. Called when a script builds a bridge or
//! turns forwarding on.

use super::{Ctx, OrFail, RhaiResult};
use crate::lab::op::{Ns, Op};

/// Which links to let through.
pub enum Devs<'a> {
    These(&'a [String]),
    /// The links this lab made in the namespace that are not a bridge's ports (a
    /// bridge's own rules cover what its ports carry: br_netfilter hands the bridge to
    /// the forward hook). Worked out only when something drops.
    LabLinks,
}

/// Add accept rules for `devs` (links of this lab in `ns`) to every foreign forward chain
/// of `ns` that drops by default, and say so in one line; warn once when iptables-legacy
/// drops forwarded traffic, which nftables cannot change.
pub fn open(cx: &Ctx, c: &str, ns: &Ns, devs: Devs) -> RhaiResult<()> {
    let mut s = cx.borrow_mut();
    // A namespace this lab created holds no firewall of anyone else's.
    if matches!(devs, Devs::These([])) || s.journal.owned.owns_ns(ns) {
        return Ok(());
    }
    let check = s.query(|b| Ok(b.foreign_forward(ns))).or_fail(c)?;
    if check.droppers.is_empty() && !check.legacy_drops {
        return Ok(());
    }
    let devs: Vec<String> = match devs {
        Devs::These(d) => d.to_vec(),
        Devs::LabLinks => lab_links(&mut s, ns),
    };
    let lab = s.lab.clone().unwrap_or_else(|| "netscript".into());
    if check.legacy_drops && s.notices.insert(format!("{ns:?} iptables-legacy")) {
        let line = crate::lab::foreign::legacy_notice(&devs);
        print_line(&mut s, line);
    }
    for d in &check.droppers {
        let mut added = vec![];
        for dev in &devs {
            for inbound in [true, false] {
                let rule = d.accept(inbound, dev, &lab);
                let op = Op::ForeignAccept {
                    ns: ns.clone(),
                    rule,
                };
                // Once per run: a bridge's rules are there when forwarding is turned on.
                if s.journal.entries.iter().any(|e| e.op == op) {
                    continue;
                }
                s.apply(op).or_fail(c)?;
                if !added.contains(dev) {
                    added.push(dev.clone());
                }
            }
        }
        if !added.is_empty() {
            let line = d.notice(&added);
            let key = format!("{ns:?} {} {}", d.family, d.table);
            if s.notices.insert(key) {
                print_line(&mut s, line);
            }
        }
    }
    Ok(())
}

/// On stderr; in a plan, as a comment in it.
fn print_line(s: &mut crate::lab::session::Session, line: String) {
    match s.planning {
        true => s.note(line),
        false => crate::errln!("{}", crate::style::warning(&line)),
    }
}

/// See `Devs::LabLinks`.
fn lab_links(s: &mut crate::lab::session::Session, ns: &Ns) -> Vec<String> {
    let names = s.journal.owned.links_in(ns);
    names
        .into_iter()
        .filter(|n| s.query(|b| b.link(ns, n)).is_ok_and(|l| l.master.is_none()))
        .collect()
}
