//! Journals cut anywhere. The journal of a real lab (a bridge, two containers, NAT, a
//! published port, a detached process) is cut at byte offsets, or has a byte flipped,
//! and `netscript down` runs on what is left. Each time: no panic; what the intact lines
//! record is removed and what the lost lines recorded is left alone (the journal no
//! longer says it is ours); a torn last line is reported in one line naming the file; a
//! damaged line in the middle is an error naming the file, and nothing is undone.
//! Then the whole journal is put back and `down` removes the rest: the sandbox is as it
//! was before the lab.
//!
//! `cargo test` tries the offsets around every line end and a sample of others;
//! `JOURNAL_CUTS=all` tries every byte offset. (A first line cut exactly before its
//! checksum reads as a line from before checksums, and is undone as such.)

mod common;

use common::sh;

const LAB: &str = r#"
let br = bridge("br0", "10.30.0.1/24");
for i in [1, 2] {
    let c = netns(`c${i}`);
    veth(`v${i}`, "eth0", #{ b_ns: c });
    link(`v${i}`).master(br);
    link(`v${i}`).up();
    c.addr("eth0", `10.30.0.${i + 1}/24`);
    c.up("eth0");
    c.route("default", "10.30.0.1");
}
forward(true);
masquerade("10.30.0.0/24", #{ not_out: "br0" });
port_forward(8080, "10.30.0.2:80");
netns_open("c1").start("sleep 600", #{ detach: true });
"#;

/// Drives the cuts inside the sandbox: prints one line per failed case, then `done N`.
const DRIVER: &str = r#"
import json, os, random, re, subprocess, sys

J = "/run/netscript/cut.journal"
every = os.environ.get("JOURNAL_CUTS") == "all"

def run(*a):
    return subprocess.run(list(a), capture_output=True, text=True)

def state():
    ns = sorted(run("ip", "netns", "list").stdout.split())
    links = sorted(l.split(":")[1].strip().split("@")[0] for l in run("ip", "-o", "link").stdout.splitlines())
    nat = sorted(l.strip() for l in run("nft", "list", "ruleset").stdout.splitlines() if "masquerade" in l or "dnat" in l)
    # Processes of the lab that are alive (not zombies of an exited parent).
    procs = []
    for p in os.listdir("/proc"):
        try:
            st = open("/proc/%s/stat" % p).read()
            cmd = open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ")
        except (OSError, ValueError):
            continue
        if st[st.rindex(")") + 2] != "Z" and cmd.startswith(b"sleep 600"):
            procs.append(p)
    fwd = run("sysctl", "-n", "net.ipv4.ip_forward").stdout.strip()
    return {"ns": ns, "links": links, "nat": nat, "procs": len(procs), "fwd": fwd}

def build():
    r = run("netscript", "--lab", "cut", "lab.rhai")
    if r.returncode != 0:
        sys.exit("build failed: " + r.stderr)
    with open(J, "rb") as f:
        return f.read()

pristine = state()
full = build()
built = state()
lines = full.split(b"\n")
ends, at = [], 0
for l in lines[:-1]:
    at += len(l) + 1
    ends.append(at)

def sealed(line):
    return re.search(rb" #[0-9a-f]{8}$", line) is not None

def parses(line):
    try:
        json.loads(line)
        return True
    except ValueError:
        return False

def complete(prefix, whole):
    # The lines of `prefix` down reads: those ended by a newline, and a last one that is
    # whole (it lacks only its newline: its checksum holds) or, with no checksummed line
    # before it, one that reads as a line from before checksums (valid JSON).
    parts = prefix.split(b"\n")
    last = parts[-1]
    read = last and (last in whole.split(b"\n")
                     or (not any(sealed(l) for l in parts[:-1]) and parses(last)))
    return parts[:-1] + ([last] if read else [])

def recorded(lines):
    # Namespaces the lines record (netns_add entries).
    out = set()
    for l in lines:
        m = re.search(rb'"op":"netns_add","name":"([^"]+)"', l)
        if m:
            out.add(m.group(1).decode())
    return out

if every:
    cuts = list(range(len(full) + 1))
else:
    rnd = random.Random(7)
    cuts = sorted(set([c for e in ends for c in (e - 1, e, e + 1) if 0 <= c <= len(full)]
                      + rnd.sample(range(len(full)), 25)))
flips = [] if every else random.Random(8).sample(range(len(full) - 1), 6)

failures = 0
def fail(msg):
    global failures
    failures += 1
    print("FAIL", msg)

def restore_and_clean(what, full):
    with open(J, "wb") as f:
        f.write(full)
    for p in os.listdir("/run/netscript"):
        if p.startswith("cut.") and p != "cut.journal" and not p.endswith(".output"):
            os.remove(os.path.join("/run/netscript", p))
    r = run("netscript", "down", "--force", "cut")
    if "panicked" in r.stderr:
        fail("%s: the clean-up down panicked: %s" % (what, r.stderr))
    if state() != pristine:
        fail("%s: after putting the journal back and down: %s" % (what, state()))

cases = 0
for kind, k in [("cut", c) for c in cuts] + [("flip", f) for f in flips]:
    cases += 1
    # Each case starts from a lab built anew: its journal (ids, pids, rule tags) is this
    # build's own.
    if state() != built:
        full = build()
        built = state()
        k = min(k, len(full) - 1 if kind == "flip" else len(full))
    if kind == "cut":
        data = full[:k]
    else:
        b = bytearray(full)
        b[k] = b[k] ^ 0x20 if b[k] not in (10, 0x2a) else b[k]
        data = bytes(b)
    with open(J, "wb") as f:
        f.write(data)
    r = run("netscript", "down", "cut")
    what = "%s at byte %d of %d" % (kind, k, len(full))
    if r.returncode not in (0, 1) or "panicked" in r.stderr:
        fail("%s: exit %d: %s" % (what, r.returncode, r.stderr))
    after = state()
    if kind == "cut":
        read = complete(data, full)
        gone = recorded(read)
        kept = recorded(full.split(b"\n")) - gone
        if r.returncode == 0:
            if any(n in after["ns"] for n in gone):
                fail("%s: left a namespace its journal records: %s" % (what, after))
            if not all(n in after["ns"] for n in kept):
                fail("%s: removed a namespace only the lost lines recorded: %s" % (what, after))
            torn = bool(data.split(b"\n")[-1]) and len(read) < len(data.split(b"\n"))
            damage = [l for l in r.stderr.splitlines() if "cut.journal" in l]
            if torn and len(damage) != 1:
                fail("%s: a torn last line is reported in one line naming the file: %r (the cut ends %r)" % (what, r.stderr, data[-80:]))
        elif "cut.journal" not in r.stderr:
            fail("%s: an error that does not name the journal: %r" % (what, r.stderr))
    else:
        if data != full and r.returncode == 0 and after != pristine and after != built:
            # A flipped byte the checksum catches stops down before it undoes anything.
            fail("%s: a damaged journal undid part of the lab: %s %r" % (what, after, r.stderr))
        if r.returncode == 1 and ("cut.journal" not in r.stderr or after != built):
            fail("%s: the error names the journal and nothing is undone: %r %s" % (what, r.stderr, after))
    restore_and_clean(what, full)
print("done", cases, "failures", failures)
"#;

#[test]
fn down_on_a_journal_cut_anywhere_removes_what_it_records_and_nothing_else() {
    let run = sh(&format!(
        "cd $T\ncat > lab.rhai <<'NETSCRIPT_LAB'\n{LAB}\nNETSCRIPT_LAB\ncat > cuts.py <<'NETSCRIPT_PY'\n{DRIVER}\nNETSCRIPT_PY\necho @@out; python3 cuts.py"
    ))
    .success();
    let out = run.sections().text("out").to_string();
    assert!(!out.contains("FAIL"), "{out}");
    let last = out.lines().last().unwrap_or("");
    assert!(
        last.starts_with("done ") && last.ends_with("failures 0"),
        "{run}"
    );
    let cases: usize = last.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(cases > 40, "{cases} cases tried\n{run}");
}
