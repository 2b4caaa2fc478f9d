//! Into a node: `netscript exec NS -- CMD`, `netscript shell NS` and `ns.shell()` run a
//! command on the terminal inside a namespace, the way `ip netns exec` does (see
//! `backend::kernel::process`).

use crate::backend::Command;

/// The user's shell (`$SHELL`, else /bin/sh) for namespace `ns` ("host" for the host's),
/// and what to add to its environment: `NETSCRIPT_NS=ns`, and a `PS1` that starts with
/// `[ns] `. bash's rc files set their own `PS1` (Debian's /etc/bash.bashrc does), so bash
/// also gets a `PROMPT_COMMAND` that puts the prefix back before each prompt. Other shells
/// that set their prompt in an rc file show their own.
pub fn shell(ns: &str) -> (Command, Vec<(String, String)>) {
    let sh = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let ps1 = std::env::var("PS1").unwrap_or_else(|_| "\\$ ".into());
    let prefix = prompt_prefix(ns);
    let mut env = vec![
        ("NETSCRIPT_NS".to_string(), ns.to_string()),
        ("PS1".to_string(), format!("{prefix}{ps1}")),
    ];
    if sh.rsplit('/').next() == Some("bash") {
        let ours = format!("case \"$PS1\" in '{prefix}'*) ;; *) PS1='{prefix}'\"$PS1\" ;; esac");
        let cmd = match std::env::var("PROMPT_COMMAND") {
            Ok(theirs) if !theirs.trim().is_empty() => format!("{theirs}; {ours}"),
            _ => ours,
        };
        env.push(("PROMPT_COMMAND".to_string(), cmd));
    }
    (Command::Argv(vec![sh]), env)
}

/// `[ns] ` for the prompt. Shells expand `$`, backquotes and `\` in `PS1` each time they
/// print it, so a namespace name with anything but plain characters is not written into
/// the prompt: the prompt reads it from `NETSCRIPT_NS` (the value of an expansion is not
/// expanded again).
fn prompt_prefix(ns: &str) -> String {
    let plain = ns
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-+@:,".contains(c));
    match plain {
        true => format!("[{ns}] "),
        false => "[${NETSCRIPT_NS}] ".to_string(),
    }
}

/// `netscript exec` / `shell`: check NS (a named namespace, or "host"; with `lab`, one of
/// that lab's namespaces) and run `cmd` in it on the terminal. Returns the command's
/// exit status, or a one-line error.
pub fn run(
    lab: Option<&str>,
    ns: &str,
    cmd: &Command,
    env: &[(String, String)],
) -> crate::error::Result<i64> {
    if let Some(lab) = lab {
        in_lab(lab, ns)?;
    }
    let file = match ns {
        "host" => None,
        name => {
            crate::lab::names::nsname(name).map_err(|e| e.about("invalid namespace name"))?;
            Some(crate::backend::kernel::netns::open(name)?)
        }
    };
    let prog = cmd.argv()[0].clone();
    crate::backend::kernel::process::interactive(cmd, file.as_ref().map(|f| (ns, f)), env).map_err(
        |e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                crate::error::Error::Other(format!("{prog}: command not found"))
            }
            _ => crate::error::Error::Other(format!("running {prog:?} in namespace {ns:?}: {e}")),
        },
    )
}

/// With `--lab LAB`: NS must be one of that lab's namespaces (or `host`).
pub fn in_lab(lab: &str, ns: &str) -> crate::error::Result<()> {
    crate::lab::names::labname(lab).map_err(|e| e.about("invalid lab name"))?;
    let entries = crate::lab::journal::Journal::load(lab)?.ok_or_else(|| {
        crate::error::Error::Other(format!(
            "there is no lab named {lab:?} that is up (see netscript ls)"
        ))
    })?;
    let names = crate::lab::store::namespaces(&entries);
    if ns != "host" && !names.iter().any(|n| n == ns) {
        return Err(crate::error::Error::Other(format!(
            "lab {lab:?} has no namespace {ns:?} (it has: {})",
            match names.is_empty() {
                true => "none".to_string(),
                false => names.join(", "),
            }
        )));
    }
    Ok(())
}
