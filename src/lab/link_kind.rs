//! Link kinds as types. `LinkKind` is what a link *is* (what inspection reports, what the
//! graph and the model compare); `LinkSpec` is what netscript *makes*: one variant per
//! single-ended kind, with its parameters, carried by `Op::LinkAdd`. Veth has two ends and
//! keeps its own op (`Op::VethAdd`).
//!
//! A new kind: a `LinkSpec` variant; the compiler then asks for its `LinkKind`, its shell
//! rendering (below), its application in both backends and its export.

use std::fmt;
use std::fmt::Write;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::lab::op::{ip_cmd, shell_word, Ns};

/// What a link is, as `ip -d link` names its kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum LinkKind {
    Loopback,
    Veth,
    Bridge,
    Vxlan,
    Macvlan,
    Tun,
    Tap,
    /// What inspection finds that netscript does not make (a physical NIC is `device`).
    Other(String),
}

/// A link of no kind netscript knows (what a `LinkInfo` starts as).
impl Default for LinkKind {
    fn default() -> LinkKind {
        LinkKind::Other("device".into())
    }
}

impl LinkKind {
    pub fn as_str(&self) -> &str {
        match self {
            LinkKind::Loopback => "loopback",
            LinkKind::Veth => "veth",
            LinkKind::Bridge => "bridge",
            LinkKind::Vxlan => "vxlan",
            LinkKind::Macvlan => "macvlan",
            LinkKind::Tun => "tun",
            LinkKind::Tap => "tap",
            LinkKind::Other(s) => s,
        }
    }
}

impl From<&str> for LinkKind {
    fn from(s: &str) -> LinkKind {
        match s {
            "loopback" => LinkKind::Loopback,
            "veth" => LinkKind::Veth,
            "bridge" => LinkKind::Bridge,
            "vxlan" => LinkKind::Vxlan,
            "macvlan" => LinkKind::Macvlan,
            "tun" => LinkKind::Tun,
            "tap" => LinkKind::Tap,
            other => LinkKind::Other(other.to_string()),
        }
    }
}

impl From<String> for LinkKind {
    fn from(s: String) -> LinkKind {
        LinkKind::from(s.as_str())
    }
}

impl From<LinkKind> for String {
    fn from(k: LinkKind) -> String {
        k.as_str().to_string()
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for LinkKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How macvlans on one parent reach each other (`ip link add .. type macvlan mode M`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacvlanMode {
    /// Siblings talk directly, without the parent's wire.
    #[default]
    Bridge,
    /// No traffic between siblings at all.
    Private,
    /// Sibling traffic goes out to the switch and back (it must hairpin).
    Vepa,
    /// One macvlan takes over the parent.
    Passthru,
}

impl MacvlanMode {
    pub const ALL: [MacvlanMode; 4] = [
        MacvlanMode::Bridge,
        MacvlanMode::Private,
        MacvlanMode::Vepa,
        MacvlanMode::Passthru,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MacvlanMode::Bridge => "bridge",
            MacvlanMode::Private => "private",
            MacvlanMode::Vepa => "vepa",
            MacvlanMode::Passthru => "passthru",
        }
    }

    pub fn parse(s: &str) -> Result<MacvlanMode, String> {
        MacvlanMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("mode {s:?} is not one of bridge, private, vepa, passthru"))
    }
}

/// A single-ended link netscript makes, with what it needs. In the journal it is flat
/// inside the op: `{"op":"link_add","ns":..,"name":..,"kind":"vxlan","vni":42,..}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkSpec {
    /// `ip link add NAME type bridge [mcast_snooping 0]`, and up.
    Bridge {
        /// Multicast snooping (`None`: the kernel's default, on). See `lab::tuning`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mcast_snooping: Option<bool>,
        /// Lab mode: each port attached to it gets `Op::PortLabMode` (see `lab::tuning`).
        /// netscript's own mark, not the kernel's: it changes nothing in this request.
        /// `None`: not asked for, either way (a plain bridge); `Some(false)`: asked to be
        /// plain, also under `--lab-mode` (so `export` can say so).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lab_mode: Option<bool>,
    },
    /// `ip link add NAME type vxlan id VNI remote R local L dev D dstport P`.
    Vxlan {
        vni: u32,
        remote: Option<IpAddr>,
        group: Option<IpAddr>,
        local: Option<IpAddr>,
        dev: Option<String>,
        port: u16,
        /// Head-end replication to several peers: one all-zeros FDB entry per remote
        /// (`bridge fdb append 00:00:00:00:00:00 dev NAME dst R`), gone with the link.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remotes: Vec<IpAddr>,
    },
    /// `ip [-n PARENT_NS] link add NAME link PARENT [netns NS] type macvlan mode M`: made
    /// directly in the op's namespace, on a parent in `parent_ns` (`None`: the same
    /// namespace, as journals before `parent_ns` have it).
    Macvlan {
        parent: String,
        mode: MacvlanMode,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )]
        parent_ns: Option<Ns>,
    },
    /// `ip tuntap add dev NAME mode tun|tap [user UID] [group GID]`: a persistent device
    /// a user-space program opens by name.
    Tun {
        tap: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<u32>,
    },
}

/// A field that is there, `null` included (the host's namespace), is `Some`; one that is
/// not is `None` (serde's default).
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl LinkSpec {
    /// What the link made from this spec is.
    pub fn kind(&self) -> LinkKind {
        match self {
            LinkSpec::Bridge { .. } => LinkKind::Bridge,
            LinkSpec::Vxlan { .. } => LinkKind::Vxlan,
            LinkSpec::Macvlan { .. } => LinkKind::Macvlan,
            LinkSpec::Tun { tap: false, .. } => LinkKind::Tun,
            LinkSpec::Tun { tap: true, .. } => LinkKind::Tap,
        }
    }

    /// Another link this one, made in `ns`, needs (it must exist first), and the
    /// namespace it is in.
    pub fn lower(&self, ns: &Ns) -> Option<(Ns, &str)> {
        match self {
            LinkSpec::Vxlan { dev, .. } => dev.as_deref().map(|d| (ns.clone(), d)),
            LinkSpec::Macvlan {
                parent, parent_ns, ..
            } => Some((parent_ns.clone().unwrap_or_else(|| ns.clone()), parent)),
            LinkSpec::Bridge { .. } | LinkSpec::Tun { .. } => None,
        }
    }

    /// Kind-specific facts worth showing (`LinkInfo::detail`), as the model reports them.
    pub fn detail(&self) -> Option<String> {
        match self {
            LinkSpec::Vxlan {
                vni,
                remote,
                group,
                port,
                remotes,
                ..
            } => {
                let peer = remote
                    .map(|r| format!(" remote {r}"))
                    .or(group.map(|g| format!(" group {g}")))
                    .or((!remotes.is_empty()).then(|| {
                        let r: Vec<String> = remotes.iter().map(|r| r.to_string()).collect();
                        format!(" remotes {}", r.join(","))
                    }));
                Some(format!("vni {vni}{} port {port}", peer.unwrap_or_default()))
            }
            LinkSpec::Macvlan { mode, .. } => Some(format!("mode {}", mode.as_str())),
            LinkSpec::Bridge { .. } | LinkSpec::Tun { .. } => None,
        }
    }

    /// The shell commands that make it in `ns`.
    pub fn render(&self, ns: &Ns, name: &str) -> Vec<String> {
        let ip = ip_cmd(ns);
        let name = shell_word(name);
        match self {
            LinkSpec::Bridge { mcast_snooping, .. } => vec![
                format!(
                    "{ip} link add name {name} type bridge{}",
                    match mcast_snooping {
                        Some(on) => format!(" mcast_snooping {}", u8::from(*on)),
                        None => String::new(),
                    }
                ),
                format!("{ip} link set dev {name} up"),
            ],
            LinkSpec::Vxlan {
                vni,
                remote,
                group,
                local,
                dev,
                port,
                remotes,
            } => {
                let mut s = format!("{ip} link add name {name} type vxlan id {vni}");
                if let Some(r) = remote {
                    write!(s, " remote {r}").unwrap();
                }
                if let Some(g) = group {
                    write!(s, " group {g}").unwrap();
                }
                if let Some(l) = local {
                    write!(s, " local {l}").unwrap();
                }
                if let Some(d) = dev {
                    write!(s, " dev {}", shell_word(d)).unwrap();
                }
                write!(s, " dstport {port}").unwrap();
                // `bridge` takes `-n NS` as `ip` does.
                let bridge = ip.replacen("ip", "bridge", 1);
                let mut lines = vec![s];
                for r in remotes {
                    lines.push(format!(
                        "{bridge} fdb append 00:00:00:00:00:00 dev {name} dst {r}"
                    ));
                }
                lines
            }
            LinkSpec::Macvlan {
                parent,
                mode,
                parent_ns,
            } => {
                // Sent in the parent's namespace, made in `ns` (`$$`: the namespace of
                // the shell that runs the plan, the host's).
                let (ip, netns) = match parent_ns {
                    Some(p) if p != ns => (
                        ip_cmd(p),
                        format!(
                            " netns {}",
                            ns.as_deref().map_or("$$".to_string(), shell_word)
                        ),
                    ),
                    _ => (ip, String::new()),
                };
                vec![format!(
                    "{ip} link add name {name} link {}{netns} type macvlan mode {}",
                    shell_word(parent),
                    mode.as_str()
                )]
            }
            LinkSpec::Tun { tap, owner, group } => {
                let mut s = format!(
                    "{ip} tuntap add dev {name} mode {}",
                    if *tap { "tap" } else { "tun" }
                );
                if let Some(o) = owner {
                    write!(s, " user {o}").unwrap();
                }
                if let Some(g) = group {
                    write!(s, " group {g}").unwrap();
                }
                vec![s]
            }
        }
    }
}

/// A tun/tap owner as a script gives it: a uid, or a user name looked up in the user
/// database (so a name that does not exist fails at the script's line).
pub fn resolve_owner(owner: &str) -> Result<u32, String> {
    if let Ok(uid) = owner.parse::<u32>() {
        return Ok(uid);
    }
    match nix::unistd::User::from_name(owner) {
        Ok(Some(u)) => Ok(u.uid.as_raw()),
        Ok(None) => Err(format!("owner: there is no user named {owner:?}")),
        Err(e) => Err(format!("owner: looking up user {owner:?}: {e}")),
    }
}

/// A tun/tap group as a script gives it: a gid, or a group name looked up in the group
/// database.
pub fn resolve_group(group: &str) -> Result<u32, String> {
    if let Ok(gid) = group.parse::<u32>() {
        return Ok(gid);
    }
    match nix::unistd::Group::from_name(group) {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        Ok(None) => Err(format!("group: there is no group named {group:?}")),
        Err(e) => Err(format!("group: looking up group {group:?}: {e}")),
    }
}

/// Journal lines written before `Op::LinkAdd` (`bridge_add`, `vxlan_add`) in today's
/// form, so a lab that was up across an upgrade can still be taken down.
pub fn upgrade_legacy(op: &mut serde_json::Value) {
    let Some(m) = op.as_object_mut() else { return };
    let kind = match m.get("op").and_then(|o| o.as_str()) {
        Some("bridge_add") => "bridge",
        Some("vxlan_add") => "vxlan",
        _ => return,
    };
    m.insert("op".into(), "link_add".into());
    m.insert("kind".into(), kind.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_as_strings() {
        for k in [
            LinkKind::Loopback,
            LinkKind::Veth,
            LinkKind::Bridge,
            LinkKind::Vxlan,
            LinkKind::Macvlan,
            LinkKind::Tun,
            LinkKind::Tap,
            LinkKind::Other("device".into()),
        ] {
            assert_eq!(LinkKind::from(k.to_string()), k);
            let j = serde_json::to_string(&k).unwrap();
            assert_eq!(j, format!("{:?}", k.as_str()));
        }
    }

    #[test]
    fn macvlan_modes() {
        for m in MacvlanMode::ALL {
            assert_eq!(MacvlanMode::parse(m.as_str()), Ok(m));
        }
        let e = MacvlanMode::parse("bridged").unwrap_err();
        assert!(e.contains("\"bridged\"") && e.contains("passthru"), "{e}");
    }

    #[test]
    fn renders_like_iproute2() {
        let mv = LinkSpec::Macvlan {
            parent: "eth0".into(),
            mode: MacvlanMode::Bridge,
            parent_ns: None,
        };
        assert_eq!(
            mv.render(&Some("lan".into()), "mv0"),
            ["ip -n lan link add name mv0 link eth0 type macvlan mode bridge"]
        );
        let red = LinkSpec::Macvlan {
            parent: "eth0".into(),
            mode: MacvlanMode::Private,
            parent_ns: Some(None),
        };
        assert_eq!(
            red.render(&Some("red".into()), "mv0"),
            ["ip link add name mv0 link eth0 netns red type macvlan mode private"]
        );
        let home = LinkSpec::Macvlan {
            parent: "eth0".into(),
            mode: MacvlanMode::Bridge,
            parent_ns: Some(Some("lan".into())),
        };
        assert_eq!(
            home.render(&None, "mv0"),
            ["ip -n lan link add name mv0 link eth0 netns $$ type macvlan mode bridge"]
        );
        let tap = LinkSpec::Tun {
            tap: true,
            owner: Some(1000),
            group: None,
        };
        assert_eq!(
            tap.render(&None, "tap0"),
            ["ip tuntap add dev tap0 mode tap user 1000"]
        );
        assert_eq!(tap.kind(), LinkKind::Tap);
        let tun = LinkSpec::Tun {
            tap: false,
            owner: None,
            group: None,
        };
        assert_eq!(
            tun.render(&None, "tun0"),
            ["ip tuntap add dev tun0 mode tun"]
        );
        assert_eq!(tun.kind(), LinkKind::Tun);
    }

    #[test]
    fn owners() {
        assert_eq!(resolve_owner("0"), Ok(0));
        assert_eq!(resolve_owner("root"), Ok(0));
        let e = resolve_owner("no-such-user-here").unwrap_err();
        assert!(e.contains("no user named"), "{e}");
    }

    /// `Op::creates_link` answers for exactly the ops that make a link, naming it as
    /// their inverse deletes it.
    #[test]
    fn creates_link_covers_the_creating_ops() {
        use crate::lab::op::{Op, Route};
        let red: crate::lab::op::Ns = Some("red".into());
        let creating = [
            Op::VethAdd {
                a: "a".into(),
                a_ns: red.clone(),
                b: "b".into(),
                b_ns: None,
                mtu: None,
                queues: None,
            },
            Op::LinkAdd {
                ns: red.clone(),
                name: "a".into(),
                spec: LinkSpec::Macvlan {
                    parent: "p".into(),
                    mode: MacvlanMode::Vepa,
                    parent_ns: None,
                },
            },
            Op::LinkAdd {
                ns: red.clone(),
                name: "a".into(),
                spec: LinkSpec::Tun {
                    tap: false,
                    owner: None,
                    group: None,
                },
            },
        ];
        for op in &creating {
            assert_eq!(op.creates_link(), Some((&red, "a")), "{op:?}");
            assert_eq!(
                op.inverse(),
                Some(Op::LinkDel {
                    ns: red.clone(),
                    name: "a".into()
                })
            );
        }
        let others = [
            Op::NetnsAdd {
                name: "red".into(),
                lo: true,
            },
            Op::LinkSet {
                ns: red.clone(),
                name: "a".into(),
                up: true,
            },
            Op::LinkMove {
                ns: red.clone(),
                name: "a".into(),
                to: None,
            },
            Op::RouteAdd {
                ns: red.clone(),
                route: Route {
                    dst: None,
                    v6: false,
                    via: None,
                    dev: Some("a".into()),
                    metric: None,
                },
            },
        ];
        for op in &others {
            assert_eq!(op.creates_link(), None, "{op:?}");
        }
    }

    /// The journal form is flat (the kind beside the op's fields), and reads back.
    #[test]
    fn journal_form() {
        use crate::lab::op::Op;
        let op = Op::LinkAdd {
            ns: Some("lan".into()),
            name: "mv0".into(),
            spec: LinkSpec::Macvlan {
                parent: "br0".into(),
                mode: MacvlanMode::Private,
                parent_ns: None,
            },
        };
        let j = serde_json::to_string(&op).unwrap();
        assert_eq!(
            j,
            r#"{"op":"link_add","ns":"lan","name":"mv0","kind":"macvlan","parent":"br0","mode":"private"}"#
        );
        assert_eq!(serde_json::from_str::<Op>(&j).unwrap(), op);
        // A parent in the host's namespace, or in another one, is written as such.
        for (parent_ns, field) in [(None, "null"), (Some("wan".to_string()), "\"wan\"")] {
            let op = Op::LinkAdd {
                ns: Some("lan".into()),
                name: "mv0".into(),
                spec: LinkSpec::Macvlan {
                    parent: "eth0".into(),
                    mode: MacvlanMode::Bridge,
                    parent_ns: Some(parent_ns),
                },
            };
            let j = serde_json::to_string(&op).unwrap();
            assert!(j.contains(&format!(r#""parent_ns":{field}"#)), "{j}");
            assert_eq!(serde_json::from_str::<Op>(&j).unwrap(), op);
        }
    }
}
