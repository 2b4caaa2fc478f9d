//! `netscript graph [LAB]`: the live topology as text, dot, mermaid, svg or JSON.

use std::process::ExitCode;

use crate::backend::{kernel::KernelBackend, Backend};
use crate::lab::{journal::Journal, store};
use crate::ui::graph;
use crate::{errln, out};

pub fn exec(format: &str, lab: Option<&str>, json: bool) -> ExitCode {
    match render(format, lab, json) {
        Ok(out) => {
            out!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("netscript graph: {e}");
            ExitCode::from(super::FAILURE)
        }
    }
}

fn render(format: &str, lab: Option<&str>, json: bool) -> crate::error::Result<String> {
    let mut backend = KernelBackend::new()?;
    let (namespaces, entries) = match lab {
        None => (backend.netns_list()?, store::all_entries()),
        Some(l) => match Journal::load(l)? {
            Some(entries) => (
                store::namespaces(&entries)
                    .into_iter()
                    .filter(|n| backend.netns_exists(n))
                    .collect(),
                entries,
            ),
            None => {
                return Err(crate::error::Error::Other(format!(
                    "there is no lab named {l:?} that is up (see netscript ls)"
                )))
            }
        },
    };
    let rules = graph::nat_rules(&entries);
    let t = graph::gather(&mut backend, &namespaces, &rules)?;
    Ok(match (json, format) {
        (true, _) => serde_json::to_string_pretty(&t).expect("topology serializes") + "\n",
        (_, "dot") => graph::dot(&t),
        (_, "mermaid") => graph::mermaid(&t),
        (_, "svg") => graph::svg(&t)?,
        _ => graph::text(&t),
    })
}
