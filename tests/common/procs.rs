//! Tests of started processes: a guarded netscript run, and shell functions to start one
//! in the background of a [`super::sandbox_sh`] script, signal it, and find what it left.

use std::process::{Command, Stdio};

use super::{Run, BIN};

/// Shell functions for [`super::sandbox_sh`] (put it first in the script):
///
/// - `alive ARGS...` prints ARGS for each live (not zombie) process with exactly that argv;
/// - `guard PID` kills PID after 60 s (against a hang; not a timing assertion);
/// - `bg CMD...` runs CMD in the background, stdout in `$T/out`, stderr in `$T/err`, its
///   pid in `$P`, guarded;
/// - `finish` waits for `$P` and prints its exit status as section `@@rc`;
/// - `interrupt SIG` sends SIG to `$P`, then `finish`es and prints `@@out` and `@@err`.
pub const PROCS_SH: &str = r#"
alive() {
    want="$*"
    for d in /proc/[0-9]*; do
        [ "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" = "$want " ] || continue
        [ "$(cut -d' ' -f3 $d/stat 2>/dev/null)" = Z ] || echo "$want"
    done
}
guard() { ( sleep 60; kill -9 "$1" 2>/dev/null ) >/dev/null 2>&1 & }
bg() { "$@" > $T/out 2> $T/err & P=$!; guard $P; }
finish() { rc=0; wait $P || rc=$?; echo @@rc; echo $rc; }
interrupt() { kill -"$1" $P; finish; echo @@out; cat $T/out; echo @@err; cat $T/err; }
"#;

/// Shell lines: write `script` to `$T/NAME.rhai`, run it (`netscript`, no `--sandbox`:
/// in the script's sandbox) with `bg`, `finish`, and print its output (stdout, then
/// stderr) as section `@@out`.
pub fn run_file_sh(name: &str, script: &str) -> String {
    format!(
        "cat > $T/{name}.rhai <<'EOF'\n{script}\nEOF\nbg netscript $T/{name}.rhai\nfinish\necho @@out; cat $T/out $T/err\n"
    )
}

/// `netscript --sandbox ARGS`, killed after 60 s if it has not ended by then (a guard
/// against a hang, not a timing assertion: these runs take well under a second).
pub fn sandboxed_guarded(args: &[&str]) -> Run {
    let out = Command::new("timeout")
        .args(["-s", "KILL", "60", BIN, "--sandbox"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running timeout netscript");
    Run::new(
        out,
        format!("timeout 60 netscript --sandbox {}", args.join(" ")),
    )
}
