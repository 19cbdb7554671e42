//! The blocking API against the three-node cluster of
//! `scripts/nats-cluster.sh` (stopped by a guard when the test ends).

use ipc_net::{Bucket, Connection, ServerUrls};
use ipc_testkit::nats::Cluster;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/nats-cluster.sh");

#[test]
fn compare_and_set_on_a_replicated_bucket_reports_a_stale_revision() {
    let cluster = Cluster::start(SCRIPT);
    let one: ServerUrls = cluster.url(1).parse().unwrap();
    let three: ServerUrls = cluster.url(3).parse().unwrap();
    let a = Connection::connect(&one).unwrap();
    let b = Connection::connect(&three).unwrap();
    assert_ne!(a.server_name(), b.server_name());
    let name = "ipc-lab-cluster-cas".parse().unwrap();
    let key = "counter".parse().unwrap();
    let on_a = Bucket::open(&a, &name, 3).unwrap();
    let first = on_a.put(&key, b"0").unwrap();
    let on_b = Bucket::open(&b, &name, 3).unwrap();
    // Written through node 3 at the revision read: accepted.
    let second = on_b
        .update(&key, b"1", first)
        .unwrap()
        .expect("fresh revision");
    // The same revision again, through node 1: refused as stale (the
    // cluster's error code differs from a single server's).
    assert_eq!(on_a.update(&key, b"2", first).unwrap(), None);
    let entry = on_a.get(&key).unwrap().unwrap();
    assert_eq!((entry.value, entry.revision), (b"1".to_vec(), second));
    // Every node answers: the bucket is kept in three replicas.
    for n in 1..=3 {
        let urls: ServerUrls = cluster.url(n).parse().unwrap();
        let nc = Connection::connect(&urls).unwrap();
        let bucket = Bucket::open(&nc, &name, 3).unwrap();
        assert_eq!(bucket.get(&key).unwrap().unwrap().value, b"1");
    }
}

/// Compare-and-set increments through `url` until `count` succeeded.
fn increments(url: &str, count: u32) -> u32 {
    let urls: ServerUrls = url.parse().unwrap();
    let nc = Connection::connect(&urls).unwrap();
    let bucket = Bucket::open(&nc, &"ipc-lab-cluster-race".parse().unwrap(), 3).unwrap();
    let key = "counter".parse().unwrap();
    let mut conflicts = 0;
    for _ in 0..count {
        loop {
            let entry = bucket.get(&key).unwrap().unwrap();
            let v: u32 = String::from_utf8(entry.value).unwrap().parse().unwrap();
            match bucket.update(&key, (v + 1).to_string().as_bytes(), entry.revision) {
                Ok(Some(_)) => break,
                Ok(None) => conflicts += 1,
                Err(e) => panic!("a conflict must be reported as one, not as {e}"),
            }
        }
    }
    conflicts
}

#[test]
fn racing_compare_and_set_through_two_nodes_loses_nothing() {
    let cluster = Cluster::start(SCRIPT);
    let urls: ServerUrls = cluster.url(2).parse().unwrap();
    let nc = Connection::connect(&urls).unwrap();
    let bucket = Bucket::open(&nc, &"ipc-lab-cluster-race".parse().unwrap(), 3).unwrap();
    let key = "counter".parse().unwrap();
    bucket.put(&key, b"0").unwrap();
    let (one, three) = (cluster.url(1), cluster.url(3));
    let conflicts: u32 = std::thread::scope(|s| {
        let a = s.spawn(|| increments(&one, 100));
        let b = s.spawn(|| increments(&three, 100));
        a.join().unwrap() + b.join().unwrap()
    });
    let total = bucket.get(&key).unwrap().unwrap().value;
    assert_eq!(total, b"200", "{conflicts} conflicts");
}
