//! The write-ahead journal: every op is written, with its undo, before it is applied.
//! Rollback and `netscript down` compute the undo from it: newest first, but not a blind
//! replay, since what lives inside a namespace that is being deleted goes with it.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lab::op::{Ns, Op};
use crate::lab::seal;

pub const RUN_DIR: &str = "/run/netscript";
/// netscript's own locks and shared state: a dot-folder no lab name can reach (lab names
/// never start with a dot), so a lab named `nft` has its own lock, not the nft lock.
pub const STATE_DIR: &str = "/run/netscript/.state";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub op: Op,
    /// What restores the state from before `op`, in order (empty: nothing to undo, or
    /// the op acted on something this lab created, which goes away as a whole).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undo: Vec<Op>,
    /// Who the object `op` made is (written on a line of its own once it exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Ident>,
}

/// Who an object this lab made is, beyond its name: undo removes only that object, and
/// leaves alone another that took its name since.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ident {
    /// A namespace: the device and inode of its file under /run/netns.
    Netns { dev: u64, ino: u64 },
    /// A link: its index in the namespace it was made in, and when that is a named
    /// namespace the lab did not make, that namespace's identity (an index means
    /// nothing in another namespace of the same name).
    Link {
        index: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        netns: Option<(u64, u64)>,
    },
}

/// The journal line that follows an entry once its object exists.
#[derive(Serialize, Deserialize)]
struct IdLine {
    id: Ident,
}

/// A link this lab created, followed to where it is now.
#[derive(Clone, Debug)]
struct Made {
    ns: Ns,
    name: String,
    /// For a veth: the other end, followed likewise.
    peer: Option<(Ns, String)>,
    alive: bool,
    /// Its index where it was made, while it is still there (`None`: not known).
    index: Option<u32>,
    /// The identity of the named namespace it was made in, if the lab did not make it.
    netns: Option<(u64, u64)>,
}

/// What a run of ops created: namespaces and links, with their current location.
#[derive(Default, Debug)]
pub struct Owned {
    namespaces: HashSet<String>,
    links: Vec<Made>,
    /// Where each live end of those links is now: (namespace, name) → (index in
    /// `links`, whether it is the link itself rather than a veth's peer).
    ends: HashMap<(Ns, String), (usize, bool)>,
    /// For each op recorded: the index in `links` it created, if it created one.
    created: Vec<Option<usize>>,
    /// For each op recorded: whether it acted inside something this lab created.
    inside_own: Vec<bool>,
}

impl Owned {
    fn find(&self, ns: &Ns, name: &str) -> Option<(usize, bool)> {
        self.ends.get(&(ns.clone(), name.to_string())).copied()
    }

    fn add(&mut self, m: Made) -> usize {
        let i = self.links.len();
        self.ends.insert((m.ns.clone(), m.name.clone()), (i, true));
        if let Some(p) = &m.peer {
            self.ends.insert(p.clone(), (i, false));
        }
        self.links.push(m);
        i
    }

    /// Link `i` is gone (deleted, or with its namespace), with its veth peer.
    fn kill(&mut self, i: usize) {
        let m = &mut self.links[i];
        m.alive = false;
        self.ends.remove(&(m.ns.clone(), m.name.clone()));
        if let Some(p) = &m.peer {
            self.ends.remove(p);
        }
    }

    /// The namespaces made and not deleted since.
    pub fn namespaces(&self) -> Vec<String> {
        let mut v: Vec<String> = self.namespaces.iter().cloned().collect();
        v.sort();
        v
    }

    pub fn owns_ns(&self, ns: &Ns) -> bool {
        ns.as_ref().is_some_and(|n| self.namespaces.contains(n))
    }

    pub fn owns_link(&self, ns: &Ns, name: &str) -> bool {
        self.find(ns, name).is_some()
    }

    /// The names of this lab's links in `ns` (veth ends included), oldest first.
    pub fn links_in(&self, ns: &Ns) -> Vec<String> {
        let mut v: Vec<(usize, String)> = self
            .ends
            .iter()
            .filter(|((n, _), _)| n == ns)
            .map(|((_, name), (i, _))| (*i, name.clone()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, n)| n).collect()
    }

    /// Whether `op` acts on something this lab created (so undoing that thing undoes it).
    pub fn covers(&self, op: &Op) -> bool {
        let ns = op.ns();
        // A process outlives its namespace's name: it is always stopped on its own.
        if matches!(
            op,
            Op::NetnsAdd { .. }
                | Op::NetnsDel { .. }
                | Op::NetnsAttach { .. }
                | Op::ProcStarted { .. }
        ) {
            return false;
        }
        if self.owns_ns(&ns) {
            return true;
        }
        if let Some(l) = op.link() {
            return self.owns_link(&ns, l);
        }
        if let Op::RouteAdd { route, .. } = op {
            if let Some(d) = &route.dev {
                return self.owns_link(&ns, d);
            }
        }
        false
    }

    /// Record an entry, with the identity of what it made.
    pub fn record_entry(&mut self, e: &Entry) {
        self.record(&e.op);
        if let (Some(Some(li)), Some(Ident::Link { index, netns })) = (self.created.last(), e.id) {
            self.links[*li].index = Some(index);
            self.links[*li].netns = netns;
        }
    }

    pub fn record(&mut self, op: &Op) {
        self.inside_own.push(self.covers(op));
        // Every op that makes a link says so (`Op::creates_link`): forgetting one here
        // would leave that link behind at `down`.
        let created = op.creates_link().map(|(ns, name)| {
            let peer = match op {
                Op::VethAdd { b, b_ns, .. } => Some((b_ns.clone(), b.clone())),
                _ => None,
            };
            self.add(Made {
                ns: ns.clone(),
                name: name.to_string(),
                peer,
                alive: true,
                index: None,
                netns: None,
            })
        });
        match op {
            Op::NetnsAdd { name, .. } => {
                self.namespaces.insert(name.clone());
            }
            Op::NetnsDel { name } => {
                self.namespaces.remove(name);
                let gone = Some(name.clone());
                let dead: Vec<usize> = (0..self.links.len())
                    .filter(|&i| {
                        let m = &self.links[i];
                        m.alive
                            && (m.ns == gone || m.peer.as_ref().is_some_and(|(n, _)| *n == gone))
                    })
                    .collect();
                for i in dead {
                    self.kill(i);
                }
            }
            Op::LinkMove { ns, name, to } => {
                if let Some((i, is_a)) = self.ends.remove(&(ns.clone(), name.clone())) {
                    if is_a {
                        self.links[i].ns = to.clone();
                        // A move may give it another index there.
                        self.links[i].index = None;
                    } else if let Some(p) = &mut self.links[i].peer {
                        p.0 = to.clone();
                    }
                    self.ends.insert((to.clone(), name.clone()), (i, is_a));
                }
            }
            Op::LinkDel { ns, name } => {
                if let Some((i, _)) = self.find(ns, name) {
                    self.kill(i);
                }
            }
            _ => {}
        }
        self.created.push(created);
    }
}

/// The undo of `entries`, newest first.
/// The links a lab made that it has not deleted since, each by one of its ends:
/// (namespace, name) where they should be now.
pub fn made_links(entries: &[Entry]) -> Vec<(Ns, String)> {
    let mut owned = Owned::default();
    for e in entries {
        owned.record(&e.op);
    }
    owned
        .links
        .iter()
        .filter(|m| m.alive)
        .map(|m| (m.ns.clone(), m.name.clone()))
        .collect()
}

/// For each entry: whether what it did still stands at the end of `entries` (what
/// `netscript export` writes out): not an object deleted later, nor a change inside a
/// namespace or link of this lab that is gone, nor a deletion itself.
pub fn standing(entries: &[Entry]) -> Vec<bool> {
    let mut owned = Owned::default();
    for e in entries {
        owned.record(&e.op);
    }
    // The last creation of each namespace is the one that may still be there.
    let mut last_add: HashMap<&str, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let Op::NetnsAdd { name, .. } = &e.op {
            last_add.insert(name, i);
        }
    }
    let ns_ok = |ns: &Ns, i: usize| match ns {
        Some(n) => match last_add.get(n.as_str()) {
            None => true,
            Some(&at) => owned.namespaces.contains(n) && at <= i,
        },
        None => true,
    };
    let made_dead = |ns: &Ns, name: &str| {
        !owned.owns_link(ns, name)
            && owned.links.iter().any(|m| {
                !m.alive
                    && ((&m.ns, m.name.as_str()) == (ns, name)
                        || m.peer
                            .as_ref()
                            .is_some_and(|(pn, p)| (pn, p.as_str()) == (ns, name)))
            })
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if let Some(li) = owned.created[i] {
                return owned.links[li].alive && ns_ok(&e.op.ns(), i);
            }
            match &e.op {
                Op::NetnsAdd { name, .. } => {
                    owned.namespaces.contains(name) && last_add.get(name.as_str()) == Some(&i)
                }
                // Deletions and stops: what they removed is simply not written.
                Op::NetnsDel { .. }
                | Op::NetnsDelMade { .. }
                | Op::LinkDel { .. }
                | Op::LinkDelMade { .. }
                | Op::ProcStop { .. } => false,
                op => ns_ok(&op.ns(), i) && op.link().is_none_or(|l| !made_dead(&op.ns(), l)),
            }
        })
        .collect()
}

/// The processes `entries` started: (pid, start time, tag).
pub fn started(entries: &[Entry]) -> Vec<(u32, u64, String)> {
    entries
        .iter()
        .filter_map(|e| match &e.op {
            Op::ProcStarted {
                pid, start, tag, ..
            } => Some((*pid, *start, tag.clone())),
            _ => None,
        })
        .collect()
}

/// The namespaces `entries` made that they have not deleted since (those the undo
/// deletes; not those only named, like `netns_of`'s).
pub fn made_namespaces(entries: &[Entry]) -> Vec<String> {
    let mut owned = Owned::default();
    for e in entries {
        owned.record(&e.op);
    }
    owned.namespaces()
}

pub fn undo_plan(entries: &[Entry]) -> Vec<Op> {
    undo(entries).0
}

/// The undo of `entries`, newest first, and the veth ends (in namespaces that stay)
/// whose peer goes with a namespace the undo deletes: they disappear a moment after the
/// namespace does, and teardown waits for that, so the names can be used again at once.
pub fn undo(entries: &[Entry]) -> (Vec<Op>, Vec<(Ns, String)>) {
    let mut owned = Owned::default();
    for e in entries {
        owned.record_entry(e);
    }
    let doomed = |ns: &Ns| owned.owns_ns(ns);
    let mut deleted: HashSet<&str> = HashSet::new();
    let mut undo = vec![];
    let mut wait = vec![];
    for (i, e) in entries.iter().enumerate().rev() {
        if let Some(li) = owned.created[i] {
            let m = &owned.links[li];
            if !m.alive {
                continue;
            }
            // A veth with an end in a namespace being deleted goes with it.
            let a_doomed = doomed(&m.ns);
            let b_doomed = m.peer.as_ref().is_some_and(|(n, _)| doomed(n));
            match (a_doomed, b_doomed, &m.peer) {
                (false, false, _) => undo.push(match m.index {
                    Some(index) => Op::LinkDelMade {
                        ns: m.ns.clone(),
                        name: m.name.clone(),
                        index,
                        netns: m.netns,
                    },
                    None => Op::LinkDel {
                        ns: m.ns.clone(),
                        name: m.name.clone(),
                    },
                }),
                (true, false, Some(p)) => wait.push(p.clone()),
                (false, true, _) => wait.push((m.ns.clone(), m.name.clone())),
                _ => {}
            }
            continue;
        }
        match &e.op {
            // Only the newest namespace of that name is there to delete.
            Op::NetnsAdd { name, .. } if owned.namespaces.contains(name) => {
                if deleted.insert(name.as_str()) {
                    undo.push(match e.id {
                        Some(Ident::Netns { dev, ino }) => Op::NetnsDelMade {
                            name: name.clone(),
                            dev,
                            ino,
                        },
                        _ => Op::NetnsDel { name: name.clone() },
                    })
                }
            }
            Op::NetnsAdd { .. } => {}
            // Moves of our own links are followed, not undone: the link is deleted where it is.
            _ if owned.inside_own[i] => {}
            Op::LinkMove { ns, name, .. } if owned.owns_link(ns, name) => {}
            _ => undo.extend(e.undo.iter().cloned()),
        }
    }
    // Rules go last: nothing depends on them, and the `nft` runs that remove them then
    // overlap with the kernel's cleanup of the deleted namespaces.
    let (mut undo, rules): (Vec<Op>, Vec<Op>) = undo
        .into_iter()
        .partition(|op| !matches!(op, Op::NftDel { .. }));
    undo.extend(rules);
    (undo, wait)
}

/// One lab's journal file under /run/netscript.
pub struct Journal {
    path: Option<PathBuf>,
    file: Option<File>,
    /// Entries of this run (earlier runs of the same lab stay in the file, untouched).
    pub entries: Vec<Entry>,
    /// File length before this run wrote anything.
    start_len: u64,
    pub owned: Owned,
    last_len: u64,
}

impl Journal {
    /// A journal kept only in memory (for `plan`, `-e` in tests, and unit tests).
    pub fn in_memory() -> Journal {
        Journal {
            path: None,
            file: None,
            entries: vec![],
            start_len: 0,
            owned: Owned::default(),
            last_len: 0,
        }
    }

    pub fn path_for(lab: &str) -> PathBuf {
        Path::new(RUN_DIR).join(format!("{lab}.journal"))
    }

    pub fn for_lab(lab: &str) -> Journal {
        let mut j = Journal::in_memory();
        j.path = Some(Journal::path_for(lab));
        j
    }

    fn file(&mut self) -> Result<&mut File> {
        if self.file.is_none() {
            if let Some(p) = &self.path {
                fs::create_dir_all(RUN_DIR).map_err(|e| Error::os(RUN_DIR, e))?;
                use std::os::unix::fs::OpenOptionsExt;
                // Without blocking, and only a regular file: a FIFO under the journal's
                // name would hang the run before its first change.
                let mut f = OpenOptions::new()
                    .create(true)
                    .read(true)
                    .append(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(p)
                    .and_then(|f| match f.metadata()?.is_file() {
                        true => Ok(f),
                        false => Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "not a regular file",
                        )),
                    })
                    .map_err(|e| Error::os(p.display().to_string(), e))?;
                cut_torn_tail(&mut f, p)?;
                self.start_len = f.metadata().map(|m| m.len()).unwrap_or(0);
                self.last_len = self.start_len;
                self.file = Some(f);
            }
        }
        Ok(self
            .file
            .as_mut()
            .expect("a journal with a path has a file"))
    }

    /// Write `op` and its undo before the op is applied.
    pub fn append(&mut self, op: &Op, undo: Vec<Op>) -> Result<()> {
        let entry = Entry {
            op: op.clone(),
            undo,
            id: None,
        };
        if self.path.is_some() {
            let mut line = seal::seal(&serde_json::to_string(&entry).expect("ops serialize"));
            line.push('\n');
            let f = self.file()?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            f.write_all(line.as_bytes())
                .map_err(|e| Error::os("writing the journal", e))?;
            self.last_len = len;
        }
        self.owned.record(op);
        self.entries.push(entry);
        Ok(())
    }

    /// The last appended op succeeded: record who its object is, on a line of its own.
    pub fn identify(&mut self, id: Ident) -> Result<()> {
        if self.path.is_some() {
            let mut line =
                seal::seal(&serde_json::to_string(&IdLine { id }).expect("ids serialize"));
            line.push('\n');
            self.file()?
                .write_all(line.as_bytes())
                .map_err(|e| Error::os("writing the journal", e))?;
        }
        if let Some(e) = self.entries.last_mut() {
            e.id = Some(id);
        }
        Ok(())
    }

    /// The last appended op failed and left nothing: take it back out.
    pub fn retract(&mut self) {
        if let Some(f) = &mut self.file {
            let _ = f.set_len(self.last_len);
        }
        self.entries.pop();
        // Rebuild ownership without the failed op.
        let mut owned = Owned::default();
        for e in &self.entries {
            owned.record(&e.op);
        }
        self.owned = owned;
    }

    /// After this run's changes were undone: drop them from the file too.
    pub fn forget_run(&mut self) {
        if let Some(f) = &mut self.file {
            let _ = f.set_len(self.start_len);
            if self.start_len == 0 {
                if let Some(p) = &self.path {
                    let _ = fs::remove_file(p);
                }
            }
        }
        self.file = None;
        self.entries.clear();
        self.owned = Owned::default();
    }

    /// Every entry of a lab's journal file, all runs (a torn last line passed over
    /// quietly: `down`, through `load_with`, is the one that reports it).
    pub fn load(lab: &str) -> Result<Option<Vec<Entry>>> {
        Ok(Journal::read(lab, false)?.map(|r| r.entries))
    }

    /// A lab's journal. Only its last line may be unreadable (cut short by a kill
    /// mid-write: that op was never applied), and that is reported on stderr; anywhere
    /// else a bad line (one that does not parse, or whose checksum does not match), or an
    /// entry that names something no script could (a path for a namespace), is an error
    /// naming the file and line, so nothing is undone on the strength of a partial read.
    /// With `force`, such lines are skipped and described in the second list.
    pub fn load_with(lab: &str, force: bool) -> Result<Option<(Vec<Entry>, Vec<String>)>> {
        let Some(read) = Journal::read(lab, force)? else {
            return Ok(None);
        };
        if let Some(n) = read.torn {
            crate::errln!(
                "netscript: {}: line {n} is cut short (a run was stopped while writing it; its change was never made): passed over",
                Journal::path_for(lab).display()
            );
        }
        Ok(Some((read.entries, read.skipped)))
    }

    fn read(lab: &str, force: bool) -> Result<Option<Read>> {
        let p = Journal::path_for(lab);
        let text = match read_regular(&p) {
            Ok(t) => String::from_utf8_lossy(&t).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::os(p.display().to_string(), e)),
        };
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        let mut out: Vec<Entry> = vec![];
        let mut skipped = vec![];
        let mut torn = None;
        let mut entry_before = false;
        // Whether a line so far had a checksum (journals written before them have none).
        let mut sealed = false;
        for (i, (n, line)) in lines.iter().enumerate() {
            let last = i + 1 == lines.len();
            let bad = match seal::open(line) {
                Err(why) => why.to_string(),
                // In a journal that has checksums, a line without one was cut short: at
                // the end, a torn last line; anywhere else, damage.
                Ok(json) if sealed && json.len() == line.len() => {
                    if last {
                        torn = Some(n + 1);
                        break;
                    }
                    "its checksum is missing (the line was cut short or changed)".to_string()
                }
                Ok(json) => {
                    sealed |= json.len() != line.len();
                    // An identity belongs to the entry on the line just before it, if
                    // that was read.
                    if let Ok(IdLine { id }) = serde_json::from_str::<IdLine>(json) {
                        if let (true, Some(e)) = (entry_before, out.last_mut()) {
                            e.id = Some(id);
                        }
                        entry_before = false;
                        continue;
                    }
                    match parse_entry(json) {
                        Ok(e) => match check_entry(&e) {
                            Ok(()) => {
                                out.push(e);
                                entry_before = true;
                                continue;
                            }
                            Err(why) => why.to_string(),
                        },
                        Err(_) if last && i > 0 => {
                            torn = Some(n + 1);
                            break;
                        }
                        Err(e) => e.to_string(),
                    }
                }
            };
            entry_before = false;
            let what = format!("{}: line {}: {bad}", p.display(), n + 1);
            match force {
                true => skipped.push(what),
                false => {
                    return Err(Error::Other(format!(
                        "{what}; nothing was undone (netscript down --force {lab} undoes what can be read)"
                    )))
                }
            }
        }
        Ok(Some(Read {
            entries: out,
            skipped,
            torn,
        }))
    }
}

/// One journal line, lines from before `Op::LinkAdd` included (see
/// `link_kind::upgrade_legacy`).
fn parse_entry(line: &str) -> serde_json::Result<Entry> {
    let mut v: serde_json::Value = serde_json::from_str(line)?;
    if let Some(op) = v.get_mut("op") {
        crate::lab::link_kind::upgrade_legacy(op);
    }
    serde_json::from_value(v)
}

/// What a journal file holds: its entries, the lines `--force` skipped, and the number
/// of a torn last line passed over.
struct Read {
    entries: Vec<Entry>,
    skipped: Vec<String>,
    torn: Option<usize>,
}

/// A run appends after whatever is in the file: a last line a killed run left without
/// its newline (its op was never applied) is cut off first, or the new line would be
/// glued to it and the damage would move to the middle of the file.
fn cut_torn_tail(f: &mut File, p: &Path) -> Result<()> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    let named = |e: std::io::Error| Error::os(p.display().to_string(), e);
    let len = f.metadata().map_err(named)?.len();
    let mut last = [0u8];
    if len == 0 || (f.read_at(&mut last, len - 1).map_err(named)? == 1 && last[0] == b'\n') {
        return Ok(());
    }
    let mut text = vec![];
    f.seek(SeekFrom::Start(0)).map_err(named)?;
    std::io::Read::read_to_end(f, &mut text).map_err(named)?;
    let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    f.set_len(keep as u64).map_err(named)?;
    crate::errln!(
        "netscript: {}: its last line was cut short (a run was stopped while writing it; its change was never made): removed",
        p.display()
    );
    Ok(())
}

/// The contents of `p` if it is a regular file. Opened without blocking and checked
/// before reading: a FIFO or a device (`/dev/zero`) under a journal's name would hang or
/// exhaust `ls` and `down` (for every lab, in `ls`).
pub(crate) fn read_regular(p: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut buf = vec![];
    f.read_to_end(&mut buf)?;
    Ok(buf)
}

/// An entry names only what a script could have: valid namespace and link names (no
/// path components), network sysctl keys.
fn check_entry(e: &Entry) -> Result<()> {
    fn check(v: &serde_json::Value, netns_op: bool) -> Result<()> {
        use crate::lab::names;
        let Some(m) = v.as_object() else {
            return Ok(());
        };
        for (k, v) in m {
            let Some(s) = v.as_str() else {
                continue;
            };
            match k.as_str() {
                "ns" | "a_ns" | "b_ns" | "to" => names::nsname(s)?,
                "name" if netns_op => names::nsname(s)?,
                "name" | "a" | "b" | "dev" | "parent" => names::ifname(s)?,
                "key" => names::sysctl_key(s).map(|_| ())?,
                _ => {}
            }
        }
        Ok(())
    }
    let mut ops = vec![&e.op];
    ops.extend(e.undo.iter());
    for op in ops {
        let v = serde_json::to_value(op).map_err(|e| Error::Other(e.to_string()))?;
        let netns_op = v["op"].as_str().is_some_and(|o| o.starts_with("netns"));
        check(&v, netns_op)?;
    }
    Ok(())
}

impl Journal {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::op::Route;

    fn s(x: &str) -> Ns {
        Some(x.into())
    }

    fn entries(ops: Vec<(Op, Option<Op>)>) -> Vec<Entry> {
        ops.into_iter()
            .map(|(op, undo)| Entry {
                op,
                id: None,
                undo: undo.into_iter().collect(),
            })
            .collect()
    }

    fn seed_container(n: &str) -> Vec<(Op, Option<Op>)> {
        let v = format!("veth-{n}");
        let br = format!("veth-{n}-br");
        let ops = vec![
            Op::NetnsAdd {
                name: n.into(),
                lo: true,
            },
            Op::plain_veth(&v, &br),
            Op::LinkMove {
                ns: None,
                name: v.clone(),
                to: s(n),
            },
            Op::LinkMaster {
                ns: None,
                name: br.clone(),
                master: Some("br0".into()),
            },
            Op::LinkSet {
                ns: None,
                name: br.clone(),
                up: true,
            },
            Op::AddrAdd {
                ns: s(n),
                dev: v.clone(),
                cidr: "10.100.0.2/24".parse().unwrap(),
                nodad: false,
            },
            Op::RouteAdd {
                ns: s(n),
                route: Route::default_via("10.100.0.1"),
            },
        ];
        ops.into_iter()
            .map(|op| (op.clone(), op.inverse()))
            .collect()
    }

    #[test]
    fn namespaces_take_their_insides_with_them() {
        let mut ops = vec![(
            Op::LinkAdd {
                ns: None,
                name: "br0".into(),
                spec: crate::lab::op::LinkSpec::Bridge {
                    mcast_snooping: None,
                    lab_mode: None,
                },
            },
            None,
        )];
        ops.extend(seed_container("c1"));
        ops.push((
            Op::Sysctl {
                ns: None,
                key: "net.ipv4.ip_forward".into(),
                value: "1".into(),
            },
            Some(Op::Sysctl {
                ns: None,
                key: "net.ipv4.ip_forward".into(),
                value: "0".into(),
            }),
        ));
        let (undo, wait) = undo(&entries(ops));
        // The bridge-side end goes with c1's end: no delete of its own, but a wait.
        assert_eq!(wait, vec![(None, "veth-c1-br".to_string())]);
        assert_eq!(
            undo,
            vec![
                Op::Sysctl {
                    ns: None,
                    key: "net.ipv4.ip_forward".into(),
                    value: "0".into()
                },
                Op::NetnsDel { name: "c1".into() },
                Op::LinkDel {
                    ns: None,
                    name: "br0".into()
                },
            ]
        );
    }

    #[test]
    fn foreign_objects_get_their_state_back_and_are_never_deleted() {
        // A link "eth9" that was there before: we moved it and set it up.
        let ops = vec![
            (
                Op::NetnsAdd {
                    name: "x".into(),
                    lo: true,
                },
                None,
            ),
            (
                Op::LinkSet {
                    ns: None,
                    name: "eth9".into(),
                    up: true,
                },
                Some(Op::LinkSet {
                    ns: None,
                    name: "eth9".into(),
                    up: false,
                }),
            ),
            (
                Op::LinkMove {
                    ns: None,
                    name: "eth9".into(),
                    to: s("x"),
                },
                Some(Op::LinkMove {
                    ns: s("x"),
                    name: "eth9".into(),
                    to: None,
                }),
            ),
        ];
        let undo = undo_plan(&entries(ops));
        assert_eq!(
            undo,
            vec![
                Op::LinkMove {
                    ns: s("x"),
                    name: "eth9".into(),
                    to: None
                },
                Op::LinkSet {
                    ns: None,
                    name: "eth9".into(),
                    up: false
                },
                Op::NetnsDel { name: "x".into() },
            ]
        );
    }

    #[test]
    fn explicit_deletions_are_not_undone_twice() {
        let mut ops = seed_container("c1");
        ops.push((Op::NetnsDel { name: "c1".into() }, None));
        let undo = undo_plan(&entries(ops));
        assert!(undo.is_empty(), "{undo:?}");
        let ops = vec![
            (Op::plain_veth("a", "b"), None),
            (
                Op::LinkDel {
                    ns: None,
                    name: "b".into(),
                },
                None,
            ),
        ];
        assert!(undo_plan(&entries(ops)).is_empty());
    }

    #[test]
    fn links_between_surviving_namespaces_are_deleted() {
        let ops = vec![(
            Op::VethAdd {
                a: "a".into(),
                a_ns: None,
                b: "b".into(),
                b_ns: s("old"),
                mtu: Some(1400),
                queues: None,
            },
            None,
        )];
        assert_eq!(
            undo_plan(&entries(ops)),
            vec![Op::LinkDel {
                ns: None,
                name: "a".into()
            }]
        );
    }

    #[test]
    fn processes_are_stopped_before_their_namespace_goes() {
        let ops = vec![
            (
                Op::NetnsAdd {
                    name: "c1".into(),
                    lo: true,
                },
                None,
            ),
            (
                Op::ProcStarted {
                    ns: s("c1"),
                    pid: 42,
                    start: 7,
                    argv: vec!["sleep".into(), "9".into()],
                    detached: true,
                    tag: String::new(),
                },
                Some(Op::ProcStop { pid: 42, start: 7 }),
            ),
        ];
        assert_eq!(
            undo_plan(&entries(ops)),
            vec![
                Op::ProcStop { pid: 42, start: 7 },
                Op::NetnsDel { name: "c1".into() }
            ]
        );
    }

    #[test]
    fn ownership_follows_moves() {
        let mut o = Owned::default();
        for (op, _) in seed_container("c1") {
            o.record(&op);
        }
        assert!(o.owns_link(&s("c1"), "veth-c1"));
        assert!(!o.owns_link(&None, "veth-c1"));
        assert!(o.owns_link(&None, "veth-c1-br"));
        assert!(o.covers(&Op::Sysctl {
            ns: s("c1"),
            key: "k".into(),
            value: "v".into()
        }));
        assert!(!o.covers(&Op::Sysctl {
            ns: None,
            key: "k".into(),
            value: "v".into()
        }));
    }

    /// Lines written before `Op::LinkAdd` existed still read, so a lab that was up
    /// across the upgrade comes down: its bridge and vxlan are deleted by index.
    #[test]
    fn legacy_link_lines_are_undone() {
        use crate::lab::op::LinkSpec;
        let br = parse_entry(r#"{"op":{"op":"bridge_add","ns":null,"name":"br0"}}"#).unwrap();
        assert_eq!(
            br.op,
            Op::LinkAdd {
                ns: None,
                name: "br0".into(),
                spec: LinkSpec::Bridge {
                    mcast_snooping: None,
                    lab_mode: None
                }
            }
        );
        let vx = parse_entry(
            r#"{"op":{"op":"vxlan_add","ns":"a","name":"vx0","vni":42,"remote":"192.0.2.2","group":null,"local":null,"dev":"eth0","port":4789}}"#,
        )
        .unwrap();
        assert!(
            matches!(&vx.op, Op::LinkAdd { spec: LinkSpec::Vxlan { vni: 42, port: 4789, dev: Some(d), .. }, .. } if d == "eth0"),
            "{vx:?}"
        );
        let mut entries = vec![br, vx];
        entries[0].id = Some(Ident::Link {
            index: 7,
            netns: None,
        });
        let (undo, _) = undo(&entries);
        assert_eq!(
            undo,
            vec![
                Op::LinkDel {
                    ns: s("a"),
                    name: "vx0".into()
                },
                Op::LinkDelMade {
                    ns: None,
                    name: "br0".into(),
                    index: 7,
                    netns: None
                },
            ]
        );
        // Today's form of the same lines reads back as written.
        for e in &entries {
            let line = serde_json::to_string(e).unwrap();
            assert!(line.contains(r#""op":"link_add""#), "{line}");
            assert_eq!(&parse_entry(&line).unwrap(), e);
        }
        // A line that is not an object is a parse error, not a panic.
        assert!(parse_entry("[1, 2]").is_err());
    }

    /// Every kind of link a lab makes is one `down` removes, and `ls` counts.
    #[test]
    fn every_created_link_is_owned_and_undone() {
        use crate::lab::op::LinkSpec;
        let specs = [
            LinkSpec::Bridge {
                mcast_snooping: None,
                lab_mode: None,
            },
            LinkSpec::Vxlan {
                vni: 1,
                remote: None,
                group: None,
                local: None,
                dev: None,
                port: 4789,
                remotes: vec![],
            },
            LinkSpec::Macvlan {
                parent: "br0".into(),
                mode: Default::default(),
                parent_ns: None,
            },
            LinkSpec::Tun {
                tap: true,
                owner: Some(1000),
                group: None,
            },
        ];
        for spec in specs {
            let op = Op::LinkAdd {
                ns: s("red"),
                name: "l0".into(),
                spec,
            };
            let es = entries(vec![(op.clone(), op.inverse())]);
            assert_eq!(
                made_links(&es),
                vec![(s("red"), "l0".to_string())],
                "{op:?}"
            );
            let (undo, _) = undo(&es);
            assert_eq!(
                undo,
                vec![Op::LinkDel {
                    ns: s("red"),
                    name: "l0".into()
                }],
                "{op:?}"
            );
        }
    }
}
