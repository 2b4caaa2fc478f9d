import json, os, subprocess, sys

def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("dump: %s failed: %s" % (" ".join(args), p.stderr))
    return p.stdout

def js(args):
    out = run(args).strip()
    return json.loads(out) if out else []

def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("handle", "comment")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v

host_inode = os.stat("/proc/self/ns/net").st_ino

def dump(ns):
    ip = ["ip"] if ns == "host" else ["ip", "-n", ns]
    inside = [] if ns == "host" else ["ip", "netns", "exec", ns]
    tc = ["tc"] if ns == "host" else ["tc", "-n", ns]
    links = []
    for l in js(ip + ["-d", "-j", "link"]):
        info = l.get("linkinfo", {})
        kind = info.get("info_kind")
        d = {"name": l["ifname"], "kind": kind, "mtu": l.get("mtu"), "master": l.get("master"),
             "up": "UP" in l.get("flags", [])}
        if kind == "veth":
            # Creation flags (see src/lab/tuning.rs): the plan must make them too.
            d["queues"] = [l.get("num_tx_queues"), l.get("num_rx_queues")]
            d["peer_in_other_ns"] = "link_netnsid" in l
            if "link_netnsid" not in l:
                d["peer"] = l.get("link")
        if kind == "bridge":
            d["mcast_snooping"] = info.get("info_data", {}).get("mcast_snooping")
        if kind == "vxlan":
            data = info.get("info_data", {})
            d["vxlan"] = {k: data.get(k) for k in ("id", "remote", "local", "group", "port", "link")}
        links.append(d)
    links.sort(key=lambda d: d["name"])
    addrs = sorted("%s %s/%s" % (l["ifname"], a["local"], a["prefixlen"])
                   for l in js(ip + ["-j", "addr"]) for a in l.get("addr_info", [])
                   if a.get("scope") != "link")
    routes = {}
    for fam in ("-4", "-6"):
        rs = [{k: r.get(k) for k in ("type", "dst", "gateway", "dev", "protocol", "scope", "metric", "prefsrc")}
              for r in js(ip + [fam, "-j", "route"]) if not r.get("dst", "").startswith("fe80:")]
        rs.sort(key=lambda r: json.dumps(r, sort_keys=True))
        routes[fam] = rs
    sysctl = run(inside + ["sysctl", "-n", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"]).split()
    ruleset = strip(js(inside + ["nft", "-j", "list", "ruleset"]))
    nft = [x for x in (ruleset.get("nftables", []) if isinstance(ruleset, dict) else []) if "metainfo" not in x]
    qdisc = sorted("%s %s" % (q["dev"], q["kind"]) for q in js(tc + ["-j", "qdisc"]) if q.get("root"))
    same = ns == "host" or os.stat("/run/netns/" + ns).st_ino == host_inode
    return {"links": links, "addrs": addrs, "routes": routes["-4"], "routes6": routes["-6"],
            "sysctl": sysctl, "nft": nft, "qdisc": qdisc, "is_the_sandbox_namespace": same}

names = sorted(l.split()[0] for l in run(["ip", "netns", "list"]).splitlines() if l.strip())
print(json.dumps({ns: dump(ns) for ns in ["host"] + names}, sort_keys=True))
