//! Impairments: root qdiscs (tc) and loss chains (nft, netdev egress).

use crate::backend::kernel::{netlink, nft, nl_err, tc, KernelBackend};
use crate::backend::messages;
use crate::error::{Error, Result};
use crate::lab::op::{link_label, Op};

impl KernelBackend {
    pub(super) fn apply_impair(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::QdiscSet { ns, dev, qdisc } => {
                let idx = self.index(ns, dev)?;
                let h = self.handle(ns)?;
                self.rt.block_on(tc::replace(&h, idx, qdisc)).map_err(|e| {
                    match (netlink::errno(&e), qdisc) {
                        // An unknown qdisc kind: the kernel was built without it.
                        (Some(libc::ENOENT), crate::lab::op::Qdisc::Netem { .. }) => {
                            messages::no_netem()
                        }
                        (Some(libc::ENOENT), crate::lab::op::Qdisc::Tbf { .. }) => {
                            Error::Unsupported(
                                "this kernel has no tbf qdisc (CONFIG_NET_SCH_TBF)".into(),
                            )
                        }
                        _ => nl_err(format!("the qdisc of {}", link_label(ns, dev)), e),
                    }
                })
            }
            Op::QdiscDel { ns, dev } => {
                let idx = self.index(ns, dev)?;
                let h = self.handle(ns)?;
                self.rt
                    .block_on(tc::delete(&h, idx))
                    .map_err(|e| match netlink::errno(&e) {
                        Some(libc::ENOENT) | Some(libc::EINVAL) => messages::no_impairment(ns, dev),
                        _ => nl_err(format!("the qdisc of {}", link_label(ns, dev)), e),
                    })
            }
            Op::LossAdd { ns, dev, pct } => {
                // A missing link fails here, with its name, rather than in nft.
                self.index(ns, dev)?;
                let (dev, pct) = (dev.clone(), *pct);
                self.within(ns, move || nft::loss_add(&dev, pct))?
            }
            Op::LossDel { ns, dev } => {
                let d = dev.clone();
                self.within(ns, move || nft::loss_del(&d))?
                    .map_err(|e| match e {
                        Error::Missing(_) => messages::no_impairment(ns, dev),
                        e => e,
                    })
            }
            other => unreachable!("{other:?} is not in this family"),
        }
    }
}
