//! Graded checks of the student's work on inputs the handout never shows:
//! messages chosen now, whose lines the check computes. The run's timeline
//! (what ipc-core recorded, not what the program printed) must show each
//! message, `END` included, sent through the pipe by p1 and received from
//! it by p2, in order; with `--concurrent`, the two running at once; with
//! `--simplex`, the messages on a one-way pipe (`pipe(2)`, not the socket
//! pair) and p2's reply on another, back to p1. A program that prints the
//! messages without them crossing the pipe from p1 to p2 fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use exp7_pipe::REPLY;
use ipc_testkit::evidence::{Evidence, Inputs, Lines, Messages, Stream, quoted};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-pipe");

/// Runs exp7-pipe with `extra` arguments sending `messages` (the seed's
/// when `None`); checks that p1 printed a line per message sent, `END`
/// included, and p2 one per message received before `END`, each in
/// order (all of p1's first when `together` is false), and that every
/// message crossed the pipe from p1 to p2.
fn assert_messages_cross(
    inputs: &Inputs,
    messages: Option<&[String]>,
    extra: &[&str],
    together: bool,
) -> Evidence {
    let (evidence, messages) = run_sending(inputs, messages, extra);
    let (sent, received) = lines_for(&messages);
    if together {
        // Each process's lines in order; how they interleave varies.
        let lines = evidence.run.stdout_lines();
        let of = |prefix: &str| -> Vec<&str> {
            lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(prefix))
                .collect()
        };
        if evidence.run.code() != Some(0)
            || of("Sent ") != sent
            || of("Received ") != received
            || lines.len() != sent.len() + received.len()
        {
            evidence.fail(
                format!(
                    "expected p1's lines, in this order:\n    {}\n  and p2's, in this order, interleaved with them:\n    {}",
                    sent.join("\n    "),
                    received.join("\n    ")
                ),
                "",
            );
        }
    } else {
        let all: Vec<&String> = sent.iter().chain(&received).collect();
        evidence.assert_prints(&all);
    }
    evidence.assert_messages_crossed(&Messages {
        channel: "socketpair",
        called: "the pipe",
        texts: &texts_for(&messages),
        sender: Some("p1"),
        receiver: Some("p2"),
        in_order: true,
        meaning: "p1 must send each message through its end of the pipe, and p2 receive it from the other end and print it",
    });
    evidence
}

/// Runs exp7-pipe with `extra` arguments, sending `messages` (the seed's
/// when `None`); the run and the messages sent (without `END`).
fn run_sending(
    inputs: &Inputs,
    messages: Option<&[String]>,
    extra: &[&str],
) -> (Evidence, Vec<String>) {
    let joined = messages.map(|m| m.join(","));
    let mut args = extra.to_vec();
    if let Some(joined) = &joined {
        args.extend(["--messages", joined]);
    }
    let seed = ["First", "second", "third?"].map(String::from);
    let messages = messages.unwrap_or(&seed).to_vec();
    (inputs.run(BIN, &args), messages)
}

/// p1's lines for `messages` (a `Sent` line per message, `END` last) and
/// p2's (a `Received` line per message before `END`).
fn lines_for(messages: &[String]) -> (Vec<String>, Vec<String>) {
    let sent = messages
        .iter()
        .chain(&["END".to_string()])
        .map(|m| format!("Sent the message: {m}"))
        .collect();
    let received = messages
        .iter()
        .map(|m| format!("Received the message: {m}"))
        .collect();
    (sent, received)
}

/// `messages` and `END` as the timeline shows them.
fn texts_for(messages: &[String]) -> Vec<String> {
    messages
        .iter()
        .map(|m| quoted(m))
        .chain([quoted("END")])
        .collect()
}

/// Runs `exp7-pipe --simplex` with `extra` arguments sending `messages`
/// (the seed's when `None`); checks each process's lines in order, however
/// they interleave, p1's line with p2's reply last, and the timeline:
/// every message on a one-way pipe from p1 to p2, the reply on a one-way
/// pipe from p2 to p1, both processes running at once.
fn assert_two_pipes(inputs: &Inputs, messages: Option<&[String]>, extra: &[&str]) {
    let mut args = vec!["--simplex"];
    args.extend(extra);
    let (evidence, messages) = run_sending(inputs, messages, &args);
    let (sent, received) = lines_for(&messages);
    let reply = [format!("Received the reply: {REPLY}")];
    evidence.assert_interleaved(
        Stream::Stdout,
        &[
            Lines::of("Sent ", &sent),
            Lines::of("Received the message: ", &received),
            Lines::of("Received the reply: ", &reply),
        ],
    );
    evidence.assert_last_line(&reply[0], "p2 answers once it has read every message");
    evidence
        .assert_messages_crossed(&Messages {
            channel: "pipe",
            called: "the first pipe",
            texts: &texts_for(&messages),
            sender: Some("p1"),
            receiver: Some("p2"),
            in_order: true,
            meaning: "with --simplex, p1 must send each message on the writing end of a one-way pipe (pipe(2), not the socket pair), and p2 receive it from its reading end and print it",
        })
        .assert_messages_crossed(&Messages {
            channel: "pipe",
            called: "the second pipe",
            texts: &[quoted(REPLY)],
            sender: Some("p2"),
            receiver: Some("p1"),
            in_order: true,
            meaning: "p2's reply must go back to p1 on a second one-way pipe",
        })
        .assert_concurrent(
            &["p1", "p2"],
            "with --simplex, p2 must be receiving while p1 waits for the reply",
        );
}

#[test]
fn other_messages_go_through_the_pipe_from_p1_to_p2() {
    let mut inputs = Inputs::new();
    let messages = inputs.words("--messages", 1..=8);
    assert_messages_cross(&inputs, Some(&messages), &[], false);
}

#[test]
fn concurrent_messages_are_received_in_the_order_sent() {
    let mut inputs = Inputs::new();
    let messages = inputs.words("--messages", 2..=8);
    inputs.note("with", "--concurrent --fast --delay 1");
    assert_messages_cross(
        &inputs,
        Some(&messages),
        &["--concurrent", "--fast", "--delay", "1"],
        true,
    )
    .assert_concurrent(
        &["p1", "p2"],
        "with --concurrent, p2 must be receiving while p1 sends",
    );
}

#[test]
fn the_seed_messages_go_through_the_pipe_from_p1_to_p2() {
    assert_messages_cross(&Inputs::new(), None, &[], false);
}

#[test]
fn with_simplex_other_messages_cross_one_pipe_and_the_reply_another() {
    let mut inputs = Inputs::new();
    let messages = inputs.words("--messages", 1..=8);
    inputs.note("with", "--simplex --fast --delay 1");
    assert_two_pipes(&inputs, Some(&messages), &["--fast", "--delay", "1"]);
}

#[test]
fn with_simplex_the_seed_messages_cross_two_pipes_one_each_way() {
    assert_two_pipes(&Inputs::new(), None, &[]);
}
