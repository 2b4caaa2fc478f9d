//! `netscript ls`: the labs that are up, with live counts.

use std::process::ExitCode;

use crate::lab::store;
use crate::{errln, outln};

pub fn exec(json: bool) -> ExitCode {
    let labs = match store::list() {
        Ok(l) => l,
        Err(e) => {
            errln!("netscript ls: {e}");
            return ExitCode::from(super::FAILURE);
        }
    };
    if json {
        let v: Vec<serde_json::Value> = labs
            .iter()
            .map(|l| match &l.error {
                Some(e) => serde_json::json!({ "lab": l.name, "error": e }),
                None => {
                    serde_json::json!({ "lab": l.name, "namespaces": l.namespaces, "links": l.links,
                        "rules": l.rules, "processes": l.processes, "age_secs": l.age_secs })
                }
            })
            .collect();
        outln!("{}", serde_json::Value::Array(v));
    } else if labs.is_empty() {
        outln!("no labs are up");
    } else {
        outln!(
            "{:<20} {:>10} {:>6} {:>6} {:>10} {:>6}",
            "LAB",
            "NAMESPACES",
            "LINKS",
            "RULES",
            "PROCESSES",
            "AGE"
        );
        for l in labs {
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
    ExitCode::SUCCESS
}
