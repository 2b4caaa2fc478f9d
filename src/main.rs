//! netscript: container-networking labs as Rhai scripts.

mod backend;
mod error;
#[cfg(debug_assertions)]
mod fault;
mod firewall;
mod journal;
mod names;
mod op;
mod run;
mod sandbox;
mod script;
mod session;
mod signals;
mod stdlib;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

const PRIVILEGES: &str = "netscript: needs root or CAP_NET_ADMIN + CAP_SYS_ADMIN; or use --sandbox";

#[derive(Parser)]
#[command(
    name = "netscript",
    version,
    about = "Build container-networking labs (namespaces, veth pairs, bridges, routes, NAT) from Rhai scripts",
    after_help = "Run a script:   netscript --sandbox scripts/connect-two.rhai\nEvaluate code:  netscript --sandbox -e 'netns(\"red\").inode'\nThe API:        netscript doc",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Run inside a fresh private network + mount namespace; nothing touches the host
    #[arg(long, global = true)]
    sandbox: bool,
    /// Print each change as its equivalent ip / sysctl command as it is made
    #[arg(short = 'x', long, global = true)]
    trace: bool,
    /// Tear the lab down when the script ends, even on success
    #[arg(long)]
    rm: bool,
    /// On failure, keep what the run built (remove it later with `netscript down LAB`)
    #[arg(long)]
    keep_on_error: bool,
    /// Lab name (default: the script's file stem)
    #[arg(long, value_name = "NAME")]
    lab: Option<String>,
    /// Evaluate CODE and print the result
    #[arg(short = 'e', value_name = "CODE", conflicts_with = "file")]
    eval: Option<String>,
    /// The script to run
    file: Option<PathBuf>,
    /// Arguments for the script (its ARGS array)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, requires = "file")]
    args: Vec<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Parse a script without touching anything
    Check { file: PathBuf },
    /// Print the API reference (all functions, or one)
    Doc { name: Option<String> },
}

fn read(file: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(file).map_err(|e| {
        eprintln!("netscript: cannot read {}: {e}", file.display());
        ExitCode::from(2)
    })
}

fn lab_name(cli: &Cli) -> Result<String, ExitCode> {
    let name = match (&cli.lab, &cli.file) {
        (Some(l), _) => l.clone(),
        (None, Some(f)) => f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "lab".into()),
        (None, None) => "eval".into(),
    };
    names::nsname(&name).map_err(|e| {
        eprintln!("netscript: invalid lab name: {e}");
        ExitCode::from(2)
    })?;
    Ok(name)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Cmd::Check { file }) => {
            let Ok(src) = read(file) else { return ExitCode::from(2) };
            let engine = rhai::Engine::new_raw();
            let f = file.display().to_string();
            return match run::compile(&engine, &f, &src) {
                Ok(_) => ExitCode::SUCCESS,
                Err(()) => ExitCode::from(1),
            };
        }
        Some(Cmd::Doc { name }) => return doc(name.as_deref()),
        None => {}
    }
    if cli.file.is_none() && cli.eval.is_none() {
        eprintln!("netscript: give a script to run or -e CODE (see --help)");
        return ExitCode::from(2);
    }
    let lab = match lab_name(&cli) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if cli.sandbox {
        if let Err(e) = sandbox::enter() {
            eprintln!("netscript: --sandbox: {e}");
            return ExitCode::from(1);
        }
    } else if !sandbox::privileged() {
        eprintln!("{PRIVILEGES}");
        return ExitCode::from(1);
    }
    let opts = run::RunOpts {
        trace: cli.trace,
        keep_on_error: cli.keep_on_error,
        rm: cli.rm,
        sandbox: cli.sandbox,
        lab,
    };
    let code = match (&cli.eval, &cli.file) {
        (Some(code), _) => run::run("-e", code, vec![], &opts, true),
        (None, Some(file)) => {
            let Ok(src) = read(file) else { return ExitCode::from(2) };
            run::run(&file.display().to_string(), &src, cli.args.clone(), &opts, false)
        }
        (None, None) => unreachable!("checked above"),
    };
    ExitCode::from(code as u8)
}

fn doc(name: Option<&str>) -> ExitCode {
    let docs: Vec<&script::Doc> = match name {
        None => script::DOCS.iter().collect(),
        Some(n) => match script::DOCS.iter().find(|d| d.name == n) {
            Some(d) => vec![d],
            None => {
                eprintln!("netscript doc: no function named {n:?}");
                return ExitCode::from(1);
            }
        },
    };
    for d in docs {
        println!("{}", d.forms.join("\n"));
        println!("    {}", d.equivalent);
        println!("    e.g. {}\n", d.example);
    }
    ExitCode::SUCCESS
}
