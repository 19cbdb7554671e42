//! Graded checks of the student's work on numbers the handout never
//! shows: how many workers, their numbers and the phases chosen now. The
//! check computes every row itself. The run's timeline (what ipc-core
//! recorded, not what the program printed) must show each worker, in a
//! process of its own, writing its cell of every phase into the shared
//! Array and reading its neighbours' cells of the phase before with their
//! values, and no worker writing a cell of a phase before every worker
//! wrote its cell of the phase before: the barrier keeps the phases apart.
//! The workers go at different speeds (worker k works n - k units a
//! phase), so a worker that waits only for its neighbours gets ahead of
//! the slowest and fails it; so does a program that prints the right lines
//! without the workers.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

mod support;

use ipc_testkit::evidence::{Inputs, Phases};

const BIN: &str = env!("CARGO_BIN_EXE_exp11-phases");

/// Runs exp11-phases on `numbers` (the defaults when `None`) over
/// `phases` phases and checks the lines and the timeline.
fn assert_phases_apart(inputs: &Inputs, numbers: &[i64], phases: usize, args: &[&str]) {
    let evidence = inputs.run(BIN, args);
    evidence.assert_prints(&support::lines(numbers, phases));
    let rows: Vec<Vec<String>> = support::rows(numbers, phases)
        .iter()
        .map(|row| row.iter().map(i64::to_string).collect())
        .collect();
    let workers: Vec<String> = (0..numbers.len()).map(|k| format!("worker {k}")).collect();
    let workers: Vec<&str> = workers.iter().map(String::as_str).collect();
    evidence.assert_phases(&Phases {
        object: "array",
        called: "the shared Array",
        rows: &rows,
        workers: &workers,
        neighbours: &[-1, 0, 1],
        meaning: "in each phase every worker sums its neighbours' cells of the phase before into its own cell, then waits at the barrier until every worker has finished the phase",
    });
}

#[test]
fn other_numbers_go_through_every_phase_with_the_barrier() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 5..=9, 1..=99);
    let phases = inputs.number("--phases", 2..=4) as usize;
    let list: Vec<String> = numbers.iter().map(i64::to_string).collect();
    let (list, phases_text) = (list.join(","), phases.to_string());
    let args = ["--delay", "4", "--numbers", &list, "--phases", &phases_text];
    inputs.note("--delay", 4);
    assert_phases_apart(&inputs, &numbers, phases, &args);
}

#[test]
fn the_default_run_goes_through_every_phase_with_the_barrier() {
    assert_phases_apart(&Inputs::new(), &[3, 1, 4, 1, 5, 9, 2, 6], 3, &[]);
}
