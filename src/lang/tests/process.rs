//! lang/process.rs: exec, start, processes and the `Proc` handle.

use crate::lab::op::Op;
use crate::lang::test_support::{assert_message, ns, run, value};

#[test]
fn start_records_the_process_and_exec_only_a_comment() {
    let r = run(r#"let red = netns("red");
                   red.exec("echo hi");
                   let p = red.start(["sleep", "9"], #{ detach: true });
                   start("true");
                   p.pid"#);
    let pid = r.ok().as_int().unwrap() as u32;
    let started: Vec<_> = r.ops[1..]
        .iter()
        .map(|o| match o {
            Op::ProcStarted {
                ns, argv, detached, ..
            } => (ns.clone(), argv.join(" "), *detached),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        started,
        [
            (ns("red"), "sleep 9".to_string(), true),
            (None, "/bin/sh -c true".to_string(), false),
        ]
    );
    assert!(matches!(r.ops[1], Op::ProcStarted { pid: p, .. } if p == pid));
    assert_eq!(
        &r.lines()[3..7],
        [
            "# -e:2",
            r#"# exec in namespace "red": /bin/sh -c 'echo hi'"#,
            "# -e:3",
            "ip netns exec red sleep 9 &",
        ]
    );
}

#[test]
fn exec_answers_with_code_and_output() {
    assert_eq!(
        value(r#"let r = exec(["true"]); `${r.code} [${r.stdout}] [${r.stderr}]`"#),
        "0 [] []"
    );
}

#[test]
fn processes_lists_this_runs_processes_in_the_namespace() {
    assert_eq!(
        value(
            r#"let red = netns("red");
                 let p = red.start("sleep 9");
                 start("true");
                 let l = red.processes();
                 `${l.len()} ${l[0].pid == p.pid} ${l[0].ns} ${l[0].running} ${l[0].detached} ${p.running()}`"#
        ),
        "1 true red true false true"
    );
}

#[test]
fn commands_are_checked() {
    for (code, why) in [
        (r#"exec("")"#, "the command is empty"),
        (r#"exec("   ")"#, "the command is empty"),
        (r#"exec([])"#, "the command is empty"),
        (r#"start([""])"#, "the command is empty"),
        (r#"exec(["a\x00b"])"#, "an argument contains NUL"),
        (
            r#"exec(5)"#,
            "the command must be an argv array or a shell string, not int",
        ),
        (
            r#"start(["true"], #{ detached: true })"#,
            r#"unknown option "detached" (known: detach)"#,
        ),
        (
            r#"start(["true"], #{ detach: 1 })"#,
            "option detach must be true or false, not int",
        ),
    ] {
        let shown = code.replace(r"\x00", r"\0");
        assert_message(code, &shown, &[why]);
    }
    assert_message(
        r#"let g = netns("ghost"); netns_delete(g); g.exec("true")"#,
        r#"ghost.exec("true")"#,
        &[r#"namespace "ghost" does not exist"#],
    );
}
