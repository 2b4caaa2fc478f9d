//! Scale: what a lab of hundreds of containers costs to look at. Inspection (`links()`,
//! `netscript graph`) must grow linearly with the number of containers: a veth's peer is
//! named from the namespace it is read in (its peer's index in the namespace its id
//! names), never by searching every namespace. The bounds are loose ratios between two
//! sizes of the same lab measured in one test, never absolute times.

mod common;

use common::*;

/// Containers on bridge br0 (`lab::container`), then `links()` of the host timed inside
/// the script (the best of three), each host end's peer checked, printed as `links SECS`.
const LAB: &str = r#"
import "lab" as lab;
let n = parse_int(ARGS[0]);
bridge("br0", "10.100.0.1/16");
let cs = [];
for i in 1..=n {
    cs.push(lab::container(`c${i}`, cidr_host("10.100.0.1/16", i + 1), "br0", "10.100.0.1"));
}
let best = 1e9;
let l = [];
for round in 0..3 {
    let t = timestamp();
    l = links();
    let e = t.elapsed;
    if e < best { best = e; }
}
for x in l.filter(|x| x.kind == "veth") {
    let want = x.name.sub_string(0, x.name.len() - 3);
    if x.peer != want { throw `${x.name}: peer ${x.peer}, not ${want}`; }
}
let inside = cs[n - 1].links().filter(|x| x.kind == "veth")[0];
if inside.peer != `veth-c${n}-br` { throw `the last container's peer is ${inside.peer}`; }
print(`links ${best}`);
"#;

/// Seconds of (links(), graph) for a lab of `n` containers, each the best of a few.
fn inspect_times(n: usize) -> (f64, f64) {
    let script = TempScript::new("scale-lab", LAB);
    let run = sh_ok(&format!(
        r#"netscript {script} {n}
best=""
for i in 1 2; do
    s=$(date +%s%N); netscript graph > $T/graph.txt; e=$(date +%s%N)
    t=$(( e - s )); if [ -z "$best" ] || [ $t -lt $best ]; then best=$t; fi
done
echo "graph $best"
grep -q "║veth-c{n} " $T/graph.txt && echo "last drawn"
"#,
        script = q(script.path())
    ));
    let value = |key: &str| -> f64 {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key:?} in:\n{}", run.stdout))
            .trim()
            .parse()
            .unwrap()
    };
    assert!(
        run.stdout.contains("last drawn"),
        "graph draws the last container on its bridge:\n{}",
        run.stdout
    );
    (value("links "), value("graph ") / 1e9)
}

#[test]
fn inspection_grows_linearly_with_containers() {
    let (links_small, graph_small) = inspect_times(30);
    let (links_big, graph_big) = inspect_times(300);
    let per = |t: f64, n: f64| t / n;
    let links_ratio = per(links_big, 300.0) / per(links_small, 30.0);
    let graph_ratio = per(graph_big, 300.0) / per(graph_small, 30.0);
    eprintln!(
        "links(): {links_small:.4}s at 30, {links_big:.4}s at 300 (per container ×{links_ratio:.2}); \
         graph: {graph_small:.3}s, {graph_big:.3}s (×{graph_ratio:.2})"
    );
    assert!(
        links_ratio < 3.0,
        "links() per container at 300 is {links_ratio:.1}× that at 30"
    );
    assert!(
        graph_ratio < 3.0,
        "graph per container at 300 is {graph_ratio:.1}× that at 30"
    );
}

/// Tab inside a string in a REPL whose lab has 250 containers: it completes a host-side
/// port, a namespace's name and a link inside the last namespace made (which an old REPL
/// never read: it looked into 64 namespaces, each with a search of all the others for
/// every veth peer, and froze the terminal for tens of seconds). Each Tab reads names for
/// at most about 100 ms and goes on where it stopped at the next one, so Tab is pressed
/// until the name is there; the waits are the generic ones.
#[test]
fn repl_completes_names_in_a_lab_of_250_containers() {
    use common::tmux::*;
    let (_s, r) = repl();
    // Lines shorter than the pane is wide (the echo of a wrapped input is not one line).
    for line in [
        r#"import "lab" as lab"#,
        r#"bridge("br0", "10.100.0.1/16"); ()"#,
        r#"for i in 1..=250 { lab::container(`c${i}`, cidr_host("10.100.0.1/16", i + 1), "br0", "10.100.0.1"); }"#,
        r#"let z = netns("zone-last")"#,
        r#"z.bridge("inner-only"); ()"#,
    ] {
        assert_eq!(r.eval(line), "", "{line}");
    }

    // Press Tab until the input line is `want` (the names come in over a few Tabs), within
    // the generic wait.
    let complete = |typed: &str, want: &str| {
        r.type_text(typed);
        let want = format!("{PROMPT}{want}");
        let start = std::time::Instant::now();
        let mut tabs = 0;
        loop {
            r.key("Tab");
            tabs += 1;
            // A moment for the REPL to answer before looking (not a bound on it).
            std::thread::sleep(std::time::Duration::from_millis(200));
            let pane = r.capture();
            if pane.lines().last() == Some(want.as_str()) {
                eprintln!("{want:?}: {tabs} Tab(s)");
                r.cancel_line();
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "{typed:?} did not complete to {want:?}; the pane:\n{pane}"
            );
        }
    };
    complete(
        r#"host().link("veth-c249-b"#,
        r#"host().link("veth-c249-br""#,
    );
    complete(r#"netns_open("zone-l"#, r#"netns_open("zone-last""#);
    complete(
        r#"netns_open("zone-last").link("inner-o"#,
        r#"netns_open("zone-last").link("inner-only""#,
    );
    // And the REPL goes on, with the lab there.
    assert_eq!(r.eval(r#"host().link("veth-c250-br").peer"#), "veth-c250");
}

/// Two containers on a bridge, pinging each other (IPv4 and IPv6 across the bridge).
const TWO: &str = r#"
import "lab" as lab;
bridge("br0", "10.100.0.1/24");
let c1 = lab::container("c1", "10.100.0.2/24", "br0", "10.100.0.1");
let c2 = lab::container("c2", "10.100.0.3/24", "br0", "10.100.0.1");
c1.addr("veth-c1", "fd00::2/64");
c2.addr("veth-c2", "fd00::3/64");
assert(c1.ping("10.100.0.3"));
assert(c2.ping("fd00::2"));
"#;

/// The creation flags that differ from plain `ip` (one queue per veth end, a bridge
/// without multicast snooping) are in the `-x` trace and in the plan, exactly as the
/// kernel then has them; `--kernel-defaults` makes links as plain `ip` does, and says
/// nothing of them. Containers reach each other either way.
#[test]
fn creation_flags_are_shown_and_kernel_defaults_restores_plain_ip() {
    let script = TempScript::new("flags", TWO);
    let run = sh_ok(&format!(
        r#"echo @@plan; netscript plan {s}
echo @@plan-defaults; netscript plan --kernel-defaults {s}
netscript -x {s} 2> $T/trace
echo @@trace; grep '^+ ip link add' $T/trace
echo @@veth; ip -d -j link show veth-c1-br
echo @@bridge; ip -d -j link show br0
netscript down flags >/dev/null
netscript --kernel-defaults -x {s} 2> $T/trace
echo @@trace-defaults; grep '^+ ip link add' $T/trace
echo @@veth-defaults; ip -d -j link show veth-c1-br
echo @@bridge-defaults; ip -d -j link show br0
echo @@cpus; nproc"#,
        s = q(script.path())
    ));
    let sec = run.sections();
    let tuned_veth =
        "ip link add name veth-c1 numtxqueues 1 numrxqueues 1 netns c1 type veth peer name veth-c1-br numtxqueues 1 numrxqueues 1";
    let plain_veth = "ip link add name veth-c1 netns c1 type veth peer name veth-c1-br";
    for key in ["plan", "trace"] {
        let text = sec.text(key);
        assert!(text.contains(tuned_veth), "{key}:\n{text}");
        assert!(
            text.contains("ip link add name br0 type bridge mcast_snooping 0"),
            "{key}:\n{text}"
        );
    }
    for key in ["plan-defaults", "trace-defaults"] {
        let text = sec.text(key);
        assert!(text.contains(plain_veth), "{key}:\n{text}");
        assert!(
            !text.contains("numtxqueues") && !text.contains("mcast_snooping"),
            "{key}: no creation flag beyond plain ip's\n{text}"
        );
    }
    let first = |key: &str| sec.json(key)[0].clone();
    let veth = first("veth");
    assert_eq!(
        (
            veth["num_tx_queues"].as_u64(),
            veth["num_rx_queues"].as_u64()
        ),
        (Some(1), Some(1)),
        "{veth}"
    );
    let snooping = |key: &str| first(key)["linkinfo"]["info_data"]["mcast_snooping"].as_u64();
    assert_eq!(snooping("bridge"), Some(0));
    assert_eq!(snooping("bridge-defaults"), Some(1), "the kernel's default");
    // Plain ip's veth has the kernel's queue count: one per possible CPU (here more
    // than one, else the two modes would not differ).
    let plain = first("veth-defaults");
    let cpus: u64 = sec.text("cpus").trim().parse().unwrap();
    if cpus > 1 {
        assert!(plain["num_tx_queues"].as_u64() > Some(1), "{plain}");
    }
}
