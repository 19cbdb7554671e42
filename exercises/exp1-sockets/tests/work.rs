//! Graded checks of the student's work on inputs the handout never shows:
//! other numbers (a client each), another number of clients, a forking
//! server, a Unix socket. Each check computes every client's line and the
//! server's count, and the run's timeline (what ipc-core recorded, not
//! what the program printed) must show each client's request sent on a
//! socket connection by that client's process and received by the
//! server's process (with `--fork`, by a process the server forked for
//! that client alone), and the square sent back on the same connection
//! and received by that client; the server and the clients running at
//! once. A program that prints the right squares without the requests
//! and answers crossing a connection fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use std::collections::BTreeSet;

use ipc_testkit::evidence::{Evidence, Inputs, Messages, Rng, quoted};
use ipc_testkit::{TempDir, squares};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-sockets");

/// How a run is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    /// One client after another, by the server's own process, over TCP.
    Iterative,
    /// A process forked per client, over TCP.
    Forking,
    /// One client after another, over a Unix socket.
    Unix,
}

/// The handler that received `request` from `client` (with `--fork`):
/// one of `handler 1` … `handler N`, forked and joined by the server.
fn handler_of(evidence: &Evidence, channel: &str, client: &str, request: &str, n: usize) -> String {
    let handler = (1..=n).map(|k| format!("handler {k}")).find(|h| {
        evidence
            .texts_crossed(channel, client, h)
            .iter()
            .any(|t| t == request)
    });
    let Some(handler) = handler else {
        evidence.fail(
            format!(
                "{request} was not received from {client} by a process the server forked for it \
                 (handler 1 … handler {n}): with --fork, the server forks a process per client, \
                 and that process serves the client's connection"
            ),
            "",
        );
    };
    let server = evidence.tracks_named("server");
    let pid = evidence.pid_of(&handler);
    let forked_by_server = evidence
        .trace
        .of_kind("join")
        .into_iter()
        .any(|j| server.contains(&j.track) && j.arg("child") == Some(pid));
    if !forked_by_server {
        evidence.fail(
            format!("{handler} served {client} but the server never joined it: the server forks a process per client, and waits for it"),
            "",
        );
    }
    handler
}

/// Runs the default run with a client per number of `numbers` (the
/// default clients when `None`, `clients` of them), served as `served`,
/// and checks the lines and the timeline.
fn assert_requests_and_answers_cross(
    inputs: &mut Inputs,
    numbers: Option<&[i64]>,
    clients: u32,
    served: Server,
) {
    let dir = TempDir::new("exp1-sockets-work");
    let path = dir.join(&format!("s{}.sock", inputs.rng().random_range(0..u32::MAX)));
    let list: Vec<String> = numbers
        .unwrap_or_default()
        .iter()
        .map(i64::to_string)
        .collect();
    let (joined, count) = (list.join(","), clients.to_string());
    let mut args = vec!["--fast"];
    match numbers {
        Some(_) => args.extend(["--numbers", &joined]),
        None => args.extend(["--clients", &count]),
    }
    match served {
        Server::Iterative => {}
        Server::Forking => args.push("--fork"),
        Server::Unix => args.extend(["--unix", path.to_str().unwrap()]),
    }
    let defaults: Vec<i64> = (1..=i64::from(clients)).map(|n| n + 5).collect();
    let numbers = numbers.unwrap_or(&defaults);
    let evidence = inputs.run(BIN, &args);
    squares::assert_lines(&evidence, numbers);

    let channel = if served == Server::Unix {
        "unix "
    } else {
        "tcp "
    };
    let called = if served == Server::Unix {
        "a Unix socket connection"
    } else {
        "a TCP connection"
    };
    let mut handlers = BTreeSet::new();
    for (n, x) in (1..).zip(numbers) {
        let client = format!("client {n}");
        let request = quoted(&format!("square {n} {x}"));
        evidence.assert_messages_crossed(&Messages {
            channel,
            called,
            texts: std::slice::from_ref(&request),
            sender: Some(&client),
            receiver: None,
            in_order: false,
            meaning: "each client must connect to the server and send its request (a Request::Square) on the connection, and the server receive it",
        });
        let server = match served {
            Server::Forking => handler_of(&evidence, channel, &client, &request, numbers.len()),
            Server::Iterative | Server::Unix => "server".to_owned(),
        };
        if !handlers.insert(server.clone()) && served == Server::Forking {
            evidence.fail(
                format!("{server} served more than one client: with --fork, each client gets a process of its own"),
                "",
            );
        }
        evidence.assert_messages_crossed(&Messages {
            channel,
            called,
            texts: std::slice::from_ref(&request),
            sender: Some(&client),
            receiver: Some(&server),
            in_order: false,
            meaning: "the server's loop must receive each client's request on that client's connection",
        });
        let answer = [quoted(&(x * x).to_string())];
        evidence.assert_messages_crossed(&Messages {
            channel,
            called,
            texts: &answer,
            sender: Some(&server),
            receiver: Some(&client),
            in_order: false,
            meaning: "the server must send each square back on the client's connection, and the client receive it there and print it",
        });
    }
    let mut everyone = vec!["server".to_string()];
    everyone.extend((1..=numbers.len()).map(|n| format!("client {n}")));
    let everyone: Vec<&str> = everyone.iter().map(String::as_str).collect();
    evidence.assert_concurrent(&everyone, "the server serves the clients while they run");
}

#[test]
fn other_numbers_are_squared_by_the_server_for_each_client_over_tcp() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 1..=6, -99_999..=99_999);
    assert_requests_and_answers_cross(&mut inputs, Some(&numbers), 0, Server::Iterative);
}

#[test]
fn many_clients_are_each_served_by_a_process_forked_for_them() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 7..=16, -3_037_000_499..=3_037_000_499);
    inputs.note("--fork", "");
    assert_requests_and_answers_cross(&mut inputs, Some(&numbers), 0, Server::Forking);
}

#[test]
fn another_number_of_clients_is_answered_over_a_unix_socket() {
    let mut inputs = Inputs::new();
    let clients = inputs.rng().random_range(2..=9_u32);
    inputs.note("--clients", clients);
    inputs.note("--unix", "a path of the check's");
    assert_requests_and_answers_cross(&mut inputs, None, clients, Server::Unix);
}

#[test]
fn the_default_clients_are_answered_over_a_connection() {
    assert_requests_and_answers_cross(&mut Inputs::new(), None, 3, Server::Iterative);
}
