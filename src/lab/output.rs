//! What started processes print: one file per stream per process in the lab's folder,
//! `/run/netscript/LAB.output/PID.stdout` and `PID.stderr`, and `PID.exit` once the run
//! that started it has seen it end.
//!
//! The process writes to its files itself (they are its stdout and stderr, opened for
//! appending): a detached process outlives the run, so nothing of netscript may stand
//! between it and its output (a pipe would break, and kill it with SIGPIPE, when its
//! reader goes).
//!
//! Bounded: only the last `KEEP` bytes of a stream are kept. Cutting the head off a file
//! that another process appends to cannot be done by truncating or rewriting it without
//! losing what it writes meanwhile, so the head is freed in place instead (a hole punched
//! into the file, `fallocate(PUNCH_HOLE)`): what the file holds never grows much beyond
//! `2 * KEEP`, nothing written is lost, and the readers here read only the last `KEEP`
//! bytes. (The file's length keeps counting everything written; its head reads as zeros.)
//! A small keeper process (`netscript __keep-output`, in the started process's family, so
//! it is stopped with it) does this while the process runs; the readers do it too.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::lab::journal::RUN_DIR;

/// The first argument of netscript started as a keeper (see `keep`).
pub const KEEPER: &str = "__keep-output";

/// How much of each stream is kept: the last 1 MiB.
pub const KEEP: u64 = 1 << 20;
/// What a file may hold before its head is freed.
const LIMIT: u64 = 2 * KEEP;
/// Kept beyond `KEEP` when the head is freed, so a reader that looked at the length a
/// moment before still finds what it reads.
const MARGIN: u64 = 256 << 10;

/// The lab's folder of process output.
pub fn dir(lab: &str) -> PathBuf {
    PathBuf::from(RUN_DIR).join(format!("{lab}.output"))
}

pub fn stream(lab: &str, pid: u32, which: &str) -> PathBuf {
    dir(lab).join(format!("{pid}.{which}"))
}

/// The files a process about to be started writes to (stdout, stderr), named by its tag
/// until it has a pid (see `name`).
pub fn create(dir: &Path, tag: &str) -> std::io::Result<(File, File)> {
    fs::create_dir_all(dir)?;
    let open = |which: &str| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!(".{tag}.{which}")))
    };
    Ok((open("stdout")?, open("stderr")?))
}

/// Give the files `create` made the started process's pid; returns their paths.
pub fn name(dir: &Path, tag: &str, pid: u32) -> Vec<PathBuf> {
    ["stdout", "stderr"]
        .iter()
        .map(|which| {
            let to = dir.join(format!("{pid}.{which}"));
            let _ = fs::rename(dir.join(format!(".{tag}.{which}")), &to);
            to
        })
        .collect()
}

/// The files `create` made for a process that could not be started.
pub fn discard(dir: &Path, tag: &str) {
    for which in ["stdout", "stderr"] {
        let _ = fs::remove_file(dir.join(format!(".{tag}.{which}")));
    }
    let _ = fs::remove_dir(dir);
}

/// Free the head of `path` when it holds more than `LIMIT` bytes (see the module docs).
pub fn trim(path: &Path) {
    let Ok(f) = OpenOptions::new().write(true).open(path) else {
        return;
    };
    let Ok(m) = f.metadata() else { return };
    if m.blocks() * 512 <= LIMIT || m.len() <= KEEP + MARGIN {
        return;
    }
    // Whole pages only: a partial page would be zeroed, not freed.
    let end = (m.len() - KEEP - MARGIN) & !4095;
    // SAFETY: fallocate on an fd we own, with plain integer arguments.
    unsafe {
        libc::fallocate(
            f.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            0,
            end as libc::off_t,
        );
    }
}

/// The last `KEEP` bytes of a stream (empty when there is no such file).
pub fn tail(path: &Path) -> Vec<u8> {
    trim(path);
    let Ok(mut f) = File::open(path) else {
        return vec![];
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(KEEP);
    let mut out = vec![];
    if f.seek(SeekFrom::Start(from)).is_ok() {
        let _ = f.take(KEEP).read_to_end(&mut out);
    }
    // What a concurrent trim freed under us reads as zeros: not output.
    let zeros = out.iter().take_while(|b| **b == 0).count();
    out.drain(..zeros);
    out
}

/// What process `pid` of `lab` printed so far: (stdout, stderr), lossy UTF-8.
pub fn read(lab: &str, pid: u32) -> (String, String) {
    let s = |which| String::from_utf8_lossy(&tail(&stream(lab, pid, which))).into_owned();
    (s("stdout"), s("stderr"))
}

/// The last non-empty line of what `pid` printed, stderr first.
pub fn last_line(lab: &str, pid: u32) -> Option<String> {
    let (out, err) = read(lab, pid);
    [err, out].into_iter().find_map(|s| {
        s.lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
    })
}

/// Note how `pid` ended, for `ps` and `logs` after the run that saw it is over.
pub fn record_exit(lab: &str, pid: u32, code: i64) {
    if dir(lab).is_dir() {
        let _ = fs::write(stream(lab, pid, "exit"), code.to_string());
    }
}

pub fn exit_code(lab: &str, pid: u32) -> Option<i64> {
    fs::read_to_string(stream(lab, pid, "exit"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The files of these processes go (their run was rolled back); the folder too if empty.
pub fn remove(lab: &str, pids: &[u32]) {
    for pid in pids {
        for which in ["stdout", "stderr", "exit"] {
            let _ = fs::remove_file(stream(lab, *pid, which));
        }
    }
    let _ = fs::remove_dir(dir(lab));
}

/// The lab is down: all its output goes.
pub fn remove_lab(lab: &str) {
    let _ = fs::remove_dir_all(dir(lab));
}

/// Whether process `pid` that started at `start` (clock ticks, /proc/PID/stat) still runs.
pub fn alive(pid: u32, start: u64) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return false;
    };
    let f: Vec<&str> = rest.split(' ').collect();
    f.first() != Some(&"Z") && f.get(19).and_then(|s| s.parse().ok()) == Some(start)
}

/// `netscript __keep-output PID START FILE...`: keep FILEs bounded while process PID
/// runs; once it has ended, one last trim. Ends early when the files are gone (the lab
/// went down).
pub fn keep(pid: u32, start: u64, files: &[PathBuf]) {
    loop {
        for f in files {
            trim(f);
        }
        if !alive(pid, start) || !files.iter().any(|f| f.exists()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for f in files {
        trim(f);
    }
}
