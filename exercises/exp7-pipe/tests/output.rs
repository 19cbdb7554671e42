//! Runs the real `exp7-pipe` binary and checks it prints seed 000's lines,
//! and that a signal ends it while the receiver waits.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract::{self, Stop};
use ipc_testkit::seed000;
use ipc_testkit::{
    Pid, Run, Running, handout, own_process_group, run, run_into_full_disk, run_into_head,
    wait_blocked,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-pipe");

/// The lines of `run` that start with `prefix`, in order.
fn lines_with<'a>(run: &'a Run, prefix: &str) -> Vec<&'a str> {
    run.stdout_lines()
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

#[test]
fn prints_the_seed_lines_sender_first() {
    run(BIN, &[]).assert_prints(&seed000::pipe());
}

#[test]
fn fast_prints_the_same_lines() {
    run(BIN, &["--fast"]).assert_prints(&seed000::pipe());
}

#[test]
fn concurrent_keeps_each_process_in_order() {
    // The interleaving of the two processes changes from run to run; the
    // order of each one's own lines never does.
    for _ in 0..5 {
        let run = run(BIN, &["--concurrent", "--fast"]);
        run.assert_code(0).assert_no_panic();
        assert_eq!(run.stdout_lines().len(), 7, "{run}");
        assert_eq!(lines_with(&run, "Sent "), seed000::PIPE_SENT, "{run}");
        assert_eq!(
            lines_with(&run, "Received "),
            seed000::PIPE_RECEIVED,
            "{run}"
        );
        assert_eq!(run.stderr, "", "{run}");
    }
}

#[test]
fn writing_with_no_receiver_fails_without_sigpipe() {
    let run = run(BIN, &["--no-receiver"]);
    run.assert_code(1).assert_no_panic();
    assert_eq!(run.stdout, "", "nothing was sent\n{run}");
    assert_eq!(
        run.stderr_lines(),
        [
            "p1: the other end is gone",
            "exp7-pipe: p1 exited with code 1"
        ],
        "{run}"
    );
}

#[test]
fn a_closed_stdout_ends_every_process_quietly() {
    for args in [&[][..], &["--concurrent"]] {
        for _ in 0..5 {
            // The program's own exit status, not head's.
            let run = run_into_head(BIN, args, b"");
            run.assert_no_panic();
            assert_eq!(run.stdout_lines().len(), 1, "{run}");
            assert!(
                run.stdout.starts_with("Sent the message: First")
                    || run.stdout.starts_with("Received the message: First"),
                "{run}"
            );
            if args.is_empty() || run.code() == Some(0) {
                // The sender has printed all it had to; the receiver's
                // first line meets the closed pipe and it ends with 0.
                run.assert_code(0);
                assert_eq!(run.stderr, "", "{run}");
            } else {
                // Concurrent: one process, stopped by its closed output,
                // may be gone while the other still needs it. The receiver
                // gone first: the sender's next message has nowhere to go.
                // The sender gone first (after its first message, before
                // END): the receiver sees the stream end early. Either one
                // says so, and nothing else.
                run.assert_code(1);
                let who = if run.stderr.starts_with("p2") {
                    "p2"
                } else {
                    "p1"
                };
                assert_eq!(
                    run.stderr_lines(),
                    [
                        format!("{who}: the other end is gone"),
                        format!("exp7-pipe: {who} exited with code 1")
                    ],
                    "{run}"
                );
            }
        }
    }
}

#[test]
fn redirected_to_a_file_each_line_appears_once() {
    contract::assert_each_line_once_in_a_file(BIN, &[], &seed000::pipe());
}

/// `exp7-pipe --concurrent --delay 60` (or `mode` instead of
/// `--concurrent`) in a group of its own, once both children are blocked:
/// p1 in its first minute's sleep, p2 in `recv`.
fn start_with_p2_waiting_in(mode: &str) -> (Running, Vec<Pid>) {
    let mut command = Command::new(BIN);
    command.args([mode, "--delay", "60"]);
    own_process_group(&mut command);
    let running = Running::start(command, false);
    let children = running.wait_for_children(2, Duration::from_secs(30));
    wait_blocked(&children, Duration::from_secs(30));
    (running, children)
}

/// Stops a concurrent run while p2 waits: it ends by the signal, having
/// printed `printed` (nothing: nothing was sent).
fn stopped_while_p2_waits(stop: Stop, printed: &[&str]) {
    let (running, children) = start_with_p2_waiting_in("--concurrent");
    contract::assert_stopped_by_default_action(running, &children, stop, printed);
}

#[test]
fn ctrl_c_while_the_receiver_waits_ends_every_process() {
    stopped_while_p2_waits(Stop::CtrlC, &[]);
}

#[test]
fn sigterm_to_the_parent_alone_while_the_receiver_waits_ends_every_process() {
    stopped_while_p2_waits(Stop::TermParent, &[]);
}

#[test]
fn a_parent_killed_alone_takes_its_children_with_it() {
    stopped_while_p2_waits(Stop::KillParent, &[]);
}

#[test]
fn a_process_killed_while_the_other_waits_ends_the_run_and_is_named() {
    // p1 is forked first, then p2; on the socket pair or the two pipes.
    for (mode, victim, name) in [
        ("--concurrent", 0, "p1"),
        ("--concurrent", 1, "p2"),
        ("--simplex", 0, "p1"),
        ("--simplex", 1, "p2"),
    ] {
        let (running, children) = start_with_p2_waiting_in(mode);
        let run = running.kill_peer(children[victim], &children);
        contract::assert_killed_peer_named(&run, BIN, name);
    }
}

#[test]
fn a_full_disk_is_reported_by_the_sender_and_the_parent() {
    let run = run_into_full_disk(BIN, &[]);
    run.assert_full_disk_reported()
        .assert_stderr_contains(&["p1: writing to standard output", "exp7-pipe: p1 exited"]);
    // Concurrent: whichever process prints first finds the disk full, and
    // the parent names the one that failed first.
    let run = run_into_full_disk(BIN, &["--concurrent"]);
    run.assert_full_disk_reported();
    let last = run.stderr_lines().last().copied().unwrap_or_default();
    assert!(
        last.starts_with("exp7-pipe: p") && last.ends_with(" exited with code 1"),
        "{run}"
    );
}

#[test]
fn a_delay_changes_nothing_but_the_pace() {
    for args in [
        &["--fast", "--delay", "2"][..],
        &["--fast", "--delay", "2", "--concurrent"],
    ] {
        let run = run(BIN, args);
        run.assert_code(0).assert_no_panic();
        assert_eq!(lines_with(&run, "Sent "), seed000::PIPE_SENT, "{run}");
        assert_eq!(
            lines_with(&run, "Received "),
            seed000::PIPE_RECEIVED,
            "{run}"
        );
    }
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run(BIN, &["--no-such-flag"]).assert_bad_usage("--no-such-flag");
    run(BIN, &["--concurrent", "--no-receiver"]).assert_bad_usage("cannot be used with");
    // Every bad delay, a huge one included, gets the rule in words.
    for delay in ["x", "-1", "61", "9223372036854775807"] {
        run(BIN, &["--delay", delay])
            .assert_bad_usage("expected a whole number of seconds from 0 to 60");
    }
    // And every list of messages the receiver could not read as meant.
    let long = "x".repeat(65);
    let seventeen = ["m"; 17].join(",");
    for bad in ["", "a,,b", "a,END", "END", "a\tb", &long, &seventeen] {
        run(BIN, &["--messages", bad]).assert_bad_usage(
            "expected 1 to 16 comma-separated messages of 1 to 64 bytes of printable text, none of them END",
        );
    }
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "pipe",
            "END",
            "--concurrent",
            "--no-receiver",
            "--delay",
            "--messages",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp7-pipe");
    let shown = handout::expected_output(&readme);
    assert_eq!(shown.lines().collect::<Vec<_>>(), seed000::pipe());
    handout::assert_shows(&readme, &run(BIN, &["--fast"]));
}
