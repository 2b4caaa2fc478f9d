# Sourced by test.sh and demo.sh: install the Debian packages netscript needs at run
# time (iproute2 for `ip`, nftables for `nft`) and its tests use (python3), if missing.
need=""
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v nft >/dev/null 2>&1 || need="$need nftables"
command -v python3 >/dev/null 2>&1 || need="$need python3"
# sshd and ssh: tests/hosts.rs simulates machines reached over SSH (`--hosts`).
[ -x /usr/sbin/sshd ] || need="$need openssh-server"
command -v ssh >/dev/null 2>&1 || need="$need openssh-client"
# iptables (the nft-based one) only for the tests that run the seed's bash scripts as they are.
command -v iptables >/dev/null 2>&1 || need="$need iptables"
if [ -n "$need" ]; then
    echo "installing:$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
