//! Commands inside a namespace: exec (run and wait) and start (background, `Proc`).

use rhai::{Dynamic, Engine, Map};

use super::{call, fail, Ctx, Opts, OrFail, Proc, RhaiResult, INTERRUPTED};
use crate::backend::Command;
use crate::lab::op::Op;
use crate::ns_fn;

fn command(c: &str, cmd: &Dynamic) -> RhaiResult<Command> {
    if let Some(s) = cmd.clone().try_cast::<String>() {
        if s.trim().is_empty() {
            return Err(fail(c, "the command is empty"));
        }
        return Ok(Command::Shell(s));
    }
    if let Some(a) = cmd.clone().try_cast::<rhai::Array>() {
        let argv: Vec<String> = a.iter().map(|x| x.to_string()).collect();
        if argv.is_empty() || argv[0].is_empty() {
            return Err(fail(c, "the command is empty"));
        }
        if argv.iter().any(|x| x.contains('\0')) {
            return Err(fail(c, "an argument contains NUL"));
        }
        return Ok(Command::Argv(argv));
    }
    if let Some(e) = super::receiver_misplaced(c, cmd) {
        return Err(e);
    }
    Err(fail(
        c,
        format!(
            "the command must be an argv array or a shell string, not {}",
            super::type_label(cmd)
        ),
    ))
}

/// A wait cut short by SIGINT / SIGTERM is the run's interruption, not the call's error.
fn interrupted_or(c: &str, e: crate::error::Error) -> Box<rhai::EvalAltResult> {
    match crate::signals::interrupted() {
        true => INTERRUPTED.into(),
        false => fail(c, e),
    }
}

fn start(cx: &Ctx, c: &str, ns: &super::Netns, cmd: &Dynamic, opts: Map) -> RhaiResult<Proc> {
    let o = Opts::new(c, opts, &["detach"])?;
    let detach = o.bool("detach")?.unwrap_or(false);
    let cmd = command(c, cmd)?;
    let mut s = cx.borrow_mut();
    let pid = s.spawn(|b| b.start(&ns.ns, &cmd)).or_fail(c)?;
    s.procs.push((pid, detach));
    s.watch(pid, c.to_string());
    let start = s.processes().proc_start_time(pid);
    let tag = s.processes().proc_tag(pid);
    s.apply(Op::ProcStarted {
        ns: ns.ns.clone(),
        pid,
        start,
        argv: cmd.argv(),
        detached: detach,
        tag,
    })
    .or_fail(c)?;
    Ok(Proc { pid })
}

/// `ns.processes()`: the lab's processes started in `ns`, this run's as the backend
/// knows them (it saw their ends), earlier runs' as the journal and /proc tell.
fn processes(cx: &Ctx, ns: &super::Netns) -> rhai::Array {
    use crate::lab::{journal, procs};
    let mut s = cx.borrow_mut();
    let lab = s.lab.clone().unwrap_or_default();
    // The lab's whole journal (earlier runs too); without a lab, this run's.
    let loaded = match lab.is_empty() {
        true => None,
        false => journal::Journal::load(&lab).ok().flatten(),
    };
    let entries = loaded.unwrap_or_else(|| s.journal.entries.clone());
    let mine: Vec<u32> = journal::started(&s.journal.entries)
        .iter()
        .map(|p| p.0)
        .collect();
    let mut out = rhai::Array::new();
    for mut p in procs::of_entries(&lab, &entries) {
        if p.ns != ns.ns {
            continue;
        }
        if mine.contains(&p.pid) {
            let b = s.processes();
            p.running = b.proc_running(p.pid);
            p.exit = match p.running {
                true => None,
                false => b.proc_wait(p.pid).ok(),
            };
        }
        let mut m = Map::new();
        m.insert("pid".into(), (p.pid as i64).into());
        m.insert("ns".into(), p.ns_name().to_string().into());
        m.insert("command".into(), p.command.clone().into());
        m.insert("running".into(), p.running.into());
        m.insert("detached".into(), p.detached.into());
        m.insert(
            "exit".into(),
            p.exit.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
        );
        out.push(m.into());
    }
    out
}

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip netns exec NS CMD...
    ns_fn!(engine, ctx, "exec", |cx, ns, cmd: Dynamic| -> Map {
        let c = call(Some(&ns), "exec", std::slice::from_ref(&cmd));
        let command = command(&c, &cmd)?;
        let r = cx
            .borrow_mut()
            .spawn(|b| b.exec(&ns.ns, &command))
            .map_err(|e| interrupted_or(&c, e))?;
        let mut m = Map::new();
        m.insert("code".into(), r.code.into());
        m.insert("stdout".into(), r.stdout.into());
        m.insert("stderr".into(), r.stderr.into());
        Ok(m)
    });
    // ip netns exec NS $SHELL, on the terminal; returns the shell's exit status.
    ns_fn!(engine, ctx, "shell", |cx, ns| -> i64 {
        let c = call(Some(&ns), "shell", &[]);
        let (cmd, env) = crate::ui::enter::shell(&ns.name());
        cx.borrow_mut()
            .spawn(|b| b.interactive(&ns.ns, &cmd, &env))
            .or_fail(&c)
    });
    // ip netns exec NS CMD... &
    ns_fn!(engine, ctx, "start", |cx, ns, cmd: Dynamic| -> Proc {
        let c = call(Some(&ns), "start", std::slice::from_ref(&cmd));
        start(cx, &c, &ns, &cmd, Map::new())
    });
    ns_fn!(engine, ctx, "start", |cx,
                                  ns,
                                  cmd: Dynamic,
                                  opts: Map|
     -> Proc {
        let c = call(Some(&ns), "start", &[cmd.clone(), opts.clone().into()]);
        start(cx, &c, &ns, &cmd, opts)
    });

    // The lab's processes in NS (pid, ns, command, running, detached, exit).
    ns_fn!(engine, ctx, "processes", |cx, ns| -> rhai::Array {
        Ok(processes(cx, &ns))
    });

    engine.register_get("pid", |p: &mut Proc| p.pid as i64);
    // What it printed so far: the last 1 MiB of each stream (see `lab::output`).
    let cx = ctx.clone();
    engine.register_fn("output", move |p: &mut Proc| -> Map {
        let mut s = cx.borrow_mut();
        // Whatever a held-back change would do is done before we look.
        let _ = s.flush();
        let (out, err) = match &s.lab {
            Some(lab) => crate::lab::output::read(lab, p.pid),
            None => Default::default(),
        };
        let mut m = Map::new();
        m.insert("stdout".into(), out.into());
        m.insert("stderr".into(), err.into());
        m
    });
    let cx = ctx.clone();
    engine.register_fn("running", move |p: &mut Proc| {
        cx.borrow_mut().processes().proc_running(p.pid)
    });
    let cx = ctx.clone();
    engine.register_fn("wait", move |p: &mut Proc| -> RhaiResult<i64> {
        let mut s = cx.borrow_mut();
        s.unwatch(p.pid);
        s.processes()
            .proc_wait(p.pid)
            .map_err(|e| interrupted_or(&format!("Proc({}).wait()", p.pid), e))
    });
    let cx = ctx.clone();
    engine.register_fn("kill", move |p: &mut Proc| -> RhaiResult<()> {
        let mut s = cx.borrow_mut();
        s.unwatch(p.pid);
        s.processes()
            .proc_kill(p.pid)
            .or_fail(&format!("Proc({}).kill()", p.pid))
    });
}
