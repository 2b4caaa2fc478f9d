#!/bin/sh
# The main demo: builds netscript and runs the seed's lab (a bridge, two containers,
# forwarding and NAT) in a sandbox, printing each change as the `ip`/`nft` command it
# stands for. Nothing touches this machine's own network; it all vanishes at exit.
set -eu
cd "$(dirname "$0")"
. tools/deps.sh
cargo build --release --quiet
exec ./target/release/netscript --sandbox --trace scripts/build-lab.rhai "$@"
