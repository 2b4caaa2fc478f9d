//! Addresses and routes.

use crate::backend::kernel::{netlink, nl_err, KernelBackend};
use crate::backend::messages;
use crate::error::{Error, Result};
use crate::lab::op::Op;

impl KernelBackend {
    pub(super) fn apply_address(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::AddrAdd { ns, dev, cidr, .. } | Op::AddrDel { ns, dev, cidr } => {
                let add = matches!(op, Op::AddrAdd { .. });
                let nodad = matches!(op, Op::AddrAdd { nodad: true, .. });
                if add && cidr.addr.is_ipv6() && !nodad {
                    // Tentative until duplicate address detection is done: probes wait.
                    self.dad_pending.insert(ns.clone());
                }
                self.with_index(ns, dev, |b, idx| {
                    let h = b.handle(ns)?;
                    let r = match add {
                        true => b.rt.block_on(netlink::addr_add(&h, idx, cidr, nodad)),
                        false => b.rt.block_on(netlink::addr_del(&h, idx, cidr)),
                    };
                    r.map_err(|e| nl_err(messages::address(ns, dev, cidr), e))
                })
            }
            Op::RouteAdd { ns, route } | Op::RouteDel { ns, route } => {
                let dev = match &route.dev {
                    Some(d) => Some(self.index(ns, d)?),
                    None => None,
                };
                let h = self.handle(ns)?;
                let msg = netlink::route_message(route, dev);
                let what = messages::route(ns, route);
                let r = if matches!(op, Op::RouteAdd { .. }) {
                    self.rt.block_on(h.route().add(msg).execute())
                } else {
                    self.rt.block_on(h.route().del(msg).execute())
                };
                r.map_err(|e| match netlink::errno(&e) {
                    // IPv4 says ENETUNREACH, IPv6 EHOSTUNREACH (no route to the gateway).
                    Some(libc::ENETUNREACH | libc::EHOSTUNREACH) if route.via.is_some() => {
                        messages::gateway_unreachable(ns, route, route.via.expect("checked"))
                    }
                    Some(libc::ESRCH) if matches!(op, Op::RouteDel { .. }) => {
                        Error::Missing(what.clone())
                    }
                    _ => nl_err(what.clone(), e),
                })
            }
            other => unreachable!("{other:?} is not in this family"),
        }
    }
}
