//! The live progress line of a long run on a terminal:
//! `netscript: 812 changes, 200 namespaces, 400 links, 3.1s`, on stderr, redrawn in place.
//!
//! `Session::apply` reports each change it made (`changed`). Nothing is drawn in the first
//! second (a quick run shows nothing), nor more than ten times a second, nor ever when
//! stderr is not a terminal: then `changed` is one atomic load and returns (benchmarks and
//! pipes pay nothing). While active it reads the clock once per change, no other syscall.
//!
//! Any other output clears the line first (`out.rs` calls `clear`), so a print or an error
//! never lands after half a progress line; the next change draws it again.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lab::op::Op;

/// Quiet for this long: a run that ends sooner shows no progress at all.
const QUIET: Duration = Duration::from_secs(1);
/// At most ten redraws a second.
const EVERY: Duration = Duration::from_millis(100);
/// Carriage return, then erase to the end of the line.
const ERASE: &[u8] = b"\r\x1b[K";

struct State {
    start: Instant,
    last: Option<Instant>,
    changes: u64,
    namespaces: u64,
    links: u64,
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A progress line is on the screen now (what `clear` must erase).
static SHOWN: AtomicBool = AtomicBool::new(false);
static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Shows progress until dropped (then the line is erased), if stderr is a terminal.
pub struct Guard(());

/// Start counting for a run; the returned guard ends it.
pub fn start() -> Guard {
    if std::io::stderr().is_terminal() {
        *lock() = Some(State {
            start: Instant::now(),
            last: None,
            changes: 0,
            namespaces: 0,
            links: 0,
        });
        ACTIVE.store(true, Ordering::Relaxed);
    }
    Guard(())
}

impl Drop for Guard {
    fn drop(&mut self) {
        ACTIVE.store(false, Ordering::Relaxed);
        clear();
        *lock() = None;
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<State>> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// One change was made.
pub fn changed(op: &Op) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    let mut guard = lock();
    let Some(s) = guard.as_mut() else {
        return;
    };
    s.changes += 1;
    match op {
        Op::NetnsAdd { .. } => s.namespaces += 1,
        // Links as `ip link` lists them: a veth pair is two.
        Op::VethAdd { .. } => s.links += 2,
        _ if op.creates_link().is_some() => s.links += 1,
        _ => {}
    }
    let now = Instant::now();
    let elapsed = now.duration_since(s.start);
    if elapsed < QUIET || s.last.is_some_and(|l| now.duration_since(l) < EVERY) {
        return;
    }
    s.last = Some(now);
    let line = format!(
        "netscript: {}, {}, {}, {:.1}s",
        crate::out::plural(s.changes, "change"),
        crate::out::plural(s.namespaces, "namespace"),
        crate::out::plural(s.links, "link"),
        elapsed.as_secs_f64()
    );
    let mut err = std::io::stderr().lock();
    if err
        .write_all(ERASE)
        .and_then(|()| err.write_all(line.as_bytes()))
        .and_then(|()| err.flush())
        .is_ok()
    {
        SHOWN.store(true, Ordering::Relaxed);
    }
}

/// Erase the progress line, if one is shown (before any other output).
pub fn clear() {
    if SHOWN.swap(false, Ordering::Relaxed) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(ERASE).and_then(|()| err.flush());
    }
}
