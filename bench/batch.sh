#!/bin/bash
# The fastest CLI way to build the seed's lab: one `ip -batch` for the namespaces and the
# host side (each veth's peer created directly inside its namespace), one
# `ip -n cK -batch` per container, one `nft -f`, one `sysctl`.
#   bench/batch.sh N         undo with bench/batch-cleanup.sh N
set -e
. "$(dirname "$0")/lib.sh"
lab_n "$@"

{
    for k in $(seq 1 "$N"); do echo "netns add c$k"; done
    echo "link add br0 type bridge"
    echo "addr add $GW/$PFX dev br0"
    echo "link set br0 up"
    for k in $(seq 1 "$N"); do
        echo "link add veth-c$k-br type veth peer name veth-c$k netns c$k"
        echo "link set veth-c$k-br master br0"
        echo "link set veth-c$k-br up"
    done
} | ip -batch -

for k in $(seq 1 "$N"); do
    addr_of $k
    ip -n c$k -batch - <<EOB
addr add $ADDR/$PFX dev veth-c$k
link set veth-c$k up
link set lo up
route add default via $GW
EOB
done

nft -f - <<NFT
add table inet $NFT_TABLE
add chain inet $NFT_TABLE postrouting { type nat hook postrouting priority srcnat; policy accept; }
add rule inet $NFT_TABLE postrouting ip saddr $SUBNET oifname != "br0" masquerade
NFT
sysctl -w net.ipv4.ip_forward=1 >/dev/null
