//! Labs: what a successful run leaves up, one journal each under /run/netscript.
//! A lock per lab keeps two runs of the same lab apart; `down` undoes a lab from its
//! journal; `ls` lists the labs that are up.

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::lab::journal::{undo_plan, Entry, Journal, RUN_DIR};
use crate::lab::op::Op;
use crate::lab::session::undo_ops;

fn path(lab: &str, ext: &str) -> PathBuf {
    PathBuf::from(RUN_DIR).join(format!("{lab}.{ext}"))
}

/// Held while a run or a `down` works on a lab; released when dropped (or the process dies).
pub struct Lock(#[allow(dead_code)] crate::lab::lock::FileLock);

pub fn lock(lab: &str) -> Result<Lock> {
    lock_or(lab, "wait for it, or pick another name with --lab")
}

/// [`lock`], saying `then` (what to do instead) when another run holds the lab.
fn lock_or(lab: &str, then: &str) -> Result<Lock> {
    fs::create_dir_all(RUN_DIR).map_err(|e| Error::os(RUN_DIR, e))?;
    match crate::lab::lock::exclusive(&path(lab, "lock"), false)? {
        Some(l) => Ok(Lock(l)),
        None => Err(Error::Other(format!(
            "lab {lab:?} is in use by another netscript run; {then}"
        ))),
    }
}

/// Mark a lab as torn down, so a later `down` can say it already is.
pub fn mark_down(lab: &str) {
    let _ = fs::write(path(lab, "down"), b"");
    // What its processes printed goes with it.
    crate::lab::output::remove_lab(lab);
}

pub fn clear_down_mark(lab: &str) {
    let _ = fs::remove_file(path(lab, "down"));
}

pub enum DownResult {
    /// `skipped`: journal lines `--force` passed over; `left_alone`: objects of the lab
    /// that something else replaced since (not ours any more: reported, not undone).
    Done {
        undone: usize,
        skipped: Vec<String>,
        left_alone: Vec<String>,
    },
    AlreadyDown,
}

/// Undo a lab from its journal, newest first; objects already gone are fine.
pub fn down(
    lab: &str,
    backend: &mut dyn Backend,
    trace: bool,
    force: bool,
) -> Result<DownResult, Vec<Error>> {
    // Another name is no answer here: the holder may be a run, a REPL or another `down`.
    let _lock = lock_or(lab, "wait for it to end, then try again").map_err(|e| vec![e])?;
    let (entries, skipped) = match Journal::load_with(lab, force).map_err(|e| vec![e])? {
        Some(e) => e,
        None if path(lab, "down").exists() => return Ok(DownResult::AlreadyDown),
        None => {
            return Err(vec![Error::Other(format!(
                "there is no lab named {lab:?} (see netscript ls)"
            ))])
        }
    };
    // First every process of the lab, with all of theirs: one left inside a namespace
    // would keep it (and its veths) alive after the namespace is deleted.
    let started = crate::lab::journal::started(&entries);
    let made = crate::lab::journal::made_namespaces(&entries);
    backend.stop_lab(&started, &made).map_err(|e| vec![e])?;
    let (undo, wait) = crate::lab::journal::undo(&entries);
    let (left_alone, errors): (Vec<Error>, Vec<Error>) =
        undo_ops(backend, &undo, &wait, trace, Some(lab))
            .into_iter()
            .partition(|e| matches!(e, Error::Replaced(_)));
    if !errors.is_empty() {
        return Err(errors);
    }
    let _ = fs::remove_file(Journal::path_for(lab));
    mark_down(lab);
    Ok(DownResult::Done {
        undone: undo.len() - left_alone.len(),
        skipped,
        left_alone: left_alone.iter().map(|e| e.to_string()).collect(),
    })
}

/// The entries of every lab that is up (a journal that cannot be read is left out).
pub fn all_entries() -> Vec<Entry> {
    let Ok(rd) = fs::read_dir(RUN_DIR) else {
        return vec![];
    };
    rd.flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let lab = file.strip_suffix(".journal")?.to_string();
            Journal::load(&lab).ok().flatten()
        })
        .flatten()
        .collect()
}

/// The namespaces a lab created or named, in order.
pub fn namespaces(entries: &[Entry]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for e in entries {
        match &e.op {
            Op::NetnsAdd { name, .. } | Op::NetnsAttach { name, .. } if !out.contains(name) => {
                out.push(name.clone())
            }
            Op::NetnsDel { name } => out.retain(|n| n != name),
            _ => {}
        }
    }
    out
}

/// A lab whose journal holds nothing to undo (a run that only deleted things, like
/// cleanup.rhai) is no lab: drop its journal.
pub fn drop_if_empty(lab: &str) {
    if let Ok(Some(entries)) = Journal::load(lab) {
        if undo_plan(&entries).is_empty() {
            let _ = fs::remove_file(Journal::path_for(lab));
            mark_down(lab);
        }
    }
}

#[derive(Default)]
pub struct LabInfo {
    pub name: String,
    /// Why the lab's journal cannot be read.
    pub error: Option<String>,
    pub namespaces: usize,
    pub links: usize,
    pub rules: usize,
    pub processes: usize,
    pub age_secs: u64,
}

/// Links, rules and detached processes of a lab that are still there: a script or a
/// person may have removed some since (`None`: the kernel cannot be asked, count what the
/// journal says).
fn count(entries: &[Entry], kernel: Option<&mut dyn Backend>) -> (usize, usize, usize) {
    let made = crate::lab::journal::made_links(entries);
    let links = match kernel {
        Some(k) => made
            .iter()
            .filter(|(ns, name)| {
                ns.as_ref().is_none_or(|n| k.netns_exists(n))
                    && k.link_exists(ns, name).unwrap_or(false)
            })
            .count(),
        None => made.len(),
    };
    let mut c = (links, 0usize, 0usize);
    for e in entries {
        match &e.op {
            Op::NftAdd { rules, .. } => c.1 += rules.len(),
            // Processes that were not detached were stopped when their run ended.
            Op::ProcStarted {
                detached: true,
                pid,
                ..
            } if std::path::Path::new(&format!("/proc/{pid}")).exists() => c.2 += 1,
            _ => {}
        }
    }
    c
}

pub fn list() -> Result<Vec<LabInfo>> {
    let mut out = vec![];
    let rd = match fs::read_dir(RUN_DIR) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::os(RUN_DIR, e)),
    };
    let mut kernel = crate::backend::kernel::KernelBackend::new().ok();
    for e in rd.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(name) = file.strip_suffix(".journal") else {
            continue;
        };
        let entries = match Journal::load(name) {
            Ok(e) => e.unwrap_or_default(),
            // One unreadable lab is reported as such; the others are still listed.
            Err(err) => {
                out.push(LabInfo {
                    name: name.to_string(),
                    error: Some(err.to_string()),
                    ..LabInfo::default()
                });
                continue;
            }
        };
        let (links, rules, processes) =
            count(&entries, kernel.as_mut().map(|k| k as &mut dyn Backend));
        // Namespaces still there (a cleanup script may have removed some by hand).
        let namespaces = namespaces(&entries)
            .iter()
            .filter(|n| crate::backend::kernel::netns::path(n).exists())
            .count();
        let age_secs = e
            .metadata()
            .and_then(|m| m.created().or_else(|_| m.modified()))
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);
        out.push(LabInfo {
            name: name.to_string(),
            error: None,
            namespaces,
            links,
            rules,
            processes,
            age_secs,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// "1 change undone", "2 changes undone".
pub fn changes(n: usize) -> String {
    format!("{} undone", crate::out::plural(n as u64, "change"))
}

pub fn age(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Whether some process holds `lab`'s lock, read from /proc/locks: taking the lock to
/// find out would, for that moment, refuse the lab's own run or `down`.
fn locked(lab: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::metadata(path(lab, "lock")) else {
        return false;
    };
    let (dev, ino) = (meta.dev(), meta.ino());
    // `MAJ:MIN:INODE`, the device numbers in hex, as /proc/locks writes them.
    let id = format!("{:02x}:{:02x}:{ino}", libc::major(dev), libc::minor(dev));
    fs::read_to_string("/proc/locks").is_ok_and(|locks| {
        locks
            .lines()
            .any(|l| l.contains("FLOCK") && l.split_whitespace().any(|w| w == id))
    })
}

/// For an error that says a name is taken (`link "br0" already exists`): the lab that is
/// up and made an object of that name, and what to do about it; `None` when no lab did.
pub fn clash_hint(message: &str, running: &str) -> Option<String> {
    let at = message.find("already exists")?;
    // The quoted names before "already exists": the object, and maybe its namespace.
    let quoted: Vec<&str> = message[..at].split('"').skip(1).step_by(2).collect();
    for info in list().ok()? {
        let Ok(Some(entries)) = Journal::load(&info.name) else {
            continue;
        };
        let links = crate::lab::journal::made_links(&entries);
        let spaces = namespaces(&entries);
        let holds = quoted
            .iter()
            .any(|q| links.iter().any(|(_, l)| l == q) || spaces.iter().any(|n| n == q));
        if holds {
            let lab = &info.name;
            let name = quoted.first().copied().unwrap_or_default();
            // A lab whose run is still going (being built, a REPL, a `down`): --replace
            // and down would only be told it is in use.
            if lab != running && locked(lab) {
                return Some(format!(
                    "lab {lab:?} holds {name:?} and is in use by a netscript run that is still running (a script, a REPL or a down): wait for it to end, or stop it"
                ));
            }
            let again = match lab == running {
                true => format!("this script's lab {lab:?} is already up"),
                false => format!("lab {lab:?}, which is up, holds {name:?}"),
            };
            return Some(format!(
                "{again}: run with --replace to tear it down first, or run `netscript down {lab}`"
            ));
        }
    }
    None
}
