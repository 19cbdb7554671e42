//! Graded checks of the student's work on messages the handout never
//! shows, chosen now, through a real NATS server the program starts. The
//! check computes the lines, and the run's timeline (what ipc-core and
//! ipc-net recorded in every role, merged: not what the programs printed)
//! must show each message published on the subject by the sender and
//! delivered from it to a receiver, stored (a JetStream work queue) or
//! with `--core`, and with several receivers each message received by the
//! receiver that printed it. A program that prints the right lines
//! without the message crossing the broker fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use std::collections::BTreeMap;

use ipc_testkit::evidence::{Evidence, Inputs, Lines, Messages, Stream, quoted};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-mom");

const SUBJECT: &str = "ipc-lab.exp1-mom";

const DONE: &str = "IPC between processes completed.";

/// What a message must show in the timeline: published on the subject by
/// the sender, delivered to `receiver`.
fn assert_crossed(evidence: &Evidence, texts: &[String], receiver: &str, in_order: bool) {
    let texts: Vec<String> = texts.iter().map(|t| quoted(t)).collect();
    evidence.assert_messages_crossed(&Messages {
        channel: SUBJECT,
        called: "the broker's subject ipc-lab.exp1-mom",
        texts: &texts,
        sender: Some("sender"),
        receiver: Some(receiver),
        in_order,
        meaning: "the sender must publish each message on the subject (queue.publish when stored, nc.publish with --core), and the receiver print what the broker delivers to it",
    });
}

/// Runs exp1-mom with one receiver sending `message` (the seed's when
/// `None`), with `extra` arguments, and checks the lines and the timeline.
fn assert_message_crosses(inputs: &Inputs, message: Option<&str>, extra: &[&str]) {
    let mut args = vec!["--fast"];
    args.extend(extra);
    if let Some(message) = message {
        args.extend(["--message", message]);
    }
    let message = message.unwrap_or("Hello, introduction to distributed computing");
    let evidence = inputs.run(BIN, &args);
    evidence.assert_prints(&[
        format!("sender is sending: {message}"),
        format!("Receiver received: {message}"),
        DONE.to_string(),
    ]);
    assert_crossed(&evidence, &[message.to_owned()], "receiver", true);
}

#[test]
fn another_message_is_stored_by_the_broker_and_taken_by_the_receiver() {
    let mut inputs = Inputs::new();
    let message = inputs.words("--message", 1..=6).join(" ");
    assert_message_crosses(&inputs, Some(&message), &[]);
}

#[test]
fn with_core_another_message_reaches_the_listening_receiver_through_the_broker() {
    let mut inputs = Inputs::new();
    let message = inputs.words("--message", 1..=6).join(" ");
    inputs.note("with", "--core");
    assert_message_crosses(&inputs, Some(&message), &["--core"]);
}

#[test]
fn several_receivers_each_print_the_messages_the_broker_gave_them() {
    let mut inputs = Inputs::new();
    let message = inputs.words("--message", 1..=4).join(" ");
    let receivers = inputs.number("--receivers", 2..=4);
    let count = inputs.number("--messages", 1..=12);
    let (r, n) = (receivers.to_string(), count.to_string());
    let evidence = inputs.run(
        BIN,
        &[
            "--fast",
            "--message",
            &message,
            "--receivers",
            &r,
            "--messages",
            &n,
        ],
    );
    let texts: Vec<String> = if count == 1 {
        vec![message.clone()]
    } else {
        (1..=count).map(|k| format!("{message} #{k}")).collect()
    };

    // Which receiver gets which message varies: each printed its own, and
    // together every message once.
    let mut got: BTreeMap<i64, Vec<String>> = (1..=receivers).map(|i| (i, Vec::new())).collect();
    for line in evidence.run.stdout_lines() {
        if let Some(rest) = line.strip_prefix("Receiver ")
            && let Some((id, text)) = rest.split_once(" received: ")
            && let Some(texts) = id.parse().ok().and_then(|id: i64| got.get_mut(&id))
        {
            texts.push(text.to_owned());
        }
    }
    let mut all: Vec<&String> = got.values().flatten().collect();
    all.sort();
    let mut expected: Vec<&String> = texts.iter().collect();
    expected.sort();
    if all != expected {
        evidence.fail(
            format!(
                "the receivers must print every message exactly once between them: they printed {all:?}, the sender sent {expected:?}"
            ),
            "",
        );
    }
    let sent: Vec<String> = texts
        .iter()
        .map(|t| format!("sender is sending: {t}"))
        .collect();
    let received: Vec<(String, Vec<String>)> = got
        .iter()
        .map(|(i, texts)| {
            let lines = texts
                .iter()
                .map(|t| format!("Receiver {i} received: {t}"))
                .collect();
            (format!("Receiver {i} "), lines)
        })
        .collect();
    let done = [DONE.to_string()];
    let mut lines = vec![Lines::of("sender ", &sent)];
    lines.extend(
        received
            .iter()
            .map(|(prefix, lines)| Lines::of(prefix, lines)),
    );
    lines.push(Lines::of("IPC ", &done));
    evidence.assert_interleaved(Stream::Stdout, &lines);
    evidence.assert_last_line(DONE, "it comes once every role has ended");
    for (i, texts) in &got {
        assert_crossed(&evidence, texts, &format!("receiver {i}"), true);
    }
}

#[test]
fn the_seed_message_crosses_the_broker_from_the_sender_to_the_receiver() {
    assert_message_crosses(&Inputs::new(), None, &[]);
}
