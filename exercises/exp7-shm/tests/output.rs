//! Runs the real `exp7-shm` binary and checks it prints seed 000's lines.

use ipc_testkit::{run, shm_objects};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-shm");

const EXPECTED: [&str; 6] = [
    "The following Array is going to simulate the shared memory",
    "1 2 3 4 ",
    "Result(in process p1): [1, 4, 9, 16]",
    "Sum of squares(in process p1): 30",
    "Result(in main program): [1, 4, 9, 16]",
    "Sum of squares(in main program): 30",
];

#[test]
fn prints_the_seed_lines() {
    let run = run(BIN, &[]);
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stdout_lines(), EXPECTED, "{run}");
    assert_eq!(run.stderr, "", "{run}");
}

#[test]
fn fast_prints_the_same_lines() {
    let run = run(BIN, &["--fast"]);
    run.assert_code(0);
    assert_eq!(run.stdout_lines(), EXPECTED, "{run}");
}

#[test]
fn redirected_to_a_file_each_line_appears_once() {
    // A file makes stdout block-buffered in C; here the partial line
    // "1 2 3 4 " is pending when the child is forked, and must not be
    // printed by both processes.
    let dir = std::env::temp_dir().join(format!("exp7-shm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.txt");
    let run = run(
        "sh",
        &["-c", &format!("exec \"$0\" > '{}'", file.display()), BIN],
    );
    run.assert_code(0);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), EXPECTED, "file:\n{text}");
}

#[test]
fn leaves_nothing_in_dev_shm() {
    let before = shm_objects();
    run(BIN, &["--fast"]).assert_code(0);
    let after = shm_objects();
    assert!(
        after.is_subset(&before),
        "new objects: {:?}",
        after.difference(&before)
    );
}

#[test]
fn bad_usage_exits_with_2_and_no_panic() {
    let run = run(BIN, &["--no-such-flag"]);
    run.assert_code(2).assert_no_panic();
    assert!(run.stderr.contains("--no-such-flag"), "{run}");
    assert_eq!(run.stdout, "");
}

#[test]
fn help_explains_the_experiment() {
    let run = run(BIN, &["--help"]);
    run.assert_code(0);
    assert!(run.stdout.contains("shared Array"), "{run}");
    assert!(run.stdout.contains("--fast"), "{run}");
}
