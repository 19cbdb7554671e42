//! Graded checks of the student's work on inputs the handout never shows:
//! values chosen now, whose log lines the check computes. The run's
//! timeline (what ipc-core recorded, not what the program logged) must
//! show process1 writing each value into its slot of the shared Array and
//! process2 reading it from there after that write, both running at
//! once, and process2 logging `Data not available` once for each empty
//! slot (-1) it read. A program that logs the right lines without the
//! values crossing the shared memory from the writer to the polling
//! reader fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Crossing, Inputs, Lines, Stream};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-polling");

const DATA_NOT_AVAILABLE: &str =
    "INFO:process2:Data not available sleeping for 1 second before retrying";

/// Runs exp3-polling with the writer storing `values` (the seed's when
/// `None`) and checks the log and the timeline.
fn assert_values_cross(inputs: &Inputs, values: Option<&[i64]>) {
    let evidence = inputs.run_on(BIN, &["--fast"], "--values", values);
    let seed: Vec<i64> = (1..=10).collect();
    let values = values.unwrap_or(&seed);

    let parent = [format!(
        "INFO:parent:Pid: {}",
        evidence.pid_of("exp3-polling")
    )];
    let mut writer = vec![format!(
        "INFO:process1:Pid: {}",
        evidence.pid_of("process1")
    )];
    for (i, value) in (1..).zip(values) {
        writer.push(format!("INFO:process1:Writing {value}"));
        if i % 6 == 0 {
            writer.push("INFO:process1:Intentionally sleeping for 5 seconds".into());
        }
    }
    writer.push("INFO:process1:Finished process 1".into());
    let mut reader = vec![format!(
        "INFO:process2:Pid: {}",
        evidence.pid_of("process2")
    )];
    reader.extend(values.iter().map(|v| format!("INFO:process2:Read: {v}")));
    reader.push("INFO:process2:Finished process 2".into());
    let polls = [DATA_NOT_AVAILABLE.to_owned()];
    evidence.assert_interleaved(
        Stream::Stderr,
        &[
            Lines::of("INFO:parent:", &parent),
            Lines::of("INFO:process1:", &writer),
            Lines {
                prefix: "INFO:process2:",
                lines: &reader,
                repeated: &polls,
            },
        ],
    );

    let texts: Vec<String> = values.iter().map(i64::to_string).collect();
    evidence
        .assert_data_crossed(&Crossing {
            object: "array",
            called: "the shared Array",
            values: &texts,
            writers: &["process1"],
            reader: Some("process2"),
            meaning: "process1 must store each value in its slot of the shared Array, and process2 read it from there",
            ..Crossing::default()
        })
        .assert_concurrent(
            &["process1", "process2"],
            "process2 must poll the shared Array while process1 fills it",
        );

    // Each `Data not available` is a read that found a slot still empty.
    let empty_reads = evidence
        .trace
        .of_kind("read")
        .into_iter()
        .filter(|r| evidence.process_name(r.track) == "process2" && r.text() == "-1")
        .count();
    let logged = evidence
        .run
        .stderr
        .lines()
        .filter(|l| *l == DATA_NOT_AVAILABLE)
        .count();
    if empty_reads != logged {
        evidence.fail(
            format!(
                "process2 logged `Data not available` {logged} times but read an empty slot (-1) of the shared Array {empty_reads} times: each retry must follow a read of the slot that found it empty"
            ),
            "",
        );
    }
}

#[test]
fn other_values_are_written_by_process1_and_read_by_process2_from_the_shared_array() {
    let mut inputs = Inputs::new();
    let values = inputs.numbers("--values", 2..=12, 0..=9999);
    assert_values_cross(&inputs, Some(&values));
}

#[test]
fn a_long_list_crosses_the_shared_array_across_the_writers_pauses() {
    let mut inputs = Inputs::new();
    let values = inputs.numbers("--values", 13..=30, 0..=999_999);
    assert_values_cross(&inputs, Some(&values));
}

#[test]
fn the_seed_values_cross_the_shared_array_from_process1_to_process2() {
    assert_values_cross(&Inputs::new(), None);
}
