//! Runs the real `exp7-queue` binary and checks it prints seed 000's
//! choice-2 lines, with every square, on every run.

use ipc_testkit::{assert_no_new_shm, handout, run, run_to_file};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-queue");

const EXPECTED: [&str; 8] = [
    "The following Array is going to simulate the shared memory",
    "1 2 3 4 ",
    "Queue elements:",
    "1",
    "4",
    "9",
    "16",
    "Queue is now empty!",
];

#[test]
fn prints_the_seed_lines() {
    run(BIN, &[]).assert_prints(&EXPECTED);
}

#[test]
fn fast_prints_the_same_lines() {
    run(BIN, &["--fast"]).assert_prints(&EXPECTED);
}

#[test]
fn every_square_arrives_on_every_run_even_when_p2_starts_first() {
    // The seed's `while not q.empty()` could print no element at all (its
    // own output shows that); reading until the close cannot.
    for i in 0..20 {
        let args: &[&str] = if i % 2 == 0 { &["--together"] } else { &[] };
        println!("run {i}: {args:?}");
        run(BIN, args).assert_prints(&EXPECTED);
    }
}

#[test]
fn redirected_to_a_file_each_line_appears_once() {
    let (run, text) = run_to_file(BIN, &[]);
    run.assert_code(0);
    assert_eq!(text.lines().collect::<Vec<_>>(), EXPECTED, "file:\n{text}");
}

#[test]
fn head_closing_stdout_early_is_quiet() {
    let run = run("sh", &["-c", "\"$0\" --together | head -1", BIN]);
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stdout_lines(), [EXPECTED[0]], "{run}");
}

#[test]
fn leaves_nothing_in_dev_shm() {
    assert_no_new_shm(|| run(BIN, &["--fast"])).assert_code(0);
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    run(BIN, &["--no-such-flag"]).assert_bad_usage("--no-such-flag");
}

#[test]
fn help_explains_the_experiment() {
    run(BIN, &["--help"])
        .assert_code(0)
        .assert_stdout_contains(&["Queue", "p1", "p2", "--together", "--fast"]);
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp7-queue");
    handout::assert_shows(&readme, &run(BIN, &["--fast"]));
}
