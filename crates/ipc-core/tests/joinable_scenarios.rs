//! `JoinableQueue` between real processes: `join` returns only once every
//! task put is done by two consumer processes, a `task_done` too many is
//! an error and leaves the count at zero, and a consumer killed holding a
//! task makes `join_timeout` give up instead of hanging.
//!
//! A `harness = false` target: single-threaded, so the scenarios may fork
//! (see `ipc_testkit::scenarios`). Every wait is bounded.

use std::time::{Duration, Instant};

use ipc_core::{Error, Event, JoinableQueue, Process, Value, join_all_ok};

/// The bound of every wait that should succeed: far above what it takes.
const LONG: Duration = Duration::from_secs(10);

/// A producer process puts `N` tasks; two consumer processes, held back
/// until the parent has seen `join` wait, get them and mark them done,
/// counting each in a shared total first. The parent's `join` returns only
/// once all `N` are counted.
fn join_returns_only_after_every_task_is_done() {
    const N: u64 = 2_000;
    let q = JoinableQueue::<u64>::bounded(64, 8).unwrap();
    let done = Value::new(0_u64).unwrap();
    let sum = Value::new(0_u64).unwrap();
    let go = Event::new().unwrap();
    let mut consumers: Vec<Process> = (0..2)
        .map(|c| {
            Process::spawn(format!("consumer{c}"), || {
                go.wait_timeout(LONG)?;
                for item in q.iter() {
                    let item = item?;
                    sum.update(|s| s + item)?;
                    done.update(|d| d + 1)?;
                    q.task_done()?;
                }
                Ok::<_, Error>(())
            })
            .unwrap()
        })
        .collect();
    let mut producer = Process::spawn("producer", || {
        // As many as the queue holds, none taken yet.
        (0..64).try_for_each(|item| q.put(item))
    })
    .unwrap();
    join_all_ok(std::slice::from_mut(&mut producer)).unwrap();
    assert_eq!(q.unfinished_tasks(), 64);
    assert!(
        matches!(
            q.join_timeout(Duration::from_millis(50)),
            Err(Error::Timeout)
        ),
        "join returned while 64 tasks were not even taken"
    );
    go.set().unwrap();
    // The rest, from the parent, while the consumers work.
    for item in 64..N {
        q.put(item).unwrap();
    }
    q.join_timeout(LONG).unwrap();
    assert_eq!(
        done.get().unwrap(),
        N,
        "join returned before every task_done"
    );
    assert_eq!(sum.get().unwrap(), N * (N - 1) / 2);
    assert_eq!(q.unfinished_tasks(), 0);
    q.close().unwrap();
    join_all_ok(&mut consumers).unwrap();
}

/// A consumer process marks one task done twice: the second call is
/// `Error::TaskDoneTooManyTimes`, and the count stays at zero (no
/// wrap-around): the next put counts one task, and `join` waits for it.
fn task_done_too_many_times_is_an_error() {
    let q = JoinableQueue::<String>::new().unwrap();
    q.put("only one".to_string()).unwrap();
    let mut consumer = Process::spawn("consumer", || {
        let item = q.get_timeout(LONG).map_err(|e| e.to_string())?;
        assert_eq!(item, "only one");
        q.task_done().map_err(|e| e.to_string())?;
        match q.task_done() {
            Err(Error::TaskDoneTooManyTimes) => Ok(()),
            other => Err(format!("a second task_done gave {other:?}")),
        }
    })
    .unwrap();
    join_all_ok(std::slice::from_mut(&mut consumer)).unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
    q.join_timeout(LONG).unwrap();
    let error = q.task_done().unwrap_err();
    assert!(matches!(error, Error::TaskDoneTooManyTimes));
    assert!(error.to_string().contains("task_done"), "{error}");
    q.put("another".to_string()).unwrap();
    assert_eq!(q.unfinished_tasks(), 1, "the count did not wrap");
    assert!(matches!(
        q.join_timeout(Duration::from_millis(20)),
        Err(Error::Timeout)
    ));
}

/// A consumer gets a task and is killed by SIGKILL before its
/// `task_done`: `join_timeout` returns `Error::Timeout` at its bound
/// instead of hanging, and the missing task is still counted.
fn a_consumer_killed_holding_a_task_makes_join_time_out() {
    let q = JoinableQueue::<u32>::new().unwrap();
    let got = Event::new().unwrap();
    let never = Event::new().unwrap();
    let mut consumer = Process::spawn("consumer", || {
        q.get_timeout(LONG)?;
        got.set()?;
        // Holds the task until it is killed (bounded all the same).
        never.wait_timeout(LONG)
    })
    .unwrap();
    q.put(7).unwrap();
    got.wait_timeout(LONG).unwrap();
    consumer.kill().unwrap();
    let status = consumer
        .join_timeout(LONG)
        .unwrap()
        .expect("the consumer ended");
    assert_eq!(status.code(), -9, "{status}");
    let bound = Duration::from_millis(200);
    let start = Instant::now();
    let joined = q.join_timeout(bound);
    let took = start.elapsed();
    assert!(matches!(joined, Err(Error::Timeout)), "{joined:?}");
    assert!(took >= bound, "gave up early: {took:?}");
    assert!(took < LONG, "took {took:?}");
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(q.is_empty(), "the task was taken, not lost in the queue");
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        join_returns_only_after_every_task_is_done,
        task_done_too_many_times_is_an_error,
        a_consumer_killed_holding_a_task_makes_join_time_out,
    ]);
}
