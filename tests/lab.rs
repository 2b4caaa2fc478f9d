//! Issue 3: the seed lab. Each seed script passes under `netscript --sandbox`, and inside a
//! private network namespace (`support::sh`) the state and real traffic are checked after
//! it ran: container to container over br0, container to a simulated upstream only with
//! NAT, a published port from outside and from the host, a drop rule in one namespace
//! only. Then bad firewall/NAT input, a missing `nft`, and a transaction the kernel rejects.

mod support;

use serde_json::{json, Value};
use support::{link_names, netns_names, nft_empty, nft_objects, q, sandboxed, script, sh_ok, BIN};

/// `netscript --sandbox scripts/NAME.rhai ARGS` passes (the script asserts its own outcome).
#[track_caller]
fn passes_in_sandbox(name: &str, args: &[&str], expect: &str) {
    let path = script(name);
    let mut all = vec![path.as_str()];
    all.extend_from_slice(args);
    let run = sandboxed(&all).success();
    assert!(
        run.stdout.contains(expect),
        "expected {expect:?} in stdout\n{run}"
    );
    assert!(run.stderr.trim().is_empty(), "no stderr expected\n{run}");
}

/// The rules of table `inet netscript` in a ruleset listing.
fn netscript_rules(ruleset: &Value) -> Vec<&Value> {
    nft_objects(ruleset, "rule")
        .into_iter()
        .filter(|r| r["family"] == "inet" && r["table"] == "netscript")
        .collect()
}

/// The rule `ip saddr NET/LEN [oifname != NOT_OUT] masquerade` in chain postrouting of
/// `inet netscript`, which is a nat chain on the postrouting hook.
#[track_caller]
fn assert_masquerade(ruleset: &Value, net: &str, len: u32, not_out: Option<&str>) {
    let chain = nft_objects(ruleset, "chain")
        .into_iter()
        .find(|c| c["table"] == "netscript" && c["name"] == "postrouting")
        .unwrap_or_else(|| panic!("no chain postrouting in table inet netscript: {ruleset}"));
    assert_eq!(
        (&chain["type"], &chain["hook"]),
        (&json!("nat"), &json!("postrouting")),
        "{chain}"
    );
    let mut want = vec![
        json!({"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
        "right": {"prefix": {"addr": net, "len": len}}}}),
    ];
    if let Some(o) = not_out {
        want.push(json!({"match": {"op": "!=", "left": {"meta": {"key": "oifname"}}, "right": o}}));
    }
    want.push(json!({"masquerade": null}));
    let found = netscript_rules(ruleset)
        .into_iter()
        .any(|r| r["chain"] == "postrouting" && r["expr"] == Value::Array(want.clone()));
    assert!(found, "no rule {} in {ruleset}", Value::Array(want));
}

/// The DNAT rule `fib daddr type local tcp dport PORT dnat ip to TO` in `chain`.
fn has_dnat(ruleset: &Value, chain: &str, port: u16, addr: &str, to_port: u16) -> bool {
    netscript_rules(ruleset).into_iter().any(|r| {
        let e = r["expr"].to_string();
        r["chain"] == chain
            && e.contains(r#""fib":{"flags":["daddr"],"result":"type"}"#)
            && e.contains(&format!(r#""left":{{"payload":{{"field":"dport","protocol":"tcp"}}}},"op":"==","right":{port}"#))
            && e.contains(&format!(r#""dnat":{{"addr":"{addr}","family":"ip","port":{to_port}}}"#))
    })
}

// ---------------------------------------------------------------------------------------
// The seed scripts
// ---------------------------------------------------------------------------------------

#[test]
fn build_lab_passes_in_sandbox() {
    passes_in_sandbox(
        "build-lab",
        &[],
        "Container network ready: br0 10.100.0.1/24 with 2 containers",
    );
    passes_in_sandbox("build-lab", &["5"], "with 5 containers");
}

#[test]
fn build_lab_connects_containers_over_br0_with_masquerade() {
    let s = sh_ok(&format!(
        r#"
netscript {lab} >$T/out
echo @@out; cat $T/out
echo @@netns; ip netns list
echo @@ping12; netscript -e 'netns_open("c1").ping("10.100.0.3")'
echo @@ping21; netscript -e 'netns_open("c2").ping("10.100.0.2")'
echo @@ports; ip -j link show master br0
echo @@braddr; ip -j addr show dev br0
echo @@c1addr; ip -n c1 -j addr show dev veth-c1
echo @@c1route; ip -n c1 -j route
echo @@nft; nft -j list ruleset
echo @@fwd; sysctl -n net.ipv4.ip_forward
serve c2 8000 'c2 answers {{peer}}'
echo @@http; fetch c1 http://10.100.0.3:8000/
echo @@journal; wc -l < /run/netscript/build-lab.journal
"#,
        lab = q(&script("build-lab"))
    ))
    .sections();
    assert!(
        s.text("out").contains("with 2 containers"),
        "{}",
        s.context()
    );
    assert_eq!(netns_names(s.text("netns")), ["c1", "c2"]);
    assert_eq!(
        s.text("ping12"),
        "true",
        "c1 reaches c2 over br0\n{}",
        s.context()
    );
    assert_eq!(
        s.text("ping21"),
        "true",
        "c2 reaches c1 over br0\n{}",
        s.context()
    );
    assert_eq!(link_names(&s.json("ports")), ["veth-c1-br", "veth-c2-br"]);
    assert!(
        s.text("braddr")
            .contains(r#""local":"10.100.0.1","prefixlen":24"#),
        "{}",
        s.context()
    );
    assert!(
        s.text("c1addr")
            .contains(r#""local":"10.100.0.2","prefixlen":24"#),
        "{}",
        s.context()
    );
    let routes = s.json("c1route");
    assert!(
        routes
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["dst"] == "default" && r["gateway"] == "10.100.0.1"),
        "c1 has a default route via the bridge: {routes}"
    );
    assert_masquerade(&s.json("nft"), "10.100.0.0", 24, Some("br0"));
    assert_eq!(s.text("fwd"), "1");
    assert_eq!(
        s.text("http"),
        "200 c2 answers 10.100.0.2",
        "TCP from c1 to c2 over br0, no NAT inside the bridge"
    );
}

#[test]
fn build_lab_takes_the_number_of_containers() {
    let s = sh_ok(&format!(
        r#"
netscript {lab} 5 >$T/out
echo @@out; cat $T/out
echo @@netns; ip netns list
echo @@ping15; netscript -e 'netns_open("c1").ping("10.100.0.6")'
echo @@ping51; netscript -e 'netns_open("c5").ping("10.100.0.2")'
echo @@ports; ip -j link show master br0
echo @@c5addr; ip -n c5 -j addr show dev veth-c5
"#,
        lab = q(&script("build-lab"))
    ))
    .sections();
    assert!(
        s.text("out").contains("with 5 containers"),
        "{}",
        s.context()
    );
    assert_eq!(netns_names(s.text("netns")), ["c1", "c2", "c3", "c4", "c5"]);
    assert_eq!(s.text("ping15"), "true");
    assert_eq!(s.text("ping51"), "true");
    assert_eq!(
        link_names(&s.json("ports")),
        [
            "veth-c1-br",
            "veth-c2-br",
            "veth-c3-br",
            "veth-c4-br",
            "veth-c5-br"
        ]
    );
    assert!(
        s.text("c5addr")
            .contains(r#""local":"10.100.0.6","prefixlen":24"#),
        "{}",
        s.context()
    );
}

#[test]
fn cleanup_removes_what_build_lab_made() {
    let s = sh_ok(&format!(
        r#"
for n in 2 4; do
    netscript {lab} $n >/dev/null
    echo @@before$n; ip netns list | wc -l
    netscript {cleanup} $n > $T/out
    echo @@out$n; cat $T/out
    echo @@netns$n; ip netns list
    echo @@links$n; ip -j link
    echo @@nft$n; nft -j list ruleset
done
"#,
        lab = q(&script("build-lab")),
        cleanup = q(&script("cleanup"))
    ))
    .sections();
    for n in ["2", "4"] {
        assert_eq!(s.text(&format!("before{n}")), n);
        assert!(
            s.text(&format!("out{n}")).contains("cleaned up"),
            "{}",
            s.context()
        );
        assert_eq!(
            s.text(&format!("netns{n}")),
            "",
            "no namespaces left after cleanup {n}"
        );
        let links = link_names(&s.json(&format!("links{n}")));
        assert_eq!(
            links,
            ["lo"],
            "no br0, no veth-c*-br left after cleanup {n}"
        );
        assert!(
            nft_empty(&s.json(&format!("nft{n}"))),
            "no netscript table after cleanup {n}\n{}",
            s.context()
        );
    }
}

#[test]
fn internet_access_passes_in_sandbox() {
    passes_in_sandbox(
        "internet-access",
        &[],
        "upstream says \"hello 203.0.113.1\"",
    );
}

#[test]
fn internet_access_reaches_upstream_through_nat() {
    let s = sh_ok(&format!(
        r#"
netscript {s} >/dev/null
echo @@netns; ip netns list
echo @@nft; nft -j list ruleset
echo @@fwd; sysctl -n net.ipv4.ip_forward
echo @@uproutes; ip -n upstream -j route
serve upstream 8000 'upstream sees {{peer}}'
echo @@http; fetch container http://203.0.113.2:8000/
echo @@log; cat $T/serve-upstream-8000.log
"#,
        s = q(&script("internet-access"))
    ))
    .sections();
    assert_eq!(netns_names(s.text("netns")), ["container", "upstream"]);
    assert_masquerade(&s.json("nft"), "10.200.0.0", 24, None);
    assert_eq!(s.text("fwd"), "1");
    let up = s.json("uproutes");
    assert!(
        !up.to_string().contains("10.200.0"),
        "upstream has no route back to the container subnet: {up}"
    );
    assert_eq!(s.text("http"), "200 upstream sees 203.0.113.1");
    assert!(
        s.text("log").contains("peer=203.0.113.1"),
        "{}",
        s.context()
    );
}

/// The same topology as internet-access, built by a script of our own without masquerade:
/// the container gets no HTTP answer from upstream. Adding the masquerade rule fixes it.
#[test]
fn container_reaches_upstream_only_with_masquerade() {
    let s = sh_ok(
        r#"
cat > $T/nonat.rhai <<'EOF'
import "lab" as lab;
lab::p2p(host(), "203.0.113.1/24", netns("upstream"), "203.0.113.2/24");
let c = netns("container");
veth("veth-c", "veth-cont", #{ b_ns: c });
addr("veth-c", "10.200.0.1/24");
up("veth-c");
c.addr("veth-cont", "10.200.0.2/24");
c.up("veth-cont");
c.route("default", "10.200.0.1");
forward(true);
EOF
netscript $T/nonat.rhai
serve upstream 80 'hello {peer}'
echo @@nft0; nft -j list ruleset
echo @@host0; fetch host http://203.0.113.2/
rc=0; fetch container http://203.0.113.2/ 2 >$T/f0 || rc=$?
echo @@http0; cat $T/f0; echo "rc=$rc"
echo @@probe0; netscript -e 'netns_open("container").connect("203.0.113.2:80")'
netscript --lab nat -e 'masquerade("10.200.0.0/24")'
echo @@nft1; nft -j list ruleset
echo @@http1; fetch container http://203.0.113.2/
echo @@probe1; netscript -e 'netns_open("container").http_get("http://203.0.113.2/").body'
echo @@log; cat $T/serve-upstream-80.log
"#,
    )
    .sections();
    assert!(nft_empty(&s.json("nft0")), "no rules without masquerade");
    assert_eq!(
        s.text("host0"),
        "200 hello 203.0.113.1",
        "the host itself reaches upstream"
    );
    let http0 = s.text("http0");
    assert!(
        http0.starts_with("FAIL") && http0.ends_with("rc=1"),
        "without masquerade the container gets no HTTP answer from upstream: {http0}"
    );
    assert_eq!(s.text("probe0"), "false");
    assert_masquerade(&s.json("nft1"), "10.200.0.0", 24, None);
    assert_eq!(
        s.text("http1"),
        "200 hello 203.0.113.1",
        "with masquerade it does, as the host"
    );
    assert_eq!(s.text("probe1"), "hello 203.0.113.1");
    assert!(
        !s.text("log").contains("peer=10.200.0.2"),
        "upstream never answered the container's own address\n{}",
        s.context()
    );
}

#[test]
fn process_isolation_passes_in_sandbox() {
    passes_in_sandbox("process-isolation", &[], "three servers on port 80");
}

#[test]
fn process_isolation_same_port_in_three_namespaces() {
    let s = sh_ok(&format!(
        r#"
netscript {s} >/dev/null
echo @@netns; ip netns list
echo @@left; ip netns exec red ss -Htln; ip netns exec blue ss -Htln; ss -Htln
serve red 80 'red to {{peer}}'
serve blue 80 'blue to {{peer}}'
serve host 80 'host to {{peer}}'
echo @@blue2red; fetch blue http://10.0.0.1/
echo @@red2blue; fetch red http://10.0.0.2/
echo @@host; fetch host http://127.0.0.1/
echo @@host2red; tcp host 10.0.0.1 80
echo @@redlisten; ip netns exec red ss -Htln 'sport = :80' | wc -l
"#,
        s = q(&script("process-isolation"))
    ))
    .sections();
    assert_eq!(netns_names(s.text("netns")), ["blue", "red"]);
    assert_eq!(
        s.text("left"),
        "",
        "the script's servers were stopped when it ended"
    );
    assert_eq!(s.text("blue2red"), "200 red to 10.0.0.2");
    assert_eq!(s.text("red2blue"), "200 blue to 10.0.0.1");
    assert_eq!(s.text("host"), "200 host to 127.0.0.1");
    assert_eq!(s.text("host2red"), "closed", "the host has no route to red");
    assert_eq!(s.text("redlisten"), "1");
}

#[test]
fn firewall_passes_in_sandbox() {
    passes_in_sandbox("firewall", &[], "firewall: red drops tcp/22, blue does not");
}

#[test]
fn firewall_drops_in_red_only() {
    let s = sh_ok(&format!(
        r#"
netscript {s} >/dev/null
echo @@rednft; ip netns exec red nft -j list ruleset
echo @@bluenft; ip netns exec blue nft -j list ruleset
echo @@hostnft; nft -j list ruleset
serve red 22 red22
serve blue 22 blue22
serve red 8022 red8022
echo @@red22; tcp host 10.0.1.2 22
echo @@blue22; tcp host 10.0.1.3 22
echo @@red8022; fetch host http://10.0.1.2:8022/
echo @@blue22http; fetch host http://10.0.1.3:22/
echo @@redping; netscript -e 'ping("10.0.1.2")'
"#,
        s = q(&script("firewall"))
    ))
    .sections();
    let red = s.json("rednft");
    let rules = netscript_rules(&red);
    assert_eq!(rules.len(), 1, "{red}");
    let e = rules[0]["expr"].to_string();
    assert!(
        rules[0]["chain"] == "input"
            && e.contains(r#""field":"dport","protocol":"tcp""#)
            && e.contains(r#""right":22"#)
            && e.contains(r#"{"drop":null}"#),
        "{red}"
    );
    assert!(nft_empty(&s.json("bluenft")), "no rules in blue");
    assert!(nft_empty(&s.json("hostnft")), "no rules on the host");
    s.expect(&[
        ("red22", "closed"),        // port 22 in red is dropped,
        ("blue22", "open"),         // in blue it answers;
        ("red8022", "200 red8022"), // only port 22 is dropped in red.
        ("blue22http", "200 blue22"),
        ("redping", "true"),
    ]);
}

#[test]
fn docker_port_passes_in_sandbox() {
    passes_in_sandbox("docker-port", &[], "docker-port: nginx says hi");
}

#[test]
fn docker_port_published_port_from_outside_and_host() {
    let s = sh_ok(&format!(
        r#"
netscript {s} >/dev/null
echo @@nft; nft -j list ruleset
echo @@left; ip netns exec nginx ss -Htln
serve nginx 80 'nginx to {{peer}}'
echo @@outside; fetch outside http://198.51.100.1:8080/
echo @@host; fetch host http://198.51.100.1:8080/
echo @@direct; tcp outside 172.17.0.2 80
echo @@other; tcp outside 198.51.100.1 8081
"#,
        s = q(&script("docker-port"))
    ))
    .sections();
    let nft = s.json("nft");
    assert!(
        has_dnat(&nft, "prerouting", 8080, "172.17.0.2", 80),
        "prerouting DNAT: {nft}"
    );
    assert!(
        has_dnat(&nft, "output-nat", 8080, "172.17.0.2", 80),
        "output DNAT (from the host itself): {nft}"
    );
    assert_masquerade(&nft, "172.17.0.0", 16, Some("docker0"));
    assert_eq!(
        s.text("left"),
        "",
        "the script's server stopped with the script"
    );
    assert_eq!(
        s.text("outside"),
        "200 nginx to 198.51.100.2",
        "published port from outside"
    );
    assert!(
        s.text("host").starts_with("200 nginx to "),
        "published port from the host\n{}",
        s.context()
    );
    assert_eq!(
        s.text("direct"),
        "closed",
        "the container itself is not reachable from outside"
    );
    assert_eq!(s.text("other"), "closed", "only 8080 is published");
}

// ---------------------------------------------------------------------------------------
// Bad input, missing nft, a transaction the kernel rejects
// ---------------------------------------------------------------------------------------

/// (code, what the message must contain besides "error:")
const BAD: &[(&str, &[&str])] = &[
    (
        r#"port_forward(0, "10.0.0.1:80")"#,
        &[
            r#"port_forward(0, "10.0.0.1:80")"#,
            "port 0 is out of range",
        ],
    ),
    (
        r#"port_forward(70000, "10.0.0.1:80")"#,
        &[
            r#"port_forward(70000, "10.0.0.1:80")"#,
            "port 70000 is out of range",
        ],
    ),
    (
        r#"port_forward(8080, "10.0.0.1")"#,
        &[
            r#"port_forward(8080, "10.0.0.1")"#,
            r#""10.0.0.1" is not an address and port"#,
        ],
    ),
    (
        r#"port_forward(8080, "x:80")"#,
        &[
            r#"port_forward(8080, "x:80")"#,
            r#""x:80" is not an address and port"#,
        ],
    ),
    (
        r#"port_forward(8080, "10.0.0.1:0")"#,
        &[r#"port_forward(8080, "10.0.0.1:0")"#, "port 0"],
    ),
    (
        r#"port_forward(8080, "10.0.0.1:80", #{ proto: "sctp" })"#,
        &["port_forward(8080", r#"proto "sctp""#],
    ),
    (
        r#"drop(#{ proto: "sctp", dport: 22 })"#,
        &["drop(#{", r#"proto "sctp""#],
    ),
    (
        r#"accept(#{ chain: "prerouting" })"#,
        &["accept(#{", r#"chain "prerouting""#],
    ),
    (
        r#"drop(#{ chain: "prerouting", proto: "tcp" })"#,
        &["drop(#{", r#"chain "prerouting""#],
    ),
    (
        r#"drop(#{ dport: 22 })"#,
        &["drop(#{ dport: 22 })", r#"needs proto "tcp" or "udp""#],
    ),
    (
        r#"reject(#{ proto: "icmp", sport: 53 })"#,
        &["reject(#{", r#"needs proto "tcp" or "udp""#],
    ),
    (
        r#"drop(#{ proto: "tcp", dport: 70000 })"#,
        &["drop(#{", "dport", "70000", "out of range"],
    ),
    (
        r#"masquerade("10.0.0.0/33")"#,
        &[r#"masquerade("10.0.0.0/33")"#, "invalid prefix length"],
    ),
    (
        r#"masquerade("10.0.0.300/24")"#,
        &[
            r#"masquerade("10.0.0.300/24")"#,
            "not an address in CIDR form",
        ],
    ),
    (
        r#"masquerade("banana")"#,
        &[r#"masquerade("banana")"#, "not an address in CIDR form"],
    ),
    (
        r#"drop(#{ proto: "tcp", src: "10.0.0.0/99" })"#,
        &["drop(#{", "src", "invalid prefix length"],
    ),
    (
        r#"masquerade("10.0.0.0/24", #{ bogus: 1 })"#,
        &["masquerade(", r#"unknown option "bogus""#],
    ),
    (
        r#"port_forward(8080, "10.0.0.1:80", #{ prot: "tcp" })"#,
        &["port_forward(", r#"unknown option "prot""#],
    ),
    (
        r#"drop(#{ proto: "tcp", dprt: 22 })"#,
        &["drop(#{", r#"unknown option "dprt""#],
    ),
];

#[test]
fn firewall_and_nat_bad_input_is_refused_before_anything_is_applied() {
    // Each bad call alone, and after valid changes (which the failure must roll back).
    let setup = r#"netns("bi"); bridge("br-bi"); forward(true); masquerade("10.9.0.0/24"); drop(#{ proto: "tcp", dport: 23 });"#;
    let mut shell = String::new();
    for (i, (code, _)) in BAD.iter().enumerate() {
        for (v, full) in [("a", code.to_string()), ("b", format!("{setup}\n{code}"))] {
            shell.push_str(&format!(
                "rc=0; netscript -e {c} >$T/o 2>$T/e || rc=$?\n\
                 echo @@rc{i}{v}; echo $rc; echo @@err{i}{v}; cat $T/e; echo @@nft{i}{v}; nft -j list ruleset\n\
                 echo @@left{i}{v}; ip netns list; ip -o link | grep -v ' lo:' || true; sysctl -n net.ipv4.ip_forward\n",
                c = q(&full)
            ));
        }
    }
    let s = sh_ok(&shell).sections();
    for (i, (code, needles)) in BAD.iter().enumerate() {
        for v in ["a", "b"] {
            let err = s.text(&format!("err{i}{v}"));
            assert_eq!(s.text(&format!("rc{i}{v}")), "1", "{code}: exit 1\n{err}");
            let first = err.lines().next().unwrap_or("");
            let line = if v == "a" { 1 } else { 2 };
            assert!(
                first.starts_with(&format!("-e:{line}:")) && first.contains(": error: "),
                "{code}: {err}"
            );
            for n in *needles {
                assert!(
                    first.contains(n),
                    "{code}: message should contain {n:?}: {first}"
                );
            }
            assert!(!err.contains("panicked"), "{err}");
            assert!(
                nft_empty(&s.json(&format!("nft{i}{v}"))),
                "{code} ({v}): nothing applied\n{}",
                s.context()
            );
            assert_eq!(
                s.text(&format!("left{i}{v}")),
                "0",
                "{code} ({v}): nothing left\n{}",
                s.context()
            );
        }
    }
}

#[test]
fn missing_nft_names_the_package() {
    // In the sandbox, with a PATH that has no nft (netscript called by absolute path).
    let path = format!("/nonexistent:{}", support::bin_dir().display());
    for code in [
        r#"masquerade("10.0.0.0/24")"#,
        r#"port_forward(8080, "10.0.0.2:80")"#,
        r#"drop(#{ proto: "tcp", dport: 22 })"#,
        r#"print(rules())"#,
    ] {
        let out = std::process::Command::new(BIN)
            .args(["--sandbox", "-e", code])
            .env("PATH", &path)
            .env_remove("NETSCRIPT_FAIL_AT")
            .output()
            .unwrap();
        let run = support::Run::new(out, format!("PATH={path} netscript --sandbox -e {code}"));
        let run = run.fails_with(1);
        let first = run.stderr.lines().next().unwrap_or("");
        assert!(
            first.starts_with("-e:1:") && first.contains("error:"),
            "{run}"
        );
        assert!(
            first.contains("install the nftables package"),
            "one line naming the package\n{run}"
        );
        assert!(!run.stderr.contains("panicked"), "{run}");
    }
    // And what the run built before that is rolled back.
    let s = sh_ok(&format!(
        r#"
rc=0; env PATH=/nonexistent {bin} -e 'netns("m"); bridge("br-m"); forward(true); masquerade("10.0.0.0/24")' 2>$T/e || rc=$?
echo @@rc; echo $rc
echo @@err; cat $T/e
echo @@left; ip netns list; ip -o link | grep -v ' lo:' || true; sysctl -n net.ipv4.ip_forward; nft list ruleset
"#,
        bin = q(BIN)
    ))
    .sections();
    assert_eq!(s.text("rc"), "1");
    assert!(
        s.text("err").contains("nftables package"),
        "{}",
        s.context()
    );
    assert_eq!(s.text("left"), "0", "{}", s.context());
}

/// Someone else's `inet netscript` table in a namespace, with a filter chain where
/// netscript wants its nat chain: the kernel refuses netscript's transaction.
const FOREIGN_TABLE: &str = r#"
ip netns add x
ip netns exec x nft add table inet netscript
ip netns exec x nft 'add chain inet netscript postrouting { type filter hook postrouting priority 0; }'
ip netns exec x nft add rule inet netscript postrouting ip daddr 192.0.2.1 counter accept
ip netns exec x nft -j list ruleset > $T/before
rc=0; netscript -e 'netns_open("x").masquerade("10.0.0.0/24")' >$T/o 2>$T/e || rc=$?
ip netns exec x nft -j list ruleset > $T/after
echo @@rc; echo $rc
echo @@err; cat $T/e
echo @@before; cat $T/before
echo @@after; cat $T/after
echo @@netns; ip netns list
"#;

#[test]
fn kernel_rejected_transaction_leaves_the_rules_as_they_were() {
    let s = sh_ok(FOREIGN_TABLE).sections();
    assert_eq!(s.text("rc"), "1", "{}", s.context());
    let err = s.text("err");
    assert!(
        err.contains(r#"x.masquerade("10.0.0.0/24")"#) && err.contains("nft refused the change"),
        "{err}"
    );
    assert_eq!(
        s.json("after"),
        s.json("before"),
        "the namespace's ruleset is exactly as before"
    );
    let rules = nft_objects(&s.json("after"), "rule").len();
    assert_eq!(rules, 1, "the hand-made rule is still there");
    assert_eq!(
        netns_names(s.text("netns")),
        ["x"],
        "the namespace netscript did not make is still there"
    );
}

/// Was a bug (fixed in 8aff04b): the reason was empty and nft's own message went to
/// stderr raw, before netscript's error line.
#[test]
fn kernel_rejected_transaction_says_why() {
    let s = sh_ok(FOREIGN_TABLE).sections();
    let err = s.text("err");
    let first = err.lines().next().unwrap_or("");
    assert!(
        first.starts_with("-e:1:"),
        "the error line comes first, nothing raw from nft before it:\n{err}"
    );
    assert!(
        first.contains("Operation not supported") || first.contains("Could not process rule"),
        "the message says why nft refused:\n{err}"
    );
}
