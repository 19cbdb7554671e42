//! A peer's message is hostile: whatever JSON (or not JSON) reaches the
//! server's skeleton or the client's stub ends in a result or a clear
//! error, never a panic; a number's square or the sum is checked; a
//! peer's text is printed with its control characters escaped; and
//! `--server` without a role is refused instead of ignored.
//!
//! The decoders get random, truncated and extreme inputs from a seeded
//! generator (a failure repeats, and names its input); the real binaries
//! get a hostile server and a hostile client, through a real nats-server.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::time::Duration;

use exp1_rpc::{DEFAULT_SUBJECT, SERVERS, Squares, dispatch};
use ipc_core::blocking::{self, Deadline};
use ipc_net::{Connection, NatsServer, RunId, ServerUrls, Subject};
use ipc_testkit::{EXTREME_NUMBERS, Running, Sig, nats, run};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_exp1-rpc");
const WAIT: Duration = Duration::from_secs(30);

/// How many inputs each property test feeds to the decoders.
const INPUTS: usize = 20_000;

/// A random JSON-ish text: calls, replies, extremes and junk.
fn random_json(rng: &mut StdRng, depth: u32) -> String {
    let list = |rng: &mut StdRng| -> String {
        let n = if rng.random_ratio(1, 50) {
            rng.random_range(0..5000)
        } else {
            rng.random_range(0..6)
        };
        let items: Vec<String> = (0..n)
            .map(|_| match rng.random_range(0..3) {
                0 => EXTREME_NUMBERS[rng.random_range(0..EXTREME_NUMBERS.len())].to_owned(),
                1 => rng.random::<i64>().to_string(),
                _ => rng.random_range(-5_i64..5).to_string(),
            })
            .collect();
        format!("[{}]", items.join(","))
    };
    match rng.random_range(0..12) {
        0 | 1 => {
            let procedure =
                ["square_list", "sum_of_squares", "cube", "", "\u{1b}[2J"][rng.random_range(0..5)];
            format!(
                r#"{{"procedure":{},"mylist":{}}}"#,
                serde_json::to_string(procedure).unwrap(),
                list(rng)
            )
        }
        2 => format!(r#"{{"result":{}}}"#, list(rng)),
        3 => format!(
            r#"{{"result":{}}}"#,
            EXTREME_NUMBERS[rng.random_range(0..EXTREME_NUMBERS.len())]
        ),
        4 => r#"{"error":"\u001b]0;pwned\u0007\u0000"}"#.to_owned(),
        5 => format!(r#"{{"error":{}}}"#, list(rng)),
        6 if depth < 4 => format!(
            r#"{{"procedure":"square_list","mylist":[{}]}}"#,
            random_json(rng, depth + 1)
        ),
        7 => "[".repeat(rng.random_range(0..300)),
        8 => list(rng),
        _ => (0..rng.random_range(0..40))
            .map(|_| rng.random::<char>())
            .collect(),
    }
}

/// Cuts `bytes` somewhere, or flips a bit, now and then.
fn mangled(rng: &mut StdRng, mut bytes: Vec<u8>) -> Vec<u8> {
    if !bytes.is_empty() && rng.random_ratio(1, 4) {
        bytes.truncate(rng.random_range(0..bytes.len()));
    }
    if !bytes.is_empty() && rng.random_ratio(1, 8) {
        let at = rng.random_range(0..bytes.len());
        bytes[at] ^= 1 << rng.random_range(0..8);
    }
    bytes
}

/// The skeleton on `bytes`: a reply of JSON with a result or an error,
/// never a panic.
fn skeleton(bytes: &[u8]) -> bool {
    let Ok(reply) = catch_unwind(|| dispatch(bytes)) else {
        panic!("dispatch panicked on {:?}", String::from_utf8_lossy(bytes));
    };
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert!(
        reply["result"].is_array() || reply["result"].is_i64() || reply["error"].is_string(),
        "{reply}"
    );
    reply.get("result").is_some()
}

#[test]
fn the_skeleton_answers_every_call_with_a_result_or_an_error() {
    let mut rng = StdRng::seed_from_u64(0x5ce1e7);
    let mut results = 0;
    for _ in 0..INPUTS {
        let call = random_json(&mut rng, 0).into_bytes();
        results += usize::from(skeleton(&mangled(&mut rng, call)));
    }
    // Every extreme number in every procedure.
    for procedure in ["square_list", "sum_of_squares"] {
        for n in EXTREME_NUMBERS {
            let call = format!(r#"{{"procedure":"{procedure}","mylist":[{n},{n}]}}"#);
            skeleton(call.as_bytes());
        }
    }
    // Huge lengths and depths.
    let many = format!(
        r#"{{"procedure":"sum_of_squares","mylist":[{}]}}"#,
        vec!["3037000499"; 100_000].join(",")
    );
    assert!(
        !skeleton(many.as_bytes()),
        "that sum does not fit in 64 bits"
    );
    skeleton(format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes());
    skeleton(&vec![b'9'; 1 << 20]);
    // The generator reaches the procedures, not only the refusals.
    assert!(results > INPUTS / 200, "only {results} calls had a result");
}

#[test]
fn the_stub_unmarshals_every_reply_to_a_value_or_an_error() {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let subject: Subject = DEFAULT_SUBJECT.parse().unwrap();
    let squares = Squares::new(&nc, &subject, WAIT);
    let mut rng = StdRng::seed_from_u64(0xab_5eed);
    for _ in 0..INPUTS {
        let reply = random_json(&mut rng, 0).into_bytes();
        let reply = mangled(&mut rng, reply);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let value = squares.unmarshal("square_list", &reply)?;
            let _ = squares.number(&value);
            squares.list(value)
        }));
        let Ok(outcome) = outcome else {
            panic!("the stub panicked on {:?}", String::from_utf8_lossy(&reply));
        };
        if let Err(error) = outcome {
            let said = error.to_string();
            assert!(!said.chars().any(char::is_control), "{said:?}");
        }
    }
}

/// A fake server on the procedures' subject that answers every call with
/// `answer`, while a client runs against it; the client's run.
fn client_answered_with(answer: &[u8]) -> ipc_testkit::Run {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let subject: Subject = DEFAULT_SUBJECT.parse().unwrap();
    let mut calls = nc.queue_subscribe(&subject, SERVERS).unwrap();
    nc.flush().unwrap();
    let url = server.urls().to_string();
    let mut command = Command::new(BIN);
    command.args(["--server", &url, "client"]);
    let asking = Running::start(command, false);
    let call = asking.wait_while_running(WAIT, "the client's call", |slice| {
        calls.next_within(slice).unwrap()
    });
    calls.respond(&call, answer).unwrap();
    asking.finish(WAIT)
}

#[test]
fn a_hostile_server_s_answers_reach_the_terminal_escaped() {
    for (answer, says) in [
        (
            &br#"{"error":"\u001b[2Jgone\u0000"}"#[..],
            r"reported an error: square_list: \u{1b}[2Jgone\0",
        ),
        (
            br#"{"result":"\u001b]0;pwned\u0007"}"#,
            r#"an unexpected reply "\u001b]0;pwned\u0007""#,
        ),
        (b"\x1b[31mred", "a reply that is not JSON"),
        (
            br#"{"result":[18446744073709551616]}"#,
            "an unexpected reply",
        ),
    ] {
        let run = client_answered_with(answer);
        run.assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[says]);
        let printed = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !printed.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the terminal\n{run}"
        );
    }
}

/// The reply of the server role `serving` to `call`, asked from a thread
/// of its own: the wait ends at once, saying how, if the server ends
/// before it answers (a call it took is never answered then).
fn asked(serving: &Running, urls: &ServerUrls, call: &[u8]) -> Vec<u8> {
    let (urls, call) = (urls.clone(), call.to_vec());
    let (sent, replied) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let subject: Subject = DEFAULT_SUBJECT.parse().unwrap();
        let reply = Connection::connect(&urls).and_then(|nc| nc.request(&subject, &call, WAIT));
        let _ = sent.send(reply.map_err(|e| e.to_string()));
    });
    serving.wait_while_running(WAIT, "the server's reply", |slice| {
        match replied.recv_timeout(slice) {
            Ok(Ok(reply)) => Some(reply),
            // No responders: the server may have just ended, and the
            // wait says how; if it still runs, this is the failure.
            Ok(Err(e)) => {
                let ending = Deadline::after(Duration::from_secs(1));
                let ended =
                    blocking::poll_until(ending, blocking::STEP_INTERVAL, || serving.ended());
                assert!(ended.is_some(), "{e}");
                None
            }
            Err(_) => None,
        }
    })
}

#[test]
fn a_hostile_client_s_calls_are_printed_escaped_by_the_server() {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let id = RunId::fresh();
    let mut ready = nc.subscribe(&id.ready_subject()).unwrap();
    let serving = nats::start_announced(BIN, server.urls(), &id, &["server"], |slice| {
        ready.next_within(slice).unwrap()
    });
    for call in [
        &b"\x1b[2J\x1b]0;pwned\x07"[..],
        br#"{"procedure":"\u001b[2J","mylist":[1]}"#,
        br#"{"procedure":"square_list","mylist":[-9223372036854775808]}"#,
        br#"{"procedure":"sum_of_squares","mylist":[3037000499,3037000499]}"#,
        &[0xff, 0x00, 0xfe],
    ] {
        let reply: Value = serde_json::from_slice(&asked(&serving, server.urls(), call)).unwrap();
        assert!(reply["error"].is_string(), "{reply}");
    }
    serving.signal(Sig::SIGTERM);
    let run = serving.finish(WAIT);
    run.assert_code(0).assert_no_panic();
    run.assert_stdout_contains(&[
        r"server: \u{1b}[2J\u{1b}]0;pwned\u{7} -> ",
        "does not fit in 64 bits",
        "server: stopped by SIGTERM after 5 calls",
    ]);
    assert!(
        !run.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the terminal\n{run}"
    );
}

#[test]
fn server_without_a_role_is_refused_with_2_saying_why() {
    for args in [
        &["--server", "nats://127.0.0.1:1"][..],
        &["--server", "nats://127.0.0.1:1", "--numbers", "3"],
        &["--run", "p1-0", "--fast"],
    ] {
        run(BIN, args).assert_bad_usage("needs a role");
    }
}
