//! Keeping what was built: `save()` in the REPL and `netscript export LAB`. Each saved
//! or exported script is run in a fresh sandbox and must build the same state (links,
//! addresses, routes, forwarding, netscript's nftables NAT rules) as the original.
//!
//! The REPL is driven through tmux (tests/common/tmux.rs), as in tests/repl.rs.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::tmux::*;
use common::{normalized_state, q, script_path, sh, Run};
use serde_json::Value;

/// netscript's NAT rules, without the per-run ids in their comments.
const NFT_DUMP: &str = r#"echo @@nft; nft list ruleset | grep -E 'masquerade|dnat' | sed 's/ comment ".*"//; s/^[[:space:]]*//' | sort"#;

type State = (BTreeMap<String, Value>, String);

/// The normalized state and NAT rules of a sandbox run that ended with `dump_state` and
/// NFT_DUMP.
fn state_of(run: &Run) -> State {
    (
        normalized_state(run),
        run.sections().text("nft").to_string(),
    )
}

fn assert_same(a: &State, b: &State, what: &str) {
    assert!(!a.0.is_empty(), "no state dumped");
    for k in a.0.keys().chain(b.0.keys()) {
        assert_eq!(a.0.get(k), b.0.get(k), "{what}: {k} differs");
    }
    assert_eq!(a.1, b.1, "{what}: nft rules differ");
}

// ---------------------------------------------------------------- export

/// build-lab 2, exported, torn down, and the export run: the same lab again.
#[test]
fn export_of_build_lab_rebuilds_it() {
    let lab = q(&script_path("build-lab"));
    let original = sh(&format!(
        "netscript {lab} 2 >/dev/null\ndump_state\n{NFT_DUMP}"
    ))
    .success();
    let rebuilt = sh(&format!(
        r#"netscript {lab} 2 >/dev/null
netscript export build-lab > $T/x.rhai
netscript down build-lab >/dev/null
echo @@left; ip netns list; ip -br link show type bridge
echo @@script; cat $T/x.rhai
netscript --lab rebuilt $T/x.rhai
dump_state
{NFT_DUMP}"#
    ))
    .success();
    let s = rebuilt.sections();
    assert_eq!(
        s.text("left"),
        "",
        "down removed the lab before the rebuild\n{rebuilt}"
    );
    let script = s.text("script");
    for call in [
        r#"bridge("br0");"#,
        r#"let c1 = netns("c1");"#,
        r#"veth("veth-c1", "veth-c1-br", #{ a_ns: c1 });"#,
        r#"c1.addr("veth-c1", "10.100.0.2/24");"#,
        r#"c2.route("default", #{ via: "10.100.0.1" });"#,
        r#"host().link("veth-c2-br").master("br0");"#,
        r#"host().forward(true);"#,
        r#"host().masquerade("10.100.0.0/24", #{ not_out: "br0" });"#,
    ] {
        assert!(script.contains(call), "the export has {call}\n{script}");
    }
    assert_same(
        &state_of(&original),
        &state_of(&rebuilt),
        "build-lab vs its export",
    );
}

/// What a lab deleted after making it is not exported; a lab that is not up is a
/// clear error.
#[test]
fn export_leaves_out_what_was_deleted() {
    let run = sh(r#"cat > $T/a.rhai <<'END'
let red = netns("red");
let gone = netns("gone");
veth("a", "b", #{ a_ns: red });
red.addr("a", "10.1.0.1/24");
veth("tmp1", "tmp2");
host().addr("tmp1", "10.2.0.1/24");
link("tmp1").delete();
netns_delete("gone");
END
netscript --lab keep $T/a.rhai
echo @@script; netscript export keep
echo @@missing; netscript export nosuchlab 2>&1 || echo "exit $?"
"#)
    .success();
    let s = run.sections();
    let script = s.text("script");
    assert!(script.contains(r#"let red = netns("red");"#), "{script}");
    assert!(
        script.contains(r#"veth("a", "b", #{ a_ns: red });"#),
        "{script}"
    );
    assert!(
        script.contains(r#"red.addr("a", "10.1.0.1/24");"#),
        "{script}"
    );
    for gone in ["\"gone\"", "tmp1", "10.2.0.1", "delete"] {
        assert!(!script.contains(gone), "{gone} is left out\n{script}");
    }
    let missing = s.text("missing");
    assert!(
        missing.contains("netscript export: lab \"nosuchlab\" is not up")
            && missing.ends_with("exit 1"),
        "{missing}"
    );
}

// ---------------------------------------------------------------- save

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "netscript-keep-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The lab the REPL session below builds, as one would write it by hand.
const REFERENCE: &str = r#"import "lab" as lab;
fn pair(a, b) { veth(`v-${a.name}`, `v-${b.name}`, #{ a_ns: a, b_ns: b }) }
let red = netns("red");
let blue = netns("blue");
let v = pair(red, blue);
red.addr("v-red", "10.9.0.1/24");
blue.addr("v-blue", "10.9.0.2/24");
red.up("v-red");
blue.up("v-blue");
lab::p2p(red, "10.8.0.1/24", blue, "10.8.0.2/24");
red.forward(true);
"#;

#[test]
fn repl_save_writes_a_script_that_rebuilds_the_session() {
    let dir = scratch();
    let file = dir.join("lab.rhai");
    let f = file.display().to_string();
    let (_s, r) = repl();
    r.eval(r#"import "lab" as lab"#);
    r.eval(r#"fn pair(a, b) { veth(`v-${a.name}`, `v-${b.name}`, #{ a_ns: a, b_ns: b }) }"#);
    r.eval(r#"let red = netns("red")"#);
    r.eval("show()");
    r.eval(r#"let blue = netns("blue")"#);
    // A failed input is left out.
    let out = r.eval(r#"veth("x1", "x2", #{ a_ns: "nowhere" })"#);
    assert!(out.contains("error"), "{out}");
    r.eval("let v = pair(red, blue)");
    r.eval(r#"red.addr("v-red", "10.9.0.1/24")"#);
    r.eval(r#"blue.addr("v-blue", "10.9.0.2/24")"#);
    r.eval(r#"red.up("v-red")"#);
    r.eval(r#"blue.up("v-blue")"#);
    // Inspection is left out.
    assert_eq!(r.eval(r#"red.ping("10.9.0.2")"#), "true");
    r.eval(r#"lab::p2p(red, "10.8.0.1/24", blue, "10.8.0.2/24")"#);
    r.eval("links()");
    r.eval("red.forward(true)");
    let out = r.eval(&format!("save({f:?})"));
    assert_eq!(out, format!("saved 11 statement(s) to {f}"));
    // No overwriting by accident; the message says how.
    let out = r.eval(&format!("save({f:?})"));
    assert!(
        out.contains("already exists") && out.contains("force: true"),
        "{out}"
    );
    let out = r.eval(&format!("save({f:?}, #{{ force: true }})"));
    assert_eq!(out, format!("saved 11 statement(s) to {f}"));
    r.key("C-d");
    assert_eq!(r.wait_exit(), 0);

    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.starts_with("// Saved from a netscript REPL session"),
        "{saved}"
    );
    let body: String = saved
        .lines()
        .filter(|l| !l.starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(body, REFERENCE, "the saved statements, in order");

    let reference = dir.join("reference.rhai");
    std::fs::write(&reference, REFERENCE).unwrap();
    let run = |path: &Path| {
        sh(&format!(
            "netscript {} >/dev/null\ndump_state\n{NFT_DUMP}",
            q(&path.display().to_string())
        ))
        .success()
    };
    assert_same(
        &state_of(&run(&reference)),
        &state_of(&run(&file)),
        "the REPL session vs its saved script",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// In a script there is no session to save: a clear error that points to export.
#[test]
fn save_outside_the_repl_is_a_clear_error() {
    let run = common::eval(r#"save("x.rhai")"#).fails_with(1);
    assert!(
        run.stderr.contains("only works in the REPL") && run.stderr.contains("netscript export"),
        "{}",
        run.stderr
    );
    assert!(!Path::new("x.rhai").exists());
}
