//! The counter is hostile input: any program with access to the bucket
//! may write in it. A worker that finds the counter full (`u64::MAX`)
//! ends with an error naming it, never an overflow or a panic, and
//! leaves it as it was; a value that is no number is shown with its
//! control characters escaped; and `--server` without a role is refused
//! instead of ignored.
//!
//! The real binary's roles run against a real nats-server, and the test
//! writes in the bucket as a hostile program would.

use exp1_dsm::{DEFAULT_BUCKET, DEFAULT_COUNTER};
use ipc_net::{Bucket, Connection, Key, NatsServer};
use ipc_testkit::run;

const BIN: &str = env!("CARGO_BIN_EXE_exp1-dsm");

/// A server, and the default counter in it set to `value`.
fn counter_holding(value: &[u8]) -> (NatsServer, String) {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let bucket = Bucket::open(&nc, &DEFAULT_BUCKET.parse().unwrap(), 1).unwrap();
    bucket.put(&counter(), value).unwrap();
    let url = server.urls().to_string();
    (server, url)
}

fn counter() -> Key {
    DEFAULT_COUNTER.parse().unwrap()
}

/// The counter's value now.
fn value_in(server: &NatsServer) -> Vec<u8> {
    let nc = Connection::connect(server.urls()).unwrap();
    let bucket = Bucket::open(&nc, &DEFAULT_BUCKET.parse().unwrap(), 1).unwrap();
    bucket.get(&counter()).unwrap().unwrap().value
}

#[test]
fn a_full_counter_ends_a_worker_with_an_error_not_an_overflow() {
    let full = u64::MAX.to_string();
    for how in [&[][..], &["--no-cas"]] {
        let (server, url) = counter_holding(full.as_bytes());
        let mut args = vec!["--server", &url, "--fast"];
        args.extend(how);
        args.extend(["--iterations", "3", "worker", "--per-pass", "2"]);
        run(BIN, &args)
            .assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[
                "counter in ipc-lab-exp1-dsm",
                "18446744073709551615 + 1 does not fit in 64 bits",
            ]);
        assert_eq!(value_in(&server), full.as_bytes(), "{how:?}");
    }
}

#[test]
fn a_counter_that_is_no_number_is_shown_escaped() {
    let (_server, url) = counter_holding(b"\x1b[2J\x1b]0;pwned\x07");
    run(BIN, &["--server", &url, "show"])
        .assert_code(1)
        .assert_no_panic()
        .assert_no_control_characters()
        .assert_stderr_contains(&[r#""\u{1b}[2J\u{1b}]0;pwned\u{7}" is not a counter value"#]);
}

#[test]
fn server_without_a_role_is_refused_with_2_saying_why() {
    for args in [
        &["--server", "nats://127.0.0.1:1"][..],
        &["--server", "nats://127.0.0.1:1", "--workers", "3"],
        &["--run", "p1-0", "--fast"],
    ] {
        run(BIN, args).assert_bad_usage("needs a role");
    }
}
