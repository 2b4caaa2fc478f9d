//! Sysctls, written inside the namespace.

use crate::backend::kernel::{sysctl, KernelBackend};
use crate::error::{Error, Result};
use crate::lab::op::{ns_label, Op};

impl KernelBackend {
    pub(super) fn apply_sysctl(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::Sysctl { ns, key, value } => {
                let (k, v) = (key.clone(), value.clone());
                self.within(ns, move || sysctl::write(&k, &v))?
                    .map_err(|e| Error::os(format!("sysctl {key} in {}", ns_label(ns)), e))
            }
            other => unreachable!("{other:?} is not in this family"),
        }
    }
}
