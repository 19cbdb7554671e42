//! Runs the real `exp7-queue` binary and checks it prints seed 000's
//! choice-2 lines, with every square, on every run, and that a signal ends
//! it while the consumer waits.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract::{self, Stop};
use ipc_testkit::seed000;
use ipc_testkit::{
    Pid, Running, assert_no_new_shm, handout, own_process_group, run, run_into_full_disk,
    run_into_head, wait_blocked,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-queue");

#[test]
fn prints_the_seed_lines() {
    run(BIN, &[]).assert_prints(&seed000::QUEUE);
}

#[test]
fn fast_prints_the_same_lines() {
    run(BIN, &["--fast"]).assert_prints(&seed000::QUEUE);
}

#[test]
fn every_square_arrives_on_every_run_even_when_p2_starts_first() {
    // The seed's `while not q.empty()` could print no element at all (its
    // own output shows that); reading until the close cannot.
    for i in 0..20 {
        let args: &[&str] = if i % 2 == 0 { &["--together"] } else { &[] };
        println!("run {i}: {args:?}");
        run(BIN, args).assert_prints(&seed000::QUEUE);
    }
}

#[test]
fn redirected_to_a_file_each_line_appears_once() {
    contract::assert_each_line_once_in_a_file(BIN, &[], &seed000::QUEUE);
}

#[test]
fn head_closing_stdout_early_is_quiet() {
    // The program's own exit status, not head's.
    let run = run_into_head(BIN, &["--together"], b"");
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stdout_lines(), [seed000::QUEUE[0]], "{run}");
}

#[test]
fn leaves_nothing_in_dev_shm() {
    assert_no_new_shm(|| run(BIN, &["--fast"])).assert_code(0);
}

/// `exp7-queue --together --delay 60` in a group of its own, once p2 has
/// printed its header and both children are blocked: p1 in its first
/// minute's sleep, p2 in `get` on the empty queue.
fn start_with_p2_waiting() -> (Running, Vec<Pid>) {
    let mut command = Command::new(BIN);
    command.args(["--together", "--delay", "60"]);
    own_process_group(&mut command);
    let mut running = Running::start(command, false);
    running.wait_for_lines(1, Duration::from_secs(30), |l| l == "Queue elements:");
    let children = running.wait_for_children(2, Duration::from_secs(30));
    wait_blocked(&children, Duration::from_secs(30));
    (running, children)
}

/// Stops a run while p2 waits on the empty queue: it ends by the signal,
/// having printed `printed` (the lines before the wait), and leaves
/// nothing in /dev/shm.
fn stopped_while_p2_waits(stop: Stop, printed: &[&str]) {
    let (running, children) = start_with_p2_waiting();
    assert_no_new_shm(|| {
        contract::assert_stopped_by_default_action(running, &children, stop, printed)
    });
}

#[test]
fn ctrl_c_while_the_consumer_waits_ends_every_process() {
    stopped_while_p2_waits(Stop::CtrlC, &seed000::QUEUE[..3]);
}

#[test]
fn sigterm_to_the_parent_alone_while_the_consumer_waits_ends_every_process() {
    stopped_while_p2_waits(Stop::TermParent, &seed000::QUEUE[..3]);
}

#[test]
fn a_parent_killed_alone_takes_its_children_with_it() {
    stopped_while_p2_waits(Stop::KillParent, &seed000::QUEUE[..3]);
}

#[test]
fn a_process_killed_while_the_other_waits_ends_the_run_and_is_named() {
    // With --together, p2 is forked first, then p1. A dead p2 used to
    // leave p1 squaring for nobody until its last delay was over.
    for (victim, name) in [(0, "p2"), (1, "p1")] {
        let (running, children) = start_with_p2_waiting();
        let run = running.kill_peer(children[victim], &children);
        contract::assert_killed_peer_named(&run, BIN, name);
    }
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    for args in [&["--fast"][..], &["--fast", "--together"]] {
        run_into_full_disk(BIN, args).assert_full_disk_reported();
    }
}

#[test]
fn a_delay_changes_nothing_but_the_pace() {
    for args in [
        &["--fast", "--delay", "2"][..],
        &["--fast", "--delay", "2", "--together"],
    ] {
        run(BIN, args).assert_prints(&seed000::QUEUE);
    }
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run(BIN, &["--no-such-flag"]).assert_bad_usage("--no-such-flag");
    // Every bad delay, a huge one included, gets the rule in words.
    for delay in ["x", "-1", "61", "9223372036854775807"] {
        run(BIN, &["--delay", delay])
            .assert_bad_usage("expected a whole number of seconds from 0 to 60");
    }
    // And every wrong list of numbers.
    let rule = "expected a comma-separated list of 1 to 16 whole numbers from -10000 to 10000";
    let seventeen = ["1"; 17].join(",");
    for bad in ["", "3,,5", "three", "10001", "2.5", &seventeen] {
        run(BIN, &["--numbers", bad]).assert_bad_usage(rule);
    }
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "Queue",
            "p1",
            "p2",
            "--together",
            "--delay",
            "--numbers",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp7-queue");
    handout::assert_shows(&readme, &run(BIN, &["--fast"]));
}
