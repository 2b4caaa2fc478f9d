#!/bin/bash
# netscript's benchmark: the seed's lab (bridge br0, N containers each a namespace + veth +
# address + lo up + default route, forwarding, masquerade) built and torn down five ways,
# alternating within every run, each build + teardown in a fresh sandbox of its own
# (`unshare --net --mount`: the machine's own network is never touched):
#   netscript    target/release/netscript scripts/build-lab.rhai N; netscript down build-lab
#   seed         bench/seed.sh N: one ip / ip netns exec / sysctl / nft process per step
#   batch        bench/batch.sh N: ip -batch, one ip -n cK -batch per container, nft -f
#   floor        bench/floor.rs: the unavoidable netlink requests, no interpreter, links
#                made with the kernel's defaults (as plain `ip` makes them)
#   floor-tuned  the same with netscript's creation flags (one queue per veth end, bridge
#                multicast snooping off: src/lab/tuning.rs), the floor netscript is held to
#   netscript-lab  netscript --lab-mode: bridge ports without IPv6 and multicast flooding
#   floor-lab    the tuned floor with lab mode, the floor netscript-lab is held to
#   seed-style   netscript bench/seed-style.rhai N: veths created in the host, then moved
# At the largest N it also measures netscript's peak RSS, `graph`, `ls` and host `links()`.
# Every build is verified before its time counts (bench/one.sh); a failed check aborts.
#
#   bench/run.sh [--runs R] [N ...]     default: N = 10 100 1000, R = 5
#   bench/run.sh --smoke                N = 3, one run, every way, the same checks
#
# Builds `cargo build --release` and the floor example first, unless $NETSCRIPT_BIN and
# $FLOOR_BIN name binaries already built. Needs root (unshare), iproute2, nftables.
# Prints one line per build, then medians, ratios and the issue's targets; writes the
# table to bench/results.md ($BENCH_RESULTS; --smoke writes to a temporary file instead).
set -euo pipefail
export LC_ALL=C

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# Paths given relative to where we were started.
for v in NETSCRIPT_BIN FLOOR_BIN BENCH_RESULTS; do
    if [ -n "${!v:-}" ]; then
        declare "$v=$(realpath -m -- "${!v}")"
        export "${v?}"
    fi
done
cd "$(dirname "$0")/.."

RUNS=5
SMOKE=0
NS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --runs) [ $# -ge 2 ] || usage; RUNS=$2; shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        -h | --help) usage ;;
        *[!0-9]* | '') echo "bench/run.sh: not a number of containers: $1" >&2; usage ;;
        *) NS+=("$1") ;;
    esac
    shift
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "bench/run.sh: --runs needs a positive number" >&2; exit 2 ;; esac
STARTUP_RUNS=20
if [ "$SMOKE" = 1 ]; then
    NS=(3)
    RUNS=1
    STARTUP_RUNS=5
fi
[ ${#NS[@]} -gt 0 ] || NS=(10 100 1000)
for n in "${NS[@]}"; do
    if [ "$n" -lt 1 ] || [ "$n" -gt 65000 ]; then
        echo "bench/run.sh: N must be between 1 and 65000, not $n" >&2
        exit 2
    fi
done

if [ "$(id -u)" != 0 ]; then
    echo "bench/run.sh: needs root (each run is an unshare --net --mount sandbox)" >&2
    exit 1
fi
for tool in ip nft unshare; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing (apt-get install iproute2 nftables util-linux)" >&2; exit 1; }
done

# --- The binaries. ---
target=${CARGO_TARGET_DIR:-target}
if [ -z "${NETSCRIPT_BIN:-}" ]; then
    echo "== cargo build --release" >&2
    cargo build --release >&2
    NETSCRIPT_BIN=$(realpath "$target/release/netscript")
fi
if [ -z "${FLOOR_BIN:-}" ]; then
    echo "== cargo build --release --example floor" >&2
    cargo build --release --example floor >&2
    FLOOR_BIN=$(realpath "$target/release/examples/floor")
fi
for b in "$NETSCRIPT_BIN" "$FLOOR_BIN"; do
    [ -x "$b" ] || { echo "bench/run.sh: no executable at $b" >&2; exit 1; }
done
export NETSCRIPT_BIN FLOOR_BIN
BENCH_HOST_NETNS=$(readlink /proc/self/ns/net)
export BENCH_HOST_NETNS

# one WAY N: one sandboxed run of bench/one.sh; its RESULT line, or abort loudly.
one() {
    local out
    if ! out=$(unshare --net --mount --propagation private bash bench/one.sh "$1" "$2" 2>&1); then
        printf '%s\n' "$out" >&2
        echo "bench/run.sh: ABORTED: way $1 at N=$2 failed (see above); no timing from it counts" >&2
        exit 1
    fi
    local line
    line=$(grep '^RESULT ' <<<"$out" | tail -n1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" >&2
        echo "bench/run.sh: ABORTED: way $1 at N=$2 printed no RESULT line" >&2
        exit 1
    fi
    RESULT=$line
}

# field NAME: the value of NAME=... in $RESULT.
field() {
    local f
    for f in $RESULT; do
        case "$f" in "$1="*) echo "${f#*=}"; return ;; esac
    done
}

minmax() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f–%.1f", lo / 1000, hi / 1000 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
ms3() { awk -v u="$1" -v n="${2:-1}" 'BEGIN { printf "%.3f", u / 1000 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

WAYS=(netscript netscript-lab seed batch floor floor-tuned floor-lab seed-style)
declare -A BUILD TEARDOWN RELEASED

started=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "netscript benchmark: N = ${NS[*]}, $RUNS run(s) each, ways alternating; $(nproc) CPUs, kernel $(uname -r)"
echo "netscript: $NETSCRIPT_BIN"
echo "floor:     $FLOOR_BIN"
for n in "${NS[@]}"; do
    for r in $(seq 1 "$RUNS"); do
        for i in "${!WAYS[@]}"; do
            w=${WAYS[$(((i + r - 1) % ${#WAYS[@]}))]}   # each run starts one way later
            one "$w" "$n"
            b=$(field build_us) t=$(field teardown_us) rel=$(field released_us)
            BUILD[$w,$n]+=" $b"
            TEARDOWN[$w,$n]+=" $t"
            RELEASED[$w,$n]+=" $rel"
            printf 'N=%-5s run %d/%d  %-10s  build %9s ms (%7s ms/container)  teardown %8s ms  released %8s ms\n' \
                "$n" "$r" "$RUNS" "$w" "$(ms "$b")" "$(ms3 "$b" "$n")" "$(ms "$t")" "$(ms "$rel")"
        done
    done
done

# Medians, in microseconds.
declare -A MB MT MR SPREAD
for n in "${NS[@]}"; do
    for w in "${WAYS[@]}"; do
        # shellcheck disable=SC2086
        SPREAD[$w,$n]=$(minmax ${BUILD[$w,$n]})
        # shellcheck disable=SC2086
        MB[$w,$n]=$(median ${BUILD[$w,$n]})
        # shellcheck disable=SC2086
        MT[$w,$n]=$(median ${TEARDOWN[$w,$n]})
        # shellcheck disable=SC2086
        MR[$w,$n]=$(median ${RELEASED[$w,$n]})
    done
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Peak RSS of netscript at the largest N, and startup.
NMAX=$(printf '%s\n' "${NS[@]}" | sort -n | tail -n1)
NMIN=$(printf '%s\n' "${NS[@]}" | sort -n | head -n1)
if [ ! -x /usr/bin/time ]; then
    echo "== /usr/bin/time is missing: apt-get install -y time" >&2
    apt-get install -y time >/dev/null 2>&1 || true
fi
if [ -x /usr/bin/time ]; then
    one rss "$NMAX"
    RSS_BUILD=$(field build_kb) RSS_DOWN=$(field down_kb)
else
    RSS_BUILD="" RSS_DOWN=""
fi
one inspect "$NMAX"
GRAPH_S=$(awk -v u="$(field graph_us)" 'BEGIN { printf "%.2f", u / 1e6 }')
LS_S=$(awk -v u="$(field ls_us)" 'BEGIN { printf "%.2f", u / 1e6 }')
LINKS_S=$(awk -v u="$(field links_us)" 'BEGIN { printf "%.2f", u / 1e6 }')
one startup "$STARTUP_RUNS"
# shellcheck disable=SC2086
STARTUP=$(median ${RESULT#*us=})

# The N the issue's N = 100 targets are judged at, and the two N of the scaling target.
NT=$NMAX
for n in "${NS[@]}"; do [ "$n" != 100 ] || NT=100; done
NLO=$NMIN NHI=$NMAX
for n in "${NS[@]}"; do [ "$n" != 10 ] || NLO=10; [ "$n" != 1000 ] || NHI=1000; done

per() { awk -v u="$1" -v n="$2" 'BEGIN { print u / n }'; }
R_BASH=$(ratio "${MB[seed,$NT]}" "${MB[netscript,$NT]}")
R_BATCH=$(ratio "${MB[batch,$NT]}" "${MB[netscript,$NT]}")
R_FLOOR=$(ratio "${MB[netscript,$NT]}" "${MB[floor,$NT]}")
R_TUNED=$(ratio "${MB[netscript,$NT]}" "${MB[floor-tuned,$NT]}")
R_TUNED_HI=$(ratio "${MB[netscript,$NMAX]}" "${MB[floor-tuned,$NMAX]}")
R_LAB_HI=$(ratio "${MB[netscript-lab,$NMAX]}" "${MB[floor-lab,$NMAX]}")
PER_NT=$(ms3 "${MB[netscript,$NT]}" "$NT")
PER_MAX=$(ms3 "${MB[netscript,$NMAX]}" "$NMAX")
PER_LAB_MAX=$(ms3 "${MB[netscript-lab,$NMAX]}" "$NMAX")
REL_NT=$(ms "${MR[netscript,$NT]}")
REL_MAX=$(ms "${MR[netscript,$NMAX]}")
R_MOVE=$(ratio "${MB[seed-style,$NT]}" "${MB[netscript,$NT]}")
R_TBASH=$(ratio "${MR[seed,$NT]}" "${MR[netscript,$NT]}")
R_TBATCH=$(ratio "${MR[batch,$NT]}" "${MR[netscript,$NT]}")
if [ "$NLO" != "$NHI" ]; then
    R_SCALE=$(ratio "$(per "${MB[netscript,$NHI]}" "$NHI")" "$(per "${MB[netscript,$NLO]}" "$NLO")")
    R_SCALE_FLOOR=$(ratio "$(per "${MB[floor,$NHI]}" "$NHI")" "$(per "${MB[floor,$NLO]}" "$NLO")")
    R_SCALE_LAB=$(ratio "$(per "${MB[netscript-lab,$NMAX]}" "$NMAX")" "$(per "${MB[netscript-lab,$NT]}" "$NT")")
else
    R_SCALE=n/a R_SCALE_FLOOR=n/a R_SCALE_LAB=n/a
fi
RSS_MB=$([ -n "$RSS_BUILD" ] && awk -v k="$RSS_BUILD" 'BEGIN { printf "%.1f", k / 1024 }' || echo n/a)
RSS_DOWN_MB=$([ -n "$RSS_DOWN" ] && awk -v k="$RSS_DOWN" 'BEGIN { printf "%.1f", k / 1024 }' || echo n/a)
STARTUP_MS=$(awk -v u="$STARTUP" 'BEGIN { printf "%.1f", u / 1000 }')

x() { if [ "$1" = n/a ]; then echo n/a; else echo "$1×"; fi; }

# check VALUE OP TARGET: met, or MISSED and by how much.
check() {
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
        if (v == "n/a" || v == "") { print "not measured"; exit }
        if (op == ">=") { if (v + 0 >= t + 0) print "met"; else printf "MISSED: %s < %s (%.0f%% of the target)\n", v, t, 100 * v / t }
        else            { if (v + 0 <= t + 0) print "met"; else printf "MISSED: %s > %s (%.0f%% over)\n", v, t, 100 * (v / t - 1) }
    }'
}

report() {
    echo "## Benchmark results"
    echo
    echo "\`bench/run.sh$([ "$SMOKE" = 1 ] && echo " --smoke" || echo " --runs $RUNS ${NS[*]}")\`, $(date -u +%Y-%m-%d), commit" \
        "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src stdlib scripts 2>/dev/null || echo ' (modified)'), kernel $(uname -r)," \
        "$(nproc) CPUs. Medians of $RUNS run(s); each build verified (c1 pings cN over br0, masquerade rule present)" \
        "before its time counts; \"released\" is from the start of the teardown until \`ip -o link\` shows only lo." \
        "Load average before / after: $LOAD_BEFORE / $LOAD_AFTER (the machine is shared: timings are noisy)."
    echo
    echo "| N | way | build ms | per container ms | teardown ms | released ms | build min–max ms |"
    echo "|---:|---|---:|---:|---:|---:|---:|"
    for n in "${NS[@]}"; do
        for w in "${WAYS[@]}"; do
            echo "| $n | $w | $(ms "${MB[$w,$n]}") | $(ms3 "${MB[$w,$n]}" "$n") | $(ms "${MT[$w,$n]}") | $(ms "${MR[$w,$n]}") | ${SPREAD[$w,$n]} |"
        done
    done
    echo
    echo "| target | measured | |"
    echo "|---|---:|---|"
    echo "| build: bash / netscript ≥ 30× at N = 100 (here N = $NT) | $(x "$R_BASH") | $(check "$R_BASH" '>=' 30) |"
    echo "| build: batch / netscript ≥ 3× at N = 100 (here N = $NT) | $(x "$R_BATCH") | $(check "$R_BATCH" '>=' 3) |"
    echo "| build: ≤ 1.4 ms per container at N = 100 (here N = $NT) | $PER_NT ms | $(check "$PER_NT" '<=' 1.4) |"
    [ "$NMAX" = "$NT" ] ||
        echo "| build: ≤ 4.0 ms per container at N = 1000 (here N = $NMAX) | $PER_MAX ms | $(check "$PER_MAX" '<=' 4.0) |"
    echo "| build: netscript / floor ≤ 1.3× (N = $NT) | $(x "$R_FLOOR") | $(check "$R_FLOOR" '<=' 1.3) |"
    echo "| build: netscript / tuned floor ≤ 1.15× (N = $NT) | $(x "$R_TUNED") | $(check "$R_TUNED" '<=' 1.15) |"
    [ "$NMAX" = "$NT" ] ||
        echo "| build: netscript / tuned floor ≤ 1.15× (N = $NMAX) | $(x "$R_TUNED_HI") | $(check "$R_TUNED_HI" '<=' 1.15) |"
    echo "| lab mode: ≤ 1.9 ms per container at N = 1000 (here N = $NMAX) | $PER_LAB_MAX ms | $(check "$PER_LAB_MAX" '<=' 1.9) |"
    echo "| lab mode: netscript-lab / floor-lab ≤ 1.2× (N = $NMAX) | $(x "$R_LAB_HI") | $(check "$R_LAB_HI" '<=' 1.2) |"
    [ "$NMAX" = "$NT" ] ||
        echo "| lab mode: per-container build, N = $NMAX over N = $NT ≤ 1.3× | $(x "$R_SCALE_LAB") | $(check "$R_SCALE_LAB" '<=' 1.3) |"
    echo "| until released: ≤ 130 ms at N = 100 (here N = $NT) | $REL_NT ms | $(check "$REL_NT" '<=' 130) |"
    [ "$NMAX" = "$NT" ] ||
        echo "| until released: ≤ 1100 ms at N = 1000 (here N = $NMAX) | $REL_MAX ms | $(check "$REL_MAX" '<=' 1100) |"
    echo "| \`graph\` / \`ls\` / host \`links()\` ≤ 1 s at N = 1000 (here N = $NMAX) | $GRAPH_S / $LS_S / $LINKS_S s | $(check "$GRAPH_S" '<=' 1) / $(check "$LS_S" '<=' 1) / $(check "$LINKS_S" '<=' 1) |"
    echo "| build: seed-style / in-place netscript ≤ 1.5× (N = $NT) | $(x "$R_MOVE") | $(check "$R_MOVE" '<=' 1.5) |"
    echo "| until released: batch / netscript ≥ 1× (N = $NT) | $(x "$R_TBATCH") | $(check "$R_TBATCH" '>=' 1) |"
    echo "| until released: bash / netscript ≥ 5× at N = 100 (here N = $NT) | $(x "$R_TBASH") | $(check "$R_TBASH" '>=' 5) |"
    echo "| per-container build, N = $NHI over N = $NLO ≤ 1.2× (floor: $(x "$R_SCALE_FLOOR")) | $(x "$R_SCALE") | $(check "$R_SCALE" '<=' 1.2) |"
    echo "| peak RSS of netscript ≤ 8 MB at N = 1000 (here N = $NMAX; down: $RSS_DOWN_MB MB) | $RSS_MB MB | $(check "$RSS_MB" '<=' 8) |"
    echo "| \`netscript -e 1\` ≤ 10 ms (median of $STARTUP_RUNS) | $STARTUP_MS ms | $(check "$STARTUP_MS" '<=' 10) |"
}
REPORT=$(report)
echo
printf '%s\n' "$REPORT"
echo
for n in "${NS[@]}"; do
    echo "ratios N=$n: build bash/netscript $(ratio "${MB[seed,$n]}" "${MB[netscript,$n]}")x," \
        "batch/netscript $(ratio "${MB[batch,$n]}" "${MB[netscript,$n]}")x," \
        "netscript/floor $(ratio "${MB[netscript,$n]}" "${MB[floor,$n]}")x," \
        "netscript/floor-tuned $(ratio "${MB[netscript,$n]}" "${MB[floor-tuned,$n]}")x," \
        "netscript-lab/floor-lab $(ratio "${MB[netscript-lab,$n]}" "${MB[floor-lab,$n]}")x," \
        "seed-style/netscript $(ratio "${MB[seed-style,$n]}" "${MB[netscript,$n]}")x;" \
        "until released bash/netscript $(ratio "${MR[seed,$n]}" "${MR[netscript,$n]}")x," \
        "batch/netscript $(ratio "${MR[batch,$n]}" "${MR[netscript,$n]}")x"
done
echo "scaling: per-container build N=$NHI over N=$NLO: netscript $(x "$R_SCALE"), floor $(x "$R_SCALE_FLOOR")"
echo "memory: netscript peak RSS at N=$NMAX: build $RSS_MB MB, down $RSS_DOWN_MB MB"
echo "inspection at N=$NMAX: graph $GRAPH_S s, ls $LS_S s, host links() $LINKS_S s"
echo "startup: netscript -e 1 median $STARTUP_MS ms over $STARTUP_RUNS runs"

if [ "$SMOKE" = 1 ]; then
    dest=${BENCH_RESULTS:-${TMPDIR:-/tmp}/netscript-bench-smoke.md}
else
    dest=${BENCH_RESULTS:-bench/results.md}
fi
printf '%s\n' "$REPORT" >"$dest"
echo "table written to $dest ($((SECONDS - started)) s)"
