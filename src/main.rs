//! netscript: container-networking labs as Rhai scripts.

use netscript::{
    backend, cli_extras, enter, import, journal, lab, names, repl, run, sandbox, script, stdlib,
    topology,
};

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

const PRIVILEGES: &str = "netscript: needs root or CAP_NET_ADMIN + CAP_SYS_ADMIN; or use --sandbox";

#[derive(Parser)]
#[command(
    name = "netscript",
    version,
    about = "Build container-networking labs (namespaces, veth pairs, bridges, routes, NAT) from Rhai scripts",
    after_help = "Run a script:   netscript --sandbox scripts/connect-two.rhai\nEvaluate code:  netscript --sandbox -e 'netns(\"red\").inode'\nThe REPL:       netscript --sandbox   (no FILE)\nThe API:        netscript doc\n\nExit status: 0 success; 1 failure (a failed check or assert, an error while building, the kernel\nrefused a change); 2 usage error (bad arguments, an unreadable script). exec and shell exit with\nCMD's own status."
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
    /// If the lab of this name is up, tear it down first (as `netscript down LAB`), then run
    #[arg(long)]
    replace: bool,
    /// On failure, keep what the run built (remove it later with `netscript down LAB`)
    #[arg(long)]
    keep_on_error: bool,
    /// Lab name (default: the script's file stem)
    #[arg(long, value_name = "NAME")]
    lab: Option<String>,
    /// Machine-readable output (ls, graph, doc, and -e's result)
    #[arg(long, global = true)]
    json: bool,
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
    Doc {
        name: Option<String>,
        /// A Rhai definitions file for editors
        #[arg(long)]
        definitions: bool,
    },
    /// Tear a lab down: undo, newest first, what its runs built
    Down {
        lab: String,
        /// Undo what the journal says even where some of its lines cannot be read
        /// (they are skipped and listed)
        #[arg(long)]
        force: bool,
    },
    /// List the labs that are up
    Ls,
    /// Dry run: print, as a shell script of ip / nft / sysctl commands, what FILE would do
    #[command(arg_required_else_help = true)]
    Plan {
        /// What `netscript down LAB` would undo, instead of a script's changes
        #[arg(long, value_name = "LAB", conflicts_with = "file")]
        down: Option<String>,
        /// The script to plan
        file: Option<PathBuf>,
        /// Arguments for the script (its ARGS array)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print a netscript script that rebuilds LAB, written from its journal
    Export { lab: String },
    /// Translate a bash lab script (ip, sysctl, iptables) into a netscript script
    Import { file: PathBuf },
    /// Run CMD inside namespace NS (`host`: the host's) as `ip netns exec` does, on this
    /// terminal; exits with CMD's exit code
    #[command(arg_required_else_help = true)]
    Exec {
        /// Only a namespace of this lab
        #[arg(long, value_name = "LAB")]
        lab: Option<String>,
        ns: String,
        /// The command and its arguments (after --)
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Open $SHELL (else /bin/sh) inside namespace NS, with NETSCRIPT_NS=NS and PS1
    /// prefixed `[NS] `
    #[command(arg_required_else_help = true)]
    Shell {
        /// Only a namespace of this lab
        #[arg(long, value_name = "LAB")]
        lab: Option<String>,
        ns: String,
    },
    /// Capture packets on link LINK of namespace NS (`host`: the host's): one line per
    /// packet, or pcap with -w
    #[command(arg_required_else_help = true)]
    Capture {
        /// Only a namespace of this lab
        #[arg(long, value_name = "LAB")]
        lab: Option<String>,
        ns: String,
        link: String,
        /// Write pcap to FILE (`-`: standard output, streamed)
        #[arg(short = 'w', value_name = "FILE")]
        write: Option<String>,
        /// Stop after COUNT packets (default 10)
        #[arg(short = 'c', value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..))]
        count: Option<u32>,
        /// Stop after S seconds (default 10)
        #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..=86400))]
        seconds: Option<u64>,
    },
    /// Draw the live topology (of one lab's namespaces, or of all)
    Graph {
        /// text (default), dot, mermaid or svg
        #[arg(long, value_name = "F", default_value = "text", value_parser = ["text", "dot", "mermaid", "svg"])]
        format: String,
        lab: Option<String>,
    },
    /// Print a shell completion script (subcommands, options, and the labs and namespaces
    /// that are up): `source <(netscript completions bash)`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `netscript man | man -l -`
    Man,
}

fn read(file: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(file)
        .map(|t| stdlib::prepare(&t))
        .map_err(|e| {
            netscript::errln!("netscript: cannot read {}: {e}", file.display());
            ExitCode::from(2)
        })
}

fn lab_name(cli: &Cli) -> Result<String, ExitCode> {
    let name = match (&cli.lab, &cli.file) {
        (Some(l), _) => l.clone(),
        (None, Some(f)) => f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "lab".into()),
        (None, None) if cli.eval.is_some() => "eval".into(),
        (None, None) => "repl".into(),
    };
    names::labname(&name).map_err(|e| {
        netscript::errln!("netscript: invalid lab name: {e}");
        ExitCode::from(2)
    })?;
    Ok(name)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Cmd::Check { file }) => {
            let Ok(src) = read(file) else {
                return ExitCode::from(2);
            };
            return ExitCode::from(run::check(&file.display().to_string(), &src) as u8);
        }
        Some(Cmd::Doc { name, definitions }) => {
            if *definitions {
                netscript::out!("{}", script::definitions());
                return ExitCode::SUCCESS;
            }
            return doc(name.as_deref(), cli.json);
        }
        Some(Cmd::Ls) => return ls(cli.json),
        Some(Cmd::Completions { shell }) => {
            netscript::out!("{}", cli_extras::completions(*shell, Cli::command()));
            return ExitCode::SUCCESS;
        }
        Some(Cmd::Man) => {
            netscript::out!("{}", cli_extras::man_page(Cli::command()));
            return ExitCode::SUCCESS;
        }
        Some(Cmd::Import { file }) => {
            let bytes = match std::fs::read(file) {
                Ok(b) => b,
                Err(e) => {
                    netscript::errln!("netscript: cannot read {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            };
            let name = file.display().to_string();
            let translated = match String::from_utf8(bytes) {
                Ok(src) => import::translate(&name, &src),
                Err(_) => Err(format!("{name} is not a shell script (it is not text)")),
            };
            return match translated {
                Ok(out) => {
                    netscript::out!("{out}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    netscript::errln!("netscript import: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Some(Cmd::Plan { down, file, args }) => {
            if cli.sandbox {
                if let Err(c) = enter(&cli) {
                    return c;
                }
            }
            let code = match (down, file) {
                (Some(lab), _) => run::plan_down(lab),
                (None, Some(f)) => {
                    let Ok(src) = read(f) else {
                        return ExitCode::from(2);
                    };
                    run::plan(&f.display().to_string(), &src, args.clone())
                }
                (None, None) => 2,
            };
            return ExitCode::from(code as u8);
        }
        Some(Cmd::Graph { format, lab }) => {
            if let Err(c) = enter(&cli) {
                return c;
            }
            return graph(format, lab.as_deref(), cli.json);
        }
        Some(Cmd::Down { lab, force }) => {
            if let Err(c) = enter(&cli) {
                return c;
            }
            return down(lab, cli.trace, *force);
        }
        Some(Cmd::Export { lab }) => return export(lab),
        Some(Cmd::Exec { lab, ns, cmd }) => {
            if let Err(c) = enter(&cli) {
                return c;
            }
            let cmd = backend::Command::Argv(cmd.clone());
            return exec("exec", lab.as_deref(), ns, &cmd, &[]);
        }
        Some(Cmd::Shell { lab, ns }) => {
            if let Err(c) = enter(&cli) {
                return c;
            }
            let (cmd, env) = enter::shell(ns);
            return exec("shell", lab.as_deref(), ns, &cmd, &env);
        }
        Some(Cmd::Capture {
            lab,
            ns,
            link,
            write,
            count,
            seconds,
        }) => {
            if let Err(c) = enter(&cli) {
                return c;
            }
            let opts = netscript::capture::Opts {
                count: count.unwrap_or(netscript::capture::DEFAULT_COUNT),
                seconds: seconds.unwrap_or(netscript::capture::DEFAULT_SECONDS),
                filter: Default::default(),
            };
            return match netscript::capture::command(
                lab.as_deref(),
                ns,
                link,
                write.as_deref(),
                &opts,
            ) {
                Ok(n) => {
                    if let Some(f) = write.as_deref().filter(|f| *f != "-") {
                        netscript::errln!("{n} packets written to {f}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    netscript::errln!("netscript capture: {e}");
                    ExitCode::from(1)
                }
            };
        }
        None => {}
    }
    if let Some(file) = &cli.file {
        if let Some(sub) = typo_of_subcommand(file) {
            netscript::errln!(
                "netscript: {:?} is neither a file nor a subcommand; did you mean {sub}? (see netscript --help)",
                file.display().to_string()
            );
            return ExitCode::from(2);
        }
    }
    let lab = match lab_name(&cli) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if let Err(c) = enter(&cli) {
        return c;
    }
    // --replace: the lab of this name, if up, goes first.
    if cli.replace && matches!(journal::Journal::load(&lab), Ok(Some(_))) {
        let code = down(&lab, cli.trace, false);
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    let opts = run::RunOpts {
        trace: cli.trace,
        keep_on_error: cli.keep_on_error,
        rm: cli.rm,
        sandbox: cli.sandbox,
        lab,
        json: cli.json,
    };
    let code = match (&cli.eval, &cli.file) {
        (Some(code), _) => run::run("-e", code, vec![], &opts, true),
        (None, Some(file)) => {
            let Ok(src) = read(file) else {
                return ExitCode::from(2);
            };
            run::run(
                &file.display().to_string(),
                &src,
                cli.args.clone(),
                &opts,
                false,
            )
        }
        (None, None) => repl::repl(&opts),
    };
    ExitCode::from(code as u8)
}

/// The subcommand FILE was meant to be: `netscript grpah` parses as a script named
/// "grpah", so when no such file exists and the word looks like no script (no `.rhai`, no
/// `/`) but like a subcommand, the user gets the subcommand's name instead of "cannot read".
fn typo_of_subcommand(file: &Path) -> Option<String> {
    let word = file.to_str()?;
    if file.exists() || word.contains('/') || file.extension().is_some() {
        return None;
    }
    let cmd = Cli::command();
    let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
    cli_extras::nearest(word, names).map(str::to_string)
}

/// Into the sandbox (`--sandbox`), or check that we may change the network.
fn enter(cli: &Cli) -> Result<(), ExitCode> {
    if cli.sandbox {
        sandbox::enter().map_err(|e| {
            netscript::errln!("netscript: --sandbox: {e}");
            ExitCode::from(1)
        })
    } else if !sandbox::privileged() {
        netscript::errln!("{PRIVILEGES}");
        Err(ExitCode::from(1))
    } else {
        Ok(())
    }
}

/// `netscript exec` / `shell`: CMD's exit status, or 1 after a one-line error.
fn exec(
    what: &str,
    lab: Option<&str>,
    ns: &str,
    cmd: &backend::Command,
    env: &[(String, String)],
) -> ExitCode {
    match enter::run(lab, ns, cmd, env) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            netscript::errln!("netscript {what}: {e}");
            ExitCode::from(1)
        }
    }
}

/// `netscript export LAB`: only reads the journal, so it needs no privileges.
fn export(lab: &str) -> ExitCode {
    if let Err(e) = names::labname(lab) {
        netscript::errln!("netscript export: invalid lab name: {e}");
        return ExitCode::from(2);
    }
    match netscript::journal::Journal::load(lab) {
        Ok(Some(entries)) => {
            netscript::outln!("{}", netscript::export::script(lab, &entries).trim_end());
            ExitCode::SUCCESS
        }
        Ok(None) => {
            netscript::errln!("netscript export: lab {lab:?} is not up (no journal)");
            ExitCode::from(1)
        }
        Err(e) => {
            netscript::errln!("netscript export: {e}");
            ExitCode::from(1)
        }
    }
}

fn down(lab: &str, trace: bool, force: bool) -> ExitCode {
    if let Err(e) = names::labname(lab) {
        netscript::errln!("netscript down: invalid lab name: {e}");
        return ExitCode::from(2);
    }
    let mut backend = match backend::kernel::KernelBackend::new() {
        Ok(b) => b,
        Err(e) => {
            netscript::errln!("netscript down: {e}");
            return ExitCode::from(1);
        }
    };
    match lab::down(lab, &mut backend, trace, force) {
        Ok(lab::DownResult::Done {
            undone,
            skipped,
            left_alone,
        }) => {
            for s in &skipped {
                netscript::errln!("netscript down: skipped (--force): {s}");
            }
            for s in &left_alone {
                netscript::errln!("netscript down {lab}: {s}");
            }
            netscript::outln!("lab {lab:?} is down ({})", lab::changes(undone));
            // Something could not be undone as recorded.
            match left_alone.is_empty() {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(1),
            }
        }
        Ok(lab::DownResult::AlreadyDown) => {
            netscript::outln!("lab {lab:?} is already down");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in errors {
                netscript::errln!("netscript down {lab}: {e}");
            }
            ExitCode::from(1)
        }
    }
}

fn graph(format: &str, lab: Option<&str>, json: bool) -> ExitCode {
    let fail = |e: String| {
        netscript::errln!("netscript graph: {e}");
        ExitCode::from(1)
    };
    let mut backend = match backend::kernel::KernelBackend::new() {
        Ok(b) => b,
        Err(e) => return fail(e.to_string()),
    };
    let namespaces = match lab {
        None => match backend::Backend::netns_list(&mut backend) {
            Ok(l) => l,
            Err(e) => return fail(e.to_string()),
        },
        Some(l) => match journal::Journal::load(l) {
            Ok(Some(entries)) => lab::namespaces(&entries)
                .into_iter()
                .filter(|n| backend::Backend::netns_exists(&mut backend, n))
                .collect(),
            Ok(None) => {
                return fail(format!(
                    "there is no lab named {l:?} that is up (see netscript ls)"
                ))
            }
            Err(e) => return fail(e.to_string()),
        },
    };
    let t = match topology::gather(&mut backend, &namespaces) {
        Ok(t) => t,
        Err(e) => return fail(e.to_string()),
    };
    let out = match (json, format) {
        (true, _) => serde_json::to_string_pretty(&t).expect("topology serializes") + "\n",
        (_, "dot") => topology::dot(&t),
        (_, "mermaid") => topology::mermaid(&t),
        (_, "svg") => match topology::svg(&t) {
            Ok(s) => s,
            Err(e) => return fail(e),
        },
        _ => topology::text(&t),
    };
    netscript::out!("{out}");
    ExitCode::SUCCESS
}

fn ls(json: bool) -> ExitCode {
    let labs = match lab::list() {
        Ok(l) => l,
        Err(e) => {
            netscript::errln!("netscript ls: {e}");
            return ExitCode::from(1);
        }
    };
    if json {
        let v: Vec<serde_json::Value> = labs
            .iter()
            .map(|l| match &l.error {
                Some(e) => serde_json::json!({ "lab": l.name, "error": e }),
                None => {
                    serde_json::json!({ "lab": l.name, "namespaces": l.namespaces, "links": l.links,
                        "rules": l.rules, "processes": l.processes, "age_secs": l.age_secs })
                }
            })
            .collect();
        netscript::outln!("{}", serde_json::Value::Array(v));
    } else if labs.is_empty() {
        netscript::outln!("no labs are up");
    } else {
        netscript::outln!(
            "{:<20} {:>10} {:>6} {:>6} {:>10} {:>6}",
            "LAB",
            "NAMESPACES",
            "LINKS",
            "RULES",
            "PROCESSES",
            "AGE"
        );
        for l in labs {
            if let Some(e) = &l.error {
                netscript::outln!("{:<20} unreadable: {e}", l.name);
                continue;
            }
            netscript::outln!(
                "{:<20} {:>10} {:>6} {:>6} {:>10} {:>6}",
                l.name,
                l.namespaces,
                l.links,
                l.rules,
                l.processes,
                lab::age(l.age_secs)
            );
        }
    }
    ExitCode::SUCCESS
}

fn doc(name: Option<&str>, json: bool) -> ExitCode {
    let docs: Vec<&script::Doc> = match name {
        None => script::DOCS.iter().collect(),
        Some(n) => match script::DOCS.iter().find(|d| d.name == n) {
            Some(d) => vec![d],
            None => {
                netscript::errln!("netscript doc: no function named {n:?}");
                return ExitCode::from(1);
            }
        },
    };
    if json {
        let v: Vec<serde_json::Value> = docs.iter().map(|d| d.json()).collect();
        netscript::outln!("{}", serde_json::Value::Array(v));
        return ExitCode::SUCCESS;
    }
    for d in docs {
        netscript::outln!("{}", d.text());
    }
    ExitCode::SUCCESS
}
