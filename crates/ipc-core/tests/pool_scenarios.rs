//! `Pool` with real worker processes: `map` agrees with the sequential
//! result, `imap_unordered` yields every result once, a panicking task
//! fails alone, a worker killed in the middle of a task is replaced (that
//! task is reported, the others are done), and a pool dropped without
//! `close` leaves no process behind.
//!
//! A `harness = false` target: single-threaded, so the scenarios may fork
//! (see `ipc_testkit::scenarios`). Every wait is bounded.

use std::cell::RefCell;
use std::time::Duration;

use ipc_core::{Error, Event, Pool, Value, ready};
use ipc_testkit::procfs;
use nix::unistd::{Pid, getpid};

/// The bound of every wait that should succeed: far above what it takes.
const LONG: Duration = Duration::from_secs(10);

fn square(x: u64) -> u64 {
    x * x
}

/// 1000 squares by 4 workers, whatever the chunk size, equal the
/// sequential result, in order; `imap` gives the same, one at a time.
fn map_of_squares_equals_the_sequential_result() {
    let sequential: Vec<u64> = (0..1000).map(square).collect();
    let pool = Pool::new(4).unwrap();
    assert_eq!(pool.map(square, 0..1000).unwrap(), sequential);
    for chunksize in [1, 7, 1000, 5000] {
        assert_eq!(
            pool.map_chunked(square, 0..1000, chunksize).unwrap(),
            sequential,
            "chunksize {chunksize}"
        );
    }
    let in_order: Vec<u64> = pool
        .imap(square, 0..1000)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(in_order, sequential);
    let sums = pool
        .starmap(
            |a: u64, b: String| a + b.len() as u64,
            [(1, "ab".into()), (2, "".into())],
        )
        .unwrap();
    assert_eq!(sums, [3, 2]);
    assert!(pool.map(square, []).unwrap().is_empty());
    pool.close().unwrap();
    pool.join_timeout(LONG).unwrap();
}

/// Every result comes once from `imap_unordered`, whatever its order.
fn imap_unordered_yields_every_result_once() {
    let pool = Pool::new(3).unwrap();
    let mut got: Vec<u64> = pool
        .imap_unordered(square, 0..500)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got.len(), 500);
    got.sort_unstable();
    assert_eq!(got, (0..500).map(square).collect::<Vec<_>>());
}

fn panics_on_17(x: u32) -> u32 {
    assert_ne!(x, 17, "boom");
    x + 1
}

/// A task that panics is an error for its index alone; the other results
/// arrive, and the pool goes on with the next call.
fn a_panicking_task_fails_alone() {
    let pool = Pool::new(2).unwrap();
    let outcomes: Vec<Result<u32, Error>> = pool.imap(panics_on_17, 0..40).unwrap().collect();
    assert_eq!(outcomes.len(), 40);
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Ok(value) => assert_eq!(*value, i as u32 + 1),
            Err(Error::TaskFailed { index, message }) => {
                assert_eq!((*index, i), (17, 17), "{message}");
                assert!(
                    message.contains("panicked at") && message.contains("boom"),
                    "{message}"
                );
            }
            Err(other) => panic!("item {i}: {other}"),
        }
    }
    // In chunks, as `map` sends them: the failing item fails alone.
    let error = pool.map_chunked(panics_on_17, 0..40, 8).unwrap_err();
    assert!(
        matches!(error, Error::TaskFailed { index: 17, .. }),
        "{error}"
    );
    assert_eq!(pool.map(panics_on_17, 0..3).unwrap(), [1, 2, 3]);
}

thread_local! {
    /// Set by the parent before the pool forks, so that every worker has
    /// it: `started` is set, and `pid` holds the worker's pid, once a
    /// worker runs the held item.
    static HOLD: RefCell<Option<(Event, Value<i32>)>> = const { RefCell::new(None) };
}

const HELD: u64 = 13;

/// Squares, except item [`HELD`], which tells the parent it has started
/// and then waits (bounded) to be killed.
fn square_or_hold(x: u64) -> u64 {
    if x == HELD {
        HOLD.with(|hold| {
            if let Some((started, pid)) = hold.borrow().as_ref() {
                pid.set(getpid().as_raw()).unwrap();
                started.set().unwrap();
                let never = Event::new().unwrap();
                let _ = never.wait_timeout(LONG);
            }
        });
    }
    square(x)
}

/// A worker is killed (SIGKILL) while it runs a task: the task is
/// reported failed with how its worker ended, a new worker takes the
/// dead one's place, and every other task is still done.
fn a_worker_killed_mid_task_is_replaced() {
    let started = Event::new().unwrap();
    let pid = Value::new(0_i32).unwrap();
    HOLD.with(|hold| *hold.borrow_mut() = Some((started.clone(), pid.clone())));
    let pool = Pool::new(2).unwrap();
    let before = pool.pids();
    let mut results = pool.imap(square_or_hold, 0..40).unwrap();
    for x in 0..HELD {
        assert_eq!(results.next().unwrap().unwrap(), square(x));
    }
    started.wait_timeout(LONG).unwrap();
    let victim = Pid::from_raw(pid.get().unwrap());
    assert!(before.contains(&victim), "{victim} is not among {before:?}");
    nix::sys::signal::kill(victim, nix::sys::signal::Signal::SIGKILL).unwrap();
    let error = results.next().unwrap().unwrap_err();
    match &error {
        Error::TaskFailed { index, message } => {
            assert_eq!(*index, HELD as usize, "{message}");
            assert!(
                message.contains(&format!("(pid {victim}) was killed by SIGKILL")),
                "{message}"
            );
        }
        other => panic!("{other}"),
    }
    for x in HELD + 1..40 {
        assert_eq!(results.next().unwrap().unwrap(), square(x), "item {x}");
    }
    assert!(results.next().is_none());
    drop(results);
    let after = pool.pids();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(!after.contains(&victim), "{victim} still listed: {after:?}");
    assert!(procfs::survivors(&[victim]).is_empty(), "not reaped");
    // The new worker works.
    assert_eq!(
        pool.map(square, 0..10).unwrap(),
        (0..10).map(square).collect::<Vec<_>>()
    );
    HOLD.with(|hold| *hold.borrow_mut() = None);
}

fn spin_forever(x: u64) -> u64 {
    loop {
        std::hint::black_box(x);
    }
}

/// A pool dropped while it is open and busy stops and reaps every
/// worker: their sentinels are ready and /proc has none of them.
fn drop_without_close_leaves_no_process() {
    let pool = Pool::new(3).unwrap();
    let pids = pool.pids();
    let sentinels = pool.sentinels().unwrap();
    assert_eq!(
        procfs::children_of(getpid()).len(),
        3,
        "three workers: {:?}",
        procfs::children_of(getpid())
    );
    let busy = pool.apply_async(spin_forever, 1).unwrap();
    assert!(matches!(
        pool.apply_async(spin_forever, 2)
            .unwrap()
            .get_timeout(Duration::from_millis(20)),
        Err(Error::Timeout)
    ));
    drop(busy);
    drop(pool);
    let waitables: Vec<&dyn ready::Waitable> = sentinels
        .iter()
        .map(|s| s as &dyn ready::Waitable)
        .collect();
    assert_eq!(
        ready::wait(&waitables, Some(Duration::ZERO)).unwrap(),
        [0, 1, 2],
        "every worker ended"
    );
    assert!(
        procfs::survivors(&pids).is_empty(),
        "{:?}",
        procfs::survivors(&pids)
    );
    assert!(procfs::children_of(getpid()).is_empty());
}

/// `close` then `join` runs what was given; results are taken after the
/// join; a closed pool refuses new work, and an open one refuses `join`.
fn close_then_join_runs_what_was_given() {
    let pool = Pool::new(2).unwrap();
    assert!(matches!(pool.join(), Err(Error::InvalidArgument(_))));
    let pending: Vec<_> = (0..20)
        .map(|x| pool.apply_async(square, x).unwrap())
        .collect();
    pool.close().unwrap();
    assert!(matches!(
        pool.map(square, [1]),
        Err(Error::InvalidArgument(_))
    ));
    pool.join_timeout(LONG).unwrap();
    let pids = pool.pids();
    assert!(procfs::survivors(&pids).is_empty());
    let values: Vec<u64> = pending.into_iter().map(|r| r.get().unwrap()).collect();
    assert_eq!(values, (0..20).map(square).collect::<Vec<_>>());
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        map_of_squares_equals_the_sequential_result,
        imap_unordered_yields_every_result_once,
        a_panicking_task_fails_alone,
        a_worker_killed_mid_task_is_replaced,
        drop_without_close_leaves_no_process,
        close_then_join_runs_what_was_given,
    ]);
}
