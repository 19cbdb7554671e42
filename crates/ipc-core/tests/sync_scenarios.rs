//! The synchronisation twins between real processes: the invariant of each
//! under stress (at most N holders of a Semaphore(N), every Event waiter
//! released, every Barrier round complete, every item through a
//! Condition-guarded buffer once), what a dead process leaves (a dead
//! holder, a dead party, a dead notifier, a dead semaphore user), the
//! timeouts, SIGINT/SIGTERM, and the named forms.
//!
//! A `harness = false` target: single-threaded, so the scenarios may fork
//! (see `ipc_testkit::scenarios`). Every wait is bounded.

use std::time::{Duration, Instant};

use ipc_core::blocking::{self, Deadline};
use ipc_core::{
    Barrier, BoundedSemaphore, Condition, Error, Event, IpcName, Lock, LockError, OnFailure,
    Process, RLock, RawArray, RawValue, Semaphore, Value, join_all, join_all_with, signal,
};
use ipc_testkit::{Pid, SIGNAL_DEADLINE, shm_objects, wait_blocked};
use nix::sys::signal::Signal;

#[path = "support/holder.rs"]
mod holder;
use holder::hold_until_killed;

/// The bound of every wait that should succeed: far above what it takes.
const LONG: Duration = Duration::from_secs(10);

/// Waits until `done()` holds, failing after ten seconds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let held = blocking::poll_until(Deadline::after(LONG), blocking::MOMENT, || {
        done().then_some(())
    });
    assert!(held.is_some(), "timed out waiting for {what}");
}

/// Joins `children`, failing with their statuses unless all succeeded.
fn all_succeed(children: &mut [Process]) {
    let statuses = join_all(children).unwrap();
    for (child, status) in children.iter().zip(&statuses) {
        assert!(status.success(), "{} {status}", child.name());
    }
}

/// Joins `children` whose expected end is a failure (a broken barrier's
/// exit code): one that ends first must not get its siblings stopped, as
/// [`join_all`] would (they are about to fail the same way, a moment
/// later, and would be killed by SIGTERM instead).
fn join_expecting_failures(children: &mut [Process]) -> Vec<ipc_core::ExitStatus> {
    join_all_with(children, OnFailure::LetOthersRun, |_| {}).unwrap()
}

fn pids(children: &[Process]) -> Vec<Pid> {
    children.iter().map(Process::pid).collect()
}

/// Six processes take a Semaphore(3) 20 000 times each, holding it for a
/// moment: never more than 3 hold it at once, and 3 do at some point.
fn a_semaphore_of_n_never_has_more_than_n_holders() {
    const N: u32 = 3;
    const PROCESSES: usize = 6;
    const ROUNDS: u32 = 20_000;
    let sem = Semaphore::new(N).unwrap();
    // Who holds it now, and the most there ever were (under their lock).
    let holders = Value::new(0_u32).unwrap();
    let most = RawValue::new(0_u32).unwrap();
    let taken = RawArray::<u32>::new(PROCESSES).unwrap();
    let start = Instant::now();
    let mut children: Vec<Process> = (0..PROCESSES)
        .map(|p| {
            Process::spawn(format!("holder {p}"), || -> Result<(), String> {
                for _ in 0..ROUNDS {
                    sem.acquire_timeout(LONG).map_err(|e| e.to_string())?;
                    let now = holders.update(|h| h + 1).map_err(|e| e.to_string())?;
                    if now > N {
                        return Err(format!("{now} holders of a Semaphore({N})"));
                    }
                    if now > most.get() {
                        most.set(now);
                    }
                    std::thread::yield_now();
                    holders.update(|h| h - 1).map_err(|e| e.to_string())?;
                    taken.set(p, taken.get(p) + 1);
                    sem.release().map_err(|e| e.to_string())?;
                }
                Ok(())
            })
            .unwrap()
        })
        .collect();
    all_succeed(&mut children);
    assert_eq!(
        taken.to_list().iter().sum::<u32>(),
        ROUNDS * PROCESSES as u32
    );
    assert_eq!(sem.value(), N, "every unit came back");
    assert_eq!(holders.get().unwrap(), 0);
    let most = most.get();
    assert!(
        (2..=N).contains(&most),
        "at most {most} held it at once: no overlap at all?"
    );
    eprint!(
        "[{} acquisitions in {:.2?}, at most {most} holders] ",
        ROUNDS * PROCESSES as u32,
        start.elapsed()
    );
}

/// A BoundedSemaphore shared by processes refuses a release above its
/// bound in any of them, and the value is unchanged.
fn a_bounded_semaphore_refuses_an_extra_release_in_any_process() {
    let sem = BoundedSemaphore::new(2).unwrap();
    sem.acquire().unwrap();
    let mut child = Process::spawn("releaser", || -> i32 {
        if sem.release().is_err() {
            return 2;
        }
        match sem.release() {
            Err(Error::TooManyReleases { limit: 2 }) => 0,
            other => {
                eprintln!("releaser: {other:?}");
                1
            }
        }
    })
    .unwrap();
    assert!(child.join().unwrap().success());
    assert_eq!(sem.value(), 2);
}

/// A process that dies holding a unit of a semaphore takes it with it (a
/// semaphore has no owner): the value stays lower and a waiter times out,
/// it does not hang. A process killed while waiting loses nothing.
fn a_dead_semaphore_user_loses_its_unit_and_waiters_time_out() {
    let sem = Semaphore::new(1).unwrap();
    let took = RawValue::new(0_u32).unwrap();
    let mut holder = Process::spawn("holder", || -> i32 {
        sem.acquire().unwrap();
        hold_until_killed(&took)
    })
    .unwrap();
    wait_until("the holder's acquire", || took.get() == 1);
    let mut waiter = Process::spawn("waiter", || sem.acquire_timeout(LONG)).unwrap();
    wait_blocked(&[waiter.pid()], LONG);
    holder.kill().unwrap();
    assert_eq!(holder.join().unwrap().code(), -9);
    waiter.kill().unwrap();
    assert_eq!(waiter.join().unwrap().code(), -9);
    assert_eq!(sem.value(), 0, "the dead holder's unit is gone");
    let start = Instant::now();
    assert!(matches!(
        sem.acquire_timeout(Duration::from_millis(200)),
        Err(Error::Timeout)
    ));
    assert!(start.elapsed() >= Duration::from_millis(200));
    sem.release().unwrap();
    sem.acquire_timeout(LONG).unwrap();
}

/// Four processes wait for an Event 500 times; each round the parent sets
/// it once every waiter has arrived, and clears it once all have passed:
/// every waiter is released every round.
fn an_event_releases_every_waiter_every_round() {
    const WAITERS: usize = 4;
    const ROUNDS: u32 = 500;
    let go = Event::new().unwrap();
    let arrived = Semaphore::new(0).unwrap();
    let passed = Semaphore::new(0).unwrap();
    let next = Semaphore::new(0).unwrap();
    let rounds = RawArray::<u32>::new(WAITERS).unwrap();
    let mut waiters: Vec<Process> = (0..WAITERS)
        .map(|w| {
            Process::spawn(format!("waiter {w}"), || -> ipc_core::Result<()> {
                for _ in 0..ROUNDS {
                    arrived.release()?;
                    go.wait_timeout(LONG)?;
                    rounds.set(w, rounds.get(w) + 1);
                    passed.release()?;
                    next.acquire_timeout(LONG)?;
                }
                Ok(())
            })
            .unwrap()
        })
        .collect();
    for round in 0..ROUNDS {
        for _ in 0..WAITERS {
            arrived.acquire_timeout(LONG).unwrap();
        }
        go.set().unwrap();
        for w in 0..WAITERS {
            passed.acquire_timeout(LONG).unwrap_or_else(|e| {
                panic!("round {round}: waiter {w} of {WAITERS} not released: {e}")
            });
        }
        go.clear();
        for _ in 0..WAITERS {
            next.release().unwrap();
        }
    }
    all_succeed(&mut waiters);
    assert_eq!(rounds.to_list().to_vec(), [ROUNDS; WAITERS]);
}

/// The state letter of `pid` in /proc (`S` asleep, `T` stopped).
fn state_of(pid: Pid) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let tail = stat.rsplit_once(')').map_or("", |(_, tail)| tail);
    tail.split_whitespace().next().unwrap_or("gone").to_owned()
}

/// A set immediately followed by a clear (a pulse) releases every process
/// that was already waiting: even processes that cannot look at the flag
/// between the set and the clear (they are stopped with SIGSTOP then) see
/// that the event was set.
fn a_pulse_releases_every_waiter_already_asleep() {
    let event = Event::new().unwrap();
    let mut waiters: Vec<Process> = (0..3)
        .map(|w| Process::spawn(format!("waiter {w}"), || event.wait_timeout(LONG)).unwrap())
        .collect();
    wait_blocked(&pids(&waiters), LONG);
    for waiter in &waiters {
        waiter.signal(Signal::SIGSTOP).unwrap();
    }
    wait_until("the waiters to stop", || {
        waiters.iter().all(|w| state_of(w.pid()) == "T")
    });
    event.set().unwrap();
    event.clear();
    for waiter in &waiters {
        waiter.signal(Signal::SIGCONT).unwrap();
    }
    let start = Instant::now();
    all_succeed(&mut waiters);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "released late: {:?}",
        start.elapsed()
    );
    assert!(!event.is_set());
}

/// Four processes meet at a Barrier 5000 times. Before each wait a party
/// records the round it reached; after it, it checks that every party had
/// reached that round (nobody passes before all arrived), and marks its
/// arrival index: every index 0..4 once per round.
fn every_barrier_round_completes() {
    const PARTIES: usize = 4;
    const ROUNDS: usize = 5000;
    let barrier = Barrier::new(PARTIES as u32).unwrap();
    let reached = RawArray::<u32>::new(PARTIES).unwrap();
    let marks = RawArray::<u8>::new(ROUNDS * PARTIES).unwrap();
    let start = Instant::now();
    let mut parties: Vec<Process> = (0..PARTIES)
        .map(|p| {
            Process::spawn(format!("party {p}"), || -> Result<(), String> {
                for round in 0..ROUNDS {
                    reached.set(p, round as u32 + 1);
                    let index = barrier.wait_timeout(LONG).map_err(|e| e.to_string())? as usize;
                    if index >= PARTIES {
                        return Err(format!("index {index}"));
                    }
                    let behind: Vec<usize> = (0..PARTIES)
                        .filter(|&q| (reached.get(q) as usize) < round + 1)
                        .collect();
                    if !behind.is_empty() {
                        return Err(format!(
                            "round {round}: passed before parties {behind:?} arrived"
                        ));
                    }
                    let at = round * PARTIES + index;
                    if marks.get(at) != 0 {
                        return Err(format!("round {round}: index {index} given twice"));
                    }
                    marks.set(at, 1);
                }
                barrier.leave();
                Ok(())
            })
            .unwrap()
        })
        .collect();
    all_succeed(&mut parties);
    let given = marks.to_list().iter().filter(|&&m| m == 1).count();
    assert_eq!(given, ROUNDS * PARTIES, "every index of every round");
    assert!(!barrier.is_broken());
    assert_eq!(barrier.n_waiting(), 0);
    eprint!("[{ROUNDS} rounds of {PARTIES} in {:.2?}] ", start.elapsed());
}

/// The exit codes of a party that saw…
const BROKE: i32 = 10; // Error::BrokenBarrier { why: "a party died" }
const TIMED_OUT: i32 = 11; // Error::Timeout
const BROKE_BY_TIMEOUT: i32 = 12; // Error::BrokenBarrier { why: "a party timed out" }
const INTERRUPTED: i32 = 13; // Error::Interrupted

fn code_of(outcome: ipc_core::Result<u32>) -> i32 {
    match outcome {
        Ok(_) => 0,
        Err(Error::BrokenBarrier {
            why: "a party died",
        }) => BROKE,
        Err(Error::Timeout) => TIMED_OUT,
        Err(Error::BrokenBarrier {
            why: "a party timed out",
        }) => BROKE_BY_TIMEOUT,
        Err(Error::Interrupted) => INTERRUPTED,
        Err(other) => {
            eprintln!("unexpected: {other}");
            1
        }
    }
}

/// Three parties meet 5 times; then one is SIGKILLed while it works
/// between rounds (it holds its slot, it is not waiting). The two others,
/// waiting for the 6th round with a 10 s timeout, get `a party died` long
/// before it: the barrier noticed the death.
fn a_party_killed_between_rounds_breaks_the_barrier() {
    let barrier = Barrier::new(3).unwrap();
    let working = RawValue::new(0_u32).unwrap();
    let (barrier_ref, working_ref) = (&barrier, &working);
    let party = |victim: bool| {
        let (barrier, working) = (barrier_ref, working_ref);
        move || -> i32 {
            for _ in 0..5 {
                if let Err(error) = barrier.wait_timeout(LONG) {
                    eprintln!("early: {error}");
                    return 1;
                }
            }
            if victim {
                hold_until_killed(working)
            }
            code_of(barrier.wait_timeout(LONG))
        }
    };
    let mut victim = Process::spawn("victim", party(true)).unwrap();
    let mut others = vec![
        Process::spawn("party 1", party(false)).unwrap(),
        Process::spawn("party 2", party(false)).unwrap(),
    ];
    wait_until("the victim to work after round 5", || working.get() == 1);
    wait_until("both others to wait for round 6", || {
        barrier.n_waiting() == 2
    });
    let killed = Instant::now();
    victim.kill().unwrap();
    assert_eq!(victim.join().unwrap().code(), -9);
    let statuses = join_expecting_failures(&mut others);
    let noticed = killed.elapsed();
    for status in statuses {
        assert_eq!(status.code(), BROKE, "{status}");
    }
    assert!(
        noticed < Duration::from_secs(3),
        "noticed after {noticed:?}"
    );
    assert!(barrier.is_broken());
    eprint!("[the death was noticed in {noticed:.2?}] ");
}

/// Four parties; three arrive and wait, and one of them is SIGKILLed in
/// its wait: the two others get `a party died`. After a reset the
/// barrier works again, with a new party in the dead one's slot.
fn a_party_killed_while_waiting_breaks_the_barrier_until_reset() {
    let barrier = Barrier::new(4).unwrap();
    let mut victim = Process::spawn("victim", || code_of(barrier.wait_timeout(LONG))).unwrap();
    let mut others: Vec<Process> = (1..3)
        .map(|p| {
            Process::spawn(format!("party {p}"), || code_of(barrier.wait_timeout(LONG))).unwrap()
        })
        .collect();
    wait_until("three parties waiting", || barrier.n_waiting() == 3);
    victim.kill().unwrap();
    assert_eq!(victim.join().unwrap().code(), -9);
    for status in join_expecting_failures(&mut others) {
        assert_eq!(status.code(), BROKE, "{status}");
    }
    assert!(matches!(
        barrier.wait_timeout(LONG),
        Err(Error::BrokenBarrier { .. })
    ));
    barrier.leave();

    // The parties have all ended: reset frees their slots, and four new
    // processes complete a round.
    barrier.reset().unwrap();
    assert!(!barrier.is_broken());
    let mut fresh: Vec<Process> = (0..4)
        .map(|p| {
            Process::spawn(format!("new party {p}"), || {
                code_of(barrier.wait_timeout(LONG))
            })
            .unwrap()
        })
        .collect();
    all_succeed(&mut fresh);
}

/// A party whose wait times out gets Timeout and breaks the barrier: the
/// other party waiting gets `a party timed out`, well before its own
/// timeout.
fn a_barrier_timeout_breaks_it_for_the_others() {
    let barrier = Barrier::new(3).unwrap();
    let mut patient = Process::spawn("patient", || code_of(barrier.wait_timeout(LONG))).unwrap();
    wait_until("the patient party to wait", || barrier.n_waiting() == 1);
    let mut hasty = Process::spawn("hasty", || {
        code_of(barrier.wait_timeout(Duration::from_millis(200)))
    })
    .unwrap();
    let start = Instant::now();
    assert_eq!(hasty.join().unwrap().code(), TIMED_OUT);
    assert_eq!(patient.join().unwrap().code(), BROKE_BY_TIMEOUT);
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A process that dies holding an RLock twice is reported to the next
/// locker, which repairs it; the lock then works cleanly, also for the
/// process that forked the holder.
fn a_dead_rlock_holder_is_reported_not_waited_for() {
    let rlock = RLock::new().unwrap();
    let holding = RawValue::new(0_u32).unwrap();
    let mut holder = Process::spawn("holder", || -> i32 {
        let _outer = rlock.lock().unwrap();
        let _inner = rlock.lock().unwrap();
        hold_until_killed(&holding)
    })
    .unwrap();
    wait_until("the holder to take the rlock", || holding.get() == 1);
    assert!(!rlock.is_mine(), "the child's hold is not the parent's");
    holder.kill().unwrap();
    assert_eq!(holder.join().unwrap().code(), -9);
    match rlock.lock_timeout(LONG) {
        Err(LockError::OwnerDied(guard)) => guard.make_consistent().unwrap(),
        other => panic!("expected OwnerDied, got {other:?}"),
    }
    assert!(!rlock.is_mine());
    let mut child = Process::spawn("next", || {
        rlock
            .lock_timeout(LONG)
            .map(drop)
            .map_err(ipc_core::Error::from)
    })
    .unwrap();
    assert!(child.join().unwrap().success(), "clean again");
}

/// Two processes wait on a Condition for a flag; a notifier takes the
/// lock, sets the flag and dies holding the lock, without notifying. The
/// waiters are not stuck: one finds the dead holder (OwnerDied) and
/// repairs, the other is woken to look again, and both see the flag long
/// before their timeout.
fn condition_waiters_survive_a_notifier_that_died_holding_the_lock() {
    let cond = Condition::new().unwrap();
    let flag = RawValue::new(0_u32).unwrap();
    let died_seen = RawValue::new(0_u32).unwrap();
    let mut waiters: Vec<Process> = (0..2)
        .map(|w| {
            Process::spawn(format!("waiter {w}"), || -> ipc_core::Result<()> {
                let mut guard = match cond.lock() {
                    Ok(guard) => guard,
                    Err(LockError::OwnerDied(guard)) => {
                        guard.make_consistent()?;
                        guard
                    }
                    Err(LockError::Failed(error)) => return Err(error),
                };
                loop {
                    match guard.wait_for_timeout(LONG, || flag.get() == 1) {
                        Ok(()) => return Ok(()),
                        Err(Error::OwnerDied) => {
                            died_seen.set(died_seen.get() + 1);
                            guard.make_consistent()?;
                        }
                        Err(error) => return Err(error),
                    }
                }
            })
            .unwrap()
        })
        .collect();
    wait_blocked(&pids(&waiters), LONG);
    let holding = RawValue::new(0_u32).unwrap();
    let mut notifier = Process::spawn("notifier", || -> i32 {
        let _guard = cond.lock().unwrap();
        flag.set(1);
        hold_until_killed(&holding)
    })
    .unwrap();
    wait_until("the notifier to hold the lock", || holding.get() == 1);
    let killed = Instant::now();
    notifier.kill().unwrap();
    assert_eq!(notifier.join().unwrap().code(), -9);
    all_succeed(&mut waiters);
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(died_seen.get() >= 1, "nobody was told of the dead holder");
    // The lock is clean again.
    drop(cond.lock_timeout(LONG).unwrap());
}

/// Four processes wait on a Condition; notify(2) wakes exactly two of them
/// (the others go on waiting), notify_all the rest.
fn notify_n_wakes_at_most_n() {
    let cond = Condition::with_lock(Lock::new().unwrap()).unwrap();
    let woken = Semaphore::new(0).unwrap();
    let mut waiters: Vec<Process> = (0..4)
        .map(|w| {
            Process::spawn(format!("waiter {w}"), || -> ipc_core::Result<()> {
                let mut guard = cond.lock()?;
                guard.wait_timeout(LONG)?;
                woken.release()
            })
            .unwrap()
        })
        .collect();
    wait_blocked(&pids(&waiters), LONG);
    cond.lock().unwrap().notify(2).unwrap();
    woken.acquire_timeout(LONG).unwrap();
    woken.acquire_timeout(LONG).unwrap();
    assert!(
        matches!(
            woken.acquire_timeout(Duration::from_millis(300)),
            Err(Error::Timeout)
        ),
        "a third waiter woke"
    );
    cond.lock().unwrap().notify_all().unwrap();
    all_succeed(&mut waiters);
    assert_eq!(woken.value(), 2);
}

/// A bounded buffer guarded by a Condition (Python's classic example): two
/// producers put 10 000 numbers each through 4 slots, two consumers take
/// them; every number arrives exactly once.
fn a_condition_guarded_buffer_delivers_every_item_once() {
    const CAPACITY: usize = 4;
    const PER_PRODUCER: u32 = 10_000;
    const PRODUCERS: u32 = 2;
    let total = (PER_PRODUCER * PRODUCERS) as usize;
    let cond = Condition::new().unwrap();
    let ring = RawArray::<u32>::new(CAPACITY).unwrap();
    // [put so far, taken so far]
    let ends = RawArray::<u64>::new(2).unwrap();
    let seen = RawArray::<u8>::new(total).unwrap();
    let mut children: Vec<Process> = (0..PRODUCERS)
        .map(|p| {
            Process::spawn(format!("producer {p}"), || -> ipc_core::Result<()> {
                for i in 0..PER_PRODUCER {
                    let mut guard = cond.lock()?;
                    guard.wait_for_timeout(LONG, || ends.get(0) - ends.get(1) < CAPACITY as u64)?;
                    let tail = ends.get(0);
                    ring.set(tail as usize % CAPACITY, p * PER_PRODUCER + i);
                    ends.set(0, tail + 1);
                    guard.notify_all()?;
                }
                Ok(())
            })
            .unwrap()
        })
        .collect();
    for c in 0..2 {
        children.push(
            Process::spawn(format!("consumer {c}"), || -> ipc_core::Result<()> {
                loop {
                    let mut guard = cond.lock()?;
                    guard.wait_for_timeout(LONG, || {
                        ends.get(1) < ends.get(0) || ends.get(1) == total as u64
                    })?;
                    let head = ends.get(1);
                    if head == total as u64 {
                        return Ok(());
                    }
                    let item = ring.get(head as usize % CAPACITY) as usize;
                    seen.set(item, seen.get(item) + 1);
                    ends.set(1, head + 1);
                    guard.notify_all()?;
                }
            })
            .unwrap(),
        );
    }
    all_succeed(&mut children);
    let counts = seen.to_list();
    let wrong: Vec<usize> = (0..total).filter(|&i| counts[i] != 1).collect();
    assert!(
        wrong.is_empty(),
        "not exactly once: {:?}",
        &wrong[..wrong.len().min(10)]
    );
}

/// One of each twin, nothing given: a child that waits on any of them
/// waits until its bound or a signal, once the parent holds the two locks.
fn twins() -> (Lock, RLock, Semaphore, Event, Condition, Barrier) {
    (
        Lock::new().unwrap(),
        RLock::new().unwrap(),
        Semaphore::new(0).unwrap(),
        Event::new().unwrap(),
        Condition::new().unwrap(),
        Barrier::new(2).unwrap(),
    )
}

/// Every wait of every twin gives up with Timeout after its bound, in a
/// child, while the parent holds what it waits for.
fn every_wait_times_out_after_its_bound() {
    let bound = Duration::from_millis(150);
    let (lock, rlock, sem, event, cond, barrier) = twins();
    let (_held, _rheld) = (lock.lock().unwrap(), rlock.lock().unwrap());
    let mut child = Process::spawn("waiter", || -> Result<(), String> {
        let timed = |what: &str, wait: &mut dyn FnMut() -> ipc_core::Result<()>| {
            let start = Instant::now();
            let outcome = wait();
            let took = start.elapsed();
            match outcome {
                Err(Error::Timeout) if took >= bound && took < bound + Duration::from_secs(2) => {
                    Ok(())
                }
                other => Err(format!("{what}: {other:?} after {took:?}")),
            }
        };
        timed("Lock", &mut || {
            lock.lock_timeout(bound).map(drop).map_err(Error::from)
        })?;
        timed("RLock", &mut || {
            rlock.lock_timeout(bound).map(drop).map_err(Error::from)
        })?;
        timed("Semaphore", &mut || sem.acquire_timeout(bound))?;
        timed("Event", &mut || event.wait_timeout(bound))?;
        let mut guard = cond.lock().map_err(|e| e.to_string())?;
        timed("Condition", &mut || guard.wait_timeout(bound))?;
        timed("Condition::wait_for", &mut || {
            guard.wait_for_timeout(bound, || false)
        })?;
        drop(guard);
        timed("Barrier", &mut || barrier.wait_timeout(bound).map(drop))?;
        Ok(())
    })
    .unwrap();
    assert!(child.join().unwrap().success());
    assert!(barrier.is_broken(), "the timed-out party broke it");
}

/// A child blocked (without a timeout) in each twin's wait ends within the
/// promised interval of SIGINT or SIGTERM, with Interrupted.
fn a_signal_ends_every_blocked_wait() {
    let (lock, rlock, sem, event, cond, barrier) = twins();
    let (_held, _rheld) = (lock.lock().unwrap(), rlock.lock().unwrap());
    let interrupted = |outcome: ipc_core::Result<()>| match outcome {
        Err(Error::Interrupted) => INTERRUPTED,
        other => {
            eprintln!("{other:?}");
            1
        }
    };
    type Wait<'a> = Box<dyn Fn() -> ipc_core::Result<()> + 'a>;
    let waits: Vec<(&str, Wait)> = vec![
        (
            "Lock",
            Box::new(|| lock.lock().map(drop).map_err(Error::from)),
        ),
        (
            "RLock",
            Box::new(|| rlock.lock().map(drop).map_err(Error::from)),
        ),
        ("Semaphore", Box::new(|| sem.acquire())),
        ("Event", Box::new(|| event.wait())),
        (
            "Condition",
            Box::new(|| {
                let mut guard = cond.lock()?;
                guard.wait()
            }),
        ),
        ("Barrier", Box::new(|| barrier.wait().map(drop))),
    ];
    let mut children: Vec<Process> = waits
        .iter()
        .map(|(what, wait)| {
            Process::spawn(*what, || {
                signal::install().unwrap();
                interrupted(wait())
            })
            .unwrap()
        })
        .collect();
    wait_blocked(&pids(&children), LONG);
    let sent = Instant::now();
    for (i, child) in children.iter().enumerate() {
        let sig = if i % 2 == 0 {
            Signal::SIGINT
        } else {
            Signal::SIGTERM
        };
        child.signal(sig).unwrap();
    }
    for child in &mut children {
        let status = child.join_timeout(SIGNAL_DEADLINE).unwrap();
        assert_eq!(
            status.map(|s| s.code()),
            Some(INTERRUPTED),
            "{} after {:?}",
            child.name(),
            sent.elapsed()
        );
    }
    assert_eq!(
        barrier.n_waiting(),
        0,
        "the interrupted party left the round"
    );
    assert!(!barrier.is_broken());
}

/// The named forms: the parent creates, children open by name (not
/// through an inherited handle) and use them; nothing is left in /dev/shm.
fn named_twins_meet_through_their_names() {
    let before = shm_objects();
    {
        let sem_name = IpcName::unique("sync-sem").unwrap();
        let event_name = IpcName::unique("sync-event").unwrap();
        let barrier_name = IpcName::unique("sync-barrier").unwrap();
        let cond_name = IpcName::unique("sync-cond").unwrap();
        let sem = Semaphore::create(&sem_name, 0).unwrap();
        let event = Event::create(&event_name).unwrap();
        let _barrier = Barrier::create(&barrier_name, 2).unwrap();
        let cond = Condition::create(&cond_name).unwrap();
        let flag = RawValue::new(0_u32).unwrap();
        let flag = &flag;
        let names = (&sem_name, &event_name, &barrier_name, &cond_name);
        let mut children: Vec<Process> = (0..2)
            .map(|c| {
                Process::spawn(format!("opener {c}"), move || -> ipc_core::Result<()> {
                    let (sem_name, event_name, barrier_name, cond_name) = names;
                    let sem = Semaphore::open(sem_name)?;
                    let event = Event::open(event_name)?;
                    let barrier = Barrier::open(barrier_name)?;
                    let cond = Condition::open(cond_name)?;
                    barrier.wait_timeout(LONG)?;
                    sem.release()?;
                    event.wait_timeout(LONG)?;
                    // Woken by the parent's notify through its own
                    // mapping, or a Timeout error.
                    let mut guard = cond.lock()?;
                    while flag.get() != 1 {
                        guard.wait_timeout(Duration::from_secs(3))?;
                    }
                    Ok(())
                })
                .unwrap()
            })
            .collect();
        sem.acquire_timeout(LONG).unwrap();
        sem.acquire_timeout(LONG).unwrap();
        event.set().unwrap();
        {
            let guard = cond.lock().unwrap();
            flag.set(1);
            guard.notify_all().unwrap();
        }
        all_succeed(&mut children);
        assert!(matches!(
            Barrier::open(&sem_name),
            Err(Error::Untrusted { .. })
        ));
    }
    let left: Vec<String> = shm_objects()
        .difference(&before)
        .filter(|name| name.contains("-sync-"))
        .cloned()
        .collect();
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        a_semaphore_of_n_never_has_more_than_n_holders,
        a_bounded_semaphore_refuses_an_extra_release_in_any_process,
        a_dead_semaphore_user_loses_its_unit_and_waiters_time_out,
        an_event_releases_every_waiter_every_round,
        a_pulse_releases_every_waiter_already_asleep,
        every_barrier_round_completes,
        a_party_killed_between_rounds_breaks_the_barrier,
        a_party_killed_while_waiting_breaks_the_barrier_until_reset,
        a_barrier_timeout_breaks_it_for_the_others,
        a_dead_rlock_holder_is_reported_not_waited_for,
        condition_waiters_survive_a_notifier_that_died_holding_the_lock,
        notify_n_wakes_at_most_n,
        a_condition_guarded_buffer_delivers_every_item_once,
        every_wait_times_out_after_its_bound,
        a_signal_ends_every_blocked_wait,
        named_twins_meet_through_their_names,
    ]);
}
