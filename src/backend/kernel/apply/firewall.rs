//! Rules: netscript's nftables table, and accepts in foreign forward chains.

use crate::backend::kernel::{nft, KernelBackend};
use crate::error::Result;
use crate::lab::op::Op;

impl KernelBackend {
    pub(super) fn apply_firewall(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::NftAdd { ns, rules } => {
                let rules = rules.clone();
                self.within(ns, move || nft::add(&rules))?
            }
            Op::NftDel { ns, rules } => {
                let rules = rules.clone();
                self.within(ns, move || nft::delete(&rules))?
            }
            Op::ForeignAccept { ns, rule } => {
                let r = rule.clone();
                self.within(ns, move || nft::foreign_insert(&r))?
            }
            Op::ForeignAcceptDel { ns, rule } => {
                let r = rule.clone();
                self.within(ns, move || nft::foreign_delete(&r))?
            }
            other => unreachable!("{other:?} is not in this family"),
        }
    }
}
