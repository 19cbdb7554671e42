//! Runs the real `exp1-threads` binary: the exact totals of the locked
//! counters, the ordinary variable the parent still reads as 0, the lost
//! updates without a lock (of processes and of threads), `--timings`,
//! Ctrl-C and a dead process, and bad input.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract::{self, Stop};
use ipc_testkit::{
    Run, Running, SIGNAL_DEADLINE, Sig, assert_no_new_shm, handout, normalise_numbers,
    own_process_group, run, run_into_full_disk,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-threads");

const WAIT: Duration = Duration::from_secs(60);

const OWN_COPY: &str =
    "Processes, each with its own u64 (an ordinary variable): final value (in main program) 0";

/// The lines of a locked run of `workers` workers and `updates` updates.
fn locked(workers: u64, updates: u64) -> Vec<String> {
    let total = workers * updates;
    vec![
        format!(
            "{workers} processes and {workers} threads, {updates} updates of +1 each: {total} expected"
        ),
        OWN_COPY.into(),
        format!(
            "Processes, one shared Value<u64> with its lock: final value (in main program) {total}, lost updates 0"
        ),
        format!("Threads, one Mutex<u64>: final value {total}, lost updates 0"),
        format!("Threads, one AtomicU64 with fetch_add: final value {total}, lost updates 0"),
    ]
}

#[test]
fn the_default_run_prints_exact_totals_and_an_unshared_zero() {
    run(BIN, &[]).assert_prints(&locked(4, 200_000));
}

#[test]
fn fast_and_other_counts_print_the_same_kind_of_lines() {
    run(BIN, &["--fast", "--workers", "3", "--updates", "1000"]).assert_prints(&locked(3, 1000));
    run(BIN, &["--workers", "1", "--updates", "1", "--fast"]).assert_prints(&locked(1, 1));
}

#[test]
fn the_locked_totals_are_exact_on_every_run() {
    for _ in 0..10 {
        run(BIN, &["--workers", "8", "--updates", "20000"]).assert_prints(&locked(8, 20_000));
    }
}

/// The final value and the lost updates on the line that starts with
/// `what`; they must add up to `expected`.
fn final_and_lost(run: &Run, what: &str, expected: u64) -> (u64, u64) {
    let line = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.starts_with(what))
        .unwrap_or_else(|| panic!("no line {what:?}\n{run}"));
    let numbers: Vec<u64> = line
        .rsplit(": ")
        .next()
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [actual, lost] = numbers[..] else {
        panic!("{line:?} has no final value and lost updates\n{run}");
    };
    assert_eq!(actual + lost, expected, "{line:?}\n{run}");
    assert!(actual > 0, "{line:?}\n{run}");
    (actual, lost)
}

/// Runs `--no-lock` up to `tries` times until the counter of `what` has
/// lost updates: a single run practically always does, a few attempts
/// keep a rare quiet run (the machine busy elsewhere, the workers one
/// after another) from failing the test; a counter that never loses one
/// still fails it.
fn loses_updates(what: &str, args: &[&str], expected: u64, tries: usize) {
    let mut runs = Vec::new();
    for _ in 0..tries {
        let run = run(BIN, args);
        run.assert_code(0).assert_no_panic();
        assert_eq!(run.stdout_lines().len(), 4, "{run}");
        assert_eq!(run.stdout_lines()[1], OWN_COPY, "{run}");
        let (_, lost) = final_and_lost(&run, what, expected);
        if lost > 0 {
            return;
        }
        runs.push(run.to_string());
    }
    panic!(
        "no update of {what:?} lost in {tries} runs without a lock:\n{}",
        runs.join("\n")
    );
}

#[test]
fn without_the_lock_processes_lose_updates() {
    loses_updates(
        "Processes, one shared RawValue<u64> without a lock (--no-lock)",
        &["--no-lock"],
        800_000,
        5,
    );
}

#[test]
fn without_the_lock_threads_lose_updates() {
    loses_updates(
        "Threads, one AtomicU64, a load then a store (--no-lock)",
        &["--no-lock", "--workers", "8", "--updates", "300000"],
        2_400_000,
        10,
    );
}

#[test]
fn timings_say_what_a_process_a_thread_and_an_update_cost() {
    let run = run(BIN, &["--timings", "--updates", "1000"]);
    run.assert_code(0).assert_no_panic();
    let lines = run.stdout_lines();
    assert_eq!(lines[..5], locked(4, 1000)[..], "{run}");
    assert_eq!(lines.len(), 7, "{run}");
    let starts = normalise_numbers(&normalise_numbers(lines[5], "process took "), "a thread ");
    assert!(
        starts.starts_with("Timings: starting and joining a process took <N>.")
            && starts.contains(" µs, a thread <N>.")
            && starts.ends_with(" µs (mean of 4 each)"),
        "{run}"
    );
    for part in [
        "Timings: one update, with all 4 workers at once: ",
        " ns in a process (the Value's lock), ",
        " ns in a thread (the Mutex), ",
        " ns in a thread (fetch_add)",
    ] {
        assert!(lines[6].contains(part), "{part:?} missing\n{run}");
    }
}

/// The longest run, in a group of its own, once its processes p1 … p8 are
/// forked (the copies before them have ended): long enough for a test to
/// act while they count.
fn start_the_longest_run() -> (Running, Vec<ipc_testkit::Pid>) {
    let mut command = Command::new(BIN);
    command.args(["--workers", "8", "--updates", "1000000"]);
    own_process_group(&mut command);
    let mut running = Running::start(command, false);
    running.wait_for_lines(1, WAIT, |l| l == OWN_COPY);
    let children = running.wait_for_children(8, WAIT);
    assert_eq!(children.len(), 8, "{children:?}");
    (running, children)
}

#[test]
fn a_process_killed_mid_run_ends_the_run_and_is_named() {
    contract::assert_p3_killed_mid_run_named(BIN, start_the_longest_run(), "Threads");
}

/// Ctrl-C (the group) or SIGTERM (the parent alone) while the processes
/// count: every process stops, the parent reaps them and says so.
fn interrupted_mid_run(stop: Stop) {
    let (running, children) = start_the_longest_run();
    let said = format!(
        "Interrupted by {}: the workers stopped early",
        stop.signal().as_str()
    );
    let run = contract::assert_interrupted(running, &children, stop, &said);
    assert_eq!(run.stdout_lines().last(), Some(&said.as_str()), "{run}");
    assert!(!run.stdout.contains("Threads"), "{run}");
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
fn ctrl_c_stops_the_threads_too() {
    // The threads' part of the longest run lasts about a second; a run
    // that ended before the signal came is tried again.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let mut command = Command::new(BIN);
        command.args(["--workers", "8", "--updates", "1000000"]);
        own_process_group(&mut command);
        let mut running = Running::start(command, false);
        running.wait_for_lines(1, WAIT, |l| {
            l.starts_with("Processes, one shared Value<u64>")
        });
        running.signal_group(Sig::SIGINT);
        let run = running.finish(SIGNAL_DEADLINE);
        run.assert_code(0).assert_no_panic();
        if run.stdout_lines().last() == Some(&"Interrupted by SIGINT: the workers stopped early") {
            return;
        }
        assert!(
            run.stdout
                .contains("Threads, one AtomicU64 with fetch_add: final value 8000000"),
            "neither interrupted nor finished\n{run}"
        );
        runs.push(run.to_string());
    }
    panic!(
        "the threads always finished before Ctrl-C:\n{}",
        runs.join("\n")
    );
}

#[test]
fn leaves_nothing_behind() {
    assert_no_new_shm(|| {
        run(BIN, &["--updates", "100"]).assert_code(0);
        run(BIN, &["--no-lock", "--updates", "100"]).assert_code(0);
    });
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    run_into_full_disk(BIN, &["--updates", "10"]).assert_full_disk_reported();
}

#[test]
fn bad_input_exits_with_2_and_no_panic() {
    let workers =
        "expected a whole number of workers from 1 to 8 (as many processes, then as many threads)";
    let updates = "expected a whole number of updates from 1 to 1000000";
    let cases: [(&[&str], &str); 9] = [
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--workers", "0"], workers),
        (&["--workers", "9"], workers),
        (&["--workers", "-2"], workers),
        (&["--workers", "four"], workers),
        (&["--updates", "0"], updates),
        (&["--updates", "1000001"], updates),
        (&["--updates", "99999999999999999999999"], updates),
        (&["extra"], "extra"),
    ];
    contract::assert_refused(|args| run(BIN, args), &cases);
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "threads",
            "processes",
            "own copy",
            "Mutex",
            "--no-lock",
            "--workers",
            "--updates",
            "--timings",
            "--fast",
        ],
    );
}

/// `text` without the numbers that differ from run to run without a lock.
fn lost_normalised(text: &str) -> String {
    let text = normalise_numbers(text, "final value (in main program) ");
    let text = normalise_numbers(&text, "(--no-lock): final value ");
    normalise_numbers(&text, "lost updates ")
}

#[test]
fn the_handout_shows_real_runs() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp1-threads");
    let shows = |args: &[&str], normalise: fn(&str) -> String| {
        handout::assert_shows_transcript(&readme, "exp1-threads", args, &run(BIN, args), normalise);
    };
    shows(&[], str::to_owned);
    shows(&["--no-lock"], lost_normalised);
}
