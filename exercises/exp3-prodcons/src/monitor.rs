//! `--condition`: the same processes on the same ring, kept in step by
//! one condition variable and its lock (a *monitor*) instead of the two
//! semaphores and the mutex:
//!
//! ```text
//! cond = Condition(Lock())       # the ring's lock, and a place to wait
//!
//! producer:                          consumer:
//!     item = produce()                   with cond:
//!     with cond:                             while count == 0:
//!         while count == capacity:               cond.wait()
//!             cond.wait()                    item = buffer[out]; out += 1
//!         buffer[in] = item; in += 1         cond.notify_all()
//!         cond.notify_all()              consume(item)
//! ```
//!
//! `count` is `in - out`, read under the lock. A waiting process lets the
//! lock go while it sleeps and holds it again when it wakes; it then looks
//! again, because what it waited for may be gone (another process of its
//! kind got there first), and one condition serves both kinds of waiters.
//! Every wait is bounded by [`Config::timeout`].

use std::time::Duration;

use ipc_core::{Condition, ConditionGuard, Error, Lock, Result};

use crate::recovery::{Who, died_holding, explained, taken_over};
use crate::{Buffer, Config, Log};

/// The ring's one condition and its lock (Python: `Condition(Lock())`),
/// each wait bounded by `timeout`.
#[derive(Debug)]
pub struct Monitor {
    /// The condition; [`Monitor::lock`] takes its lock.
    pub cond: Condition,
    /// How long a wait may last ([`Config::timeout`]).
    pub timeout: Duration,
}

impl Monitor {
    /// A condition over a new lock.
    ///
    /// # Errors
    /// As [`Lock::new`] and [`Condition::with_lock`].
    pub fn new(timeout: Duration) -> Result<Monitor> {
        Ok(Monitor {
            cond: Condition::with_lock(Lock::new()?)?,
            timeout,
        })
    }

    /// `with cond:`, waiting at most [`Config::timeout`] for the lock. A
    /// process that died holding it left the ring whole (see
    /// [`crate::ring`]): `who` says so and goes on.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the lock stayed held, said on stderr first;
    /// [`Error::Interrupted`] after SIGINT or SIGTERM.
    pub fn lock(&self, who: Who, log: &Log) -> Result<ConditionGuard<'_>> {
        let taken = self.cond.lock_timeout(self.timeout);
        taken_over(
            taken,
            ConditionGuard::make_consistent,
            who,
            log,
            self.timeout,
        )
    }

    /// `cond.wait()`, at most [`Config::timeout`]: lets the lock go, sleeps
    /// until notified, holds the lock again.
    ///
    /// # Errors
    /// As [`Monitor::lock`], when nobody notified in time.
    pub fn wait(&self, guard: &mut ConditionGuard<'_>, who: Who, log: &Log) -> Result<()> {
        match guard.wait_timeout(self.timeout) {
            Err(Error::OwnerDied) => {
                died_holding(who, log)?;
                guard.make_consistent()
            }
            outcome => explained(outcome, || {
                format!(
                    "{who}: nobody changed the buffer for {:?} (is a process gone?)",
                    self.timeout
                )
            }),
        }
    }
}

/// Producer `p` or consumer `c` (from 1) with the condition: the same
/// shares as [`crate::producer`] and [`crate::consumer`].
///
/// # Errors
/// As [`crate::producer`].
pub fn part(
    who: Who,
    buffer: &Buffer,
    monitor: &Monitor,
    log: &Log,
    config: &Config,
) -> Result<()> {
    let plan = log.ledger.plan();
    match who {
        Who::Producer(p) => {
            for k in 1..=plan.produces(p) {
                let item = crate::produce(plan, p, k, config)?;
                put_with_condition(p, item, buffer, monitor, log)?;
            }
        }
        Who::Consumer(c) => {
            for _ in 0..plan.consumes(c) {
                get_with_condition(c, buffer, monitor, log)?;
                crate::consume(config)?;
            }
        }
    }
    Ok(())
}

/// Producer `p` puts `item` in the ring: under the condition's lock,
/// waiting while the ring is full; then notifies.
fn put_with_condition(
    p: usize,
    item: u64,
    buffer: &Buffer,
    monitor: &Monitor,
    log: &Log,
) -> Result<()> {
    // STUDENT: under the condition's lock: while the ring is full, wait; then put `item`, log it and notify every waiter
    let mut guard = monitor.lock(Who::Producer(p), log)?; // with cond:
    while buffer.filled() == buffer.capacity() {
        monitor.wait(&mut guard, Who::Producer(p), log)?; // cond.wait()
    }
    buffer.put(item); // buffer[in] = item; in += 1
    log.produced(p, item)?;
    guard.notify_all()?; // a consumer may wait for an item
    // END STUDENT
    Ok(())
}

/// Consumer `c` takes an item from the ring: under the condition's lock,
/// waiting while the ring is empty; then notifies.
fn get_with_condition(c: usize, buffer: &Buffer, monitor: &Monitor, log: &Log) -> Result<()> {
    // STUDENT: under the condition's lock: while the ring is empty, wait; then take an item, log it and notify every waiter
    let mut guard = monitor.lock(Who::Consumer(c), log)?; // with cond:
    while buffer.filled() == 0 {
        monitor.wait(&mut guard, Who::Consumer(c), log)?; // cond.wait()
    }
    let item = buffer.take(); // item = buffer[out]; out += 1
    log.consumed(c, item)?;
    guard.notify_all()?; // a producer may wait for a free slot
    // END STUDENT
    Ok(())
}
