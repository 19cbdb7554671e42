//! What ipc-core's `connection` records in the run's trace: every message
//! a send and a receive on the same channel, named after the two ends,
//! and the handshake not at all.
//!
//! One test function runs the cases one after another: a trace log
//! belongs to the whole process.

use std::thread;
use std::time::Duration;

use ipc_core::blocking::Deadline;
use ipc_core::connection::{Client, Listener};
use ipc_core::trace;
use ipc_testkit::leaks::TempDir;
use ipc_trace::{Kind, Trace};

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
    let trace = Trace::of(&log);
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

#[test]
fn a_connection_traces_every_message_on_a_channel_named_by_its_ends() {
    let dir = TempDir::new("connection-trace");
    traced_exchange("127.0.0.1:0");
    traced_exchange(dir.join("sock").to_str().unwrap());
    traced_exchange(&format!("@ipc-lab-test-trace-{}", std::process::id()));
}
