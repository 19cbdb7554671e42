//! A peer's message is hostile: any NATS client may publish on the
//! subject, so a receiver prints what it got with the control characters
//! escaped (`\u{1b}`, `\0`), never raw, whether the message was stored or
//! sent with `--core`; and `--server` without a role is refused instead
//! of ignored.
//!
//! The real binary's receiver runs against a real nats-server, and the
//! test publishes on the subject as a hostile sender would.

use std::time::Duration;

use exp1_mom::DEFAULT_SUBJECT;
use ipc_net::{Connection, NatsServer, RunId, Subject, WorkQueue};
use ipc_testkit::{nats, run};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-mom");
const WAIT: Duration = Duration::from_secs(30);

/// What a hostile sender sends, and how the receiver must print it.
const HOSTILE: [(&[u8], &str); 4] = [
    (
        b"\x1b[2J\x1b]0;pwned\x07",
        r"Receiver received: \u{1b}[2J\u{1b}]0;pwned\u{7}",
    ),
    (
        b"tab\there\0nul\r\nline",
        r"Receiver received: tab\there\0nul\r\nline",
    ),
    (
        "\u{202e}txt.exe\u{9b}31m".as_bytes(),
        r"Receiver received: \u{202e}txt.exe\u{9b}31m",
    ),
    (
        &[0xff, 0xfe, b'-', b'x'],
        "Receiver received: \u{fffd}\u{fffd}-x",
    ),
];

/// Starts a receiver of `HOSTILE.len()` messages on `server` (with
/// `extra` flags), publishes them with `publish` once it listens, and
/// returns what it printed.
fn received(
    server: &NatsServer,
    extra: &[&str],
    publish: impl FnOnce(&Connection, &Subject),
) -> ipc_testkit::Run {
    let nc = Connection::connect(server.urls()).unwrap();
    let id = RunId::fresh();
    let mut ready = nc.subscribe(&id.ready_subject()).unwrap();
    let count = HOSTILE.len().to_string();
    let mut args = vec!["--fast"];
    args.extend_from_slice(extra);
    args.extend(["receive", "--count", &count]);
    let receiving = nats::start_announced(BIN, server.urls(), &id, &args, |slice| {
        ready.next_within(slice).unwrap()
    });
    publish(&nc, &DEFAULT_SUBJECT.parse().unwrap());
    receiving.finish(WAIT)
}

/// The receiver printed every hostile message escaped, and nothing a
/// terminal acts on.
fn assert_escaped(run: &ipc_testkit::Run) {
    let lines: Vec<&str> = HOSTILE.iter().map(|(_, printed)| *printed).collect();
    run.assert_code(0)
        .assert_no_panic()
        .assert_no_control_characters()
        .assert_stdout_contains(&lines);
}

#[test]
fn a_hostile_sender_s_stored_messages_are_printed_escaped() {
    let server = NatsServer::start().unwrap();
    let run = received(&server, &[], |nc, subject| {
        let queue = WorkQueue::open(nc, subject, 1).unwrap();
        for (k, (payload, _)) in HOSTILE.iter().enumerate() {
            queue.publish(payload, &format!("hostile-{k}")).unwrap();
        }
    });
    assert_escaped(&run);
}

#[test]
fn a_hostile_sender_s_core_messages_are_printed_escaped() {
    let server = NatsServer::start().unwrap();
    let run = received(&server, &["--core"], |nc, subject| {
        for (payload, _) in HOSTILE {
            nc.publish(subject, payload).unwrap();
        }
    });
    assert_escaped(&run);
}

#[test]
fn server_without_a_role_is_refused_with_2_saying_why() {
    for args in [
        &["--server", "nats://127.0.0.1:1"][..],
        &[
            "--server",
            "nats://127.0.0.1:1",
            "--core",
            "--messages",
            "3",
        ],
        &["--run", "p1-0", "--fast"],
    ] {
        run(BIN, args).assert_bad_usage("needs a role");
    }
}
