//! Applying an `Op` to the kernel: a short dispatch by op family (`Op::family`), one file
//! per family. What all families share (the caches of link indexes and veth peers, the
//! wait for links to go) is kept here.

mod address;
mod firewall;
mod impair;
mod links;
mod netns;
mod process;
mod sysctl;

use crate::backend::kernel::KernelBackend;
use crate::backend::Backend;
use crate::error::Result;
use crate::lab::op::{Family, Ns, Op};

impl KernelBackend {
    pub(super) fn apply_op(&mut self, op: &Op) -> Result<()> {
        // A new link or namespace may take a name that a deleted namespace's veth ends
        // still hold for a moment.
        if op.creates_link().is_some() || matches!(op, Op::NetnsAdd { .. }) {
            self.settle();
        }
        self.forget_cached(op);
        match op.family() {
            Family::Netns => self.apply_netns(op),
            Family::Link => self.apply_link(op),
            Family::Address => self.apply_address(op),
            Family::Impair => self.apply_impair(op),
            Family::Sysctl => self.apply_sysctl(op),
            Family::Firewall => self.apply_firewall(op),
            Family::Process => self.apply_process(op),
        }
    }

    /// What this backend remembers about links that `op` makes untrue.
    fn forget_cached(&mut self, op: &Op) {
        match op {
            Op::LinkDel { ns, name } | Op::LinkMove { ns, name, .. } => {
                let key = (ns.clone(), name.clone());
                self.indexes.remove(&key);
                self.veth_peers.remove(&key);
                self.up_here.remove(&key);
            }
            Op::NetnsDel { name } => {
                let gone = |ns: &Ns| ns.as_deref() == Some(name.as_str());
                self.indexes.retain(|(ns, _), _| !gone(ns));
                self.veth_peers
                    .retain(|(ns, _), (pns, _)| !gone(ns) && !gone(pns));
                self.up_here.retain(|(ns, _)| !gone(ns));
            }
            _ => {}
        }
    }
}
