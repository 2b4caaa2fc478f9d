//! What the command line offers beyond running scripts: shell completions
//! (`netscript completions SHELL`), the man page (`netscript man`), and the nearest-name
//! suggestion for a typo'd subcommand. Each takes the binary's `clap::Command`, so the
//! completions and the page can never drift from the options the parser accepts.

use std::io::Write;

use clap_complete::Shell;

/// The exit statuses, for `--help` (after_help) and the man page's EXIT STATUS section.
pub const EXIT_STATUS: &str = "Exit status: 0 success; 1 failure (a failed check or assert, an \
error while building, the kernel refused a change); 2 usage error (bad arguments, an \
unreadable script). `exec` and `shell` exit with CMD's own status.";

/// Lab names come from the journals of the labs that are up (`/run/netscript/NAME.journal`,
/// what `netscript ls` lists) and namespace names from `ip netns list`, read at completion
/// time, so they follow what is up now without running netscript itself (which may need root).
const BASH_LIVE: &str = r#"
# netscript: lab names for `down`, `graph` and `--lab`; namespace names for `exec` and `shell`.
_netscript_labs() {
    local f
    for f in /run/netscript/*.journal; do
        [ -e "$f" ] || continue
        f=${f##*/}
        printf '%s\n' "${f%.journal}"
    done
}
_netscript_netns() {
    printf 'host\n'
    ip netns list 2>/dev/null | cut -d' ' -f1
}
_netscript_live() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local sub="" positional=0 i w skip=0
    if [ "$prev" = "--lab" ]; then
        COMPREPLY=($(compgen -W "$(_netscript_labs)" -- "$cur"))
        return 0
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [ $skip = 1 ]; then skip=0; continue; fi
        case $w in
            --lab|--format|-e|--down) skip=1 ;;
            -*) ;;
            *) if [ -z "$sub" ]; then sub=$w; else positional=$((positional + 1)); fi ;;
        esac
    done
    case $cur in -*) _netscript "$@"; return ;; esac
    if [ $positional = 0 ]; then
        case $sub in
            down|graph) COMPREPLY=($(compgen -W "$(_netscript_labs)" -- "$cur")); return 0 ;;
            exec|shell) COMPREPLY=($(compgen -W "$(_netscript_netns)" -- "$cur")); return 0 ;;
        esac
    fi
    _netscript "$@"
}
"#;

const FISH_LIVE: &str = r#"
# netscript: lab names for `down`, `graph` and `--lab`; namespace names for `exec` and `shell`.
function __netscript_labs
    for f in /run/netscript/*.journal
        basename $f .journal
    end
end
function __netscript_netns
    echo host
    ip netns list 2>/dev/null | string split -f1 ' '
end
complete -c netscript -n "__fish_seen_subcommand_from down graph" -f -a "(__netscript_labs)"
complete -c netscript -n "__fish_seen_subcommand_from exec shell" -f -a "(__netscript_netns)"
complete -c netscript -l lab -f -a "(__netscript_labs)"
"#;

const ZSH_LIVE: &str = r#"
# netscript: lab names for `down`, `graph` and `--lab`; namespace names for `exec` and `shell`.
_netscript_labs() {
    local -a labs
    labs=(/run/netscript/*.journal(N:t:r))
    _describe 'lab' labs
}
_netscript_netns() {
    local -a ns
    ns=(host ${(f)"$(ip netns list 2>/dev/null | cut -d' ' -f1)"})
    _describe 'namespace' ns
}
"#;

/// The completion script for `shell`: clap_complete's subcommands and options, plus (bash,
/// zsh, fish) the names of the labs and namespaces that are up.
pub fn completions(shell: Shell, mut cmd: clap::Command) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "netscript", &mut buf);
    let mut script = String::from_utf8(buf).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Bash => {
            script.push_str(BASH_LIVE);
            // The same options clap_complete registers `_netscript` with, now on the wrapper.
            script.push_str(
                "if [[ \"${BASH_VERSINFO[0]}\" -eq 4 && \"${BASH_VERSINFO[1]}\" -ge 4 || \"${BASH_VERSINFO[0]}\" -gt 4 ]]; then\n    complete -F _netscript_live -o nosort -o bashdefault -o default netscript\nelse\n    complete -F _netscript_live -o bashdefault -o default netscript\nfi\n",
            );
        }
        Shell::Fish => script.push_str(FISH_LIVE),
        Shell::Zsh => {
            // clap_complete leaves these values to `_default` (files): point them at the
            // helpers, defined right after the `#compdef` line so the script's last line
            // (which calls or registers `_netscript`) sees them.
            script = script
                .replace(":lab:_default'", ":lab:_netscript_labs'")
                .replace(":LAB:_default'", ":LAB:_netscript_labs'")
                .replace(":NAME:_default'", ":NAME:_netscript_labs'")
                .replace(":ns:_default'", ":ns:_netscript_netns'");
            let at = script.find('\n').map_or(0, |i| i + 1);
            script.insert_str(at, ZSH_LIVE);
        }
        _ => {}
    }
    script
}

/// The man page (roff): the top-level synopsis and options, then one subsection per
/// subcommand with its own synopsis, description and options, then the exit statuses.
/// One page rather than `netscript-SUB(1)` pages, since only one is installed.
pub fn man_page(mut cmd: clap::Command) -> String {
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let io = |r: std::io::Result<()>| r.expect("writing to memory");
    io(man.render_title(&mut out));
    io(man.render_name_section(&mut out));
    io(man.render_synopsis_section(&mut out));
    io(man.render_description_section(&mut out));
    io(man.render_options_section(&mut out));
    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        writeln!(out, ".SS \"netscript {name}\"").unwrap();
        // The global options (--sandbox, -x, --json) and --help are listed once, above.
        let mut sub = sub.clone();
        let shared: Vec<String> = sub
            .get_arguments()
            .filter(|a| a.is_global_set() || a.get_id() == "help")
            .map(|a| a.get_id().to_string())
            .collect();
        for id in shared {
            sub = sub.mut_arg(id, |a| a.hide(true));
        }
        let sub_man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        io(sub_man.render_synopsis_section(&mut part));
        io(sub_man.render_description_section(&mut part));
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            io(sub_man.render_options_section(&mut part));
        }
        // Inside a subsection, the parts' own section headings would end it: drop them.
        for line in String::from_utf8_lossy(&part).lines() {
            match line.starts_with(".SH ") {
                true => writeln!(out, ".PP").unwrap(),
                false => writeln!(out, "{line}").unwrap(),
            }
        }
    }
    writeln!(out, ".SH \"EXIT STATUS\"").unwrap();
    writeln!(out, ".TP\n0\nsuccess").unwrap();
    writeln!(
        out,
        ".TP\n1\nfailure: a failed check or assert, an error while building, the kernel refused a change"
    )
    .unwrap();
    writeln!(
        out,
        ".TP\n2\nusage error: bad arguments, an unreadable script"
    )
    .unwrap();
    writeln!(
        out,
        ".PP\n\\fBexec\\fR and \\fBshell\\fR exit with the status of the command they ran."
    )
    .unwrap();
    if cmd.get_after_help().is_some() {
        let mut extra = Vec::new();
        io(man.render_extra_section(&mut extra));
        // The examples, as the lines they are (no filling); the exit-status paragraph
        // that follows them in --help is the EXIT STATUS section above.
        let extra = String::from_utf8_lossy(&extra).into_owned();
        let examples = extra
            .lines()
            .skip_while(|l| *l != ".SH EXTRA")
            .skip(1)
            .take_while(|l| !l.is_empty());
        writeln!(out, ".SH EXAMPLES\n.nf").unwrap();
        for line in examples {
            writeln!(out, "{line}").unwrap();
        }
        writeln!(out, ".fi").unwrap();
    }
    io(man.render_version_section(&mut out));
    let page = String::from_utf8(out).expect("clap_mangen writes UTF-8");
    // Each part clap_mangen renders repeats its two-line preamble (the `\*(Aq` string);
    // the page needs it once, at the top.
    let mut seen = std::collections::HashSet::new();
    let mut lines = Vec::new();
    for line in page.lines() {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if preamble && !seen.insert(line) {
            continue;
        }
        lines.push(line);
    }
    lines.join("\n") + "\n"
}

/// The name in `names` nearest to `word`, if it is near enough to be a typo of it: one edit
/// (a transposition counts as one) for names of up to four letters, two for longer ones.
pub fn nearest<'a>(word: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    names
        .into_iter()
        .map(|n| (strsim::damerau_levenshtein(&word, n), n))
        .filter(|&(d, n)| d > 0 && d <= if n.len() <= 4 { 1 } else { 2 })
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    const SUBS: [&str; 4] = ["graph", "down", "ls", "shell"];

    #[test]
    fn typos_find_their_subcommand() {
        assert_eq!(nearest("grpah", SUBS), Some("graph"));
        assert_eq!(nearest("dwon", SUBS), Some("down"));
        assert_eq!(nearest("shel", SUBS), Some("shell"));
        assert_eq!(nearest("sl", SUBS), Some("ls"));
    }

    #[test]
    fn far_words_and_exact_names_get_nothing() {
        assert_eq!(nearest("lab", SUBS), None);
        assert_eq!(nearest("topology", SUBS), None);
        assert_eq!(nearest("graph", SUBS), None);
    }
}
