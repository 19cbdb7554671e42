//! Graded checks of the student's work on inputs the handout never shows:
//! a message chosen now. The run's timeline (what ipc-core recorded, not
//! what the program printed) must show the message put on the Queue by
//! the sender process and taken from it by the receiver process, the two
//! running at the same time. A program that prints the message without
//! it crossing the Queue fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Evidence, Inputs, Messages, quoted};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-queue");

/// The seed's message.
const MESSAGE: &str = "Hello, introduction to distributed computing";

/// Runs exp1-queue `--fast` sending `message` (the seed's when `None`),
/// and checks the lines and that the message crossed the Queue from the
/// sender to the receiver.
fn assert_message_crosses(inputs: &Inputs, message: Option<&str>) -> Evidence {
    let mut args = vec!["--fast"];
    if let Some(message) = message {
        args.extend(["--message", message]);
    }
    let message = message.unwrap_or(MESSAGE);
    let evidence = inputs.run(BIN, &args);
    evidence.assert_prints(&[
        format!("sender is sending: {message}"),
        format!("Receiver received: {message}"),
        "IPC between processes completed.".into(),
    ]);
    evidence.assert_messages_crossed(&Messages {
        channel: "queue",
        called: "the Queue",
        texts: &[quoted(message)],
        sender: Some("sender"),
        receiver: Some("receiver"),
        in_order: true,
        meaning: "the sender must put the message on the Queue, and the receiver get it from there and print it",
    });
    evidence
}

#[test]
fn another_message_crosses_the_queue_from_sender_to_receiver() {
    let mut inputs = Inputs::new();
    let message = inputs.words("words", 2..=7).join(" ");
    inputs.note("--message", &message);
    assert_message_crosses(&inputs, Some(&message));
}

#[test]
fn a_message_with_digits_and_punctuation_crosses_the_queue_whole() {
    let mut inputs = Inputs::new();
    let words = inputs.words("words", 2..=4);
    let number = inputs.number("number", 0..=1_000_000);
    let message = format!("{}, {number}! {}?", words[0], words[1..].join(" "));
    inputs.note("--message", &message);
    assert_message_crosses(&inputs, Some(&message));
}

#[test]
fn the_receiver_waits_in_get_while_the_sender_prepares_the_message() {
    assert_message_crosses(&Inputs::new(), None).assert_concurrent(
        &["sender", "receiver"],
        "the sender and the receiver must be started together, the receiver blocking in get() until the message arrives",
    );
}
