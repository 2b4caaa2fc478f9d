//! `netscript logs [--lab LAB] [PID] [--follow]`: what a lab's started processes printed
//! (the last 1 MiB of each stream, see `lab::output`). One process: its stdout on stdout,
//! its stderr on stderr, as it wrote them. Without PID, every process of the lab, each
//! line prefixed `[NS:PID] `. `--follow` goes on printing what comes until the processes
//! have exited (or Ctrl-C).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::process::ExitCode;
use std::time::Duration;

use crate::lab::output::{self, KEEP};
use crate::lab::procs::{self, ProcInfo};
use crate::{errln, out};

/// `netscript __keep-output PID START FILE...` (see `lab::output::keep`), which netscript
/// starts for each process it starts; not a subcommand a user sees. False for any other
/// command line.
pub fn keeper(mut args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    if args.next().as_deref() != Some(std::ffi::OsStr::new(output::KEEPER)) {
        return false;
    }
    let mut num = || args.next()?.to_str()?.parse::<u64>().ok();
    if let (Some(pid), Some(start)) = (num(), num()) {
        let files: Vec<std::path::PathBuf> = args.map(Into::into).collect();
        output::keep(pid as u32, start, &files);
    }
    true
}

pub fn exec(lab: Option<&str>, pid: Option<u32>, follow: bool) -> ExitCode {
    if let Some(l) = lab {
        if let Err(c) = super::lab_name("logs", l) {
            return c;
        }
    }
    match select(lab, pid) {
        Ok(list) => {
            show(&list, pid.is_none(), follow);
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("netscript logs: {e}");
            ExitCode::from(super::FAILURE)
        }
    }
}

/// The processes to show, or why there are none.
fn select(lab: Option<&str>, pid: Option<u32>) -> Result<Vec<ProcInfo>, String> {
    let list = match lab {
        Some(l) => procs::of_lab(l).map_err(|e| e.to_string())?,
        None => procs::all(),
    };
    let labs = |l: &[ProcInfo]| {
        let mut v: Vec<String> = l.iter().map(|p| p.lab.clone()).collect();
        v.dedup();
        v
    };
    match pid {
        Some(pid) => {
            let hits: Vec<ProcInfo> = list.into_iter().filter(|p| p.pid == pid).collect();
            match (hits.len(), lab) {
                (0, Some(l)) => Err(format!(
                    "lab {l:?} started no process {pid} (see netscript ps {l})"
                )),
                (0, None) => Err(format!(
                    "no lab that is up started a process {pid} (see netscript ps)"
                )),
                (1, _) => Ok(hits),
                _ => Err(format!(
                    "process {pid} was started by more than one lab ({}): name one with --lab",
                    labs(&hits).join(", ")
                )),
            }
        }
        None => {
            let names = labs(&list);
            match (names.len(), lab) {
                (0, Some(l)) => Err(format!("lab {l:?} has started no process")),
                (0, None) => Err("no lab that is up has started a process".into()),
                (1, _) => Ok(list),
                _ => Err(format!(
                    "more than one lab has processes ({}): name one with --lab",
                    names.join(", ")
                )),
            }
        }
    }
}

/// One stream being shown: where in its file we are, and a line not yet complete.
struct Stream {
    path: std::path::PathBuf,
    prefix: Option<String>,
    err: bool,
    at: u64,
    partial: Vec<u8>,
}

impl Stream {
    /// Print what the file has beyond `at` (no more than the last `KEEP` bytes).
    fn pump(&mut self) {
        output::trim(&self.path);
        let Ok(mut f) = File::open(&self.path) else {
            return;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len <= self.at {
            return;
        }
        let from = self.at.max(len.saturating_sub(KEEP));
        let mut buf = vec![];
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let _ = f.take(len - from).read_to_end(&mut buf);
        }
        self.at = len;
        // What a concurrent trim freed under us reads as zeros: not output.
        let zeros = buf.iter().take_while(|b| **b == 0).count();
        self.emit(&buf[zeros..]);
    }

    fn emit(&mut self, bytes: &[u8]) {
        let Some(prefix) = &self.prefix else {
            self.write(&String::from_utf8_lossy(bytes));
            return;
        };
        // Prefixed: whole lines only, so lines of different processes do not mix.
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let lines: Vec<u8> = self.partial.drain(..=end).collect();
        let mut text = String::new();
        for l in String::from_utf8_lossy(&lines).lines() {
            text.push_str(&format!("{prefix}{l}\n"));
        }
        self.write(&text);
    }

    /// The last line, even without its newline.
    fn finish(&mut self) {
        if self.prefix.is_some() && !self.partial.is_empty() {
            self.emit(b"\n");
        }
    }

    fn write(&self, text: &str) {
        match self.err {
            false => out!("{text}"),
            true => crate::out::stderr(format_args!("{text}"), false),
        }
    }
}

fn show(list: &[ProcInfo], prefixed: bool, follow: bool) {
    let mut streams: Vec<Stream> = list
        .iter()
        .flat_map(|p| {
            let prefix = prefixed.then(|| format!("[{}:{}] ", p.ns_name(), p.pid));
            [("stdout", false), ("stderr", true)].map(|(which, err)| Stream {
                path: output::stream(&p.lab, p.pid, which),
                prefix: prefix.clone(),
                err,
                at: 0,
                partial: vec![],
            })
        })
        .collect();
    loop {
        // Whether any still runs, asked before reading: what it printed before it
        // ended is then read below.
        let running = follow && list.iter().any(|p| output::alive(p.pid, p.start));
        for s in &mut streams {
            s.pump();
        }
        if !running || crate::out::closed().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for s in &mut streams {
        s.finish();
    }
}
