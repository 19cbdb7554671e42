//! `Manager` with real processes: children that set keys and append
//! through proxies of their own are all seen by the parent; a client
//! without the authkey is refused; a proxy whose manager was killed gets
//! an error, not a hang.
//!
//! A `harness = false` target: single-threaded, so the scenarios may fork
//! (see `ipc_testkit::scenarios`). Every wait is bounded.

use std::time::{Duration, Instant};

use ipc_core::connection::Client;
use ipc_core::{Error, Manager, Process, join_all_ok};

/// Four children each set 25 keys and append 25 values, one operation at
/// a time, all at once: the dict has all 100 keys and the list all 100
/// values.
fn every_childs_updates_are_seen() {
    let manager = Manager::<i64>::start().unwrap();
    let mut children: Vec<Process> = (0..4_i64)
        .map(|c| {
            Process::spawn(format!("child{c}"), || {
                let mut shared = manager.connect()?;
                for i in 0..25 {
                    shared.set(&format!("k{c}-{i}"), c * 100 + i)?;
                    shared.append(c * 100 + i)?;
                }
                Ok::<_, Error>(())
            })
            .unwrap()
        })
        .collect();
    join_all_ok(&mut children).unwrap();
    let mut shared = manager.connect().unwrap();
    assert_eq!(shared.len().unwrap(), 100);
    assert_eq!(shared.get("k3-24").unwrap(), Some(324));
    assert_eq!(shared.get("nothing").unwrap(), None);
    let mut values = shared.list().unwrap();
    values.sort_unstable();
    let mut expected: Vec<i64> = (0..4)
        .flat_map(|c| (0..25).map(move |i| c * 100 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(values, expected);
    assert_eq!(shared.list_len().unwrap(), 100);
    shared
        .update([("a".to_string(), 1), ("k0-0".to_string(), -1)])
        .unwrap();
    let items = shared.items().unwrap();
    assert_eq!(items.len(), 101);
    assert_eq!(items[0], ("a".to_string(), 1));
    assert_eq!(shared.get("k0-0").unwrap(), Some(-1));
    manager.shutdown().unwrap();
}

/// A client that does not know the authkey is refused, and the manager
/// serves the others on.
fn a_client_without_the_authkey_is_refused() {
    let manager = Manager::<String>::start().unwrap();
    let wrong = Client::new(manager.address()).authkey(b"guess").connect();
    assert!(matches!(wrong, Err(Error::Authentication(_))), "{wrong:?}");
    // Without a key the socket connects, but what comes is the
    // challenge it cannot answer, never service.
    let mut none = Client::new(manager.address()).connect().unwrap();
    let first = none.recv_bytes().unwrap();
    assert!(first.starts_with(b"#CHALLENGE#"), "{first:?}");
    drop(none);
    let mut shared = manager.connect().unwrap();
    shared.set("still", "served".to_string()).unwrap();
    assert_eq!(shared.get("still").unwrap().as_deref(), Some("served"));
}

/// The manager is killed (SIGKILL): the next operation of a proxy is an
/// error at once, not a wait of the proxy's timeout.
fn a_proxy_whose_manager_died_gets_an_error() {
    let manager = Manager::<i64>::start().unwrap();
    let mut shared = manager.connect().unwrap();
    shared.set("x", 1).unwrap();
    nix::sys::signal::kill(manager.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
    let start = Instant::now();
    // A killed server answers nothing: the socket's end arrives once the
    // kernel has closed it.
    let outcome = shared.get("x");
    assert!(
        matches!(outcome, Err(Error::Disconnected) | Err(Error::Sys { .. })),
        "{outcome:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(manager.connect().is_err(), "connected to a dead manager");
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        every_childs_updates_are_seen,
        a_client_without_the_authkey_is_refused,
        a_proxy_whose_manager_died_gets_an_error,
    ]);
}
