//! nftables through the `nft` binary's JSON interface (the nftables crate). The `nft`
//! child inherits the calling thread's namespace: callers run these inside the target.

use std::io;

use nftables::helper::{self, NftablesError};
use nftables::schema::Nftables;

use crate::error::{Error, Result};
use crate::firewall::{self, Rule, TABLE};

fn nft_error(e: NftablesError) -> Error {
    match e {
        NftablesError::NftExecution { inner, .. } if inner.kind() == io::ErrorKind::NotFound => Error::Other(
            "the nft command is missing: install the nftables package (apt-get install nftables)".into(),
        ),
        NftablesError::NftFailed { stderr, .. } => {
            let why = stderr
                .lines()
                .find_map(|l| l.split_once("Error: ").map(|(_, w)| w))
                .unwrap_or(stderr.trim());
            Error::Other(format!("nft refused the change, nothing was applied: {why}"))
        }
        other => Error::Other(format!("nft: {other}")),
    }
}

/// Add the rules in one transaction: all of them or none.
pub fn add(rules: &[Rule]) -> Result<()> {
    helper::apply_ruleset(&firewall::add_batch(rules)).map_err(nft_error)
}

/// The table `inet netscript`, or `None` when there is none.
fn listing() -> Result<Option<Nftables<'static>>> {
    match helper::get_current_ruleset_with_args(helper::DEFAULT_NFT, &["list", "table", "inet", TABLE]) {
        Ok(n) => Ok(Some(n)),
        Err(NftablesError::NftFailed { stderr, .. }) if stderr.contains("No such file or directory") => Ok(None),
        Err(e) => Err(nft_error(e)),
    }
}

/// Delete the rules (found by their tags); the table goes too when it would be empty.
pub fn delete(rules: &[Rule]) -> Result<()> {
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let Some(list) = listing()? else {
        return Err(Error::Missing(format!("nftables table inet {TABLE}")));
    };
    match firewall::delete_batch(&list, &ids) {
        Some(batch) => helper::apply_ruleset(&batch).map_err(nft_error),
        None => Err(Error::Missing("the rule".into())),
    }
}

/// `nft list table inet netscript`, or "" when there is no table.
pub fn text() -> Result<String> {
    let out = std::process::Command::new("nft")
        .args(["list", "table", "inet", TABLE])
        .output()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => nft_error(NftablesError::NftExecution { program: "nft".into(), inner: e }),
            _ => Error::os("nft", e),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else if String::from_utf8_lossy(&out.stderr).contains("No such file or directory") {
        Ok(String::new())
    } else {
        Err(Error::Other(format!("nft: {}", String::from_utf8_lossy(&out.stderr).trim())))
    }
}
