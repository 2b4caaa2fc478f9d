#!/bin/bash
# Teardown for bench/batch.sh: one `ip -batch` (every namespace, then the bridge), one
# `nft` delete.
#   bench/batch-cleanup.sh N
set -e
. "$(dirname "$0")/lib.sh"
lab_n "$@"

{
    for k in $(seq 1 "$N"); do echo "netns del c$k"; done
    echo "link del br0"
} | ip -batch -
nft delete table inet $NFT_TABLE
