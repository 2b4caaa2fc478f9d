#!/bin/bash
# The seed's build-container-network.sh generalised to N containers: one `ip`,
# `ip netns exec`, `sysctl` or `nft` process per step, exactly the seed's steps.
# (The seed's one `iptables -t nat -A POSTROUTING ... -j MASQUERADE` line is one `nft`
# process here: this machine has no iptables.)
#   bench/seed.sh N          undo with bench/seed-cleanup.sh N
set -e
. "$(dirname "$0")/lib.sh"
lab_n "$@"

# --- Create bridge ---
ip link add br0 type bridge
ip addr add $GW/$PFX dev br0
ip link set br0 up

for k in $(seq 1 "$N"); do
    addr_of $k
    # --- Container k ---
    ip netns add c$k
    ip link add veth-c$k type veth peer name veth-c$k-br
    ip link set veth-c$k netns c$k
    ip link set veth-c$k-br master br0
    ip link set veth-c$k-br up
    ip netns exec c$k ip addr add $ADDR/$PFX dev veth-c$k
    ip netns exec c$k ip link set veth-c$k up
    ip netns exec c$k ip link set lo up
    ip netns exec c$k ip route add default via $GW
done

# --- Enable forwarding + NAT ---
sysctl -w net.ipv4.ip_forward=1 >/dev/null
nft "add table inet $NFT_TABLE;" \
    "add chain inet $NFT_TABLE postrouting { type nat hook postrouting priority srcnat; policy accept; };" \
    "add rule inet $NFT_TABLE postrouting ip saddr $SUBNET oifname != \"br0\" masquerade"
