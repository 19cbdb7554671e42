//! A peer's message is hostile: whatever bytes reach the server's queue
//! or a client's reply queue end in a value or a clear reason, never a
//! panic, and a peer's text is printed with its control characters
//! escaped.
//!
//! The decoders get random, truncated and extreme inputs from a seeded
//! generator (a failure repeats, and names its input); the real binaries
//! get the messages a hostile process of the same user could send with
//! `mq_send`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::time::Duration;

use exp3_clientserver::protocol::{Reply, Request, bare, reply_name};
use ipc_core::IpcName;
use ipc_core::mqueue::MessageQueue;
use ipc_testkit::{EXTREME_NUMBERS, Running, SIGNAL_DEADLINE, Sig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-clientserver");
const WAIT: Duration = Duration::from_secs(30);

/// How many inputs each property test feeds to the decoders.
const INPUTS: usize = 50_000;

fn server() -> IpcName {
    IpcName::new("exp3-clientserver").unwrap()
}

/// Decodes `bytes` as a request and as a reply; panics with the input if
/// a decoder panics, or if what it accepted does not read back the same
/// (or cannot be answered without a panic).
fn decode(bytes: &[u8]) -> usize {
    let server = server();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let request = Request::parse(bytes, &server);
        if let Ok(Request::Square(asked)) = &request {
            Reply::to(asked.number);
        }
        (request, Reply::parse(bytes))
    }));
    let Ok((request, reply)) = outcome else {
        panic!(
            "decoding panicked on {bytes:02x?} ({:?})",
            String::from_utf8_lossy(bytes)
        );
    };
    if let Ok(request) = &request {
        let again = Request::parse(request.to_text().as_bytes(), &server);
        assert_eq!(again.as_ref(), Ok(request), "{bytes:02x?}");
    }
    if let Ok(reply) = &reply {
        assert_eq!(Reply::parse(reply.to_text().as_bytes()).as_ref(), Ok(reply));
        // Printed, a refusal shows no control character.
        assert!(
            !reply.to_string().chars().any(char::is_control),
            "{reply:?}"
        );
    }
    usize::from(request.is_ok()) + usize::from(reply.is_ok())
}

/// Random words and numbers in the shapes of a request and a reply.
fn random_message(rng: &mut StdRng) -> Vec<u8> {
    let word = |rng: &mut StdRng| -> String {
        match rng.random_range(0..10) {
            0 => EXTREME_NUMBERS[rng.random_range(0..EXTREME_NUMBERS.len())].to_owned(),
            1 => rng.random::<i64>().to_string(),
            2 => rng.random::<u32>().to_string(),
            3 => format!("ipc-lab-{}-exp3-clientserver-reply", rng.random::<u32>()),
            4 => "square".to_owned(),
            5 => "error:".to_owned(),
            6 => "x".repeat(rng.random_range(0..300)),
            7 => ["stop", "", " ", "\0", "\u{1b}[2J", "é", "/", "-"][rng.random_range(0..8)].into(),
            _ => (0..rng.random_range(0..8))
                .map(|_| rng.random::<char>())
                .collect(),
        }
    };
    let words: Vec<String> = (0..rng.random_range(0..7)).map(|_| word(rng)).collect();
    let mut bytes = words.join(" ").into_bytes();
    if rng.random_ratio(1, 8) && !bytes.is_empty() {
        let at = rng.random_range(0..bytes.len());
        bytes[at] = rng.random();
    }
    bytes
}

#[test]
fn random_and_extreme_messages_decode_or_are_refused_never_a_panic() {
    let mut rng = StdRng::seed_from_u64(0xc1_1e47);
    let mut accepted = 0;
    for _ in 0..INPUTS {
        accepted += decode(&random_message(&mut rng));
        let raw: Vec<u8> = (0..rng.random_range(0..64)).map(|_| rng.random()).collect();
        decode(&raw);
    }
    // Huge lengths: far past a queue's message size.
    decode(&vec![b'7'; 1 << 20]);
    decode(format!("square 1 {} x", "9".repeat(100_000)).as_bytes());
    decode(format!("error: {}", "\u{1b}".repeat(100_000)).as_bytes());
    // The generator reaches the decoders' far ends, not only their refusals.
    assert!(
        accepted > INPUTS / 20,
        "only {accepted} messages were accepted"
    );
}

#[test]
fn every_extreme_number_is_squared_or_refused_and_every_prefix_decodes() {
    let reply = reply_name(&server(), 4242).unwrap();
    for client in EXTREME_NUMBERS {
        for number in EXTREME_NUMBERS {
            let text = format!("square {client} {number} {reply}");
            for cut in 0..=text.len() {
                if text.is_char_boundary(cut) {
                    decode(&text.as_bytes()[..cut]);
                }
            }
            if let (Ok(_), Ok(n)) = (client.parse::<u32>(), number.parse::<i64>()) {
                let expected = n.checked_mul(n).map_or_else(
                    || Reply::Refused(format!("the square of {n} does not fit in 64 bits")),
                    Reply::Square,
                );
                assert_eq!(Reply::to(n), expected, "{text}");
                assert!(Request::parse(text.as_bytes(), &server()).is_ok(), "{text}");
            }
        }
    }
}

/// A well-known queue of this test alone.
fn unique(tag: &str) -> IpcName {
    IpcName::new(&format!("cshostile-{}-{tag}", std::process::id())).unwrap()
}

/// The length of a message on `queue` within `slice`; `None` if none came.
fn received(queue: &MessageQueue, buf: &mut [u8], slice: Duration) -> Option<usize> {
    match queue.receive_timeout(buf, slice) {
        Ok((len, _)) => Some(len),
        Err(ipc_core::Error::Timeout) => None,
        Err(e) => panic!("mq_timedreceive: {e}"),
    }
}

/// `exp3-clientserver server --fast --name NAME`, once it listens.
fn serving(name: &IpcName) -> Running {
    let mut command = Command::new(BIN);
    command.args(["server", "--fast", "--name", bare(name)]);
    let mut running = Running::start(command, false);
    running.wait_for_lines(1, WAIT, |l| l.starts_with("Server (pid "));
    running
}

#[test]
fn the_server_answers_an_overflowing_square_with_an_error_and_goes_on() {
    let name = unique("overflow");
    let serving = serving(&name);
    let server = MessageQueue::open(&name).unwrap();
    // A reply queue named as a client's, a new one for each request: the
    // server removes each name once it has answered into it.
    let mut buf = [0; 128];
    for (k, number) in (1..).zip([i64::MIN, i64::MAX, -3_037_000_500, 3_037_000_499]) {
        let reply_to = reply_name(&name, std::process::id() * 10 + k).unwrap();
        let reply = MessageQueue::create(&reply_to, 1, 128).unwrap();
        let request = format!("square 1 {number} {reply_to}");
        server.send(request.as_bytes(), 0).unwrap();
        let len = serving.wait_while_running(WAIT, &format!("an answer to {request}"), |slice| {
            received(&reply, &mut buf, slice)
        });
        let answer = Reply::parse(&buf[..len]).unwrap();
        match number.checked_mul(number) {
            Some(square) => assert_eq!(answer, Reply::Square(square)),
            None => assert!(
                matches!(&answer, Reply::Refused(why) if why.contains("does not fit in 64 bits")),
                "{answer:?}"
            ),
        }
    }
    // Bytes that are no request: skipped, printed escaped.
    for junk in [
        &b"\x1b[2J\x1b]0;pwned\x07"[..],
        b"square \0 1 x",
        &[0xff; 40],
        b"",
    ] {
        server.send(junk, 0).unwrap();
    }
    let mut command = Command::new(BIN);
    command.args(["client", "2", "--name", bare(&name)]);
    let answered = ipc_testkit::run_command(command, None, WAIT);
    answered.assert_code(0).assert_no_panic();
    answered.assert_stdout_contains(&["Client 2 sent 7, received 49"]);
    serving.signal(Sig::SIGINT);
    let run = serving.finish(SIGNAL_DEADLINE);
    run.assert_code(0).assert_no_panic();
    run.assert_stdout_contains(&[
        "Server: a request ignored: \"\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\" is not a request",
        "Server: a request ignored: not UTF-8",
        "Server answered 5 requests",
    ]);
    assert!(
        !run.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the terminal\n{run}"
    );
}

/// Runs `client 1 --name NAME` against a queue this test made, takes its
/// request and answers it with `answer`; the client's run.
fn client_answered_with(tag: &str, answer: &[u8]) -> ipc_testkit::Run {
    let name = unique(tag);
    let server = MessageQueue::create(&name, 4, 512).unwrap();
    let mut command = Command::new(BIN);
    command.args(["client", "1", "--timeout", "20", "--name", bare(&name)]);
    let asking = Running::start(command, false);
    let mut buf = [0; 512];
    let len = asking.wait_while_running(WAIT, "the client's request", |slice| {
        received(&server, &mut buf, slice)
    });
    let Ok(Request::Square(asked)) = Request::parse(&buf[..len], &name) else {
        panic!("not a request: {:?}", String::from_utf8_lossy(&buf[..len]));
    };
    MessageQueue::open(&asked.reply)
        .unwrap()
        .send(answer, 0)
        .unwrap();
    asking.finish(WAIT)
}

#[test]
fn a_client_prints_a_hostile_answer_escaped_and_fails() {
    for (tag, answer, says) in [
        (
            "refused",
            &b"error: \x1b[2Jbye\0"[..],
            "the server's answer: refused: \"\\u{1b}[2Jbye\\0\"",
        ),
        (
            "junk",
            b"\x1b]0;pwned\x07",
            "the server's answer: \"\\u{1b}]0;pwned\\u{7}\" is not an answer",
        ),
        (
            "huge",
            b"99999999999999999999999",
            "\"99999999999999999999999\" is not an answer",
        ),
    ] {
        let run = client_answered_with(tag, answer);
        run.assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[says]);
        assert!(!run.stdout.contains("received"), "{run}");
        let printed = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !printed.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the terminal\n{run}"
        );
    }
}
