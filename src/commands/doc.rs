//! `netscript doc [NAME]`: the API reference, as text, JSON, Markdown (docs/API.md) or a
//! Rhai definitions file. All of them come from one source, `lang::docs`.

use std::process::ExitCode;

use crate::lang::docs;
use crate::{errln, out, outln};

pub enum Format {
    Text,
    Json,
    Markdown,
    Definitions,
}

pub fn exec(name: Option<&str>, format: Format) -> ExitCode {
    match format {
        Format::Definitions => {
            out!("{}", docs::definitions());
            return ExitCode::SUCCESS;
        }
        Format::Markdown => {
            out!("{}", docs::markdown());
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let entries: Vec<docs::Entry> = match name {
        None => docs::entries(),
        Some(n) => match docs::find(n) {
            Some(e) => vec![e],
            None => {
                let all = docs::entries();
                let hint = crate::lang::teach::nearest(n, all.iter().map(|e| e.name.as_str()))
                    .map(|g| format!("; did you mean {g}?"))
                    .unwrap_or_default();
                errln!("netscript doc: no function named {n:?}{hint}");
                return ExitCode::from(super::FAILURE);
            }
        },
    };
    if let Format::Json = format {
        let v: Vec<serde_json::Value> = entries.iter().map(|e| e.json()).collect();
        outln!("{}", serde_json::Value::Array(v));
        return ExitCode::SUCCESS;
    }
    for e in entries {
        outln!("{}", e.text());
    }
    ExitCode::SUCCESS
}
