//! Reaching the hosts: the system's OpenSSH client, one multiplexed connection per host
//! (ControlMaster, its socket in a private directory of ours), `BatchMode=yes` so a run
//! never stops at a password prompt, the hosts file's `ssh_config` as `-F` and its
//! `ssh_options` as given.

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, ToSocketAddrs};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::file::{Host, HostsFile};

/// `netscript --version` as the remote prints it, when it is this netscript.
pub fn version_line() -> String {
    format!("netscript {}", env!("CARGO_PKG_VERSION"))
}

/// Quote a string as one word for the remote's POSIX shell.
pub fn q(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Why [`Ssh::open`] gave up: a signal came while it connected.
pub const INTERRUPTED: &str = "interrupted while connecting";

/// The private directory that holds the control sockets; removed (connections closed)
/// when dropped.
pub struct Ssh {
    dir: PathBuf,
    /// The hosts' names, in the file's order: a host's control socket is named by its
    /// place here, not its name (a name may be too long for a socket's path, or hold a
    /// `%`, which ssh expands in a ControlPath).
    names: Vec<String>,
    config: Option<PathBuf>,
    options: Vec<String>,
}

impl Ssh {
    pub fn new(file: &HostsFile) -> Result<Ssh, String> {
        // Short: a control socket's path must fit a sockaddr_un.
        let dir = std::env::temp_dir().join(format!(
            "netscript-ssh.{}.{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        Ok(Ssh {
            dir,
            names: file.hosts.iter().map(|h| h.name.clone()).collect(),
            config: file.ssh_config.clone(),
            options: file.ssh_options.clone(),
        })
    }

    /// `ssh` with the file's config and options, in batch mode.
    fn base(&self) -> Command {
        let mut c = Command::new("ssh");
        if let Some(f) = &self.config {
            c.arg("-F").arg(f);
        }
        c.args(&self.options);
        // Never a prompt; and a host gone from the network is given up on, not waited for.
        c.args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]);
        c
    }

    fn socket(&self, host: &Host) -> PathBuf {
        let i = self.names.iter().position(|n| *n == host.name);
        self.dir.join(format!("h{}", i.unwrap_or(self.names.len())))
    }

    /// `ssh ... HOST CMD` over the host's open connection (see [`Ssh::open`]).
    pub fn command(&self, host: &Host, remote: &str) -> Command {
        let mut c = self.base();
        c.arg("-o")
            .arg(format!("ControlPath={}", self.socket(host).display()))
            .args(["-o", "ControlMaster=no", "-T", &host.ssh, remote]);
        c
    }

    /// Open the host's master connection and run `remote` on it; its standard output,
    /// or why not (ssh's own last word when it could not connect).
    pub fn open(&self, host: &Host, remote: &str) -> Result<String, String> {
        let mut c = self.base();
        c.arg("-o")
            .arg(format!("ControlPath={}", self.socket(host).display()))
            .args(["-o", "ControlMaster=yes", "-o", "ControlPersist=60"])
            .args(["-T", &host.ssh, remote])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().map_err(|e| format!("cannot run ssh: {e}"))?;
        // Read as it comes (the session does not end while its output waits).
        let read = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut buf);
                }
                buf
            })
        };
        let stdout = read(child.stdout.take().map(|r| Box::new(r) as _));
        let stderr = read(child.stderr.take().map(|r| Box::new(r) as _));
        // A host that does not answer holds this up to ConnectTimeout: a signal here
        // (Ctrl-C, SIGTERM) gives it up at once, so the caller can clean up and stop
        // (the readers are left to end with the connection).
        let status = loop {
            if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
                break st;
            }
            if crate::signals::interrupted() {
                let _ = child.kill();
                let _ = child.wait();
                return Err(INTERRUPTED.into());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let out = std::process::Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        };
        match out.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
            code => {
                let err = String::from_utf8_lossy(&out.stderr);
                let last = err.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
                Err(match code {
                    Some(255) => format!("unreachable: {}", last.trim()),
                    _ => format!("the check failed: {}", last.trim()),
                })
            }
        }
    }

    /// Run `remote` over the open connection, `input` on its standard input; its output.
    pub fn output(
        &self,
        host: &Host,
        remote: &str,
        input: Option<std::fs::File>,
    ) -> Result<String, String> {
        let mut c = self.command(host, remote);
        c.stdin(match input {
            Some(f) => Stdio::from(f),
            None => Stdio::null(),
        });
        let out = c.output().map_err(|e| format!("cannot run ssh: {e}"))?;
        match out.status.success() {
            true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
            false => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        }
    }

    /// The address `ssh -G` says the host's destination goes to.
    pub fn resolve(&self, host: &Host) -> Result<IpAddr, String> {
        let out = self
            .base()
            .args(["-G", &host.ssh])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("hostname "))
            .ok_or_else(|| format!("`ssh -G {}` names no hostname", host.ssh))?
            .trim()
            .to_string();
        if let Ok(a) = name.parse() {
            return Ok(a);
        }
        (name.as_str(), 0)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .map(|a| a.ip())
            .ok_or_else(|| {
                format!("cannot resolve {name:?} to an address: give underlay = \"...\"")
            })
    }

    /// Whether the host's master connection is still open.
    pub fn alive(&self, host: &Host) -> bool {
        self.socket(host).exists()
    }

    fn close(&self, host: &Host) {
        let _ = self
            .base()
            .arg("-o")
            .arg(format!("ControlPath={}", self.socket(host).display()))
            .args(["-O", "exit", &host.ssh])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Close the master connections that are open.
    pub fn close_all(&self, hosts: &[Host]) {
        for h in hosts {
            if self.socket(h).exists() {
                self.close(h);
            }
        }
    }
}

impl Drop for Ssh {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the preflight learned about a host.
pub struct Remote {
    /// How to start netscript there (`netscript`, or the uploaded copy).
    pub bin: String,
    /// A private directory for this run's scripts (`None`: none asked for).
    pub tmp: Option<String>,
}

/// The name of this binary in a remote cache: its version, size and time, so a rebuilt
/// binary is uploaded anew.
fn cached_name() -> Result<(PathBuf, String), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this netscript: {e}"))?;
    let m = std::fs::metadata(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
    let name = format!(
        "netscript-{}-{:x}-{:x}",
        env!("CARGO_PKG_VERSION"),
        m.len(),
        m.mtime()
    );
    Ok((exe, name))
}

/// Connect, and check before anything is built: the architecture, network-namespace
/// support, the privileges (`privileged`: a run, down; not a plan or ls), and which
/// netscript to run (uploading ours when the remote's PATH has none of this version).
pub fn preflight(
    ssh: &Ssh,
    host: &Host,
    privileged: bool,
    want_tmp: bool,
) -> Result<Remote, String> {
    let (exe, cached) = cached_name()?;
    let script = format!(
        r#"echo "version=$(netscript --version 2>/dev/null)"
echo "arch=$(uname -m)"
c="${{XDG_CACHE_HOME:-$HOME/.cache}}/netscript"
echo "cache=$c"
[ -x "$c/{cached}" ] && echo cached=yes
[ -e /proc/self/ns/net ] && echo netns=yes
echo "caps=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)"
{tmp}true"#,
        tmp = match want_tmp {
            true => "t=$(mktemp -d \"${TMPDIR:-/tmp}/netscript-run.XXXXXX\") && echo \"tmp=$t\"\n",
            false => "",
        }
    );
    let out = ssh.open(host, &format!("sh -c {}", q(&script)))?;
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
    };
    if get("netns").is_none() {
        return Err("no network namespaces there (no /proc/self/ns/net)".into());
    }
    if privileged {
        let caps = get("caps")
            .and_then(|c| u64::from_str_radix(c.trim(), 16).ok())
            .unwrap_or(0);
        const NEED: u64 = (1 << 12) | (1 << 21);
        if caps & NEED != NEED {
            return Err("the remote user may not change the network: needs root or CAP_NET_ADMIN + CAP_SYS_ADMIN".into());
        }
    }
    let tmp = get("tmp");
    if want_tmp && tmp.is_none() {
        return Err("cannot make a temporary directory there (mktemp -d)".into());
    }
    if get("version").as_deref() == Some(version_line().as_str()) {
        return Ok(Remote {
            bin: "netscript".into(),
            tmp,
        });
    }
    let arch = get("arch").unwrap_or_default();
    if arch != std::env::consts::ARCH {
        return Err(format!(
            "no {} on its PATH, and this netscript is built for {}, not its {arch:?}: install netscript there",
            version_line(),
            std::env::consts::ARCH
        ));
    }
    let cache = get("cache").ok_or("the remote shell did not answer")?;
    let bin = format!("{cache}/{cached}");
    if get("cached").is_none() {
        let f = std::fs::File::open(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
        let up = format!(
            "mkdir -p {c} && cat > {p}.part.$$ && chmod 755 {p}.part.$$ && mv {p}.part.$$ {p}",
            c = q(&cache),
            p = q(&bin)
        );
        ssh.output(host, &format!("sh -c {}", q(&up)), Some(f))
            .map_err(|e| format!("uploading netscript to {bin}: {e}"))?;
        crate::errln!(
            "[{}] netscript: no {} on PATH there; uploaded this one to {bin}",
            host.name,
            version_line()
        );
    }
    Ok(Remote { bin, tmp })
}

/// Copy `text` to `path` on the host (its directory is made).
pub fn put(ssh: &Ssh, host: &Host, path: &str, text: &str) -> Result<(), String> {
    let dir = std::path::Path::new(path)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| ".".into());
    let cmd = format!(
        "sh -c {}",
        q(&format!("mkdir -p {} && cat > {}", q(&dir), q(path)))
    );
    let mut child = ssh
        .command(host, &cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped");
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| format!("uploading {path}: {e}"))?;
    }
    let mut err = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    match child.wait() {
        Ok(s) if s.success() => Ok(()),
        _ => Err(format!("uploading {path}: {}", err.trim())),
    }
}

/// Copy each line `from` gives to our stdout or stderr, prefixed `[NAME] `.
pub fn forward(
    name: String,
    from: impl Read + Send + 'static,
    to_stderr: bool,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = BufReader::new(from);
        let mut line = Vec::new();
        loop {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            match to_stderr {
                true => crate::errln!("[{name}] {text}"),
                false => crate::outln!("[{name}] {text}"),
            }
        }
    })
}
