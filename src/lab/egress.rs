//! Random loss on a link's way out where the kernel has no netem: a chain of its own in
//! table `netdev netscript`, hooked to the device's egress. That is where `tc ... netem
//! loss` acts too: every packet the device sends passes it, whether it was bridged,
//! forwarded or sent locally. (A chain in an `inet` table would not do: bridged frames,
//! such as those a bridge sends out of a container's veth, never reach inet postrouting.)
//!
//! One chain per device, so `unimpair` and teardown delete exactly that chain; the table
//! goes with its last chain. The chain outlives its device on recent kernels, so it is
//! always deleted on its own (except with a namespace netscript deletes).

use serde_json::{json, Value};

use crate::lab::op::shell_word;

pub const TABLE: &str = "netscript";

/// The chain of `dev`. Chain names are nft identifiers: other characters become `_`.
pub fn chain(dev: &str) -> String {
    let safe: String = dev
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || "-_.".contains(c) {
            true => c,
            false => '_',
        })
        .collect();
    format!("impair-{safe}")
}

/// The device as an nft string literal.
fn quoted(dev: &str) -> String {
    format!("\"{}\"", dev.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The rule's statement, as nft reads it: all packets are a plain drop (numgen's range
/// ends at 99).
fn verdict(pct: u8) -> String {
    match pct {
        100.. => "drop".into(),
        p => format!("numgen random mod 100 < {p} drop"),
    }
}

/// `nft` arguments (one command each) that add the loss, for traces and plans.
pub fn add_commands(dev: &str, pct: u8) -> Vec<String> {
    let c = chain(dev);
    vec![
        format!("add table netdev {TABLE}"),
        format!(
            "add chain netdev {TABLE} {c} {{ type filter hook egress device {} priority 0; policy accept; }}",
            quoted(dev)
        ),
        format!("add rule netdev {TABLE} {c} {}", verdict(pct)),
    ]
}

/// Shell lines that remove it again, as netscript does: the table goes once it holds no
/// chain. `nft` is the command prefix (`nft` or `ip netns exec NS nft`).
pub fn del_lines(nft: &str, dev: &str) -> Vec<String> {
    let c = chain(dev);
    vec![
        format!(
            "{nft} {}",
            shell_word(&format!("delete chain netdev {TABLE} {c}"))
        ),
        format!(
            "if ! {nft} {} | grep -q 'chain '; then {nft} {}; fi",
            shell_word(&format!("list table netdev {TABLE}")),
            shell_word(&format!("delete table netdev {TABLE}"))
        ),
    ]
}

/// The same as [`add_commands`], as one `nft -j` transaction.
pub fn add_batch(dev: &str, pct: u8) -> Value {
    let c = chain(dev);
    let mut expr = vec![];
    if pct < 100 {
        expr.push(json!({"match": {"op": "<", "left": {"numgen": {"mode": "random", "mod": 100}}, "right": pct}}));
    }
    expr.push(json!({"drop": null}));
    json!({"nftables": [
        {"add": {"table": {"family": "netdev", "name": TABLE}}},
        {"add": {"chain": {"family": "netdev", "table": TABLE, "name": c, "type": "filter",
            "hook": "egress", "dev": dev, "prio": 0, "policy": "accept"}}},
        {"add": {"rule": {"family": "netdev", "table": TABLE, "chain": c, "expr": expr}}},
    ]})
}

/// Delete the chain of `dev`.
pub fn del_batch(dev: &str) -> Value {
    json!({"nftables": [
        {"delete": {"chain": {"family": "netdev", "table": TABLE, "name": chain(dev)}}},
    ]})
}

/// Delete the table.
pub fn del_table_batch() -> Value {
    json!({"nftables": [{"delete": {"table": {"family": "netdev", "name": TABLE}}}]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_like_nft() {
        assert_eq!(
            add_commands("veth-c2-br", 30),
            [
                "add table netdev netscript",
                r#"add chain netdev netscript impair-veth-c2-br { type filter hook egress device "veth-c2-br" priority 0; policy accept; }"#,
                "add rule netdev netscript impair-veth-c2-br numgen random mod 100 < 30 drop",
            ]
        );
        assert_eq!(
            add_commands("v", 100)[2],
            "add rule netdev netscript impair-v drop"
        );
        assert_eq!(chain("a@b\"c"), "impair-a_b_c");
        assert_eq!(
            del_lines("nft", "v")[0],
            "nft 'delete chain netdev netscript impair-v'"
        );
    }

    #[test]
    fn batch_is_an_egress_chain_on_the_device() {
        let j = add_batch("eth0", 25).to_string();
        assert!(
            j.contains(r#""hook":"egress""#) && j.contains(r#""dev":"eth0""#),
            "{j}"
        );
        assert!(
            j.contains(r#""op":"<""#) && j.contains(r#""right":25"#),
            "{j}"
        );
        assert!(!add_batch("eth0", 100).to_string().contains("numgen"));
    }
}
