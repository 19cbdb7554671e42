//! `ready::wait` between real processes: over two pipes and a child's
//! sentinel it reports what became ready in the order it did, a closed
//! writer makes its reader ready (the end of the stream, as Python's
//! `wait`), a timeout gives the empty set, and SIGINT ends a wait with
//! nothing to wait for.
//!
//! A `harness = false` target: single-threaded, so the scenarios may fork
//! (see `ipc_testkit::scenarios`). Every wait is bounded; the child moves
//! on only when the parent sets its next `Event`, so no step assumes an
//! order that a sleep would have to make likely.

use std::time::{Duration, Instant};

use ipc_core::blocking::{self, Deadline};
use ipc_core::ready::{self, Waitable};
use ipc_core::{Error, Event, Process, RawValue, pipe, signal};
use ipc_testkit::SIGNAL_DEADLINE;
use nix::sys::signal::Signal;

/// The bound of every wait that should succeed: far above what it takes.
const LONG: Duration = Duration::from_secs(10);

fn wait(objects: &[&dyn Waitable]) -> Vec<usize> {
    ready::wait(objects, Some(LONG)).unwrap()
}

fn look(objects: &[&dyn Waitable]) -> Vec<usize> {
    ready::wait(objects, Some(Duration::ZERO)).unwrap()
}

/// A child sends two messages on pipe `a`, then one on pipe `b`, then closes `a`, then
/// exits, each step when the parent says: `wait([a, b, sentinel])` gives
/// `[0]`, `[1]`, `[0]` (the end of `a`), then `b`'s end and the sentinel.
fn the_ready_set_follows_the_order_things_become_ready() {
    let (mut a_rx, mut a_tx) = pipe::simplex::<String>().unwrap();
    let (mut b_rx, mut b_tx) = pipe::simplex::<String>().unwrap();
    let steps: Vec<Event> = (0..4).map(|_| Event::new().unwrap()).collect();
    let sent = Event::new().unwrap();
    let mut child = Process::spawn("child", || {
        steps[0].wait_timeout(LONG)?;
        a_tx.send(&"on a".to_string())?;
        a_tx.send(&"again on a".to_string())?;
        sent.set()?;
        steps[1].wait_timeout(LONG)?;
        b_tx.send(&"on b".to_string())?;
        steps[2].wait_timeout(LONG)?;
        a_tx.close();
        steps[3].wait_timeout(LONG)
    })
    .unwrap();
    a_tx.close();
    b_tx.close();
    let sentinel = child.sentinel().unwrap();
    assert!(look(&[&a_rx, &b_rx, &sentinel]).is_empty(), "nothing yet");

    steps[0].set().unwrap();
    assert_eq!(wait(&[&a_rx, &b_rx, &sentinel]), [0]);
    sent.wait_timeout(LONG).unwrap();
    // One read takes both frames: the second waits in a_rx's read-ahead,
    // where poll(2) cannot see it, and a is ready all the same.
    assert_eq!(a_rx.recv().unwrap(), "on a");
    let read_ahead = look(&[&a_rx, &b_rx, &sentinel]);
    assert_eq!(read_ahead, [0], "the frame read ahead");
    assert_eq!(a_rx.recv().unwrap(), "again on a");
    assert!(look(&[&a_rx, &b_rx, &sentinel]).is_empty(), "a was drained");

    steps[1].set().unwrap();
    assert_eq!(wait(&[&a_rx, &b_rx, &sentinel]), [1]);
    assert_eq!(b_rx.recv().unwrap(), "on b");

    steps[2].set().unwrap();
    assert_eq!(
        wait(&[&a_rx, &b_rx, &sentinel]),
        [0],
        "a's last writer closed: a is ready"
    );
    assert!(matches!(a_rx.recv(), Err(Error::Disconnected)));

    // a stays ready (at its end) from now on; watch the other two.
    assert!(look(&[&b_rx, &sentinel]).is_empty());
    steps[3].set().unwrap();
    // The child's exit closes its end of b before it makes the pidfd
    // readable: b first, maybe both at once, never the sentinel alone.
    let first = wait(&[&b_rx, &sentinel]);
    assert!(first == [0] || first == [0, 1], "{first:?}");
    assert_eq!(wait(&[&sentinel]), [0], "the child ended");
    assert_eq!(look(&[&b_rx, &sentinel]), [0, 1]);
    assert!(matches!(b_rx.recv(), Err(Error::Disconnected)));
    assert!(child.join_timeout(LONG).unwrap().unwrap().success());
    assert_eq!(look(&[&child]), [0], "a joined child stays ready");
}

/// Nothing becomes ready: `wait` returns the empty set once its timeout
/// is over, not before (Python's `[]`), and `Some(ZERO)` only looks.
fn a_timeout_gives_the_empty_set() {
    let (rx, tx) = pipe::simplex::<u32>().unwrap();
    let go = Event::new().unwrap();
    let mut child = Process::spawn("child", || go.wait_timeout(LONG)).unwrap();
    let sentinel = child.sentinel().unwrap();
    let bound = Duration::from_millis(150);
    let start = Instant::now();
    let got = ready::wait(&[&rx, &sentinel], Some(bound)).unwrap();
    let took = start.elapsed();
    assert!(got.is_empty(), "{got:?}");
    assert!(took >= bound, "gave up early: {took:?}");
    assert!(took < LONG, "took {took:?}");
    assert!(look(&[&rx, &sentinel]).is_empty());
    go.set().unwrap();
    assert!(child.join_timeout(LONG).unwrap().unwrap().success());
    assert_eq!(look(&[&rx, &sentinel]), [1]);
    drop(tx);
    assert_eq!(look(&[&rx, &sentinel]), [0, 1]);
}

/// A child that holds the only writer of a pipe and of a duplex
/// connection closes them without sending: both readers become ready
/// (the end of the stream) and say so when read; a closed handle is an
/// error naming `poll`, not a hang.
fn a_closed_writer_makes_the_reader_ready() {
    let (mut rx, mut tx) = pipe::simplex::<u32>().unwrap();
    let (mut near, mut far) = pipe::duplex::<u32>().unwrap();
    let go = Event::new().unwrap();
    let mut child = Process::spawn("child", || {
        go.wait_timeout(LONG)?;
        tx.close();
        far.close();
        Ok::<_, Error>(())
    })
    .unwrap();
    tx.close();
    far.close();
    assert!(look(&[&rx, &near]).is_empty());
    go.set().unwrap();
    let deadline = Deadline::after(LONG);
    let mut seen = Vec::new();
    while seen != [0, 1] {
        seen = ready::wait_until(&[&rx, &near], deadline).unwrap();
        assert!(!seen.is_empty(), "neither end became ready");
    }
    assert!(matches!(rx.recv(), Err(Error::Disconnected)));
    assert!(matches!(near.recv(), Err(Error::Disconnected)));
    assert!(child.join_timeout(LONG).unwrap().unwrap().success());
    rx.close();
    let closed = ready::wait(&[&rx], Some(LONG)).unwrap_err();
    assert!(closed.to_string().starts_with("poll pipe"), "{closed}");
}

/// What a child's `wait` ends with after SIGINT.
const SAW_IT: i32 = 42;

/// SIGINT ends a `wait` with no timeout and nothing coming with
/// `Error::Interrupted`, within the promised slice (see
/// `ipc_core::blocking`), whether it lands before or during the wait.
fn sigint_ends_a_wait_with_nothing_coming() {
    let (rx, _tx) = pipe::simplex::<u32>().unwrap();
    let waiting = RawValue::new(0_u32).unwrap();
    let mut child = Process::spawn("waiter", || {
        signal::install()?;
        waiting.set(1);
        // The child holds a writer too: nothing ever comes.
        match ready::wait(&[&rx], None) {
            Err(Error::Interrupted) => Ok::<i32, Error>(SAW_IT),
            other => Err(Error::InvalidArgument(format!("wait gave {other:?}"))),
        }
    })
    .unwrap();
    let started = blocking::poll_until(Deadline::after(LONG), blocking::MOMENT, || {
        (waiting.get() == 1).then_some(())
    });
    assert!(started.is_some(), "the child never started waiting");
    child.signal(Signal::SIGINT).unwrap();
    let status = child.join_timeout(SIGNAL_DEADLINE).unwrap();
    assert_eq!(status.map(|s| s.code()), Some(SAW_IT));
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        the_ready_set_follows_the_order_things_become_ready,
        a_timeout_gives_the_empty_set,
        a_closed_writer_makes_the_reader_ready,
        sigint_ends_a_wait_with_nothing_coming,
    ]);
}
