//! One lab across many machines (`--hosts FILE`): the hosts file, reaching each host over
//! SSH, and running a command on all of them at once.
//!
//! The remote side is netscript itself: the script and its imports are copied to a
//! private directory there and run as `netscript FILE`, with `NETSCRIPT_HOST` (this
//! host's name) and `NETSCRIPT_HOSTS` (every host's underlay, as JSON) in its environment;
//! the runner turns them into the script's `HOST` and `HOSTS` (see [`script_vars`]).

pub mod file;
pub mod graph;
pub mod run;
pub mod ssh;

use std::path::{Path, PathBuf};

use rhai::{Dynamic, Map};

/// The environment variable that names this host (the script's `HOST`).
pub const HOST_VAR: &str = "NETSCRIPT_HOST";
/// The environment variable that maps every host to `{"underlay": ".."}` (`HOSTS`).
pub const HOSTS_VAR: &str = "NETSCRIPT_HOSTS";

/// `HOST` and `HOSTS` for a script run by `--hosts` on one of the hosts; nothing
/// otherwise (a script that uses them then fails at the line, naming the variable).
/// They are constants of the script's scope, and also resolved inside functions (a Rhai
/// function sees no variable outside it), so `lab::mesh` can read them.
pub fn script_vars(engine: &mut rhai::Engine, scope: &mut rhai::Scope) {
    let (Ok(host), Ok(hosts)) = (std::env::var(HOST_VAR), std::env::var(HOSTS_VAR)) else {
        return;
    };
    let Ok(serde_json::Value::Object(all)) = serde_json::from_str::<serde_json::Value>(&hosts)
    else {
        return;
    };
    let mut m = Map::new();
    for (name, v) in all {
        let mut h = Map::new();
        let u = v.get("underlay").and_then(|u| u.as_str()).unwrap_or("");
        h.insert("underlay".into(), Dynamic::from(u.to_string()));
        m.insert(name.into(), Dynamic::from_map(h));
    }
    scope.push_constant("HOST", host.clone());
    scope.push_constant("HOSTS", m.clone());
    #[allow(deprecated)] // volatile, not deprecated: Rhai marks it so
    engine.on_var(move |name, _, _| match name {
        "HOST" => Ok(Some(Dynamic::from(host.clone()).into_read_only())),
        "HOSTS" => Ok(Some(Dynamic::from_map(m.clone()).into_read_only())),
        _ => Ok(None),
    });
}

/// The script and the files it imports (`import "x"`: x.rhai next to the importer),
/// transitively; shipped modules (`lab`) are not files and are left out.
pub fn script_files(script: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut todo = vec![script
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", script.display()))?];
    while let Some(f) = todo.pop() {
        if files.contains(&f) {
            continue;
        }
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let dir = f.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("import") {
            rest = &rest[i + "import".len()..];
            let t = rest.trim_start();
            let Some(t) = t.strip_prefix('"') else {
                continue;
            };
            let Some(end) = t.find('"') else { continue };
            let name = &t[..end];
            let mut p = dir.join(name);
            if !name.ends_with(".rhai") {
                p = dir.join(format!("{name}.rhai"));
            }
            if let Ok(p) = p.canonicalize() {
                todo.push(p);
            }
        }
        files.push(f);
    }
    Ok(files)
}

/// The deepest directory that holds all `files`.
pub fn common_dir(files: &[PathBuf]) -> PathBuf {
    let mut dir = files[0].parent().unwrap_or(Path::new("/")).to_path_buf();
    while !files.iter().all(|f| f.starts_with(&dir)) {
        if !dir.pop() {
            break;
        }
    }
    dir
}
