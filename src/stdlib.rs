//! `import "lab" as lab;` loads stdlib/lab.rhai, shipped inside the binary; any other
//! import is a file next to the script (`import "helpers"` → helpers.rhai).

use std::path::{Path, PathBuf};

use rhai::module_resolvers::FileModuleResolver;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

const MODULES: &[(&str, &str)] = &[("lab", include_str!("../stdlib/lab.rhai"))];

struct Resolver {
    files: FileModuleResolver,
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
            let mut ast = engine.compile(*text).map_err(|e| {
                Box::new(EvalAltResult::ErrorInModule(
                    name.to_string(),
                    e.into(),
                    pos,
                ))
            })?;
            ast.set_source(format!("stdlib/{name}.rhai"));
            let m = Module::eval_ast_as_new(Scope::new(), &ast, engine)?;
            return Ok(m.into());
        }
        self.files.resolve(engine, source, path, pos)
    }
}

/// The text of a module file an error points into (a shipped module, or a file).
pub fn source_of(name: &str) -> Option<String> {
    MODULES
        .iter()
        .find(|(n, _)| format!("stdlib/{n}.rhai") == name)
        .map(|(_, t)| t.to_string())
        .or_else(|| std::fs::read_to_string(name).ok())
}

pub fn install(engine: &mut Engine, script_dir: Option<&Path>) {
    let base = match script_dir {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    engine.set_module_resolver(Resolver {
        files: FileModuleResolver::new_with_path(base),
    });
}
