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

/// Held while a change to netscript's table is worked out and applied, so that two labs
/// changing the same namespace's table at once do not undo each other (one deleting the
/// table while the other adds to it).
struct TableLock(#[allow(dead_code)] std::fs::File);

fn lock() -> Result<TableLock> {
    let dir = crate::journal::STATE_DIR;
    std::fs::create_dir_all(dir).map_err(|e| Error::os(dir, e))?;
    let path = format!("{dir}/nft.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::os(path.clone(), e))?;
    // SAFETY: flock on an fd we own; released when the file is closed.
    if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), libc::LOCK_EX) } != 0 {
        return Err(Error::os(path, io::Error::last_os_error()));
    }
    Ok(TableLock(f))
}

/// `nft -j -f -` with a batch; nft's complaint, if any, becomes the error (the crate's
/// own helper lets nft write it to our stderr instead).
fn apply(batch: &Nftables) -> Result<()> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let payload = serde_json::to_vec(batch).expect("nftables batches serialize");
    let missing = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => nft_error(NftablesError::NftExecution {
            program: "nft".into(),
            inner: e,
        }),
        _ => Error::os("nft", e),
    };
    let mut child = Command::new("nft")
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(missing)?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(&payload)
        .map_err(|e| Error::os("nft", e))?;
    let out = child.wait_with_output().map_err(|e| Error::os("nft", e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(nft_error(NftablesError::NftFailed {
        program: "nft".into(),
        hint: "applying ruleset".into(),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }))
}

/// Add the rules in one transaction: all of them or none.
pub fn add(rules: &[Rule]) -> Result<()> {
    let _lock = lock()?;
    apply(&firewall::add_batch(rules))
}

/// The table `inet netscript`, or `None` when there is none.
fn listing() -> Result<Option<Nftables<'static>>> {
    match helper::get_current_ruleset_with_args(
        helper::DEFAULT_NFT,
        &["list", "table", "inet", TABLE],
    ) {
        Ok(n) => Ok(Some(n)),
        Err(NftablesError::NftFailed { stderr, .. })
            if stderr.contains("No such file or directory") =>
        {
            Ok(None)
        }
        Err(e) => Err(nft_error(e)),
    }
}

/// Delete the rules (found by their tags); the table goes too when it would be empty.
pub fn delete(rules: &[Rule]) -> Result<()> {
    let _lock = lock()?;
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let Some(list) = listing()? else {
        return Err(Error::Missing(format!("nftables table inet {TABLE}")));
    };
    match firewall::delete_batch(&list, &ids) {
        Some(batch) => apply(&batch),
        None => Err(Error::Missing("the rule".into())),
    }
}

/// `nft list table inet netscript`, or "" when there is no table.
pub fn text() -> Result<String> {
    let out = std::process::Command::new("nft")
        .args(["list", "table", "inet", TABLE])
        .output()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => nft_error(NftablesError::NftExecution {
                program: "nft".into(),
                inner: e,
            }),
            _ => Error::os("nft", e),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else if String::from_utf8_lossy(&out.stderr).contains("No such file or directory") {
        Ok(String::new())
    } else {
        Err(Error::Other(format!(
            "nft: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
