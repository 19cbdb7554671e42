//! The blocking API against a real private `nats-server`: each test starts
//! its own server (removed when the test ends, even a failing one).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipc_net::{Bucket, Connection, Error, NatsServer, Options, ServerUrls, Subject, WorkQueue};

fn subject(text: &str) -> Subject {
    text.parse().unwrap()
}

/// Options with a short grace, for the tests of a vanished server.
fn impatient() -> Options {
    Options {
        lost_after: Duration::from_millis(500),
        ..Options::default()
    }
}

#[test]
fn a_private_server_runs_with_jetstream_and_leaves_nothing() {
    let server = NatsServer::start().unwrap();
    let pid = server.pid().unwrap();
    let dir: PathBuf = server.dir().to_owned();
    assert!(dir.exists());
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("ipc-lab-nats-")
    );
    let url = server.urls().to_string();
    assert!(url.starts_with("nats://127.0.0.1:"), "{url}");
    let nc = Connection::connect(server.urls()).unwrap();
    // JetStream works: a stream can be made.
    let queue = WorkQueue::open(&nc, &subject("ipc-lab.t.js"), 1).unwrap();
    queue.publish(b"x", "1").unwrap();
    assert_eq!(queue.len().unwrap(), 1);
    drop(queue);
    drop(nc);
    server.stop().unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "nats-server {pid} still there"
    );
}

#[test]
fn publish_reaches_every_subscriber_and_a_queue_group_one_member() {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let s = subject("ipc-lab.t.pubsub");
    let mut a = nc.subscribe(&s).unwrap();
    let mut b = nc.subscribe(&s).unwrap();
    let mut q1 = nc.queue_subscribe(&s, "workers").unwrap();
    let mut q2 = nc.queue_subscribe(&s, "workers").unwrap();
    for i in 0..20 {
        nc.publish(&s, format!("m{i}").as_bytes()).unwrap();
    }
    let wait = Duration::from_secs(5);
    for i in 0..20 {
        assert_eq!(a.next(wait).unwrap().text(), format!("m{i}"));
        assert_eq!(b.next(wait).unwrap().text(), format!("m{i}"));
    }
    let mut got: Vec<String> = Vec::new();
    while got.len() < 20 {
        let one = q1.next_within(Duration::from_millis(200)).unwrap();
        let two = q2.next_within(Duration::from_millis(200)).unwrap();
        assert!(
            one.is_some() || two.is_some(),
            "the queue group stalled: {got:?}"
        );
        got.extend(one.into_iter().chain(two).map(|m| m.text()));
    }
    got.sort_by_key(|m| m[1..].parse::<u32>().unwrap());
    let expected: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    assert_eq!(got, expected, "each message to exactly one member");
    assert!(q1.try_next().is_none() && q2.try_next().is_none());
}

#[test]
fn a_message_published_before_anyone_listens_is_lost_in_core_nats_and_kept_in_a_stream() {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let core = subject("ipc-lab.t.core");
    nc.publish(&core, b"too early").unwrap();
    let mut late = nc.subscribe(&core).unwrap();
    assert!(
        late.next_within(Duration::from_millis(300))
            .unwrap()
            .is_none()
    );

    let stored = subject("ipc-lab.t.stored");
    let queue = WorkQueue::open(&nc, &stored, 1).unwrap();
    queue.publish(b"kept", "k1").unwrap();
    // The same id again: stored once.
    queue.publish(b"kept", "k1").unwrap();
    let mut receiver = queue.receiver("receivers").unwrap();
    let delivery = receiver.next(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(delivery.payload(), b"kept");
    assert_eq!(delivery.delivered(), 1);
    assert!(receiver.ack(&delivery).unwrap(), "confirmed");
    assert!(receiver.next(Duration::from_millis(300)).unwrap().is_none());
    assert!(queue.is_empty().unwrap());
}

#[test]
fn a_request_nobody_answers_fails_at_once_naming_the_subject() {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let s = subject("ipc-lab.t.nobody");
    let started = Instant::now();
    let error = nc
        .request_patiently(&s, b"?", Duration::from_millis(600))
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, Error::NoResponders { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("ipc-lab.t.nobody") && text.contains(&server.urls().to_string()),
        "{text}"
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(error.exit_code(), 1);
}

#[test]
fn compare_and_set_rejects_a_stale_revision() {
    let server = NatsServer::start().unwrap();
    let nc = Connection::connect(server.urls()).unwrap();
    let bucket = Bucket::open(&nc, &"ipc-lab-t".parse().unwrap(), 1).unwrap();
    let key = "counter".parse().unwrap();
    assert_eq!(bucket.get(&key).unwrap(), None);
    let first = bucket.put(&key, b"0").unwrap();
    let second = bucket
        .update(&key, b"1", first)
        .unwrap()
        .expect("fresh revision");
    assert_eq!(bucket.update(&key, b"2", first).unwrap(), None, "stale");
    let entry = bucket.get(&key).unwrap().unwrap();
    assert_eq!(
        (entry.value.as_slice(), entry.revision),
        (&b"1"[..], second)
    );
}

#[test]
fn an_unreachable_server_is_named_and_no_wait_hangs() {
    // A port nobody listens on: take one, then free it.
    let port = ipc_testkit::nats::unused_port();
    let urls = ServerUrls::loopback(port);
    let started = Instant::now();
    let error = Connection::connect(&urls).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert!(error.to_string().contains(&urls.to_string()), "{error}");
}

#[test]
fn a_server_that_goes_away_ends_a_wait_with_its_url() {
    let server = NatsServer::start().unwrap();
    let urls = server.urls().clone();
    let nc = Connection::connect_with(&urls, &impatient()).unwrap();
    let s = subject("ipc-lab.t.gone");
    let mut sub = nc.subscribe(&s).unwrap();
    server.stop().unwrap();
    let started = Instant::now();
    let error = sub.next(Duration::from_secs(30)).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, Error::Lost { .. }), "{error:?}");
    assert!(error.to_string().contains(&urls.to_string()), "{error}");
    // Publishing after it went away fails the same way.
    assert!(matches!(
        nc.publish(&s, b"x").unwrap_err(),
        Error::Lost { .. }
    ));
}

#[test]
fn the_benchmark_functions_measure_something() {
    let server = NatsServer::start().unwrap();
    let trips =
        ipc_net::bench::request_reply_round_trips(server.urls(), 32, Duration::from_millis(100))
            .unwrap();
    assert!(trips.len() >= ipc_net::bench::MIN_COUNT);
    assert!(trips.iter().all(|t| *t > Duration::ZERO));
    let flow =
        ipc_net::bench::publish_throughput(server.urls(), 32, Duration::from_millis(100)).unwrap();
    assert!(
        flow.sent >= 5 && flow.received <= flow.sent && flow.received > 0,
        "{flow:?}"
    );
    assert!(flow.messages_per_second() > 0.0);
}

#[test]
fn a_panic_stops_the_private_server_and_removes_its_directory() {
    let mut seen = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let server = NatsServer::start().unwrap();
        seen = Some((server.pid().unwrap(), server.dir().to_owned()));
        panic!("a bug while the server runs");
    }));
    assert!(outcome.is_err());
    let (pid, dir) = seen.unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "nats-server {pid} still there"
    );
}
