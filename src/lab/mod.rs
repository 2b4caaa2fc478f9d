//! The core: every change as a value (`op`), the session that applies it through a backend
//! and journals it, the journal that undoes it, and the labs those journals make up. Nothing
//! here knows Rhai; nothing here speaks netlink (that is `backend::kernel`).

pub mod claims;
pub mod egress;
pub mod firewall;
pub mod foreign;
pub mod journal;
pub mod link_kind;
pub mod lock;
pub mod names;
pub mod op;
pub mod output;
pub mod procs;
pub mod seal;
pub mod session;
pub mod store;
pub mod tuning;
