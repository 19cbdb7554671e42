//! Graded checks of the student's work on pass and worker counts the
//! handout never shows, chosen now, through a real NATS server the
//! program starts. The check computes the lines, and the run's timeline
//! (what ipc-net recorded of the key-value bucket in every worker, merged:
//! not what the programs printed) must show every update: worker pk made k
//! updates per pass of the counter in the bucket, each a read of the
//! value at a revision and a write of one more, by compare-and-set on
//! that revision; and the main program read the total from the bucket
//! after the last update. A program that prints the right totals without
//! the workers updating the shared counter that way fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::counter;
use ipc_testkit::evidence::{Inputs, Updates};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-dsm");

/// The counter's entry in the timeline: its subject.
const ENTRY: &str = "$KV.ipc-lab-exp1-dsm.counter";

/// Runs exp1-dsm with `workers` workers (all five, without `--workers`,
/// when `None`) of `passes` passes (the default 20 when `None`) and
/// checks the lines and the timeline.
fn assert_updated_by_compare_and_set(inputs: &Inputs, workers: Option<u64>, passes: Option<u64>) {
    let (k, n) = (workers.unwrap_or(5), passes.unwrap_or(20));
    let (k_text, n_text) = (k.to_string(), n.to_string());
    let mut args = vec!["--fast"];
    if workers.is_some() {
        args.extend(["--workers", &k_text]);
    }
    if passes.is_some() {
        args.extend(["--iterations", &n_text]);
    }
    let evidence = inputs.run(BIN, &args);
    let total = counter::total(k, n);
    let header = "Shared counter \"counter\" in the NATS key-value bucket ipc-lab-exp1-dsm, updated by compare-and-set";
    let mut lines = counter::plan(header, "workers", k, n);
    lines.extend([
        format!("Expected value: {total}"),
        format!("Final value (in main program): {total}"),
        "Lost updates: 0".into(),
    ]);
    evidence.assert_prints(&lines);

    let by: Vec<(String, u64)> = (1..=k).map(|w| (format!("p{w}"), w * n)).collect();
    let by: Vec<(&str, u64)> = by.iter().map(|(p, u)| (p.as_str(), *u)).collect();
    evidence
        .assert_updates_by_revision(&Updates {
            object: ENTRY,
            called: "the counter in the bucket",
            by: &by,
            step: 1,
            locked: true,
            meaning: "each update must read the counter and its revision, and write one more only if the revision is still the one read (bucket.update), reading again when another worker wrote first",
        })
        .assert_final_value_read(
            ENTRY,
            "the counter in the bucket",
            &total.to_string(),
            "exp1-dsm",
            "the main program prints the final value it reads from the bucket",
        );
}

#[test]
fn other_pass_counts_are_added_by_compare_and_set_by_all_five_workers() {
    let mut inputs = Inputs::new();
    let passes = inputs.number("--iterations", 2..=8) as u64;
    assert_updated_by_compare_and_set(&inputs, None, Some(passes));
}

#[test]
fn fewer_workers_add_their_share_by_compare_and_set() {
    let mut inputs = Inputs::new();
    let workers = inputs.number("--workers", 1..=4) as u64;
    let passes = inputs.number("--iterations", 2..=12) as u64;
    assert_updated_by_compare_and_set(&inputs, Some(workers), Some(passes));
}

#[test]
fn the_handouts_run_is_added_by_compare_and_set() {
    assert_updated_by_compare_and_set(&Inputs::new(), None, None);
}
