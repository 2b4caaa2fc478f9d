//! The hosts file (`--hosts FILE`, TOML): the machines one lab spans, how to reach each
//! over SSH, and the underlay address the others reach it on.
//!
//! ```toml
//! ssh_config = "lab-ssh.conf"   # optional: `ssh -F`, relative to this file
//! ssh_options = ["-o", "ConnectTimeout=5"]
//! [hosts.a]
//! ssh = "root@198.51.100.1"     # anything `ssh` accepts
//! underlay = "198.51.100.1"     # default: the address `ssh -G` resolves the host to
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    ssh_config: Option<PathBuf>,
    #[serde(default)]
    ssh_options: Vec<String>,
    #[serde(default)]
    hosts: BTreeMap<String, RawHost>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    ssh: String,
    underlay: Option<String>,
}

/// One machine of the lab.
#[derive(Clone, Debug)]
pub struct Host {
    /// Its name in the file (`HOST` in the script, `[a] ` in the output).
    pub name: String,
    /// The destination given to `ssh`.
    pub ssh: String,
    /// The address the other hosts reach it on (`None`: from `ssh -G`, see
    /// [`super::ssh::resolve_underlays`]).
    pub underlay: Option<IpAddr>,
}

/// A parsed hosts file.
#[derive(Clone, Debug)]
pub struct HostsFile {
    /// The file, as given (in errors).
    pub path: PathBuf,
    /// `ssh -F`, resolved against the file's directory.
    pub ssh_config: Option<PathBuf>,
    pub ssh_options: Vec<String>,
    /// In the file's (sorted) order.
    pub hosts: Vec<Host>,
}

impl HostsFile {
    pub fn load(path: &Path) -> Result<HostsFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--hosts {}: cannot read: {e}", path.display()))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<HostsFile, String> {
        let at = |e: String| format!("--hosts {}: {e}", path.display());
        let raw: Raw = toml::from_str(text).map_err(|e| at(one_line(&e.to_string())))?;
        if raw.hosts.is_empty() {
            return Err(at(
                "no hosts: add at least one [hosts.NAME] table with ssh = \"...\"".into(),
            ));
        }
        let mut hosts = Vec::new();
        for (name, h) in raw.hosts {
            crate::lab::names::labname(&name)
                .map_err(|e| at(format!("[hosts.{name}]: not a usable host name: {e}")))?;
            // exec and capture name a namespace as HOST:NS.
            if name.contains(':') {
                return Err(at(format!(
                    "[hosts.{name}]: not a usable host name: it contains ':' (exec and capture take HOST:NS)"
                )));
            }
            if h.ssh.trim().is_empty() || h.ssh.starts_with('-') {
                return Err(at(format!(
                    "[hosts.{name}]: ssh = {:?} is not a destination",
                    h.ssh
                )));
            }
            let underlay = h
                .underlay
                .map(|u| {
                    u.parse::<IpAddr>().map_err(|_| {
                        at(format!(
                            "[hosts.{name}]: underlay = {u:?} is not an IP address"
                        ))
                    })
                })
                .transpose()?;
            hosts.push(Host {
                name,
                ssh: h.ssh,
                underlay,
            });
        }
        let file = HostsFile {
            ssh_config: raw.ssh_config.map(|c| match c.is_absolute() {
                true => c,
                false => path.parent().unwrap_or(Path::new(".")).join(c),
            }),
            path: path.to_path_buf(),
            ssh_options: raw.ssh_options,
            hosts,
        };
        file.check_underlays()?;
        Ok(file)
    }

    /// Two hosts on one underlay address would tunnel to the same machine.
    pub fn check_underlays(&self) -> Result<(), String> {
        for (i, a) in self.hosts.iter().enumerate() {
            for b in &self.hosts[i + 1..] {
                if let (Some(x), Some(y)) = (a.underlay, b.underlay) {
                    if x == y {
                        return Err(format!(
                            "--hosts {}: hosts {} and {} have the same underlay address {x}",
                            self.path.display(),
                            a.name,
                            b.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The hosts a command names (`HOST:NS`), or a clear error.
    pub fn host(&self, name: &str) -> Result<&Host, String> {
        self.hosts.iter().find(|h| h.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
            format!(
                "no host {name:?} in {} (it has: {})",
                self.path.display(),
                names.join(", ")
            )
        })
    }

    /// `HOSTS` as the script sees it: `{"a": {"underlay": "..."}}`.
    pub fn hosts_json(&self) -> String {
        let m: serde_json::Map<String, serde_json::Value> = self
            .hosts
            .iter()
            .map(|h| {
                let u = h.underlay.map(|u| u.to_string()).unwrap_or_default();
                (h.name.clone(), serde_json::json!({ "underlay": u }))
            })
            .collect();
        serde_json::Value::Object(m).to_string()
    }
}

/// toml's errors span lines (a caret drawing); the first line and the message suffice.
fn one_line(e: &str) -> String {
    let mut lines = e.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    match lines.next_back() {
        Some(last) if last != first => format!("{first} {}", last.trim()),
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<HostsFile, String> {
        HostsFile::parse(Path::new("h.toml"), t)
    }

    #[test]
    fn good_file() {
        let f = parse("ssh_config = \"c.conf\"\n[hosts.b]\nssh = \"lab-b\"\n[hosts.a]\nssh = \"root@10.0.0.1\"\nunderlay = \"10.0.0.1\"\n").unwrap();
        assert_eq!(f.hosts.len(), 2);
        assert_eq!(f.hosts[0].name, "a");
        assert_eq!(f.hosts[0].underlay, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(f.ssh_config, Some(PathBuf::from("c.conf")));
    }

    #[test]
    fn unknown_key_is_an_error() {
        let e = parse("[hosts.a]\nssh = \"x\"\nport = 22\n").unwrap_err();
        assert!(e.contains("unknown field `port`"), "{e}");
        let e = parse("sshconfig = \"x\"\n[hosts.a]\nssh = \"x\"\n").unwrap_err();
        assert!(e.contains("sshconfig"), "{e}");
    }

    #[test]
    fn duplicate_underlay_missing_ssh_no_hosts() {
        let e = parse("[hosts.a]\nssh = \"x\"\nunderlay = \"10.0.0.1\"\n[hosts.b]\nssh = \"y\"\nunderlay = \"10.0.0.1\"\n").unwrap_err();
        assert!(
            e.contains("hosts a and b have the same underlay address 10.0.0.1"),
            "{e}"
        );
        let e = parse("[hosts.a]\nunderlay = \"10.0.0.1\"\n").unwrap_err();
        assert!(e.contains("missing field `ssh`"), "{e}");
        let e = parse("").unwrap_err();
        assert!(e.contains("no hosts"), "{e}");
        let e = parse("[hosts.a]\nssh = \"x\"\nunderlay = \"nope\"\n").unwrap_err();
        assert!(e.contains("not an IP address"), "{e}");
        let f = parse("[hosts.a]\nssh = \"x\"\n").unwrap();
        assert!(f.host("z").unwrap_err().contains("no host \"z\""));
    }
}

#[cfg(test)]
mod readme {
    use super::*;

    /// The hosts file README.md shows under "One command, every host" parses.
    #[test]
    fn the_readme_hosts_file_parses() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("### One command, every host")
            .nth(1)
            .expect("README.md has the section");
        let toml = section
            .split("```toml\n")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .expect("the section shows a hosts file");
        let f = HostsFile::parse(Path::new("/x/hosts.toml"), toml).unwrap();
        let names: Vec<&str> = f.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(f.ssh_config, Some(PathBuf::from("/x/lab-ssh.conf")));
        assert_eq!(f.hosts[0].underlay, Some("198.51.100.1".parse().unwrap()));
    }
}
