//! Typed link kinds (issue 14): macvlan and tun/tap, made for real inside private
//! namespaces and checked from outside with iproute2 and real packets; undone by `down`
//! and by rollback (and a stranger's device of the same name left alone); bad input
//! reported at the call; `plan`, `-x`, `import` and `export` render them.
//!
//! Safety: everything runs inside `common::sandbox_sh` (private net + mount + pid
//! namespaces) or with `--sandbox`.

mod common;

use common::*;
use serde_json::Value;

/// `ip -d -j [-n NS] link show DEV` as JSON (the one link).
fn link_json(s: &Sections, key: &str) -> Value {
    let v = s.json(key);
    v.as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or_else(|| panic!("no link in section {key}: {v}"))
}

/// Two macvlans on one parent in the host (the containers on the host's LAN), made
/// directly in red and blue, bridge mode: they reach each other through the parent,
/// checked with pings and a TCP connection.
#[test]
fn two_macvlans_on_one_parent_ping_each_other() {
    let run = sh_ok(
        r#"cat > $T/mv.rhai <<'EOF'
let red = netns("red");
let blue = netns("blue");
bridge("lan0");
red.macvlan("mv-red", #{ parent: "lan0", mode: "bridge" });
blue.macvlan("mv-blue", #{ parent: link("lan0") });
red.addr("mv-red", "10.9.0.1/24");
red.up("mv-red");
blue.addr("mv-blue", "10.9.0.2/24");
blue.up("mv-blue");
assert(red.ping("10.9.0.2"), "red reaches blue");
assert(blue.ping("10.9.0.1"), "blue reaches red");
print(red.link("mv-red").kind);
show();
EOF
netscript -x $T/mv.rhai > $T/out 2> $T/trace
echo @@out; cat $T/out
echo @@trace; cat $T/trace
echo @@red; ip -d -j -n red link show mv-red
echo @@blue; ip -d -j -n blue link show mv-blue
serve red 10.9.0.1 8080
echo @@http; wait_http blue http://10.9.0.1:8080/
netscript down mv > /dev/null
echo @@after; ip netns list"#,
    );
    let s = run.sections();
    for key in ["red", "blue"] {
        let l = link_json(&s, key);
        assert_eq!(l["linkinfo"]["info_kind"], "macvlan", "{run}");
        assert_eq!(l["linkinfo"]["info_data"]["mode"], "bridge", "{run}");
    }
    // Real traffic from outside netscript: blue's TCP connection reaches red's server.
    assert_eq!(s.get("http").trim(), "HTTP 200 10.9.0.2", "{run}");
    let out = s.get("out");
    assert!(out.starts_with("macvlan\n"), "{run}");
    // The graph hangs each macvlan off its parent in the other namespace.
    for (name, addr) in [("mv-red", "10.9.0.1"), ("mv-blue", "10.9.0.2")] {
        let want = format!("{name} (macvlan) mode bridge {addr}/24 ── on lan0 in host");
        assert!(out.contains(&want), "missing {want:?}\n{run}");
    }
    let trace = s.get("trace");
    for want in [
        "+ ip link add name mv-red link lan0 netns red type macvlan mode bridge",
        "+ ip link add name mv-blue link lan0 netns blue type macvlan mode bridge",
    ] {
        assert!(trace.contains(want), "missing {want:?}\n{run}");
    }
    assert_eq!(s.get("after").trim(), "", "{run}");
}

/// A tap and a tun in the sandbox's own namespace (which `down` does not delete, so
/// the links themselves must be removed): the tap has the right type, owner, group and is
/// persistent; `down` removes both.
#[test]
fn tap_and_tun_have_their_flags_and_owner_and_down_removes_them() {
    let run = sh_ok(
        r#"cat > $T/tt.rhai <<'EOF'
tun("tap0", #{ tap: true, owner: "nobody", group: "root" });
let t = tun("tun0", #{ owner: 4321, group: 4242 });
print(link("tap0").kind + " " + t.kind);
EOF
netscript $T/tt.rhai > $T/out
echo @@out; cat $T/out
echo @@tap; ip -d -j link show tap0
echo @@tun; ip -d -j link show tun0
echo @@owners; cat /sys/class/net/tap0/owner /sys/class/net/tun0/owner
echo @@groups; cat /sys/class/net/tap0/group /sys/class/net/tun0/group
echo @@ls; netscript ls --json
netscript down tt > /dev/null
echo @@after; ip -j link"#,
    );
    let s = run.sections();
    assert_eq!(s.get("out").trim(), "tap tun", "{run}");
    let tap = link_json(&s, "tap");
    assert_eq!(tap["linkinfo"]["info_kind"], "tun", "{run}");
    assert_eq!(tap["linkinfo"]["info_data"]["type"], "tap", "{run}");
    assert_eq!(tap["linkinfo"]["info_data"]["persist"], true, "{run}");
    assert_eq!(tap["linkinfo"]["info_data"]["pi"], false, "{run}");
    let tun = link_json(&s, "tun");
    assert_eq!(tun["linkinfo"]["info_data"]["type"], "tun", "{run}");
    // (Sorted by `lines`: tap0's owner is nobody, tun0's 4321.)
    let mut owners = vec![nix_uid("nobody").to_string(), "4321".to_string()];
    owners.sort();
    assert_eq!(s.lines("owners"), owners, "{run}");
    // tap0's group is root (0), tun0's 4242.
    assert_eq!(s.lines("groups"), ["0", "4242"], "{run}");
    // `ls` counts both links of the lab.
    let ls = s.json("ls");
    let lab = ls
        .as_array()
        .and_then(|a| a.iter().find(|l| l["lab"] == "tt"))
        .unwrap_or_else(|| panic!("lab tt not listed\n{run}"));
    assert_eq!(lab["links"], 2, "{run}");
    let after = link_names(&s.json("after"));
    assert!(
        !after.iter().any(|n| n == "tap0" || n == "tun0"),
        "{after:?}\n{run}"
    );
}

/// The uid of a user, from the user database the sandbox sees.
fn nix_uid(name: &str) -> u32 {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("reading /etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name))
                .then(|| f[2].parse().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no user {name} in /etc/passwd"))
}

/// A run that fails after making a macvlan and a tap rolls them back.
#[test]
fn rollback_removes_macvlan_and_tap() {
    let run = sh(r#"cat > $T/rb.rhai <<'EOF'
bridge("brx");
macvlan("mvx", #{ parent: "brx", mode: "private" });
tun("tapx", #{ tap: true });
throw "stop here";
EOF
rc=0; netscript $T/rb.rhai > $T/out 2> $T/err || rc=$?
echo @@rc; echo $rc
echo @@err; cat $T/err
echo @@after; ip -j link"#);
    let s = run.sections();
    assert_eq!(s.get("rc").trim(), "1", "{run}");
    let after = link_names(&s.json("after"));
    for gone in ["brx", "mvx", "tapx"] {
        assert!(!after.iter().any(|n| n == gone), "{gone} left\n{run}");
    }
}

/// `down` removes only the links this lab made: a tap and a macvlan that took the same
/// names since (a stranger's) are left alone, and said to be.
#[test]
fn down_leaves_a_strangers_same_named_devices_alone() {
    let run = sh_ok(
        r#"cat > $T/st.rhai <<'EOF'
bridge("brs");
macvlan("mvs", #{ parent: "brs" });
tun("taps", #{ tap: true });
EOF
netscript $T/st.rhai
ip link del taps; ip link del mvs
ip tuntap add dev taps mode tap
ip link add sbr type bridge
ip link add mvs link sbr type macvlan mode bridge
echo @@before; ip -j link show taps; 
rc=0; netscript down st > $T/out 2>&1 || rc=$?
echo @@down; cat $T/out
echo @@after; ip -j link"#,
    );
    let s = run.sections();
    let after = link_names(&s.json("after"));
    for kept in ["taps", "mvs", "sbr"] {
        assert!(after.iter().any(|n| n == kept), "{kept} removed\n{run}");
    }
    assert!(!after.iter().any(|n| n == "brs"), "brs left\n{run}");
    let down = s.get("down");
    assert!(
        down.contains("taps") && down.contains("mvs") && down.contains("left alone"),
        "{run}"
    );
}

/// Bad input: a clear error naming the call, at the call's line and column.
#[test]
fn bad_input_is_reported_at_the_call() {
    let cases: [(&str, (usize, usize), &[&str]); 6] = [
        (
            "bridge(\"br0\");\nmacvlan(\"mv0\", #{ parent: \"br0\", mode: \"bridged\" });",
            (2, 1),
            &["macvlan(", "mode \"bridged\"", "bridge, private, vepa, passthru"],
        ),
        (
            "let n = netns(\"lan\");\n  n.macvlan(\"mv0\", #{ parent: \"eth9\", parent_ns: n });",
            (2, 5),
            &["macvlan(", "eth9", "namespace \"lan\"", "does not exist"],
        ),
        (
            "macvlan(\"mv0\", #{ mode: \"bridge\" });",
            (1, 1),
            &["macvlan(", "parent", "required"],
        ),
        (
            "tun(\"tap0\", #{ tap: true, owner: \"no-such-user-here\" });",
            (1, 1),
            &["tun(", "no user named \"no-such-user-here\""],
        ),
        (
            "bridge(\"br0\");\ntun(\"br0\");",
            (2, 1),
            &["tun(", "br0", "exists"],
        ),
        (
            "bridge(\"br0\");\nmacvlan(\"mv0\", #{ parent: \"br0\" });\nmacvlan(\"mv0\", #{ parent: \"br0\" });",
            (3, 1),
            &["macvlan(", "mv0", "exists"],
        ),
    ];
    for (code, (line, col), parts) in cases {
        let run = eval(code).fails_with(1);
        let r = error_report(&run);
        assert_eq!((r.line, r.col), (line, col), "{code}\n{run}");
        for p in parts {
            assert!(
                r.message.contains(p),
                "missing {p:?} in {:?}\n{run}",
                r.message
            );
        }
    }
}

/// Without /dev/net/tun the error names it.
#[test]
fn a_missing_dev_net_tun_is_named() {
    let run = sh(r#"mount -t tmpfs tmpfs /dev/net
rc=0; netscript -e 'tun("tap0", #{ tap: true });' > $T/out 2> $T/err || rc=$?
echo @@rc; echo $rc
echo @@err; cat $T/err"#);
    let s = run.sections();
    assert_eq!(s.get("rc").trim(), "1", "{run}");
    assert!(s.get("err").contains("/dev/net/tun"), "{run}");
}

/// `plan` writes the commands, and they are runnable: the plan's script, run in a
/// sandbox, makes the same macvlan and tap.
#[test]
fn plan_renders_them_as_runnable_commands() {
    let run = sh_ok(
        r#"cat > $T/p.rhai <<'EOF'
let lan = netns("lan");
let red = netns("red");
lan.bridge("br0");
bridge("up0");
lan.macvlan("mv0", #{ parent: "br0", parent_ns: lan, mode: "vepa" });
red.macvlan("mv1", #{ parent: "br0", parent_ns: "lan", mode: "private" });
red.macvlan("mv2", #{ parent: "up0" });
macvlan("mv3", #{ parent: lan.link("br0") });
lan.tun("tap0", #{ tap: true, owner: 0 });
lan.tun("tun0");
EOF
netscript plan $T/p.rhai > $T/plan.sh
echo @@plan; cat $T/plan.sh
echo @@netns; ip netns list
sh -e $T/plan.sh
echo @@mv; ip -d -j -n lan link show mv0
echo @@mv1; ip -d -j -n red link show mv1
echo @@mv2; ip -d -j -n red link show mv2
echo @@mv3; ip -d -j link show mv3
echo @@tap; ip -d -j -n lan link show tap0"#,
    );
    let s = run.sections();
    let plan = s.get("plan");
    for want in [
        "ip -n lan link add name mv0 link br0 type macvlan mode vepa",
        "ip -n lan link add name mv1 link br0 netns red type macvlan mode private",
        "ip link add name mv2 link up0 netns red type macvlan mode bridge",
        "ip -n lan link add name mv3 link br0 netns $$ type macvlan mode bridge",
        "ip -n lan tuntap add dev tap0 mode tap user 0",
        "ip -n lan tuntap add dev tun0 mode tun",
    ] {
        assert!(plan.lines().any(|l| l == want), "missing {want:?}\n{run}");
    }
    assert_eq!(s.get("netns").trim(), "", "plan touched nothing\n{run}");
    assert_eq!(
        link_json(&s, "mv")["linkinfo"]["info_data"]["mode"],
        "vepa",
        "{run}"
    );
    // The plan's shell made each where the script did.
    for (key, mode) in [("mv1", "private"), ("mv2", "bridge"), ("mv3", "bridge")] {
        let l = link_json(&s, key);
        assert_eq!(l["linkinfo"]["info_kind"], "macvlan", "{key}\n{run}");
        assert_eq!(l["linkinfo"]["info_data"]["mode"], mode, "{key}\n{run}");
    }
    assert_eq!(
        link_json(&s, "tap")["linkinfo"]["info_data"]["type"],
        "tap",
        "{run}"
    );
}

/// `import` turns the iproute2 lines into the calls, and `export` writes the calls back
/// from a lab's journal.
#[test]
fn import_and_export_write_the_calls() {
    let run = sh_ok(
        r#"cat > $T/lab.sh <<'EOF'
#!/bin/sh
ip netns add lan
ip -n lan link add br0 type bridge
ip -n lan link add mv0 link br0 type macvlan mode passthru
ip -n lan tuntap add dev tap0 mode tap user 0
EOF
netscript import $T/lab.sh > $T/lab.rhai
echo @@import; cat $T/lab.rhai
netscript $T/lab.rhai
echo @@export; netscript export lab
echo @@mv; ip -d -j -n lan link show mv0
netscript down lab >/dev/null"#,
    );
    let s = run.sections();
    let import = s.get("import");
    for want in [
        "lan.macvlan(\"mv0\", #{ parent: \"br0\", parent_ns: \"lan\", mode: \"passthru\" });",
        "lan.tun(\"tap0\", #{ tap: true, owner: 0 });",
    ] {
        assert!(import.contains(want), "missing {want:?}\n{run}");
    }
    let export = s.get("export");
    for want in [
        ".macvlan(\"mv0\", #{ parent: \"br0\", parent_ns: \"lan\", mode: \"passthru\" });",
        ".tun(\"tap0\", #{ tap: true, owner: 0 });",
    ] {
        assert!(export.contains(want), "missing {want:?}\n{run}");
    }
    assert_eq!(
        link_json(&s, "mv")["linkinfo"]["info_data"]["mode"],
        "passthru",
        "{run}"
    );
}
