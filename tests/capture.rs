//! Seeing packets: `ns.capture(link, ..)` and `netscript capture` read real frames off a
//! veth while a pinger runs; the pcap they write is read back with Python (tcpdump may
//! not be installed); bad input gets clear errors.

mod common;

use common::*;

/// Shell prelude: namespaces a (10.0.0.1) and b (10.0.0.2) joined by veth-a/veth-b;
/// `pinger NS DST N` sends N ICMP echo requests from NS to DST in the background, one
/// every 0.1 s (no `ping` binary needed: a raw socket in Python). The sandbox's end
/// kills it. `pcap FILE` prints the file's magic (hex), its packet count and, for each
/// IPv4 frame, `proto src dst`.
const PRELUDE: &str = r#"
ip netns add a; ip netns add b
ip link add veth-a netns a type veth peer name veth-b netns b
ip -n a addr add 10.0.0.1/24 dev veth-a; ip -n a link set veth-a up
ip -n b addr add 10.0.0.2/24 dev veth-b; ip -n b link set veth-b up
pinger() {
    ip netns exec "$1" python3 -c '
import socket, struct, sys, time
dst, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
for i in range(n):
    body = struct.pack("!BBHHH", 8, 0, 0, 0x4e53, i) + b"netscript"
    c = csum(body + b"\0")
    s.sendto(struct.pack("!BBHHH", 8, 0, c, 0x4e53, i) + b"netscript", (dst, 0))
    time.sleep(0.1)
' "$2" "$3" >/dev/null 2>&1 &
}
pcap() {
    python3 - "$1" <<'PY'
import socket, struct, sys
d = open(sys.argv[1], "rb").read()
print(d[:4].hex())
off, n, rows = 24, 0, []
while off + 16 <= len(d):
    incl = struct.unpack("<I", d[off + 8:off + 12])[0]
    frame = d[off + 16:off + 16 + incl]
    off += 16 + incl
    n += 1
    if frame[12:14] == b"\x08\x00":
        ip = frame[14:]
        rows.append("%d %s %s" % (ip[9], socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])))
print(n)
for r in rows:
    print(r)
PY
}
"#;

fn run(body: &str) -> Run {
    sh(&format!("{PRELUDE}\n{body}"))
}

/// A capture during a ping holds its echo requests (a -> b) and replies (b -> a), with
/// the right addresses, exactly `count` of them after the filter; the pcap written with
/// `file` holds the same packets.
#[test]
fn script_capture_of_a_ping() {
    let r = run(r#"
pinger a 10.0.0.2 100
netscript -e '
let r = netns_open("a").capture("veth-a", #{ count: 4, file: "/run/netscript-test/a.pcap", filter: #{ proto: "icmp" } });
print("@@file"); print(r.file);
print("@@packets");
for p in r.packets { print(`${p.proto} ${p.src} ${p.dst} ${p.info} ${p.len} ${type_of(p.time)} ${p.sport}`) }
'
echo @@pcap; pcap $T/a.pcap
"#)
    .success();
    let s = r.sections();
    assert_eq!(s.text("file"), "/run/netscript-test/a.pcap", "{r}");
    let packets: Vec<&str> = s.get("packets").lines().collect();
    assert_eq!(packets.len(), 4, "{r}");
    for p in &packets {
        assert!(
            p.starts_with("icmp 10.0.0.1 10.0.0.2 echo request 51 f64 ")
                || p.starts_with("icmp 10.0.0.2 10.0.0.1 echo reply 51 f64 "),
            "unexpected packet {p:?}\n{r}"
        );
    }
    assert!(packets.iter().any(|p| p.contains("echo request")), "{r}");
    assert!(packets.iter().any(|p| p.contains("echo reply")), "{r}");
    let pcap: Vec<&str> = s.get("pcap").lines().collect();
    assert_eq!(
        pcap[0], "d4c3b2a1",
        "the classic pcap magic (little-endian)\n{r}"
    );
    assert_eq!(pcap[1], "4", "{r}");
    for row in &pcap[2..] {
        assert!(
            *row == "1 10.0.0.1 10.0.0.2" || *row == "1 10.0.0.2 10.0.0.1",
            "{row:?}\n{r}"
        );
    }
}

/// Across a bridge: `capture()` on host() (the top-level form) sees, on a bridge port, the
/// echo requests and the replies between two namespaces attached to the bridge. (On the
/// bridge device itself, as with tcpdump, only frames for the host or flooded ones show.)
#[test]
fn capture_on_a_bridge_from_the_host() {
    let r = run(r#"
ip netns add c1; ip netns add c2
ip link add br0 type bridge; ip link set br0 up
for n in 1 2; do
    ip link add veth-c$n netns c$n type veth peer name veth-c$n-br
    ip link set veth-c$n-br master br0 up
    ip -n c$n addr add 10.100.0.1$n/24 dev veth-c$n; ip -n c$n link set veth-c$n up
done
pinger c1 10.100.0.12 100
netscript -e '
let r = capture("veth-c2-br", #{ count: 2, filter: #{ proto: "icmp", host: "10.100.0.12" } });
print("@@packets");
for p in r.packets { print(`${p.src} ${p.dst} ${p.info}`) }
'
"#)
    .success();
    let s = r.sections();
    let packets: Vec<&str> = s.get("packets").lines().collect();
    assert_eq!(packets.len(), 2, "{r}");
    assert!(
        packets.contains(&"10.100.0.11 10.100.0.12 echo request"),
        "{r}"
    );
    assert!(
        packets.contains(&"10.100.0.12 10.100.0.11 echo reply"),
        "{r}"
    );
}

/// The filter's host and port select too: no UDP flows here, so a port filter ends by
/// time with nothing; a host filter of an address that is not there sees nothing.
#[test]
fn filter_selects_and_seconds_stop() {
    let r = run(r#"
pinger a 10.0.0.2 100
netscript -e '
let a = netns_open("a");
print("@@host"); print(a.capture("veth-a", #{ count: 2, filter: #{ host: "10.0.0.2" } }).packets.len());
print("@@port"); print(a.capture("veth-a", #{ seconds: 1, filter: #{ port: 53 } }).packets.len());
'
"#)
    .success();
    let s = r.sections();
    assert_eq!(s.text("host"), "2", "{r}");
    assert_eq!(s.text("port"), "0", "{r}");
}

/// `netscript capture NS LINK -c 2` prints two lines; `-w -` streams a pcap file.
#[test]
fn cli_capture_lines_and_pcap_stream() {
    let r = run(r#"
pinger a 10.0.0.2 100
echo @@lines; netscript capture a veth-a -c 2
netscript capture b veth-b -c 3 -w - > $T/s.pcap
echo @@pcap; pcap $T/s.pcap
netscript capture --lab nolab a veth-a -c 1 2>&1 && exit 9 || echo "@@nolab $?"
"#)
    .success();
    let s = r.sections();
    let lines: Vec<&str> = s.get("lines").lines().collect();
    assert_eq!(lines.len(), 2, "{r}");
    for l in &lines {
        assert!(l.contains(" > ") && l.contains(", length "), "{l:?}\n{r}");
    }
    let pcap: Vec<&str> = s.get("pcap").lines().collect();
    assert_eq!(pcap[0], "d4c3b2a1", "{r}");
    assert_eq!(pcap[1], "3", "{r}");
}

/// `--seconds` ends a capture that sees too few packets; SIGINT ends one early, and what
/// it saw is kept (the lines printed so far, exit 0, as tcpdump).
#[test]
fn cli_capture_stops_on_seconds_and_on_sigint() {
    let r = run(r#"
netscript capture b veth-b -c 100000 --seconds 1 -w $T/quiet.pcap 2>$T/err
echo @@quiet; cat $T/err; pcap $T/quiet.pcap | head -1
pinger a 10.0.0.2 600
netscript capture a veth-a -c 100000 --seconds 120 > $T/out &
pid=$!
i=0; while [ "$(wc -l < $T/out)" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
kill -INT $pid; wait $pid && echo "@@sigint 0" || echo "@@sigint $?"
[ "$(wc -l < $T/out)" -ge 2 ] && echo kept
"#)
    .success();
    let s = r.sections();
    assert!(s.text("quiet").ends_with("d4c3b2a1"), "{r}");
    assert!(s.text("quiet").contains(" written to"), "{r}");
    assert_eq!(s.text("sigint 0"), "kept", "{r}");
}

/// A missing link or namespace, count 0, an unwritable file, an unknown filter: the
/// script's error names the call; the CLI says one line and exits 1 (2 for bad usage).
#[test]
fn capture_errors() {
    let r = run(r#"
try() { echo "@@$1"; shift; netscript -e "$1" 2>&1 && echo OK || echo "exit $?"; }
try link 'netns_open("a").capture("nope")'
try count 'netns_open("a").capture("veth-a", #{ count: 0 })'
try file 'netns_open("a").capture("veth-a", #{ file: "/proc/no/such/dir.pcap" })'
try filter 'netns_open("a").capture("veth-a", #{ filter: #{ proto: "gre" } })'
try ns 'capture("veth-a")'
echo @@cli-link; netscript capture a nope -c 1 2>&1 && echo OK || echo "exit $?"
echo @@cli-ns; netscript capture zz veth-a -c 1 2>&1 && echo OK || echo "exit $?"
echo @@cli-count; netscript capture a veth-a -c 0 2>&1 | head -1; netscript capture a veth-a -c 0 >/dev/null 2>&1 || echo "exit $?"
echo @@cli-file; netscript capture a veth-a -c 1 -w /proc/no/such.pcap 2>&1 && echo OK || echo "exit $?"
"#)
    .success();
    let s = r.sections();
    let has = |k: &str, what: &[&str]| {
        let t = s.text(k);
        for w in what {
            assert!(t.contains(w), "section {k}: {w:?} not in {t:?}\n{r}");
        }
    };
    has(
        "link",
        &[
            r#"a.capture("nope"): link "nope" in namespace "a": no such link"#,
            "exit 1",
        ],
    );
    has(
        "count",
        &["a.capture(", "option count = 0 is out of range", "exit 1"],
    );
    has(
        "file",
        &["cannot write \"/proc/no/such/dir.pcap\"", "exit 1"],
    );
    has("filter", &["filter proto \"gre\" is not one of", "exit 1"]);
    // On host(): the sandbox's own namespace has no veth-a.
    has("ns", &[r#"capture("veth-a"): link "veth-a": no such link"#]);
    has(
        "cli-link",
        &["netscript capture: ", "no such link", "exit 1"],
    );
    has("cli-ns", &["netscript capture: ", "zz", "exit 1"]);
    has("cli-count", &["-c", "exit 2"]);
    has("cli-file", &["netscript capture: cannot write", "exit 1"]);
    for k in ["cli-link", "cli-ns", "cli-file"] {
        assert_eq!(
            s.text(k).lines().count(),
            2,
            "one line, then the exit: {k}\n{r}"
        );
    }
}

/// `netscript plan` shows a capture as a comment, as it does a probe.
#[test]
fn plan_shows_a_capture_as_a_comment() {
    let f = TempScript::new(
        "cap",
        r#"let a = netns("a"); let v = veth("veth-a", "veth-b"); v.a.move_to(a);
let r = a.capture("veth-a", #{ count: 3 });
"#,
    );
    let out = std::process::Command::new(BIN)
        .args(["--sandbox", "plan", f.path()])
        .output()
        .unwrap();
    let r = Run::new(out, "plan".into()).success();
    assert!(
        r.stdout
            .contains("# capture: on veth-a in namespace \"a\" (at most 3 packets, 10 s)"),
        "{r}"
    );
}
