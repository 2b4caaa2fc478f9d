//! Reaching a running sandbox from outside it: a `netscript --sandbox` script builds a lab
//! and waits; other netscript commands find it in the registry (`--sandbox-of NAME`, or by
//! the lab or namespace it holds) and work inside it: `exec`, `graph`, `ls`, `capture`,
//! a run, `down`, and `attach` (a REPL, through tmux). Each test has its own registry
//! directory (`NETSCRIPT_SANDBOX_DIR`), so tests never see each other's sandboxes, and
//! checks it is gone (removed with its last entry) at the end.
//!
//! The sandboxes are the only namespaces touched: every command here either runs inside
//! one (`--sandbox`, or joined) or only reads the registry.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::tmux::{self, Repl, StateDir};
use common::{json, link_names, q, Run, BIN};

/// Generous: a debug build, 2 cores, tests in parallel. Only ever a deadline for a poll.
const WAIT: Duration = Duration::from_secs(60);

/// A lab the sandboxed script builds: `atred` and `atblue` over a veth pair
/// (`veth-atred` 10.0.0.1/24, `veth-atblue` 10.0.0.2/24). Then it touches ARGS[0]
/// (ready) and waits until ARGS[1] (stop) exists, pinging blue from red meanwhile when
/// ARGS[2] is "ping".
const SCRIPT: &str = r#"
let red = netns("atred");
let blue = netns("atblue");
let v = veth("veth-atred", "veth-atblue", #{ a_ns: red, b_ns: blue });
v.a.addr("10.0.0.1/24");
v.b.addr("10.0.0.2/24");
v.a.up();
v.b.up();
red.exec(["touch", ARGS[0]]);
let ping = ARGS.len() > 2 && ARGS[2] == "ping";
while red.exec(["test", "-e", ARGS[1]]).code != 0 {
    if ping { red.ping("10.0.0.2"); } else { sleep(50); }
}
"#;

/// A private directory: the scripts, the ready/stop files and the registry.
struct Dir {
    path: PathBuf,
}

impl Dir {
    fn new(tag: &str) -> Dir {
        let path = std::env::temp_dir().join(tmux::unique(tag));
        std::fs::create_dir_all(&path).expect("creating a temp directory");
        Dir { path }
    }

    /// The registry directory the sandboxes of this test use.
    fn registry(&self) -> PathBuf {
        self.path.join("sandboxes")
    }

    /// `netscript ARGS` with this test's registry.
    fn netscript(&self, args: &[&str]) -> Run {
        run_as(None, &self.registry(), args)
    }

    /// `netscript exec --sandbox-of SANDBOX NS -- CMD...` with this test's registry.
    fn exec_in(&self, sandbox: &str, ns: &str, cmd: &[&str]) -> Run {
        let mut args = vec!["exec", "--sandbox-of", sandbox, ns, "--"];
        args.extend_from_slice(cmd);
        self.netscript(&args)
    }

    /// The one running sandbox is `name` (holding lab `name`), and a command reaches it.
    fn assert_only_reachable(&self, name: &str) {
        assert_eq!(sandboxes(self), vec![(name.into(), name.into())]);
        self.exec_in(name, "atred", &["true"]).success();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `netscript ARGS` (as `user`, through setpriv, if given) with registry `reg`.
fn run_as(user: Option<&str>, reg: &Path, args: &[&str]) -> Run {
    let out = command(user, reg, args)
        .stdin(Stdio::null())
        .output()
        .expect("running netscript");
    Run::new(out, format!("netscript {}", args.join(" ")))
}

fn command(user: Option<&str>, reg: &Path, args: &[&str]) -> Command {
    let mut c = match user {
        None => Command::new(BIN),
        Some(u) => {
            let mut c = Command::new("setpriv");
            c.args(["--reuid", u, "--regid", "nogroup", "--clear-groups", BIN]);
            c
        }
    };
    c.args(args).env("NETSCRIPT_SANDBOX_DIR", reg);
    c
}

/// A `netscript --sandbox STEM.rhai` running [`SCRIPT`]; stopped (and waited for) on drop.
struct Live {
    child: Option<Child>,
    stop: PathBuf,
    script: PathBuf,
}

impl Live {
    /// Start it and wait until its lab is built (registered before that).
    fn start(dir: &Dir, stem: &str, ping: bool) -> Live {
        Live::start_as(None, dir, stem, ping)
    }

    fn start_as(user: Option<&str>, dir: &Dir, stem: &str, ping: bool) -> Live {
        Live::start_full(user, dir, stem, ping, None)
    }

    /// As `user` (None: root), with `--lab LAB` if given.
    fn start_full(
        user: Option<&str>,
        dir: &Dir,
        stem: &str,
        ping: bool,
        lab: Option<&str>,
    ) -> Live {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sub = dir.path.join(format!("s{n}"));
        std::fs::create_dir_all(&sub).unwrap();
        let script = sub.join(format!("{stem}.rhai"));
        std::fs::write(&script, SCRIPT).unwrap();
        let (ready, stop) = (sub.join("ready"), sub.join("stop"));
        if user.is_some() {
            // The sandbox's user writes here (ready) and into the registry's parent.
            for d in [&dir.path, &sub] {
                Command::new("chmod").arg("0777").arg(d).status().unwrap();
            }
            Command::new("chmod")
                .arg("0755")
                .arg(&script)
                .status()
                .unwrap();
        }
        let mut args = vec!["--sandbox".to_string()];
        if let Some(l) = lab {
            args.extend(["--lab".to_string(), l.to_string()]);
        }
        args.extend([
            script.display().to_string(),
            ready.display().to_string(),
            stop.display().to_string(),
        ]);
        if ping {
            args.push("ping".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = command(user, &dir.registry(), &args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting netscript --sandbox");
        let start = Instant::now();
        while !ready.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                use std::io::Read;
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("the sandboxed script ended ({status}) before it was ready:\n{err}");
            }
            assert!(
                start.elapsed() < WAIT,
                "the sandboxed script never got ready"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Live {
            child: Some(child),
            stop,
            script,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Let the script end; its exit status.
    fn finish(&mut self) -> i32 {
        std::fs::write(&self.stop, b"").unwrap();
        let mut child = self.child.take().unwrap();
        let start = Instant::now();
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            if start.elapsed() > WAIT {
                let _ = child.kill();
                panic!("the sandboxed script did not end after its stop file appeared");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL the process that was started (the sandbox's outer process).
    fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = std::fs::write(&self.stop, b"");
            let mut child = self.child.take().unwrap();
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none() && start.elapsed() < WAIT {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = &self.script;
    }
}

/// The sandboxes `netscript ls --json` lists: (name, lab).
fn sandboxes(dir: &Dir) -> Vec<(String, String)> {
    let ls = dir.netscript(&["ls", "--json"]).success();
    json(&ls.stdout)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("sandbox").is_some())
        .map(|e| {
            (
                e["sandbox"].as_str().unwrap().to_string(),
                e["lab"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_running_sandbox_is_reached_from_outside() {
    let dir = Dir::new("attach-reach");
    let mut live = Live::start(&dir, "reach", false);

    // Registered under the script's stem, and listed by ls, marked as a sandbox.
    assert!(dir.registry().join("reach").is_file());
    assert_eq!(sandboxes(&dir), vec![("reach".into(), "reach".into())]);
    let ls = dir.netscript(&["ls"]).success();
    let header = ls.stdout.lines().find(|l| l.starts_with("SANDBOX"));
    assert!(header.is_some(), "ls marks sandboxes\n{ls}");
    assert!(
        ls.stdout.lines().any(|l| l.starts_with("reach ")),
        "ls lists the sandbox\n{ls}"
    );

    // exec --sandbox-of: red's links, as inside.
    let r = dir
        .exec_in("reach", "atred", &["ip", "-j", "link"])
        .success();
    assert_eq!(link_names(&json(&r.stdout)), ["lo", "veth-atred"], "{r}");
    // By the namespace's name alone: the host has no atred, one sandbox has.
    let r = dir
        .netscript(&["exec", "atblue", "--", "ip", "-j", "addr"])
        .success();
    assert_eq!(
        common::addrs_of(&json(&r.stdout), "veth-atblue"),
        ["10.0.0.2/24"]
    );
    // The command's own exit status, and `host` is the sandbox's own namespace.
    dir.exec_in("reach", "atred", &["sh", "-c", "exit 7"])
        .fails_with(7);
    let r = dir
        .exec_in("reach", "host", &["ip", "netns", "list"])
        .success();
    assert!(
        r.stdout.contains("atred") && r.stdout.contains("atblue"),
        "{r}"
    );

    // graph, by --sandbox-of and by the lab's name.
    for args in [
        &["graph", "--json", "--sandbox-of", "reach"][..],
        &["graph", "--json", "reach"][..],
    ] {
        let g = dir.netscript(args).success();
        let text = g.stdout.clone();
        assert!(
            text.contains("veth-atred") && text.contains("veth-atblue"),
            "graph shows the sandbox's links\n{g}"
        );
    }

    // ls inside: the sandbox's own lab, not the sandboxes.
    let inside = dir
        .netscript(&["ls", "--json", "--sandbox-of", "reach"])
        .success();
    let labs = json(&inside.stdout);
    assert_eq!(labs[0]["lab"], "reach", "{inside}");
    assert_eq!(labs[0]["namespaces"], 2, "{inside}");
    assert_eq!(labs.as_array().unwrap().len(), 1, "{inside}");

    // Gone when it ends: its entry, and the registry directory with it.
    assert_eq!(live.finish(), 0);
    assert!(
        !dir.registry().exists(),
        "the registry directory is removed"
    );
    assert!(sandboxes(&dir).is_empty());
    let r = dir.exec_in("reach", "atred", &["true"]).fails_with(1);
    assert!(
        r.stderr
            .contains("there is no running sandbox named \"reach\" (running: none"),
        "{r}"
    );
}

#[test]
fn a_second_sandbox_of_the_same_name_gets_a_suffix() {
    let dir = Dir::new("attach-two");
    let first = Live::start(&dir, "twin", false);
    let second = Live::start(&dir, "twin", false);
    assert_eq!(
        sandboxes(&dir),
        vec![
            ("twin".into(), "twin".into()),
            ("twin-2".into(), "twin".into())
        ]
    );
    // Ambiguous: the namespace and the lab are in both.
    let r = dir
        .netscript(&["exec", "atred", "--", "true"])
        .fails_with(1);
    assert!(
        r.stderr.contains(
            "netscript exec: namespace \"atred\" is in 2 running sandboxes (twin, twin-2): pick one with --sandbox-of NAME"
        ),
        "{r}"
    );
    let r = dir.netscript(&["graph", "twin"]).fails_with(1);
    assert!(
        r.stderr
            .contains("lab \"twin\" is in 2 running sandboxes (twin, twin-2)"),
        "{r}"
    );
    // Named: each is its own sandbox (its own network namespace for atred).
    let inode = |name: &str| {
        dir.exec_in(name, "atred", &["readlink", "/proc/self/ns/net"])
            .success()
            .stdout
    };
    assert_ne!(inode("twin"), inode("twin-2"));
    // An unknown name lists the live ones.
    let r = dir
        .netscript(&["graph", "--sandbox-of", "twin-3"])
        .fails_with(1);
    assert!(
        r.stderr.contains(
            "netscript graph: --sandbox-of: there is no running sandbox named \"twin-3\" (running: twin, twin-2; see netscript ls)"
        ),
        "{r}"
    );
    drop(second);
    assert_eq!(sandboxes(&dir), vec![("twin".into(), "twin".into())]);
    drop(first);
    assert!(!dir.registry().exists());
}

#[test]
fn a_killed_sandbox_leaves_a_stale_entry_that_ls_drops() {
    let dir = Dir::new("attach-kill");
    let mut live = Live::start(&dir, "doomed", false);
    let pid = live.pid();
    live.kill();
    // SIGKILL: nothing removed the entry...
    assert!(dir.registry().join("doomed").is_file());
    // ...but nothing holds it: ls does not list it, and removes it (and the directory).
    assert!(sandboxes(&dir).is_empty());
    assert!(!dir.registry().exists(), "ls removed the stale entry");
    // Its name is free again, and a new sandbox of it is reachable.
    let live = Live::start(&dir, "doomed", false);
    assert_ne!(live.pid(), pid);
    dir.assert_only_reachable("doomed");
}

#[test]
fn capture_in_a_running_sandbox_sees_its_ping() {
    let dir = Dir::new("attach-capture");
    let _live = Live::start(&dir, "pinger", true);
    // The script pings blue from red all along: 6 packets hold echo requests and replies
    // (whatever else, like IPv6 router solicitations, comes along).
    let r = dir
        .netscript(&[
            "capture",
            "--sandbox-of",
            "pinger",
            "atred",
            "veth-atred",
            "-c",
            "6",
        ])
        .success();
    assert!(
        r.stdout.contains("ICMP 10.0.0.1 > 10.0.0.2 echo request"),
        "{r}"
    );
    assert!(
        r.stdout.contains("ICMP 10.0.0.2 > 10.0.0.1 echo reply"),
        "{r}"
    );
    // Found by the namespace's name too.
    let r = dir
        .netscript(&["capture", "atred", "veth-atred", "-c", "2", "-w", "-"])
        .success();
    assert!(r.stdout.len() > 24, "pcap on stdout\n{r}");
}

#[test]
fn a_run_and_down_inside_a_running_sandbox() {
    let dir = Dir::new("attach-down");
    let _live = Live::start(&dir, "host-of-extra", false);
    let extra = format!("extra-{}", std::process::id());
    // A second lab built inside the sandbox by a run from outside.
    dir.netscript(&[
        "--sandbox-of",
        "host-of-extra",
        "--lab",
        &extra,
        "-e",
        r#"netns("atgreen"); netns_list()"#,
    ])
    .success();
    let inside = dir
        .netscript(&["ls", "--json", "--sandbox-of", "host-of-extra"])
        .success();
    let labs: Vec<String> = json(&inside.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lab"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        labs,
        [extra.clone(), "host-of-extra".to_string()],
        "{inside}"
    );
    // export and down by the lab's name alone (the host has no such lab): inside the
    // sandbox.
    let r = dir.netscript(&["export", &extra]).success();
    assert!(r.stdout.contains(r#"netns("atgreen")"#), "{r}");
    let r = dir.netscript(&["down", &extra]).success();
    assert!(r.stdout.contains(&format!("lab {extra:?} is down")), "{r}");
    let r = dir
        .exec_in("host-of-extra", "host", &["ip", "netns", "list"])
        .success();
    assert!(
        !r.stdout.contains("atgreen") && r.stdout.contains("atred"),
        "{r}"
    );
    // down --sandbox-of of the script's own lab: the running script holds it.
    let r = dir
        .netscript(&["down", "--sandbox-of", "host-of-extra", "host-of-extra"])
        .fails_with(1);
    assert!(
        r.stderr.contains("is in use by another netscript run"),
        "{r}"
    );
}

#[test]
fn attach_opens_a_repl_inside_the_sandbox() {
    let dir = Dir::new("attach-repl");
    let _live = Live::start(&dir, "attached", false);
    let state = StateDir::new();
    let env = format!(
        "NETSCRIPT_SANDBOX_DIR={}",
        q(&dir.registry().display().to_string())
    );
    let repl = Repl::start_with(&state.path, &env, &["attach", "attached"]);
    let pane = repl.capture();
    assert!(
        pane.contains(
            "attached to sandbox \"attached\"; its lab \"attached\" is held by its own run, so this REPL builds lab \"attached-attach\""
        ),
        "{pane}"
    );
    assert_eq!(repl.eval("netns_list()"), r#"["atblue", "atred"]"#);
    assert_eq!(repl.eval(r#"netns_open("atred").ping("10.0.0.2")"#), "true");
    repl.eval(r#"netns("atgreen")"#);
    repl.key("C-d");
    assert_eq!(repl.wait_exit(), 0);
    // What it built stays, as its own lab inside the sandbox, until `down`.
    let inside = dir
        .netscript(&["ls", "--json", "--sandbox-of", "attached"])
        .success();
    assert!(inside.stdout.contains("\"attached-attach\""), "{inside}");
    dir.netscript(&["down", "attached-attach"]).success();
    let r = dir
        .exec_in("attached", "host", &["ip", "netns", "list"])
        .success();
    assert!(!r.stdout.contains("atgreen"), "{r}");
}

#[test]
fn bad_names_are_clear_errors() {
    let dir = Dir::new("attach-bad");
    let r = dir.netscript(&["attach", "nothing"]).fails_with(1);
    assert!(
        r.stderr.contains(
            "netscript attach: there is no running sandbox named \"nothing\" (running: none; see netscript ls)"
        ),
        "{r}"
    );
    let r = dir
        .netscript(&["--sandbox", "--sandbox-of", "x", "ls"])
        .fails_with(2);
    assert!(r.stderr.contains("cannot be used with"), "{r}");
    let r = dir.netscript(&["attach", "--sandbox", "x"]).fails_with(2);
    assert!(
        r.stderr
            .contains("netscript attach: takes the sandbox's NAME alone"),
        "{r}"
    );
    assert!(!r.stderr.contains("panicked"));
}

/// Whether user `nobody` may create a user namespace here.
fn unprivileged_userns() -> bool {
    Command::new("setpriv")
        .args(["--reuid", "nobody", "--regid", "nogroup", "--clear-groups"])
        .args(["unshare", "--user", "--map-root-user", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_user_reaches_their_own_rootless_sandbox() {
    if !unprivileged_userns() {
        eprintln!("skipped: this kernel does not let an unprivileged user make a user namespace");
        return;
    }
    let dir = Dir::new("attach-rootless");
    let _live = Live::start_as(Some("nobody"), &dir, "mine", false);
    let reg = dir.registry();
    let nobody = |args: &[&str]| run_as(Some("nobody"), &reg, args);
    let ls = nobody(&["ls", "--json"]).success();
    let entry = json(&ls.stdout)[0].clone();
    assert_eq!(entry["sandbox"], "mine", "{ls}");
    assert_eq!(entry["rootless"], true, "{ls}");
    // Through its user namespace: root inside it, its namespaces and links.
    let r = nobody(&[
        "exec",
        "--sandbox-of",
        "mine",
        "atred",
        "--",
        "sh",
        "-c",
        "id -u; ip -j link",
    ])
    .success();
    let (uid, links) = r.stdout.split_once('\n').unwrap();
    assert_eq!(uid, "0", "{r}");
    assert_eq!(link_names(&json(links)), ["lo", "veth-atred"], "{r}");
    nobody(&["graph", "mine"]).success();
    // attach, as that user: a REPL inside.
    let state = StateDir::new();
    Command::new("chmod")
        .arg("0777")
        .arg(&state.path)
        .status()
        .unwrap();
    let prefix = format!(
        "NETSCRIPT_SANDBOX_DIR={} setpriv --reuid nobody --regid nogroup --clear-groups",
        q(&reg.display().to_string())
    );
    let repl = Repl::start_with(&state.path, &prefix, &["attach", "mine"]);
    assert_eq!(repl.eval("netns_list()"), r#"["atblue", "atred"]"#);
    repl.key("C-d");
    assert_eq!(repl.wait_exit(), 0);
    // Without --sandbox-of or a name the sandbox holds, the host still needs privileges.
    let r = nobody(&["graph"]).fails_with(1);
    assert!(r.stderr.contains("needs root"), "{r}");
}

#[test]
fn a_sandboxed_repl_is_registered_as_repl_and_attached_to() {
    let dir = Dir::new("attach-to-repl");
    let env = format!(
        "NETSCRIPT_SANDBOX_DIR={}",
        q(&dir.registry().display().to_string())
    );
    let (s1, s2) = (StateDir::new(), StateDir::new());
    let first = Repl::start_with(&s1.path, &env, &["--sandbox"]);
    first.eval(r#"netns("fromrepl")"#);
    assert_eq!(sandboxes(&dir), vec![("repl".into(), "repl".into())]);
    // The REPL holds its lab "repl": the attached one builds "repl-attach".
    let second = Repl::start_with(&s2.path, &env, &["attach", "repl"]);
    assert!(
        second
            .capture()
            .contains("so this REPL builds lab \"repl-attach\""),
        "{}",
        second.capture()
    );
    assert_eq!(second.eval("netns_list()"), r#"["fromrepl"]"#);
    second.eval(r#"netns("fromattach")"#);
    // Each sees what the other built: one network.
    assert_eq!(first.eval("netns_list()"), r#"["fromattach", "fromrepl"]"#);
    second.key("C-d");
    assert_eq!(second.wait_exit(), 0);
    first.key("C-d");
    assert_eq!(first.wait_exit(), 0);
    assert!(sandboxes(&dir).is_empty());
    assert!(!dir.registry().exists());
}

#[test]
fn a_sandbox_is_named_after_its_lab() {
    let dir = Dir::new("attach-named");
    let _live = Live::start_full(None, &dir, "stem-name", false, Some("given"));
    dir.assert_only_reachable("given");
}

#[test]
fn a_shell_in_a_running_sandbox_keeps_the_terminal() {
    let dir = Dir::new("attach-shell");
    let _live = Live::start(&dir, "shelled", false);
    let r = Repl::spawn(&format!(
        "NETSCRIPT_SANDBOX_DIR={} SHELL=/bin/sh {} shell --sandbox-of shelled atred",
        q(&dir.registry().display().to_string()),
        q(BIN),
    ));
    r.wait_for("the shell's prompt", |p| p.contains("[atred] "));
    // Ctrl-C reaches the command in the foreground inside, not netscript outside.
    r.type_text("sleep 60");
    r.key("Enter");
    r.wait_for("sleep to start", |p| p.contains("sleep 60"));
    r.key("C-c");
    r.wait_for("a second prompt after Ctrl-C", |p| {
        p.lines().filter(|l| l.starts_with("[atred] ")).count() >= 2
    });
    r.type_text("ip -br link; exit 3");
    r.key("Enter");
    // The shell's own status: it found its terminal's process group inside the sandbox,
    // and gave the terminal back to it.
    assert_eq!(r.wait_exit(), 3, "{}", r.capture());
    let pane = r.capture();
    assert!(pane.contains("veth-atred"), "{pane}");
    assert!(!pane.contains("process group"), "{pane}");
}

#[test]
fn a_shell_in_a_fresh_sandbox_keeps_the_terminal() {
    // The same for the sandbox's own PID 1: ns.shell() from a --sandbox run.
    let r = Repl::spawn(&format!(
        "SHELL=/bin/sh {} --sandbox -e {}",
        q(BIN),
        q(r#"netns("red").shell()"#)
    ));
    r.wait_for("the shell's prompt", |p| p.contains("[red] "));
    r.type_text("exit 3");
    r.key("Enter");
    assert_eq!(r.wait_exit(), 0, "{}", r.capture());
    let pane = r.capture();
    assert!(
        pane.lines().any(|l| l == "3"),
        "shell() returns the shell's status\n{pane}"
    );
    assert!(!pane.contains("process group"), "{pane}");
}
