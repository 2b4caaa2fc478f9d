//! Probes that tell the truth: `ping` counts distinct echoes, `http_get` ends where the
//! response's framing says and within one deadline, IPv6 probes wait out duplicate
//! address detection, and an IPv6 route through an unreachable gateway says so.
//! Everything runs in private namespaces (`--sandbox` or `sandbox_sh`).

mod common;

use common::*;

// ---------------------------------------------------------------- ping

/// Two namespaces joined by a veth, red 10.0.0.1, blue 10.0.0.2 (Rhai, to prepend).
const P2P: &str = r#"
let red = netns("red");
let blue = netns("blue");
let v = veth("a", "b", #{ a_ns: red, b_ns: blue });
red.addr("a", "10.0.0.1/24");
blue.addr("b", "10.0.0.2/24");
v.a.up();
v.b.up();
"#;

/// An nft rule in red that drops exactly every other echo request it sends: a link with
/// 50 % loss, deterministic. A ping that re-sends a lost echo would count 20 of 20.
#[test]
fn ping_counts_distinct_echoes_over_a_lossy_link() {
    let code = format!(
        r#"{P2P}
let clean = red.ping("10.0.0.2", #{{ count: 20 }});
assert(clean.sent == 20 && clean.received == 20, `clean link: ${{clean}}`);
let r = red.exec(["nft", "add table inet t; add chain inet t c {{ type filter hook output priority 0; }}; add rule inet t c icmp type echo-request numgen inc mod 2 0 drop"]);
assert(r.code == 0, r.stderr);
let lossy = red.ping("10.0.0.2", #{{ count: 20 }});
print(`@@sent
${{lossy.sent}}
@@received
${{lossy.received}}
@@rtt
${{lossy.rtt_ms}}`);
// The yes/no form re-sends its echo, so it still gets through.
assert(red.ping("10.0.0.2"), "ping(addr) re-sends a lost echo");
"#
    );
    let run = eval(&code).success();
    let s = run.sections();
    // Every other echo is dropped.
    s.expect(&[("sent", "20"), ("received", "10")]);
    let rtt: f64 = s.text("rtt").parse().expect("rtt_ms is a number");
    assert!(rtt > 0.0, "{run}");
}

// ---------------------------------------------------------------- http_get

/// Run `servers` (python3 programs, each `PORT\tSOURCE`, given its port as argv[1]) on
/// 127.0.0.1 in a sandbox, wait until each listens, then run netscript `code` there.
fn with_servers(servers: &[(u16, &str)], code: &str) -> Run {
    let mut script: String = servers
        .iter()
        .map(|(port, src)| start_server_sh(*port, src))
        .collect();
    script.push_str(&format!("netscript -e {}\n", q(code)));
    sh(&script)
}

/// `http_get("http://127.0.0.1:PORT/")` once, with the server `src` on PORT: the status
/// and the body in brackets (so that spaces show), from a run that succeeded.
fn get_once(port: u16, src: &str) -> (String, String, Run) {
    let code = format!(
        "let r = http_get(\"http://127.0.0.1:{port}/\"); print(`@@status\n${{r.status}}\n@@body\n[${{r.body}}]`);"
    );
    let run = with_servers(&[(port, src)], &code).success();
    let s = run.sections();
    (
        s.text("status").to_string(),
        s.text("body").to_string(),
        run,
    )
}

/// The start of every test server: a listening socket on 127.0.0.1:argv[1], and
/// `read_request(c)`, which reads up to the end of the request head.
const SERVER_PRELUDE: &str = r#"import socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(64)
def read_request(c):
    data = b""
    while b"\r\n\r\n" not in data:
        more = c.recv(4096)
        if not more:
            break
        data += more
    return data
"#;

/// A test server: for each connection it accepts, `answer` (python, the body of
/// `answer(c)`), then it closes the connection, or with `keep_open` holds it open.
fn server(answer: &str, keep_open: bool) -> String {
    let answer: String = answer.lines().map(|l| format!("    {l}\n")).collect();
    let after = if keep_open {
        "held.append(c)"
    } else {
        "c.close()"
    };
    format!(
        "{SERVER_PRELUDE}def answer(c):\n{answer}held = []\nwhile True:\n    c, _ = srv.accept()\n    answer(c)\n    {after}\n"
    )
}

/// A keep-alive server: Content-Length, and the connection stays open. The GET ends
/// with the body, not at EOF (which would come only when the server gives up).
#[test]
fn http_get_honours_content_length_on_a_connection_left_open() {
    let src = server(
        r#"read_request(c)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello")"#,
        true,
    );
    let (status, body, run) = get_once(8081, &src);
    assert_eq!(status, "200", "{run}");
    assert_eq!(body, "[hello]", "{run}");
}

/// A chunked body sent in pieces, with a chunk extension and a trailer, on a connection
/// the server leaves open: decoded, and complete at the last chunk.
#[test]
fn http_get_reads_a_chunked_body() {
    let src = server(
        r#"read_request(c)
c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
for piece in [b"5\r\nhello\r\n", b"1;ext=x\r\n \r\n", b"5\r\nworld\r\n", b"0\r\nX-Trailer: t\r\n\r\n"]:
    time.sleep(0.05)
    c.sendall(piece)"#,
        true,
    );
    let (status, body, run) = get_once(8082, &src);
    assert_eq!(status, "200", "{run}");
    assert_eq!(body, "[hello world]", "{run}");
}

/// An interim `100 Continue` comes before the real response: the GET returns the 200.
#[test]
fn http_get_skips_100_continue() {
    let src = server(
        r#"read_request(c)
c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
time.sleep(0.05)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")"#,
        false,
    );
    let (status, body, run) = get_once(8083, &src);
    assert_eq!(status, "200", "{run}");
    assert_eq!(body, "[ok]", "{run}");
}

/// A server that reads once and answers: 200 if that one read held the whole request
/// head, 400 if not. Sent in one write, the request is always whole: 40 of 40 GETs get
/// the 200. A second server answers before reading anything and closes: its answer
/// arrives while the request may still be going out, and is still returned.
#[test]
fn http_get_sends_its_request_in_one_write() {
    let once = server(
        r#"data = c.recv(65536)
if b"\r\n\r\n" in data:
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwhole")
else:
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\n\r\npartial")"#,
        false,
    );
    let early = server(
        r#"c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy")"#,
        false,
    );
    let run = with_servers(
        &[(8084, &once), (8085, &early)],
        r#"
let ok = 0;
let errors = [];
for i in 0..40 {
    try {
        let r = http_get("http://127.0.0.1:8084/some/longer/path/to/fetch?with=a&query=string");
        if r.status == 200 && r.body == "whole" { ok += 1 } else { errors.push(`${r.status} ${r.body}`) }
    } catch (e) { errors.push(e) }
}
let early = [];
for i in 0..10 {
    try {
        let r = http_get("http://127.0.0.1:8085/");
        early.push(`${r.status} ${r.body}`);
    } catch (e) { early.push(e) }
}
print(`@@ok
${ok}
@@errors
${errors}
@@early
${early}`);"#,
    )
    .success();
    let s = run.sections();
    assert_eq!(s.text("ok"), "40", "{run}");
    let early = s.text("early");
    assert_eq!(
        early.matches("503 busy").count(),
        10,
        "the early answer is returned every time: {early}\n{run}"
    );
}

/// A server that accepts and never answers: the GET fails at its one deadline, saying so.
#[test]
fn http_get_times_out_with_a_clear_message() {
    let src = server("pass", true);
    let run = with_servers(
        &[(8086, &src)],
        r#"
try {
    http_get("http://127.0.0.1:8086/", #{ timeout_ms: 1000 });
    print("@@result\nanswered");
} catch (e) {
    print(`@@result
${e}`);
}"#,
    )
    .success();
    let msg = run.sections().text("result").to_string();
    assert!(
        msg.contains("GET http://127.0.0.1:8086/") && msg.contains("timed out after 1 s"),
        "{msg}\n{run}"
    );
    assert!(!msg.contains("os error"), "{msg}\n{run}");
}

/// SIGTERM while a GET waits on a silent server: the run stops with "interrupted"
/// instead of waiting out the GET's 60 s.
#[test]
fn sigterm_stops_a_waiting_http_get() {
    let src = server(r#"print("accepted", flush=True)"#, true);
    let mut sh = start_server_sh(8087, &src);
    sh.push_str(
        r#"netscript -e 'http_get("http://127.0.0.1:8087/", #{ timeout_ms: 60000 })' 2>$T/err &
pid=$!
for i in $(seq 200); do grep -q accepted $T/s8087.log && break; sleep 0.05; done
kill -TERM $pid
code=0; wait $pid || code=$?
echo "@@code"; echo $code
echo "@@err"; cat $T/err
"#,
    );
    let run = sh_ok(&sh);
    let s = run.sections();
    assert_ne!(s.text("code"), "0", "{run}");
    let err = s.text("err");
    assert!(err.contains("interrupted"), "{run}");
    assert!(!err.contains("timed out"), "{run}");
}

// ---------------------------------------------------------------- IPv6

/// Two namespaces with IPv6 addresses on a fresh veth: the probes right after `addr()`
/// wait for duplicate address detection instead of failing while it runs.
#[test]
fn ipv6_probes_right_after_addr_succeed() {
    let run = eval(
        r#"
let red = netns("red");
let blue = netns("blue");
let v = veth("a", "b", #{ a_ns: red, b_ns: blue });
red.addr("a", "fd00::1/64");
blue.addr("b", "fd00::2/64");
v.a.up();
v.b.up();
assert(red.ping("fd00::2"), "red pings blue at once");
let p = blue.ping("fd00::1", #{ count: 3 });
assert(p.received == 3, `blue's 3 echoes: ${p}`);
"#,
    );
    run.success();
}

/// `nodad`: the address is usable at once (not tentative), renders as `nodad` in the
/// trace and the plan, for `addr(dev, cidr, opts)` and `Link.addr(cidr, opts)`.
#[test]
fn nodad_addresses_are_not_tentative() {
    let script = r#"
let red = netns("red");
let blue = netns("blue");
let v = veth("a", "b", #{ a_ns: red, b_ns: blue });
v.a.up();
v.b.up();
red.addr("a", "fd00::1/64", #{ nodad: true });
v.b.addr("fd00::2/64", #{ nodad: true });
"#;
    let t = TempScript::new("nodad", script);
    let run = sh_ok(&format!(
        r#"netscript --trace {} 2>$T/trace
echo "@@trace"; cat $T/trace
echo "@@red"; ip -j -n red addr show dev a
echo "@@blue"; ip -j -n blue addr show dev b
"#,
        q(t.path())
    ));
    let s = run.sections();
    let trace = s.text("trace");
    assert!(
        trace.contains("ip -n red addr add fd00::1/64 dev a nodad"),
        "{run}"
    );
    assert!(
        trace.contains("ip -n blue addr add fd00::2/64 dev b nodad"),
        "{run}"
    );
    for (ns, addr) in [("red", "fd00::1"), ("blue", "fd00::2")] {
        let list = s.json(ns);
        let info = list[0]["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["local"] == addr)
            .unwrap_or_else(|| panic!("no {addr} in {ns}\n{run}"))
            .clone();
        assert_eq!(info["tentative"], serde_json::Value::Null, "{info}\n{run}");
        assert_eq!(info["nodad"], true, "{info}\n{run}");
    }
    let plan = sandboxed(&["plan", t.path()]).success();
    assert!(
        plan.stdout.contains("addr add fd00::1/64 dev a nodad"),
        "{plan}"
    );
}

#[test]
fn nodad_is_ipv6_only_and_checked() {
    let run = eval(r#"let red = netns("red"); red.addr("lo", "10.0.0.1/8", #{ nodad: true });"#)
        .fails_with(1);
    let r = error_report(&run);
    assert!(r.message.starts_with("red.addr("), "{run}");
    assert!(r.message.contains("IPv4"), "{run}");
    let run = eval(r#"netns("red").addr("lo", "fd00::1/64", #{ nodad: 1 });"#).fails_with(1);
    assert!(
        error_report(&run).message.contains("true or false"),
        "{run}"
    );
}

// ---------------------------------------------------------------- IPv6 routes

/// An IPv6 gateway with no route to it says what the IPv4 one says, not the raw errno.
#[test]
fn ipv6_route_via_unreachable_gateway_is_clear() {
    let script = r#"let red = netns("red");
let v = veth("a", "b", #{ a_ns: red });
v.a.up();
red.addr("a", "fd00::1/64");
red.route("fd01::/64", "fd02::1");
"#;
    let t = TempScript::new("route6", script);
    let run = sandboxed(&[t.path()]).fails_with(1);
    let r = error_report(&run);
    assert_eq!((r.file.as_str(), r.line), (t.path(), 5), "{run}");
    assert!(
        r.message
            .contains("gateway fd02::1 is not on a directly connected network"),
        "{run}"
    );
    assert!(!r.message.contains("os error"), "{run}");
}
