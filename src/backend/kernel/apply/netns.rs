//! Namespace ops: made with their own netlink connection, deleted, named after a process.

use crate::backend::kernel::{netlink, netns, nl_err, Conn, KernelBackend, Space};
use crate::error::{Error, Result};
use crate::lab::op::{link_label, ns_label, Op};

impl KernelBackend {
    pub(super) fn apply_netns(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::NetnsAdd { name, lo } => {
                let (file, sock) = netns::create(name)?;
                let conn = Conn::new(&self.rt, sock)
                    .map_err(|e| Error::os(format!("namespace {name:?}"), e))?;
                let ns = Some(name.clone());
                self.insert(
                    ns.clone(),
                    Space {
                        file,
                        conn,
                        made_here: true,
                        used: self.tick,
                    },
                );
                if !lo {
                    return Ok(());
                }
                // lo is always index 1 in a new namespace.
                let h = self.handle(&ns)?;
                let msg = rtnetlink::LinkUnspec::new_with_index(1).up().build();
                self.rt
                    .block_on(netlink::set(&h, msg))
                    .map_err(|e| nl_err(link_label(&ns, "lo"), e))
            }
            Op::NetnsDel { name } => {
                let ns = Some(name.clone());
                if !netns::path(name).exists() {
                    return Err(Error::Missing(ns_label(&ns)));
                }
                self.forget(&ns);
                netns::delete(name)
            }
            Op::NetnsAttach { name, pid } => netns::attach(name, *pid),
            Op::NetnsDelMade { name, dev, ino } => {
                let ns = Some(name.clone());
                let here = netns::file_id(name);
                if here == Some((*dev, *ino)) {
                    return self.apply_op(&Op::NetnsDel { name: name.clone() });
                }
                // Ours under another name (its mount moved): delete it there.
                let renamed = netns::list()
                    .unwrap_or_default()
                    .into_iter()
                    .find(|other| other != name && netns::file_id(other) == Some((*dev, *ino)));
                if let Some(other) = &renamed {
                    self.apply_op(&Op::NetnsDel {
                        name: other.clone(),
                    })?;
                }
                match here {
                    Some(_) => Err(Error::Replaced(format!(
                        "{} is not the one this lab made (it was replaced); left alone",
                        ns_label(&ns)
                    ))),
                    // Gone (or renamed, done above), or only its empty mount point is
                    // left: as for a plain delete.
                    None if renamed.is_some() && !netns::path(name).exists() => Ok(()),
                    None => self.apply_op(&Op::NetnsDel { name: name.clone() }),
                }
            }
            other => unreachable!("{other:?} is not in this family"),
        }
    }
}
