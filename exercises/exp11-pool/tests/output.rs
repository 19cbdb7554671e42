//! Runs the real `exp11-pool` binary: the squares in order and sorted,
//! the Manager dict's summary, a task that fails on purpose, and bad
//! input.

use std::collections::BTreeSet;

use ipc_testkit::contract;
use ipc_testkit::{handout, normalise_numbers, prefixed_entries, run, run_into_full_disk};

const BIN: &str = env!("CARGO_BIN_EXE_exp11-pool");

const SQUARES: &str = "[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]";

/// The default run's lines.
fn default_lines() -> Vec<String> {
    vec![
        "Squares of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] by a Pool of 4 workers".into(),
        format!("Pool.map: {SQUARES}"),
        format!("imap_unordered, sorted: {SQUARES}"),
        "Manager dict: 10 numbers, recorded by 4 distinct worker processes and 0 by the main program".into(),
    ]
}

#[test]
fn the_default_run_squares_one_to_ten_in_four_workers() {
    run(BIN, &[]).assert_prints(&default_lines());
}

#[test]
fn fast_changes_nothing() {
    run(BIN, &["--fast"]).assert_prints(&default_lines());
}

#[test]
fn a_task_failing_on_purpose_comes_back_as_an_error_and_the_run_goes_on() {
    run(BIN, &["--fail", "3"]).assert_prints(&[
        "Squares of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] by a Pool of 4 workers",
        "Pool.map raised: task 2 failed: ValueError: 3 fails on purpose (--fail)",
        &format!("imap_unordered, sorted: {SQUARES}"),
        "Manager dict: 9 numbers, recorded by 4 distinct worker processes and 0 by the main program",
    ]);
}

#[test]
fn more_workers_than_numbers_leave_some_idle() {
    run(BIN, &["--workers", "8", "--numbers", "-3,5,7"]).assert_prints(&[
        "Squares of [-3, 5, 7] by a Pool of 8 workers",
        "Pool.map: [9, 25, 49]",
        "imap_unordered, sorted: [9, 25, 49]",
        "Manager dict: 3 numbers, recorded by 3 distinct worker processes and 0 by the main program",
    ]);
}

#[test]
fn who_names_a_worker_other_than_the_main_program_for_every_number() {
    let run = run(BIN, &["--who", "--workers", "2", "--numbers", "4,2,3"]);
    run.assert_code(0).assert_no_panic();
    let lines = run.stdout_lines();
    assert_eq!(lines.len(), 7, "{run}");
    let mut pids = BTreeSet::new();
    for (line, number) in lines[3..6].iter().zip(["2", "3", "4"]) {
        let pid = line
            .strip_prefix(&format!("{number} squared by pid "))
            .and_then(|pid| pid.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("{line:?}\n{run}"));
        assert_ne!(pid, std::process::id(), "{run}");
        pids.insert(pid);
    }
    assert_eq!(
        lines[6],
        format!(
            "Manager dict: 3 numbers, recorded by {} distinct worker processes and 0 by the main program",
            pids.len()
        ),
        "{run}"
    );
}

/// The Manager's private directories (`ipc-lab-manager-<pid>-…`) in the
/// temporary directory whose maker has ended.
fn dead_managers() -> BTreeSet<String> {
    let tmp = std::env::temp_dir();
    prefixed_entries(&tmp.to_string_lossy())
        .into_iter()
        .filter(|name| {
            name.strip_prefix("ipc-lab-manager-")
                .and_then(|rest| rest.split('-').next())
                .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
        .collect()
}

#[test]
fn leaves_nothing_behind() {
    let before = dead_managers();
    ipc_testkit::assert_no_new_shm(|| {
        run(BIN, &[]).assert_code(0);
        run(BIN, &["--fail", "1", "--workers", "1"]).assert_code(0);
    });
    let left: Vec<String> = dead_managers().difference(&before).cloned().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    contract::assert_closed_stdout_ends_quietly(BIN, &[], b"");
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    run_into_full_disk(BIN, &[]).assert_full_disk_reported();
}

#[test]
fn bad_input_exits_with_2_and_no_panic() {
    let numbers =
        "expected a comma-separated list of 1 to 100 whole numbers from -1000000 to 1000000";
    let workers = "expected a whole number of workers from 1 to 16";
    let fail = "expected a whole number from -1000000 to 1000000 (the number whose task fails)";
    let cases: [(&[&str], &str); 10] = [
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--numbers", ""], numbers),
        (&["--numbers", "1,,2"], numbers),
        (&["--numbers", "1000001"], numbers),
        (&["--numbers", "x"], numbers),
        (&["--workers", "0"], workers),
        (&["--workers", "17"], workers),
        (&["--workers", "-1"], workers),
        (&["--fail", "2,3"], fail),
        (&["--fail", "three"], fail),
    ];
    contract::assert_refused(|args| run(BIN, args), &cases);
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "Pool.map",
            "imap_unordered",
            "Manager dict",
            "--numbers",
            "--workers",
            "--fail",
            "--who",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_real_runs() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp11-pool");
    let pids_masked = |text: &str| normalise_numbers(text, "by pid ");
    for args in [
        &[][..],
        &["--fail", "3"],
        &["--who", "--workers", "2", "--numbers", "3,4,5"],
    ] {
        handout::assert_shows_transcript(&readme, "exp11-pool", args, &run(BIN, args), pids_masked);
    }
}
