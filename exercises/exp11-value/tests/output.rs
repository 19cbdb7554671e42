//! Runs the real `exp11-value` binary: seed 002's Example 1 line, the exact
//! locked total, the lost updates without a lock, and bad input.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract::{self, Stop};
use ipc_testkit::counter;
use ipc_testkit::{
    Run, Running, assert_no_new_shm, handout, normalise_numbers, own_process_group, run,
    run_into_full_disk,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp11-value");

const LOCKED: &str = "Shared Value<u64> with its lock";
const UNLOCKED: &str = "Shared RawValue<u64> without a lock (--no-lock)";

/// The number after `prefix` on the line that starts with it.
fn number_after(run: &Run, prefix: &str) -> i128 {
    let line = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?}\n{run}"));
    line[prefix.len()..]
        .parse()
        .unwrap_or_else(|e| panic!("{line:?}: {e}\n{run}"))
}

#[test]
fn example_prints_the_seed_line() {
    run(BIN, &["example"]).assert_prints(&["2.678"]);
}

#[test]
fn fast_is_accepted_before_and_after_example() {
    for args in [&["--fast", "example"][..], &["example", "--fast"]] {
        run(BIN, args).assert_prints(&["2.678"]);
    }
    let run = run(BIN, &["--fast", "--iterations", "10"]);
    run.assert_code(0);
    assert_eq!(run.stdout_lines()[0], LOCKED, "{run}");
}

#[test]
fn the_default_run_prints_the_plan_and_an_exact_total() {
    let mut expected = counter::plan(LOCKED, "processes", 5, 100_000);
    expected.extend([
        "Expected value: 1500000".into(),
        "Final value (in main program): 1500000".into(),
        "Lost updates: 0".into(),
    ]);
    run(BIN, &[]).assert_prints(&expected);
}

#[test]
fn the_locked_total_is_exact_on_every_run() {
    // 150,000 locked updates from five overlapping processes, 20 times.
    let mut expected = counter::plan(LOCKED, "processes", 5, 10_000);
    expected.extend([
        "Expected value: 150000".into(),
        "Final value (in main program): 150000".into(),
        "Lost updates: 0".into(),
    ]);
    for _ in 0..20 {
        run(BIN, &["--iterations", "10000"]).assert_prints(&expected);
    }
}

#[test]
fn without_the_lock_updates_are_lost() {
    // Three million unlocked updates from five processes on two or more
    // cores: a single run practically always loses thousands. A few
    // attempts keep a rare quiet run from failing the test; a value that
    // never loses an update still fails it.
    let passes = 200_000_u64;
    let mut runs = Vec::new();
    for _ in 0..5 {
        let run = run(BIN, &["--no-lock", "--iterations", &passes.to_string()]);
        run.assert_code(0).assert_no_panic();
        let lines = run.stdout_lines();
        assert_eq!(
            lines[..7],
            counter::plan(UNLOCKED, "processes", 5, passes)[..],
            "{run}"
        );
        assert_eq!(lines.len(), 10, "{run}");
        let expected = number_after(&run, "Expected value: ");
        let actual = number_after(&run, "Final value (in main program): ");
        let lost = number_after(&run, "Lost updates: ");
        assert_eq!(expected, 15 * i128::from(passes), "{run}");
        assert!(0 < actual && actual <= expected, "{run}");
        assert_eq!(lost, expected - actual, "{run}");
        if lost > 0 {
            return;
        }
        runs.push(run.to_string());
    }
    panic!(
        "no update lost in {} runs without a lock:\n{}",
        runs.len(),
        runs.join("\n")
    );
}

/// The largest run, started (in a group of its own), with its five
/// processes forked: long enough for a test to act while they count.
fn start_the_longest_run() -> (Running, Vec<ipc_testkit::Pid>) {
    let mut command = Command::new(BIN);
    command.args(["--iterations", "5000000"]);
    own_process_group(&mut command);
    let running = Running::start(command, false);
    let children = running.wait_for_children(5, Duration::from_secs(30));
    assert_eq!(children.len(), 5, "{children:?}");
    (running, children)
}

#[test]
fn a_process_killed_mid_run_ends_the_run_and_is_named() {
    // The others are stopped (SIGTERM) instead of counting on for seconds;
    // one that finds the lock held by the dead one stops too, without
    // being blamed.
    contract::assert_p3_killed_mid_run_named(BIN, start_the_longest_run(), "Final value");
}

/// Ctrl-C (the group) or SIGTERM (the parent alone) while the processes
/// count: every process stops, the parent reaps them and says so.
fn interrupted_mid_run(stop: Stop) {
    let (running, children) = start_the_longest_run();
    let said = format!(
        "Interrupted by {}: the processes stopped early, at ",
        stop.signal().as_str()
    );
    let run = contract::assert_interrupted(running, &children, stop, &said);
    // Reaped by the parent, not left as zombies for init.
    run.assert_all_ended(&children);
    let last = run.stdout_lines().last().copied().unwrap_or_default();
    assert!(last.ends_with(" of the expected 75000000"), "{run}");
    assert!(!run.stdout.contains("Final value"), "{run}");
}

#[test]
fn ctrl_c_stops_every_process_and_says_so() {
    interrupted_mid_run(Stop::CtrlC);
}

#[test]
fn sigterm_to_the_parent_alone_stops_every_process_and_says_so() {
    interrupted_mid_run(Stop::TermParent);
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    for args in [&["--iterations", "10"][..], &["example"]] {
        contract::assert_closed_stdout_ends_quietly(BIN, args, b"");
    }
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    for args in [&["--iterations", "10"][..], &["example"]] {
        run_into_full_disk(BIN, args).assert_full_disk_reported();
    }
}

#[test]
fn leaves_nothing_behind() {
    assert_no_new_shm(|| {
        run(BIN, &["--iterations", "100"]).assert_code(0);
        run(BIN, &["--no-lock", "--iterations", "100"]).assert_code(0);
        run(BIN, &["example"]).assert_code(0);
    });
}

#[test]
fn bad_input_exits_with_2_and_no_panic() {
    // Every wrong count gets the rule in words, not clap's own wording.
    let rule = "expected a whole number of passes from 1 to 5000000 (more would run for minutes";
    let processes =
        "expected a whole number of processes from 1 to 5 (p1 to p5, one per target function)";
    let cases: [(&[&str], &str); 12] = [
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--iterations", "abc"], rule),
        (&["--iterations", "-5"], rule),
        (&["--iterations", "0"], rule),
        (&["--iterations", "5000001"], rule),
        (&["--iterations", "1229782938247303442"], rule),
        (&["--iterations", "99999999999999999999999"], rule),
        (&["--no-lock", "example"], "not to `example`"),
        (&["--processes", "0"], processes),
        (&["--processes", "6"], processes),
        (&["--processes", "two"], processes),
        (&["--processes", "3", "example"], "not to `example`"),
    ];
    contract::assert_refused(|args| run(BIN, args), &cases);
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "own target function",
            "--no-lock",
            "--iterations",
            "--processes",
            "--fast",
            "example",
        ],
    );
}

/// `text` without the numbers that differ on every run without the lock.
fn lost_normalised(text: &str) -> String {
    let text = normalise_numbers(text, "Final value (in main program): ");
    normalise_numbers(&text, "Lost updates: ")
}

#[test]
fn the_handout_shows_real_runs() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp11-value");
    let shows = |args: &[&str], normalise: fn(&str) -> String| {
        handout::assert_shows_transcript(&readme, "exp11-value", args, &run(BIN, args), normalise);
    };
    // The deterministic ones exactly: Example 1 and the locked default run.
    shows(&["example"], str::to_owned);
    shows(&[], str::to_owned);
    // Without the lock, all but the final value and the lost updates.
    shows(&["--no-lock"], lost_normalised);
}
