//! The user-facing features built on the core: the file runner and `plan`, the REPL, the
//! sandbox, `import`, the graph, entering a node (`exec`/`shell`), packet capture, `export`.

pub mod capture;
pub mod enter;
pub mod export;
pub mod graph;
pub mod import;
pub mod join;
pub mod registry;
pub mod repl;
pub mod run;
pub mod sandbox;
