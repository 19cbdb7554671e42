//! Graded checks of the student's work on inputs the handout never shows:
//! numbers chosen now, whose lines the check computes. The run's timeline
//! (what ipc-core recorded, not what the program printed) must show each
//! square put on the Queue by p1 and taken from it by p2, in order; with
//! `--together`, p2 waiting in `get` while p1 puts. A program that prints
//! the squares without them crossing the Queue from p1 to p2 fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Evidence, Inputs, Messages};
use ipc_testkit::seed000;

const BIN: &str = env!("CARGO_BIN_EXE_exp7-queue");

/// Runs exp7-queue with `extra` arguments on `numbers` (the seed's list
/// when `None`); checks the lines and that every square crossed the Queue
/// from p1 to p2, in order.
fn assert_squares_cross(inputs: &Inputs, numbers: Option<&[i64]>, extra: &[&str]) -> Evidence {
    let evidence = inputs.run_on(BIN, extra, "--numbers", numbers);
    let numbers = numbers.unwrap_or(&[1, 2, 3, 4]);
    evidence.assert_prints(&seed000::queue(numbers));
    let squares: Vec<String> = numbers.iter().map(|n| (n * n).to_string()).collect();
    evidence.assert_messages_crossed(&Messages {
        channel: "queue",
        called: "the Queue",
        texts: &squares,
        sender: Some("p1"),
        receiver: Some("p2"),
        in_order: true,
        meaning: "p1 must put each square on the Queue, and p2 take it off and print it",
    });
    evidence
}

#[test]
fn other_numbers_are_squared_by_p1_and_printed_by_p2_through_the_queue() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 2..=10, -999..=999);
    assert_squares_cross(&inputs, Some(&numbers), &[]);
}

#[test]
fn with_together_p2_takes_each_square_from_the_queue_as_p1_puts_it() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 2..=10, -999..=999);
    inputs.note("with", "--together --fast --delay 1");
    assert_squares_cross(
        &inputs,
        Some(&numbers),
        &["--together", "--fast", "--delay", "1"],
    )
    .assert_concurrent(
        &["p1", "p2"],
        "with --together, p2 must be waiting on the Queue while p1 puts",
    );
}

#[test]
fn the_seed_list_crosses_the_queue_from_p1_to_p2() {
    assert_squares_cross(&Inputs::new(), None, &[]);
}
