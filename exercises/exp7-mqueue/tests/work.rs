//! Graded checks of the student's work on inputs the handout never shows:
//! messages and priorities chosen now, whose lines the check computes
//! (highest priority first, equal ones in the order sent). The run's
//! timeline (what ipc-core recorded, not what the program printed) must
//! show each message sent on the POSIX message queue by the sender
//! process and received from it by the main program, in that order. A
//! program that prints the messages without them crossing the queue fails
//! them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_core::mqueue::{Limits, MSG_MAX_FILE, MSGSIZE_MAX_FILE};
use ipc_testkit::evidence::{Inputs, Messages, quoted};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-mqueue");

/// Runs the default run `--fast` sending `messages` (the seed's when
/// `None`); checks the lines (the queue's name and the sender's pid as
/// printed) and that every message crossed the queue from the sender to
/// the main program, highest priority first.
fn assert_messages_cross(inputs: &Inputs, messages: Option<&[(String, u32)]>) {
    let seed: Vec<(String, u32)> = [("First", 1), ("second", 5), ("third?", 1), ("urgent", 9)]
        .map(|(m, p)| (m.to_string(), p))
        .to_vec();
    let joined = messages.map(|m| {
        m.iter()
            .map(|(m, p)| format!("{m}:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    });
    let mut args = vec!["--fast"];
    if let Some(joined) = &joined {
        args.extend(["--messages", joined]);
    }
    let messages = messages.unwrap_or(&seed);
    let evidence = inputs.run(BIN, &args);
    // The name and the pid change from run to run: taken as printed.
    let lines = evidence.run.stdout_lines();
    let path = lines
        .first()
        .and_then(|l| l.strip_prefix("Message queue "))
        .and_then(|l| l.strip_suffix(" created (mode 0600)"))
        .unwrap_or("<the queue's name>");
    let pid = lines
        .get(3)
        .and_then(|l| l.strip_prefix("Sender (pid "))
        .and_then(|l| l.split_once(')'))
        .map_or("<pid>", |(pid, _)| pid);
    let limits = Limits::read().expect("/proc/sys/fs/mqueue");
    let mut expected = vec![
        format!("Message queue {path} created (mode 0600)"),
        format!(
            "System limits: msg_max {} ({MSG_MAX_FILE}), msgsize_max {} ({MSGSIZE_MAX_FILE})",
            limits.msg_max, limits.msgsize_max
        ),
        "Attributes: maxmsg 8, msgsize 64, curmsgs 0".into(),
        format!("Sender (pid {pid}) opened {path} by its name"),
    ];
    for (message, priority) in messages {
        expected.push(format!("Sent the message: {message} (priority {priority})"));
    }
    expected.extend([
        format!("Sender (pid {pid}) has exited; its messages wait in the queue"),
        format!(
            "Attributes: maxmsg 8, msgsize 64, curmsgs {}",
            messages.len()
        ),
        "Receiving, highest priority first:".into(),
    ]);
    // Highest priority first; a stable sort keeps equal ones in order.
    let mut delivered = messages.to_vec();
    delivered.sort_by_key(|&(_, p)| std::cmp::Reverse(p));
    for (message, priority) in &delivered {
        expected.push(format!(
            "Received the message: {message} (priority {priority})"
        ));
    }
    expected.extend([
        "Queue is now empty!".into(),
        format!("Message queue {path} unlinked"),
    ]);
    evidence.assert_prints(&expected);
    let texts: Vec<String> = delivered
        .iter()
        .map(|(m, p)| format!("{} (priority {p})", quoted(m)))
        .collect();
    evidence.assert_messages_crossed(&Messages {
        channel: "/ipc-lab-",
        called: "the message queue",
        texts: &texts,
        sender: Some("sender"),
        receiver: Some("exp7-mqueue"),
        in_order: true,
        meaning: "the sender process must send each message with its priority on the queue (mq_send), and the main program receive them from it, highest priority first",
    });
}

/// Words with priorities: random ones, or all `same`.
fn with_priorities(inputs: &mut Inputs, same: Option<u32>) -> Vec<(String, u32)> {
    let words = inputs.words("words", 2..=8);
    let pairs: Vec<(String, u32)> = words
        .into_iter()
        .map(|w| {
            let p = same.unwrap_or_else(|| inputs.number("priority", 0..=31) as u32);
            (w, p)
        })
        .collect();
    let shown: Vec<String> = pairs.iter().map(|(m, p)| format!("{m}:{p}")).collect();
    inputs.note("--messages", shown.join(","));
    pairs
}

#[test]
fn other_messages_are_received_highest_priority_first_from_the_queue() {
    let mut inputs = Inputs::new();
    let messages = with_priorities(&mut inputs, None);
    assert_messages_cross(&inputs, Some(&messages));
}

#[test]
fn equal_priorities_are_received_in_the_order_sent() {
    let mut inputs = Inputs::new();
    let priority = inputs.number("the one priority", 0..=31) as u32;
    let messages = with_priorities(&mut inputs, Some(priority));
    assert_messages_cross(&inputs, Some(&messages));
}

#[test]
fn the_seed_messages_cross_the_queue_from_the_sender_to_the_main_program() {
    assert_messages_cross(&Inputs::new(), None);
}
