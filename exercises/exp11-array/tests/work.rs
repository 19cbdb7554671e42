//! Graded checks of the student's work on inputs the handout never shows:
//! a seed chosen now, whose ten numbers the check draws itself (as the
//! reference does) to compute the lines it must print. The run's timeline
//! (what ipc-core recorded, not what the program printed) must show p1
//! writing the squares of the first five numbers into the shared Array
//! and p2 those of the last five, at the same time, and the main program
//! reading them after; and, for Example 2, the child squaring the array
//! in place while holding its lock once for the whole loop.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Crossing, Evidence, Inputs, Rng, py_list};
use rand::SeedableRng;
use rand::rngs::StdRng;

const BIN: &str = env!("CARGO_BIN_EXE_exp11-array");

/// The ten numbers the reference draws for `seed`: `i32`s in `0..=10`,
/// from a `StdRng` seeded with it.
fn numbers_for(seed: u64) -> Vec<i64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..10)
        .map(|_| i64::from(rng.random_range(0..=10_i32)))
        .collect()
}

/// Runs Exercise 2 with a seed chosen now; checks the lines and that p1
/// wrote the first five squares and p2 the last five into the shared
/// Array, which the main program read after.
fn run_exercise(inputs: &mut Inputs) -> Evidence {
    let seed: u64 = inputs.rng().random();
    inputs.note("--seed", seed);
    let numbers = numbers_for(seed);
    let squares: Vec<i64> = numbers.iter().map(|n| n * n).collect();
    let evidence = inputs.run(BIN, &["--seed", &seed.to_string()]);
    evidence.assert_prints(&[
        format!("Seed: {seed}"),
        format!("Random numbers: {}", py_list(&numbers)),
        "p1 squares the first five numbers, p2 the last five".into(),
        format!("Squares (in main program): {}", py_list(&squares)),
    ]);
    let values: Vec<String> = squares.iter().map(i64::to_string).collect();
    evidence.assert_data_crossed(&Crossing {
        object: "array",
        called: "the shared Array",
        values: &values,
        writers: &["p1", "p1", "p1", "p1", "p1", "p2", "p2", "p2", "p2", "p2"],
        meaning: "p1 must square the first five numbers and p2 the last five, each into the shared Array",
        ..Crossing::default()
    });
    evidence
}

#[test]
fn another_seed_s_squares_are_split_between_p1_and_p2_in_the_shared_array() {
    run_exercise(&mut Inputs::new());
}

#[test]
fn p1_and_p2_square_their_halves_at_the_same_time() {
    run_exercise(&mut Inputs::new()).assert_concurrent(
        &["p1", "p2"],
        "start both processes before joining either, so that they square at the same time",
    );
}

#[test]
fn example_2_is_squared_in_place_by_the_child_holding_the_lock() {
    let evidence = Inputs::new().run(BIN, &["example"]);
    let squares: Vec<i64> = (0..10).map(|n| n * n).collect();
    evidence.assert_prints(&[py_list(&squares)]);
    let values: Vec<String> = squares.iter().map(i64::to_string).collect();
    evidence.assert_data_crossed(&Crossing {
        object: "array",
        called: "the shared Array",
        values: &values,
        writers: &["p"],
        one_hold: true,
        meaning: "the child p must square every element in place, holding the array's lock once for the whole loop (`let a = a.lock()?`)",
        ..Crossing::default()
    });
}
