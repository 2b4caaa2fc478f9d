//! netscript: container-networking labs as Rhai scripts. The library holds everything;
//! the binary (`main.rs`) only reads the command line and calls `commands`.
//!
//! The folders are the layers (see ARCHITECTURE.md):
//! - `lang`: the language layer, the Rhai bindings and the shipped modules (`lab::`);
//! - `lab`: the core, every change as an `Op`, the session, the journal, the labs;
//! - `backend`: where changes land, `kernel` (netlink, nft, processes) or `model` (plans);
//! - `ui`: the features a user meets, REPL, plan, import, graph, capture, sandbox;
//! - `commands`: one module per subcommand.
//!
//! Cross-cutting: `error`, `exit` (the exit statuses), `out` (stdout/stderr that notice a
//! closed pipe), `signals`, `style` (colour on stderr), `progress` (the live line of a long
//! run on a terminal).

pub mod backend;
pub mod commands;
pub mod error;
pub mod exit;
#[cfg(debug_assertions)]
pub mod fault;
pub mod hosts;
pub mod lab;
pub mod lang;
pub mod out;
pub mod progress;
pub mod signals;
pub mod style;
pub mod ui;
