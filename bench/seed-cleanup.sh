#!/bin/bash
# The seed's cleanup.sh generalised to N containers: one process per step.
#   bench/seed-cleanup.sh N
set -e
. "$(dirname "$0")/lib.sh"
lab_n "$@"

for k in $(seq 1 "$N"); do
    ip netns del c$k        # deleting a namespace also deletes its veth ends
done
ip link del br0
nft delete table inet $NFT_TABLE
