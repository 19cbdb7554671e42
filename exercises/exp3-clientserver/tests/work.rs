//! Graded checks of the student's work on numbers the handout never
//! shows, chosen now (a client each), with the server's queue at a name
//! the check chooses. The check computes every client's line and the
//! server's count, and the run's timeline (what ipc-core recorded, not
//! what the program printed) must show each client's request sent on the
//! server's well-known queue by that client and received by the server,
//! and its answer, the square, sent by the server on the client's own
//! reply queue and received by that client, the server and the clients
//! running at once. A program that prints the right squares without the
//! requests and answers crossing the message queues fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Inputs, Messages, Rng, quoted};
use ipc_testkit::squares;

const BIN: &str = env!("CARGO_BIN_EXE_exp3-clientserver");

/// How the timeline shows a message of a POSIX message queue.
fn on_queue(text: &str) -> String {
    format!("{} (priority 0)", quoted(text))
}

/// Runs the default run with a client per number of `numbers` (the
/// default clients, sending 6, 7 and 8, when `None`) and checks the lines
/// and the timeline.
fn assert_requests_and_answers_cross(inputs: &mut Inputs, numbers: Option<&[i64]>) {
    let server = format!("work-{}", inputs.rng().random_range(0..u32::MAX));
    inputs.note("--name", &server);
    let evidence = inputs.run_on(BIN, &["--fast", "--name", &server], "--numbers", numbers);
    let numbers = numbers.unwrap_or(&[6, 7, 8]);

    squares::assert_lines(&evidence, numbers);

    let well_known = format!("/ipc-lab-{server}");
    for (n, x) in (1..).zip(numbers) {
        let name = format!("client {n}");
        let reply = format!("ipc-lab-{}-{server}-reply", evidence.pid_of(&name));
        let request = [on_queue(&format!("square {n} {x} {reply}"))];
        evidence.assert_messages_crossed(&Messages {
            channel: &well_known,
            called: "the server's well-known queue",
            texts: &request,
            sender: Some(&name),
            receiver: Some("server"),
            in_order: false,
            meaning: "each client must send its request (Request::Square, naming its reply queue) to the server's queue, and the server receive it",
        });
        let answer = [on_queue(&(x * x).to_string())];
        evidence.assert_messages_crossed(&Messages {
            channel: &format!("/{reply}"),
            called: &format!("{name}'s reply queue"),
            texts: &answer,
            sender: Some("server"),
            receiver: Some(&name),
            in_order: false,
            meaning: "the server must send each square to the reply queue the request names, and the client receive it there and print it",
        });
    }
    let mut everyone = vec!["server".to_string()];
    everyone.extend((1..=numbers.len()).map(|n| format!("client {n}")));
    let everyone: Vec<&str> = everyone.iter().map(String::as_str).collect();
    evidence.assert_concurrent(&everyone, "the server serves the clients while they run");
}

#[test]
fn other_numbers_are_squared_by_the_server_for_each_client_over_message_queues() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 1..=6, -99_999..=99_999);
    assert_requests_and_answers_cross(&mut inputs, Some(&numbers));
}

#[test]
fn many_clients_each_get_their_own_answer_on_their_own_reply_queue() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 7..=16, -3_037_000_499..=3_037_000_499);
    assert_requests_and_answers_cross(&mut inputs, Some(&numbers));
}

#[test]
fn the_default_clients_are_answered_over_message_queues() {
    assert_requests_and_answers_cross(&mut Inputs::new(), None);
}
