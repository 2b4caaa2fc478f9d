//! An adversarial pass over "Trust" (issue 11) and "Nothing leaks" (issue 17): inputs,
//! servers and timings chosen to break what those promise. Each test reproduces a break
//! that was found, in a sandbox.

mod common;

use common::*;

// ---------------------------------------------------------------- http_get vs nasty servers

/// Run a python3 server on 127.0.0.1:`port` in a sandbox that answers each connection
/// (in a thread) by reading once, sending `head` (a python bytes expression), then running
/// `then` (python, indented by 4), and there a script that GETs from it with a deadline of
/// `timeout_ms` (memory capped, and killed after 60 s so that a GET that never ends fails
/// the test instead of hanging it). Returns what `http_get` said (`answered STATUS` or the
/// error), from a netscript that exited 0.
fn get_from(port: u16, head: &str, then: &str, timeout_ms: u32) -> (String, Run) {
    let server = format!(
        r#"import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(64)
def answer(c):
    c.recv(65536)
    c.sendall({head})
{then}
while True:
    c, _ = srv.accept()
    threading.Thread(target=answer, args=(c,), daemon=True).start()"#
    );
    let code = format!(
        r#"
try {{
    let r = http_get("http://127.0.0.1:{port}/", #{{ timeout_ms: {timeout_ms} }});
    print(`@@result
answered ${{r.status}}`);
}} catch (e) {{
    print(`@@result
${{e}}`);
}}"#
    );
    let run = sh(&format!(
        r#"{}ulimit -v 4000000
code=0; timeout -s KILL 60 netscript -e {} || code=$?
echo "@@code"; echo $code
"#,
        start_server_sh(port, &server),
        q(&code)
    ))
    .success();
    let s = run.sections();
    assert_eq!(s.text("code"), "0", "{run}");
    assert!(!run.stderr.contains("panicked"), "{run}");
    let result = s.text("result").to_string();
    (result, run)
}

/// Python for [`get_from`]'s `then`: send the bytes `piece` over and over, as fast as
/// they go, until the client closes.
fn endless(piece: &str) -> String {
    format!(
        "    piece = {piece}\n    try:\n        while True:\n            c.sendall(piece)\n    except OSError:\n        pass"
    )
}

/// Nasty servers, each with what `http_get` must say: `(port, head, then, timeout_ms,
/// words)`, see [`get_from`].
const NASTY: &[(u16, &str, &str, u32, &str)] = &[
    // A chunked body without end, faster than it is read: the socket is never empty, so
    // a deadline looked at only while waiting for data never came. The GET must still end
    // at its one deadline.
    (
        8181,
        r#"b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n""#,
        r#"(b"1000\r\n" + b"x" * 4096 + b"\r\n") * 16"#,
        1000,
        "timed out after 1 s",
    ),
    // Headers that never end: an error naming the reason, at once.
    (
        8182,
        r#"b"HTTP/1.1 200 OK\r\n""#,
        r#"b"X-Pad: " + b"a" * 60000 + b"\r\n""#,
        1000,
        "response head is larger than",
    ),
    // A body without length that never ends, sent as fast as it goes: bounded in memory
    // (an error naming the limit), not read until the machine runs out.
    (
        8183,
        r#"b"HTTP/1.1 200 OK\r\n\r\n""#,
        r#"b"y" * 65536"#,
        60000,
        "larger than 64 MiB",
    ),
    // A chunk size of 2^64-1: an error (here: no complete body by the deadline), never
    // an arithmetic overflow panic. (No endless piece: the server then waits.)
    (
        8184,
        r#"b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n""#,
        "",
        1000,
        "timed out after 1 s",
    ),
];

/// Each nasty server's GET ends, with an error naming the reason, never a panic (each
/// in a sandbox of its own).
#[test]
fn http_get_holds_against_nasty_servers() {
    for (port, head, piece, timeout_ms, words) in NASTY {
        let then = if piece.is_empty() {
            "    import time\n    time.sleep(30)".to_string()
        } else {
            endless(piece)
        };
        let (result, run) = get_from(*port, head, &then, *timeout_ms);
        assert!(result.contains(words), "port {port}: {words:?}\n{run}");
    }
}

// ---------------------------------------------------------------- exit()

/// `exit(-1)` was clamped to 0: a script saying it failed exited 0 and kept its lab.
/// An exit status outside 0..=255 is an error at that call (so the run rolls back).
#[test]
fn exit_with_a_negative_status_is_an_error_not_a_success() {
    let run = sh_ok(
        r#"code=0; netscript -e 'netns("kept"); exit(-1)' 2>$T/err || code=$?
echo "@@code"; echo $code
echo "@@err"; cat $T/err
echo "@@ns"; ip netns list
"#,
    );
    let s = run.sections();
    assert_eq!(s.text("code"), "1", "{run}");
    assert!(
        s.text("err").contains("exit(-1): an exit status is 0"),
        "{run}"
    );
    assert_eq!(s.text("ns"), "", "the failed run is rolled back\n{run}");
}

/// In the REPL, `exit(N)` (also inside a function, and `exit()`) leaves with status N;
/// it used to print N and read on.
#[test]
fn exit_leaves_the_repl() {
    let run = sh_ok(
        r#"code=0; printf '%s\n' 'netns("r1")' 'exit(4)' 'print("@@after")' | netscript --lab r >$T/out 2>&1 || code=$?
echo "@@code4"; echo $code
code=0; printf '%s\n' 'fn f() { exit() }' 'f()' 'print("@@after")' | netscript --lab r2 >>$T/out 2>&1 || code=$?
echo "@@code0"; echo $code
echo "@@out"; cat $T/out
echo "@@ns"; ip netns list
"#,
    );
    let s = run.sections();
    assert_eq!(s.text("code4"), "4", "{run}");
    assert_eq!(s.text("code0"), "0", "{run}");
    assert!(!run.stdout.contains("@@after"), "{run}");
    // Leaving by exit() keeps what the session built, as Ctrl-D does.
    assert_eq!(s.lines("ns"), ["r1"], "{run}");
}

// ---------------------------------------------------------------- journal tampering

/// A FIFO under a journal's name hung `ls` (for every lab), `down` and a run of that lab
/// for ever; a device (`/dev/zero`, through a symlink) made `ls` read without end. Each
/// is now an error naming the file, and `ls` still lists the other labs.
#[test]
fn journal_that_is_a_fifo_or_a_device_does_not_hang() {
    let run = sh_ok(
        r#"netscript --lab good -e 'netns("g1")' >/dev/null
mkfifo /run/netscript/fifo.journal
ln -s /dev/zero /run/netscript/zero.journal
code=0; timeout -s KILL 20 netscript ls >$T/ls 2>&1 || code=$?
echo "@@ls_code"; echo $code
echo "@@ls"; cat $T/ls
code=0; timeout -s KILL 20 netscript down fifo 2>$T/err || code=$?
echo "@@down_code"; echo $code
code=0; timeout -s KILL 20 netscript --lab fifo -e 'netns("q")' 2>>$T/err || code=$?
echo "@@run_code"; echo $code
echo "@@err"; cat $T/err
echo "@@ns"; ip netns list
"#,
    );
    let s = run.sections();
    assert_eq!(s.text("ls_code"), "0", "{run}");
    let ls = s.text("ls");
    assert!(ls.lines().any(|l| l.starts_with("good ")), "{run}");
    assert!(ls.contains("fifo.journal: not a regular file"), "{run}");
    assert!(ls.contains("zero.journal: not a regular file"), "{run}");
    assert_eq!(s.text("down_code"), "1", "{run}");
    assert_eq!(s.text("run_code"), "1", "{run}");
    assert!(s.text("err").contains("fifo.journal"), "{run}");
    assert_eq!(s.lines("ns"), ["g1"], "{run}");
}

// ---------------------------------------------------------------- REPL error positions

/// A function defined on one REPL input and failing when a later input calls it: the
/// error's line and column are in the function's input, and the source line and caret
/// shown were the later input's (a caret under nothing). They are the function's now.
#[test]
fn repl_error_inside_an_earlier_function_points_into_it() {
    let run = sh_ok(
        r#"printf '%s\n' 'fn mk(x) { veth(x, "vb"); }' 'veth("va", "vb")' 'let n = 1; mk("vc")' | netscript --lab r 2>$T/err >/dev/null || true
cat $T/err >&2
"#,
    );
    let r = error_report(&run);
    assert_eq!(r.file, "input (fn mk)", "{run}");
    assert_eq!(r.source_line, r#"    fn mk(x) { veth(x, "vb"); }"#, "{run}");
    assert_eq!((r.line, r.col), (1, 12), "{run}");
    assert!(r.message.contains(r#"veth("vc", "vb")"#), "{run}");
    assert!(
        run.stderr.contains("note: in mk(), called from input:1:12"),
        "{run}"
    );
}

// ---------------------------------------------------------------- sysctl keys

/// An interface named like a VLAN (`eth0.100`) has its sysctls under
/// `net/ipv4/conf/eth0.100/`; the slashed key was turned into dots and back into
/// `conf/eth0/100/`, which does not exist. Now it is set, and put back on rollback;
/// `..` components are still refused.
#[test]
fn sysctl_of_an_interface_with_a_dot_in_its_name() {
    let run = sh_ok(
        r#"ip link add name eth0.100 type bridge
F=/proc/sys/net/ipv4/conf/eth0.100/rp_filter
echo 0 > $F
netscript -e 'sysctl("net/ipv4/conf/eth0.100/rp_filter", 2); print(`@@read
${sysctl("/proc/sys/net/ipv4/conf/eth0.100/rp_filter")}`)' --lab vlan >$T/out
cat $T/out
echo "@@set"; cat $F
code=0; netscript --lab vlan2 -e 'sysctl("net/ipv4/conf/eth0.100/rp_filter", 1); throw "stop"' 2>/dev/null || code=$?
echo "@@code"; echo $code
echo "@@after_rollback"; cat $F
code=0; netscript -e 'sysctl("net/ipv4/conf/eth0.100/../../../../kernel/hostname", "x")' 2>$T/err || code=$?
echo "@@dotdot"; echo $code; cat $T/err
"#,
    );
    let s = run.sections();
    assert_eq!(s.text("read"), "2", "{run}");
    assert_eq!(s.text("set"), "2", "{run}");
    assert_eq!(s.text("code"), "1", "{run}");
    assert_eq!(s.text("after_rollback"), "2", "{run}");
    assert!(s.text("dotdot").starts_with('1'), "{run}");
    assert!(s.text("dotdot").contains("is not a sysctl key"), "{run}");
}
