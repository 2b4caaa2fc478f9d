//! netscript: container-networking labs as Rhai scripts.

use netscript::commands::{self, extras, run::Source};
use netscript::lab::names;
use netscript::ui::join::Target;
use netscript::ui::run::RunOpts;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "netscript",
    version,
    about = "Build container-networking labs (namespaces, veth pairs, bridges, routes, NAT) from Rhai scripts",
    after_help = "Run a script:   netscript --sandbox scripts/connect-two.rhai\nEvaluate code:  netscript --sandbox -e 'netns(\"red\").inode'\nFrom stdin:     netscript --sandbox - < lab.rhai\nThe REPL:       netscript --sandbox   (no FILE)\nThe API:        netscript doc\n\nExit status: 0 success; 1 failure (a failed check or assert, an error while building, the kernel\nrefused a change); 2 usage error (bad arguments, an unreadable script). exec and shell exit with\nCMD's own status."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Run inside a fresh private network + mount namespace; nothing touches the host
    #[arg(long, global = true)]
    sandbox: bool,
    /// Work inside the running sandbox NAME (see `netscript ls`), as if run there; without
    /// it, a lab or namespace the host does not have is looked for in the running sandboxes
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "sandbox")]
    sandbox_of: Option<String>,
    /// Run on (or, with down, ls, plan, graph, exec, capture: reach) every machine the
    /// hosts file FILE names, over SSH (see README: Across hosts)
    #[arg(long, global = true, value_name = "FILE", conflicts_with_all = ["sandbox", "sandbox_of"])]
    hosts: Option<PathBuf>,
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
    /// Make links as plain `ip` does: veth ends with the kernel's queue count, bridges with
    /// multicast snooping (see the README's "Creation flags")
    #[arg(long, global = true)]
    kernel_defaults: bool,
    /// Bridges in lab mode: their ports get no IPv6 and no flooded multicast, so large labs
    /// build fast; IPv6 between containers across a bridge stops working (see the README's
    /// "Lab mode")
    #[arg(long, global = true)]
    lab_mode: bool,
    /// Lab name (default: the script's file stem)
    #[arg(long, value_name = "NAME")]
    lab: Option<String>,
    /// Machine-readable output (ls, graph, doc, and -e's result); errors of a run, plan
    /// or check become one JSON object on stderr: {file, line, col, message, calls}
    #[arg(long, global = true)]
    json: bool,
    /// Colour errors, notes and the -x trace on stderr: auto (when stderr is a terminal
    /// and NO_COLOR is unset or empty), always, never
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Evaluate CODE and print the result
    #[arg(short = 'e', value_name = "CODE", conflicts_with = "file")]
    eval: Option<String>,
    /// The script to run (`-`: read it from standard input; its lab is then `stdin`)
    file: Option<PathBuf>,
    /// Arguments for the script (its ARGS array)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, requires = "file")]
    args: Vec<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Parse scripts without touching anything (each good one is listed as `ok FILE`)
    Check {
        /// The scripts to check, every one even after one fails (`-`: standard input)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the API reference (all functions, or one: NAME, ns.NAME, Link.NAME, lab::NAME)
    Doc {
        name: Option<String>,
        /// A Rhai definitions file for editors
        #[arg(long, conflicts_with = "markdown")]
        definitions: bool,
        /// The reference as Markdown (docs/API.md)
        #[arg(long)]
        markdown: bool,
    },
    /// Tear a lab down: undo, newest first, what its runs built
    Down {
        lab: String,
        /// Undo what the journal says even where some of its lines cannot be read
        /// (they are skipped and listed)
        #[arg(long)]
        force: bool,
    },
    /// List the labs that are up, and the running sandboxes
    Ls,
    /// Open a REPL inside the running sandbox NAME (see `netscript ls`)
    ///
    /// The REPL builds the sandbox's lab if that is free, else LAB-attach: the sandbox's
    /// own run or REPL holds its lab while it lives.
    #[command(arg_required_else_help = true)]
    Attach {
        /// The running sandbox's name
        name: String,
        /// The lab this REPL builds (default: as above)
        #[arg(long, value_name = "LAB")]
        lab: Option<String>,
    },
    /// Dry run: print, as a shell script of ip / nft / sysctl commands, what FILE would do
    #[command(arg_required_else_help = true)]
    Plan {
        /// What `netscript down LAB` would undo, instead of a script's changes
        #[arg(long, value_name = "LAB", conflicts_with = "file")]
        down: Option<String>,
        /// The script to plan (`-`: read it from standard input)
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
    /// List a lab's started processes (every lab's without LAB): PID NS STATE COMMAND
    Ps { lab: Option<String> },
    /// Print what a lab's started process printed (without PID: all of the lab's, each
    /// line prefixed); the last 1 MiB of each stream is kept
    Logs {
        /// The lab (needed when more than one has processes)
        #[arg(long, value_name = "LAB")]
        lab: Option<String>,
        pid: Option<u32>,
        /// Keep printing what comes until the process exits (or Ctrl-C)
        #[arg(short = 'f', long)]
        follow: bool,
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

fn lab_name(cli: &Cli) -> Result<String, ExitCode> {
    let name = match (&cli.lab, &cli.file) {
        (Some(l), _) => l.clone(),
        (None, Some(f)) if f.as_os_str() == commands::STDIN => "stdin".into(),
        (None, Some(f)) => f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "lab".into()),
        (None, None) if cli.eval.is_some() => "eval".into(),
        (None, None) => "repl".into(),
    };
    names::labname(&name).map_err(|e| {
        netscript::errln!("netscript: invalid lab name: {e}");
        ExitCode::from(commands::USAGE)
    })?;
    Ok(name)
}

fn main() -> ExitCode {
    // Not a subcommand: netscript starting itself to keep a process's output bounded.
    if commands::logs::keeper(std::env::args_os().skip(1)) {
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    netscript::style::set(match cli.color.as_str() {
        "always" => netscript::style::Choice::Always,
        "never" => netscript::style::Choice::Never,
        _ => netscript::style::Choice::Auto,
    });
    netscript::ui::run::set_json_errors(cli.json);
    netscript::lab::tuning::set_kernel_defaults(cli.kernel_defaults);
    netscript::lab::tuning::set_lab_mode(cli.lab_mode);
    if let Some(hosts) = &cli.hosts {
        return across_hosts(&cli, hosts);
    }
    // Subcommands that touch the network go into a sandbox (or check privileges) first.
    let sandbox_of = cli.sandbox_of.as_deref();
    let entered = |cmd: &Cmd| {
        let (name, target) = target_of(cmd);
        commands::enter(name, cli.sandbox, sandbox_of, target)
    };
    match &cli.command {
        Some(Cmd::Check { files }) => return commands::check::exec(files),
        Some(Cmd::Doc {
            name,
            definitions,
            markdown,
        }) => {
            let format = match (definitions, markdown, cli.json) {
                (true, _, _) => commands::doc::Format::Definitions,
                (_, true, _) => commands::doc::Format::Markdown,
                (_, _, true) => commands::doc::Format::Json,
                _ => commands::doc::Format::Text,
            };
            return commands::doc::exec(name.as_deref(), format);
        }
        // They only read, and need no privileges on the host.
        Some(Cmd::Ls) => {
            if let Err(c) = commands::enter_if_elsewhere("ls", sandbox_of, Target::Host) {
                return c;
            }
            return commands::ls::exec(cli.json);
        }
        Some(Cmd::Attach { name, lab }) => {
            if cli.sandbox || sandbox_of.is_some() {
                netscript::errln!("netscript attach: takes the sandbox's NAME alone, without --sandbox or --sandbox-of");
                return ExitCode::from(commands::USAGE);
            }
            return commands::attach::exec(name, lab.as_deref(), cli.trace);
        }
        Some(Cmd::Completions { shell }) => {
            netscript::out!("{}", extras::completions(*shell, Cli::command()));
            return ExitCode::SUCCESS;
        }
        Some(Cmd::Man) => {
            netscript::out!("{}", extras::man_page(Cli::command()));
            return ExitCode::SUCCESS;
        }
        Some(Cmd::Import { file }) => return commands::import::exec(file),
        Some(Cmd::Ps { lab }) => {
            let target = lab.as_deref().map(Target::Lab).unwrap_or(Target::Host);
            if let Err(c) = commands::enter_if_elsewhere("ps", sandbox_of, target) {
                return c;
            }
            return commands::ps::exec(lab.as_deref(), cli.json);
        }
        Some(Cmd::Logs { lab, pid, follow }) => {
            let target = lab.as_deref().map(Target::Lab).unwrap_or(Target::Host);
            if let Err(c) = commands::enter_if_elsewhere("logs", sandbox_of, target) {
                return c;
            }
            return commands::logs::exec(lab.as_deref(), *pid, *follow);
        }
        Some(Cmd::Export { lab }) => {
            if let Err(c) = commands::enter_if_elsewhere("export", sandbox_of, Target::Lab(lab)) {
                return c;
            }
            return commands::export::exec(lab);
        }
        Some(Cmd::Plan { down, file, args }) => {
            // A plan touches nothing; it enters the sandbox only when asked to.
            if cli.sandbox {
                if let Err(c) = commands::enter("plan", true, None, Target::Host) {
                    return c;
                }
            }
            return commands::plan::exec(down.as_deref(), file.as_deref(), args.clone());
        }
        Some(cmd) => {
            if let Err(c) = entered(cmd) {
                return c;
            }
            return match cmd {
                Cmd::Graph { format, lab } => {
                    commands::graph::exec(format, lab.as_deref(), cli.json)
                }
                Cmd::Down { lab, force } => commands::down::exec(lab, cli.trace, *force),
                Cmd::Exec { lab, ns, cmd } => commands::exec::exec(lab.as_deref(), ns, cmd),
                Cmd::Shell { lab, ns } => commands::exec::shell(lab.as_deref(), ns),
                Cmd::Capture {
                    lab,
                    ns,
                    link,
                    write,
                    count,
                    seconds,
                } => commands::capture::exec(
                    lab.as_deref(),
                    ns,
                    link,
                    write.as_deref(),
                    *count,
                    *seconds,
                ),
                _ => unreachable!("handled above"),
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
            return ExitCode::from(commands::USAGE);
        }
    }
    let lab = match lab_name(&cli) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let what = match (&cli.eval, &cli.file) {
        (Some(_), _) => "-e".to_string(),
        (None, Some(f)) => f.display().to_string(),
        (None, None) => "repl".to_string(),
    };
    if let Err(c) = commands::enter_run(cli.sandbox, sandbox_of, &lab, &what) {
        return c;
    }
    let opts = RunOpts {
        trace: cli.trace,
        keep_on_error: cli.keep_on_error,
        rm: cli.rm,
        sandbox: cli.sandbox,
        lab,
        json: cli.json,
    };
    // From here a signal stops the run at its next step (it rolls back); before, it
    // would end the process outright (`--hosts` stops remote runs with SIGTERM).
    netscript::signals::install();
    let source = match (&cli.eval, &cli.file) {
        (Some(code), _) => Source::Eval(code),
        (None, Some(file)) => Source::File(file, cli.args.clone()),
        (None, None) => Source::Repl,
    };
    commands::run::exec(source, &opts, cli.replace)
}

/// For `exec` / `capture` with `--hosts`: the HOST of `target` (`HOST:NS`), and the
/// command line for it so far, `SUBCOMMAND [--lab LAB] NS`.
fn on_host<'a>(
    sub: &str,
    lab: &Option<String>,
    target: &'a str,
) -> Result<(&'a str, Vec<String>), ExitCode> {
    let (host, ns) = netscript::hosts::run::split_target(sub, target)?;
    let mut rest = vec![sub.to_string()];
    if let Some(l) = lab {
        rest.extend(["--lab".to_string(), l.clone()]);
    }
    rest.push(ns.to_string());
    Ok((host, rest))
}

/// The run flags `--hosts` gives each remote run (see `hosts::run::Forwarded`).
fn forwarded(cli: &Cli) -> netscript::hosts::run::Forwarded {
    netscript::hosts::run::Forwarded {
        trace: cli.trace,
        rm: cli.rm,
        replace: cli.replace,
        keep_on_error: cli.keep_on_error,
        kernel_defaults: cli.kernel_defaults,
        lab_mode: cli.lab_mode,
    }
}

/// `--hosts FILE`: the command on every host the file names (or, for exec and capture,
/// on the one HOST of `HOST:NS`).
fn across_hosts(cli: &Cli, hosts: &Path) -> ExitCode {
    use netscript::hosts::run as h;
    let usage = |what: &str| {
        netscript::errln!("netscript: --hosts does not work with {what}");
        ExitCode::from(commands::USAGE)
    };
    match &cli.command {
        Some(Cmd::Down { lab, force }) => h::down(hosts, lab, cli.trace, *force),
        Some(Cmd::Ls) => h::ls(hosts, cli.json),
        Some(Cmd::Plan {
            down: None,
            file: Some(file),
            args,
        }) => h::plan(hosts, file, args, forwarded(cli)),
        Some(Cmd::Plan { .. }) => usage("plan --down (use netscript --hosts FILE plan SCRIPT)"),
        Some(Cmd::Graph { format, lab }) => h::graph(hosts, format, lab.as_deref(), cli.json),
        Some(Cmd::Exec { lab, ns, cmd }) => {
            let (host, mut rest) = match on_host("exec", lab, ns) {
                Ok(t) => t,
                Err(c) => return c,
            };
            rest.push("--".to_string());
            rest.extend(cmd.iter().cloned());
            h::on_one(hosts, host, &rest, None)
        }
        Some(Cmd::Capture {
            lab,
            ns,
            link,
            write,
            count,
            seconds,
        }) => {
            let (host, mut rest) = match on_host("capture", lab, ns) {
                Ok(t) => t,
                Err(c) => return c,
            };
            rest.push(link.clone());
            // pcap to a file here: streamed from there.
            let to_file = write.as_deref().filter(|w| *w != commands::STDIN);
            if write.is_some() {
                rest.extend(["-w".to_string(), "-".to_string()]);
            }
            if let Some(c) = count {
                rest.extend(["-c".to_string(), c.to_string()]);
            }
            if let Some(s) = seconds {
                rest.extend(["--seconds".to_string(), s.to_string()]);
            }
            h::on_one(hosts, host, &rest, to_file)
        }
        Some(_) => usage("this subcommand"),
        None => {
            let Some(file) = &cli.file else {
                return usage("the REPL or -e: give a script FILE");
            };
            if file.as_os_str() == commands::STDIN {
                return usage("a script on standard input: give a script FILE");
            }
            let lab = match lab_name(cli) {
                Ok(l) => l,
                Err(c) => return c,
            };
            h::run(h::RunArgs {
                hosts,
                file,
                args: cli.args.clone(),
                lab,
                flags: forwarded(cli),
            })
        }
    }
}

/// A subcommand's name, and what it names that may be in a running sandbox (see
/// `commands::enter`).
fn target_of(cmd: &Cmd) -> (&'static str, Target<'_>) {
    match cmd {
        Cmd::Graph { lab: Some(lab), .. } => ("graph", Target::Lab(lab)),
        Cmd::Graph { lab: None, .. } => ("graph", Target::Host),
        Cmd::Down { lab, .. } => ("down", Target::Lab(lab)),
        Cmd::Exec { lab, ns, .. } => (
            "exec",
            Target::Ns {
                lab: lab.as_deref(),
                ns,
            },
        ),
        Cmd::Shell { lab, ns } => (
            "shell",
            Target::Ns {
                lab: lab.as_deref(),
                ns,
            },
        ),
        Cmd::Capture { lab, ns, .. } => (
            "capture",
            Target::Ns {
                lab: lab.as_deref(),
                ns,
            },
        ),
        _ => ("", Target::Host),
    }
}

/// The subcommand FILE was meant to be: `netscript grpah` parses as a script named
/// "grpah", so when no such file exists and the word looks like no script (no `.rhai`, no
/// `/`) but like a subcommand, the user gets the subcommand's name instead of "cannot read".
fn typo_of_subcommand(file: &Path) -> Option<String> {
    let word = file.to_str()?;
    if file.exists() || word.contains('/') || file.extension().is_some() || word == commands::STDIN
    {
        return None;
    }
    let cmd = Cli::command();
    let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
    extras::nearest(word, names).map(str::to_string)
}
