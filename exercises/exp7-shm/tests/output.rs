//! Runs the real `exp7-shm` binary and checks it prints seed 000's lines.

use ipc_testkit::{assert_no_new_shm, handout, run, run_into_full_disk};
use ipc_testkit::{contract, seed000};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-shm");

#[test]
fn prints_the_seed_lines() {
    run(BIN, &[]).assert_prints(&seed000::SHARED_MEMORY);
}

#[test]
fn fast_prints_the_same_lines() {
    run(BIN, &["--fast"]).assert_prints(&seed000::SHARED_MEMORY);
}

#[test]
fn redirected_to_a_file_each_line_appears_once() {
    // A file makes stdout block-buffered in C; here the partial line
    // "1 2 3 4 " is pending when the child is forked, and must not be
    // printed by both processes.
    contract::assert_each_line_once_in_a_file(BIN, &[], &seed000::SHARED_MEMORY);
}

#[test]
fn leaves_nothing_in_dev_shm() {
    assert_no_new_shm(|| run(BIN, &["--fast"])).assert_code(0);
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    // It used to die with "failed printing to stdout" and exit code 101.
    run_into_full_disk(BIN, &[]).assert_full_disk_reported();
}

#[test]
fn a_closed_stdout_ends_every_process_quietly() {
    // The program's own exit status, not head's.
    let run = contract::assert_closed_stdout_ends_quietly(BIN, &[], b"");
    assert_eq!(run.stdout_lines(), [seed000::SHARED_MEMORY[0]], "{run}");
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run(BIN, &["--no-such-flag"]).assert_bad_usage("--no-such-flag");
    // Every wrong list gets the rule in words.
    let rule = "expected a comma-separated list of 1 to 16 whole numbers from -10000 to 10000";
    let seventeen = ["1"; 17].join(",");
    for bad in ["", "3,,5", "three", "10001", "-10001", "2.5", &seventeen] {
        run(BIN, &["--numbers", bad]).assert_bad_usage(rule);
    }
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &["shared Array", "--numbers", "--fast"],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp7-shm");
    handout::assert_shows(&readme, &run(BIN, &["--fast"]));
}
