//! Structs as messages through the real mechanisms: a `Serde<T>` of a
//! struct with nested vectors, options, strings and enums goes through a
//! `Queue`, a duplex pipe (`socketpair(2)`), a POSIX message queue and a
//! `connection` over a Unix socket, and arrives equal; a message above a
//! channel's limit is refused.
//!
//! Everything happens in this process (threads for the socket's two
//! ends): nothing forks inside the test harness. Every wait is bounded.

use std::thread;
use std::time::Duration;

use ipc_core::connection::{Client, Listener};
use ipc_core::message::structs::Serde;
use ipc_core::message::{from_bytes_limited, to_bytes};
use ipc_core::mqueue::MessageQueue;
use ipc_core::{Deadline, Error, IpcName, Queue, pipe};
use ipc_testkit::leaks::TempDir;
use serde::{Deserialize, Serialize};

/// The bound on every wait: far above what these tests need.
const BOUND: Duration = Duration::from_secs(10);

#[path = "support/order.rs"]
#[allow(dead_code)]
mod order;
use order::{Line, Order, Status};

fn orders() -> Vec<Order> {
    vec![
        Order {
            id: 1,
            name: "First".into(),
            note: None,
            lines: vec![],
            status: Status::New,
            history: vec![],
            scores: Default::default(),
        },
        Order {
            id: u32::MAX,
            name: "second, with ünïcode and a\nnewline".into(),
            note: Some(String::new()),
            lines: vec![
                Line {
                    item: "tea".into(),
                    count: 2,
                },
                Line {
                    item: "cake".into(),
                    count: 300,
                },
            ],
            status: Status::Shipped("third?".into(), 7),
            history: vec![
                None,
                Some(Status::New),
                Some(Status::Paid { amount: 2.678 }),
            ],
            scores: [(0, i64::MIN), (7, 16)].into(),
        },
    ]
}

/// An order whose encoding is about `bytes` long.
fn big_order(bytes: usize) -> Order {
    Order {
        name: "x".repeat(bytes),
        ..orders()[0].clone()
    }
}

#[test]
fn structs_go_through_a_queue() {
    let q = Queue::<Serde<Order>>::new().unwrap();
    for order in orders() {
        q.put(Serde(order)).unwrap();
    }
    for sent in orders() {
        let Serde(received) = q.get_timeout(BOUND).unwrap();
        assert_eq!(received, sent);
    }
    assert!(q.is_empty());
}

#[test]
fn a_struct_above_the_queues_limit_is_refused_and_nothing_is_put() {
    let q = Queue::<Serde<Order>>::bounded(4, 64).unwrap();
    assert!(matches!(
        q.put(Serde(big_order(100))),
        Err(Error::MessageTooLarge { limit: 64, .. })
    ));
    assert!(q.is_empty());
    q.put(Serde(big_order(10))).unwrap();
    assert_eq!(q.get_timeout(BOUND).unwrap().0, big_order(10));
}

#[test]
fn structs_go_both_ways_through_a_duplex_pipe() {
    let (mut a, mut b) = pipe::duplex::<Serde<Order>>().unwrap();
    for order in orders() {
        a.send(&Serde(order)).unwrap();
    }
    for sent in orders() {
        assert!(b.poll(BOUND).unwrap(), "a message within {BOUND:?}");
        let Serde(mut received) = b.recv().unwrap();
        assert_eq!(received, sent);
        received.id = received.id.wrapping_add(1);
        b.send(&Serde(received)).unwrap();
    }
    for sent in orders() {
        assert!(a.poll(BOUND).unwrap(), "a reply within {BOUND:?}");
        assert_eq!(a.recv().unwrap().id, sent.id.wrapping_add(1));
    }
}

#[test]
fn a_frame_above_the_receivers_limit_is_refused() {
    let (mut a, mut b) = pipe::duplex::<Serde<Order>>().unwrap();
    b.set_limit(32);
    a.send(&Serde(big_order(100))).unwrap();
    assert!(b.poll(BOUND).unwrap());
    assert!(matches!(
        b.recv(),
        Err(Error::MessageTooLarge { limit: 32, .. })
    ));
}

#[test]
fn structs_go_through_a_posix_message_queue_as_bytes() {
    let name = IpcName::unique("serde").unwrap();
    // The creator unlinks the queue when it is dropped.
    let q = MessageQueue::create(&name, 4, 256).unwrap();
    for (priority, order) in orders().into_iter().enumerate() {
        q.send(&to_bytes(&Serde(order)).unwrap(), priority as u32)
            .unwrap();
    }
    let mut buf = vec![0; q.msgsize()];
    // The highest priority first: the orders come back in reverse.
    for sent in orders().into_iter().rev() {
        let (len, _) = q.receive_timeout(&mut buf, BOUND).unwrap();
        let Serde(received) = from_bytes_limited::<Serde<Order>>(&buf[..len], q.msgsize()).unwrap();
        assert_eq!(received, sent);
    }
    // A struct longer than the queue's message size is refused by send.
    assert!(matches!(
        q.send(&to_bytes(&Serde(big_order(300))).unwrap(), 0),
        Err(Error::MessageTooLarge { limit: 256, .. })
    ));
}

#[test]
fn structs_go_both_ways_through_a_unix_socket_connection() {
    let dir = TempDir::new("serde");
    let path = dir.join("sock");
    let mut listener = Listener::bind(path.to_str().unwrap())
        .unwrap()
        .authkey(b"key");
    let address = listener.address().clone();
    let client = thread::spawn(move || -> ipc_core::Result<Vec<Order>> {
        let mut conn = Client::new(address)
            .authkey(b"key")
            .timeout(BOUND)
            .connect()?;
        conn.set_timeout(Some(BOUND));
        for order in orders() {
            conn.send(&Serde(order))?;
        }
        (0..orders().len())
            .map(|_| conn.recv::<Serde<Order>>().map(Serde::into_inner))
            .collect()
    });
    let mut conn = listener.accept_until(Deadline::after(BOUND)).unwrap();
    conn.set_timeout(Some(BOUND));
    for sent in orders() {
        let Serde(mut received) = conn.recv::<Serde<Order>>().unwrap();
        assert_eq!(received, sent);
        received.status = Status::Paid { amount: 1.5 };
        conn.send(&Serde(received)).unwrap();
    }
    let replies = client.join().expect("the client thread").unwrap();
    assert_eq!(replies.len(), orders().len());
    assert!(
        replies
            .iter()
            .all(|r| r.status == Status::Paid { amount: 1.5 })
    );
}

#[test]
fn a_peer_of_another_type_gets_an_error_not_a_panic() {
    #[derive(Debug, Serialize, Deserialize)]
    struct Other {
        id: u8,
        flags: Vec<bool>,
    }
    let (mut a, mut b) = pipe::duplex::<Serde<Other>>().unwrap();
    // An order's frame, where the receiver expects an `Other`.
    a.send_bytes(&to_bytes(&Serde(orders()[1].clone())).unwrap())
        .unwrap();
    assert!(b.poll(BOUND).unwrap());
    let err = b.recv().unwrap_err();
    assert!(matches!(err, Error::Message(_)), "{err}");
}
