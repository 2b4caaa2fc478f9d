//! Validation and parsing of the values scripts pass in: interface and namespace names,
//! addresses, CIDRs, routes. Everything here runs before the kernel is touched.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

fn check_name(kind: &str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() {
        return Err(Error::Invalid(format!("{kind} name is empty")));
    }
    if s.len() > max {
        return Err(Error::Invalid(format!(
            "{kind} name {s:?} is {} bytes long; the limit is {max}",
            s.len()
        )));
    }
    if s == "." || s == ".." {
        return Err(Error::Invalid(format!("{kind} name {s:?} is not allowed")));
    }
    if let Some(c) = s
        .chars()
        .find(|c| *c == '/' || c.is_whitespace() || *c == '\0')
    {
        return Err(Error::Invalid(format!("{kind} name {s:?} contains {c:?}")));
    }
    Ok(())
}

/// An interface name, valid where the kernel's `dev_valid_name` says so: 1–15 bytes
/// (IFNAMSIZ - 1), not `.`/`..`, no `/`, `:` or byte the kernel's `isspace` counts
/// (which includes 0xA0, a byte inside UTF-8 letters like `à`). Also no `%`: the kernel
/// reads it as a template (`br%d` becomes `br0`), so the name made is not the name asked
/// for; and not `all` or `default`, which name per-protocol settings in `/proc/sys/net`.
pub fn ifname(s: &str) -> Result<()> {
    check_name("interface", s, 15)?;
    if let Some(b) = s.bytes().find(|b| matches!(b, 0x09..=0x0d | 0x20 | 0xa0)) {
        return Err(Error::Invalid(format!(
            "interface name {s:?} contains the byte 0x{b:02x}, which the kernel counts as a space"
        )));
    }
    if s.contains(':') {
        return Err(Error::Invalid(format!(
            "interface name {s:?} contains ':', which the kernel keeps for address labels (eth0:1)"
        )));
    }
    if s.contains('%') {
        return Err(Error::Invalid(format!(
            "interface name {s:?} contains '%', which the kernel reads as a template (br%d picks br0)"
        )));
    }
    if s == "all" || s == "default" {
        return Err(Error::Invalid(format!(
            "interface name {s:?} is reserved: /proc/sys/net/*/conf/{s} holds the settings for every interface"
        )));
    }
    Ok(())
}

/// A namespace name: 1–255 bytes (a file name under /run/netns), no `/`, whitespace or NUL.
pub fn nsname(s: &str) -> Result<()> {
    check_name("namespace", s, 255)
}

/// A lab name: a namespace name that also fits the lab's file names under
/// /run/netscript (`NAME.journal`, `NAME.lock`) and does not start with a dot (netscript's
/// own state lives in a dot-folder there).
pub fn labname(s: &str) -> Result<()> {
    check_name("lab", s, 200)?;
    if s.starts_with('.') {
        return Err(Error::Invalid(format!("lab name {s:?} starts with a dot")));
    }
    Ok(())
}

/// A sysctl key, dotted (`net.ipv4.ip_forward`) or slashed (`/proc/sys/net/...`): only
/// names, no `.`/`..` components, and only the per-network-namespace `net.*` keys:
/// anything else (`kernel.hostname`, `vm.*`) is the whole machine's, and netscript is not
/// a system configuration tool. Returns the dotted form; a slashed key with a component
/// that has a dot in it (an interface like `eth0.100`: `net/ipv4/conf/eth0.100/rp_filter`)
/// stays slashed, as `sysctl` takes it, since dots would split that component.
pub fn sysctl_key(key: &str) -> Result<String> {
    let k = key.trim_start_matches("/proc/sys/");
    let parts: Vec<&str> = match k.contains('/') {
        true => k.split('/').collect(),
        false => k.split('.').collect(),
    };
    if parts.iter().any(|p| {
        p.is_empty()
            || *p == "."
            || *p == ".."
            || !p
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch))
    }) {
        return Err(Error::Invalid(format!(
            "{key:?} is not a sysctl key (like \"net.ipv4.ip_forward\")"
        )));
    }
    if parts[0] != "net" || parts.len() < 2 {
        return Err(Error::Invalid(format!(
            "{key:?} is not a network sysctl: only net.* keys belong to a network namespace; the others change the whole machine"
        )));
    }
    Ok(match parts.iter().any(|p| p.contains('.')) {
        true => parts.join("/"),
        false => parts.join("."),
    })
}

/// An address with a prefix length, as `ip addr` writes it (`10.0.0.1/24`, `fd00::1/64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn max_prefix(addr: &IpAddr) -> u8 {
        if addr.is_ipv4() {
            32
        } else {
            128
        }
    }

    /// The network this address is in (host bits cleared).
    pub fn network(&self) -> Cidr {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        };
        Cidr {
            addr,
            prefix: self.prefix,
        }
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4()
            && Cidr {
                addr: *ip,
                prefix: self.prefix,
            }
            .network()
                == self.network()
    }

    /// The `n`-th address of this network, with the same prefix (`10.0.0.0/24`, 5 →
    /// `10.0.0.5/24`); `None` when the network has no such host.
    pub fn nth(&self, n: u128) -> Option<Cidr> {
        let net = self.network();
        let size: u128 = 1u128
            .checked_shl((Cidr::max_prefix(&self.addr) - self.prefix) as u32)
            .unwrap_or(u128::MAX);
        if n >= size {
            return None;
        }
        let addr = match net.addr {
            IpAddr::V4(a) => IpAddr::V4(((u32::from(a) as u128 + n) as u32).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) + n).into()),
        };
        Some(Cidr {
            addr,
            prefix: self.prefix,
        })
    }

    pub fn is_host(&self) -> bool {
        self.prefix == Self::max_prefix(&self.addr)
    }
}

impl FromStr for Cidr {
    type Err = Error;
    /// Accepts `ADDR/LEN` and a plain `ADDR` (a host: /32 or /128).
    fn from_str(s: &str) -> Result<Self> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| {
            Error::Invalid(format!(
                "{s:?} is not an address in CIDR form (like \"10.0.0.1/24\")"
            ))
        })?;
        let max = Cidr::max_prefix(&addr);
        let prefix = match p {
            None => max,
            // Digits only: `parse` would take "+24".
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(Error::Invalid(format!(
                        "{s:?} has an invalid prefix length (0..={max})"
                    )))
                }
            },
        };
        Ok(Cidr { addr, prefix })
    }
}

impl TryFrom<String> for Cidr {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A single address (`10.0.0.2`, `fd00::2`).
pub fn ip(s: &str) -> Result<IpAddr> {
    s.parse()
        .map_err(|_| Error::Invalid(format!("{s:?} is not an IP address")))
}

/// A route destination: `"default"` or a network in CIDR form with no host bits set.
pub fn route_dst(s: &str) -> Result<Option<Cidr>> {
    if s == "default" {
        return Ok(None);
    }
    let c: Cidr = s.parse()?;
    if c.network() != c {
        return Err(Error::Invalid(format!(
            "{s:?} has host bits set; the network is {}",
            c.network()
        )));
    }
    Ok(Some(c))
}

/// `ip:port` (IPv6 as `[addr]:port`).
pub fn socket_addr(s: &str) -> Result<std::net::SocketAddr> {
    s.parse().map_err(|_| {
        Error::Invalid(format!(
            "{s:?} is not an address and port (like \"10.0.0.2:80\")"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names() {
        assert!(ifname("veth-red").is_ok());
        assert!(ifname("abcdefghijklmno").is_ok());
        let e = ifname("abcdefghijklmnop").unwrap_err().to_string();
        assert!(e.contains("16 bytes") && e.contains("limit is 15"), "{e}");
        assert!(ifname("").unwrap_err().to_string().contains("empty"));
        assert!(ifname("a/b").unwrap_err().to_string().contains("'/'"));
        assert!(ifname("a b").is_err());
        assert!(ifname("a\0b").is_err());
        assert!(ifname("..").is_err());
        assert!(ifname(".").is_err());
        // As the kernel's dev_valid_name, plus what it would silently rewrite.
        assert!(ifname("br%d").unwrap_err().to_string().contains("template"));
        assert!(ifname("eth0:1").unwrap_err().to_string().contains("':'"));
        assert!(ifname("vethà").unwrap_err().to_string().contains("0xa0"));
        assert!(ifname("a\x0bb").is_err());
        assert!(ifname("all").unwrap_err().to_string().contains("reserved"));
        assert!(ifname("default")
            .unwrap_err()
            .to_string()
            .contains("reserved"));
        assert!(ifname("vethé").is_ok());
    }

    #[test]
    fn sysctl_keys() {
        assert_eq!(
            sysctl_key("net.ipv4.ip_forward").unwrap(),
            "net.ipv4.ip_forward"
        );
        assert_eq!(
            sysctl_key("/proc/sys/net/ipv4/ip_forward").unwrap(),
            "net.ipv4.ip_forward"
        );
        // A dot inside a component (eth0.100) keeps the key slashed.
        assert_eq!(
            sysctl_key("net/ipv4/conf/eth0.100/rp_filter").unwrap(),
            "net/ipv4/conf/eth0.100/rp_filter"
        );
        for bad in [
            "net/../kernel/hostname",
            "net/ipv4/conf/../../../kernel/hostname",
            "net/./ipv4/ip_forward",
            "net.ipv4.conf.all..x",
            "/proc/sys//net/ipv4/ip_forward",
            "net",
            "kernel.hostname",
            "/proc/sys/kernel/hostname",
            "net/ipv4/conf/a b/x",
        ] {
            assert!(sysctl_key(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn namespace_names() {
        assert!(nsname("red").is_ok());
        assert!(nsname(&"x".repeat(255)).is_ok());
        assert!(nsname(&"x".repeat(256)).is_err());
        assert!(nsname("../etc").unwrap_err().to_string().contains("'/'"));
        assert!(nsname("a\tb").is_err());
    }

    #[test]
    fn cidrs() {
        let c: Cidr = "10.0.0.1/24".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.1/24");
        assert_eq!(c.network().to_string(), "10.0.0.0/24");
        assert!(c.contains(&"10.0.0.200".parse().unwrap()));
        assert!(!c.contains(&"10.0.1.1".parse().unwrap()));
        assert_eq!("10.0.0.2".parse::<Cidr>().unwrap().prefix, 32);
        assert_eq!(
            "fd00::1/64".parse::<Cidr>().unwrap().network().to_string(),
            "fd00::/64"
        );
        assert!("10.0.0.1/33"
            .parse::<Cidr>()
            .unwrap_err()
            .to_string()
            .contains("prefix"));
        assert!("10.0.0/24"
            .parse::<Cidr>()
            .unwrap_err()
            .to_string()
            .contains("CIDR"));
        assert!("fd00::1/129".parse::<Cidr>().is_err());
        for bad in [
            "10.0.0.1/+24",
            "10.0.0.1/",
            "10.0.0.1/ 24",
            "10.0.0.1/24 ",
            "010.0.0.1/24",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad} was accepted");
        }
        assert_eq!("0.0.0.0/0".parse::<Cidr>().unwrap().network().prefix, 0);
        let c: Cidr = "10.100.0.1/16".parse().unwrap();
        assert_eq!(c.nth(258).unwrap().to_string(), "10.100.1.2/16");
        assert!(c.nth(65536).is_none());
        assert_eq!(
            "fd00::1/64"
                .parse::<Cidr>()
                .unwrap()
                .nth(16)
                .unwrap()
                .to_string(),
            "fd00::10/64"
        );
    }

    #[test]
    fn route_destinations() {
        assert_eq!(route_dst("default").unwrap(), None);
        assert!(route_dst("10.0.0.0/24").unwrap().is_some());
        assert!(route_dst("10.0.0.1/24")
            .unwrap_err()
            .to_string()
            .contains("host bits"));
        assert!(route_dst("nonsense").is_err());
    }
}
