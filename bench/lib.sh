# Shared by the benchmark's shell ways: the seed lab's addresses for N containers,
# computed exactly as scripts/build-lab.rhai does (a /16 above 250 containers;
# container K at the (K+1)-th address of the network, the gateway at the first).
# Sourced, not run.

lab_n() {
    case "${1:-}" in
        '' | *[!0-9]*) echo "usage: $0 N  (the number of containers, 1..65000)" >&2; exit 2 ;;
    esac
    N=$1
    if [ "$N" -lt 1 ] || [ "$N" -gt 65000 ]; then
        echo "$0: N must be between 1 and 65000, not $N" >&2; exit 2
    fi
    GW=10.100.0.1
    if [ "$N" -gt 250 ]; then PFX=16; else PFX=24; fi
    SUBNET=10.100.0.0/$PFX
    NFT_TABLE=netscript-bench
}

# addr_of K: sets ADDR to container K's address, without the prefix (10.100.0.0 + K + 1).
# (A variable, not $(...): a subshell per container would be cost the lab does not have.)
addr_of() {
    local i=$(($1 + 1))
    ADDR="10.100.$((i / 256)).$((i % 256))"
}
