//! `--no-sync`: the same processes on the same ring, without the
//! semaphores and the mutex: the textbook's first attempt, with a shared
//! count of the filled slots, polled.
//!
//! ```text
//! producer:                          consumer:
//!     item = produce()                   while count == 0: pass
//!     while count == capacity: pass      item = buffer[out]; out += 1
//!     buffer[in] = item; in += 1         count -= 1
//!     count += 1                         consume(item)
//! ```
//!
//! Each line is right on its own, and every load and store of a shared
//! number is atomic; what goes wrong is that nothing keeps two processes
//! out of the same lines at once:
//!
//! * two producers read the same `in`, both write the same slot (the first
//!   item is lost) and both store `in + 1` (one slot is skipped);
//! * `count += 1` and `count -= 1` are a load, an add and a store each: a
//!   producer and a consumer that interleave them lose one of the two
//!   updates, and from then on `count` lies. Too high, and a consumer
//!   takes a slot nobody filled (an item taken twice, or an empty slot,
//!   item 0); too low, and the processes wait for nothing.
//!
//! The polls are bounded: a process that finds no progress for
//! [`Config::timeout`] says so and stops, so the run always ends and
//! prints its summary. Polling also keeps a CPU busy while it waits, which
//! is what the semaphores avoid.

use ipc_core::blocking::{self, Deadline};
use ipc_core::{Error, Result};

use crate::recovery::Who;
use crate::{Buffer, Config, Log};

/// Says, first thing, that this run goes without synchronisation.
///
/// # Errors
/// As [`Log::tell`].
pub fn announce(log: &Log) -> Result<()> {
    log.tell(format_args!(
        "No semaphores, no mutex (--no-sync): a shared count, polled"
    ))
}

/// Producer `p` without synchronisation (see the module).
///
/// # Errors
/// `Interrupted` after SIGINT or SIGTERM. A full buffer for
/// [`Config::timeout`] is not an error: the producer says so and stops.
pub fn producer(p: usize, ring: &Buffer, log: &Log, config: &Config) -> Result<()> {
    let plan = log.ledger.plan();
    let capacity = ring.capacity() as i64;
    for k in 1..=plan.produces(p) {
        let item = crate::produce(plan, p, k, config)?;
        // while count == capacity: pass
        if !poll(config, || ring.count() < capacity)? {
            return gave_up(log, Who::Producer(p), "full", ring, config);
        }
        log.produced(p, put_counted(ring, item))?;
    }
    Ok(())
}

/// Consumer `c` without synchronisation (see the module).
///
/// # Errors
/// As [`producer`].
pub fn consumer(c: usize, ring: &Buffer, log: &Log, config: &Config) -> Result<()> {
    for _ in 0..log.ledger.plan().consumes(c) {
        // while count == 0: pass (`<=`: a count that lies may go below 0)
        if !poll(config, || ring.count() > 0)? {
            return gave_up(log, Who::Consumer(c), "empty", ring, config);
        }
        log.consumed(c, take_counted(ring))?;
        crate::consume(config)?;
    }
    Ok(())
}

/// `buffer[in] = item; in += 1; count += 1`; returns the item.
fn put_counted(ring: &Buffer, item: u64) -> u64 {
    ring.put(item);
    ring.add_to_count(1);
    item
}

/// `item = buffer[out]; out += 1; count -= 1`; returns the item.
fn take_counted(ring: &Buffer) -> u64 {
    let item = ring.take();
    ring.add_to_count(-1);
    item
}

/// The last line of a process that waited for nothing for
/// [`Config::timeout`].
fn gave_up(log: &Log, who: Who, looked: &str, ring: &Buffer, config: &Config) -> Result<()> {
    log.tell(format_args!(
        "{who} gave up: the buffer looked {looked} for {:?} (count {})",
        config.timeout,
        ring.count()
    ))
}

/// Polls `ready` until it holds (true) or [`Config::timeout`] passes
/// (false), yielding the CPU between two looks.
fn poll(config: &Config, ready: impl Fn() -> bool) -> Result<bool> {
    let outcome = blocking::wait(Deadline::after(config.timeout), |_| {
        if ready() {
            return Ok(Some(()));
        }
        std::thread::yield_now();
        Ok(None)
    });
    match outcome {
        Ok(()) => Ok(true),
        Err(Error::Timeout) => Ok(false),
        Err(error) => Err(error),
    }
}
