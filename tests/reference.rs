//! The API reference and the documents of the repository: `docs/API.md` is what
//! `netscript doc --markdown` prints (one source), `doc NAME` finds names as the reference
//! writes them, `doc --definitions` is a typed Rhai definitions file, the documents link
//! only inside the repository, and errors read as the script is written.
//!
//! (That every function the engine registers is in the reference, and each error text,
//! are checked in-process: src/lang/tests/.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{error_report, Run, TempScript, BIN};

fn netscript(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("running netscript");
    Run::new(out, format!("netscript {}", args.join(" ")))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn docs_api_md_is_what_doc_markdown_prints() {
    let generated = netscript(&["doc", "--markdown"]).success().stdout;
    let file = std::fs::read_to_string(root().join("docs/API.md")).unwrap_or_default();
    if file != generated {
        let at = file
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(file.lines().count().min(generated.lines().count()));
        panic!(
            "docs/API.md is stale (first difference at line {}); regenerate it with\n\n    \
             cargo run -q -- doc --markdown > docs/API.md\n",
            at + 1
        );
    }
    for heading in ["### `ping`", "### `a`", "### `pid`", "### `lab::p2p`"] {
        assert!(generated.contains(heading), "API.md has {heading}");
    }
}

#[test]
fn doc_finds_methods_properties_and_module_functions_by_their_headings() {
    for (name, expect) in [
        ("ns.ping", "ns.ping(addr: String) -> bool"),
        ("Link.up", "link.up()"),
        ("lab::p2p", "lab::p2p(a, a_cidr, b, b_cidr)"),
        ("veth.a", "veth.a -> Link"),
        ("Proc.pid", "proc.pid -> int"),
    ] {
        let out = netscript(&["doc", name]).success().stdout;
        assert!(out.contains(expect), "doc {name}:\n{out}");
    }
    let r = netscript(&["doc", "pnig"]).fails_with(1);
    assert!(r.stderr.contains("did you mean ping?"), "{}", r.stderr);

    let all = netscript(&["--json", "doc"]).success().stdout;
    let v: serde_json::Value = serde_json::from_str(&all).expect("doc --json is JSON");
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    for n in ["veth", "inode", "ns", "lab::p2p", "lab::bridge_network"] {
        assert!(names.contains(&n), "doc --json has {n}: {names:?}");
    }
}

/// A Rhai definitions file, checked for shape: `module static;` first, then doc comments
/// and declarations `fn [get ]NAME(p: Type, ..)[ -> Type];`, every type a Rhai type.
#[test]
fn doc_definitions_is_a_typed_rhai_definitions_file() {
    let defs = netscript(&["doc", "--definitions"]).success().stdout;
    let mut lines = defs.lines().filter(|l| !l.trim().is_empty());
    assert_eq!(lines.next(), Some("module static;"));
    let known = |t: &str| {
        [
            "String", "int", "bool", "float", "Map", "Array", "Netns", "Link", "Veth", "Proc",
        ]
        .contains(&t)
    };
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut declared = std::collections::BTreeSet::new();
    for l in lines {
        if l.starts_with("///") {
            continue;
        }
        let decl = l
            .strip_prefix("fn ")
            .and_then(|d| d.strip_suffix(';'))
            .unwrap_or_else(|| panic!("not a declaration: {l}"));
        let (head, rest) = decl.split_once('(').expect("a parameter list");
        let name = head.strip_prefix("get ").unwrap_or(head);
        assert!(ident(name), "a plain name (not mangled): {l}");
        assert!(!name.contains("___"), "{l}");
        let (params, ret) = rest.split_once(')').expect("a closing parenthesis");
        for p in params.split(", ").filter(|p| !p.is_empty()) {
            let (n, t) = p
                .split_once(": ")
                .unwrap_or_else(|| panic!("name: Type in {l}"));
            assert!(ident(n), "parameter name in {l}");
            assert!(known(t), "a typed parameter ({t}) in {l}");
        }
        match ret.strip_prefix(" -> ") {
            Some(t) => assert!(known(t) || t == "?", "return type {t} in {l}"),
            None => assert_eq!(ret, "", "{l}"),
        }
        declared.insert(name.to_string());
    }
    for name in ["netns", "veth", "ping", "addr", "inode", "a", "pid", "exit"] {
        assert!(declared.contains(name), "{name} is declared");
    }
}

/// The Markdown documents of the repository, and the links and paths in them.
fn documents() -> Vec<PathBuf> {
    let mut docs = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    more.retain(|p| p.extension().is_some_and(|e| e == "md"));
    more.sort();
    docs.extend(more);
    docs
}

/// Every `[text](target)` target and every `backticked` path under one of the
/// repository's folders.
fn references(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let end = after.find(')').unwrap_or(after.len());
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    let folders = ["src/", "stdlib/", "scripts/", "docs/", "tests/", "bench/"];
    for (i, chunk) in text.split('`').enumerate() {
        let looks_like_path = !chunk.contains(char::is_whitespace)
            && !chunk.contains(['*', '<', '{', '$'])
            && folders.iter().any(|f| chunk.starts_with(f));
        if i % 2 == 1 && looks_like_path {
            out.push(chunk.to_string());
        }
    }
    out
}

#[test]
fn the_documents_link_only_to_files_inside_the_repository() {
    let mut bad = vec![];
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("reading a document");
        let rel = doc.strip_prefix(root()).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            if line.contains("../") {
                bad.push(format!(
                    "{rel}:{}: a path that leaves the folder: {line}",
                    n + 1
                ));
            }
        }
        for target in references(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
                || target.starts_with('#')
            {
                continue;
            }
            if target.starts_with('/') {
                bad.push(format!("{rel}: an absolute path: {target}"));
                continue;
            }
            let path = target.split('#').next().unwrap_or(&target);
            // A link is relative to its document; a path in backquotes (`src/...`) is
            // written from the repository's root.
            let base = doc.parent().unwrap_or(Path::new("."));
            let inside = [base.join(path), root().join(path)].iter().any(|file| {
                file.canonicalize()
                    .is_ok_and(|f| f.starts_with(root().canonicalize().unwrap()))
            });
            if !inside {
                bad.push(format!("{rel}: {target} is not a file of the repository"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("](docs/API.md)"),
        "the README's API section links docs/API.md"
    );
}

/// The error as the user sees it: `netscript plan FILE` (no network touched).
fn plan_error(code: &str) -> String {
    let s = TempScript::new("teach", code);
    let r = netscript(&["plan", s.path()]).fails_with(1);
    let e = error_report(&r);
    assert!(
        !r.stderr.contains("::"),
        "no Rust type path in the error:\n{}",
        r.stderr
    );
    e.message
}

#[test]
fn errors_name_the_receiver_the_nearest_function_and_the_missing_argument() {
    let m = plan_error("let red = netns(\"red\");\nlet l = red.links;\n");
    assert_eq!(m, "links is a method: red.links()");
    let m = plan_error("let red = netns(\"red\");\nred.pign(\"10.0.0.2\");\n");
    assert!(m.ends_with("did you mean ping?"), "{m}");
    let m = plan_error("let red = netns(\"red\");\nred.addr(\"veth-red\");\n");
    assert!(
        m.starts_with("red.addr(\"veth-red\"): the cidr is missing"),
        "{m}"
    );
    assert!(m.contains("ns.addr(link, cidr)"), "{m}");
    let m = plan_error("help(veth);\n");
    assert!(m.contains("help(\"veth\")"), "{m}");
}
