//! netscript's nftables rules, as values: what a rule matches and what it does, how it
//! reads in `nft` syntax (for `--trace` and `plan`) and how it is sent to `nft -j`.
//! All of them live in one table per namespace, `inet netscript`, so tearing them down
//! is deleting that table, and rules that anything else owns are never touched.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write;
use std::net::SocketAddr;

use nftables::expr::{
    Expression, Fib, FibFlag, FibResult, Meta, MetaKey, NamedExpression, NgMode, Numgen, Payload,
    PayloadField, Prefix,
};
use nftables::schema::{self, NfCmd, NfListObject};
use nftables::stmt::{Match, NATFamily, Operator, Reject, Statement, NAT};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};
use serde::{Deserialize, Serialize};

use crate::lab::names::Cidr;

pub const TABLE: &str = "netscript";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    Input,
    Forward,
    Output,
    Prerouting,
    Postrouting,
    /// NAT of locally generated packets (`docker -p` reachable from the host itself).
    OutputNat,
    /// Where older versions made random loss (kept so their journals still undo): it
    /// misses bridged frames, so loss now has a netdev egress chain (crate::lab::egress).
    Impair,
}

impl Chain {
    pub fn name(self) -> &'static str {
        match self {
            Chain::Input => "input",
            Chain::Forward => "forward",
            Chain::Output => "output",
            Chain::Prerouting => "prerouting",
            Chain::Postrouting => "postrouting",
            Chain::OutputNat => "output-nat",
            Chain::Impair => "impair",
        }
    }

    /// Type, hook and priority of the base chain.
    fn spec(self) -> (NfChainType, NfHook, i32) {
        match self {
            Chain::Input => (NfChainType::Filter, NfHook::Input, 0),
            Chain::Forward => (NfChainType::Filter, NfHook::Forward, 0),
            Chain::Output => (NfChainType::Filter, NfHook::Output, 0),
            Chain::Prerouting => (NfChainType::NAT, NfHook::Prerouting, -100),
            Chain::Postrouting => (NfChainType::NAT, NfHook::Postrouting, 100),
            Chain::OutputNat => (NfChainType::NAT, NfHook::Output, -100),
            Chain::Impair => (NfChainType::Filter, NfHook::Postrouting, 0),
        }
    }

    /// The chain's `add chain` line in nft syntax.
    pub fn declaration(self) -> String {
        let (t, h, p) = self.spec();
        let t = match t {
            NfChainType::Filter => "filter",
            NfChainType::NAT => "nat",
            NfChainType::Route => "route",
        };
        let h = format!("{h:?}").to_lowercase();
        format!(
            "add chain inet {TABLE} {} {{ type {t} hook {h} priority {p}; policy accept; }}",
            self.name()
        )
    }

    pub fn parse(s: &str) -> Option<Chain> {
        match s {
            "input" => Some(Chain::Input),
            "forward" => Some(Chain::Forward),
            "output" => Some(Chain::Output),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
}

impl Proto {
    pub fn parse(s: &str) -> Option<Proto> {
        match s {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "icmp" => Some(Proto::Icmp),
            "icmpv6" => Some(Proto::Icmpv6),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
        }
    }
    pub fn has_ports(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Udp)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    Drop,
    Reject,
    Masquerade,
    Dnat(SocketAddr),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub chain: Chain,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<Proto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Cidr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<Cidr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iif: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oif: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_oif: Option<String>,
    /// Only packets addressed to this namespace's own addresses (`fib daddr type local`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local_dst: bool,
    /// Only this share of packets, at random (`numgen random mod 100 < N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_pct: Option<u8>,
    pub action: Action,
    /// A tag in the rule's comment, so this rule can be found again to delete it.
    pub id: String,
}

fn ipfam(c: &Cidr) -> &'static str {
    if c.addr.is_ipv4() {
        "ip"
    } else {
        "ip6"
    }
}

fn field<'a>(protocol: &'a str, f: &'a str) -> Expression<'a> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.into(),
            field: f.into(),
        },
    )))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn matches<'a>(left: Expression<'a>, op: Operator, right: Expression<'a>) -> Statement<'a> {
    Statement::Match(Match { left, right, op })
}

fn prefix(c: &Cidr) -> Expression<'static> {
    if c.is_host() {
        Expression::String(c.addr.to_string().into())
    } else {
        Expression::Named(NamedExpression::Prefix(Prefix {
            addr: Box::new(Expression::String(c.network().addr.to_string().into())),
            len: c.prefix as u32,
        }))
    }
}

fn cidr_text(c: &Cidr) -> String {
    if c.is_host() {
        c.addr.to_string()
    } else {
        c.network().to_string()
    }
}

impl Rule {
    /// The rule in nft syntax, as `nft add rule inet netscript CHAIN ...` takes it.
    pub fn text(&self) -> String {
        format!("{} comment \"{}\"", self.shown(), self.id)
    }

    /// Whether it rewrites addresses (masquerade, DNAT): what the graph draws.
    pub fn is_nat(&self) -> bool {
        match self.action {
            Action::Masquerade | Action::Dnat(_) => true,
            Action::Accept | Action::Drop | Action::Reject => false,
        }
    }

    /// The rule in nft syntax without its tag: what it matches and does.
    pub fn shown(&self) -> String {
        let mut s = String::new();
        if self.local_dst {
            s.push_str("fib daddr type local ");
        }
        if let Some(c) = &self.src {
            write!(s, "{} saddr {} ", ipfam(c), cidr_text(c)).unwrap();
        }
        if let Some(c) = &self.dst {
            write!(s, "{} daddr {} ", ipfam(c), cidr_text(c)).unwrap();
        }
        if let Some(i) = &self.iif {
            write!(s, "iifname \"{i}\" ").unwrap();
        }
        if let Some(o) = &self.oif {
            write!(s, "oifname \"{o}\" ").unwrap();
        }
        if let Some(o) = &self.not_oif {
            write!(s, "oifname != \"{o}\" ").unwrap();
        }
        if let Some(p) = self.proto {
            if self.sport.is_none() && self.dport.is_none() {
                write!(s, "meta l4proto {} ", p.name()).unwrap();
            }
            if let Some(sp) = self.sport {
                write!(s, "{} sport {sp} ", p.name()).unwrap();
            }
            if let Some(dp) = self.dport {
                write!(s, "{} dport {dp} ", p.name()).unwrap();
            }
        }
        if let Some(p) = self.random_pct {
            // `<= P-1` rather than `< P`: the same test, and what nftables lists back.
            write!(s, "numgen random mod 100 <= {} ", p.saturating_sub(1)).unwrap();
        }
        match &self.action {
            Action::Accept => s.push_str("accept"),
            Action::Drop => s.push_str("drop"),
            Action::Reject => s.push_str("reject"),
            Action::Masquerade => s.push_str("masquerade"),
            Action::Dnat(to) => match to {
                SocketAddr::V4(a) => write!(s, "dnat ip to {a}").unwrap(),
                SocketAddr::V6(a) => write!(s, "dnat ip6 to {a}").unwrap(),
            },
        }
        s
    }

    fn statements(&self) -> Vec<Statement<'static>> {
        let mut v = vec![];
        if self.local_dst {
            let mut flags = HashSet::new();
            flags.insert(FibFlag::Daddr);
            v.push(matches(
                Expression::Named(NamedExpression::Fib(Fib {
                    result: FibResult::Type,
                    flags,
                })),
                Operator::EQ,
                Expression::String("local".into()),
            ));
        }
        if let Some(c) = &self.src {
            v.push(matches(field(ipfam(c), "saddr"), Operator::EQ, prefix(c)));
        }
        if let Some(c) = &self.dst {
            v.push(matches(field(ipfam(c), "daddr"), Operator::EQ, prefix(c)));
        }
        if let Some(i) = &self.iif {
            v.push(matches(
                meta(MetaKey::Iifname),
                Operator::EQ,
                Expression::String(i.clone().into()),
            ));
        }
        if let Some(o) = &self.oif {
            v.push(matches(
                meta(MetaKey::Oifname),
                Operator::EQ,
                Expression::String(o.clone().into()),
            ));
        }
        if let Some(o) = &self.not_oif {
            v.push(matches(
                meta(MetaKey::Oifname),
                Operator::NEQ,
                Expression::String(o.clone().into()),
            ));
        }
        if let Some(p) = self.proto {
            if self.sport.is_none() && self.dport.is_none() {
                v.push(matches(
                    meta(MetaKey::L4proto),
                    Operator::EQ,
                    Expression::String(p.name().into()),
                ));
            }
            if let Some(sp) = self.sport {
                v.push(matches(
                    field(p.name(), "sport"),
                    Operator::EQ,
                    Expression::Number(sp as u32),
                ));
            }
            if let Some(dp) = self.dport {
                v.push(matches(
                    field(p.name(), "dport"),
                    Operator::EQ,
                    Expression::Number(dp as u32),
                ));
            }
        }
        if let Some(p) = self.random_pct {
            // Not Operator::LT: nftables 0.6.3 serializes LT as ">" (and GT as "<").
            v.push(matches(
                Expression::Named(NamedExpression::Numgen(Numgen {
                    mode: NgMode::Random,
                    ng_mod: 100,
                    offset: None,
                })),
                Operator::LEQ,
                Expression::Number(p.saturating_sub(1) as u32),
            ));
        }
        v.push(match &self.action {
            Action::Accept => Statement::Accept(None),
            Action::Drop => Statement::Drop(None),
            Action::Reject => Statement::Reject(Some(Reject::new(None, None))),
            Action::Masquerade => Statement::Masquerade(None),
            Action::Dnat(to) => Statement::DNAT(Some(NAT {
                addr: Some(Expression::String(to.ip().to_string().into())),
                family: Some(if to.is_ipv4() {
                    NATFamily::IP
                } else {
                    NATFamily::IP6
                }),
                port: Some(Expression::Number(to.port() as u32)),
                flags: None,
            })),
        });
        v
    }
}

fn table() -> schema::Table<'static> {
    schema::Table {
        family: NfFamily::INet,
        name: TABLE.into(),
        handle: None,
    }
}

fn chain(c: Chain) -> schema::Chain<'static> {
    let (t, h, p) = c.spec();
    schema::Chain {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: c.name().into(),
        _type: Some(t),
        hook: Some(h),
        prio: Some(p),
        policy: Some(NfChainPolicy::Accept),
        ..Default::default()
    }
}

/// One transaction that makes sure the table and chains exist, then adds the rules.
pub fn add_batch(rules: &[Rule]) -> schema::Nftables<'static> {
    let mut cmds = vec![NfCmd::Add(NfListObject::Table(table()))];
    let mut seen = vec![];
    for r in rules {
        if !seen.contains(&r.chain) {
            seen.push(r.chain);
            cmds.push(NfCmd::Add(NfListObject::Chain(chain(r.chain))));
        }
    }
    for r in rules {
        cmds.push(NfCmd::Add(NfListObject::Rule(schema::Rule {
            family: NfFamily::INet,
            table: TABLE.into(),
            chain: r.chain.name().into(),
            expr: Cow::Owned(r.statements()),
            comment: Some(r.id.clone().into()),
            ..Default::default()
        })));
    }
    to_nftables(cmds)
}

fn to_nftables(cmds: Vec<NfCmd<'static>>) -> schema::Nftables<'static> {
    schema::Nftables {
        objects: Cow::Owned(cmds.into_iter().map(schema::NfObject::CmdObject).collect()),
    }
}

/// Delete the rules tagged `ids` (handles from a listing of the table); when nothing of
/// ours would be left, delete the whole table instead.
pub fn delete_batch(listing: &schema::Nftables, ids: &[&str]) -> Option<schema::Nftables<'static>> {
    let mut ours = vec![];
    let mut others = 0;
    for o in listing.objects.iter() {
        if let schema::NfObject::ListObject(NfListObject::Rule(r)) = o {
            match r.comment.as_deref() {
                Some(c) if ids.iter().any(|id| id_matches(id, c)) => {
                    ours.push((r.chain.to_string(), r.handle))
                }
                _ => others += 1,
            }
        }
    }
    if ours.is_empty() {
        return None;
    }
    if others == 0 {
        return Some(to_nftables(vec![NfCmd::Delete(NfListObject::Table(
            table(),
        ))]));
    }
    let cmds = ours
        .into_iter()
        .map(|(chain, handle)| {
            NfCmd::Delete(NfListObject::Rule(schema::Rule {
                family: NfFamily::INet,
                table: TABLE.into(),
                chain: chain.into(),
                handle,
                ..Default::default()
            }))
        })
        .collect();
    Some(to_nftables(cmds))
}

impl Rule {
    /// A rule that matches everything in `chain` (narrowed by setting its fields).
    pub fn new(chain: Chain, action: Action) -> Rule {
        Rule {
            chain,
            proto: None,
            sport: None,
            dport: None,
            src: None,
            dst: None,
            iif: None,
            oif: None,
            not_oif: None,
            local_dst: false,
            random_pct: None,
            action,
            id: String::new(),
        }
    }

    /// What the rule does, as a short tag: the same for identical rules, so a rule can
    /// be deleted by describing it again (`unmasquerade`, like `iptables -D`).
    pub fn spec_tag(&self) -> String {
        let text = format!("{} {}", self.chain.name(), self.text());
        let text = text
            .rsplit_once(" comment ")
            .map(|(t, _)| t)
            .unwrap_or(&text);
        // FNV-1a: stable across builds, unlike std's hasher.
        let h = text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        format!("ns-{:08x}", h as u32)
    }

    /// Give the rule its tag: its spec tag, then a part unique to this rule.
    pub fn tagged(mut self) -> Rule {
        self.id = format!("{}:{}", self.spec_tag(), unique_suffix());
        self
    }

    /// A rule that stands for every rule with the same spec (for deleting by description).
    pub fn any_like(mut self) -> Rule {
        self.id = format!("{}:", self.spec_tag());
        self
    }
}

/// Time, process and a counter: unique to one rule.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{t:x}.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether a rule's comment matches an id: exactly, or any rule like it (`TAG:`).
fn id_matches(id: &str, comment: &str) -> bool {
    if id.ends_with(':') {
        comment.starts_with(id)
    } else {
        comment == id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(chain: Chain, action: Action) -> Rule {
        Rule {
            id: "t1".into(),
            ..Rule::new(chain, action)
        }
    }

    #[test]
    fn masquerade_reads_like_the_seed() {
        let mut r = rule(Chain::Postrouting, Action::Masquerade);
        r.src = Some("10.100.0.0/24".parse().unwrap());
        r.not_oif = Some("br0".into());
        assert_eq!(
            r.text(),
            r#"ip saddr 10.100.0.0/24 oifname != "br0" masquerade comment "t1""#
        );
    }

    #[test]
    fn filter_and_dnat_text() {
        let mut r = rule(Chain::Input, Action::Drop);
        r.proto = Some(Proto::Tcp);
        r.dport = Some(22);
        assert_eq!(r.text(), r#"tcp dport 22 drop comment "t1""#);
        let mut r = rule(
            Chain::Prerouting,
            Action::Dnat("172.17.0.2:80".parse().unwrap()),
        );
        r.local_dst = true;
        r.proto = Some(Proto::Tcp);
        r.dport = Some(8080);
        assert_eq!(
            r.text(),
            r#"fib daddr type local tcp dport 8080 dnat ip to 172.17.0.2:80 comment "t1""#
        );
        let mut r = rule(Chain::Forward, Action::Accept);
        r.proto = Some(Proto::Icmp);
        r.src = Some("fd00::1/128".parse().unwrap());
        assert_eq!(
            r.text(),
            r#"ip6 saddr fd00::1 meta l4proto icmp accept comment "t1""#
        );
    }

    #[test]
    fn random_loss() {
        let mut r = rule(Chain::Impair, Action::Drop);
        r.oif = Some("veth0".into());
        r.random_pct = Some(30);
        assert_eq!(
            r.text(),
            r#"oifname "veth0" numgen random mod 100 <= 29 drop comment "t1""#
        );
        let j = serde_json::to_string(&add_batch(&[r])).unwrap();
        assert!(j.contains(r#""numgen":{"mode":"random","mod":100}"#), "{j}");
        assert!(
            j.contains(r#""op":"<=""#) && j.contains(r#""right":29"#),
            "{j}"
        );
        assert!(
            j.contains(r#""hook":"postrouting""#) && j.contains(r#""type":"filter""#),
            "{j}"
        );
    }

    #[test]
    fn batch_json_has_table_chain_and_rule() {
        let mut r = rule(Chain::Postrouting, Action::Masquerade);
        r.src = Some("10.0.0.0/8".parse().unwrap());
        let j = serde_json::to_string(&add_batch(&[r])).unwrap();
        assert!(
            j.contains(r#""table":{"family":"inet","name":"netscript"}"#),
            "{j}"
        );
        assert!(j.contains(r#""hook":"postrouting""#), "{j}");
        assert!(j.contains(r#""masquerade":null"#), "{j}");
        assert!(j.contains(r#""prefix":{"addr":"10.0.0.0","len":8}"#), "{j}");
    }

    #[test]
    fn tags_find_rules_by_what_they_do() {
        let mut a = rule(Chain::Postrouting, Action::Masquerade);
        a.src = Some("10.100.0.0/24".parse().unwrap());
        let b = a.clone().tagged();
        let c = a.clone().tagged();
        assert_ne!(b.id, c.id);
        let any = a.clone().any_like();
        assert!(id_matches(&any.id, &b.id) && id_matches(&any.id, &c.id));
        assert!(!id_matches(&b.id, &c.id));
        let mut other = a.clone();
        other.src = Some("10.200.0.0/24".parse().unwrap());
        assert!(!id_matches(&any.id, &other.tagged().id));
    }

    #[test]
    fn chain_declarations() {
        assert_eq!(
            Chain::Postrouting.declaration(),
            "add chain inet netscript postrouting { type nat hook postrouting priority 100; policy accept; }"
        );
    }
}
