//! A run: the backend, the journal, and the processes the script started. Every change
//! goes through `Session::apply`, which journals it (write-ahead), traces it, applies it.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::lab::journal::Journal;
use crate::lab::op::{Ns, Op};

/// How long a started process is watched for an early exit (see `Session::check_started`).
const FIRST_MOMENT: std::time::Duration = std::time::Duration::from_secs(1);

/// A started process not yet seen running past its first moment.
struct Watched {
    pid: u32,
    /// The call that started it, as the script wrote it.
    call: String,
    since: std::time::Instant,
}

/// A veth creation held back for a moment: if the next ops move its ends into
/// namespaces, they are folded into the creation (moving a link costs the kernel an RCU
/// grace period, ~16 ms; creating the end in place costs nothing extra).
///
/// Everything that can be known is checked when the call is made (see `Session::veth`),
/// so a held-back creation fails later only when the kernel refuses for reasons of its
/// own; then the error still names the call and points at its line. It is applied before
/// anything else observable happens: any other change, a query, an exec, a probe, a
/// print, the end of a REPL input, the end of the script.
struct Deferred {
    op: Op,
    call: String,
    at: At,
    /// The `move_to` calls folded into it.
    moves: Vec<(String, At)>,
}

/// Where a call was made, to point its errors at.
#[derive(Clone, Debug)]
pub struct At {
    /// The file (a module's path), `None` for the script itself.
    pub source: Option<String>,
    pub line: u16,
    pub col: u16,
}

pub struct Session {
    backend: Box<dyn Backend>,
    pending: Option<Deferred>,
    pub journal: Journal,
    /// Print each change as its shell command, as it is made (`--trace`).
    pub trace: bool,
    /// Processes started by the script: (pid, detached).
    pub procs: Vec<(u32, bool)>,
    /// A dry run against the model (`netscript plan`).
    pub planning: bool,
    /// The script's file, as plans cite it.
    pub script: String,
    /// In a plan: a probe or exec has answered with a made-up result.
    pub guessed: bool,
    /// Namespaces this run made whose links only this run can have made: while the run
    /// has started no process (which could add links anywhere), what is in them is what
    /// the journal says, and a name can be checked free without asking the kernel.
    pristine: std::collections::HashSet<String>,
    /// This run has started a process.
    spawned: bool,
    /// The lab this run builds (none for a dry run), for sysctls shared with other labs.
    pub lab: Option<String>,
    /// One-line notices already printed in this run (each is printed once).
    pub notices: std::collections::HashSet<String>,
    /// Started processes that may yet fail to start (see `check_started`).
    watching: Vec<Watched>,
    /// Make links as plain `ip` does (`--kernel-defaults`; see `lab::tuning`).
    pub kernel_defaults: bool,
    /// Bridges every new bridge is in lab mode by default (`--lab-mode`).
    pub lab_mode: bool,
    /// The bridges in lab mode this run made: ports attached to them get
    /// `Op::PortLabMode`.
    pub lab_bridges: std::collections::HashSet<(Ns, String)>,
    /// The links this run gave an MTU (`link.mtu`), the last one given: only a port
    /// joining one of those needs the journal read (see `lang::segment`).
    pub mtu_given: std::collections::HashMap<(Ns, String), u32>,
    /// The links this run put in lab mode (`Op::PortLabMode`) that are still ports.
    lab_ports: std::collections::HashSet<(Ns, String)>,
    /// The bridge each link this run made a port is on: a lab-mode bridge deleted takes
    /// its ports out of lab mode first.
    port_of: std::collections::HashMap<(Ns, String), String>,
}

impl Session {
    pub fn new(backend: Box<dyn Backend>, journal: Journal, trace: bool) -> Session {
        Session {
            backend,
            pending: None,
            journal,
            trace,
            procs: vec![],
            planning: false,
            guessed: false,
            script: "-e".into(),
            pristine: Default::default(),
            spawned: false,
            lab: None,
            notices: Default::default(),
            watching: vec![],
            kernel_defaults: crate::lab::tuning::kernel_defaults(),
            lab_mode: crate::lab::tuning::lab_mode(),
            lab_bridges: Default::default(),
            mtu_given: Default::default(),
            lab_ports: Default::default(),
            port_of: Default::default(),
        }
    }

    /// Watch a process `call` just started: if it exits with a failure in its first
    /// moment (a server that could not bind), the next probe or the end of the run says so.
    pub fn watch(&mut self, pid: u32, call: String) {
        self.watching.push(Watched {
            pid,
            call,
            since: std::time::Instant::now(),
        });
    }

    /// The script asked about this process's end itself (`wait`, `kill`).
    pub fn unwatch(&mut self, pid: u32) {
        self.watching.retain(|w| w.pid != pid);
    }

    /// Warn, once each, about watched processes that have exited with a failure:
    /// `warning: red.start("...") exited with 1: <its last line of stderr>`. Not an
    /// error: the run goes on. A process seen running past its first moment is no
    /// longer watched.
    pub fn check_started(&mut self) {
        if self.planning || self.watching.is_empty() {
            return;
        }
        for w in std::mem::take(&mut self.watching) {
            if self.backend.proc_running(w.pid) {
                if w.since.elapsed() < FIRST_MOMENT {
                    self.watching.push(w);
                }
                continue;
            }
            // It has exited: the status is at hand.
            let Ok(code) = self.backend.proc_wait(w.pid) else {
                continue;
            };
            if code == 0 {
                continue;
            }
            let why = self
                .lab
                .as_deref()
                .and_then(|lab| crate::lab::output::last_line(lab, w.pid))
                .map(|l| format!(": {l}"))
                .unwrap_or_default();
            crate::errln!("warning: {} exited with {code}{why}", w.call);
        }
    }

    /// Note how this run's processes that have ended ended, for `ps` and `logs` later.
    fn record_exits(&mut self) {
        let Some(lab) = self.lab.clone() else { return };
        for (pid, _, _) in crate::lab::journal::started(&self.journal.entries) {
            if !self.backend.proc_running(pid) {
                if let Ok(code) = self.backend.proc_wait(pid) {
                    crate::lab::output::record_exit(&lab, pid, code);
                }
            }
        }
    }

    /// Where the next changes come from, for a plan's comments.
    pub fn locate(&mut self, at: String) {
        self.backend.locate(at);
    }

    pub fn note(&mut self, line: String) {
        self.backend.note(line);
    }

    /// A pause in a plan (what the script waited for may take time in the shell too).
    pub fn note_sleep(&mut self, ms: u64) {
        self.backend.pause(ms);
    }

    /// The plan written so far, when the backend is the model.
    pub fn plan(&self, title: &str) -> Option<String> {
        self.backend.plan(title)
    }

    /// The backend, for questions about the network: anything held back is applied first.
    pub fn query<T>(&mut self, f: impl FnOnce(&mut dyn Backend) -> Result<T>) -> Result<T> {
        self.flush()?;
        f(self.backend.as_mut())
    }

    /// A probe, an exec or a process: in a plan its answer is made up, so what the
    /// script concludes from it is not known (assertions after it are not checked).
    pub fn probe<T>(&mut self, f: impl FnOnce(&mut dyn Backend) -> Result<T>) -> Result<T> {
        self.guessed |= self.planning;
        self.check_started();
        self.query(f)
    }

    /// An exec or a started process: as `probe`, and from now on a namespace may hold
    /// links this run did not make.
    pub fn spawn<T>(&mut self, f: impl FnOnce(&mut dyn Backend) -> Result<T>) -> Result<T> {
        // What it writes to the terminal (a shell's prompt) starts on a clean line.
        crate::progress::clear();
        self.spawned = true;
        self.pristine.clear();
        self.probe(f)
    }

    /// For process bookkeeping, which does not depend on the network's state.
    pub fn processes(&mut self) -> &mut dyn Backend {
        self.guessed |= self.planning;
        self.backend.as_mut()
    }

    /// Whether a link exists, counting a veth that is held back.
    pub fn check_link(&mut self, ns: &Ns, name: &str) -> Result<()> {
        if self.held_back(ns, name) {
            return Ok(());
        }
        self.query(|b| b.link(ns, name).map(|_| ()))
    }

    fn held_back(&self, ns: &Ns, name: &str) -> bool {
        matches!(&self.pending, Some(Deferred {
            op: Op::VethAdd { a, a_ns, b, b_ns, .. },
            ..
        }) if (a_ns == ns && a == name) || (b_ns == ns && b == name))
    }

    /// That `name` can be made in `ns`: the namespace exists and holds no link (or
    /// held-back veth end) of that name.
    fn check_free(&mut self, ns: &Ns, name: &str) -> Result<()> {
        if let Some(n) = ns {
            if !self.backend.netns_exists(n) {
                return Err(Error::Missing(crate::lab::op::ns_label(ns)));
            }
        }
        let taken = match ns {
            Some(n) if self.pristine.contains(n) => {
                name == "lo" || self.held_back(ns, name) || self.journal.owned.owns_link(ns, name)
            }
            _ => self.held_back(ns, name) || self.backend.link_exists(ns, name)?,
        };
        match taken {
            true => Err(Error::Exists(crate::lab::op::link_label(ns, name))),
            false => Ok(()),
        }
    }

    /// Create a veth, possibly a moment later (see `Deferred`). What can fail is
    /// checked now, so its errors are this call's.
    pub fn veth(&mut self, op: Op, call: String, at: At) -> Result<()> {
        self.flush()?;
        if let Op::VethAdd {
            a, a_ns, b, b_ns, ..
        } = &op
        {
            self.check_free(a_ns, a)?;
            self.check_free(b_ns, b)?;
        }
        self.pending = Some(Deferred {
            op,
            call,
            at,
            moves: vec![],
        });
        Ok(())
    }

    /// `ip link set DEV netns NS`: folded into a held-back creation of DEV when it
    /// can be (the move is checked as if it ran now), else applied now.
    pub fn move_link(&mut self, op: Op, call: String, at: At) -> Result<()> {
        if let Op::LinkMove {
            ns,
            name,
            to: Some(to),
        } = &op
        {
            // (A missing target is the kernel's error, at this call, below.)
            if self.backend.netns_exists(to) {
                // Taken where it goes: say where (the kernel would only say "exists").
                if let Err(e) = self.check_free(&Some(to.clone()), name) {
                    self.flush()?;
                    return Err(e);
                }
                if self.held_back(ns, name) {
                    self.fuse(&op);
                    if let Some(d) = &mut self.pending {
                        d.moves.push((call, at));
                    }
                    return Ok(());
                }
            }
        }
        self.apply(op)
    }

    /// Apply what is held back. Its error is the deferred call's.
    pub fn flush(&mut self) -> Result<()> {
        match self.pending.take() {
            None => Ok(()),
            Some(d) => self.apply_now(d.op).map_err(|e| {
                let mut call = d.call;
                for (m, at) in &d.moves {
                    call.push_str(&format!(" (with {m}, line {}, folded in)", at.line));
                }
                Error::Deferred {
                    call,
                    at: d.at,
                    inner: Box::new(e),
                }
            }),
        }
    }

    /// Fold a move of a held-back veth end into its creation.
    fn fuse(&mut self, op: &Op) {
        if let (
            Some(Deferred {
                op: Op::VethAdd {
                    a, a_ns, b, b_ns, ..
                },
                ..
            }),
            Op::LinkMove { ns, name, to },
        ) = (&mut self.pending, op)
        {
            if a_ns == ns && a == name {
                *a_ns = to.clone();
            } else if b_ns == ns && b == name {
                *b_ns = to.clone();
            }
        }
    }

    /// An op of an earlier run of this lab (its journal, oldest first): its bridges in
    /// lab mode are known to this run, so ports this run gives them get lab mode too.
    pub fn remember_bridge(&mut self, op: &Op) {
        match op {
            Op::LinkAdd {
                ns,
                name,
                spec:
                    crate::lab::link_kind::LinkSpec::Bridge {
                        lab_mode: Some(true),
                        ..
                    },
            } => {
                self.lab_bridges.insert((ns.clone(), name.clone()));
            }
            _ => self.follow_bridges(op),
        }
    }

    /// What this run knows of its bridges (lab mode, the MTU given) goes with the link:
    /// a bridge deleted takes it along (a plain bridge made again under its name is
    /// plain), one moved carries it to its new namespace.
    fn follow_bridges(&mut self, op: &Op) {
        match op {
            Op::PortLabMode { ns, name, on } => {
                let key = (ns.clone(), name.clone());
                match on {
                    true => self.lab_ports.insert(key),
                    false => self.lab_ports.remove(&key),
                };
            }
            // Off its bridge (or onto another: lab mode follows if that one has it).
            Op::LinkMaster { ns, name, master } => {
                let key = (ns.clone(), name.clone());
                self.lab_ports.remove(&key);
                match master {
                    Some(m) => self.port_of.insert(key, m.clone()),
                    None => self.port_of.remove(&key),
                };
            }
            Op::LinkDel { ns, name } => {
                let key = (ns.clone(), name.clone());
                self.lab_bridges.remove(&key);
                self.mtu_given.remove(&key);
                self.lab_ports.remove(&key);
                self.port_of.remove(&key);
            }
            Op::NetnsDel { name } => {
                let gone = |k: &(Ns, String)| k.0.as_ref() == Some(name);
                self.lab_bridges.retain(|k| !gone(k));
                self.mtu_given.retain(|k, _| !gone(k));
                self.lab_ports.retain(|k| !gone(k));
                self.port_of.retain(|k, _| !gone(k));
            }
            Op::LinkMove { ns, name, to } => {
                let key = (ns.clone(), name.clone());
                self.lab_ports.remove(&key);
                self.port_of.remove(&key);
                let moved = (to.clone(), name.clone());
                if self.lab_bridges.remove(&key) {
                    self.lab_bridges.insert(moved.clone());
                }
                if let Some(mtu) = self.mtu_given.remove(&key) {
                    self.mtu_given.insert(moved, mtu);
                }
            }
            _ => {}
        }
    }

    pub fn apply(&mut self, op: Op) -> Result<()> {
        self.flush()?;
        // A port in lab mode leaving it (off its bridge, or onto a plain one): lab mode
        // is a port's setting, so it goes first, while the link is still that port, and
        // its IPv6 comes back with it.
        let offs = self.leaving_lab_mode(&op);
        if !offs.is_empty() {
            let mut done: Vec<Op> = vec![];
            let mut left = Ok(());
            for off in offs {
                let on = off.inverse();
                if let Err(e) = self.apply_now(off) {
                    left = Err(e);
                    break;
                }
                done.extend(on);
            }
            // The ports did not leave: they stay as they were.
            if let Err(e) = left.and_then(|()| self.apply_now(op)) {
                for on in done.into_iter().rev() {
                    let _ = self.apply_now(on);
                }
                return Err(e);
            }
            return Ok(());
        }
        // A port in lab mode given an MTU of 1280 or more: if it had less, the kernel had
        // taken its IPv6 away and now makes it anew, on; lab mode turns it off again.
        let again = match &op {
            Op::LinkMtu { ns, name, mtu }
                if *mtu >= 1280 && self.lab_ports.contains(&(ns.clone(), name.clone())) =>
            {
                Some(Op::PortLabMode {
                    ns: ns.clone(),
                    name: name.clone(),
                    on: true,
                })
            }
            _ => None,
        };
        self.apply_now(op)?;
        match again {
            Some(op) => self.apply_now(op),
            None => Ok(()),
        }
    }

    /// `Op::PortLabMode` off for each port in lab mode that `op` takes off its bridge:
    /// the port itself (`nomaster`, or onto a bridge that is not in lab mode), or every
    /// port of a lab-mode bridge it deletes (in name order).
    fn leaving_lab_mode(&self, op: &Op) -> Vec<Op> {
        let off = |ns: &Ns, name: &str| Op::PortLabMode {
            ns: ns.clone(),
            name: name.to_string(),
            on: false,
        };
        match op {
            Op::LinkMaster { ns, name, master } => {
                let stays = master
                    .as_ref()
                    .is_some_and(|m| self.lab_bridges.contains(&(ns.clone(), m.clone())));
                match !stays && self.lab_ports.contains(&(ns.clone(), name.clone())) {
                    true => vec![off(ns, name)],
                    false => vec![],
                }
            }
            Op::LinkDel { ns, name } if self.lab_bridges.contains(&(ns.clone(), name.clone())) => {
                let mut ports: Vec<&String> = self
                    .lab_ports
                    .iter()
                    .filter(|k| k.0 == *ns && self.port_of.get(*k) == Some(name))
                    .map(|k| &k.1)
                    .collect();
                ports.sort();
                ports.into_iter().map(|p| off(ns, p)).collect()
            }
            _ => vec![],
        }
    }

    fn apply_now(&mut self, op: Op) -> Result<()> {
        // A sysctl other labs may change too: read, claimed and written under the
        // claims lock (see claims), held to the end of this function.
        let held = match (&self.lab, &op) {
            (Some(_), Op::Sysctl { .. }) => Some(crate::lab::claims::hold()?),
            _ => None,
        };
        // Changes to what this run created need no undo of their own; for anything
        // else that is a state change, read the state it replaces first.
        let undo = if self.journal.owned.covers(&op) {
            vec![]
        } else if op.needs_prior_state() {
            self.backend.restore_op(&op)?
        } else {
            op.inverse().into_iter().collect()
        };
        // A sysctl other labs may change too: its changes are stacked across labs.
        let claimed = match (&held, &self.lab, &op, undo.as_slice()) {
            (Some(held), Some(lab), Op::Sysctl { ns, key, .. }, [Op::Sysctl { value, .. }]) => {
                crate::lab::claims::claim(held, lab, ns, key, value.clone())?;
                Some((lab.clone(), ns.clone(), key.clone()))
            }
            _ => None,
        };
        self.journal.append(&op, undo)?;
        if matches!(op, Op::NetnsDel { .. }) {
            // The script's next line may reuse the names of the veth ends outside it.
            self.backend.expect_peers_gone(&op.ns());
        }
        match self.backend.apply(&op) {
            Ok(()) => {
                if let Some(id) = self.backend.identify(&op) {
                    self.journal.identify(id)?;
                }
                match &op {
                    Op::LinkMtu { ns, name, mtu } => {
                        self.mtu_given.insert((ns.clone(), name.clone()), *mtu);
                    }
                    Op::NetnsAdd { name, .. } if !self.spawned => {
                        self.pristine.insert(name.clone());
                    }
                    // A link moved in may be anyone's: ask the kernel from now on.
                    Op::NetnsDel { name } | Op::LinkMove { to: Some(name), .. } => {
                        self.pristine.remove(name);
                    }
                    _ => {}
                }
                self.follow_bridges(&op);
                // A script's own deletion waits for the veth ends outside to go now;
                // teardown instead deletes all its namespaces, then waits once.
                if matches!(op, Op::NetnsDel { .. }) {
                    self.backend.settle();
                }
                if self.trace {
                    for line in op.render() {
                        crate::errln!("{}", crate::style::dim(&format!("+ {line}")));
                    }
                }
                crate::progress::changed(&op);
                Ok(())
            }
            Err(e) => {
                self.journal.retract();
                if let (Some(held), Some((lab, ns, key))) = (&held, claimed) {
                    crate::lab::claims::withdraw(held, &lab, &ns, &key);
                }
                Err(e)
            }
        }
    }

    /// Stop the processes this run started and did not detach, and what its `exec`
    /// calls left running.
    pub fn stop_processes(&mut self) {
        // A run that started nothing has nothing to stop (and a process someone else
        // runs in one of its namespaces is theirs until the namespace goes).
        if !self.spawned {
            return;
        }
        // What failed on its own is reported before the rest is stopped.
        self.check_started();
        self.watching.clear();
        // Everything inside a namespace this run made is its own, unless detached.
        let namespaces = self.journal.owned.namespaces();
        let procs = std::mem::take(&mut self.procs);
        if let Err(e) = self.backend.stop_run(&procs, &namespaces) {
            crate::errln!("netscript: stopping this run's processes: {e}");
        }
        // Detached ones stay the lab's.
        self.procs = procs.into_iter().filter(|(_, d)| *d).collect();
        self.record_exits();
    }

    /// Undo everything this run created, newest first; keeps going past errors and
    /// returns them all.
    pub fn teardown(&mut self) -> Vec<Error> {
        // Never applied, so nothing to undo.
        self.pending = None;
        self.stop_processes();
        // The detached ones too, and anything else inside the namespaces about to go
        // (a process there keeps its namespace, and the veths in it, alive).
        let started = crate::lab::journal::started(&self.journal.entries);
        let namespaces = self.journal.owned.namespaces();
        let mut errors: Vec<Error> = self
            .backend
            .stop_lab(&started, &namespaces)
            .err()
            .into_iter()
            .collect();
        self.procs.clear();
        let (undo, wait) = crate::lab::journal::undo(&self.journal.entries);
        errors.extend(undo_ops(
            self.backend.as_mut(),
            &undo,
            &wait,
            self.trace,
            self.lab.as_deref(),
        ));
        // Their output goes with them.
        if let Some(lab) = &self.lab {
            let pids: Vec<u32> = started.iter().map(|(pid, _, _)| *pid).collect();
            crate::lab::output::remove(lab, &pids);
        }
        self.journal.forget_run();
        errors
    }

    /// At the end of a run: apply what is held back, wait for deleted links to go.
    pub fn finish(&mut self) -> Result<()> {
        self.flush()?;
        self.backend.settle();
        Ok(())
    }
}

/// Apply an undo plan; an object already gone is not an error.
pub fn undo_ops(
    backend: &mut dyn Backend,
    undo: &[Op],
    wait: &[(Ns, String)],
    trace: bool,
    lab: Option<&str>,
) -> Vec<Error> {
    let mut errors = vec![];
    for op in undo {
        // Sysctl changes are stacked across labs (see claims).
        let restore;
        // Held until the value is written back (see claims).
        let held = match (lab, op) {
            (Some(_), Op::Sysctl { .. }) => match crate::lab::claims::hold() {
                Ok(h) => Some(h),
                // Each lab then restores what its own journal says.
                Err(e) => {
                    crate::errln!("netscript: {e}; sysctls are restored from each lab's journal");
                    None
                }
            },
            _ => None,
        };
        let op = match (lab, op) {
            (Some(lab), Op::Sysctl { ns, key, .. }) => {
                let undo = match &held {
                    Some(h) => crate::lab::claims::release(h, lab, ns, key),
                    None => crate::lab::claims::Undo::Unknown,
                };
                match undo {
                    crate::lab::claims::Undo::Keep => continue,
                    crate::lab::claims::Undo::Restore(value) => {
                        restore = Op::Sysctl {
                            ns: ns.clone(),
                            key: key.clone(),
                            value,
                        };
                        &restore
                    }
                    crate::lab::claims::Undo::Unknown => op,
                }
            }
            _ => op,
        };
        if trace {
            for line in op.render() {
                crate::errln!("{}", crate::style::dim(&format!("- {line}")));
            }
        }
        match backend.apply(op) {
            Ok(()) => {}
            Err(e) if e.is_gone() => {
                // Something this lab made and recorded was removed by something else.
                if let (Op::LinkDelMade { .. } | Op::NetnsDelMade { .. }, Error::Missing(what)) =
                    (op, &e)
                {
                    crate::errln!("netscript: {what} was already gone (removed by something else)");
                }
            }
            Err(e) => errors.push(e),
        }
    }
    backend.wait_gone(wait);
    errors
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
