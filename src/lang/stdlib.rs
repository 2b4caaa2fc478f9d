//! `import "lab" as lab;` loads stdlib/lab.rhai, shipped inside the binary; any other
//! import is a file next to the importing script (`import "helpers"` → helpers.rhai).
//!
//! Each module is evaluated once per run and remembered, so a REPL can keep a module
//! imported on one input for the next ones without running its top level twice.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

const MODULES: &[(&str, &str)] = &[("lab", include_str!("../../stdlib/lab.rhai"))];

/// A script's text as Rhai should see it: without a UTF-8 byte-order mark, and with a
/// `#!` first line (so `./lab.rhai` runs) blanked, keeping every line number.
pub fn prepare(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.strip_prefix("#!") {
        Some(rest) => match rest.find('\n') {
            Some(i) => rest[i..].to_string(),
            None => String::new(),
        },
        None => text.to_string(),
    }
}

/// How imported modules are loaded.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    /// Evaluate each module's top level (a run, a plan, the REPL).
    Run,
    /// Only parse each module, and the modules it imports (`netscript check`): nothing of
    /// it runs, so a module cannot hang or change anything.
    Check,
}

thread_local! {
    /// The file each `import "NAME"` loaded, for errors Rhai reports under NAME.
    static SHOWN: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// The file an error "in module NAME" is in.
pub fn file_of_import(name: &str) -> String {
    SHOWN
        .with(|m| m.borrow().get(name).cloned())
        .unwrap_or_else(|| name.to_string())
}

struct Resolver {
    base: PathBuf,
    mode: Mode,
    loaded: RefCell<HashMap<String, Shared<Module>>>,
}

impl Resolver {
    /// The file `import "path"` names, seen from the file that imports it.
    fn file_of(&self, importer: Option<&str>, path: &str) -> PathBuf {
        let dir = importer
            .filter(|s| s.ends_with(".rhai"))
            .and_then(|s| Path::new(s).parent())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.base.clone());
        let file = dir.join(path);
        match path.ends_with(".rhai") {
            true => file,
            false => file.with_extension("rhai"),
        }
    }

    /// Compile (and, in `Run` mode, evaluate) a module's text named `source` in errors.
    fn load(
        &self,
        engine: &Engine,
        name: &str,
        source: String,
        text: &str,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(m) = self.loaded.borrow().get(&source) {
            return Ok(m.clone());
        }
        SHOWN.with(|m| m.borrow_mut().insert(name.to_string(), source.clone()));
        let module = match self.mode {
            Mode::Run => {
                let mut ast = engine.compile(prepare(text))?;
                ast.set_source(source.clone());
                Module::eval_ast_as_new(Scope::new(), &ast, engine)?
            }
            // Resolves (parses) the modules this one imports, through this resolver.
            Mode::Check => {
                engine.compile_into_self_contained(&Scope::new(), prepare(text))?;
                Module::new()
            }
        };
        let module: Shared<Module> = module.into();
        self.loaded.borrow_mut().insert(source, module.clone());
        Ok(module)
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some((name, text)) = MODULES.iter().find(|(n, _)| *n == path) {
            return self.load(engine, name, format!("stdlib/{name}.rhai"), text);
        }
        let file = self.file_of(source, path);
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos).into())
            }
            Err(e) => {
                return Err(EvalAltResult::ErrorRuntime(
                    format!("import {path:?}: cannot read {}: {e}", file.display()).into(),
                    pos,
                )
                .into())
            }
        };
        let shown = file.strip_prefix("./").unwrap_or(&file);
        self.load(engine, path, shown.display().to_string(), &text)
    }
}

/// The shipped modules: (name, text).
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    MODULES
}

/// Whether `source` (as errors and plans name files) is a module shipped with netscript.
pub fn is_shipped(source: &str) -> bool {
    MODULES
        .iter()
        .any(|(n, _)| source.strip_prefix("stdlib/") == Some(&format!("{n}.rhai")))
}

/// The text of a module file an error points into (a shipped module, or a file), as it
/// was compiled.
pub fn source_of(name: &str) -> Option<String> {
    MODULES
        .iter()
        .find(|(n, _)| format!("stdlib/{n}.rhai") == name)
        .map(|(_, t)| t.to_string())
        .or_else(|| std::fs::read_to_string(name).ok().map(|t| prepare(&t)))
}

pub fn install(engine: &mut Engine, script_dir: Option<&Path>, mode: Mode) {
    let base = match script_dir {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    engine.set_module_resolver(Resolver {
        base,
        mode,
        loaded: RefCell::new(HashMap::new()),
    });
}

/// The module `import "path"` would load (the REPL keeps it for later inputs).
pub fn resolve(engine: &Engine, path: &str) -> Result<Shared<Module>, Box<EvalAltResult>> {
    engine
        .module_resolver()
        .resolve(engine, None, path, Position::NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_mark_and_shebang_are_not_code() {
        assert_eq!(prepare("\u{feff}let x = 1;"), "let x = 1;");
        assert_eq!(
            prepare("#!/usr/bin/env netscript\nlet x = 1;"),
            "\nlet x = 1;"
        );
        assert_eq!(prepare("\u{feff}#!/x\n\nf()"), "\n\nf()");
        assert_eq!(prepare("#!/x"), "");
        assert_eq!(prepare("let a = 1; #!x"), "let a = 1; #!x");
    }
}
