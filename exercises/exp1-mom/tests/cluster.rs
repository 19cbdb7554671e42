//! More than one server: the three-node cluster of
//! `scripts/nats-cluster.sh`, on free loopback ports, in a directory of
//! the test's own; stopped by a guard when the test ends, even by a panic.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use ipc_core::Deadline;
use ipc_net::{Connection, ServerUrls, WorkQueue};
use ipc_testkit::nats::{self, Cluster};
use ipc_testkit::{DEFAULT_TIMEOUT, Running, Sig, run_command, still_running};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-mom");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/nats-cluster.sh");

fn urls(url: &str) -> ServerUrls {
    url.parse().unwrap()
}

#[test]
fn a_sender_on_node_1_reaches_a_receiver_on_node_3() {
    let cluster = Cluster::start(SCRIPT);
    cluster.script(&["status"]).assert_code(0);
    // Plain NATS: the receiver listens on node 3 first.
    let receiver =
        support::start_listening(&urls(&cluster.url(3)), &["--core", "--fast", "receive"]);
    let sent = run_command(
        nats::role(BIN, cluster.url(1), &["--core", "--fast", "send"]),
        None,
        DEFAULT_TIMEOUT,
    );
    sent.assert_code(0);
    receiver
        .finish(Duration::from_secs(30))
        .assert_prints(&["Receiver received: Hello, introduction to distributed computing"]);
    // Stored, 3 replicas: sent on node 1 with nobody listening, taken on
    // node 3.
    run_command(
        nats::role(BIN, cluster.url(1), &["--replicas", "3", "--fast", "send"]),
        None,
        DEFAULT_TIMEOUT,
    )
    .assert_code(0);
    run_command(
        nats::role(
            BIN,
            cluster.url(3),
            &["--replicas", "3", "--fast", "receive", "--timeout", "20"],
        ),
        None,
        DEFAULT_TIMEOUT,
    )
    .assert_prints(&["Receiver received: Hello, introduction to distributed computing"]);
}

#[test]
fn killing_a_node_mid_run_loses_and_duplicates_no_stored_message() {
    const COUNT: usize = 1000;
    let cluster = Cluster::start(SCRIPT);
    let count = COUNT.to_string();
    let mut receiver = support::start_listening(
        &urls(&cluster.url(3)),
        &[
            "--replicas",
            "3",
            "receive",
            "--count",
            &count,
            "--timeout",
            "90",
        ],
    );
    let sender = Running::start(
        nats::role(
            BIN,
            cluster.url(1),
            &[
                "--replicas",
                "3",
                "--fast",
                "send",
                "--messages",
                &count,
                "--interval",
                "3000",
            ],
        ),
        false,
    );
    // A third of the way: kill the node that leads the stream. A sender
    // that fails before fails the test at once, with what it said.
    let mut sender = Some(sender);
    let mut sent = None;
    let deadline = Deadline::after(Duration::from_secs(60));
    while !receiver.has_lines(COUNT / 3, Duration::from_millis(100), |_| true) {
        if let Some(running) = sender.take_if(|s| still_running(&[s.pid()]).is_empty()) {
            let run = running.finish(Duration::from_secs(10));
            run.assert_code(0).assert_no_panic();
            sent = Some(run);
        }
        if deadline.has_passed() {
            // Stop both roles for what they said, with the nodes' logs.
            let sender = sender.map(|running| {
                running.signal(Sig::SIGTERM);
                running.finish(Duration::from_secs(10))
            });
            receiver.signal(Sig::SIGTERM);
            let received = receiver.finish(Duration::from_secs(10));
            panic!(
                "the receiver had fewer than {} messages after 60 s\n\
                 receiver: {received}\nsender: {}\nnodes:\n{}",
                COUNT / 3,
                sender.or(sent).map_or("?".into(), |run| run.to_string()),
                cluster.log_tails(15)
            );
        }
    }
    let leader = {
        let nc = Connection::connect(&urls(&cluster.url(2))).unwrap();
        let queue = WorkQueue::open(&nc, &"ipc-lab.exp1-mom".parse().unwrap(), 3).unwrap();
        queue
            .leader()
            .unwrap()
            .expect("a clustered stream has a leader")
    };
    let node = leader
        .strip_prefix("ipc-lab-n")
        .unwrap_or_else(|| panic!("leader {leader:?}"));
    cluster.script(&["kill", node]).assert_code(0);

    let sent = match (sent, sender) {
        (Some(sent), _) => sent,
        (None, Some(running)) => running.finish(Duration::from_secs(90)),
        (None, None) => unreachable!("the sender is running or has ended"),
    };
    sent.assert_code(0).assert_no_panic();
    let received = receiver.finish(Duration::from_secs(90));
    received.assert_code(0).assert_no_panic();
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for line in received.stdout_lines() {
        let k = line
            .strip_prefix("Receiver received: Hello, introduction to distributed computing #")
            .unwrap_or_else(|| panic!("{line:?}\n{received}"));
        *counts.entry(k.parse().unwrap()).or_default() += 1;
    }
    let missing: Vec<usize> = (1..=COUNT).filter(|k| !counts.contains_key(k)).collect();
    let twice: Vec<(&usize, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        missing.is_empty() && twice.is_empty(),
        "killed {leader}: missing {missing:?}, more than once {twice:?}\n{received}"
    );
    assert_eq!(counts.len(), COUNT);
    assert_eq!(sent.stdout_lines().len(), COUNT, "{sent}");
    assert!(cluster.files().exists());
}
