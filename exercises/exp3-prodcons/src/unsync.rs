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

use crate::ledger::Ledger;
use crate::{Buffer, Config, IN, OUT, tell};

/// The index of `count` in the buffer's ends.
const COUNT: usize = 2;

/// Producer `p` without synchronisation (see the module).
///
/// # Errors
/// [`Error::Interrupted`] after SIGINT or SIGTERM. A full buffer for
/// [`Config::timeout`] is not an error: the producer says so and stops.
pub fn producer(p: usize, buffer: &Buffer, ledger: &Ledger, config: &Config) -> Result<()> {
    let plan = ledger.plan();
    let capacity = buffer.capacity() as i64;
    for k in 1..=plan.produces(p) {
        let item = crate::produce(plan, p, k, config)?;
        // while count == capacity: pass
        if !poll(config, || buffer.ends.get(COUNT) < capacity)? {
            tell(
                config,
                format_args!(
                    "Producer {p} gave up: the buffer looked full for {:?} (count {})",
                    config.timeout,
                    buffer.ends.get(COUNT)
                ),
            )?;
            return Ok(());
        }
        let at = buffer.ends.get(IN);
        buffer.slots.set(at as usize % buffer.capacity(), item);
        buffer.ends.set(IN, at + 1);
        buffer.ends.set(COUNT, buffer.ends.get(COUNT) + 1); // count += 1
        ledger.produced(p);
        tell(config, format_args!("Producer {p} produced {item}"))?;
    }
    Ok(())
}

/// Consumer `c` without synchronisation (see the module).
///
/// # Errors
/// As [`producer`].
pub fn consumer(c: usize, buffer: &Buffer, ledger: &Ledger, config: &Config) -> Result<()> {
    for _ in 0..ledger.plan().consumes(c) {
        // while count == 0: pass (`<=`: a count that lies may go below 0)
        if !poll(config, || buffer.ends.get(COUNT) > 0)? {
            tell(
                config,
                format_args!(
                    "Consumer {c} gave up: the buffer looked empty for {:?} (count {})",
                    config.timeout,
                    buffer.ends.get(COUNT)
                ),
            )?;
            return Ok(());
        }
        let at = buffer.ends.get(OUT);
        let item = buffer.slots.get(at as usize % buffer.capacity());
        buffer.ends.set(OUT, at + 1);
        buffer.ends.set(COUNT, buffer.ends.get(COUNT) - 1); // count -= 1
        ledger.consumed(c, item);
        tell(config, format_args!("Consumer {c} consumed {item}"))?;
        crate::consume(config)?;
    }
    Ok(())
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
