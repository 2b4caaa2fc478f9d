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
    Err(fail(
        c,
        format!(
            "the command must be an argv array or a shell string, not {}",
            cmd.type_name()
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

pub fn register(engine: &mut Engine, ctx: &Ctx) {
    // ip netns exec NS CMD...
    ns_fn!(engine, ctx, "exec", |cx, ns, cmd: Dynamic| -> Map {
        let c = call(Some(&ns), "exec", &[cmd.clone()]);
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
        let c = call(Some(&ns), "start", &[cmd.clone()]);
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

    engine.register_get("pid", |p: &mut Proc| p.pid as i64);
    let cx = ctx.clone();
    engine.register_fn("running", move |p: &mut Proc| {
        cx.borrow_mut().processes().proc_running(p.pid)
    });
    let cx = ctx.clone();
    engine.register_fn("wait", move |p: &mut Proc| -> RhaiResult<i64> {
        cx.borrow_mut()
            .processes()
            .proc_wait(p.pid)
            .map_err(|e| interrupted_or(&format!("Proc({}).wait()", p.pid), e))
    });
    let cx = ctx.clone();
    engine.register_fn("kill", move |p: &mut Proc| -> RhaiResult<()> {
        cx.borrow_mut()
            .processes()
            .proc_kill(p.pid)
            .or_fail(&format!("Proc({}).kill()", p.pid))
    });
}
