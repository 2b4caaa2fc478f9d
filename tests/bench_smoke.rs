//! The benchmark cannot rot: `bench/run.sh --smoke` (the seed's lab with N = 3, one run of
//! every way, each in its own `unshare --net --mount` sandbox, every build verified) must
//! exit 0 and print its ratios. Timings are printed, never asserted on.

use std::process::{Command, Stdio};

#[test]
fn bench_smoke_runs_every_way_and_prints_the_ratios() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the benchmark needs root: each run is an unshare --net --mount sandbox"
    );
    let root = env!("CARGO_MANIFEST_DIR");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_netscript"));
    let profile_dir = bin.parent().expect("the binary has a directory");
    // A plain `cargo test` builds the examples too, next to the binary
    // (target/debug/examples/floor); `cargo test --test bench_smoke` does not: build it then.
    let floor = profile_dir.join("examples").join("floor");
    if !floor.exists() {
        let target_dir = profile_dir
            .parent()
            .expect("the profile directory has a parent");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .current_dir(root)
            .args(["build", "--example", "floor", "--target-dir"])
            .arg(target_dir);
        if profile_dir.ends_with("release") {
            cargo.arg("--release");
        }
        let st = cargo.status().expect("running cargo build --example floor");
        assert!(st.success(), "cargo build --example floor failed");
    }
    assert!(
        floor.exists(),
        "the floor example is not at {}",
        floor.display()
    );
    let out = Command::new("bash")
        .arg(format!("{root}/bench/run.sh"))
        .arg("--smoke")
        .env("NETSCRIPT_BIN", bin)
        .env("FLOOR_BIN", &floor)
        .stdin(Stdio::null())
        .output()
        .expect("running bench/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = format!("--- stdout:\n{stdout}\n--- stderr:\n{stderr}");
    assert!(
        out.status.success(),
        "bench/run.sh --smoke failed ({})\n{shown}",
        out.status
    );
    assert!(
        !stderr.contains("VERIFY FAILED"),
        "a build failed its check\n{shown}"
    );
    let ratios = stdout
        .lines()
        .find(|l| l.starts_with("ratios N=3: build bash/netscript "));
    assert!(ratios.is_some(), "no ratios line\n{shown}");
    for way in [
        "netscript",
        "netscript-lab",
        "seed",
        "batch",
        "floor",
        "floor-tuned",
        "floor-lab",
        "seed-style",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("N=3 ") && l.split_whitespace().nth(3) == Some(way)),
            "no run of {way}\n{shown}"
        );
    }
    println!("{stdout}");
}
