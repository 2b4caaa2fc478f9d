//! SIGINT, SIGTERM and SIGHUP stop a running script at its next step, so the run unwinds
//! through rollback instead of dying with its lab half built. SIGTERM and SIGHUP also end
//! a REPL that waits at its prompt (see `end_prompt_on_terminate`).

use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The terminating signal received (SIGTERM, SIGHUP), 0 for none.
static TERMINATED: AtomicI32 = AtomicI32::new(0);
/// The REPL waits at its prompt.
static AT_PROMPT: AtomicBool = AtomicBool::new(false);
/// Where a terminating signal wakes the prompt's watcher (-1: no watcher).
static WAKE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    if sig != libc::SIGINT {
        TERMINATED.store(sig, Ordering::SeqCst);
        let fd = WAKE.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: write(2) is async-signal-safe; one byte from a live buffer.
            unsafe {
                libc::write(fd, [1u8].as_ptr().cast(), 1);
            }
        }
    }
}

pub fn install() {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SIGHUP: a closed terminal or SSH session, the commonest interruption.
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to atomics and writes to a pipe.
        unsafe {
            let _ = sigaction(sig, &action);
        }
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Clear the flag (the REPL goes on after a Ctrl-C), unless a terminating signal came:
/// then what runs next must stop too.
pub fn reset() {
    if terminated().is_none() {
        INTERRUPTED.store(false, Ordering::SeqCst);
    }
}

/// The terminating signal (SIGTERM, SIGHUP) received, if any: the REPL ends.
pub fn terminated() -> Option<i32> {
    Some(TERMINATED.load(Ordering::SeqCst)).filter(|s| *s != 0)
}

/// Around the REPL's wait for a line.
pub fn at_prompt(waiting: bool) {
    AT_PROMPT.store(waiting, Ordering::SeqCst);
}

/// Make a terminating signal end the prompt's wait, in the thread calling this (the one
/// that reads lines). rustyline retries a read that a signal interrupted, unless the
/// signal is SIGINT, which it turns into a Ctrl-C; so a watcher thread, woken by the
/// handler, sends that thread SIGINT for as long as it still waits at the prompt (the
/// signal may come while rustyline's own SIGINT handler is not yet in place).
pub fn end_prompt_on_terminate() {
    let Ok((read, write)) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) else {
        return;
    };
    // SAFETY: pthread_self and isatty have no preconditions.
    let reader = unsafe { libc::pthread_self() };
    let tty = unsafe { libc::isatty(libc::STDIN_FILENO) } == 1;
    WAKE.store(write.into_raw_fd(), Ordering::SeqCst);
    let _ = std::thread::Builder::new()
        .name("prompt-watch".into())
        .spawn(move || {
            let mut byte = [0u8; 1];
            // SAFETY: read(2) into a live one-byte buffer, on a descriptor this owns.
            while unsafe { libc::read(read.as_raw_fd(), byte.as_mut_ptr().cast(), 1) } == 1 {
                let mut ended_input = false;
                while terminated().is_some() && AT_PROMPT.load(Ordering::SeqCst) {
                    if !tty && !ended_input {
                        // Without a terminal rustyline reads the line with a plain read,
                        // retried after any signal: that read must find the end of its
                        // input, so the REPL ends the way Ctrl-D ends it (stopping what
                        // it started).
                        end_stdin();
                        ended_input = true;
                    }
                    // SAFETY: the reading thread lives as long as the REPL, which
                    // leaves the prompt (clearing AT_PROMPT) before it returns.
                    unsafe {
                        libc::pthread_kill(reader, libc::SIGINT);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
}

/// /dev/null in place of stdin: the next read of it finds the end of the input.
fn end_stdin() {
    if let Ok(null) = std::fs::File::open("/dev/null") {
        // SAFETY: dup2 onto stdin of a descriptor we own (closed when `null` drops).
        unsafe {
            libc::dup2(null.as_raw_fd(), libc::STDIN_FILENO);
        }
    }
}
