//! Colour on standard error: `error`, `note`, warnings, the caret, and the dimmed `-x`
//! trace. `--color auto` (the default) colours only when stderr is a terminal and
//! `NO_COLOR` is unset or empty (https://no-color.org); `always` and `never` override both.
//!
//! Plain ANSI SGR sequences: every terminal netscript runs on (Linux) understands them,
//! and a pipe or file never sees them unless `--color always` asks for it.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// `--color`'s three values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Always,
    Never,
}

static CHOICE: AtomicU8 = AtomicU8::new(0);

/// Set once by `main` from `--color`.
pub fn set(choice: Choice) {
    CHOICE.store(choice as u8, Ordering::Relaxed);
}

fn choice() -> Choice {
    match CHOICE.load(Ordering::Relaxed) {
        1 => Choice::Always,
        2 => Choice::Never,
        _ => Choice::Auto,
    }
}

/// Whether what goes to stderr is coloured (asked once, then cached: it cannot change).
pub fn enabled() -> bool {
    static AUTO: OnceLock<bool> = OnceLock::new();
    match choice() {
        Choice::Always => true,
        Choice::Never => false,
        Choice::Auto => *AUTO.get_or_init(|| {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stderr().is_terminal()
        }),
    }
}

const RESET: &str = "\x1b[0m";

fn paint(sgr: &str, text: &str) -> String {
    match enabled() {
        true => format!("\x1b[{sgr}m{text}{RESET}"),
        false => text.to_string(),
    }
}

/// `error` (bold red).
pub fn error(text: &str) -> String {
    paint("1;31", text)
}

/// `warning` (bold yellow).
pub fn warning(text: &str) -> String {
    paint("1;33", text)
}

/// `note` (bold cyan).
pub fn note(text: &str) -> String {
    paint("1;36", text)
}

/// The caret under an error's column (bold red, as the word `error`).
pub fn caret(text: &str) -> String {
    paint("1;31", text)
}

/// `FILE:LINE:COL` in front of a message (bold).
pub fn place(text: &str) -> String {
    paint("1", text)
}

/// A `-x` trace line (dim, so the script's own output stands out).
pub fn dim(text: &str) -> String {
    paint("2", text)
}
