#!/bin/bash
# One measured build + teardown of the seed's lab, in a sandbox of its own. bench/run.sh
# starts it as
#   unshare --net --mount --propagation private bash bench/one.sh WAY N
# WAY: netscript | netscript-lab | seed | batch | floor | floor-tuned | floor-lab | seed-style.
# Also:
#   bench/one.sh rss N        netscript build-lab + down under /usr/bin/time, peak RSS only
#   bench/one.sh startup K    K runs of `netscript -e 1`, each timed
#   bench/one.sh inspect N    netscript build-lab, then `graph`, `ls` and host `links()` timed
# Binaries: $NETSCRIPT_BIN and $FLOOR_BIN (run.sh sets them). $BENCH_HOST_NETNS, when set,
# is the caller's namespace (readlink /proc/self/ns/net): one.sh refuses to run in it.
#
# Prints one line `RESULT way=W n=N build_us=.. teardown_us=.. released_us=..` (times from
# $EPOCHREALTIME, in microseconds; released = from the start of the teardown until
# `ip -o link` shows only lo). The build is VERIFIED before its time counts: c1 reaches cN
# over br0 (an ICMP echo, `netscript -e 'netns_open("c1").ping(..)'`), the masquerade rule
# is in `nft list ruleset`, N namespaces exist, N ports are on br0, ip_forward is 1; after
# the teardown nothing may be left. Any failure exits non-zero with `VERIFY FAILED`.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
. bench/lib.sh

fail() {
    echo "VERIFY FAILED: way=$WAY n=$N: $*" >&2
    exit 3
}

WAY=${1:-}
N=${2:-}
case "$WAY" in
    netscript | netscript-lab | seed | batch | floor | floor-tuned | floor-lab | seed-style | rss | startup | inspect) ;;
    *) echo "usage: bench/one.sh netscript|netscript-lab|seed|batch|floor|floor-tuned|floor-lab|seed-style|rss|startup|inspect N" >&2; exit 2 ;;
esac
NS_BIN=${NETSCRIPT_BIN:?set NETSCRIPT_BIN to the netscript binary}
case "$WAY" in floor*) : "${FLOOR_BIN:?set FLOOR_BIN to the floor example binary}" ;; esac

# --- The sandbox: refuse to run anywhere but a network namespace of our own. ---
own=$(readlink /proc/self/ns/net)
if [ -n "${BENCH_HOST_NETNS:-}" ] && [ "$own" = "$BENCH_HOST_NETNS" ]; then
    echo "bench/one.sh: this is the caller's network namespace, not a sandbox; run it through" \
        "unshare --net --mount --propagation private" >&2
    exit 99
fi
if [ "$(ip -o link | wc -l)" != 1 ]; then
    echo "bench/one.sh: the namespace is not fresh (more than lo); run it through" \
        "unshare --net --mount --propagation private" >&2
    exit 99
fi
# A private /run: the mount points are made there, not on the host's /run.
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /run/netscript
mount -t sysfs sysfs /sys
ip link set lo up


if [ "$WAY" = startup ]; then
    out=""
    for _ in $(seq 1 "$N"); do
        t0=${EPOCHREALTIME/./}
        "$NS_BIN" -e 1 >/dev/null
        t1=${EPOCHREALTIME/./}
        out+=" $((t1 - t0))"
    done
    echo "RESULT way=startup runs=$N us=${out# }"
    exit 0
fi

lab_n "$N"
addr_of "$N"
LAST=$ADDR

case "$WAY" in
    netscript | rss | inspect)
        build() { "$NS_BIN" scripts/build-lab.rhai "$N" >/dev/null; }
        teardown() { "$NS_BIN" down build-lab >/dev/null; } ;;
    netscript-lab)
        build() { "$NS_BIN" --lab-mode scripts/build-lab.rhai "$N" >/dev/null 2>&1; }
        teardown() { "$NS_BIN" down build-lab >/dev/null; } ;;
    seed-style)
        build() { "$NS_BIN" bench/seed-style.rhai "$N" >/dev/null; }
        teardown() { "$NS_BIN" down seed-style >/dev/null; } ;;
    seed)
        build() { bash bench/seed.sh "$N"; }
        teardown() { bash bench/seed-cleanup.sh "$N"; } ;;
    batch)
        build() { bash bench/batch.sh "$N"; }
        teardown() { bash bench/batch-cleanup.sh "$N"; } ;;
    floor)
        build() { "$FLOOR_BIN" up "$N"; }
        teardown() { "$FLOOR_BIN" down "$N"; } ;;
    floor-tuned)
        build() { "$FLOOR_BIN" up "$N" tuned; }
        teardown() { "$FLOOR_BIN" down "$N"; } ;;
    floor-lab)
        build() { "$FLOOR_BIN" up "$N" lab; }
        teardown() { "$FLOOR_BIN" down "$N"; } ;;
esac

if [ "$WAY" = rss ]; then
    [ -x /usr/bin/time ] || { echo "bench/one.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
    /usr/bin/time -f %M -o /run/netscript/rss.build "$NS_BIN" scripts/build-lab.rhai "$N" >/dev/null
    /usr/bin/time -f %M -o /run/netscript/rss.down "$NS_BIN" down build-lab >/dev/null
    echo "RESULT way=rss n=$N build_kb=$(tail -n1 /run/netscript/rss.build) down_kb=$(tail -n1 /run/netscript/rss.down)"
    exit 0
fi

if [ "$WAY" = inspect ]; then
    build
    timed() {
        local t0 t1
        t0=${EPOCHREALTIME/./}
        "$@" >/dev/null || fail "$* failed"
        t1=${EPOCHREALTIME/./}
        echo $((t1 - t0))
    }
    g=$(timed "$NS_BIN" graph build-lab)
    l=$(timed "$NS_BIN" ls)
    k=$(timed "$NS_BIN" -e 'host().links().len()')
    teardown
    echo "RESULT way=inspect n=$N graph_us=$g ls_us=$l links_us=$k"
    exit 0
fi

# --- Build, timed. ---
t0=${EPOCHREALTIME/./}   # microseconds; no child process
build || fail "the build failed (exit $?)"
t1=${EPOCHREALTIME/./}

# --- Verify, untimed: the lab must really be the seed's lab. ---
ok=$("$NS_BIN" -e "netns_open(\"c1\").ping(\"$LAST\")" 2>&1) || fail "the ping check did not run: $ok"
[ "$ok" = true ] || fail "c1 does not reach c$N ($LAST) over br0: $ok"
rules=$(nft list ruleset)
[[ "$rules" == *masquerade* ]] || fail "no masquerade rule in: $rules"
ns_count=$(ls /run/netns | wc -l)
[ "$ns_count" = "$N" ] || fail "$ns_count namespaces, not $N"
ports=$(ip -o link show master br0 | wc -l)
[ "$ports" = "$N" ] || fail "$ports ports on br0, not $N"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward is not 1"
route=$(ip -n "c$N" route show default)
[[ "$route" == *"via $GW "* ]] || fail "c$N has no default route via $GW: $route"

# --- Teardown, timed; then until the kernel has released every link. ---
t2=${EPOCHREALTIME/./}
teardown || fail "the teardown failed (exit $?)"
t3=${EPOCHREALTIME/./}
# Poll without a child process per poll (the kernel's cleanup needs the CPUs): the fresh
# sysfs lists exactly this namespace's links, and leaves them no earlier than `ip link`
# does; `ip -o link` then confirms. A read with a timeout on a pipe nobody writes is a
# sleep without a process.
exec {idle}<> <(:)
deadline=$((t3 + 120000000))
while :; do
    links=(/sys/class/net/*)
    if [ "${#links[@]}" = 1 ] && [ "$(ip -o link | wc -l)" = 1 ]; then break; fi
    [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || fail "links still there 120 s after the teardown: $(ip -o link | head)"
    read -rt 0.001 -u "$idle" _ || :
done
t4=${EPOCHREALTIME/./}
[ -z "$(ls /run/netns)" ] || fail "namespaces left after the teardown: $(ls /run/netns | head)"
[ -z "$(nft list ruleset)" ] || fail "nftables rules left after the teardown: $(nft list ruleset)"

echo "RESULT way=$WAY n=$N build_us=$((t1 - t0)) teardown_us=$((t3 - t2)) released_us=$((t4 - t2))"
