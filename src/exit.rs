//! The exit statuses netscript itself returns (a script's `exit(N)` returns N).

/// Exit status 0: everything asked for was done.
pub const SUCCESS: u8 = 0;
/// Exit status 1: the work failed (a failed check or assert, an error while building, the
/// kernel refused a change).
pub const FAILURE: u8 = 1;
/// Exit status 2: a usage error (bad arguments, an unreadable script).
pub const USAGE: u8 = 2;

/// A status as the `i32` the runner passes on (it may also be a script's `exit(N)`).
pub const fn code(status: u8) -> i32 {
    status as i32
}
