//! What `ipc_core::connection` does with Ctrl-C: a blocked accept or
//! receive ends with `Error::Interrupted` (what it records in the run's
//! trace is tested with the trace's reader, in ipc-trace).
//!
//! One test function: the signal flag belongs to the whole process, and
//! would disturb tests running on other threads of the same binary.

use std::thread;
use std::time::Duration;

use ipc_core::blocking::Deadline;
use ipc_core::connection::{Client, Listener};
use ipc_core::{Error, signal};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{getpid, gettid};

const BOUND: Duration = Duration::from_secs(10);

/// Runs `f` on a thread and sends SIGINT once that thread is asleep in
/// its wait (known from `/proc`, not assumed after a sleep); what `f`
/// gave, or a panic if it is still waiting after the bound (a wait that
/// missed the signal is a failure, not a stuck test run).
fn interrupted<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tid_tx.send(gettid());
        let _ = tx.send(f());
    });
    let tid = tid_rx.recv_timeout(BOUND).expect("the thread started");
    ipc_testkit::wait_blocked(&[tid], BOUND);
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
fn ctrl_c_ends_an_accept_and_a_receive() {
    ctrl_c_ends_the_waits();
}
