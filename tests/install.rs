//! Living with an installed netscript: shell completions, the man page, the suggestion for
//! a typo'd subcommand, README links that stay inside the repository, and `cargo install`.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{q, sh, Run, BIN};

/// Run the binary with `args` (no sandbox: none of these touch the network).
fn netscript(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running netscript");
    Run::new(out, format!("netscript {args:?}"))
}

/// The subcommands `netscript help` lists (not a hand list: a new one is covered too).
fn subcommands() -> Vec<String> {
    let help = netscript(&["help"]).success();
    let text = help.stdout.clone();
    let names: Vec<String> = text
        .split("Commands:")
        .nth(1)
        .expect("`netscript help` has a Commands section")
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|n| n != "help")
        .collect();
    assert!(names.len() >= 10, "{text}");
    names
}

#[test]
fn bash_sources_the_completion_script() {
    let out = Command::new("bash")
        .args([
            "-c",
            &format!(
                "source <({} completions bash) && complete -p netscript",
                q(BIN)
            ),
        ])
        .output()
        .expect("running bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("_netscript_live") && stdout.trim_end().ends_with("netscript"),
        "{out:?}"
    );
}

#[test]
fn bash_completes_subcommands_options_labs_and_namespaces() {
    // A real lab is up (in the sandbox's private /run/netscript), then bash completes as it
    // would at a prompt: COMP_WORDS/COMP_CWORD set, the registered function called.
    let run = sh(r#"cat > $T/mylab.rhai <<'EOF'
netns("red");
EOF
netscript $T/mylab.rhai
cat > $T/complete.sh <<'EOF'
source <(netscript completions bash)
fn=$(complete -p netscript | sed 's/.*-F \([^ ]*\) .*/\1/')
c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); $fn netscript "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"; }
echo @@sub; c netscript gr
echo @@opt; c netscript graph --for
echo @@down; c netscript down ""
echo @@graph; c netscript graph my
echo @@lab; c netscript exec --lab ""
echo @@exec; c netscript exec ""
echo @@shell; c netscript shell r
EOF
bash $T/complete.sh
"#);
    let s = run.sections();
    assert_eq!(s.get("sub").trim(), "graph", "{run}");
    assert_eq!(s.get("opt").trim(), "--format", "{run}");
    assert_eq!(s.get("down").trim(), "mylab", "{run}");
    assert_eq!(s.get("graph").trim(), "mylab", "{run}");
    assert_eq!(s.get("lab").trim(), "mylab", "{run}");
    assert_eq!(s.get("exec").trim(), "host red", "{run}");
    assert_eq!(s.get("shell").trim(), "red", "{run}");
}

#[test]
fn zsh_and_fish_scripts_are_produced() {
    let zsh = netscript(&["completions", "zsh"]).success();
    let zsh = zsh.stdout.clone();
    assert!(zsh.starts_with("#compdef netscript\n"), "{zsh}");
    assert!(zsh.contains("_netscript_labs()") && zsh.contains(":lab:_netscript_labs'"));
    assert!(zsh.contains(":ns:_netscript_netns'"));
    let fish = netscript(&["completions", "fish"]).success();
    let fish = fish.stdout.clone();
    assert!(fish.contains("complete -c netscript"), "{fish}");
    assert!(fish.contains("__netscript_labs"), "{fish}");
    for sub in subcommands() {
        assert!(zsh.contains(&format!("'{sub}:")), "zsh lacks {sub}");
        assert!(fish.contains(&format!("-a \"{sub}\"")), "fish lacks {sub}");
    }
}

#[test]
fn the_man_page_covers_every_subcommand_and_the_exit_status() {
    let page = netscript(&["man"]).success();
    let page = page.stdout.clone();
    assert!(page.contains("\n.TH netscript 1 "), "{page}");
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    for sub in subcommands() {
        assert!(
            page.contains(&format!(".SS \"netscript {sub}\"")),
            "no section for {sub}:\n{page}"
        );
    }
    // And --help says the same about exit statuses.
    let help = netscript(&["--help"]).success();
    assert!(
        help.stdout.contains("Exit status: 0 success; 1 failure"),
        "{help}"
    );

    if Command::new("man").arg("--version").output().is_err() {
        println!("note: `man` is not installed; the page was not rendered");
        return;
    }
    let mut child = Command::new("man")
        .args(["-l", "-"])
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running man");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "man warned: {out:?}");
    assert!(
        text.contains("EXIT STATUS") && text.contains("COMMANDS"),
        "{text}"
    );
    assert!(text.contains("netscript graph"), "{text}");
}

#[test]
fn a_typo_d_subcommand_is_named_not_read_as_a_file() {
    let run = netscript(&["grpah"]).fails_with(2);
    let err = run.stderr.clone();
    assert!(err.contains("did you mean graph?"), "{run}");
    assert!(!err.contains("cannot read"), "{run}");
    let run = netscript(&["dwon", "mylab"]).fails_with(2);
    assert!(run.stderr.contains("did you mean down?"), "{run}");
    // Far from every subcommand, or a script's name: the plain "cannot read".
    for file in ["topology", "grpah.rhai"] {
        let run = netscript(&["--sandbox", file]).fails_with(2);
        let err = run.stderr.clone();
        assert!(
            err.contains("cannot read") && !err.contains("did you mean"),
            "{run}"
        );
    }
}

#[test]
fn a_file_named_like_a_typo_still_runs() {
    let dir = std::env::temp_dir().join(format!("netscript-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("grpah"), "print(\"ran grpah\");\n").unwrap();
    let out = Command::new(BIN)
        .args(["--sandbox", "grpah"])
        .current_dir(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let run = Run::new(out, "netscript --sandbox grpah (a file)".into()).success();
    assert!(run.stdout.contains("ran grpah"), "{run}");
}

/// Every link target in README.md: `[text](target)` and `<a href="target">`.
fn readme_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for (i, _) in text.match_indices("](") {
        let rest = &text[i + 2..];
        if let Some(end) = rest.find(')') {
            links.push(rest[..end].to_string());
        }
    }
    for (i, _) in text.match_indices("href=\"") {
        let rest = &text[i + 6..];
        if let Some(end) = rest.find('"') {
            links.push(rest[..end].to_string());
        }
    }
    links
}

#[test]
fn the_readme_links_only_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("README.md")).unwrap();
    let links = readme_links(&text);
    for link in &links {
        if link.starts_with("https://") || link.starts_with("http://") || link.starts_with('#') {
            continue;
        }
        assert!(
            !link.starts_with('/') && !link.starts_with("file:") && !link.contains(".."),
            "README links outside the repository: {link}"
        );
        let path = link.split('#').next().unwrap();
        assert!(
            root.join(path).exists(),
            "README links to {link}, which is not in the repository"
        );
    }
    // The checker itself sees the links that must be refused.
    let bad = readme_links("see [API](../elsewhere/API.md) and <a href=\"/etc/x\">x</a>");
    assert_eq!(bad, ["../elsewhere/API.md", "/etc/x"]);
}

#[test]
fn cargo_install_gives_a_binary_that_runs_a_script_from_another_directory() {
    // A debug build into a target directory of its own, kept between runs (it is
    // incremental after the first), so this does not wait on the test build's lock.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let root = tmp.join("install-root");
    let _ = std::fs::remove_dir_all(&root);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "install",
            "--debug",
            "--locked",
            "--offline",
            "--quiet",
            "--path",
        ])
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("--root")
        .arg(&root)
        .env("CARGO_TARGET_DIR", tmp.join("install-target"))
        .output()
        .expect("running cargo install");
    assert!(out.status.success(), "cargo install failed: {out:?}");
    let installed = root.join("bin/netscript");
    assert!(installed.exists(), "{out:?}");

    // Elsewhere: a copy of the script in a directory with nothing of the repository.
    let elsewhere = tmp.join("elsewhere");
    let _ = std::fs::remove_dir_all(&elsewhere);
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(
        common::script_path("build-lab"),
        elsewhere.join("build-lab.rhai"),
    )
    .unwrap();
    let out = Command::new(&installed)
        .args(["--sandbox", "build-lab.rhai", "2"])
        .current_dir(&elsewhere)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run::new(out, "installed netscript --sandbox build-lab.rhai 2".into()).success();
    assert!(
        run.stdout
            .contains("Container network ready: br0 10.100.0.1/24 with 2 containers"),
        "{run}"
    );
}
