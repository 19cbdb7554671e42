//! Runs the real `exp11-array` binary: seed 002's Example 2 line, the
//! random numbers and their squares, `--seed`, and bad input.

use ipc_testkit::contract;
use ipc_testkit::{Run, assert_no_new_shm, handout, normalise_numbers, run, run_into_full_disk};

const BIN: &str = env!("CARGO_BIN_EXE_exp11-array");

const EXAMPLE: &str = "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]";

/// The numbers of a Python-style list `[1, 5, 2]` after `prefix`.
fn list_after(run: &Run, prefix: &str) -> Vec<i64> {
    let line = run
        .stdout_lines()
        .into_iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?}\n{run}"));
    let list = line[prefix.len()..]
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{line:?} is not a list\n{run}"));
    list.split(", ")
        .map(|n| n.parse().unwrap_or_else(|e| panic!("{n:?}: {e}\n{run}")))
        .collect()
}

/// Checks the shape of a default run and that the squares are the squares
/// of the numbers printed; returns the numbers.
fn check_squares(run: &Run) -> Vec<i64> {
    run.assert_code(0).assert_no_panic();
    let normalised = normalise_numbers(&run.stdout, "Seed: ");
    let lines: Vec<&str> = normalised.lines().collect();
    assert_eq!(lines.len(), 4, "{run}");
    assert_eq!(lines[0], "Seed: <N>", "{run}");
    assert!(lines[1].starts_with("Random numbers: ["), "{run}");
    assert_eq!(
        lines[2], "p1 squares the first five numbers, p2 the last five",
        "{run}"
    );
    assert!(
        lines[3].starts_with("Squares (in main program): ["),
        "{run}"
    );
    let numbers = list_after(run, "Random numbers: ");
    let squares = list_after(run, "Squares (in main program): ");
    assert_eq!(numbers.len(), 10, "{run}");
    assert!(numbers.iter().all(|n| (0..=10).contains(n)), "{run}");
    let expected: Vec<i64> = numbers.iter().map(|n| n * n).collect();
    assert_eq!(squares, expected, "{run}");
    assert_eq!(run.stderr, "", "{run}");
    numbers
}

#[test]
fn example_prints_the_seed_line() {
    run(BIN, &["example"]).assert_prints(&[EXAMPLE]);
}

#[test]
fn fast_is_accepted_before_and_after_example() {
    for args in [&["--fast", "example"][..], &["example", "--fast"]] {
        run(BIN, args).assert_prints(&[EXAMPLE]);
    }
    check_squares(&run(BIN, &["--fast"]));
}

#[test]
fn the_squares_are_the_squares_of_the_numbers() {
    for _ in 0..5 {
        check_squares(&run(BIN, &[]));
    }
}

#[test]
fn a_seed_repeats_the_run_exactly() {
    let first = run(BIN, &["--seed", "42"]);
    let numbers = check_squares(&first);
    assert_eq!(first.stdout_lines()[0], "Seed: 42", "{first}");
    let second = run(BIN, &["--fast", "--seed", "42"]);
    check_squares(&second);
    assert_eq!(first.stdout, second.stdout, "{first}\n{second}");

    let other = run(BIN, &["--seed", "43"]);
    assert_ne!(check_squares(&other), numbers, "{first}\n{other}");
}

#[test]
fn the_printed_seed_repeats_an_unseeded_run() {
    let first = run(BIN, &[]);
    check_squares(&first);
    let seed = first.stdout_lines()[0]["Seed: ".len()..].to_string();
    let again = run(BIN, &["--seed", &seed]);
    assert_eq!(first.stdout, again.stdout, "{first}\n{again}");
}

#[test]
fn leaves_nothing_in_dev_shm() {
    assert_no_new_shm(|| {
        run(BIN, &["--seed", "1"]).assert_code(0);
        run(BIN, &["example"]).assert_code(0);
    });
}

#[test]
fn bad_input_exits_with_2_and_no_panic() {
    let cases: [(&[&str], &str); 5] = [
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--seed", "abc"], "expected a whole number, 0 or more"),
        (&["--seed", "-1"], "expected a whole number, 0 or more"),
        (
            &["--seed", "18446744073709551616"],
            "expected a whole number, 0 or more",
        ),
        (&["--seed", "1", "example"], "not to `example`"),
    ];
    contract::assert_refused(|args| run(BIN, args), &cases);
}

#[test]
fn help_explains_the_experiment() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &["random numbers", "shared", "--seed", "--fast", "example"],
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    for args in [&["--seed", "1"][..], &["example"]] {
        contract::assert_closed_stdout_ends_quietly(BIN, args, b"");
    }
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    for args in [&["--seed", "1"][..], &["example"]] {
        run_into_full_disk(BIN, args).assert_full_disk_reported();
    }
}

#[test]
fn the_handout_shows_real_runs() {
    // Example 2, and Exercise 2 with the handout's fixed seed.
    let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp11-array");
    let shown = handout::expected_output(&readme);
    for args in [&["example"][..], &["--seed", "42"]] {
        let run = run(BIN, args);
        run.assert_code(0);
        let transcript = format!(
            "$ cargo run -q -p exp11-array -- {}\n{}",
            args.join(" "),
            run.stdout
        );
        assert!(
            shown.contains(&transcript),
            "the handout does not show this run:\n{run}"
        );
    }
}
