//! Graded checks of the student's work on tick counts the handout never
//! shows, chosen now. The lines process 2 prints depend on how the two
//! processes' ticks fall, so the check computes what it can: process 1's
//! lines exactly, and for process 2 the right square of every value it
//! printed, never going down and never past the last increment. The
//! run's timeline (what ipc-core recorded, not what the program printed)
//! must show process 1 making each increment in the named segment (a read
//! and a write of one more) and process 2 reading from the segment every
//! value it printed, after it was written, the two running at once. A
//! program that prints plausible lines without the counter crossing the
//! named shared memory fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Evidence, Inputs, Lines, Passed, Stream, Updates};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-counter");

const SQUARE: &str = "Process-2: Square of counter value ";

/// The values of process 2's lines, in order, if each is well formed
/// (`… value V is V²`), never goes down and stays within `0..=last`.
fn values_seen(evidence: &Evidence, last: u64) -> Vec<u64> {
    let mut values = Vec::new();
    for line in evidence.run.stdout_lines() {
        let Some(rest) = line.strip_prefix(SQUARE) else {
            continue;
        };
        let value = rest
            .split_once(" is ")
            .and_then(|(v, square)| {
                let v: u64 = v.parse().ok()?;
                (square.parse::<u64>().ok()? == v * v).then_some(v)
            })
            .unwrap_or_else(|| {
                evidence.fail(
                    format!("{line:?}: not `{SQUARE}V is V²` with the right square"),
                    "",
                )
            });
        if value > last || values.last().is_some_and(|before| value < *before) {
            let before = values.last().map_or("no value".to_owned(), u64::to_string);
            evidence.fail(
                format!(
                    "{line:?}: process 2 printed {value} after {before}, but the counter only goes up, from 0 to {last} in this run"
                ),
                "",
            );
        }
        values.push(value);
    }
    values
}

/// Runs `exp4-counter --fast` with `ticks` (the handout's twelve when
/// `None`) and checks the lines and the timeline.
fn assert_counter_crosses(inputs: &Inputs, ticks: Option<u64>) {
    let count = ticks.unwrap_or(12).to_string();
    let mut args = vec!["--fast"];
    if ticks.is_some() {
        args.extend(["--ticks", &count]);
    }
    let ticks = ticks.unwrap_or(12);
    let increments = ticks / 5;
    let evidence = inputs.run(BIN, &args);

    let mut process1: Vec<String> = (1..=increments)
        .map(|k| format!("Process-1: Counter incremented to {k}"))
        .collect();
    process1.push("Process-1 Terminated".into());
    let seen = values_seen(&evidence, increments);
    if seen.len() as u64 != ticks {
        evidence.fail(
            format!(
                "process 2 printed {} squares in {ticks} ticks: it prints one after every tick",
                seen.len()
            ),
            "",
        );
    }
    let mut process2: Vec<String> = seen
        .iter()
        .map(|v| format!("{SQUARE}{v} is {}", v * v))
        .collect();
    process2.push("Process-2 Terminated".into());
    let end = ["Processes Terminated !".to_string()];
    evidence.assert_interleaved(
        Stream::Stdout,
        &[
            Lines::of("Process-1", &process1),
            Lines::of("Process-2", &process2),
            Lines::of("Processes ", &end),
        ],
    );
    evidence.assert_last_line(&end[0], "the parent prints it after it joined both");

    // The named segment: the object whose label is its name.
    let segment = evidence
        .trace
        .objects
        .values()
        .find(|label| label.starts_with("/ipc-lab-") && label.ends_with("-counter"))
        .cloned()
        .unwrap_or_else(|| {
            evidence.fail(
                "the named shared-memory segment (/ipc-lab-…-counter) is missing from the timeline: the counter must live in it",
                "",
            )
        });
    evidence.assert_updates(&Updates {
        object: &segment,
        called: "the counter in the named segment",
        by: &[("process_1", increments)],
        step: 1,
        locked: false,
        meaning: "process 1 must read the counter from the shared memory and store it plus one, every fifth tick",
    });
    let values: Vec<String> = seen.iter().map(u64::to_string).collect();
    evidence
        .assert_values_passed(&Passed {
            object: &segment,
            called: "the counter in the named segment",
            values: &values,
            writers: &["process_1", "exp4-counter"],
            readers: &["process_2"],
            in_order: true,
            meaning: "process 2 must read the counter from the shared memory at every tick and print the square of what it read",
        })
        .assert_concurrent(
            &["process_1", "process_2"],
            "process 2 must watch the counter while process 1 increments it",
        );
}

#[test]
fn other_tick_counts_see_each_increment_cross_the_named_segment() {
    let mut inputs = Inputs::new();
    let ticks = inputs.number("--ticks", 6..=24) as u64;
    assert_counter_crosses(&inputs, Some(ticks));
}

#[test]
fn a_longer_run_sees_every_increment_cross_the_named_segment() {
    let mut inputs = Inputs::new();
    let ticks = inputs.number("--ticks", 25..=60) as u64;
    assert_counter_crosses(&inputs, Some(ticks));
}

#[test]
fn the_handouts_twelve_ticks_cross_the_named_segment() {
    assert_counter_crosses(&Inputs::new(), None);
}
