//! Runs the real `exp11-phases` binary: the phases of the default run and
//! of other numbers, `--no-barrier`'s damage, and bad input.

use ipc_testkit::contract;
use ipc_testkit::{Run, assert_no_new_shm, handout, run, run_into_full_disk};

mod support;

use support::lines;

const BIN: &str = env!("CARGO_BIN_EXE_exp11-phases");

#[test]
fn the_default_run_sums_every_phase_right() {
    run(BIN, &[]).assert_prints(&lines(&[3, 1, 4, 1, 5, 9, 2, 6], 3));
}

#[test]
fn fast_prints_the_same_five_times() {
    for _ in 0..5 {
        run(BIN, &["--fast"]).assert_prints(&lines(&[3, 1, 4, 1, 5, 9, 2, 6], 3));
    }
}

#[test]
fn other_numbers_and_phases_sum_right() {
    let cases: [(&str, &[i64], usize); 3] = [
        ("7,-2", &[7, -2], 1),
        (
            "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
            &(1..=16).collect::<Vec<_>>(),
            2,
        ),
        ("-1000,1000,-1000", &[-1000, 1000, -1000], 10),
    ];
    for (numbers, list, phases) in cases {
        let phases_text = phases.to_string();
        run(
            BIN,
            &["--fast", "--numbers", numbers, "--phases", &phases_text],
        )
        .assert_prints(&lines(list, phases));
    }
}

/// The last line of a run without the barrier, checked to be a verdict.
fn verdict(run: &Run) -> String {
    run.assert_code(0).assert_no_panic();
    let last = run
        .stdout_lines()
        .last()
        .copied()
        .unwrap_or_default()
        .to_string();
    assert!(
        last.starts_with("Right:") || last.starts_with("Wrong in "),
        "{run}"
    );
    last
}

#[test]
fn without_the_barrier_a_fast_worker_reads_too_early() {
    // Worker k works n - k units a phase: in phase 2 the last worker reads
    // worker 0's cell of phase 1 long before worker 0 writes it.
    let run = run(BIN, &["--no-barrier", "--delay", "20"]);
    assert!(
        run.stdout_lines()[1].ends_with("no barrier (--no-barrier)"),
        "{run}"
    );
    assert!(verdict(&run).starts_with("Wrong in "), "{run}");
}

#[test]
fn without_the_barrier_a_fast_run_still_ends_with_a_verdict() {
    verdict(&run(BIN, &["--no-barrier", "--fast"]));
}

#[test]
fn leaves_nothing_in_dev_shm() {
    assert_no_new_shm(|| {
        run(BIN, &["--fast"]).assert_code(0);
    });
}

#[test]
fn bad_input_exits_with_2_and_no_panic() {
    let rule = "2 to 16 whole numbers from -1000 to 1000";
    let cases: [(&[&str], &str); 7] = [
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--numbers", "5"], rule),
        (&["--numbers", "1,2,x"], rule),
        (&["--numbers", "1,1001"], rule),
        (
            &["--numbers", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"],
            rule,
        ),
        (&["--phases", "0"], "--phases"),
        (&["--delay", "-1"], "-1"),
    ];
    contract::assert_refused(|args| run(BIN, args), &cases);
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "Barrier",
            "--numbers",
            "--phases",
            "--delay",
            "--no-barrier",
            "--fast",
        ],
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    contract::assert_closed_stdout_ends_quietly(BIN, &["--fast"], b"");
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    run_into_full_disk(BIN, &["--fast"]).assert_full_disk_reported();
}

#[test]
fn the_handout_shows_real_runs() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp11-phases");
    let shown = handout::expected_output(&readme);
    let run = run(BIN, &[]);
    run.assert_code(0);
    let transcript = format!("$ cargo run -q -p exp11-phases\n{}", run.stdout);
    assert!(
        shown.contains(&transcript),
        "the handout does not show this run:\n{run}"
    );
}
