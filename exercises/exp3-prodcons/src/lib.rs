//! Seed 001 theory: "IPC is used in many contexts, such as a producer –
//! consumer problem". The bounded buffer, solved the textbook way.
//!
//! Producers put items in a ring of `capacity` slots in shared memory;
//! consumers take them out. Two counting semaphores and a mutex keep them
//! in step:
//!
//! ```text
//! empty = Semaphore(capacity)   # free slots
//! full  = Semaphore(0)          # filled slots
//! mutex = Lock()                # the ring's two ends
//!
//! producer:                      consumer:
//!     item = produce()               wait(full)
//!     wait(empty)                    wait(mutex)
//!     wait(mutex)                    item = buffer[out]; out += 1
//!     buffer[in] = item; in += 1     signal(mutex)
//!     signal(mutex)                  signal(empty)
//!     signal(full)                   consume(item)
//! ```
//!
//! [`producer`] and [`consumer`] are that code; [`run`] forks the
//! processes and prints the summary. [`unsync`] is the same without the
//! semaphores and the mutex (`--no-sync`); [`ledger`] is the bookkeeping
//! that checks the result.

pub mod ledger;
pub mod unsync;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::{
    Error, Lock, LockError, LockGuard, Process, RawArray, Result, Semaphore, join_all, join_all_ok,
    pace, signal,
};

use ledger::{Ledger, Plan};

/// Slots in the ring unless `--capacity` says otherwise.
pub const DEFAULT_CAPACITY: usize = 5;
/// Producer processes unless `--producers` says otherwise.
pub const DEFAULT_PRODUCERS: usize = 2;
/// Consumer processes unless `--consumers` says otherwise.
pub const DEFAULT_CONSUMERS: usize = 2;
/// Items in all unless `--items` says otherwise.
pub const DEFAULT_ITEMS: u64 = 20;
/// How long producing or consuming one item takes, unless `--delay`.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(100);
/// How long a process waits for a slot, an item or the lock before it
/// gives up, unless `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Config {
    /// Slots in the ring.
    pub capacity: usize,
    /// Producer processes.
    pub producers: usize,
    /// Consumer processes.
    pub consumers: usize,
    /// Items in all.
    pub items: u64,
    /// How long producing or consuming one item takes (a pause, scaled by
    /// `--fast`).
    pub delay: Duration,
    /// How long a wait may last before the process gives up: every wait
    /// is bounded, so that a dead process never hangs the others.
    pub timeout: Duration,
    /// With the semaphores and the mutex (false: `--no-sync`).
    pub sync: bool,
    /// Print only the summary line.
    pub quiet: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capacity: DEFAULT_CAPACITY,
            producers: DEFAULT_PRODUCERS,
            consumers: DEFAULT_CONSUMERS,
            items: DEFAULT_ITEMS,
            delay: DEFAULT_DELAY,
            timeout: DEFAULT_TIMEOUT,
            sync: true,
            quiet: false,
        }
    }
}

/// The index of `in` (the next slot to fill) in [`Buffer`]'s ends.
const IN: usize = 0;
/// The index of `out` (the next slot to empty).
const OUT: usize = 1;

/// The ring in shared memory (Python: `Array('q', capacity)` and two
/// `Value`s without a lock). `in` and `out` count the items put and taken
/// so far; slot `in % capacity` is the next to fill.
#[derive(Debug)]
pub struct Buffer {
    slots: RawArray<u64>,
    /// `[in, out, count]`; `count` only for `--no-sync`.
    ends: RawArray<i64>,
}

impl Buffer {
    /// An empty ring of `capacity` slots (all 0: no item).
    ///
    /// # Errors
    /// As [`RawArray::new`].
    pub fn new(capacity: usize) -> Result<Buffer> {
        Ok(Buffer {
            slots: RawArray::new(capacity)?,
            ends: RawArray::new(3)?,
        })
    }

    fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// `buffer[in] = item; in += 1`
    fn put(&self, item: u64) {
        let at = self.ends.get(IN);
        self.slots.set(at as usize % self.capacity(), item);
        self.ends.set(IN, at + 1);
    }

    /// `item = buffer[out]; out += 1`
    fn take(&self) -> u64 {
        let at = self.ends.get(OUT);
        let item = self.slots.get(at as usize % self.capacity());
        self.ends.set(OUT, at + 1);
        item
    }
}

/// The textbook's synchronisation (Python: `Semaphore(capacity)`,
/// `Semaphore(0)`, `Lock()`).
#[derive(Debug)]
pub struct Guards {
    /// Free slots: a producer waits on it, a consumer signals it.
    pub empty: Semaphore,
    /// Filled slots: a consumer waits on it, a producer signals it.
    pub full: Semaphore,
    /// Who may touch the ring's ends now.
    pub mutex: Lock,
}

impl Guards {
    /// `empty` at `capacity`, `full` at 0, the mutex free.
    ///
    /// # Errors
    /// As [`Semaphore::new`] and [`Lock::new`].
    pub fn new(capacity: usize) -> Result<Guards> {
        let capacity = u32::try_from(capacity)
            .map_err(|_| Error::InvalidArgument(format!("--capacity {capacity} is too large")))?;
        Ok(Guards {
            empty: Semaphore::new(capacity)?,
            full: Semaphore::new(0)?,
            mutex: Lock::new()?,
        })
    }
}

/// Producer `p` (from 1): makes its share of the items and puts each in
/// the buffer, waiting for a free slot.
///
/// # Errors
/// [`Error::Timeout`] when no slot came free (or the lock stayed held) for
/// [`Config::timeout`], saying so on stderr first;
/// [`Error::Interrupted`] after SIGINT or SIGTERM.
pub fn producer(
    p: usize,
    buffer: &Buffer,
    guards: &Guards,
    ledger: &Ledger,
    config: &Config,
) -> Result<()> {
    let plan = ledger.plan();
    for k in 1..=plan.produces(p) {
        let item = produce(plan, p, k, config)?;
        // STUDENT: wait(empty); under the mutex put `item`, ledger.produced, tell; signal(full)
        // wait(empty): a free slot.
        bounded(guards.empty.acquire_timeout(config.timeout), || {
            format!(
                "Producer {p}: no free slot for {:?} (is a consumer gone?)",
                config.timeout
            )
        })?;
        {
            let _mutex = lock(&guards.mutex, "Producer", p, config)?; // wait(mutex)
            buffer.put(item);
            ledger.produced(p);
            tell(config, format_args!("Producer {p} produced {item}"))?;
        } // signal(mutex)
        guards.full.release()?; // signal(full)
        // END STUDENT
    }
    Ok(())
}

/// Consumer `c` (from 1): takes its share of the items out of the buffer,
/// waiting for a filled slot, and consumes each.
///
/// # Errors
/// As [`producer`].
pub fn consumer(
    c: usize,
    buffer: &Buffer,
    guards: &Guards,
    ledger: &Ledger,
    config: &Config,
) -> Result<()> {
    for _ in 0..ledger.plan().consumes(c) {
        // STUDENT: wait(full); under the mutex take an item, ledger.consumed, tell; signal(empty)
        // wait(full): a filled slot.
        bounded(guards.full.acquire_timeout(config.timeout), || {
            format!(
                "Consumer {c}: no item for {:?} (is a producer gone?)",
                config.timeout
            )
        })?;
        let item;
        {
            let _mutex = lock(&guards.mutex, "Consumer", c, config)?; // wait(mutex)
            item = buffer.take();
            ledger.consumed(c, item);
            tell(config, format_args!("Consumer {c} consumed {item}"))?;
        } // signal(mutex)
        guards.empty.release()?; // signal(empty)
        // END STUDENT
        consume(config)?;
    }
    Ok(())
}

/// Makes producer `p`'s `k`-th item, which takes [`Config::delay`].
fn produce(plan: &Plan, p: usize, k: u64, config: &Config) -> Result<u64> {
    pace::sleep(config.delay)?;
    Ok(plan.item(p, k))
}

/// Consumes an item, which takes [`Config::delay`].
fn consume(config: &Config) -> Result<()> {
    pace::sleep(config.delay)
}

/// Takes the buffer's lock, waiting at most [`Config::timeout`]. A process
/// that died holding it left the ring whole (each end moves with a single
/// store, after the slot is written or read): say so and go on.
fn lock<'a>(mutex: &'a Lock, role: &str, n: usize, config: &Config) -> Result<LockGuard<'a>> {
    match mutex.lock_timeout(config.timeout) {
        Ok(guard) => Ok(guard),
        Err(LockError::OwnerDied(guard)) => {
            tell(
                config,
                format_args!(
                    "{role} {n}: a process died holding the buffer's lock; the ring is whole, going on"
                ),
            )?;
            guard.make_consistent()?;
            Ok(guard)
        }
        Err(LockError::Failed(Error::Timeout)) => {
            ipc_cli::say_err!(
                "{role} {n}: the buffer's lock stayed held for {:?}",
                config.timeout
            );
            Err(Error::Timeout)
        }
        Err(LockError::Failed(error)) => Err(error),
    }
}

/// A bounded wait's outcome; on a timeout, explains it on stderr first.
fn bounded(outcome: Result<()>, explain: impl FnOnce() -> String) -> Result<()> {
    if let Err(Error::Timeout) = outcome {
        ipc_cli::say_err!("{}", explain());
    }
    outcome
}

/// Prints one line of the run, unless `--quiet`.
pub(crate) fn tell(config: &Config, line: std::fmt::Arguments<'_>) -> Result<()> {
    if !config.quiet {
        say!("{line}")?;
    }
    Ok(())
}

/// Checks the sizes before anything is made.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) for a count of 0.
pub fn check(config: &Config) -> Result<()> {
    for (what, n) in [
        ("--capacity", config.capacity as u64),
        ("--producers", config.producers as u64),
        ("--consumers", config.consumers as u64),
        ("--items", config.items),
    ] {
        if n == 0 {
            return Err(Error::InvalidArgument(format!("{what} must be at least 1")));
        }
    }
    Ok(())
}

/// The experiment: a buffer of [`Config::capacity`] slots, the producers
/// and the consumers as processes, then the summary line
/// (`Produced 20, consumed 20, lost 0, duplicated 0`).
///
/// # Errors
/// [`Error::InvalidArgument`] for bad sizes; [`Error::ChildFailed`]
/// naming the first process a signal killed or, if none, the first that
/// failed (after the summary line).
pub fn run(config: &Config) -> Result<()> {
    check(config)?;
    let ledger = Ledger::new(Plan::new(config.producers, config.consumers, config.items))?;
    let buffer = Buffer::new(config.capacity)?;
    let mut children = Vec::with_capacity(config.producers + config.consumers);
    if config.sync {
        let guards = Guards::new(config.capacity)?;
        for p in 1..=config.producers {
            children.push(Process::spawn(format!("producer {p}"), || {
                interruptible(config, "Producer", p, || {
                    producer(p, &buffer, &guards, &ledger, config)
                })
            })?);
        }
        for c in 1..=config.consumers {
            children.push(Process::spawn(format!("consumer {c}"), || {
                interruptible(config, "Consumer", c, || {
                    consumer(c, &buffer, &guards, &ledger, config)
                })
            })?);
        }
    } else {
        tell(
            config,
            format_args!("No semaphores, no mutex (--no-sync): a shared count, polled"),
        )?;
        for p in 1..=config.producers {
            children.push(Process::spawn(format!("producer {p}"), || {
                interruptible(config, "Producer", p, || {
                    unsync::producer(p, &buffer, &ledger, config)
                })
            })?);
        }
        for c in 1..=config.consumers {
            children.push(Process::spawn(format!("consumer {c}"), || {
                interruptible(config, "Consumer", c, || {
                    unsync::consumer(c, &buffer, &ledger, config)
                })
            })?);
        }
    }
    // A process that dies stops the others (they might wait for it).
    join_all(&mut children)?;
    say!("{}", ledger.tally())?;
    join_all_ok(&mut children)
}

/// Runs a process's part, turning SIGINT/SIGTERM into a last line and a
/// normal end.
fn interruptible(
    config: &Config,
    role: &str,
    n: usize,
    part: impl FnOnce() -> Result<()>,
) -> Result<()> {
    signal::end_on_interrupt(part(), |by| {
        tell(config, format_args!("{role} {n}: interrupted by {by}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_wraps_around() {
        let buffer = Buffer::new(2).unwrap();
        for item in [1, 2] {
            buffer.put(item);
        }
        assert_eq!(buffer.take(), 1);
        buffer.put(3);
        assert_eq!(buffer.slots.to_list().to_vec(), [3, 2]);
        assert_eq!([buffer.take(), buffer.take()], [2, 3]);
    }

    #[test]
    fn zero_of_anything_is_bad_input() {
        for config in [
            Config {
                capacity: 0,
                ..Config::default()
            },
            Config {
                items: 0,
                ..Config::default()
            },
        ] {
            assert_eq!(check(&config).unwrap_err().exit_code(), 2);
        }
        check(&Config::default()).unwrap();
    }
}
