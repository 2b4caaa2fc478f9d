//! Writing to stdout and stderr without panicking when they are closed
//! (`netscript lab.rhai | head -2`). A closed stdout stops the script at its next step,
//! as a signal does, so the run rolls back and exits 1; a closed stderr only loses the
//! message.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// What a script stopped by a closed stdout reports.
pub const CLOSED: &str = "standard output is closed (whatever read it stopped reading)";

pub fn stdout(args: fmt::Arguments, newline: bool) {
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
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| match newline {
        true => err.write_all(b"\n"),
        false => Ok(()),
    });
}

pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::SeqCst)
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
