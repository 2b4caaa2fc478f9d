//! `netscript doc [NAME]`: the API reference, as text, JSON or a definitions file.

use std::process::ExitCode;

use crate::lang;
use crate::{errln, out, outln};

pub fn exec(name: Option<&str>, definitions: bool, json: bool) -> ExitCode {
    if definitions {
        out!("{}", lang::definitions());
        return ExitCode::SUCCESS;
    }
    let docs: Vec<&lang::Doc> = match name {
        None => lang::DOCS.iter().collect(),
        Some(n) => match lang::DOCS.iter().find(|d| d.name == n) {
            Some(d) => vec![d],
            None => {
                errln!("netscript doc: no function named {n:?}");
                return ExitCode::from(super::FAILURE);
            }
        },
    };
    if json {
        let v: Vec<serde_json::Value> = docs.iter().map(|d| d.json()).collect();
        outln!("{}", serde_json::Value::Array(v));
        return ExitCode::SUCCESS;
    }
    for d in docs {
        outln!("{}", d.text());
    }
    ExitCode::SUCCESS
}
