//! `Queue` between real processes: exactly-once delivery with many
//! producers and consumers, blocking on a tiny capacity, timeouts, close
//! then drain, oversized messages, a consumer killed mid-run (5
//! producers × `IPC_LAB_STRESS_MESSAGES` messages, 1 000 000 by default),
//! and the zero-copy path (`claim`/`commit`, `get_ref`) with a producer and
//! a consumer each killed while they hold a slot.
//!
//! A `harness = false` target: single-threaded, so the scenarios may fork
//! with `Process::spawn` (see `ipc_testkit::scenarios`).

use std::time::{Duration, Instant};

use ipc_core::blocking::{self, Deadline};
use ipc_core::message::{self, Bytes};
use ipc_core::{Error, Process, Queue, RawArray, join_all, signal};
use ipc_testkit::SIGNAL_DEADLINE;
use nix::sys::signal::Signal;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PRODUCERS: u32 = 4;
const PER_PRODUCER: u32 = 100_000;
const CONSUMERS: usize = 2;

/// A message: (producer, sequence number within that producer).
type Msg = (u32, u32);

fn index(producer: u32, seq: u32) -> usize {
    (producer * PER_PRODUCER + seq) as usize
}

/// What one consumer saw of each producer's messages `(producer, seq)`:
/// each must be one that was put, and each producer's must come in
/// increasing order.
struct InOrder {
    last: Vec<Option<u32>>,
    per_producer: u32,
}

impl InOrder {
    fn new(producers: u32, per_producer: u32) -> InOrder {
        InOrder {
            last: vec![None; producers as usize],
            per_producer,
        }
    }

    /// The message `msg` the queue gave, or what is wrong with it.
    fn check(&mut self, msg: ipc_core::Result<Msg>) -> Result<Msg, String> {
        let (producer, seq) = msg.map_err(|e| e.to_string())?;
        let previous = self
            .last
            .get_mut(producer as usize)
            .filter(|_| seq < self.per_producer)
            .ok_or_else(|| format!("a message that was never put: {producer}/{seq}"))?;
        if previous.is_some_and(|p| p >= seq) {
            return Err(format!(
                "producer {producer}: {seq} after {previous:?} (out of order)"
            ));
        }
        *previous = Some(seq);
        Ok((producer, seq))
    }
}

/// Every message exactly once: 4 producers × 100 000 messages through a
/// queue of `capacity`, 2 consumers. Each consumer marks what it took in
/// its own half of a shared array (so the marks never race) and checks
/// that each producer's messages reach it in increasing order.
fn exactly_once(capacity: usize) {
    let total = (PRODUCERS * PER_PRODUCER) as usize;
    let q = Queue::<Msg>::bounded(capacity, 8).unwrap();
    let marks = RawArray::<u8>::new(CONSUMERS * total).unwrap();
    let counts = RawArray::<u64>::new(CONSUMERS).unwrap();
    let sums = RawArray::<u64>::new(CONSUMERS).unwrap();
    let start = Instant::now();

    let mut consumers: Vec<Process> = (0..CONSUMERS)
        .map(|c| {
            Process::spawn(format!("consumer{c}"), || {
                let mut order = InOrder::new(PRODUCERS, PER_PRODUCER);
                let (mut count, mut sum) = (0_u64, 0_u64);
                for msg in &q {
                    let (producer, seq) = order.check(msg)?;
                    let at = c * total + index(producer, seq);
                    marks.set(at, marks.get(at) + 1);
                    count += 1;
                    sum += u64::from(seq);
                }
                counts.set(c, count);
                sums.set(c, sum);
                Ok::<_, String>(())
            })
            .unwrap()
        })
        .collect();
    let mut producers: Vec<Process> = (0..PRODUCERS)
        .map(|p| {
            Process::spawn(format!("producer{p}"), || {
                (0..PER_PRODUCER).try_for_each(|seq| q.put((p, seq)))
            })
            .unwrap()
        })
        .collect();

    // Wait for the producers. A consumer that ends before the close has
    // failed: close the queue so that the producers stop waiting for room,
    // and report it instead of hanging until the watchdog.
    while !producers
        .iter_mut()
        .all(|p| p.try_join().unwrap().is_some())
    {
        if consumers
            .iter_mut()
            .any(|c| c.try_join().unwrap().is_some())
        {
            q.close().unwrap();
            let _ = join_all(&mut producers);
            let statuses = join_all(&mut consumers).unwrap();
            panic!("a consumer ended before the queue was closed: {statuses:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for status in join_all(&mut producers).unwrap() {
        assert!(status.success(), "a producer failed: {status}");
    }
    // Every producer is done: the consumers may drain and stop.
    q.close().unwrap();
    for status in join_all(&mut consumers).unwrap() {
        assert!(status.success(), "a consumer failed: {status}");
    }

    let count: u64 = counts.to_list().iter().sum();
    let sum: u64 = sums.to_list().iter().sum();
    let expected_sum = u64::from(PRODUCERS) * (0..u64::from(PER_PRODUCER)).sum::<u64>();
    assert_eq!(count, total as u64, "messages received");
    assert_eq!(sum, expected_sum, "sum of sequence numbers");
    for producer in 0..PRODUCERS {
        for seq in 0..PER_PRODUCER {
            let at = index(producer, seq);
            let times: u32 = (0..CONSUMERS)
                .map(|c| u32::from(marks.get(c * total + at)))
                .sum();
            assert_eq!(times, 1, "message {producer}/{seq} delivered {times} times");
        }
    }
    let each = counts.to_list();
    assert!(q.is_empty());
    eprint!(
        "[capacity {capacity}: {total} messages in {:.2?}, consumers took {:?}] ",
        start.elapsed(),
        &each[..]
    );
}

fn four_producers_two_consumers_exactly_once() {
    exactly_once(256);
}

fn capacity_two_forces_blocking_and_still_exactly_once() {
    exactly_once(2);
}

/// get_timeout on an empty queue and put_timeout on a full one give up with
/// Timeout after at least the bound, in the parent and in a child, and
/// leave the queue as it was.
fn timeouts_return_after_the_bound() {
    let bound = Duration::from_millis(200);
    let q = Queue::<u32>::bounded(2, 4).unwrap();

    let start = Instant::now();
    assert!(matches!(q.get_timeout(bound), Err(Error::Timeout)));
    assert!(
        start.elapsed() >= bound,
        "gave up after {:?}",
        start.elapsed()
    );

    q.put(1).unwrap();
    q.put(2).unwrap();
    let start = Instant::now();
    assert!(matches!(q.put_timeout(3, bound), Err(Error::Timeout)));
    assert!(
        start.elapsed() >= bound,
        "gave up after {:?}",
        start.elapsed()
    );
    assert_eq!(q.len(), 2, "a timed-out put writes nothing");

    // A child blocked on the full queue times out too, and so does one
    // blocked on an empty queue.
    let empty = Queue::<u32>::bounded(1, 4).unwrap();
    let mut children = vec![
        Process::spawn("putter", || {
            let start = Instant::now();
            match q.put_timeout(4, bound) {
                Err(Error::Timeout) if start.elapsed() >= bound => 0,
                other => {
                    eprintln!("putter: {other:?} after {:?}", start.elapsed());
                    1
                }
            }
        })
        .unwrap(),
        Process::spawn("getter", || {
            let start = Instant::now();
            match empty.get_timeout(bound) {
                Err(Error::Timeout) if start.elapsed() >= bound => 0,
                other => {
                    eprintln!("getter: {other:?} after {:?}", start.elapsed());
                    1
                }
            }
        })
        .unwrap(),
    ];
    for status in join_all(&mut children).unwrap() {
        assert!(status.success(), "{status}");
    }
    assert_eq!(q.try_get().unwrap(), Some(1));
    assert_eq!(q.try_get().unwrap(), Some(2));
    assert_eq!(q.try_get().unwrap(), None);

    // A get with a generous bound returns as soon as a child puts.
    let mut putter = Process::spawn("late putter", || {
        std::thread::sleep(Duration::from_millis(50));
        q.put(42)
    })
    .unwrap();
    assert_eq!(q.get_timeout(Duration::from_secs(30)).unwrap(), 42);
    assert!(putter.join().unwrap().success());
}

/// A producer puts, closes and exits; consumers then drain what is queued
/// and see the end; getters already blocked in other processes are woken
/// by the close; a put after the close fails.
fn close_then_drain_then_end() {
    let q = Queue::<String>::bounded(16, 64).unwrap();
    let mut producer = Process::spawn("producer", || {
        for word in ["First", "second", "third?"] {
            q.put(word.to_string())?;
        }
        q.close()
    })
    .unwrap();
    assert!(producer.join().unwrap().success());
    assert!(q.is_closed());
    assert!(matches!(
        q.put("late".to_string()),
        Err(Error::Disconnected)
    ));
    let drained: Vec<String> = q.iter().map(Result::unwrap).collect();
    assert_eq!(drained, ["First", "second", "third?"]);
    assert!(matches!(q.get(), Err(Error::Disconnected)));
    assert!(matches!(q.try_get(), Err(Error::Disconnected)));

    // Two children block on an empty queue; the parent's close ends both.
    let q = Queue::<u32>::bounded(4, 4).unwrap();
    let mut blocked: Vec<Process> = (0..2)
        .map(|i| {
            Process::spawn(format!("getter{i}"), || match q.get() {
                Err(Error::Disconnected) => 0,
                other => {
                    eprintln!("getter{i}: {other:?}");
                    1
                }
            })
            .unwrap()
        })
        .collect();
    // Both asleep in their get (known from /proc, not assumed).
    let pids: Vec<_> = blocked.iter().map(Process::pid).collect();
    ipc_testkit::wait_blocked(&pids, Duration::from_secs(10));
    q.close().unwrap();
    for status in join_all(&mut blocked).unwrap() {
        assert!(status.success(), "{status}");
    }
}

/// An oversized message is refused with MessageTooLarge before anything is
/// written, in the parent and in a child; the queue keeps what it had.
fn message_too_large_leaves_the_queue_unchanged() {
    let q = Queue::<Bytes>::bounded(2, 64).unwrap();
    q.put(Bytes(vec![7; 10])).unwrap();
    let err = q.put(Bytes(vec![1; 61])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 65,
                limit: 64
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "message of 65 bytes is larger than the limit of 64 bytes"
    );
    let mut child = Process::spawn("sender", || match q.try_put(Bytes(vec![1; 1000])) {
        Err(Error::MessageTooLarge {
            size: 1004,
            limit: 64,
        }) => 0,
        other => {
            eprintln!("sender: {other:?}");
            1
        }
    })
    .unwrap();
    assert!(child.join().unwrap().success());
    assert_eq!(q.len(), 1);
    assert_eq!(q.try_get().unwrap(), Some(Bytes(vec![7; 10])));
    assert_eq!(q.try_get().unwrap(), None);
    // A message of exactly the limit fits.
    q.put(Bytes(vec![2; 60])).unwrap();
    assert_eq!(q.get().unwrap(), Bytes(vec![2; 60]));
}

/// The exit code of a child that saw what it should.
const SAW_IT: i32 = 7;

/// A child blocked in `get` on an empty queue and one blocked in `put` on
/// a full one, each after `signal::install`, end within the promised
/// second of SIGINT (the getter) or SIGTERM (the putter) with
/// `Interrupted`; the queue keeps what it had.
fn a_signal_ends_a_blocked_get_and_a_blocked_put() {
    let empty = Queue::<u32>::bounded(4, 4).unwrap();
    let full = Queue::<u32>::bounded(1, 4).unwrap();
    full.put(1).unwrap();
    let mut getter = Process::spawn("getter", || {
        signal::install()?;
        match empty.get() {
            Err(Error::Interrupted) => Ok::<i32, Error>(SAW_IT),
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    let mut putter = Process::spawn("putter", || {
        signal::install()?;
        match full.put(2) {
            Err(Error::Interrupted) => Ok::<i32, Error>(SAW_IT),
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
    // Both asleep in their futex wait (known from /proc, not assumed).
    ipc_testkit::wait_blocked(&[getter.pid(), putter.pid()], Duration::from_secs(10));
    getter.signal(Signal::SIGINT).unwrap();
    putter.signal(Signal::SIGTERM).unwrap();
    // The promise is one second; ipc_testkit::SIGNAL_DEADLINE adds slack
    // for a loaded machine.
    for child in [&mut getter, &mut putter] {
        let status = child.join_timeout(SIGNAL_DEADLINE).unwrap();
        assert_eq!(
            status.map(|s| s.code()),
            Some(SAW_IT),
            "{} after {SIGNAL_DEADLINE:?}",
            child.name()
        );
    }
    assert_eq!(full.try_get().unwrap(), Some(1));
    assert_eq!(full.try_get().unwrap(), None);
    assert!(empty.is_empty());
}

/// How many messages each of the 5 producers of the killed-consumer
/// scenario puts: `IPC_LAB_STRESS_MESSAGES`, 1 000 000 by default.
fn stress_messages() -> u32 {
    std::env::var("IPC_LAB_STRESS_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

/// Now and then (one call in `every`), sleeps up to `max_us` microseconds:
/// the random pauses that make the queue fill up and run dry.
fn pause(rng: &mut StdRng, every: u32, max_us: u64) {
    if rng.random_ratio(1, every) {
        std::thread::sleep(Duration::from_micros(rng.random_range(0..=max_us)));
    }
}

/// 5 producers put `stress_messages()` messages each, with random pauses,
/// through a small queue to 2 consumers; one consumer is SIGKILLed mid-run
/// (possibly holding the queue's lock). The survivor gets every message
/// the dead one did not take, each producer's in order, none twice: at
/// most one message, the one the victim had taken but not yet recorded,
/// is missing.
fn a_consumer_killed_mid_run_loses_at_most_the_message_it_held() {
    const STRESS_PRODUCERS: u32 = 5;
    let per = stress_messages();
    let total = (STRESS_PRODUCERS * per) as usize;
    let seed: u64 = rand::random();
    eprint!("[seed {seed}] ");
    let q = Queue::<Msg>::bounded(64, 8).unwrap();
    // marks[c * total + i]: times consumer c recorded message i.
    let marks = RawArray::<u8>::new(2 * total).unwrap();
    let taken = RawArray::<u64>::new(2).unwrap();
    let at = |producer: u32, seq: u32| (producer * per + seq) as usize;
    let start = Instant::now();

    let consume = |c: usize| {
        let mut rng = StdRng::seed_from_u64(seed ^ (0xc0 + c as u64));
        let mut order = InOrder::new(STRESS_PRODUCERS, per);
        for msg in &q {
            let (producer, seq) = order.check(msg)?;
            let i = c * total + at(producer, seq);
            marks.set(i, marks.get(i) + 1);
            taken.set(c, taken.get(c) + 1);
            pause(&mut rng, 20_000, 200);
        }
        Ok::<_, String>(())
    };
    let mut victim = Process::spawn("victim", || consume(0)).unwrap();
    let mut survivor = Process::spawn("survivor", || consume(1)).unwrap();
    let mut producers: Vec<Process> = (0..STRESS_PRODUCERS)
        .map(|p| {
            let q = &q;
            Process::spawn(format!("producer{p}"), move || {
                let mut rng = StdRng::seed_from_u64(seed ^ u64::from(p));
                for seq in 0..per {
                    q.put((p, seq))?;
                    pause(&mut rng, 20_000, 200);
                }
                Ok::<(), Error>(())
            })
            .unwrap()
        })
        .collect();

    // Mid-run: once the victim has taken a tenth of its fair share.
    let deadline = Deadline::after(Duration::from_secs(60));
    while taken.get(0) < (total / 20) as u64 {
        assert!(!deadline.has_passed(), "the victim took {}", taken.get(0));
        assert!(victim.is_alive().unwrap(), "the victim ended early");
        std::thread::sleep(blocking::MOMENT);
    }
    victim.kill().unwrap();
    assert_eq!(victim.join().unwrap().code(), -9);
    let killed_after = taken.get(0);

    for status in join_all(&mut producers).unwrap() {
        assert!(status.success(), "a producer failed: {status}");
    }
    // Every producer is done: the survivor drains the rest and stops.
    q.close().unwrap();
    let status = survivor.join().unwrap();
    assert!(status.success(), "the survivor failed: {status}");

    let (mut missing, mut twice) = (Vec::new(), Vec::new());
    for i in 0..total {
        match marks.get(i) + marks.get(total + i) {
            0 => missing.push(i),
            1 => {}
            _ => twice.push(i),
        }
    }
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    assert!(
        missing.len() <= 1,
        "{} missing, the first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    // The survivor's count is exact; the victim may have died between
    // recording a message and counting it, so its count may be one short.
    let recorded = |c: usize| (0..total).filter(|&i| marks.get(c * total + i) > 0).count() as u64;
    let (by_victim, by_survivor) = (recorded(0), recorded(1));
    assert_eq!(by_survivor, taken.get(1));
    assert!(
        by_victim == taken.get(0) || by_victim == taken.get(0) + 1,
        "the victim recorded {by_victim} and counted {}",
        taken.get(0)
    );
    assert_eq!(by_victim + by_survivor + missing.len() as u64, total as u64);
    assert!(q.is_empty());
    eprint!(
        "[{total} messages in {:.2?}; the victim took {killed_after} before SIGKILL, \
         the survivor {}, missing {}] ",
        start.elapsed(),
        taken.get(1),
        missing.len()
    );
}

/// The zero-copy path under SIGKILL: 3 producers `claim` a slot, write a
/// message into it and `commit`; 2 consumers `get_ref` the front message,
/// record it and drop the borrow (which takes it). Mid-run one producer is
/// killed while it holds a claim (its message half written, the put lock
/// held), and one consumer while it holds a borrowed message (the get lock
/// held). Every message is then delivered exactly once: every message of
/// the two surviving producers, and of the victim exactly those it had
/// committed (the one it held is not among them); the message the victim
/// consumer held goes to the survivor, and nothing is missing or twice.
fn claim_and_borrow_survive_a_producer_and_a_consumer_killed_holding_a_slot() {
    const PRODUCERS: u32 = 3;
    const PER: u32 = 60_000;
    const TOTAL: usize = (PRODUCERS * PER) as usize;
    const VICTIM: u32 = 0;
    let seed: u64 = rand::random();
    eprint!("[seed {seed}] ");
    let q = Queue::<Msg>::bounded(16, 8).unwrap();
    let at = |producer: u32, seq: u32| (producer * PER + seq) as usize;
    // marks[c * TOTAL + i]: times consumer c recorded message i.
    let marks = RawArray::<u8>::new(2 * TOTAL).unwrap();
    // committed[p]: messages producer p has seen `commit` return for.
    let committed = RawArray::<u32>::new(PRODUCERS as usize).unwrap();
    // taken[c]: messages consumer c recorded.
    let taken = RawArray::<u64>::new(2).unwrap();
    // holding[0]: the victim producer holds a claim; holding[1]: the victim
    // consumer holds a borrow (message index + 1).
    let holding = RawArray::<u64>::new(2).unwrap();
    // When the victims start holding their slot for a while.
    let hold_after = u64::from(PER) / 4;
    let start = Instant::now();

    let consume = |c: usize| {
        let mut rng = StdRng::seed_from_u64(seed ^ (0xc0 + c as u64));
        let mut last = [None::<u32>; PRODUCERS as usize];
        loop {
            let borrowed = match q.get_ref() {
                Ok(borrowed) => borrowed,
                Err(Error::Disconnected) => return Ok(()),
                Err(error) => return Err(error.to_string()),
            };
            let (producer, seq): Msg = message::from_bytes(&borrowed).map_err(|e| e.to_string())?;
            if producer >= PRODUCERS || seq >= PER {
                return Err(format!("a message that was never put: {producer}/{seq}"));
            }
            let previous = &mut last[producer as usize];
            if previous.is_some_and(|p| p >= seq) {
                return Err(format!("producer {producer}: {seq} after {previous:?}"));
            }
            *previous = Some(seq);
            if c == 0 && taken.get(0) >= hold_after {
                // The victim: hold the message (and the get lock) until
                // the parent's SIGKILL.
                holding.set(1, at(producer, seq) as u64 + 1);
                std::thread::sleep(Duration::from_secs(30));
                return Err("the victim consumer was not killed".into());
            }
            drop(borrowed); // taken here
            let i = c * TOTAL + at(producer, seq);
            marks.set(i, marks.get(i) + 1);
            taken.set(c, taken.get(c) + 1);
            pause(&mut rng, 5_000, 100);
        }
    };
    let mut victim_consumer = Process::spawn("victim consumer", || consume(0)).unwrap();
    let mut survivor = Process::spawn("survivor", || consume(1)).unwrap();
    let mut producers: Vec<Process> = (0..PRODUCERS)
        .map(|p| {
            let (q, committed, holding) = (&q, &committed, &holding);
            Process::spawn(format!("producer{p}"), move || {
                let mut rng = StdRng::seed_from_u64(seed ^ u64::from(p));
                for seq in 0..PER {
                    let bytes = message::to_bytes(&(p, seq))?;
                    let mut claim = q.claim()?;
                    claim.bytes_mut()[..bytes.len()].copy_from_slice(&bytes);
                    if p == VICTIM && u64::from(seq) >= hold_after {
                        // The victim: its message written but not
                        // committed, the put lock held, until SIGKILL.
                        holding.set(0, 1);
                        std::thread::sleep(Duration::from_secs(30));
                        return Err(Error::Message("the victim producer was not killed".into()));
                    }
                    claim.commit(bytes.len())?;
                    committed.set(p as usize, seq + 1);
                    pause(&mut rng, 5_000, 100);
                }
                Ok::<(), Error>(())
            })
            .unwrap()
        })
        .collect();

    // Kill each victim once it holds its slot, in whichever order that
    // happens (a consumer holding the get lock stops the ring from
    // draining, so the producer victim may only get there afterwards).
    let deadline = Deadline::after(Duration::from_secs(60));
    let mut alive = [true, true];
    while alive.iter().any(|&a| a) {
        for (which, alive) in alive.iter_mut().enumerate() {
            let process = if which == 0 {
                &mut producers[VICTIM as usize]
            } else {
                &mut victim_consumer
            };
            if *alive && holding.get(which) != 0 {
                process.kill().unwrap();
                assert_eq!(process.join().unwrap().code(), -9, "victim {which}");
                *alive = false;
            } else if *alive {
                assert!(process.is_alive().unwrap(), "victim {which} ended early");
            }
        }
        assert!(
            !deadline.has_passed(),
            "the victims never held a slot: {alive:?}"
        );
        std::thread::sleep(blocking::MOMENT);
    }
    let held_by_consumer = holding.get(1) as usize - 1;

    for (p, producer) in producers.iter_mut().enumerate() {
        if p != VICTIM as usize {
            let status = producer.join().unwrap();
            assert!(status.success(), "producer {p} failed: {status}");
        }
    }
    q.close().unwrap();
    let status = survivor.join().unwrap();
    assert!(status.success(), "the survivor failed: {status}");

    let victim_put = committed.get(VICTIM as usize);
    assert_eq!(
        u64::from(victim_put),
        hold_after,
        "the victim producer's commits"
    );
    let (mut missing, mut twice, mut extra) = (Vec::new(), Vec::new(), Vec::new());
    for producer in 0..PRODUCERS {
        for seq in 0..PER {
            let i = at(producer, seq);
            let times = marks.get(i) + marks.get(TOTAL + i);
            let was_put = producer != VICTIM || seq < victim_put;
            match (was_put, times) {
                (true, 1) | (false, 0) => {}
                (true, 0) => missing.push(i),
                (false, _) => extra.push(i),
                (true, _) => twice.push(i),
            }
        }
    }
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    assert!(extra.is_empty(), "delivered but never committed: {extra:?}");
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    assert_eq!(
        marks.get(TOTAL + held_by_consumer),
        1,
        "the message the victim consumer held went to the survivor"
    );
    assert_eq!(
        taken.get(0) + taken.get(1),
        (TOTAL - (PER as usize - victim_put as usize)) as u64
    );
    assert!(q.is_empty());
    eprint!(
        "[{} messages in {:.2?}; killed a producer after {victim_put} commits and a consumer \
         after {} takes, both holding a slot] ",
        taken.get(0) + taken.get(1),
        start.elapsed(),
        taken.get(0)
    );
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        four_producers_two_consumers_exactly_once,
        capacity_two_forces_blocking_and_still_exactly_once,
        timeouts_return_after_the_bound,
        close_then_drain_then_end,
        message_too_large_leaves_the_queue_unchanged,
        a_signal_ends_a_blocked_get_and_a_blocked_put,
        a_consumer_killed_mid_run_loses_at_most_the_message_it_held,
        claim_and_borrow_survive_a_producer_and_a_consumer_killed_holding_a_slot,
    ]);
}
