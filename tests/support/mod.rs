//! Helpers for tests/lab.rs and tests/journal.rs: the shared ones of tests/common, and a
//! shell library of their own for [`sh`].
//!
//! Safety: no test touches the machine's own network namespace. netscript runs either with
//! `--sandbox` ([`sandboxed`]), or inside [`sh`], tests/common's `sandbox_sh` (private
//! network, mount and PID namespaces) with a private /run/netns, /run/netscript, /sys and
//! scratch directory `$T`. Inside, `netscript` (on PATH, no `--sandbox`) builds in
//! that private namespace and the script inspects the result with `ip -j`, `nft -j` and
//! `sysctl`. Everything vanishes when the shell exits.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;

#[allow(unused_imports)]
pub use common::{bin_dir, link_names, q, sandboxed, Run, Sections, BIN};

/// `scripts/NAME.rhai`, absolute.
pub fn script(name: &str) -> String {
    common::script_path(name)
}

/// Shell functions available to every [`sh`] script:
///
/// - `snap`: the state the lifecycle tests compare: `ip netns list`, `ip -j link` without
///   volatile fields (ifindex, stats), `ip -j addr`, `ip -j route` (v4 and v6),
///   `nft -j list ruleset`, both forwarding sysctls, and the journals in /run/netscript.
/// - `alive PID`: true when PID exists and is not a zombie.
/// - `wait_for FILE TEXT`: wait (up to 20 s) until FILE contains TEXT.
/// - `fetch NS URL [TIMEOUT]`: HTTP GET from inside NS with python (no netscript involved);
///   prints `STATUS BODY`, or `FAIL reason` and returns 1.
/// - `tcp NS IP PORT`: a TCP connection from inside NS within 1 s; prints `open`/`closed`.
/// - `inns NS CMD...`: CMD inside NS (`host`: where the shell is).
/// - `serve NS PORT TEXT`: `$SERVE_PY` (tests/common) in NS on PORT answering TEXT
///   (`{peer}` is the client's address); logs requests to $T/serve-NS-PORT.log; waits
///   until it listens. (It replaces tests/common's `serve NS ADDR PORT`.)
///   Its pid joins `$PIDS`: every pid there is killed when the shell exits.
const FUNCTIONS: &str = r##"
NORM_LINK='import json,sys
d=json.load(sys.stdin)
for l in d:
    for k in ("ifindex","stats","stats64","link_index","link_netnsid"):
        l.pop(k,None)
print(json.dumps(d,sort_keys=True))'
NORM_ADDR='import json,sys
d=json.load(sys.stdin)
for l in d:
    for k in ("ifindex","link_index","link_netnsid"):
        l.pop(k,None)
print(json.dumps(d,sort_keys=True))'
snap() {
    echo "# netns"; ip netns list
    echo "# link"; ip -j link | python3 -c "$NORM_LINK"
    echo "# addr"; ip -j addr | python3 -c "$NORM_ADDR"
    echo "# route"; ip -j route; ip -6 -j route
    echo "# nft"; nft -j list ruleset
    echo "# sysctl"; sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding
    echo "# journals"; ls /run/netscript/ | grep '\.journal$' || true
}
alive() {
    st=$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ]
}
wait_for() {
    i=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        i=$((i+1)); [ $i -lt 400 ] || { echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1; }
        sleep 0.05
    done
}
inns() {
    if [ "$1" = host ]; then shift; "$@"; else n=$1; shift; ip netns exec "$n" "$@"; fi
}
fetch() {
    inns "$1" python3 - "$2" "${3:-3}" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
        print(r.status, r.read().decode())
except Exception as e:
    print("FAIL", e)
    sys.exit(1)
PY
}
tcp() {
    inns "$1" python3 - "$2" "$3" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
    print("open")
except OSError:
    print("closed")
PY
}
serve() {
    if [ "$1" = host ]; then
        python3 -c "$SERVE_PY" "" "$2" "$3" 2>>$T/serve-$1-$2.log &
    else
        ip netns exec "$1" python3 -c "$SERVE_PY" "" "$2" "$3" 2>>$T/serve-$1-$2.log &
    fi
    PIDS="$PIDS $!"
    i=0
    until inns "$1" ss -Htln "sport = :$2" | grep -q .; do
        i=$((i+1)); [ $i -lt 200 ] || { echo "server in $1 on $2 did not start" >&2; return 1; }
        sleep 0.05
    done
}
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done' EXIT
"##;

/// Run `script` with `sh` inside fresh private namespaces ([`common::sh`]: `set -e`, a
/// private /run, /sys and `$T`), after the shell functions above.
pub fn sh(script: &str) -> Run {
    common::sh(&format!("{FUNCTIONS}\n{script}"))
}

/// [`sh`], asserting success.
pub fn sh_ok(script: &str) -> Run {
    sh(script).success()
}

/// The names in `ip netns list` output (without the `(id: N)` suffix), sorted.
pub fn netns_names(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// The objects of one kind (`table`, `chain`, `rule`) in `nft -j list ruleset` output.
pub fn nft_objects<'a>(ruleset: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    ruleset["nftables"]
        .as_array()
        .expect("nft -j output has an nftables array")
        .iter()
        .filter_map(|o| o.get(kind))
        .collect()
}

/// Whether `nft -j list ruleset` output holds no tables at all.
pub fn nft_empty(ruleset: &serde_json::Value) -> bool {
    nft_objects(ruleset, "table").is_empty()
}
