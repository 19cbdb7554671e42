//! Runs the real `exp3-polling` binary and checks the log lines of seed 001.
//!
//! The writer's and the reader's lines interleave differently on every run,
//! so each process's own sequence is checked, plus where the reader's
//! `Data not available` lines fall relative to the writer's pause.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract::{self, Stop};
use ipc_testkit::{
    Run, Running, by_prefix, handout, normalise_numbers, own_process_group, run_command,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-polling");

const DATA_NOT_AVAILABLE: &str =
    "INFO:process2:Data not available sleeping for 1 second before retrying";

const WAIT: Duration = Duration::from_secs(60);

/// The binary with `args`, logging at the default level whatever the
/// environment says.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("RUST_LOG");
    command
}

/// The binary with its log (stderr) sent to stdout, so that a test can wait
/// for a log line while the program runs. `exec` keeps the program's pid.
fn merged(args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", "exec \"$0\" \"$@\" 2>&1", BIN])
        .args(args)
        .env_remove("RUST_LOG");
    command
}

fn writer_lines() -> Vec<String> {
    let mut lines = vec!["INFO:process1:Pid: <N>".to_owned()];
    for i in 1..=10 {
        lines.push(format!("INFO:process1:Writing {i}"));
        if i == 6 {
            lines.push("INFO:process1:Intentionally sleeping for 5 seconds".into());
        }
    }
    lines.push("INFO:process1:Finished process 1".into());
    lines
}

fn reader_reads() -> Vec<String> {
    let mut lines = vec!["INFO:process2:Pid: <N>".to_owned()];
    lines.extend((1..=10).map(|i| format!("INFO:process2:Read: {i}")));
    lines.push("INFO:process2:Finished process 2".into());
    lines
}

/// The log lines with pids replaced by `<N>`.
fn log_lines(text: &str) -> Vec<String> {
    normalise_numbers(text, "Pid: ")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn of(lines: &[String], logger: &str) -> Vec<String> {
    let prefix = format!("INFO:{logger}:");
    lines
        .iter()
        .filter(|l| l.starts_with(&prefix))
        .cloned()
        .collect()
}

/// Checks what every run must show, whatever the interleaving.
fn check_sequences(run: &Run) -> Vec<String> {
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stdout, "", "the log goes to stderr\n{run}");
    let lines = log_lines(&run.stderr);
    assert_eq!(
        lines.first().map(String::as_str),
        Some("INFO:parent:Pid: <N>"),
        "{run}"
    );
    assert_eq!(of(&lines, "parent").len(), 1, "{run}");
    assert_eq!(of(&lines, "process1"), writer_lines(), "{run}");
    let reader = of(&lines, "process2");
    let reads: Vec<String> = reader
        .iter()
        .filter(|l| *l != DATA_NOT_AVAILABLE)
        .cloned()
        .collect();
    assert_eq!(reads, reader_reads(), "{run}");
    assert_eq!(
        lines.len(),
        1 + writer_lines().len() + reader.len(),
        "stray lines\n{run}"
    );

    let pids: std::collections::BTreeSet<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.split_once(":Pid: ").map(|(_, pid)| pid))
        .collect();
    assert_eq!(pids.len(), 3, "three processes, three pids\n{run}");
    lines
}

#[test]
fn each_process_logs_the_seed_lines_in_order() {
    let run = run_command(command(&[]), None, WAIT);
    let lines = check_sequences(&run);
    // The writer pauses for 5 s, the reader retries every second: it finds
    // slot 7 empty at least once during the pause.
    let pause = lines
        .iter()
        .position(|l| l.ends_with("Intentionally sleeping for 5 seconds"))
        .unwrap();
    let seventh = lines
        .iter()
        .position(|l| l == "INFO:process1:Writing 7")
        .unwrap();
    let waits = lines[pause..seventh]
        .iter()
        .filter(|l| *l == DATA_NOT_AVAILABLE)
        .count();
    assert!(
        waits >= 1,
        "no `Data not available` during the pause\n{run}"
    );
    // Read 7 can only come after Writing 7.
    let read7 = lines
        .iter()
        .position(|l| l == "INFO:process2:Read: 7")
        .unwrap();
    assert!(read7 > seventh, "{run}");
}

#[test]
fn fast_logs_the_same_sequences() {
    let run = run_command(command(&["--fast"]), None, WAIT);
    check_sequences(&run);
}

/// Sends `signal` (to the whole group, as Ctrl-C does, if `group`) while
/// the writer pauses, and checks that every process stops in order.
fn signal_during_the_pause(stop: Stop) {
    let mut command = merged(&[]);
    own_process_group(&mut command);
    let mut running = Running::start(command, false);
    running.wait_for_lines(1, WAIT, |l| {
        l == "INFO:process1:Intentionally sleeping for 5 seconds"
    });
    let children = running.wait_for_children(2, WAIT);
    assert_eq!(children.len(), 2, "writer and reader: {children:?}");
    let signal = stop.signal();
    let by = format!("INFO:parent:Interrupted by {}", signal.as_str());
    let run = contract::assert_interrupted(running, &children, stop, &by);
    let lines = log_lines(&run.stdout);
    for expected in ["INFO:process1:Interrupted", "INFO:process2:Interrupted"] {
        assert!(
            lines.iter().any(|l| l == expected),
            "no {expected:?}\n{run}"
        );
    }
    assert!(
        !lines.iter().any(|l| l == "INFO:process1:Writing 7"),
        "the writer went on after {signal}\n{run}"
    );
    assert!(!run.stdout.contains("still open"), "{run}");
    run.assert_all_ended(&children);
}

#[test]
fn sigterm_during_the_pause_ends_every_process() {
    signal_during_the_pause(Stop::TermParent);
}

#[test]
fn ctrl_c_during_the_pause_ends_every_process() {
    signal_during_the_pause(Stop::CtrlC);
}

#[test]
fn a_parent_killed_alone_leaves_no_process_behind() {
    let mut running = Running::start(merged(&[]), false);
    // Both have started: a child that has not run yet when its parent
    // dies ends at once, without a word (it never had a parent to obey).
    running.wait_for_lines(2, WAIT, |l| {
        l == "INFO:process1:Intentionally sleeping for 5 seconds"
            || l.starts_with("INFO:process2:Pid: ")
    });
    let children = running.wait_for_children(2, WAIT);
    // Both children get SIGTERM when the parent dies, and stop in order.
    let run = running.kill_alone(&children);
    let lines = log_lines(&run.stdout);
    for expected in ["INFO:process1:Interrupted", "INFO:process2:Interrupted"] {
        assert!(
            lines.iter().any(|l| l == expected),
            "no {expected:?}\n{run}"
        );
    }
    run.assert_no_panic();
}

/// Kills one of the two processes during the writer's pause and checks
/// that the other one is stopped instead of polling for ever, and that
/// the parent names the dead one.
fn a_dead_peer_during_the_pause(victim: usize, name: &str) {
    let mut running = Running::start(merged(&[]), false);
    running.wait_for_lines(1, WAIT, |l| {
        l == "INFO:process1:Intentionally sleeping for 5 seconds"
    });
    // process1 is forked first, then process2.
    let children = running.wait_for_children(2, WAIT);
    let run = running.kill_peer(children[victim], &children);
    run.assert_code(1).assert_no_panic();
    let named = format!("exp3-polling: {name} was killed by SIGKILL");
    assert!(
        run.stdout.lines().any(|l| l == named),
        "{named:?} missing\n{run}"
    );
    assert!(
        !run.stdout.contains("INFO:process1:Writing 7"),
        "the writer went on\n{run}"
    );
}

#[test]
fn a_writer_killed_mid_run_stops_the_reader_and_is_named() {
    // The reader used to log "Data not available…" for ever.
    a_dead_peer_during_the_pause(0, "process1");
}

#[test]
fn a_reader_killed_mid_run_stops_the_writer_and_is_named() {
    a_dead_peer_during_the_pause(1, "process2");
}

#[test]
fn a_log_that_cannot_be_written_ends_with_exit_code_1() {
    // The log goes to stderr: with stderr on a full disk nobody can read
    // a message, but the exit code still tells. Standard output is unused.
    let mut command = Command::new("sh");
    command
        .args(["-c", "exec \"$0\" --fast 2> /dev/full", BIN])
        .env_remove("RUST_LOG");
    let full = run_command(command, None, WAIT);
    full.assert_code(1);
    assert_eq!(full.stdout, "", "{full}");
    let mut command = Command::new("sh");
    command
        .args(["-c", "exec \"$0\" --fast > /dev/full", BIN])
        .env_remove("RUST_LOG");
    run_command(command, None, WAIT).assert_code(0);
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run_command(command(&["--no-such-flag"]), None, WAIT).assert_bad_usage("--no-such-flag");
    // And every wrong list of values.
    let rule = "expected a comma-separated list of 1 to 30 whole numbers from 0 to 999999";
    let many = vec!["1"; 31].join(",");
    for bad in ["", "3,,5", "three", "-1", "1000000", "2.5", &many] {
        run_command(command(&["--values", bad]), None, WAIT).assert_bad_usage(rule);
    }
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run_command(command(&["--help"]), None, WAIT),
        &["writer", "reader", "-1", "--values", "--fast", "SIGTERM"],
    );
}

/// The log lines of the parent, the writer and the reader (and any other
/// lines), each in order, pids normalised, without the reader's `Data not
/// available` lines (how many there are depends on timing).
fn per_process(log: &str) -> Vec<Vec<String>> {
    let normalised = normalise_numbers(log, "Pid: ");
    let loggers = ["INFO:parent:", "INFO:process1:", "INFO:process2:"];
    let mut groups = by_prefix(&normalised, &loggers);
    groups[2].retain(|l| l != DATA_NOT_AVAILABLE);
    groups
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp3-polling");
    let shown = handout::expected_output(&readme);
    assert!(
        shown.contains(DATA_NOT_AVAILABLE),
        "the handout shows the reader polling"
    );
    let run = run_command(command(&["--fast"]), None, WAIT);
    run.assert_code(0);
    assert_eq!(per_process(&shown), per_process(&run.stderr), "{run}");
}
