//! nftables through the `nft` binary's JSON interface (the nftables crate). The `nft`
//! child inherits the calling thread's namespace: callers run these inside the target.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io;

use nftables::expr::{
    Expression, Fib, FibFlag, FibResult, Meta, MetaKey, NamedExpression, NgMode, Numgen, Payload,
    PayloadField, Prefix,
};
use nftables::helper::{self, NftablesError};
use nftables::schema::{self, NfCmd, NfListObject, Nftables};
use nftables::stmt::{Match, NATFamily, Operator, Reject, Statement, NAT};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

use crate::backend::messages;
use crate::error::{Error, Result};
use crate::lab::egress;
use crate::lab::firewall::{self, Action, Chain, ChainType, Hook, Iface, Item, Rule, TABLE};
use crate::lab::foreign;
use crate::lab::names::Cidr;

/// An nft failure: the message a user reads, and the error behind it when there is one.
fn failed(msg: String, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Nft { msg, source }
}

fn nft_error(e: NftablesError) -> Error {
    match e {
        NftablesError::NftExecution { inner, .. } if inner.kind() == io::ErrorKind::NotFound => failed(
            "the nft command is missing: install the nftables package (apt-get install nftables)".into(),
            Some(Box::new(inner)),
        ),
        NftablesError::NftFailed { stderr, .. } => {
            let why = stderr
                .lines()
                .find_map(|l| l.split_once("Error: ").map(|(_, w)| w))
                .unwrap_or(stderr.trim());
            failed(format!("nft refused the change, nothing was applied: {why}"), None)
        }
        other => failed(format!("nft: {other}"), Some(Box::new(other))),
    }
}

/// Held while a change to netscript's table is worked out and applied, so that two labs
/// changing the same namespace's table at once do not undo each other (one deleting the
/// table while the other adds to it).
struct TableLock(#[allow(dead_code)] crate::lab::lock::FileLock);

fn lock() -> Result<TableLock> {
    let dir = crate::lab::journal::STATE_DIR;
    std::fs::create_dir_all(dir).map_err(|e| Error::os(dir, e))?;
    let path = std::path::PathBuf::from(format!("{dir}/nft.lock"));
    let l = crate::lab::lock::exclusive(&path, true)?.expect("a waiting lock is taken");
    Ok(TableLock(l))
}

/// `nft -j -f -` with a batch; nft's complaint, if any, becomes the error (the crate's
/// own helper lets nft write it to our stderr instead).
fn apply(batch: &impl serde::Serialize) -> Result<()> {
    run(batch)?.map_err(refused)
}

fn refused(stderr: String) -> Error {
    nft_error(NftablesError::NftFailed {
        program: "nft".into(),
        hint: "applying ruleset".into(),
        stdout: String::new(),
        stderr,
    })
}

/// `nft -j -f -` with a batch: `Ok(Err(stderr))` when nft refused it.
fn run(batch: &impl serde::Serialize) -> Result<std::result::Result<(), String>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let payload = serde_json::to_vec(batch).expect("nftables batches serialize");
    let mut child = Command::new("nft")
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(missing)?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(&payload)
        .map_err(|e| Error::os("nft", e))?;
    let out = child.wait_with_output().map_err(|e| Error::os("nft", e))?;
    match out.status.success() {
        true => Ok(Ok(())),
        false => Ok(Err(String::from_utf8_lossy(&out.stderr).into_owned())),
    }
}

/// The error for an `nft` that could not be started.
fn missing(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound => nft_error(NftablesError::NftExecution {
            program: "nft".into(),
            inner: e,
        }),
        _ => Error::os("nft", e),
    }
}

/// `nft -j ARGS...` parsed loosely (a foreign ruleset may hold expressions the nftables
/// crate does not model); `None` when nft says the object does not exist.
fn list_json(args: &[&str]) -> Result<Option<serde_json::Value>> {
    let out = std::process::Command::new("nft")
        .arg("-j")
        .args(args)
        .output()
        .map_err(missing)?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No such file or directory") {
            return Ok(None);
        }
        return Err(failed(format!("nft: {}", err.trim()), None));
    }
    serde_json::from_slice(&out.stdout).map(Some).map_err(|e| {
        failed(
            format!("nft printed JSON that does not parse: {e}"),
            Some(Box::new(e)),
        )
    })
}

/// Random loss on the way out of `dev` (see crate::lab::egress).
pub fn loss_add(dev: &str, pct: u8) -> Result<()> {
    let _lock = lock()?;
    apply(&egress::add_batch(dev, pct))
}

/// Remove the loss from `dev`; the table too once it holds no chain.
pub fn loss_del(dev: &str) -> Result<()> {
    let _lock = lock()?;
    if let Err(stderr) = run(&egress::del_batch(dev))? {
        if stderr.contains("No such file or directory") {
            return Err(Error::Missing(format!("an impairment on {dev:?}")));
        }
        return Err(refused(stderr));
    }
    let list = list_json(&["list", "table", "netdev", egress::TABLE])?;
    let chains = list
        .as_ref()
        .and_then(|l| l["nftables"].as_array())
        .map(|a| a.iter().filter(|o| o.get("chain").is_some()).count())
        .unwrap_or(0);
    if list.is_some() && chains == 0 {
        apply(&egress::del_table_batch())?;
    }
    Ok(())
}

/// Add the rules in one transaction: all of them or none.
pub fn add(rules: &[Rule]) -> Result<()> {
    let _lock = lock()?;
    apply(&add_batch(rules))
}

/// The table `inet netscript`, or `None` when there is none.
fn listing() -> Result<Option<Nftables<'static>>> {
    match helper::get_current_ruleset_with_args(
        helper::DEFAULT_NFT,
        &["list", "table", "inet", TABLE],
    ) {
        Ok(n) => Ok(Some(n)),
        Err(NftablesError::NftFailed { stderr, .. })
            if stderr.contains("No such file or directory") =>
        {
            Ok(None)
        }
        Err(e) => Err(nft_error(e)),
    }
}

/// Delete the rules (found by their tags); the table goes too when it would be empty.
pub fn delete(rules: &[Rule]) -> Result<()> {
    let _lock = lock()?;
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let Some(list) = listing()? else {
        return Err(Error::Missing(format!("nftables table inet {TABLE}")));
    };
    match delete_batch(&list, &ids) {
        Some(batch) => apply(&batch),
        None => Err(messages::no_rule()),
    }
}

/// `nft list table inet netscript`, or "" when there is no table.
pub fn text() -> Result<String> {
    let out = std::process::Command::new("nft")
        .args(["list", "table", "inet", TABLE])
        .output()
        .map_err(missing)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else if String::from_utf8_lossy(&out.stderr).contains("No such file or directory") {
        Ok(String::new())
    } else {
        Err(failed(
            format!("nft: {}", String::from_utf8_lossy(&out.stderr).trim()),
            None,
        ))
    }
}

/// What in this namespace would drop forwarded traffic: foreign nftables forward chains
/// that drop by default, and iptables-legacy's FORWARD chain. Nothing where that cannot
/// be read (no nft, no iptables-legacy): the check only ever adds a help.
pub fn foreign_check() -> foreign::Check {
    // Most namespaces hold no nftables table at all: asking the kernel costs
    // microseconds, an `nft` process milliseconds.
    let droppers = match has_tables() {
        Some(false) => vec![],
        _ => match list_json(&["list", "ruleset"]) {
            Ok(Some(r)) => foreign::droppers(&r),
            _ => vec![],
        },
    };
    // Legacy iptables tables are listed per namespace here (the calling thread's).
    let legacy_filter = std::fs::read_to_string("/proc/thread-self/net/ip_tables_names")
        .is_ok_and(|t| t.lines().any(|l| l.trim() == "filter"));
    let legacy_drops = legacy_filter
        && std::process::Command::new("iptables-legacy-save")
            .args(["-t", "filter"])
            .output()
            .is_ok_and(|o| foreign::legacy_forward_drops(&String::from_utf8_lossy(&o.stdout)));
    foreign::Check {
        droppers,
        legacy_drops,
    }
}

/// Whether the calling thread's namespace has any nftables table, asked of the kernel
/// (an NFT_MSG_GETTABLE dump over NETLINK_NETFILTER); `None` when it cannot tell.
fn has_tables() -> Option<bool> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    const NFNL_SUBSYS_NFTABLES: u16 = 10;
    const NFT_MSG_GETTABLE: u16 = 1;
    const NFT_MSG_NEWTABLE: u16 = 0;
    // SAFETY: plain socket(2); the fd is owned (and closed) by `sock`.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_NETFILTER,
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: fd is a fresh, valid descriptor nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // nlmsghdr (16 bytes) + nfgenmsg (family AF_UNSPEC, version 0, res_id 0).
    let mut req = [0u8; 20];
    req[0..4].copy_from_slice(&20u32.to_ne_bytes());
    req[4..6].copy_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE).to_ne_bytes());
    req[6..8].copy_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // SAFETY: sends `req`, a valid buffer of its length, to the kernel (address zeroed).
    let sent = unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as u16;
        libc::sendto(
            sock.as_raw_fd(),
            req.as_ptr().cast(),
            req.len(),
            0,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if sent != req.len() as isize {
        return None;
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: reads into `buf`, a valid buffer of its length.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n <= 0 {
            return None;
        }
        let mut off = 0usize;
        while off + 16 <= n as usize {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().ok()?) as usize;
            let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().ok()?);
            match kind {
                k if k == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE => return Some(true),
                k if k == libc::NLMSG_DONE as u16 => return Some(false),
                k if k == libc::NLMSG_ERROR as u16 => return None,
                _ => {}
            }
            if len < 16 {
                return None;
            }
            off += (len + 3) & !3;
        }
    }
}

/// Insert an accept rule into a foreign chain.
pub fn foreign_insert(a: &foreign::Accept) -> Result<()> {
    let _lock = lock()?;
    apply(&a.insert_batch())
}

/// Delete that rule again, found by its comment; nothing else in the chain changes.
pub fn foreign_delete(a: &foreign::Accept) -> Result<()> {
    let _lock = lock()?;
    let gone = || messages::no_foreign_rule(&a.tag, &a.chain);
    let listing = list_json(&["list", "chain", &a.family, &a.table, &a.chain])?.ok_or_else(gone)?;
    let handle = a.find(&listing).ok_or_else(gone)?;
    apply(&a.delete_batch(handle))
}

// The JSON `nft -j` takes for netscript's table: the rule model (crate::lab::firewall)
// lowered to nftables-crate values, item by item (`Rule::items`), as its text is.

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
        _type: Some(match t {
            ChainType::Filter => NfChainType::Filter,
            ChainType::Nat => NfChainType::NAT,
        }),
        hook: Some(match h {
            Hook::Input => NfHook::Input,
            Hook::Forward => NfHook::Forward,
            Hook::Output => NfHook::Output,
            Hook::Prerouting => NfHook::Prerouting,
            Hook::Postrouting => NfHook::Postrouting,
        }),
        prio: Some(p),
        policy: Some(NfChainPolicy::Accept),
        ..Default::default()
    }
}

fn field(protocol: &str, f: String) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.to_string().into(),
            field: f.into(),
        },
    )))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn matches(
    left: Expression<'static>,
    op: Operator,
    right: Expression<'static>,
) -> Statement<'static> {
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

/// One item of a rule as the statement nft's JSON has for it (see `Item::text`).
fn statement(item: &Item) -> Statement<'static> {
    match *item {
        Item::LocalDst => matches(
            Expression::Named(NamedExpression::Fib(Fib {
                result: FibResult::Type,
                flags: HashSet::from([FibFlag::Daddr]),
            })),
            Operator::EQ,
            Expression::String("local".into()),
        ),
        Item::Addr { dir, cidr } => matches(
            field(firewall::ipfam(cidr), dir.field("addr")),
            Operator::EQ,
            prefix(cidr),
        ),
        Item::Ifname {
            iface,
            negated,
            name,
        } => matches(
            meta(match iface {
                Iface::In => MetaKey::Iifname,
                Iface::Out => MetaKey::Oifname,
            }),
            if negated { Operator::NEQ } else { Operator::EQ },
            Expression::String(name.to_string().into()),
        ),
        Item::L4proto(p) => matches(
            meta(MetaKey::L4proto),
            Operator::EQ,
            Expression::String(p.name().into()),
        ),
        Item::Port { proto, dir, port } => matches(
            field(proto.name(), dir.field("port")),
            Operator::EQ,
            Expression::Number(port as u32),
        ),
        // Not Operator::LT: nftables 0.6.3 serializes LT as ">" (and GT as "<").
        Item::RandomAtMost(n) => matches(
            Expression::Named(NamedExpression::Numgen(Numgen {
                mode: NgMode::Random,
                ng_mod: 100,
                offset: None,
            })),
            Operator::LEQ,
            Expression::Number(n),
        ),
        Item::Action(a) => match a {
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
        },
    }
}

/// One transaction that makes sure the table and chains exist, then adds the rules.
fn add_batch(rules: &[Rule]) -> Nftables<'static> {
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
            expr: Cow::Owned(r.items().iter().map(statement).collect()),
            comment: Some(r.id.clone().into()),
            ..Default::default()
        })));
    }
    to_nftables(cmds)
}

fn to_nftables(cmds: Vec<NfCmd<'static>>) -> Nftables<'static> {
    Nftables {
        objects: Cow::Owned(cmds.into_iter().map(schema::NfObject::CmdObject).collect()),
    }
}

/// Delete the rules tagged `ids` (handles from a listing of the table); when nothing of
/// ours would be left, delete the whole table instead.
fn delete_batch(listing: &Nftables, ids: &[&str]) -> Option<Nftables<'static>> {
    let mut ours = vec![];
    let mut others = 0;
    for o in listing.objects.iter() {
        if let schema::NfObject::ListObject(NfListObject::Rule(r)) = o {
            match r.comment.as_deref() {
                Some(c) if ids.iter().any(|id| firewall::id_matches(id, c)) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::firewall::test_rule as rule;
    use crate::lab::firewall::Proto;

    #[test]
    fn random_loss_json() {
        let mut r = rule(Chain::Impair, Action::Drop);
        r.oif = Some("veth0".into());
        r.random_pct = Some(30);
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
    fn every_item_of_a_rule_becomes_one_statement() {
        // The text and the JSON come from the same items: one statement per item.
        let mut r = rule(
            Chain::Prerouting,
            Action::Dnat("172.17.0.2:80".parse().unwrap()),
        );
        r.local_dst = true;
        r.src = Some("fd00::/64".parse().unwrap());
        r.iif = Some("eth0".into());
        r.not_oif = Some("br0".into());
        r.proto = Some(Proto::Tcp);
        r.sport = Some(1000);
        r.dport = Some(8080);
        r.random_pct = Some(50);
        let items = r.items();
        let batch = add_batch(std::slice::from_ref(&r));
        let Some(schema::NfObject::CmdObject(NfCmd::Add(NfListObject::Rule(json)))) =
            batch.objects.last()
        else {
            panic!("the rule is the batch's last command")
        };
        assert_eq!(json.expr.len(), items.len());
        assert_eq!(
            r.text(),
            "fib daddr type local ip6 saddr fd00::/64 iifname \"eth0\" oifname != \"br0\" \
             tcp sport 1000 tcp dport 8080 numgen random mod 100 <= 49 dnat ip to 172.17.0.2:80 comment \"t1\""
        );
    }
}
