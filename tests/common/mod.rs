//! Helpers shared by the integration tests.
//!
//! Safety: no test may touch the machine's own network namespace. netscript is run either
//! with `--sandbox` (it unshares a private net + mount namespace itself), or inside
//! [`sandbox_sh`], which wraps a shell script in
//! `unshare --net --mount --propagation private` (and a PID namespace, so nothing it
//! starts outlives it) with a private /run/netns, /run/netscript and /sys, so the script can run `netscript` *without* `--sandbox` and then look at what
//! it built with `ip -j ...`, `ip netns exec ...` and `ss`.
#![allow(dead_code)]

pub mod hosts;
pub mod procs;
pub mod tmux;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The netscript binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_netscript");

/// The directory of the netscript binary (put on PATH inside `sandbox_sh`).
pub fn bin_dir() -> PathBuf {
    Path::new(BIN)
        .parent()
        .expect("the binary has a parent directory")
        .to_path_buf()
}

/// `scripts/NAME.rhai` in the repository, as an absolute path.
pub fn script_path(name: &str) -> String {
    format!("{}/scripts/{name}.rhai", env!("CARGO_MANIFEST_DIR"))
}

/// Check that `listed` names exactly the scripts in scripts/: each test file that covers
/// every script fails when one is added without a test (`what` says which list).
pub fn assert_lists_every_script(listed: &[&str], what: &str) {
    let mut found: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts"))
        .expect("reading scripts/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let missing: Vec<&String> = found
        .iter()
        .filter(|s| !listed.contains(&s.as_str()))
        .collect();
    assert!(missing.is_empty(), "scripts without {what}: {missing:?}");
    for l in listed {
        assert!(
            found.iter().any(|f| f == l),
            "scripts/{l}.rhai is listed but missing"
        );
    }
}

/// Quote a string as one word for a POSIX shell.
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn require_root() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "these tests need root: sandbox_sh uses `unshare --net --mount`"
    );
}

/// The shell prelude run first inside the private namespaces.
fn prelude() -> String {
    let host_ns = std::fs::read_link("/proc/self/ns/net")
        .expect("reading /proc/self/ns/net")
        .display()
        .to_string();
    format!(
        r#"set -e
# Refuse to go on unless this really is a network namespace of our own.
[ "$(readlink /proc/self/ns/net)" != {host_ns} ] || {{ echo "sandbox_sh: not in a private netns" >&2; exit 99; }}
# A private /run: the mount points below are made there, not on the host's /run.
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /run/netscript
mount -t sysfs sysfs /sys
ip link set lo up
export PATH={bin}:$PATH
# A private scratch directory (tmpfs, vanishes with the sandbox).
export T=/run/netscript-test; mkdir -p $T; mount -t tmpfs tmpfs $T
# in_ns NS CMD...: run CMD in namespace NS ("host": this sandbox's own namespace).
in_ns() {{
    if [ "$1" = host ]; then shift; "$@"; else n="$1"; shift; ip netns exec "$n" "$@"; fi
}}
# SERVE_PY ADDR PORT TEXT: an HTTP server whose every answer is TEXT, with `{{peer}}` the
# client's address, or, for `@FILE`, that file's bytes; it logs each request to stderr.
# (Not `python3 -m http.server`: its reverse DNS lookup of ADDR at startup can stall for
# seconds, or send a query, in a namespace with a default route.)
SERVE_PY='
import http.server, socket, socketserver, sys
addr, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
blob = open(text[1:], "rb").read() if text.startswith("@") else None
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = blob if blob is not None else text.replace("{{peer}}", self.client_address[0]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        sys.stderr.write("peer=%s %s\n" % (self.client_address[0], fmt % args))
        sys.stderr.flush()
S((addr, port), H).serve_forever()
'
# serve NS ADDR PORT [TEXT]: SERVE_PY in the background in NS (TEXT: `{{peer}}` unless
# given), killed when the script exits.
SERVERS=""
trap '[ -z "$SERVERS" ] || kill $SERVERS 2>/dev/null || true' EXIT
serve() {{
    if [ "$1" = host ]; then set -- "" "$2" "$3" "$4"; fi
    text="$4"; [ -n "$text" ] || text='{{peer}}'
    ${{1:+ip netns exec "$1"}} python3 -c "$SERVE_PY" "$2" "$3" "$text" >/dev/null 2>&1 &
    SERVERS="$SERVERS $!"
}}
# wait_http NS URL [FILE]: GET URL from inside NS with python, retrying until the server
# is up; prints `HTTP STATUS BODY`, or with FILE `LENGTH intact` (the body is FILE's
# bytes) or `LENGTH corrupt`. For a URL `tcp://ADDR:PORT` it only connects, and prints
# `connected` (`wait_tcp NS ADDR PORT`).
wait_tcp() {{ wait_http "$1" "tcp://$2:$3"; }}
wait_http() {{
    in_ns "$1" python3 - "$2" "$3" <<'PY'
import socket, sys, time, urllib.parse, urllib.request
err = None
for _ in range(100):
    try:
        u = urllib.parse.urlsplit(sys.argv[1])
        if u.scheme == "tcp":
            socket.create_connection((u.hostname, u.port), timeout=2).close()
            print("connected")
            sys.exit(0)
        with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
            got = r.read()
            if sys.argv[2]:
                want = open(sys.argv[2], "rb").read()
                print(len(got), "intact" if got == want else "corrupt")
            else:
                print("HTTP", r.status, got.decode())
            sys.exit(0)
    except Exception as e:
        err = e
        time.sleep(0.1)
print("wait_http failed:", err)
sys.exit(1)
PY
}}
# dump_state: every namespace's links, addresses, routes and forwarding, as sections.
dump_state() {{
    for n in host $(ip netns list | cut -d' ' -f1 | sort); do
        if [ "$n" = host ]; then p=""; x=""; else p="-n $n"; x="ip netns exec $n"; fi
        echo "@@link:$n"; ip -d -j $p link
        echo "@@addr:$n"; ip -j $p addr
        echo "@@route:$n"; ip -d -j $p route
        echo "@@route6:$n"; ip -d -j -6 $p route
        echo "@@forward:$n"; $x cat /proc/sys/net/ipv4/ip_forward
    done
}}
"#,
        host_ns = q(&host_ns),
        bin = q(&bin_dir().display().to_string()),
    )
}

/// Run `script` with `sh` inside fresh private network and mount namespaces (see the
/// module docs). The prelude uses `set -e`, so the first failing command ends it. It also
/// defines `serve NS ADDR PORT [TEXT]` (an HTTP server answering the client's address or
/// TEXT, killed when the script exits; its program is `$SERVE_PY`), `wait_http NS URL
/// [FILE]` and `dump_state`; `$T` is a scratch tmpfs.
pub fn sandbox_sh(script: &str) -> Output {
    require_root();
    let full = format!("{}\n{script}\n", prelude());
    Command::new("unshare")
        // --pid --fork --mount-proc: a process a test leaves running (a detached one, a
        // server after a failed assertion) dies with the sandbox's sh, which is its PID 1.
        // --uts: a test that checks the hostname cannot be changed must not change the
        // machine's when the code under test is wrong.
        .args([
            "--uts",
            "--net",
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--mount-proc",
        ])
        .args(["sh", "-c", &full])
        .env_remove("NETSCRIPT_FAIL_AT")
        .stdin(Stdio::null())
        .output()
        .expect("running unshare")
}

/// [`sandbox_sh`] as a [`Run`].
pub fn sh(script: &str) -> Run {
    Run::new(sandbox_sh(script), format!("sandbox_sh:\n{script}"))
}

/// [`sh`], asserting that the whole script succeeded.
pub fn sh_ok(script: &str) -> Run {
    sh(script).success()
}

/// Shell lines for [`sandbox_sh`] that start the python3 program `src` (it is given `port`
/// as argv[1]) in the background, its output in `$T/sPORT.log`, killed when the script
/// exits, and wait until something listens on `port`.
pub fn start_server_sh(port: u16, src: &str) -> String {
    format!(
        "cat > $T/s{port}.py <<'PY'\n{src}\nPY\npython3 $T/s{port}.py {port} >$T/s{port}.log 2>&1 &\nSERVERS=\"$SERVERS $!\"\n\
         for i in $(seq 100); do ss -Hltn 'sport = :{port}' | grep -q . && break; sleep 0.05; done\n"
    )
}

/// `netscript --sandbox ARGS...`
pub fn sandboxed(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .arg("--sandbox")
        .args(args)
        .env_remove("NETSCRIPT_FAIL_AT")
        .stdin(Stdio::null())
        .output()
        .expect("running netscript");
    Run::new(
        out,
        format!(
            "netscript --sandbox {}",
            args.iter().map(|a| q(a)).collect::<Vec<_>>().join(" ")
        ),
    )
}

/// `netscript --sandbox -e CODE`
pub fn eval(code: &str) -> Run {
    sandboxed(&["-e", code])
}

/// `netscript --sandbox -e CODE`, asserting success; returns its stdout, trimmed.
pub fn eval_ok(code: &str) -> String {
    eval(code).success().stdout.trim().to_string()
}

/// What a command did.
pub struct Run {
    pub what: String,
    /// Exit code; -1 when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn new(out: Output, what: String) -> Run {
        Run {
            what,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn success(self) -> Run {
        assert_eq!(self.code, 0, "expected success\n{self}");
        self
    }

    pub fn fails_with(self, code: i32) -> Run {
        assert_eq!(self.code, code, "expected exit code {code}\n{self}");
        self
    }

    pub fn sections(&self) -> Sections {
        Sections {
            run: self.to_string(),
            ..Sections::parse(&self.stdout)
        }
    }

    /// Lines of stderr that start with `prefix`, with the prefix removed.
    pub fn stderr_lines_with(&self, prefix: &str) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
            .collect()
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--- command: {}\n--- exit code: {}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
}

/// A script's stdout split at marker lines `@@KEY`: each key maps to the text after it.
/// Text before the first marker is under the key "".
pub struct Sections {
    pub map: BTreeMap<String, String>,
    /// The whole run, for failure messages.
    run: String,
}

impl Sections {
    pub fn parse(text: &str) -> Sections {
        let mut map = BTreeMap::new();
        let mut key = String::new();
        let mut cur = String::new();
        for line in text.lines() {
            if let Some(k) = line.strip_prefix("@@") {
                map.insert(std::mem::take(&mut key), std::mem::take(&mut cur));
                key = k.trim().to_string();
            } else {
                cur.push_str(line);
                cur.push('\n');
            }
        }
        map.insert(key, cur);
        Sections {
            map,
            run: String::new(),
        }
    }

    #[track_caller]
    pub fn get(&self, key: &str) -> &str {
        self.map.get(key).unwrap_or_else(|| {
            panic!(
                "no section @@{key} in the output; sections: {:?}\n{}",
                self.map.keys(),
                self.run
            )
        })
    }

    /// The lines of section `key`, trimmed, without empty ones, sorted.
    pub fn lines(&self, key: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .text(key)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        v.sort();
        v
    }

    /// Check sections by table: each `(KEY, TEXT)` is a section `@@KEY` whose trimmed text
    /// is TEXT. Fails naming every section that differs, with the whole run.
    #[track_caller]
    pub fn expect(&self, want: &[(&str, &str)]) {
        let wrong: Vec<String> = want
            .iter()
            .filter(|(key, text)| self.text(key) != *text)
            .map(|(key, text)| format!("@@{key}: {:?}, expected {text:?}", self.text(key)))
            .collect();
        assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), self.run);
    }

    /// The whole run the sections come from, for failure messages.
    pub fn context(&self) -> &str {
        &self.run
    }

    /// The section's text, trimmed.
    pub fn text(&self, key: &str) -> &str {
        self.get(key).trim()
    }

    pub fn json(&self, key: &str) -> Value {
        json(self.get(key))
    }
}

pub fn json(s: &str) -> Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

/// The entry for interface `name` in `ip -j link` / `ip -j addr` output.
pub fn find_link<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .find(|l| l["ifname"] == name)
        .unwrap_or_else(|| panic!("no link {name:?} in {list:#}"))
}

/// Interface names in `ip -j link` output, sorted.
pub fn link_names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

pub fn has_flag(link: &Value, flag: &str) -> bool {
    link["flags"]
        .as_array()
        .map(|f| f.iter().any(|x| x == flag))
        .unwrap_or(false)
}

/// `LOCAL/PREFIXLEN` of the non-link-local addresses of `name` in `ip -j addr` output.
pub fn addrs_of(list: &Value, name: &str) -> Vec<String> {
    find_link(list, name)["addr_info"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| i["scope"] != "link" && i["scope"] != "host")
                .map(|i| format!("{}/{}", i["local"].as_str().unwrap(), i["prefixlen"]))
                .collect()
        })
        .unwrap_or_default()
}

/// The route to `dst` in `ip -j route` output.
pub fn find_route<'a>(routes: &'a Value, dst: &str) -> &'a Value {
    routes
        .as_array()
        .expect("a JSON array")
        .iter()
        .find(|r| r["dst"] == dst)
        .unwrap_or_else(|| panic!("no route to {dst} in {routes:#}"))
}

/// `dump_state` output reduced to what must be the same however it was built: per
/// namespace, the links (name, kind, mtu, up, master), their non-link-local addresses,
/// routes (dst, gateway, dev, protocol, scope, metric, type; not fe80::/64) and ip_forward.
pub fn normalized_state(run: &Run) -> BTreeMap<String, Value> {
    let s = run.sections();
    let mut out = BTreeMap::new();
    for (key, text) in &s.map {
        let Some((what, _ns)) = key.split_once(':') else {
            continue;
        };
        let v = match what {
            "link" => {
                let mut links: Vec<Value> = json(text)
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "name": l["ifname"],
                            "kind": l["linkinfo"]["info_kind"],
                            "mtu": l["mtu"],
                            "up": has_flag(l, "UP"),
                            "master": l["master"],
                        })
                    })
                    .collect();
                links.sort_by_key(|l| l["name"].to_string());
                Value::Array(links)
            }
            "addr" => {
                let list = json(text);
                let mut all: Vec<String> = list
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|l| {
                        let name = l["ifname"].as_str().unwrap().to_string();
                        addrs_of(&list, &name)
                            .into_iter()
                            .map(move |a| format!("{name} {a}"))
                    })
                    .collect();
                all.sort();
                serde_json::json!(all)
            }
            "route" | "route6" => {
                let mut routes: Vec<Value> = json(text)
                    .as_array()
                    .unwrap()
                    .iter()
                    // Link-local routes come and go with carrier and addrconf timing.
                    .filter(|r| !r["dst"].as_str().unwrap_or("").starts_with("fe80:"))
                    .map(|r| {
                        serde_json::json!({
                            "dst": r["dst"], "gateway": r["gateway"], "dev": r["dev"],
                            "protocol": r["protocol"], "scope": r["scope"],
                            "metric": r["metric"], "type": r["type"],
                        })
                    })
                    .collect();
                routes.sort_by_key(|r| r.to_string());
                Value::Array(routes)
            }
            "forward" => Value::String(text.trim().to_string()),
            _ => continue,
        };
        out.insert(key.clone(), v);
    }
    out
}

/// A script file in the temp directory, removed on drop.
pub struct TempScript {
    pub path: PathBuf,
}

impl TempScript {
    pub fn new(stem: &str, contents: &str) -> TempScript {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "netscript-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("creating a temp directory");
        let path = dir.join(format!("{stem}.rhai"));
        std::fs::write(&path, contents).expect("writing a temp script");
        TempScript { path }
    }

    pub fn path(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempScript {
    fn drop(&mut self) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// An uncaught-error report: `FILE:LINE:COL: error: MESSAGE`, the source line, a caret.
#[derive(Debug)]
pub struct ErrorReport {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub source_line: String,
    pub caret_line: String,
}

/// Find the error report in `stderr` and check its shape: the header, then the source
/// line and a caret under column COL.
pub fn error_report(run: &Run) -> ErrorReport {
    let lines: Vec<&str> = run.stderr.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains(": error: "))
        .unwrap_or_else(|| panic!("no `FILE:LINE:COL: error:` line\n{run}"));
    let (head, message) = lines[i].split_once(": error: ").unwrap();
    let mut parts = head.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|c| c.parse().ok());
    let file = parts.next();
    let (Some(col), Some(line), Some(file)) = (col, line, file) else {
        panic!("error header is not FILE:LINE:COL: {:?}\n{run}", lines[i]);
    };
    assert!(
        lines.len() >= i + 3,
        "the source line and caret are missing\n{run}"
    );
    let report = ErrorReport {
        file: file.to_string(),
        line,
        col,
        message: message.to_string(),
        source_line: lines[i + 1].to_string(),
        caret_line: lines[i + 2].to_string(),
    };
    assert!(
        report.source_line.starts_with("    "),
        "the source line is not indented by 4\n{run}"
    );
    assert_eq!(
        report.caret_line,
        format!("    {}^", " ".repeat(col - 1)),
        "the caret is not under column {col}\n{run}"
    );
    assert!(
        !run.stderr.contains("panicked"),
        "netscript panicked\n{run}"
    );
    report
}

/// br0 (10.100.0.1/24) with containers c1, c2; an upstream namespace at 203.0.113.2
/// behind veth-host; forwarding on and masquerade; c1 pings c2 over br0 and the upstream.
pub const BRIDGE_LAB: &str = r#"import "lab" as lab;
bridge("br0", "10.100.0.1/24");
let c1 = lab::container("c1", "10.100.0.2/24", "br0", "10.100.0.1");
let c2 = lab::container("c2", "10.100.0.3/24", "br0", "10.100.0.1");
lab::p2p(host(), "203.0.113.1/24", netns("upstream"), "203.0.113.2/24");
forward(true);
masquerade("10.100.0.0/24", #{ not_out: "br0" });
print(`c1-c2 ${c1.ping("10.100.0.3")}`);
print(`c1-upstream ${c1.ping("203.0.113.2")}`);
"#;
