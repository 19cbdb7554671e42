//! Graded checks of the student's work on inputs the handout never shows:
//! values and burst sizes chosen now, whose lines the check computes. The
//! run's timeline (what ipc-core recorded, not what the program printed)
//! must show
//!
//! * the writer storing each value in its slot of the shared array and
//!   sending the reader a data-ready notice (SIGRTMIN) naming the slot,
//!   the reader receiving every notice, in order, and reading each slot
//!   once, after the notice that named it: notified, never polling;
//! * the burst: every SIGUSR1 and every SIGRTMIN+1 sent by the writer to
//!   the reader, one SIGUSR1 received, every SIGRTMIN+1 received in
//!   order with its number.
//!
//! A program that prints the right lines without the signals crossing
//! from the writer to the reader, or whose reader looks at the array
//! before it is told, fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

mod support;

use std::collections::BTreeMap;

use ipc_testkit::evidence::{Crossing, Evidence, Inputs, Lines, Messages, Stream};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-signals");

/// Checks the lines of a run of `values` and a burst of `signals`.
fn assert_lines(evidence: &Evidence, values: &[i64], signals: i64) {
    let parent = [format!("parent: Pid: {}", evidence.pid_of("exp4-signals"))];
    let writer = support::writer_lines(&evidence.pid_of("writer").to_string(), values, signals);
    let reader = support::reader_lines(&evidence.pid_of("reader").to_string(), values, signals);
    let lines = Lines::of;
    evidence.assert_interleaved(
        Stream::Stdout,
        &[
            lines("parent: ", &parent),
            lines("writer: ", &writer),
            lines("reader: ", &reader),
        ],
    );
}

/// The label of the channel of `event`, if it has one.
fn channel_of<'a>(evidence: &'a Evidence, event: &ipc_testkit::trace::Recorded) -> &'a str {
    event
        .arg_u("channel")
        .and_then(|c| evidence.trace.label(event.source, c))
        .unwrap_or("")
}

/// Panics unless the reader read each slot once, after it received the
/// data-ready notice (SIGRTMIN) naming that slot.
fn assert_never_polled(evidence: &Evidence, slots: usize) {
    let reader = evidence.tracks_named("reader");
    // When the reader received the notice of each slot.
    let mut told: BTreeMap<String, u64> = BTreeMap::new();
    for recv in evidence.trace.of_kind("recv") {
        if reader.contains(&recv.track) && channel_of(evidence, recv).starts_with("SIGRTMIN to pid")
        {
            told.entry(recv.text().to_owned()).or_insert(recv.ns);
        }
    }
    let mut reads: BTreeMap<u64, usize> = BTreeMap::new();
    for read in evidence.trace.of_kind("read") {
        let object = read
            .arg_u("object")
            .and_then(|o| evidence.trace.label(read.source, o))
            .unwrap_or("");
        if !reader.contains(&read.track) || object != "raw array" {
            continue;
        }
        let Some(slot) = read.arg_u("index") else {
            evidence.fail(
                "the reader read the whole shared array at once: it must read one slot, the one a notice names",
                "",
            );
        };
        *reads.entry(slot).or_default() += 1;
        let notified = told.get(&slot.to_string()).is_some_and(|&at| at <= read.ns);
        if !notified {
            evidence.fail(
                format!(
                    "the reader read slot {slot} of the shared array (it held {}) before a data-ready notice (SIGRTMIN) named that slot: it looked instead of waiting to be told (polling)",
                    read.text()
                ),
                "",
            );
        }
    }
    for slot in 0..slots as u64 {
        match reads.get(&slot).copied().unwrap_or(0) {
            1 => {}
            0 => evidence.fail(
                format!("the reader never read slot {slot} of the shared array"),
                "",
            ),
            n => evidence.fail(
                format!(
                    "the reader read slot {slot} of the shared array {n} times: once, when told, is enough (looking again and again is polling)"
                ),
                "",
            ),
        }
    }
}

/// Runs exp4-signals with the writer storing `values` (the seed's when
/// `None`) and a small burst, and checks the lines and the timeline of
/// the data-ready notices.
fn assert_notified(inputs: &mut Inputs, values: Option<&[i64]>) {
    let signals = inputs.number("--signals", 2..=9);
    let count = signals.to_string();
    let evidence = inputs.run_on(BIN, &["--fast", "--signals", &count], "--values", values);
    let seed: Vec<i64> = (1..=10).collect();
    let values = values.unwrap_or(&seed);
    assert_lines(&evidence, values, signals);

    let texts: Vec<String> = values.iter().map(i64::to_string).collect();
    evidence.assert_data_crossed(&Crossing {
        object: "raw array",
        called: "the shared array",
        values: &texts,
        writers: &["writer"],
        reader: Some("reader"),
        meaning: "the writer must store each value in its slot of the shared array, and the reader read it from there",
        ..Crossing::default()
    });
    assert_never_polled(&evidence, values.len());
    let slots: Vec<String> = (0..values.len()).map(|s| s.to_string()).collect();
    evidence.assert_messages_crossed(&Messages {
        channel: "SIGRTMIN to pid",
        called: "SIGRTMIN (data ready)",
        texts: &slots,
        sender: Some("writer"),
        receiver: Some("reader"),
        in_order: true,
        meaning: "after each store the writer must queue SIGRTMIN to the reader with the slot's number (a Notifier's send), and the reader take each notice (its Inbox's wait)",
    });
    evidence.assert_concurrent(
        &["writer", "reader"],
        "the reader must wait for the writer's notices while the writer fills the array",
    );
}

#[test]
fn other_values_are_read_when_notified_and_never_polled() {
    let mut inputs = Inputs::new();
    let values = inputs.numbers("--values", 2..=12, 0..=9999);
    assert_notified(&mut inputs, Some(&values));
}

#[test]
fn a_long_list_is_notified_across_the_writers_pauses() {
    let mut inputs = Inputs::new();
    let values = inputs.numbers("--values", 13..=30, 0..=999_999);
    assert_notified(&mut inputs, Some(&values));
}

#[test]
fn the_seed_values_are_read_when_notified_and_never_polled() {
    assert_notified(&mut Inputs::new(), None);
}

#[test]
fn a_burst_keeps_one_standard_signal_and_every_real_time_one_in_order() {
    let mut inputs = Inputs::new();
    let signals = inputs.number("--signals", 2..=400);
    let value = inputs.number("--values", 0..=999_999);
    let (count, value_text) = (signals.to_string(), value.to_string());
    let evidence = inputs.run(
        BIN,
        &["--fast", "--signals", &count, "--values", &value_text],
    );
    assert_lines(&evidence, &[value], signals);
    let numbers: Vec<String> = (1..=signals).map(|k| k.to_string()).collect();
    evidence.assert_messages_crossed(&Messages {
        channel: "SIGRTMIN+1 to pid",
        called: "SIGRTMIN+1",
        texts: &numbers,
        sender: Some("writer"),
        receiver: Some("reader"),
        in_order: true,
        meaning: "the writer must queue SIGRTMIN+1 to the reader with 1, 2, 3, … (a Notifier's send): each one arrives, in order",
    });
    evidence.assert_messages_crossed(&Messages {
        channel: "SIGRTMIN+2 to pid",
        called: "SIGRTMIN+2 (done)",
        texts: std::slice::from_ref(&count),
        sender: Some("writer"),
        receiver: Some("reader"),
        in_order: false,
        meaning: "after the burst the writer must queue SIGRTMIN+2 with the number of signals of each kind it sent",
    });
    // Every SIGUSR1 sent by the writer, one received (the first).
    let reader = evidence.tracks_named("reader");
    let writer = evidence.tracks_named("writer");
    let on_usr1 = |kind: &str, tracks: &std::collections::BTreeSet<u64>| -> Vec<String> {
        evidence
            .trace
            .of_kind(kind)
            .into_iter()
            .filter(|e| tracks.contains(&e.track))
            .filter(|e| channel_of(&evidence, e).starts_with("SIGUSR1 to pid"))
            .map(|e| e.text().to_owned())
            .collect()
    };
    if on_usr1("send", &writer) != numbers {
        evidence.fail(
            format!(
                "the writer did not send SIGUSR1 to the reader {signals} times with 1, 2, 3, … (a Notifier's send): sent {:?}",
                on_usr1("send", &writer)
            ),
            "",
        );
    }
    if on_usr1("recv", &reader) != ["1"] {
        evidence.fail(
            format!(
                "the reader should have received one SIGUSR1, the first sent, while it was busy: received {:?}",
                on_usr1("recv", &reader)
            ),
            "",
        );
    }
}
