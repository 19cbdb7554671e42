//! Graded checks of the student's work on inputs the handout never shows:
//! messages chosen now, whose lines the check computes. The run's timeline
//! (what ipc-core recorded, not what the program printed) must show each
//! message, `END` included, sent through the pipe by p1 and received from
//! it by p2, in order; with `--concurrent`, the two running at once. A
//! program that prints the messages without them crossing the pipe from
//! p1 to p2 fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Evidence, Inputs, Messages, quoted};

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
    let joined = messages.map(|m| m.join(","));
    let mut args = extra.to_vec();
    if let Some(joined) = &joined {
        args.extend(["--messages", joined]);
    }
    let seed = ["First", "second", "third?"].map(String::from);
    let messages = messages.unwrap_or(&seed);
    let evidence = inputs.run(BIN, &args);
    let mut sent: Vec<String> = messages
        .iter()
        .map(|m| format!("Sent the message: {m}"))
        .collect();
    sent.push("Sent the message: END".into());
    let received: Vec<String> = messages
        .iter()
        .map(|m| format!("Received the message: {m}"))
        .collect();
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
    let texts: Vec<String> = messages
        .iter()
        .map(|m| quoted(m))
        .chain([quoted("END")])
        .collect();
    evidence.assert_messages_crossed(&Messages {
        channel: "socketpair",
        called: "the pipe",
        texts: &texts,
        sender: Some("p1"),
        receiver: Some("p2"),
        in_order: true,
        meaning: "p1 must send each message through its end of the pipe, and p2 receive it from the other end and print it",
    });
    evidence
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
