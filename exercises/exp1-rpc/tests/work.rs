//! Graded checks of the student's work on lists the handout never shows,
//! chosen now, through a real NATS server the program starts. The check
//! computes the client's two lines, and the run's timeline (what ipc-core
//! and ipc-net recorded in every role, merged: not what the programs
//! printed) must show each call marshalled by the client's stub, sent on
//! the procedures' subject and received by the server, and each result
//! sent back by the server and received by the client. The calls are
//! read as JSON, so any way of writing the same call counts. A program
//! that prints the right results without calling the server fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Evidence, Inputs, py_list, unquoted};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-rpc");

const SUBJECT: &str = "ipc-lab.exp1-rpc";

/// The JSON of the messages `sender` sent on the subject and `receiver`
/// received (those that parse).
fn crossed(evidence: &Evidence, sender: &str, receiver: &str) -> Vec<Value> {
    evidence
        .texts_crossed(SUBJECT, sender, receiver)
        .iter()
        .filter_map(|text| serde_json::from_str(unquoted(text)).ok())
        .collect()
}

/// Runs exp1-rpc on `numbers` (the seed's list when `None`) and checks
/// the lines and that both calls and both results crossed the broker.
fn assert_called_remotely(inputs: &Inputs, numbers: Option<&[i64]>) {
    let evidence = inputs.run_on(BIN, &["--fast"], "--numbers", numbers);
    let numbers = numbers.unwrap_or(&[1, 2, 3, 4]);
    let squares: Vec<i64> = numbers.iter().map(|n| n * n).collect();
    let sum: i64 = squares.iter().sum();
    evidence.assert_prints(&[
        format!("Result(from server): {}", py_list(&squares)),
        format!("Sum of squares(from server): {sum}"),
    ]);

    let calls = crossed(&evidence, "client", "server");
    let results = crossed(&evidence, "server", "client");
    let shows = format!(
        "    calls the server received from the client: {calls:?}\n    results the client received from the server: {results:?}\n"
    );
    for (procedure, result) in [
        ("square_list", json!(squares)),
        ("sum_of_squares", json!(sum)),
    ] {
        let called = calls
            .iter()
            .any(|c| c["procedure"] == procedure && c["mylist"] == json!(numbers));
        if !called {
            evidence.fail(
                format!(
                    "no call of {procedure} on {} went from the client to the server on {SUBJECT}: the stub must marshal the call ({{\"procedure\": …, \"mylist\": …}}) and send it as a request",
                    py_list(numbers)
                ),
                &shows,
            );
        }
        if !results.iter().any(|r| r["result"] == result) {
            evidence.fail(
                format!(
                    "the result of {procedure}, {result}, never went from the server to the client: the stub must wait for the server's reply and unmarshal the result from it"
                ),
                &shows,
            );
        }
    }
}

#[test]
fn other_numbers_are_squared_and_summed_by_the_server_through_remote_calls() {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("--numbers", 1..=8, -999..=999);
    assert_called_remotely(&inputs, Some(&numbers));
}

#[test]
fn large_numbers_travel_to_the_server_and_their_results_back() {
    let mut inputs = Inputs::new();
    // At most eight: the timeline keeps each message's first 184 bytes,
    // and eight squares of a million fit there.
    let numbers = inputs.numbers("--numbers", 4..=8, -1_000_000..=1_000_000);
    assert_called_remotely(&inputs, Some(&numbers));
}

#[test]
fn the_seed_list_is_squared_and_summed_by_the_server_through_remote_calls() {
    assert_called_remotely(&Inputs::new(), None);
}
