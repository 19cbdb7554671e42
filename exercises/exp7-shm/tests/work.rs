//! Graded checks of the student's work on inputs the handout never shows:
//! each runs the real binary on numbers chosen now, computes here the lines
//! the reference prints for them, and looks in the run's timeline (what
//! ipc-core recorded, not what the program printed) for the child squaring
//! them into the shared Array and storing their sum in the shared Value,
//! and the main program reading both afterwards. A program that prints
//! the right lines without doing that work fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Crossing, Inputs, Rng};
use ipc_testkit::seed000;

const BIN: &str = env!("CARGO_BIN_EXE_exp7-shm");

/// Runs exp7-shm on `numbers` (the seed's list when `None`) and checks the
/// lines and the timeline: p1 wrote each square into the shared Array and
/// the sum into the shared Value, and the main program read them after.
fn assert_squared_by_the_child(inputs: &Inputs, numbers: Option<&[i64]>) {
    let evidence = inputs.run_on(BIN, &[], "--numbers", numbers);
    let numbers = numbers.unwrap_or(&[1, 2, 3, 4]);
    evidence.assert_prints(&seed000::shared_memory(numbers));
    let squares: Vec<String> = numbers.iter().map(|n| (n * n).to_string()).collect();
    evidence.assert_data_crossed(&Crossing {
        object: "array",
        called: "the shared Array",
        values: &squares,
        writers: &["p1"],
        meaning: "the squares were not computed in the child process p1 and stored in the shared memory",
        ..Crossing::default()
    });
    let sum = [numbers.iter().map(|n| n * n).sum::<i64>().to_string()];
    evidence.assert_data_crossed(&Crossing {
        object: "value",
        called: "the shared Value",
        values: &sum,
        writers: &["p1"],
        meaning: "the sum was not stored in the shared Value by the child process p1",
        ..Crossing::default()
    });
}

#[test]
fn other_numbers_are_squared_by_the_child_in_shared_memory() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 2..=9, -99..=99);
    assert_squared_by_the_child(&inputs, Some(&numbers));
}

#[test]
fn one_large_number_is_squared_by_the_child_in_shared_memory() {
    let mut inputs = Inputs::new();
    let magnitude = inputs.rng().random_range(1000..=10_000_i64);
    let number = if inputs.rng().random_bool(0.5) {
        -magnitude
    } else {
        magnitude
    };
    inputs.note("--numbers", number);
    assert_squared_by_the_child(&inputs, Some(&[number]));
}

#[test]
fn the_seed_list_is_squared_by_the_child_in_shared_memory() {
    assert_squared_by_the_child(&Inputs::new(), None);
}
