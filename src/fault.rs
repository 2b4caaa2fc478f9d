//! Fault injection for tests (debug builds only): `NETSCRIPT_FAIL_AT=K` makes the K-th
//! op this process applies fail before it touches the kernel, so tests can prove that a
//! failure at any step leaves nothing behind.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::lab::op::Op;

static APPLIED: AtomicU64 = AtomicU64::new(0);

pub fn maybe_fail(op: &Op) -> Result<()> {
    let n = APPLIED.fetch_add(1, Ordering::SeqCst) + 1;
    match std::env::var("NETSCRIPT_FAIL_AT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(k) if k == n => Err(Error::Other(format!(
            "injected fault at op {n} ({})",
            op.render().join("; ")
        ))),
        _ => Ok(()),
    }
}
