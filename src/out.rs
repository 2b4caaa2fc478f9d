//! Writing to stdout and stderr without panicking when they are closed
//! (`netscript lab.rhai | head -2`). A closed stdout or stderr stops the script at its
//! next step, as a signal does, so the run rolls back and exits 1 (what it would have
//! said on a closed stderr is lost).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

pub fn stdout(args: fmt::Arguments, newline: bool) {
    crate::progress::clear();
    let mut out = std::io::stdout().lock();
    let r = out.write_fmt(args).and_then(|()| match newline {
        true => out.write_all(b"\n"),
        false => Ok(()),
    });
    if r.and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::SeqCst);
    }
}

pub fn stderr(args: fmt::Arguments, newline: bool) {
    crate::progress::clear();
    let mut err = std::io::stderr().lock();
    let r = err.write_fmt(args).and_then(|()| match newline {
        true => err.write_all(b"\n"),
        false => Ok(()),
    });
    if r.is_err() {
        STDERR_CLOSED.store(true, Ordering::SeqCst);
    }
}

/// `1 change`, `2 changes`, `0 changes`: a count and its noun, singular or plural.
pub fn plural(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// Why the script must stop, if an output it writes to is closed.
pub fn closed() -> Option<&'static str> {
    if STDOUT_CLOSED.load(Ordering::SeqCst) {
        Some("standard output is closed (whatever read it stopped reading)")
    } else if STDERR_CLOSED.load(Ordering::SeqCst) {
        Some("standard error is closed (whatever read it stopped reading)")
    } else {
        None
    }
}

#[macro_export]
macro_rules! outln {
    () => { $crate::out::stdout(format_args!(""), true) };
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*), true) };
}

#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*), false) };
}

#[macro_export]
macro_rules! errln {
    () => { $crate::out::stderr(format_args!(""), true) };
    ($($t:tt)*) => { $crate::out::stderr(format_args!($($t)*), true) };
}
