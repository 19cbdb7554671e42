//! Runs the real `exp1-queue` binary: seed 004's lines in order, and an
//! orderly end on Ctrl-C or SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

use ipc_testkit::contract;
use ipc_testkit::{
    Running, SIGNAL_DEADLINE, Sig, assert_no_new_shm, handout, own_process_group, run,
    run_into_full_disk, wait_blocked,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-queue");

const EXPECTED: [&str; 3] = [
    "sender is sending: Hello, introduction to distributed computing",
    "Receiver received: Hello, introduction to distributed computing",
    "IPC between processes completed.",
];

#[test]
fn fast_prints_the_seed_lines_in_order() {
    for _ in 0..5 {
        run(BIN, &["--fast"]).assert_prints(&EXPECTED);
    }
}

#[test]
fn the_real_run_waits_and_prints_the_same_lines() {
    let start = Instant::now();
    run(BIN, &[]).assert_prints(&EXPECTED);
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "the sender waits 2 s"
    );
}

/// Starts the program and waits until it has forked its two children (so
/// its signal handlers, inherited by them, are in place).
fn start_and_wait_for_children(command: Command) -> Running {
    let running = Running::start(command, false);
    running.wait_for_children(2, Duration::from_secs(30));
    running
}

#[test]
fn ctrl_c_ends_both_children_and_the_parent() {
    let mut command = Command::new(BIN);
    own_process_group(&mut command);
    let running = start_and_wait_for_children(command);
    running.signal_group(Sig::SIGINT);
    let run = running.finish(SIGNAL_DEADLINE);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[
            "exp1-queue: interrupted by a signal",
            "sender: interrupted by a signal",
        ]);
    assert_eq!(run.stdout, "", "nothing was sent\n{run}");
}

#[test]
fn sigterm_to_the_parent_alone_is_passed_on() {
    let running = start_and_wait_for_children(Command::new(BIN));
    running.signal(Sig::SIGTERM);
    let run = running.finish(SIGNAL_DEADLINE);
    run.assert_code(1).assert_no_panic();
    // A child left running would hold stdout open (testkit says so).
    assert_eq!(run.stdout, "", "{run}");
    run.assert_stderr_contains(&["sender: interrupted by a signal"]);
    assert!(
        run.stderr
            .ends_with("exp1-queue: interrupted by a signal\n"),
        "{run}"
    );
}

#[test]
fn a_parent_killed_alone_leaves_no_process_behind() {
    let running = Running::start(Command::new(BIN), false);
    let children = running.wait_for_children(2, Duration::from_secs(30));
    wait_blocked(&children, Duration::from_secs(30));
    // The sender in its 2 s sleep, the receiver in get(): both get SIGTERM
    // when the parent dies.
    let run = running.kill_alone(&children);
    run.assert_no_panic()
        .assert_stderr_contains(&["sender: interrupted by a signal"]);
    assert_eq!(run.stdout, "", "nothing was sent\n{run}");
}

#[test]
fn a_child_killed_during_the_wait_ends_the_run_and_is_named() {
    // The sender in its 2 s sleep, the receiver in get(): either one's
    // death stops the other at once (a dead receiver used to leave the
    // sender sleeping on, and a dead sender the receiver waiting).
    for (victim, name) in [(0, "sender"), (1, "receiver")] {
        let running = Running::start(Command::new(BIN), false);
        let children = running.wait_for_children(2, Duration::from_secs(30));
        wait_blocked(&children, Duration::from_secs(30));
        let run = running.kill_peer(children[victim], &children);
        contract::assert_killed_peer_named(&run, BIN, name);
        assert_eq!(run.stdout, "", "nothing was sent\n{run}");
    }
}

#[test]
fn a_full_disk_is_reported_by_the_sender_and_the_parent() {
    let run = run_into_full_disk(BIN, &["--fast"]);
    run.assert_full_disk_reported()
        .assert_stderr_contains(&["sender: writing to standard output", "exp1-queue: "]);
}

#[test]
fn a_closed_stdout_ends_every_process_quietly() {
    let run = contract::assert_closed_stdout_ends_quietly(BIN, &["--fast"], b"");
    assert_eq!(run.stdout_lines(), [EXPECTED[0]], "{run}");
}

#[test]
fn leaves_nothing_in_dev_shm() {
    assert_no_new_shm(|| run(BIN, &["--fast"])).assert_code(0);
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run(BIN, &["--fast", "extra"]).assert_bad_usage("extra");
    // Every message that cannot be sent as one line gets the rule in words.
    let long = "x".repeat(161);
    for bad in ["", "  ", "a\tb", "a\nb", &long] {
        run(BIN, &["--message", bad]).assert_bad_usage("expected 1 to 160 bytes of printable text");
    }
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "sender",
            "receiver",
            "Queue",
            "2 seconds",
            "--message",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp1-queue");
    handout::assert_shows(&readme, &run(BIN, &["--fast"]));
}
