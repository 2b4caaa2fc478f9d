//! `netscript ls`: the labs that are up, with live counts, and the running sandboxes
//! (marked as such: `--sandbox-of NAME` or `attach NAME` reaches them).

use std::process::ExitCode;

use crate::lab::store;
use crate::ui::registry;
use crate::{errln, outln};

pub fn exec(json: bool) -> ExitCode {
    let labs = match store::list() {
        Ok(l) => l,
        Err(e) => {
            errln!("netscript ls: {e}");
            return ExitCode::from(super::FAILURE);
        }
    };
    let sandboxes = registry::live();
    if json {
        let mut v: Vec<serde_json::Value> = labs
            .iter()
            .map(|l| match &l.error {
                Some(e) => serde_json::json!({ "lab": l.name, "error": e }),
                None => {
                    serde_json::json!({ "lab": l.name, "namespaces": l.namespaces, "links": l.links,
                        "rules": l.rules, "processes": l.processes, "age_secs": l.age_secs })
                }
            })
            .collect();
        v.extend(sandboxes.iter().map(|s| {
            serde_json::json!({ "sandbox": s.name, "lab": s.lab, "pid": s.pid, "running": s.what,
                "rootless": s.rootless, "age_secs": s.age_secs() })
        }));
        outln!("{}", serde_json::Value::Array(v));
        return ExitCode::SUCCESS;
    }
    if labs.is_empty() && sandboxes.is_empty() {
        outln!("no labs are up");
    } else if !labs.is_empty() {
        outln!(
            "{:<20} {:>10} {:>6} {:>6} {:>10} {:>6}",
            "LAB",
            "NAMESPACES",
            "LINKS",
            "RULES",
            "PROCESSES",
            "AGE"
        );
        for l in &labs {
            if let Some(e) = &l.error {
                outln!("{:<20} unreadable: {e}", l.name);
                continue;
            }
            outln!(
                "{:<20} {:>10} {:>6} {:>6} {:>10} {:>6}",
                l.name,
                l.namespaces,
                l.links,
                l.rules,
                l.processes,
                store::age(l.age_secs)
            );
        }
    }
    if !sandboxes.is_empty() {
        if !labs.is_empty() {
            outln!();
        }
        outln!(
            "{:<20} {:>10} {:<20} {:>6}  RUNNING",
            "SANDBOX",
            "PID",
            "LAB",
            "AGE"
        );
        for s in &sandboxes {
            outln!(
                "{:<20} {:>10} {:<20} {:>6}  {}",
                s.name,
                s.pid,
                s.lab,
                store::age(s.age_secs()),
                s.what
            );
        }
    }
    ExitCode::SUCCESS
}
