//! A REPL (`netscript --sandbox` with no file) driven through a real pseudo-terminal:
//! each one in its own tmux server (`tmux -S SOCKET` in the temp directory, so nothing is
//! shared with other tmux users or other tests), typed into with `send-keys` and read with
//! `capture-pane`, with its own `XDG_STATE_HOME` so its history is private to the test.
//! No timing assertions: every wait polls the pane with a generous deadline.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{q, BIN};

pub const PROMPT: &str = "netscript> ";
/// The prompt of each further line of an unfinished input.
pub const MORE: &str = "...> ";
/// What the pane's shell prints when netscript exits: `[netscript exited: STATUS]`.
pub const EXITED: &str = "[netscript exited: ";
/// How long any one wait may take before the test fails (generous: debug build, 2 cores,
/// tests in parallel).
pub const WAIT: Duration = Duration::from_secs(60);

pub fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "netscript-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A private `XDG_STATE_HOME` for REPL sessions, removed on drop.
pub struct StateDir {
    pub path: PathBuf,
}

impl StateDir {
    pub fn new() -> StateDir {
        let path = std::env::temp_dir().join(unique("repl-state"));
        std::fs::create_dir_all(&path).expect("creating a temp directory");
        StateDir { path }
    }

    pub fn history(&self) -> PathBuf {
        self.path.join("netscript").join("history")
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One REPL in its own tmux server; the server (and with it the REPL) is killed on drop.
pub struct Repl {
    pub socket: PathBuf,
    pub session: String,
}

impl Repl {
    /// `XDG_STATE_HOME=STATE netscript --sandbox` in a 160x50 pane; waits for the prompt.
    pub fn start(state: &Path) -> Repl {
        Repl::start_with(state, "", &["--sandbox"])
    }

    /// `XDG_STATE_HOME=STATE PREFIX netscript ARGS` in a 160x50 pane (PREFIX: shell
    /// words before the binary, quoted: environment assignments, a wrapper like setpriv);
    /// waits for the prompt.
    pub fn start_with(state: &Path, prefix: &str, args: &[&str]) -> Repl {
        let r = Repl::spawn(&format!(
            "XDG_STATE_HOME={} {prefix} {} {}",
            q(&state.display().to_string()),
            q(BIN),
            args.iter().map(|a| q(a)).collect::<Vec<_>>().join(" ")
        ));
        r.wait_for("the first prompt", |p| prompt_lines(p).len() == 1);
        r
    }

    /// The shell command `cmd` in a 160x50 pane of its own tmux server, its exit status
    /// printed after it (`[netscript exited: STATUS]`, read by [`Repl::wait_exit`]).
    /// Returns at once: wait for what `cmd` shows with [`Repl::wait_for`].
    pub fn spawn(cmd: &str) -> Repl {
        let name = unique("repl");
        let r = Repl {
            socket: std::env::temp_dir().join(format!("{name}.sock")),
            session: name,
        };
        let cmd = format!("{cmd}; echo \"{EXITED}$?]\"");
        r.tmux_ok(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            &r.session,
            "-x",
            "160",
            "-y",
            "50",
            &cmd,
        ]);
        // Keep the pane after the command exits, to read its exit status (and, should it
        // crash, what it printed).
        r.tmux_ok(&["set-option", "-w", "-t", &r.session, "remain-on-exit", "on"]);
        r.tmux_ok(&["set-option", "-g", "history-limit", "20000"]);
        r
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    pub fn tmux_ok(&self, args: &[&str]) -> String {
        let out = self.tmux(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The whole pane, scrollback included, wrapped lines joined, trailing blanks removed.
    pub fn capture(&self) -> String {
        let raw = self.tmux_ok(&["capture-pane", "-p", "-J", "-S", "-", "-t", &self.session]);
        let lines: Vec<&str> = raw.lines().map(str::trim_end).collect();
        let end = lines
            .iter()
            .rposition(|l| !l.is_empty())
            .map(|i| i + 1)
            .unwrap_or(0);
        lines[..end].join("\n")
    }

    /// Type `text` literally (no Enter).
    pub fn type_text(&self, text: &str) {
        // tmux would take a trailing `;` for a command separator.
        assert!(
            !text.ends_with(';'),
            "avoid a trailing `;` in send-keys: {text:?}"
        );
        self.tmux_ok(&["send-keys", "-t", &self.session, "-l", text]);
    }

    /// Press a key (`Enter`, `Tab`, `Up`, `C-c`, `C-d`, ...).
    pub fn key(&self, key: &str) {
        self.tmux_ok(&["send-keys", "-t", &self.session, key]);
    }

    /// Poll the pane until `pred` holds; returns the pane. Fails with the pane on timeout.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let pane = self.capture();
            if pred(&pane) {
                return pane;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; the pane:\n{pane}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The line the cursor is on (the last line of the pane), waiting until `pred` holds.
    pub fn wait_for_input_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let pane = self.wait_for(what, |p| pred(p.lines().last().unwrap_or("")));
        pane.lines().last().unwrap_or("").to_string()
    }

    /// Type `lines` (each followed by Enter: one multi-line input when the first ones are
    /// unfinished), wait for the next prompt, and return what was printed after the input.
    /// Whatever is already on the input line (a completion) is kept: `lines[0]` continues it.
    pub fn enter_lines(&self, lines: &[&str]) -> String {
        let pane = self.capture();
        let before = prompt_lines(&pane).len();
        let current = pane.lines().last().unwrap_or("");
        let current = if current == PROMPT.trim_end() {
            PROMPT
        } else {
            current
        };
        for l in lines {
            self.type_text(l);
            self.key("Enter");
        }
        let pane = self.wait_for(&format!("the prompt after {lines:?}"), |p| {
            prompt_lines(p).len() > before
        });
        let all: Vec<&str> = pane.lines().collect();
        let prompts = prompt_lines(&pane);
        let (from, to) = (prompts[before - 1], prompts[before]);
        assert_eq!(
            all[from],
            format!("{current}{}", lines[0]).trim_end(),
            "the input is echoed after the prompt\n{pane}"
        );
        // Continuation lines are echoed after the `...> ` prompt; what follows them is
        // the output.
        for (i, l) in lines.iter().enumerate().skip(1) {
            assert_eq!(
                all.get(from + i).copied(),
                Some(format!("{MORE}{l}").trim_end()),
                "continuation line {i} is echoed\n{pane}"
            );
        }
        let out_start = (from + lines.len()).min(to);
        all[out_start..to].join("\n")
    }

    /// Ctrl-C at the prompt: abandon the line typed so far; waits for the fresh prompt.
    pub fn cancel_line(&self) {
        let before = prompt_lines(&self.capture()).len();
        self.key("C-c");
        self.wait_for("a fresh prompt after Ctrl-C", |p| {
            prompt_lines(p).len() > before && p.lines().last() == Some(PROMPT.trim_end())
        });
    }

    /// [`enter_lines`] for one line.
    pub fn eval(&self, line: &str) -> String {
        self.enter_lines(&[line])
    }

    /// Whether the process in the pane has ended.
    pub fn pane_dead(&self) -> bool {
        self.tmux_ok(&["display-message", "-p", "-t", &self.session, "#{pane_dead}"])
            .trim()
            == "1"
    }

    /// Wait until netscript has exited; returns its exit status as the shell saw it
    /// (128 + N for a signal). (tmux's own `#{pane_dead_status}` is sometimes left empty.)
    pub fn wait_exit(&self) -> i32 {
        let pane = self.wait_for("netscript to exit", |p| {
            p.lines().any(|l| l.starts_with(EXITED))
        });
        let line = pane.lines().find(|l| l.starts_with(EXITED)).unwrap();
        line[EXITED.len()..]
            .trim_end_matches(']')
            .parse()
            .expect("an exit status")
    }
}

impl Drop for Repl {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Indices of the lines that start with the prompt.
pub fn prompt_lines(pane: &str) -> Vec<usize> {
    // Lines are trimmed at the end: an empty prompt is `netscript>`.
    pane.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with(PROMPT) || *l == PROMPT.trim_end())
        .map(|(i, _)| i)
        .collect()
}

pub fn repl() -> (StateDir, Repl) {
    let state = StateDir::new();
    let r = Repl::start(&state.path);
    (state, r)
}
