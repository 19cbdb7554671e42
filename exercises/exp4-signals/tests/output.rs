//! Runs the real `exp4-signals` binary and checks what it prints: each
//! process's lines in order (the writer's and the reader's interleave
//! differently on every run), the burst's counts, the two-terminal roles,
//! Ctrl-C and SIGTERM, a dead peer, and bad usage.

mod support;

use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract::{self, Stop};
use ipc_testkit::{
    Run, Running, assert_no_new_shm, by_prefix, handout, normalise_numbers, own_process_group, run,
    run_command, run_into_full_disk,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-signals");

const WAIT: Duration = Duration::from_secs(60);

/// What starts each process's lines.
const PREFIXES: [&str; 3] = ["parent: ", "writer: ", "reader: "];

/// The lines of the parent, the writer and the reader, each in order,
/// pids normalised (and any other lines, last).
fn per_process(stdout: &str) -> Vec<Vec<String>> {
    by_prefix(&normalise_numbers(stdout, "Pid: "), &PREFIXES)
}

/// Checks what every run of the seed's values must print, whatever the
/// interleaving; returns its lines.
fn check_sequences(run: &Run) -> Vec<String> {
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stderr, "", "{run}");
    let groups = per_process(&run.stdout);
    let values: Vec<i64> = (1..=10).collect();
    assert_eq!(groups[0], ["parent: Pid: <N>"], "{run}");
    assert_eq!(
        groups[1],
        support::writer_lines("<N>", &values, 1000),
        "{run}"
    );
    assert_eq!(
        groups[2],
        support::reader_lines("<N>", &values, 1000),
        "{run}"
    );
    assert!(groups[3].is_empty(), "stray lines\n{run}");
    assert_eq!(
        run.stdout_lines()[0].split_once("Pid: ").map(|(p, _)| p),
        Some("parent: "),
        "{run}"
    );
    run.stdout_lines().into_iter().map(str::to_owned).collect()
}

#[test]
fn each_process_prints_its_lines_in_order() {
    let run = run_command(Command::new(BIN), None, WAIT);
    let lines = check_sequences(&run);
    // The reader reads 7 only once the writer has written it, after the
    // pause: notified, not earlier.
    let at = |line: &str| lines.iter().position(|l| l == line).unwrap();
    assert!(at("reader: Read: 7") > at("writer: Writing 7"), "{run}");
    assert!(
        at("reader: Read: 6") < at("writer: Writing 7"),
        "the reader read 6 during the pause\n{run}"
    );
}

#[test]
fn fast_prints_the_same_lines() {
    check_sequences(&run(BIN, &["--fast"]));
}

#[test]
fn the_burst_loses_standard_signals_and_keeps_real_time_ones() {
    // Whatever the count: one SIGUSR1 (the first sent) arrives, every
    // SIGRTMIN+1 arrives in order.
    for signals in [2_i64, 37, 5000] {
        let run = run(
            BIN,
            &["--fast", "--signals", &signals.to_string(), "--values", "8"],
        );
        run.assert_code(0).assert_no_panic();
        let groups = per_process(&run.stdout);
        assert_eq!(
            groups[1],
            support::writer_lines("<N>", &[8], signals),
            "{run}"
        );
        assert_eq!(
            groups[2],
            support::reader_lines("<N>", &[8], signals),
            "{run}"
        );
    }
}

/// The number before `after` on the line that has it.
fn number_before(run: &Run, after: &str) -> u64 {
    let line = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.contains(after))
        .unwrap_or_else(|| panic!("no line with {after:?}\n{run}"));
    line[..line.find(after).unwrap()]
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before {after:?} in {line:?}\n{run}"))
}

#[test]
fn timings_show_a_reader_that_sleeps_until_told() {
    // Real pauses: a reader that polled would wake many times while the
    // writer sleeps for five seconds; a notified one wakes about once
    // per notice that found it asleep (twice here: the first value, and
    // the seventh after the pause).
    let run = run_command(
        {
            let mut command = Command::new(BIN);
            command.arg("--timings");
            command
        },
        None,
        WAIT,
    );
    run.assert_code(0).assert_no_panic();
    let wakeups = number_before(&run, " wake-ups");
    assert!(
        wakeups <= 10 + 3,
        "the reader woke {wakeups} times for 10 notices\n{run}"
    );
    assert!(
        run.stdout.contains("reader: 10 reads took ")
            && run.stdout.contains(" ms of CPU time and "),
        "{run}"
    );
}

/// The binary with `args`, in a group of its own, started.
fn start(args: &[&str]) -> Running {
    let mut command = Command::new(BIN);
    command.args(args);
    own_process_group(&mut command);
    Running::start(command, false)
}

/// Sends `signal` (to the whole group, as Ctrl-C does, if `group`) while
/// the writer pauses, and checks that every process stops in order.
fn signal_during_the_pause(stop: Stop) {
    let mut running = start(&[]);
    running.wait_for_lines(1, WAIT, |l| {
        l == "writer: Intentionally sleeping for 5 seconds"
    });
    let children = running.wait_for_children(2, WAIT);
    let by = format!("parent: Interrupted by {}", stop.signal().as_str());
    let run = contract::assert_interrupted(running, &children, stop, &by);
    let lines = run.stdout_lines();
    for expected in ["writer: Interrupted", "reader: Interrupted"] {
        assert!(lines.contains(&expected), "no {expected:?}\n{run}");
    }
    assert!(
        !run.stdout.contains("Writing 7"),
        "the writer went on\n{run}"
    );
}

#[test]
fn ctrl_c_during_the_pause_ends_every_process() {
    signal_during_the_pause(Stop::CtrlC);
}

#[test]
fn sigterm_to_the_parent_alone_ends_every_process() {
    signal_during_the_pause(Stop::TermParent);
}

/// Kills one of the two processes during the writer's pause and checks
/// that the other one is stopped instead of waiting on, and that the
/// parent names the dead one.
fn a_dead_peer_during_the_pause(victim: usize, name: &str) {
    let mut running = start(&[]);
    running.wait_for_lines(1, WAIT, |l| {
        l == "writer: Intentionally sleeping for 5 seconds"
    });
    // The reader is forked first, then the writer.
    let children = running.wait_for_children(2, WAIT);
    let run = running.kill_peer(children[victim], &children);
    contract::assert_killed_peer_named(&run, BIN, name);
    assert!(
        !run.stdout.contains("Writing 7"),
        "the writer went on\n{run}"
    );
}

#[test]
fn a_reader_killed_mid_run_stops_the_writer_and_is_named() {
    a_dead_peer_during_the_pause(0, "reader");
}

#[test]
fn a_writer_killed_mid_run_stops_the_reader_and_is_named() {
    // The reader would otherwise wait a minute for a notice.
    a_dead_peer_during_the_pause(1, "writer");
}

#[test]
fn a_parent_killed_alone_leaves_no_process_behind() {
    let mut running = start(&[]);
    // Both processes are under way (on a loaded machine the writer can be
    // at its pause before the reader has run at all): the writer pauses,
    // the reader has read what came before the pause.
    running.wait_for_lines(2, WAIT, |l| {
        l == "writer: Intentionally sleeping for 5 seconds" || l == "reader: Read: 6"
    });
    let children = running.wait_for_children(2, WAIT);
    // Both children get SIGTERM when the parent dies, and stop in order.
    let run = running.kill_alone(&children);
    for expected in ["writer: Interrupted", "reader: Interrupted"] {
        assert!(
            run.stdout_lines().contains(&expected),
            "no {expected:?}\n{run}"
        );
    }
    run.assert_no_panic();
}

#[test]
fn the_reader_and_the_writer_run_in_two_terminals() {
    let pid = assert_no_new_shm(|| {
        let mut reader = start(&["reader", "--fast"]);
        reader.wait_for_lines(1, WAIT, |l| l.starts_with("reader: Pid: "));
        let pid = reader.pid().to_string();
        let writer = run(BIN, &["writer", &pid, "--fast"]);
        writer.assert_code(0).assert_no_panic();
        let groups = per_process(&writer.stdout);
        assert_eq!(
            groups[1],
            support::writer_lines("<N>", &exp4_values(), 1000),
            "{writer}"
        );
        let reader = reader.finish(WAIT);
        reader.assert_code(0).assert_no_panic();
        let mut lines = per_process(&reader.stdout)[2].clone();
        let hint = format!(
            "reader: the array is /dev/shm/ipc-lab-exp4-signals-{pid}: run `exp4-signals writer {pid}` in another terminal"
        );
        assert_eq!(
            lines.remove(0),
            normalise_numbers(&hint, "Pid: "),
            "{reader}"
        );
        assert_eq!(
            lines,
            support::reader_lines("<N>", &exp4_values(), 1000),
            "{reader}"
        );
        pid
    });
    assert!(
        !std::path::Path::new(&format!("/dev/shm/ipc-lab-exp4-signals-{pid}")).exists(),
        "the reader removes its array"
    );
}

fn exp4_values() -> Vec<i64> {
    (1..=10).collect()
}

#[test]
fn a_writer_with_no_reader_is_told_so_and_signals_nobody() {
    // pid 1 and this test's own pid are no exp4-signals readers: a
    // notification signal would end them.
    for pid in ["1".to_owned(), std::process::id().to_string()] {
        run(BIN, &["writer", &pid, "--fast"])
            .assert_bad_usage(&format!("no exp4-signals reader runs with pid {pid}"));
    }
}

#[test]
fn leaves_nothing_behind() {
    assert_no_new_shm(|| run(BIN, &["--fast", "--signals", "3"])).assert_code(0);
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    run_into_full_disk(BIN, &["--fast"]).assert_full_disk_reported();
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run(BIN, &["--no-such-flag"]).assert_bad_usage("--no-such-flag");
    let rule = "expected a comma-separated list of 1 to 30 whole numbers from 0 to 999999";
    let many = vec!["1"; 31].join(",");
    for bad in ["", "3,,5", "three", "-1", "1000000", "2.5", &many] {
        run(BIN, &["--values", bad]).assert_bad_usage(rule);
    }
    let rule = "expected a whole number of signals from 1 to 5000";
    for bad in ["0", "5001", "-3", "many", "99999999999999999999"] {
        run(BIN, &["--signals", bad]).assert_bad_usage(rule);
    }
    for bad in ["0", "-1", "abc"] {
        run(BIN, &["writer", bad]).assert_bad_usage("PID");
    }
    run(BIN, &["writer"]).assert_bad_usage("PID");
    run(BIN, &["--values", "1,2", "reader"]).assert_bad_usage("not to `reader`");
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "SIGRTMIN",
            "sigtimedwait",
            "instead of polling",
            "--values",
            "--signals",
            "--timings",
            "reader",
            "writer",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp4-signals");
    let shown = handout::expected_output(&readme);
    let run = run(BIN, &["--fast"]);
    run.assert_code(0);
    assert_eq!(per_process(&shown), per_process(&run.stdout), "{run}");
}
