//! The commands across hosts: a run on every host at once (all or nothing), and `down`,
//! `ls`, `plan`, `graph`, `exec`, `capture` with `--hosts`.
//!
//! All or nothing, the cleanest way we found: each host runs the script as a normal run,
//! which rolls itself back when it fails or is stopped. A remote run is stopped by closing
//! its SSH session's standard input (a watcher there turns the end of input into SIGTERM,
//! which a run answers by rolling back), so a lost connection, Ctrl-C here, or another
//! host's failure all end the same way. A host whose run had already succeeded when
//! another failed is taken down with `netscript down LAB` on it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::time::Duration;

use super::file::{Host, HostsFile};
use super::ssh::{self, q, Remote, Ssh};
use crate::commands::{FAILURE, USAGE};
use crate::errln;

/// The hosts, connected and checked.
pub struct Connected {
    pub file: HostsFile,
    pub ssh: Ssh,
    pub remotes: Vec<Remote>,
}

impl Drop for Connected {
    fn drop(&mut self) {
        // The scripts' directories (a run's own wrapper removes its own; this covers an
        // upload that failed, or a run that never started).
        for (h, r) in self.file.hosts.iter().zip(&self.remotes) {
            if let (Some(t), true) = (&r.tmp, self.ssh.alive(h)) {
                let _ = self.ssh.output(h, &format!("rm -rf {}", q(t)), None);
            }
        }
        self.ssh.close_all(&self.file.hosts);
    }
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    errln!("netscript: {e}");
    ExitCode::from(FAILURE)
}

/// Load the hosts file, open one connection per host and check each (in parallel):
/// every host that cannot be used gets one line, and then nothing is done anywhere.
pub fn connect(path: &Path, privileged: bool, want_tmp: bool) -> Result<Connected, ExitCode> {
    let mut file = HostsFile::load(path).map_err(|e| {
        errln!("netscript: {e}");
        ExitCode::from(USAGE)
    })?;
    // A signal while connecting (a host may take ConnectTimeout to fail) stops here,
    // with the connections opened so far closed and their directories removed.
    crate::signals::install();
    let ssh = Ssh::new(&file).map_err(fail)?;
    for h in file.hosts.iter_mut().filter(|h| h.underlay.is_none()) {
        h.underlay = Some(
            ssh.resolve(h)
                .map_err(|e| fail(format!("host {}: underlay: {e}", h.name)))?,
        );
    }
    file.check_underlays().map_err(fail)?;
    let results: Vec<Result<Remote, String>> = std::thread::scope(|s| {
        let jobs: Vec<_> = file
            .hosts
            .iter()
            .map(|h| s.spawn(|| ssh::preflight(&ssh, h, privileged, want_tmp)))
            .collect();
        jobs.into_iter()
            .map(|j| {
                j.join()
                    .unwrap_or_else(|_| Err("the check panicked".into()))
            })
            .collect()
    });
    let mut remotes = Vec::new();
    let mut bad = false;
    let interrupted = crate::signals::interrupted();
    if interrupted {
        errln!("netscript: {}", ssh::INTERRUPTED);
        bad = true;
    }
    for (h, r) in file.hosts.iter().zip(results) {
        match r {
            Ok(r) => remotes.push((h, r)),
            Err(_) if interrupted => {}
            Err(e) => {
                errln!("netscript: host {} ({}): {e}", h.name, h.ssh);
                bad = true;
            }
        }
    }
    if bad {
        // The hosts that passed made a directory for the script: gone again.
        for (h, r) in &remotes {
            if let Some(t) = &r.tmp {
                let _ = ssh.output(h, &format!("rm -rf {}", q(t)), None);
            }
        }
        errln!("netscript: nothing was done on any host");
        ssh.close_all(&file.hosts);
        return Err(ExitCode::from(FAILURE));
    }
    let remotes = remotes.into_iter().map(|(_, r)| r).collect();
    Ok(Connected { file, ssh, remotes })
}

/// What a run on the hosts is given.
pub struct RunArgs<'a> {
    pub hosts: &'a Path,
    pub file: &'a Path,
    pub args: Vec<String>,
    pub lab: String,
    pub flags: Forwarded,
}

/// The run flags each remote run is given as they were given here. Every flag that
/// changes what a run builds, or how it ends, belongs here: a field, and one line in
/// `args` (else the remote hosts build without it, silently).
#[derive(Clone, Copy, Debug, Default)]
pub struct Forwarded {
    pub trace: bool,
    pub rm: bool,
    pub replace: bool,
    pub keep_on_error: bool,
    pub kernel_defaults: bool,
    pub lab_mode: bool,
}

impl Forwarded {
    /// The flags as the remote `netscript` takes them; for a plan (`plan: true`), only
    /// those that change what is built.
    pub fn args(&self, plan: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut flag = |given: bool, name: &str, in_plan: bool| {
            if given && (in_plan || !plan) {
                out.push(name.to_string());
            }
        };
        flag(self.trace, "-x", false);
        flag(self.rm, "--rm", false);
        flag(self.replace, "--replace", false);
        flag(self.keep_on_error, "--keep-on-error", false);
        flag(self.kernel_defaults, "--kernel-defaults", true);
        flag(self.lab_mode, "--lab-mode", true);
        // A new run flag: one line here (one with a value pushes both words).
        out
    }
}

/// The script and its imports, relative to the directory they share.
struct Files {
    /// (path there, text)
    files: Vec<(String, String)>,
    /// The script, as run there.
    script: String,
}

fn files_of(script: &Path) -> Result<Files, ExitCode> {
    let usage = |e: String| {
        errln!("netscript: {e}");
        ExitCode::from(USAGE)
    };
    let all = super::script_files(script).map_err(usage)?;
    let dir = super::common_dir(&all);
    let rel = |p: &PathBuf| p.strip_prefix(&dir).unwrap_or(p).display().to_string();
    let mut files = Vec::new();
    for f in &all {
        let text = std::fs::read_to_string(f)
            .map_err(|e| usage(format!("cannot read {}: {e}", f.display())))?;
        files.push((rel(f), text));
    }
    Ok(Files {
        script: rel(&all[0]),
        files,
    })
}

/// Copy the files to each host's private directory.
fn upload(c: &Connected, files: &Files) -> Result<(), ExitCode> {
    for (h, r) in c.file.hosts.iter().zip(&c.remotes) {
        let tmp = r.tmp.as_deref().expect("asked for a directory");
        for (rel, text) in &files.files {
            ssh::put(&c.ssh, h, &format!("{tmp}/{rel}"), text)
                .map_err(|e| fail(format!("host {}: {e}", h.name)))?;
        }
    }
    Ok(())
}

/// `env NETSCRIPT_HOST=.. NETSCRIPT_HOSTS=.. BIN`, for a command that runs the script.
fn with_vars(c: &Connected, h: &Host, bin: &str) -> String {
    format!(
        "env {}={} {}={} {}",
        super::HOST_VAR,
        q(&h.name),
        super::HOSTS_VAR,
        q(&c.file.hosts_json()),
        q(bin)
    )
}

/// How one host's run ended.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Built,
    Failed(i32),
    /// Stopped by us, because another host failed (or Ctrl-C).
    Stopped,
    Lost,
}

/// `netscript --hosts FILE SCRIPT [ARGS]`.
pub fn run(a: RunArgs) -> ExitCode {
    let files = match files_of(a.file) {
        Ok(f) => f,
        Err(c) => return c,
    };
    let c = match connect(a.hosts, true, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(code) = upload(&c, &files) {
        return code;
    }
    if crate::signals::interrupted() {
        // Nothing started yet: dropping `c` removes the scripts and closes the connections.
        errln!("netscript: interrupted; nothing was done on any host");
        return ExitCode::from(FAILURE);
    }
    let mut children: Vec<Child> = Vec::new();
    let mut forwarders = Vec::new();
    for (h, r) in c.file.hosts.iter().zip(&c.remotes) {
        let tmp = r.tmp.as_deref().expect("asked for a directory");
        let mut cmd = with_vars(&c, h, &r.bin);
        cmd.push_str(" --color never");
        for flag in a.flags.args(false) {
            cmd.push(' ');
            cmd.push_str(&q(&flag));
        }
        cmd.push_str(&format!(" --lab {} {}", q(&a.lab), q(&files.script)));
        for arg in &a.args {
            cmd.push(' ');
            cmd.push_str(&q(arg));
        }
        // The run's input is closed; fd 3 keeps the session's, whose end (this side
        // closed it, or the connection died) stops the run: SIGTERM, then its rollback.
        let wrapper = format!(
            "cd {t} || exit 2\nexec 3<&0\n{cmd} </dev/null &\np=$!\nsh -c 'cat >/dev/null; kill -TERM \"$1\" 2>/dev/null' sh $p <&3 >/dev/null 2>&1 &\nw=$!\nexec 3<&-\nwait $p; s=$?\nkill $w 2>/dev/null\ncd / && rm -rf {t}\nexit $s",
            t = q(tmp)
        );
        let mut child = match c
            .ssh
            .command(h, &format!("sh -c {}", q(&wrapper)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Ctrl-C here is ours to handle: the remote runs are stopped as above.
            .process_group(0)
            .spawn()
        {
            Ok(ch) => ch,
            Err(e) => {
                errln!("netscript: host {}: cannot run ssh: {e}", h.name);
                // Those started already are stopped below.
                break;
            }
        };
        forwarders.push(ssh::forward(
            h.name.clone(),
            child.stdout.take().expect("piped"),
            false,
        ));
        forwarders.push(ssh::forward(
            h.name.clone(),
            child.stderr.take().expect("piped"),
            true,
        ));
        children.push(child);
    }
    let started = children.len() == c.file.hosts.len();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; children.len()];
    let mut stopping = !started;
    loop {
        if crate::signals::interrupted() {
            stopping = true;
        }
        for (i, ch) in children.iter_mut().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            if let Ok(Some(st)) = ch.try_wait() {
                outcomes[i] = Some(match st.code() {
                    Some(0) => Outcome::Built,
                    Some(255) | None => Outcome::Lost,
                    // Its run was stopped by us (another host failed, or Ctrl-C).
                    Some(_) if ch.stdin.is_none() => Outcome::Stopped,
                    Some(n) => Outcome::Failed(n),
                });
                if outcomes[i] != Some(Outcome::Built) && !a.flags.keep_on_error {
                    stopping = true;
                }
            }
        }
        if stopping {
            // Closing a session's input stops its run (see the wrapper above).
            for ch in children.iter_mut() {
                drop(ch.stdin.take());
            }
        }
        if outcomes.iter().all(Option::is_some) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for f in forwarders {
        let _ = f.join();
    }
    let interrupted = crate::signals::interrupted();
    let all_built = started && outcomes.iter().all(|o| *o == Some(Outcome::Built));
    if all_built && !interrupted {
        return ExitCode::SUCCESS;
    }
    // Report each host, taking down those that were built.
    errln!(
        "netscript: the run failed on {}; every host is rolled back:",
        match interrupted {
            true => "an interrupt".to_string(),
            false => c
                .file
                .hosts
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| !matches!(o, Some(Outcome::Built | Outcome::Stopped)))
                .map(|(h, _)| h.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    );
    for (i, h) in c.file.hosts.iter().enumerate() {
        let line = match outcomes.get(i).copied().flatten() {
            None => "not started".to_string(),
            Some(Outcome::Built) if a.flags.keep_on_error => "built; kept (--keep-on-error)".to_string(),
            Some(Outcome::Built) => {
                let down = format!("{} down {}", q(&c.remotes[i].bin), q(&a.lab));
                match run_prefixed(&c.ssh, h, &down) {
                    Ok(0) => "built, then taken down".to_string(),
                    _ => format!(
                        "built, but taking it down failed: netscript --hosts {} down {}",
                        a.hosts.display(),
                        a.lab
                    ),
                }
            }
            Some(Outcome::Stopped) => "stopped; it rolled back what it had built".to_string(),
            Some(Outcome::Failed(n)) => match a.flags.keep_on_error {
                true => format!("failed (exit {n}); kept what it built (--keep-on-error)"),
                false => format!("failed (exit {n}); it rolled itself back"),
            },
            Some(Outcome::Lost) => format!(
                "lost the connection: its run rolls itself back when it sees the session end; if it was killed, `netscript --hosts {} down {}` undoes what its journal holds",
                a.hosts.display(),
                a.lab
            ),
        };
        errln!("netscript:   host {}: {line}", h.name);
    }
    ExitCode::from(FAILURE)
}

/// Run `remote` on the host, its output prefixed `[NAME] `; its exit status.
fn run_prefixed(ssh: &Ssh, h: &Host, remote: &str) -> Result<i32, String> {
    let mut child = ssh
        .command(h, remote)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    let o = ssh::forward(h.name.clone(), child.stdout.take().expect("piped"), false);
    let e = ssh::forward(h.name.clone(), child.stderr.take().expect("piped"), true);
    let st = child.wait().map_err(|e| e.to_string())?;
    let _ = (o.join(), e.join());
    Ok(st.code().unwrap_or(255))
}

/// The same command on every host (in parallel), output prefixed; fails when any does.
fn on_all(c: &Connected, what: impl Fn(&Remote) -> String + Sync) -> ExitCode {
    let codes = each_host(c, |h, r| run_prefixed(&c.ssh, h, &what(r)))
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("panicked".into())));
    let mut ok = true;
    for (h, r) in c.file.hosts.iter().zip(codes) {
        match r {
            Ok(0) => {}
            Ok(255) => {
                errln!("netscript: host {}: lost the connection", h.name);
                ok = false;
            }
            Ok(_) => ok = false,
            Err(e) => {
                errln!("netscript: host {}: {e}", h.name);
                ok = false;
            }
        }
    }
    match ok {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(FAILURE),
    }
}

/// `job` on every host at once, each answer in the file's order (`None`: it panicked).
fn each_host<T: Send>(c: &Connected, job: impl Fn(&Host, &Remote) -> T + Sync) -> Vec<Option<T>> {
    std::thread::scope(|s| {
        let job = &job;
        let jobs: Vec<_> = c
            .file
            .hosts
            .iter()
            .zip(&c.remotes)
            .map(|(h, r)| s.spawn(move || job(h, r)))
            .collect();
        jobs.into_iter().map(|j| j.join().ok()).collect()
    })
}

/// `netscript down --hosts FILE LAB`: `down LAB` on every host.
pub fn down(hosts: &Path, lab: &str, trace: bool, force: bool) -> ExitCode {
    if let Err(code) = crate::commands::lab_name("down", lab) {
        return code;
    }
    let c = match connect(hosts, true, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    on_all(&c, |r| {
        let mut cmd = q(&r.bin);
        if trace {
            cmd.push_str(" -x");
        }
        cmd.push_str(" down ");
        if force {
            cmd.push_str("--force ");
        }
        cmd.push_str(&q(lab));
        // A host that never had the lab (its run rolled back, or never started) is as
        // clean as one where it is down: not a failure across hosts.
        let script = format!(
            "out=$({cmd} 2>&1); s=$?\ncase \"$out\" in *'there is no lab named'*) echo {none}; exit 0 ;; esac\nif [ $s = 0 ]; then printf '%s\\n' \"$out\"; else printf '%s\\n' \"$out\" >&2; fi\nexit $s",
            none = q(&format!("lab {lab:?} is not up here"))
        );
        format!("sh -c {}", q(&script))
    })
}

/// `netscript ls --hosts FILE`: every host's labs (`--json`: `{"HOST": [...]}`).
pub fn ls(hosts: &Path, json: bool) -> ExitCode {
    let c = match connect(hosts, false, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if !json {
        return on_all(&c, |r| format!("{} ls", q(&r.bin)));
    }
    let mut all = serde_json::Map::new();
    for (h, r) in c.file.hosts.iter().zip(&c.remotes) {
        match c.ssh.output(h, &format!("{} ls --json", q(&r.bin)), None) {
            Ok(out) => {
                let v = serde_json::from_str(out.trim()).unwrap_or(serde_json::Value::Null);
                all.insert(h.name.clone(), v);
            }
            Err(e) => return fail(format!("host {}: ls: {e}", h.name)),
        }
    }
    crate::outln!("{}", serde_json::Value::Object(all));
    ExitCode::SUCCESS
}

/// `netscript plan --hosts FILE SCRIPT`: each host's plan under its own heading (a shell
/// comment), made by netscript there against that host's network; nothing is touched.
pub fn plan(hosts: &Path, file: &Path, args: &[String], flags: Forwarded) -> ExitCode {
    let files = match files_of(file) {
        Ok(f) => f,
        Err(c) => return c,
    };
    let c = match connect(hosts, false, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(code) = upload(&c, &files) {
        return code;
    }
    let mut ok = true;
    for (h, r) in c.file.hosts.iter().zip(&c.remotes) {
        let tmp = r.tmp.as_deref().expect("asked for a directory");
        let mut cmd = format!(
            "cd {t} && {} --color never plan",
            with_vars(&c, h, &r.bin),
            t = q(tmp)
        );
        for arg in flags.args(true).iter().chain([&files.script]) {
            cmd.push(' ');
            cmd.push_str(&q(arg));
        }
        for arg in args {
            cmd.push(' ');
            cmd.push_str(&q(arg));
        }
        let wrapper = format!("{cmd}; s=$?; cd / && rm -rf {}; exit $s", q(tmp));
        crate::outln!("# ==== host {} ({}) ====", h.name, h.ssh);
        let out = c
            .ssh
            .command(h, &format!("sh -c {}", q(&wrapper)))
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) => {
                crate::out!("{}", String::from_utf8_lossy(&o.stdout));
                for l in String::from_utf8_lossy(&o.stderr).lines() {
                    errln!("[{}] {l}", h.name);
                }
                ok &= o.status.success();
            }
            Err(e) => {
                errln!("netscript: host {}: cannot run ssh: {e}", h.name);
                ok = false;
            }
        }
    }
    match ok {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(FAILURE),
    }
}

/// `netscript graph --hosts FILE [LAB]`: one picture of every host and the overlay
/// between them (see `hosts::graph`), as text, dot, mermaid, svg or JSON.
pub fn graph(hosts: &Path, format: &str, lab: Option<&str>, json: bool) -> ExitCode {
    use super::graph::{floods, Part, Picture};
    let c = match connect(hosts, false, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let parts: Vec<Part> = each_host(&c, |h, r| {
        let mut cmd = format!("{} --color never graph --json", q(&r.bin));
        if let Some(l) = lab {
            cmd.push(' ');
            cmd.push_str(&q(l));
        }
        let (topology, error) = match c.ssh.output(h, &cmd, None) {
            Ok(o) => match serde_json::from_str(&o) {
                Ok(t) => (Some(t), None),
                Err(e) => (None, Some(format!("unreadable graph: {e}"))),
            },
            Err(e) => (None, Some(e)),
        };
        // Where its VXLANs flood to: their all-zeros FDB entries.
        let fdb = "bridge fdb show 2>/dev/null | grep '^00:00:00:00:00:00 dev .* dst ' || true";
        Part {
            name: h.name.clone(),
            ssh: h.ssh.clone(),
            underlay: h.underlay.map(|u| u.to_string()),
            topology,
            error,
            floods: c
                .ssh
                .output(h, fdb, None)
                .map(|o| floods(&o))
                .unwrap_or_default(),
        }
    })
    .into_iter()
    .map(|p| p.expect("a host's graph does not panic"))
    .collect();
    for p in &parts {
        if let Some(e) = &p.error {
            errln!("[{}] {e}", p.name);
        }
    }
    let ok = parts.iter().all(|p| p.error.is_none());
    let picture = Picture::new(&c.file, parts);
    let out = match (json, format) {
        (true, _) => Ok(serde_json::to_string_pretty(&picture).expect("serializes") + "\n"),
        (_, "dot") => Ok(picture.dot()),
        (_, "mermaid") => Ok(picture.mermaid()),
        (_, "svg") => crate::ui::graph::svg_of(&picture.dot()).map_err(|e| e.to_string()),
        _ => Ok(picture.text()),
    };
    match out {
        Ok(o) => crate::out!("{o}"),
        Err(e) => return fail(format!("graph: {e}")),
    }
    match ok {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(FAILURE),
    }
}

/// `HOST:NS`, split; a clear usage error otherwise (before any host is reached).
pub fn split_target<'a>(cmd: &str, target: &'a str) -> Result<(&'a str, &'a str), ExitCode> {
    let usage = |why: &str| {
        errln!("netscript {cmd} --hosts: name the namespace as HOST:NS, not {target:?}{why}");
        ExitCode::from(USAGE)
    };
    match target.split_once(':') {
        None => Err(usage("")),
        Some(("", _)) => Err(usage(" (the host is empty)")),
        Some((_, "")) => Err(usage(" (the namespace is empty)")),
        Some(parts) => Ok(parts),
    }
}

/// `exec` / `capture` with `--hosts`: the subcommand `rest` on the one host, on this
/// terminal; its exit status.
pub fn on_one(hosts: &Path, host: &str, rest: &[String], to_file: Option<&str>) -> ExitCode {
    let c = match connect(hosts, true, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(i) = c.file.hosts.iter().position(|h| h.name == host) else {
        return fail(c.file.host(host).unwrap_err());
    };
    let (h, r) = (&c.file.hosts[i], &c.remotes[i]);
    let mut cmd = q(&r.bin);
    for w in rest {
        cmd.push(' ');
        cmd.push_str(&q(w));
    }
    let mut ssh = c.ssh.command(h, &cmd);
    if let Some(f) = to_file {
        match std::fs::File::create(f) {
            Ok(f) => {
                ssh.stdout(f);
            }
            Err(e) => return fail(format!("cannot write {f}: {e}")),
        }
    }
    let mut child = match ssh.spawn() {
        Ok(ch) => ch,
        Err(e) => return fail(format!("cannot run ssh: {e}")),
    };
    // Signals are ours since connect: one sent to this netscript alone (SIGTERM) ends
    // the command's session, as it did before they were.
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return crate::commands::status(s.code().unwrap_or(1)),
            Ok(None) if crate::signals::interrupted() => {
                let _ = child.kill();
                let _ = child.wait();
                return ExitCode::from(FAILURE);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return fail(format!("ssh: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Forwarded;

    /// Each flag reaches the remote runs; a plan gets only those that change what is built.
    #[test]
    fn forwarded_flags_for_a_run_and_for_a_plan() {
        let all = Forwarded {
            trace: true,
            rm: true,
            replace: true,
            keep_on_error: true,
            kernel_defaults: true,
            lab_mode: true,
        };
        assert_eq!(
            all.args(false),
            [
                "-x",
                "--rm",
                "--replace",
                "--keep-on-error",
                "--kernel-defaults",
                "--lab-mode"
            ]
        );
        assert_eq!(all.args(true), ["--kernel-defaults", "--lab-mode"]);
        assert!(Forwarded::default().args(false).is_empty());
    }
}
