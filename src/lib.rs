//! netscript: container-networking labs as Rhai scripts. The library holds everything;
//! the binary (`main.rs`) only reads the command line and calls it.
//!
//! - the language layer: `script` (the Rhai bindings), `stdlib` (shipped modules), `names`
//!   (what scripts may pass in);
//! - the core: `op` (every change as a value), `session` (apply, journal, trace), `journal`,
//!   `lab`, `claims`, `firewall`, `egress`, `foreign`;
//! - the backends: `backend::kernel` (netlink, nft, processes) and `backend::model` (plans);
//! - the user-facing features: `run`, `repl`, `import`, `topology` (graph), `sandbox`,
//!   `signals`, `out`.

pub mod backend;
pub mod capture;
pub mod claims;
pub mod cli_extras;
pub mod egress;
pub mod enter;
pub mod error;
pub mod export;
#[cfg(debug_assertions)]
pub mod fault;
pub mod firewall;
pub mod foreign;
pub mod import;
pub mod journal;
pub mod lab;
pub mod names;
pub mod op;
pub mod out;
pub mod repl;
pub mod run;
pub mod sandbox;
pub mod script;
pub mod session;
pub mod signals;
pub mod stdlib;
pub mod topology;
