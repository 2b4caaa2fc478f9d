//! The example scripts in `scripts/`: each runs under `--sandbox` and exits 0, and the ones
//! that build something are run again without `--sandbox` inside `sandbox_sh`, where the
//! state they leave is checked with `ip -j` and real traffic.

mod common;

use common::*;

/// Every script in `scripts/` must be listed here and have a test below.
const KNOWN_SCRIPTS: &[&str] = &[
    "basics",
    "build-lab",
    "cleanup",
    "connect-two",
    "docker-port",
    "firewall",
    "host-route",
    "inspect",
    "internet-access",
    "isolation",
    "overlay",
    "process-isolation",
    "slow-link",
];

/// `netscript --sandbox scripts/NAME.rhai` exits 0 and prints its closing message, in the
/// default mode and in lab mode (`--lab-mode`: the seed's scripts run unchanged).
fn runs_in_sandbox(name: &str, last_message: &str) {
    for flags in [&[][..], &["--lab-mode"][..]] {
        let script = script_path(name);
        let run = sandboxed(&[flags, &[script.as_str()]].concat()).success();
        assert!(
            run.stdout.contains(last_message),
            "{name} {flags:?} did not run to its end\n{run}"
        );
        assert!(
            !run.stderr.contains("error"),
            "{name} {flags:?} reported an error\n{run}"
        );
    }
}

#[test]
fn every_script_has_a_test() {
    assert_lists_every_script(
        KNOWN_SCRIPTS,
        "a test in tests/scripts.rs (add a test fn and list it in KNOWN_SCRIPTS)",
    );
}

#[test]
fn every_script_passes_check() {
    for name in KNOWN_SCRIPTS {
        sh_ok(&format!("netscript check {}", q(&script_path(name))));
    }
}

#[test]
fn basics() {
    runs_in_sandbox("basics", "basics: red and blue exist");
}

#[test]
fn connect_two() {
    runs_in_sandbox("connect-two", "ping works both ways");
}

#[test]
fn isolation() {
    runs_in_sandbox("isolation", "isolation: three servers on port 8080");
}

#[test]
fn host_route() {
    runs_in_sandbox("host-route", "host-route: container -> host works");
}

#[test]
fn build_lab() {
    runs_in_sandbox(
        "build-lab",
        "Container network ready: br0 10.100.0.1/24 with 2 containers",
    );
}

#[test]
fn cleanup() {
    // cleanup.rhai removes what build-lab.rhai made, so it runs after it, in one sandbox.
    let run = sh_ok(&format!(
        r#"netscript {build}
echo @@cleanup; netscript {cleanup}
echo @@list; ip netns list
echo @@link; ip -j link
echo @@nft; nft list ruleset"#,
        build = q(&script_path("build-lab")),
        cleanup = q(&script_path("cleanup")),
    ));
    let s = run.sections();
    assert!(s.text("cleanup").contains("cleaned up"), "{run}");
    assert_eq!(s.text("list"), "", "no namespaces left");
    assert_eq!(
        link_names(&s.json("link")),
        ["lo"],
        "br0 and the veth ends are gone"
    );
    assert!(
        !s.text("nft").contains("masquerade"),
        "the masquerade rule is gone\n{run}"
    );
}

#[test]
fn build_lab_state_and_traffic() {
    let run = sh_ok(&format!(
        r#"netscript {} 3
echo @@list; ip netns list | cut -d' ' -f1 | sort
echo @@host-link; ip -j link
echo @@host-addr; ip -j addr
echo @@forward; cat /proc/sys/net/ipv4/ip_forward
echo @@nft; nft list ruleset
for c in c1 c2 c3; do
    echo @@addr-$c; ip -j -n $c addr
    echo @@route-$c; ip -d -j -n $c route
done
serve c3 10.100.0.4 8000
echo @@http; wait_http c1 http://10.100.0.4:8000/
echo @@ping; netscript -e 'netns_open("c2").ping("10.100.0.1")'"#,
        q(&script_path("build-lab"))
    ));
    let s = run.sections();
    assert_eq!(s.text("list"), "c1\nc2\nc3");
    let links = s.json("host-link");
    let br = find_link(&links, "br0");
    assert!(has_flag(br, "UP"), "br0 is up: {br}");
    assert_eq!(addrs_of(&s.json("host-addr"), "br0"), ["10.100.0.1/24"]);
    for (i, c) in ["c1", "c2", "c3"].iter().enumerate() {
        let end = find_link(&links, &format!("veth-{c}-br"));
        assert_eq!(end["master"], "br0", "{end}");
        assert!(has_flag(end, "UP"), "{end}");
        assert_eq!(
            addrs_of(&s.json(&format!("addr-{c}")), &format!("veth-{c}")),
            [format!("10.100.0.{}/24", i + 2)]
        );
        let routes = s.json(&format!("route-{c}"));
        let default = find_route(&routes, "default");
        assert_eq!(default["gateway"], "10.100.0.1", "{c}: {default}");
        assert_eq!(default["dev"], format!("veth-{c}"), "{c}: {default}");
    }
    assert_eq!(s.text("forward"), "1");
    let nft = s.text("nft");
    assert!(
        nft.contains("masquerade") && nft.contains("10.100.0.0/24"),
        "masquerade for the subnet\n{run}"
    );
    assert_eq!(
        s.text("http"),
        "HTTP 200 10.100.0.2",
        "c1 reaches c3 over br0"
    );
    assert_eq!(s.text("ping"), "true");
}

#[test]
fn docker_port() {
    runs_in_sandbox("docker-port", "docker-port: nginx says hi");
}

#[test]
fn firewall() {
    runs_in_sandbox("firewall", "firewall: red drops tcp/22, blue does not");
}

#[test]
fn inspect() {
    runs_in_sandbox(
        "inspect",
        "inspect: found, compared, named and looked inside a process's namespace",
    );
}

#[test]
fn internet_access() {
    runs_in_sandbox(
        "internet-access",
        "internet-access: container -> upstream through NAT",
    );
}

#[test]
fn overlay() {
    runs_in_sandbox(
        "overlay",
        "overlay: a1 <-> b1 over VXLAN 42: ping, TCP and a 1 MB transfer",
    );
}

#[test]
fn slow_link() {
    // The last line depends on whether the kernel has netem; both end with "delay: ".
    runs_in_sandbox("slow-link", "\ndelay: ");
}

#[test]
fn process_isolation() {
    runs_in_sandbox(
        "process-isolation",
        "process-isolation: three servers on port 80",
    );
}

#[test]
fn firewall_state_and_traffic() {
    // After the script, fresh servers on port 22 in red and blue: the host reaches blue's,
    // and red's only by ping. `nft` in each namespace shows the rule in red alone.
    let run = sh_ok(&format!(
        r#"netscript {} >/dev/null
echo @@red-nft; ip netns exec red nft list ruleset
echo @@blue-nft; ip netns exec blue nft list ruleset
echo @@host-nft; nft list ruleset
serve red 10.0.1.2 22
serve blue 10.0.1.3 22
echo @@blue-http; wait_http blue http://10.0.1.3:22/
# red's server is up (checked from the socket table: the rule drops red's own lo traffic too)
for i in $(seq 100); do ip netns exec red ss -Htln | grep -q 10.0.1.2:22 && break; sleep 0.1; done
echo @@red-ss; ip netns exec red ss -Htln
echo @@red-from-host; python3 -c 'import socket
try:
    socket.create_connection(("10.0.1.2", 22), timeout=1); print("open")
except OSError as e:
    print("blocked")'
echo @@blue-from-host; python3 -c 'import socket; socket.create_connection(("10.0.1.3", 22), timeout=5); print("open")'
echo @@ping; netscript -e 'host().ping("10.0.1.2")'"#,
        q(&script_path("firewall"))
    ));
    let s = run.sections();
    assert!(s.text("red-nft").contains("tcp dport 22 drop"), "{run}");
    assert!(!s.text("blue-nft").contains("drop"), "{run}");
    assert!(!s.text("host-nft").contains("drop"), "{run}");
    assert_eq!(s.text("blue-http"), "HTTP 200 10.0.1.3");
    assert!(
        s.text("red-ss").contains("10.0.1.2:22"),
        "red's server listens\n{run}"
    );
    assert_eq!(s.text("red-from-host"), "blocked");
    assert_eq!(s.text("blue-from-host"), "open");
    assert_eq!(s.text("ping"), "true");
}

#[test]
fn internet_access_state_and_traffic() {
    // After the script: forwarding on, a masquerade rule, and a fresh server upstream sees
    // the host's address as the peer of a request from the container.
    let run = sh_ok(&format!(
        r#"netscript {} >/dev/null
echo @@forward; cat /proc/sys/net/ipv4/ip_forward
echo @@nft; nft list ruleset
echo @@route; ip -j -n container route
serve upstream 203.0.113.2 8000
echo @@peer; wait_http container http://203.0.113.2:8000/"#,
        q(&script_path("internet-access"))
    ));
    let s = run.sections();
    assert_eq!(s.text("forward"), "1");
    let nft = s.text("nft");
    assert!(
        nft.contains("masquerade") && nft.contains("10.200.0.0/24"),
        "{run}"
    );
    assert_eq!(
        find_route(&s.json("route"), "default")["gateway"],
        "10.200.0.1"
    );
    assert_eq!(
        s.text("peer"),
        "HTTP 200 203.0.113.1",
        "upstream sees the host's address: NAT\n{run}"
    );
}

#[test]
fn basics_leaves_red_and_blue() {
    let run = sh_ok(&format!(
        r#"netscript {}
echo @@list; ip netns list | cut -d' ' -f1 | sort
echo @@red; ip netns exec red ip -j link
echo @@blue; ip -j -n blue link"#,
        q(&script_path("basics"))
    ));
    let s = run.sections();
    assert_eq!(s.text("list"), "blue\nred");
    for ns in ["red", "blue"] {
        let links = s.json(ns);
        assert_eq!(link_names(&links), ["lo"], "{ns} holds only lo");
        assert!(has_flag(find_link(&links, "lo"), "UP"), "lo is up in {ns}");
    }
}

#[test]
fn connect_two_state_and_traffic() {
    let run = sh_ok(&format!(
        r#"netscript {}
echo @@red-addr; ip -j -n red addr
echo @@red-link; ip -j -n red link
echo @@blue-addr; ip -j -n blue addr
echo @@host-link; ip -j link
echo @@ping; netscript -e 'netns_open("red").ping("10.0.0.2")'
echo @@ping-python
# ICMP without netscript: a raw-socket echo request from python inside red.
ip netns exec red python3 - <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(3)
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
hdr = struct.pack("!BBHHH", 8, 0, 0, 0x4e53, 1) + b"netscript-test"
pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
s.sendto(pkt, ("10.0.0.2", 0))
while True:
    data, (src, _) = s.recvfrom(1500)
    if src == "10.0.0.2" and data[20] == 0:
        print("echo reply from", src); break
PY
serve blue 10.0.0.2 8000
echo @@http; wait_http red http://10.0.0.2:8000/
echo @@connect; netscript -e 'netns_open("red").connect("10.0.0.2:8000")'
echo @@connect-closed; netscript -e 'netns_open("red").connect("10.0.0.2:8001")'
echo @@ss; ip netns exec blue ss -Htln
"#,
        q(&script_path("connect-two"))
    ));
    let s = run.sections();
    let red_link = find_link(&s.json("red-link"), "veth-red").clone();
    assert!(has_flag(&red_link, "UP"), "veth-red is up: {red_link}");
    assert_eq!(
        red_link["operstate"], "UP",
        "veth-red has carrier: {red_link}"
    );
    assert_eq!(addrs_of(&s.json("red-addr"), "veth-red"), ["10.0.0.1/24"]);
    assert_eq!(addrs_of(&s.json("blue-addr"), "veth-blue"), ["10.0.0.2/24"]);
    assert_eq!(
        link_names(&s.json("host-link")),
        ["lo"],
        "both ends left the host namespace"
    );
    assert_eq!(s.text("ping"), "true");
    assert_eq!(s.text("ping-python"), "echo reply from 10.0.0.2");
    assert_eq!(s.text("http"), "HTTP 200 10.0.0.1");
    assert_eq!(s.text("connect"), "true");
    assert_eq!(s.text("connect-closed"), "false");
    assert!(
        s.text("ss").contains("10.0.0.2:8000"),
        "the server listens in blue\n{run}"
    );
}

#[test]
fn host_route_state_and_traffic() {
    let run = sh_ok(&format!(
        r#"netscript {}
echo @@routes; ip -d -j -n container route
echo @@cont-addr; ip -j -n container addr
echo @@host-addr; ip -j addr
echo @@ping; netscript -e 'netns_open("container").ping("10.200.0.1")'
# An address only the default route leads to: on the (sandbox) host's lo.
ip addr add 203.0.113.1/32 dev lo
serve host 203.0.113.1 8000
echo @@http; wait_http container http://203.0.113.1:8000/
echo @@connect; netscript -e 'netns_open("container").connect("203.0.113.1:8000")'
"#,
        q(&script_path("host-route"))
    ));
    let s = run.sections();
    let routes = s.json("routes");
    let default = find_route(&routes, "default");
    assert_eq!(default["gateway"], "10.200.0.1", "{default}");
    assert_eq!(default["dev"], "veth-cont", "{default}");
    assert_eq!(
        default["protocol"], "boot",
        "as `ip route add` makes it: {default}"
    );
    assert_eq!(default["scope"], "global", "{default}");
    assert_eq!(
        addrs_of(&s.json("cont-addr"), "veth-cont"),
        ["10.200.0.2/24"]
    );
    let host = s.json("host-addr");
    assert_eq!(addrs_of(&host, "veth-host"), ["10.200.0.1/24"]);
    assert!(has_flag(find_link(&host, "veth-host"), "UP"));
    assert_eq!(s.text("ping"), "true");
    assert_eq!(s.text("http"), "HTTP 200 10.200.0.2");
    assert_eq!(s.text("connect"), "true");
}

#[test]
fn first_ping_after_setup_is_reliable_under_load() {
    // 2 rounds of 40 concurrent runs of each script that pings right after building.
    let mut failures = vec![];
    for _round in 0..2 {
        let runs: Vec<_> = ["connect-two", "host-route", "build-lab"]
            .iter()
            .flat_map(|name| std::iter::repeat_n(*name, 40))
            .map(|name| {
                std::process::Command::new(BIN)
                    .args(["--sandbox", &script_path(name)])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("starting netscript")
            })
            .collect();
        failures.extend(
            runs.into_iter()
                .map(|c| c.wait_with_output().unwrap())
                .filter(|o| !o.status.success())
                .map(|o| {
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string()
                }),
        );
    }
    assert!(
        failures.is_empty(),
        "{} of 240 runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
