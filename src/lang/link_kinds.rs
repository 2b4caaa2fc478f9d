//! The single-ended link kinds beyond bridge and vxlan: `macvlan` (a second MAC on a
//! parent link: the "container on the physical LAN" without a bridge) and `tun` (a tun or
//! tap device for a user-space program). Each builds one `Op::LinkAdd`.

use rhai::{Dynamic, Engine, Map};

use super::{call, fail, to_link, Ctx, Link, Opts, RhaiResult};
use crate::lab::link_kind::{resolve_group, resolve_owner, MacvlanMode};
use crate::lab::names;
use crate::lab::op::{LinkSpec, Ns, Op};
use crate::ns_fn;

fn add(cx: &Ctx, c: &str, ns: &Ns, name: &str, spec: LinkSpec) -> RhaiResult<Link> {
    cx.borrow_mut()
        .apply(Op::LinkAdd {
            ns: ns.clone(),
            name: name.into(),
            spec,
        })
        .map_err(|e| fail(c, e))?;
    Ok(Link {
        ns: ns.clone(),
        name: name.into(),
    })
}

/// `ns.macvlan(name, #{ parent, mode, parent_ns })`: made directly in `ns`, on a parent
/// in `host()` unless `parent_ns` names its namespace (`ip link add NAME link PARENT
/// netns NS type macvlan`: the container on the host's LAN).
fn macvlan(cx: &Ctx, c: &str, ns: &Ns, name: &str, opts: Map) -> RhaiResult<Link> {
    let o = Opts::new(c, opts, &["parent", "mode", "parent_ns"])?;
    names::ifname(name).map_err(|e| fail(c, e))?;
    let parent = o
        .get("parent")
        .ok_or_else(|| fail(c, "option parent (the link it sits on) is required"))?;
    let parent_ns = match o.get("parent_ns") {
        Some(d) => super::to_ns(c, "parent_ns", &d)?,
        // A parent given as a handle is where that handle says.
        None => match parent.clone().try_cast::<Link>() {
            Some(l) => l.ns,
            None => None,
        },
    };
    let parent = to_link(c, &parent_ns, &parent)?;
    let mode = match o.str("mode")? {
        Some(m) => MacvlanMode::parse(&m).map_err(|e| fail(c, e))?,
        None => MacvlanMode::default(),
    };
    let parent_ns = (parent_ns != *ns).then_some(parent_ns);
    add(
        cx,
        c,
        ns,
        name,
        LinkSpec::Macvlan {
            parent,
            mode,
            parent_ns,
        },
    )
}

fn tun(cx: &Ctx, c: &str, ns: &Ns, name: &str, opts: Map) -> RhaiResult<Link> {
    let o = Opts::new(c, opts, &["tap", "owner", "group"])?;
    names::ifname(name).map_err(|e| fail(c, e))?;
    let tap = o.bool("tap")?.unwrap_or(false);
    let owner = id_option(c, &o, "owner", ("uid", "user"), resolve_owner)?;
    let group = id_option(c, &o, "group", ("gid", "group"), resolve_group)?;
    add(cx, c, ns, name, LinkSpec::Tun { tap, owner, group })
}

/// A tun's `owner` or `group`: a number (`id`), or a name (`of`) that `resolve` looks up.
fn id_option(
    c: &str,
    o: &Opts,
    key: &str,
    (id, of): (&str, &str),
    resolve: fn(&str) -> Result<u32, String>,
) -> RhaiResult<Option<u32>> {
    Ok(match o.get(key) {
        None => None,
        // (uid_t)-1 / (gid_t)-1 mean "none": the kernel refuses them.
        Some(d) if d.is_int() => Some(
            u32::try_from(d.as_int().unwrap_or(-1))
                .ok()
                .filter(|&u| u != u32::MAX)
                .ok_or_else(|| {
                    fail(
                        c,
                        format!(
                            "{key}: a {id} is 0..=4294967294 (4294967295 is ({id}_t)-1, no {of})"
                        ),
                    )
                })?,
        ),
        Some(d) if d.is_string() => {
            Some(resolve(&d.into_string().unwrap_or_default()).map_err(|e| fail(c, e))?)
        }
        Some(d) => {
            return Err(fail(
                c,
                format!(
                    "{key}: a {id} or a {of} name, not {}",
                    super::type_label(&d)
                ),
            ))
        }
    })
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip link add NAME link PARENT type macvlan mode MODE
    ns_fn!(engine, ctx, "macvlan", |cx,
                                    ns,
                                    name: &str,
                                    opts: Map|
     -> Link {
        let c = call(Some(&ns), "macvlan", &[name.into(), opts.clone().into()]);
        macvlan(cx, &c, &ns.ns, name, opts)
    });
    // ip tuntap add dev NAME mode tun|tap [user OWNER]
    ns_fn!(engine, ctx, "tun", |cx, ns, name: &str| -> Link {
        let c = call(Some(&ns), "tun", &[name.into()]);
        tun(cx, &c, &ns.ns, name, Map::new())
    });
    ns_fn!(engine, ctx, "tun", |cx,
                                ns,
                                name: &str,
                                opts: Map|
     -> Link {
        let args: [Dynamic; 2] = [name.into(), opts.clone().into()];
        let c = call(Some(&ns), "tun", &args);
        tun(cx, &c, &ns.ns, name, opts)
    });
}

/// macvlan and tun over the model backend, in-process (the kernel's side is in
/// tests/link_kinds.rs): what `plan` shows, and the errors a run would give, at the call.
#[cfg(test)]
mod tests {
    use crate::lang::test_support;

    /// Run `code` as `netscript plan` would: its value (or error) and the plan.
    fn plan(code: &str) -> (Result<String, String>, String) {
        let (r, plan) = test_support::eval(code);
        (r.map(|v| v.to_string()).map_err(|e| e.to_string()), plan)
    }

    /// Made directly in its namespace, on a parent in host() or in `parent_ns` (or where
    /// a parent handle is); made beside its parent and moved, the same link.
    #[test]
    fn macvlan_is_made_in_its_namespace_on_a_parent_elsewhere() {
        let (r, plan) = plan(
            r#"let lan = netns("lan");
               let red = netns("red");
               lan.bridge("br0");
               lan.link("br0").mtu(1400);
               bridge("eth0");
               red.macvlan("mv0", #{ parent: "br0", parent_ns: lan, mode: "private" });
               lan.macvlan("mv1", #{ parent: lan.link("br0") }).move_to(red);
               red.macvlan("mv2", #{ parent: "eth0" });
               let ls = red.links().filter(|l| l.kind == "macvlan");
               `${ls.len()} ${ls.map(|l| l.mtu)}`"#,
        );
        assert_eq!(r.as_deref(), Ok("3 [1400, 1400, 1500]"), "{plan}");
        for line in [
            "ip -n lan link add name mv0 link br0 netns red type macvlan mode private\n",
            "ip -n lan link add name mv1 link br0 type macvlan mode bridge\n",
            "ip link add name mv2 link eth0 netns red type macvlan mode bridge\n",
        ] {
            assert!(plan.contains(line), "{line}\n{plan}");
        }
    }

    #[test]
    fn a_macvlan_goes_with_its_parent() {
        let (r, plan) = plan(
            r#"let lan = netns("lan");
               let red = netns("red");
               lan.bridge("br0");
               red.macvlan("mv0", #{ parent: "br0", parent_ns: lan });
               lan.link("br0").delete();
               red.links().len()"#,
        );
        // Only lo is left in red.
        assert_eq!(r.as_deref(), Ok("1"), "{plan}");
    }

    #[test]
    fn tun_and_tap_in_the_plan() {
        let (r, plan) = plan(
            r#"tun("tun0");
               let t = tun("tap0", #{ tap: true, owner: "root", group: "root" });
               `${link("tun0").kind} ${t.kind}`"#,
        );
        assert_eq!(r.as_deref(), Ok("tun tap"), "{plan}");
        assert!(plan.contains("ip tuntap add dev tun0 mode tun\n"), "{plan}");
        assert!(
            plan.contains("ip tuntap add dev tap0 mode tap user 0 group 0\n"),
            "{plan}"
        );
    }

    /// The same words as the kernel backend's (see tests/link_kinds.rs).
    #[test]
    fn errors_name_the_call_and_the_reason() {
        for (code, want) in [
            (
                r#"bridge("br0"); macvlan("mv0", #{ parent: "br0", mode: "bridged" });"#,
                r#"mode "bridged" is not one of bridge, private, vepa, passthru"#,
            ),
            (
                r#"netns("lan").macvlan("mv0", #{ parent: "eth9" });"#,
                r#"lan.macvlan("mv0", #{ parent: "eth9" }): link "eth9" does not exist"#,
            ),
            (
                r#"let lan = netns("lan"); netns("red").macvlan("mv0", #{ parent: "eth9", parent_ns: lan });"#,
                r#"link "eth9" in namespace "lan" does not exist"#,
            ),
            (
                r#"netns("red").macvlan("mv0", #{ parent: "eth0", parent_ns: 5 });"#,
                "parent_ns must be a Netns or a namespace name, not int",
            ),
            (
                r#"let lan = netns("lan"); lan.bridge("br0");
                   netns("red").macvlan("mv0", #{ parent: lan.link("br0"), parent_ns: host() });"#,
                r#"Link("br0" in lan) is not in the host namespace"#,
            ),
            (
                r#"bridge("br0"); tun("br0");"#,
                r#"tun("br0"): link "br0" already exists"#,
            ),
            (
                r#"tun("t0", #{ owner: "no-such-user-here" });"#,
                r#"owner: there is no user named "no-such-user-here""#,
            ),
            (
                r#"tun("t0", #{ group: "no-such-group-here" });"#,
                r#"group: there is no group named "no-such-group-here""#,
            ),
            (
                r#"tun("t0", #{ group: 4294967295 });"#,
                "group: a gid is 0..=4294967294 (4294967295 is (gid_t)-1, no group)",
            ),
            (
                r#"tun("t0", #{ group: 1.5 });"#,
                "group: a gid or a group name, not float",
            ),
            (r#"tun("t0", #{ tap: 1 });"#, "tap"),
            (r#"macvlan("mv0", #{ parent: "x", colour: 1 });"#, "colour"),
        ] {
            let (r, plan) = plan(code);
            let e = r.expect_err(code);
            assert!(e.contains(want), "{code}: {e}\n{plan}");
        }
    }
}
