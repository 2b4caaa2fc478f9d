//! `netscript ps [LAB]`: the processes a lab's runs started (every lab's without LAB),
//! whether each still runs, and how it ended when that is known.

use std::process::ExitCode;

use crate::lab::procs;
use crate::{errln, outln};

pub fn exec(lab: Option<&str>, json: bool) -> ExitCode {
    let list = match lab {
        Some(l) => {
            if let Err(c) = super::lab_name("ps", l) {
                return c;
            }
            match procs::of_lab(l) {
                Ok(list) => list,
                Err(e) => {
                    errln!("netscript ps: {e}");
                    return ExitCode::from(super::FAILURE);
                }
            }
        }
        None => procs::all(),
    };
    if json {
        let v: Vec<serde_json::Value> = list
            .iter()
            .map(|p| {
                serde_json::json!({
                    "lab": p.lab, "pid": p.pid, "ns": p.ns_name(), "command": p.command,
                    "running": p.running, "exit": p.exit, "detached": p.detached,
                })
            })
            .collect();
        outln!("{}", serde_json::Value::Array(v));
        return ExitCode::SUCCESS;
    }
    if list.is_empty() {
        match lab {
            Some(l) => outln!("lab {l:?} has started no process"),
            None => outln!("no lab that is up has started a process"),
        }
        return ExitCode::SUCCESS;
    }
    // Every lab's: which lab each belongs to comes first.
    let lab_col = |l: &str| match lab {
        Some(_) => String::new(),
        None => format!("{l:<16} "),
    };
    let ns_w = list
        .iter()
        .map(|p| p.ns_name().len())
        .max()
        .unwrap_or(2)
        .max(2);
    outln!(
        "{}{:>7}  {:<ns_w$}  {:<9}  COMMAND",
        lab_col("LAB"),
        "PID",
        "NS",
        "STATE"
    );
    for p in &list {
        outln!(
            "{}{:>7}  {:<ns_w$}  {:<9}  {}",
            lab_col(&p.lab),
            p.pid,
            p.ns_name(),
            p.state(),
            // One line per process, whatever the command holds.
            p.command.replace('\n', "\\n")
        );
    }
    ExitCode::SUCCESS
}
