//! netscript's state on disk is read whole or refused by name: the sysctl-claims file
//! (written atomically) and the journals (append-only, a checksum per line). A damaged
//! or foreign file is an error naming it, never read as empty; only a torn last journal
//! line, left by a run killed mid-write, is passed over, and said so. Every test runs in
//! `sandbox_sh` (private network, mount and PID namespaces, a private /run/netscript).

mod common;

use common::{q, sandbox_sh, BIN};

/// `script` in [`sandbox_sh`], which must exit 0; its stdout and stderr. The script may
/// use `status WHAT CMD...` (runs CMD, prints `WHAT: ITS EXIT STATUS`) and `left` (prints
/// `left: N`, the number of namespaces); `netscript` is on its PATH.
fn sh(script: &str) -> (String, String) {
    let out = sandbox_sh(&format!(
        "status() {{ what=$1; shift; \"$@\" && echo \"$what: 0\" || echo \"$what: $?\"; }}\n\
         left() {{ echo \"left: $(ip netns list | wc -l)\"; }}\n{script}"
    ));
    let (code, out, err) = (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    (out, err)
}

const CLAIMS: &str = "/run/netscript/.state/sysctl-claims.json";

#[test]
fn a_corrupt_claims_file_refuses_a_sysctl_change_and_names_the_file() {
    // Before: the damaged file was reported and the change made anyway, unclaimed, so
    // another lab's later `down` could turn the sysctl back under this lab.
    let (out, err) = sh(&format!(
        "mkdir -p /run/netscript/.state; printf 'garbage' > {CLAIMS}\n\
         status run netscript --lab one -e 'forward(true)'\n\
         echo \"forward: $(cat /proc/sys/net/ipv4/ip_forward)\"\n\
         cat {CLAIMS}; echo"
    ));
    assert!(out.contains("run: 1"), "{out}\n{err}");
    assert!(
        err.contains(&format!("{CLAIMS} is unreadable")),
        "names the file: {err}"
    );
    assert!(out.contains("forward: 0"), "nothing was changed: {out}");
    assert!(
        out.contains("garbage"),
        "the file is left for a person: {out}"
    );
}

#[test]
fn a_foreign_claims_file_is_refused_without_hanging() {
    // A FIFO under the claims file's name: reading it would block for ever.
    let (out, err) = sh(&format!(
        "mkdir -p /run/netscript/.state; mkfifo {CLAIMS}\n\
         status run timeout -k 5 20 netscript --lab one -e 'forward(true)'"
    ));
    assert!(out.contains("run: 1"), "{out}\n{err}");
    assert!(
        err.contains(&format!("{CLAIMS}: not a regular file")),
        "names the file: {err}"
    );
}

#[test]
fn a_torn_last_journal_line_is_passed_over_by_down_and_reported() {
    // A run killed while writing its last line: that op was never applied.
    let (out, err) = sh(r#"netscript --lab torn -e 'netns("n1"); netns("n2"); ()'
printf '{"op":{"op":"netns_add","na' >> /run/netscript/torn.journal
status down netscript down torn
left"#);
    assert!(out.contains("down: 0"), "{out}\n{err}");
    assert!(out.contains("left: 0"), "{out}\n{err}");
    // Lines: n1, its identity, n2, its identity, the torn one.
    let reports: Vec<&str> = err.lines().filter(|l| l.contains("cut short")).collect();
    assert_eq!(reports.len(), 1, "reported once: {err}");
    assert!(
        reports[0].contains("/run/netscript/torn.journal: line 5"),
        "names file and line: {err}"
    );
}

#[test]
fn a_torn_tail_is_cut_before_the_next_run_appends() {
    // Before: the next run's first line was glued to the torn one, which then sat in the
    // middle of the file and stopped `down`.
    let (out, err) = sh(r#"netscript --lab torn -e 'netns("n1"); ()'
printf '{"op":{"op":"netns_add","na' >> /run/netscript/torn.journal
status run netscript --lab torn -e 'netns("n2"); ()'
status down netscript down torn
left"#);
    assert!(out.contains("run: 0"), "{out}\n{err}");
    assert!(
        err.contains("torn.journal: its last line was cut short"),
        "{err}"
    );
    assert!(out.contains("down: 0"), "{out}\n{err}");
    assert!(out.contains("left: 0"), "both runs undone: {out}\n{err}");
}

#[test]
fn a_flipped_byte_mid_journal_is_an_error_naming_file_and_line() {
    // n1 → m1 in the first line is still valid JSON naming a valid namespace: before
    // checksums, `down` deleted "m1" (gone), reported success and left n1 up.
    let (out, err) = sh(r#"netscript --lab flip -e 'netns("n1"); netns("n2"); ()'
sed -i '1s/"n1"/"m1"/' /run/netscript/flip.journal
status down netscript down flip
ip netns list | sort | tr '\n' ' '; echo"#);
    assert!(out.contains("down: 1"), "{out}\n{err}");
    assert!(
        err.contains("/run/netscript/flip.journal: line 1: its checksum does not match"),
        "names file and line: {err}"
    );
    assert!(out.contains("n1 n2 "), "nothing was undone: {out}");
}

#[test]
fn journal_lines_without_checksums_are_still_read() {
    // A journal written before checksums: the same lines, no ` #xxxxxxxx`.
    let (out, err) = sh(r#"netscript --lab old -e 'netns("n1"); netns("n2"); ()'
sed -i 's/ #[0-9a-f]\{8\}$//' /run/netscript/old.journal
grep -c ' #' /run/netscript/old.journal || true
status down netscript down old
left"#);
    assert_eq!(out.lines().next(), Some("0"), "seals removed: {out}");
    assert!(out.contains("down: 0"), "{out}\n{err}");
    assert!(out.contains("left: 0"), "{out}\n{err}");
}

/// Scripts that fail at a change the backend refuses, each with the words its message
/// must hold: the kernel finds these from an errno, the model from its own state.
const REFUSED: &[(&str, &str)] = &[
    ("netns(\"a\");\nnetns(\"a\");", "namespace \"a\" already exists"),
    (
        "let r = netns(\"r\");\nr.bridge(\"b\");\nr.bridge(\"b\");",
        "link \"b\" in namespace \"r\" already exists",
    ),
    (
        "let r = netns(\"r\");\nr.addr(\"lo\", \"10.0.0.1/24\");\nr.addr(\"lo\", \"10.0.0.1/24\");",
        "address 10.0.0.1/24 on link \"lo\" in namespace \"r\" already exists",
    ),
    (
        "let r = netns(\"r\");\nr.up(\"lo\");\nr.route(\"10.9.0.0/24\", \"10.1.0.1\");",
        "route 10.9.0.0/24 in namespace \"r\": gateway 10.1.0.1 is not on a directly connected network",
    ),
    (
        "let r = netns(\"r\");\nr.link(\"nope\").up();",
        "link \"nope\" in namespace \"r\" does not exist",
    ),
    (
        "let r = netns(\"r\");\nr.link(\"lo\").impair(#{ delay_ms: 10 });",
        "netem",
    ),
];

#[test]
fn plan_and_a_run_refuse_the_same_mistakes_in_the_same_words() {
    // Each script through `plan` (the model) and a real run (the kernel) in one sandbox;
    // a run rolls back, so the next script starts from the same empty state.
    let mut script = String::from("cd $T\n");
    for (i, (text, _)) in REFUSED.iter().enumerate() {
        script += &format!(
            "printf '%s\\n' {text} > s{i}.rhai\n\
             echo @@plan{i}; {bin} plan s{i}.rhai 2>&1 | grep ': error: ' || true\n\
             echo @@run{i}; {bin} --lab l{i} s{i}.rhai 2>&1 | grep ': error: ' || true\n\
             echo \"@@left{i}\"; ip netns list | wc -l\n",
            text = q(text),
            bin = q(BIN)
        );
    }
    let run = common::sh(&script);
    let s = run.sections();
    for (i, (text, words)) in REFUSED.iter().enumerate() {
        let (plan, real) = (s.text(&format!("plan{i}")), s.text(&format!("run{i}")));
        assert!(
            plan.contains(words),
            "plan of:\n{text}\nsaid: {plan}\n{run}"
        );
        assert_eq!(plan, real, "plan and run of:\n{text}");
        assert_eq!(s.text(&format!("left{i}")), "0", "rolled back: {text}");
    }
}
