//! Forward chains netscript does not own that drop what they do not know, as Docker's
//! does: `table ip filter`, chain `FORWARD` with policy drop, user rules in `DOCKER-USER`.
//! With br_netfilter even frames bridged between two containers on one bridge pass the
//! ip forward hook, so such a chain silently cuts a lab's bridges off, and its routes too.
//!
//! netscript then inserts accept rules for the lab's links where Docker's documentation
//! puts user rules (`DOCKER-USER` when it exists, else the top of the forward chain),
//! each tagged with a comment, so that `down` finds exactly them again by handle and the
//! foreign table is left as it was. An accept there only ends that chain: netscript's own
//! forward rules (table `inet netscript`) still apply.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::lab::op::shell_word;

/// One accept rule netscript adds to a foreign chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accept {
    /// The foreign table: `ip`, `ip6` or `inet`, and its name.
    pub family: String,
    pub table: String,
    /// The chain the rule goes to (`DOCKER-USER`, or the forward chain itself).
    pub chain: String,
    /// Matches the input interface (`iifname`); else the output one (`oifname`).
    pub inbound: bool,
    pub dev: String,
    /// The rule's comment, which finds it again.
    pub tag: String,
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Accept {
    fn matcher(&self) -> &'static str {
        match self.inbound {
            true => "iifname",
            false => "oifname",
        }
    }

    fn chain_spec(&self) -> String {
        format!("{} {} {}", self.family, self.table, self.chain)
    }

    /// `nft` arguments that insert it.
    pub fn insert_command(&self) -> String {
        format!(
            "insert rule {} {} {} accept comment {}",
            self.chain_spec(),
            self.matcher(),
            quoted(&self.dev),
            quoted(&self.tag)
        )
    }

    /// The shell line that deletes it again, found by its comment; `nft` is the command
    /// prefix (`nft`, or `ip netns exec NS nft`).
    pub fn delete_line(&self, nft: &str) -> String {
        let list = shell_word(&format!("list chain {}", self.chain_spec()));
        let tag = self.tag.replace('\'', "");
        format!(
            "{nft} {} $({nft} -a {list} | sed -n 's/.*comment \"{tag}\" # handle //p')",
            shell_word(&format!("delete rule {} handle", self.chain_spec()))
        )
    }

    /// The insertion as one `nft -j` transaction.
    pub fn insert_batch(&self) -> Value {
        json!({"nftables": [{"insert": {"rule": {
            "family": self.family, "table": self.table, "chain": self.chain,
            "comment": self.tag,
            "expr": [
                {"match": {"op": "==", "left": {"meta": {"key": self.matcher()}}, "right": self.dev}},
                {"accept": null},
            ],
        }}}]})
    }

    /// The handle of this rule in `nft -j list chain ...` output.
    pub fn find(&self, listing: &Value) -> Option<u64> {
        listing["nftables"].as_array()?.iter().find_map(|o| {
            let r = o.get("rule")?;
            (r["comment"] == self.tag.as_str() && r["chain"] == self.chain.as_str())
                .then(|| r["handle"].as_u64())
                .flatten()
        })
    }

    pub fn delete_batch(&self, handle: u64) -> Value {
        json!({"nftables": [{"delete": {"rule": {
            "family": self.family, "table": self.table, "chain": self.chain, "handle": handle,
        }}}]})
    }
}

/// A foreign forward chain that drops by default, and where accept rules for it go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropper {
    pub family: String,
    pub table: String,
    /// The forward base chain.
    pub chain: String,
    /// Where rules go: Docker's `DOCKER-USER` when the table has it (its documented place
    /// for user rules), else `chain` itself (rules inserted at its top).
    pub into: String,
}

impl Dropper {
    pub fn accept(&self, inbound: bool, dev: &str, lab: &str) -> Accept {
        let dir = if inbound { "in" } else { "out" };
        Accept {
            family: self.family.clone(),
            table: self.table.clone(),
            chain: self.into.clone(),
            inbound,
            dev: dev.into(),
            tag: format!("netscript:{lab}:{dir}:{dev}"),
        }
    }

    /// The one line that tells the user what netscript did about it.
    pub fn notice(&self, devs: &[String]) -> String {
        let place = match self.into == self.chain {
            true => format!("at the top of its chain {}", self.chain),
            false => format!("to {}", self.into),
        };
        format!(
            "netscript: the forward chain of table {} {} drops by default (Docker?); added accept rules for {} {place}; netscript down removes them",
            self.family,
            self.table,
            devs.join(", ")
        )
    }
}

/// What stands in the way of forwarded traffic in a namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    /// nftables forward chains of other owners that drop by default.
    pub droppers: Vec<Dropper>,
    /// iptables-legacy's FORWARD chain drops by default (nft can neither see nor change it).
    pub legacy_drops: bool,
}

/// The line that warns about iptables-legacy.
pub fn legacy_notice(devs: &[String]) -> String {
    let dev = devs.first().map(String::as_str).unwrap_or("BRIDGE");
    format!(
        "netscript: iptables-legacy's FORWARD chain drops by default (Docker?) and nftables cannot change it: the lab's forwarded and bridged traffic may be dropped (let it through with iptables-legacy -I FORWARD -i {dev} -j ACCEPT and -o {dev})"
    )
}

/// Whether a rule is an unconditional drop or reject (counters aside): a chain that
/// ends in `reject` (firewalld's; the RHEL iptables default `-j REJECT`, which
/// iptables-nft writes as an `xt` target) drops what it does not know just as well.
fn is_plain_drop(rule: &Value) -> bool {
    let Some(expr) = rule["expr"].as_array() else {
        return false;
    };
    let ends = |s: &Value| {
        s.get("drop").is_some()
            || s.get("reject").is_some()
            || (s["xt"]["type"] == "target"
                && ["DROP", "REJECT"].contains(&s["xt"]["name"].as_str().unwrap_or("")))
    };
    expr.last().is_some_and(ends) && expr.iter().all(|s| ends(s) || s.get("counter").is_some())
}

/// The forward chains in `nft -j list ruleset` output that are not netscript's and drop
/// what no rule accepts: policy drop, or a last rule that drops everything.
pub fn droppers(ruleset: &Value) -> Vec<Dropper> {
    let Some(objs) = ruleset["nftables"].as_array() else {
        return vec![];
    };
    let key = |o: &Value| {
        (
            o["family"].as_str().unwrap_or("").to_string(),
            o["table"].as_str().unwrap_or("").to_string(),
        )
    };
    let chains: Vec<&Value> = objs.iter().filter_map(|o| o.get("chain")).collect();
    let rules: Vec<&Value> = objs.iter().filter_map(|o| o.get("rule")).collect();
    let mut out = vec![];
    for c in &chains {
        let (family, table) = key(c);
        if c["hook"] != "forward"
            || c["type"] != "filter"
            || !["ip", "ip6", "inet"].contains(&family.as_str())
            || (family == "inet" && table == crate::lab::firewall::TABLE)
        {
            continue;
        }
        let name = c["name"].as_str().unwrap_or("").to_string();
        let last = rules
            .iter()
            .rfind(|r| key(r) == (family.clone(), table.clone()) && r["chain"] == name.as_str());
        if c["policy"] != "drop" && !last.is_some_and(|r| is_plain_drop(r)) {
            continue;
        }
        let user = chains
            .iter()
            .any(|u| key(u) == (family.clone(), table.clone()) && u["name"] == "DOCKER-USER");
        out.push(Dropper {
            into: if user {
                "DOCKER-USER".into()
            } else {
                name.clone()
            },
            family,
            table,
            chain: name,
        });
    }
    out
}

/// Whether `iptables-legacy-save -t filter` output has a FORWARD chain that drops by
/// default (policy DROP, or a last rule `-A FORWARD -j DROP` or `-j REJECT`).
pub fn legacy_forward_drops(save: &str) -> bool {
    let policy = save
        .lines()
        .any(|l| l.starts_with(":FORWARD DROP") || l.starts_with(":FORWARD REJECT"));
    let last = save
        .lines()
        .rfind(|l| l.starts_with("-A FORWARD "))
        .is_some_and(|l| {
            let l = l.trim();
            l == "-A FORWARD -j DROP"
                || l == "-A FORWARD -j REJECT"
                || l.starts_with("-A FORWARD -j REJECT --reject-with ")
        });
    policy || last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docker(user: bool, policy: &str) -> Value {
        let mut objs = vec![
            json!({"table": {"family": "ip", "name": "filter"}}),
            json!({"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "type": "filter", "hook": "forward", "prio": 0, "policy": policy}}),
            json!({"chain": {"family": "inet", "table": "netscript", "name": "forward", "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}),
        ];
        if user {
            objs.push(json!({"chain": {"family": "ip", "table": "filter", "name": "DOCKER-USER"}}));
        }
        json!({ "nftables": objs })
    }

    #[test]
    fn finds_docker_forward_chain() {
        let d = droppers(&docker(true, "drop"));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (d[0].chain.as_str(), d[0].into.as_str()),
            ("FORWARD", "DOCKER-USER")
        );
        let d = droppers(&docker(false, "drop"));
        assert_eq!(d[0].into, "FORWARD");
        assert!(droppers(&docker(true, "accept")).is_empty());
    }

    #[test]
    fn a_last_plain_drop_counts() {
        let mut r = docker(false, "accept");
        r["nftables"].as_array_mut().unwrap().push(json!({"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "handle": 4, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}}));
        assert_eq!(droppers(&r).len(), 1);
    }

    #[test]
    fn a_last_plain_reject_counts() {
        for last in [
            json!({"reject": {"type": "icmpx", "expr": "admin-prohibited"}}),
            json!({"reject": null}),
            json!({"xt": {"type": "target", "name": "REJECT"}}),
        ] {
            let mut r = docker(false, "accept");
            r["nftables"].as_array_mut().unwrap().push(json!({"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "handle": 4, "expr": [{"counter": {"packets": 0, "bytes": 0}}, last]}}));
            assert_eq!(droppers(&r).len(), 1, "{last}");
        }
        assert!(legacy_forward_drops(
            "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n"
        ));
    }

    #[test]
    fn accept_rule_commands() {
        let d = &droppers(&docker(true, "drop"))[0];
        let a = d.accept(true, "br0", "lab");
        assert_eq!(
            a.insert_command(),
            r#"insert rule ip filter DOCKER-USER iifname "br0" accept comment "netscript:lab:in:br0""#
        );
        assert_eq!(
            a.delete_line("nft"),
            r#"nft 'delete rule ip filter DOCKER-USER handle' $(nft -a 'list chain ip filter DOCKER-USER' | sed -n 's/.*comment "netscript:lab:in:br0" # handle //p')"#
        );
        let listing = json!({"nftables": [{"rule": {"family": "ip", "table": "filter", "chain": "DOCKER-USER", "handle": 7, "comment": "netscript:lab:in:br0", "expr": []}}]});
        assert_eq!(a.find(&listing), Some(7));
        assert_eq!(d.accept(false, "br0", "lab").find(&listing), None);
    }

    #[test]
    fn legacy_save() {
        assert!(legacy_forward_drops(
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\nCOMMIT\n"
        ));
        assert!(!legacy_forward_drops(
            "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
        ));
    }
}
