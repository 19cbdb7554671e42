//! What `ipc_core::connection` does with process-wide state: the run's
//! trace (every message a send and a receive on the same named channel)
//! and Ctrl-C (a blocked accept or receive ends with
//! `Error::Interrupted`).
//!
//! One test function runs the scenarios one after another: a trace log
//! and the signal flag belong to the whole process, and would disturb
//! tests running on other threads of the same binary.

use std::thread;
use std::time::Duration;

use ipc_core::blocking::Deadline;
use ipc_core::connection::{Client, Listener};
use ipc_core::trace::{self, Kind};
use ipc_core::{Error, signal};
use ipc_testkit::leaks::TempDir;
use nix::sys::signal::{Signal, kill};
use nix::unistd::getpid;

const BOUND: Duration = Duration::from_secs(10);

/// A client thread and the accepted end exchange two messages each way,
/// typed and raw; the trace must pair every send with its receive, on
/// channels named after the two ends.
fn traced_exchange(address: &str) {
    let log = trace::start("connection", 4096).unwrap();
    let mut listener = Listener::bind(address).unwrap().authkey(b"k");
    let client = Client::new(listener.address()).authkey(b"k");
    let talk = thread::spawn(move || {
        let mut conn = client.connect().unwrap();
        conn.set_timeout(Some(BOUND));
        conn.send(&"ping".to_string()).unwrap();
        conn.send_bytes(b"12345").unwrap();
        let pong: String = conn.recv().unwrap();
        let raw = conn.recv_bytes().unwrap();
        (pong, raw)
    });
    let mut conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
    conn.set_timeout(Some(BOUND));
    assert_eq!(conn.recv::<String>().unwrap(), "ping");
    assert_eq!(conn.recv_bytes().unwrap(), b"12345");
    conn.send(&"pong".to_string()).unwrap();
    conn.send_bytes(b"678").unwrap();
    let (pong, raw) = talk.join().unwrap();
    assert_eq!((pong.as_str(), raw.as_slice()), ("pong", &b"678"[..]));
    let trace = log.snapshot();
    trace::stop();

    let messages: Vec<(&str, &str)> = trace
        .events
        .iter()
        .filter_map(|e| match e.kind {
            Kind::Send { .. } => Some(("send", e.text.as_str())),
            Kind::Recv { .. } => Some(("recv", e.text.as_str())),
            _ => None,
        })
        .collect();
    for text in ["'ping'", "<5 bytes>", "'pong'", "<3 bytes>"] {
        assert_eq!(
            messages.iter().filter(|(_, t)| *t == text).count(),
            2,
            "{address}: {text} sent and received once each: {messages:?}"
        );
    }
    assert_eq!(
        messages.len(),
        8,
        "the handshake is not traced: {messages:?}"
    );
    let pairs = trace.message_pairs();
    assert_eq!(
        pairs.len(),
        4,
        "{address}: every send pairs with its receive: {messages:?}"
    );
    for (send, recv) in pairs {
        assert_eq!(trace.events[send].text, trace.events[recv].text);
        let Kind::Send { channel, .. } = trace.events[send].kind else {
            panic!("{:?}", trace.events[send]);
        };
        let label = trace.object_label(0, channel);
        assert!(
            label.contains('>'),
            "{address}: a channel named by its ends: {label}"
        );
    }
}

/// Runs `f` on a thread while SIGINT arrives 100 ms later; what `f`
/// gave, or a panic if it is still waiting after the bound (a wait that
/// missed the signal is a failure, not a stuck test run).
fn interrupted<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    thread::sleep(Duration::from_millis(100));
    kill(getpid(), Signal::SIGINT).unwrap();
    let got = rx
        .recv_timeout(Duration::from_secs(2))
        .expect("still waiting 2 s after SIGINT");
    signal::clear();
    got
}

/// SIGINT while an accept or a receive waits: it ends with
/// `Error::Interrupted` within the polling interval.
fn ctrl_c_ends_the_waits() {
    signal::install().unwrap();
    let listener = Listener::bind("127.0.0.1:0").unwrap();
    let (mut listener, err) = interrupted(move || {
        let mut listener = listener;
        let err = listener.accept().unwrap_err();
        (listener, err)
    });
    assert!(matches!(err, Error::Interrupted), "{err}");

    let client = Client::new(listener.address()).connect().unwrap();
    let conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
    let (mut conn, err) = interrupted(move || {
        let mut conn = conn;
        let err = conn.recv_bytes().unwrap_err();
        (conn, err)
    });
    assert!(matches!(err, Error::Interrupted), "{err}");
    // Nothing was half read: the connection goes on.
    drop(client);
    assert!(matches!(conn.recv_bytes(), Err(Error::Disconnected)));
    signal::uninstall().unwrap();
}

#[test]
fn traces_pair_messages_and_ctrl_c_ends_waits() {
    let dir = TempDir::new("connection-trace");
    traced_exchange("127.0.0.1:0");
    traced_exchange(dir.join("sock").to_str().unwrap());
    traced_exchange(&format!("@ipc-lab-test-trace-{}", std::process::id()));
    ctrl_c_ends_the_waits();
}
