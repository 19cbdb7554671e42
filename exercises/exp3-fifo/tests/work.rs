//! Graded checks of the student's work on messages the handout never
//! shows, chosen now, with the FIFO at a path the check chooses. The
//! check computes every process's lines, and the run's timeline (what
//! ipc-core recorded, not what the program printed) must show each
//! message written into that FIFO by the writer and read from it by the
//! reader, in order, the two running at once. A program that prints the
//! right lines without the messages crossing the named pipe fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::TempDir;
use ipc_testkit::evidence::{Inputs, Lines, Messages, Stream, quoted};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-fifo");

/// Runs the default run with its FIFO at a fresh path, the writer sending
/// `messages` (the seed's when `None`), and checks the lines and the
/// timeline.
fn assert_messages_cross(inputs: &Inputs, messages: Option<&[String]>) {
    let dir = TempDir::new("fifo-work");
    let fifo = dir.join("ipc-lab-work-fifo");
    let path = fifo.to_str().expect("a UTF-8 temporary directory");
    let joined = messages.map(|m| m.join(","));
    let mut args = vec!["--fast", "--path", path];
    if let Some(joined) = &joined {
        args.extend(["--messages", joined]);
    }
    let seed = ["First", "second", "third?"].map(String::from);
    let messages = messages.unwrap_or(&seed);
    let evidence = inputs.run(BIN, &args);

    let fifo_lines = [
        format!("FIFO created: {path} (mode 0600)"),
        format!("FIFO removed: {path}"),
    ];
    let mut writer = vec![format!(
        "Writer (pid {}): waiting for a reader to open {path}",
        evidence.pid_of("writer")
    )];
    writer.extend(messages.iter().map(|m| format!("Writer sent: {m}")));
    writer.push("Writer: done, closing the FIFO".into());
    let mut reader = vec![format!(
        "Reader (pid {}): waiting for a writer to open {path}",
        evidence.pid_of("reader")
    )];
    reader.extend(messages.iter().map(|m| format!("Reader received: {m}")));
    reader.push("Reader: end of file, every writer has closed the FIFO".into());
    evidence.assert_interleaved(
        Stream::Stdout,
        &[
            Lines::of("FIFO ", &fifo_lines),
            Lines::of("Writer", &writer),
            Lines::of("Reader", &reader),
        ],
    );
    let lines = evidence.run.stdout_lines();
    if lines.first() != Some(&fifo_lines[0].as_str())
        || lines.last() != Some(&fifo_lines[1].as_str())
    {
        evidence.fail(
            "the FIFO is created before the writer and the reader start, and removed after both ended: its two lines come first and last",
            "",
        );
    }

    let texts: Vec<String> = messages.iter().map(|m| quoted(m)).collect();
    evidence
        .assert_messages_crossed(&Messages {
            channel: path,
            called: "the FIFO",
            texts: &texts,
            sender: Some("writer"),
            receiver: Some("reader"),
            in_order: true,
            meaning: "the writer must write each message as a line into the FIFO, and the reader read it from there and print it",
        })
        .assert_concurrent(
            &["writer", "reader"],
            "a FIFO joins a writer and a reader that have it open at the same time",
        );
}

#[test]
fn other_messages_go_through_the_fifo_from_the_writer_to_the_reader() {
    let mut inputs = Inputs::new();
    let messages = inputs.words("--messages", 1..=8);
    assert_messages_cross(&inputs, Some(&messages));
}

#[test]
fn many_messages_arrive_through_the_fifo_in_the_order_written() {
    let mut inputs = Inputs::new();
    let messages = inputs.words("--messages", 9..=16);
    assert_messages_cross(&inputs, Some(&messages));
}

#[test]
fn the_seed_messages_go_through_the_fifo_from_the_writer_to_the_reader() {
    assert_messages_cross(&Inputs::new(), None);
}
