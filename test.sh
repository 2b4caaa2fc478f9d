#!/bin/sh
# Runs netscript's whole test suite: formatting and lint checks (cargo fmt, cargo clippy),
# unit tests, and integration tests that build real namespaces inside private sandboxes
# (they never touch this machine's own network).
# Needs root (the integration tests create namespaces), Linux, iproute2, nftables and
# python3; installs the Debian packages that are missing.
set -eu
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
    echo "test.sh: the integration tests need root (they create network namespaces in sandboxes)" >&2
    exit 1
fi
. tools/deps.sh

# The code is formatted and lint-free before anything runs.
cargo fmt --check
cargo clippy --all-targets -- -D warnings

cargo test "$@"

# The tests ran in sandboxes: the machine's own namespace must hold nothing of ours, and
# the sandboxes' registry (the one directory a sandbox makes on the host, while it runs)
# must be gone.
leaks="$(ip netns list)"
if [ -n "$leaks" ] || nft list tables 2>/dev/null | grep -q netscript || [ -e /run/netscript-sandboxes ]; then
    echo "test.sh: the host namespace holds something a test left behind:" >&2
    ip netns list >&2
    nft list tables >&2 || true
    ls -la /run/netscript-sandboxes >&2 2>/dev/null || true
    exit 1
fi
