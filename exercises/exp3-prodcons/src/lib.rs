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
//! processes and prints the summary. Beside this file: the ring itself
//! ([`ring`]), the options ([`options`]), the bounds on every wait and
//! the end after Ctrl-C ([`recovery`]), which of them a run uses
//! ([`guarding`]), the same processes without the
//! semaphores and the mutex ([`unsync`], `--no-sync`) or with one
//! condition instead ([`monitor`], `--condition`), and the bookkeeping
//! that checks the result ([`ledger`]).

pub mod guarding;
pub mod ledger;
pub mod monitor;
pub mod options;
pub mod recovery;
pub mod ring;
pub mod unsync;

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use ipc_cli::say;
use ipc_core::{Lock, Process, Result, Semaphore, join_all, join_all_ok, pace};

use guarding::Guarding;
use ledger::{Ledger, Plan};
pub use options::Config;
use recovery::{Who, interruptible};
pub use ring::Buffer;

/// The textbook's synchronisation (Python: `Semaphore(capacity)`,
/// `Semaphore(0)`, `Lock()`), each wait bounded by `timeout`.
#[derive(Debug)]
pub struct Guards {
    /// Free slots: a producer waits on it, a consumer signals it.
    pub empty: Semaphore,
    /// Filled slots: a consumer waits on it, a producer signals it.
    pub full: Semaphore,
    /// Who may touch the ring's ends now.
    pub mutex: Lock,
    /// How long a wait may last ([`Config::timeout`]).
    pub timeout: Duration,
}

impl Guards {
    /// `empty` at `capacity`, `full` at 0, the mutex free.
    ///
    /// # Errors
    /// As [`Semaphore::new`] and [`Lock::new`].
    pub fn new(capacity: NonZeroU32, timeout: Duration) -> Result<Guards> {
        Ok(Guards {
            empty: Semaphore::new(capacity.get())?,
            full: Semaphore::new(0)?,
            mutex: Lock::new()?,
            timeout,
        })
    }
}

/// What the processes print (all of it unless `--quiet`), noted in the
/// [`Ledger`] that counts the run.
#[derive(Debug)]
pub struct Log {
    /// Who made and took what.
    pub ledger: Ledger,
    /// Print only the summary line.
    pub quiet: bool,
}

impl Log {
    /// `Producer 1 produced 103`
    pub fn produced(&self, p: usize, item: u64) -> Result<()> {
        self.ledger.produced(p);
        self.tell(format_args!("Producer {p} produced {item}"))
    }

    /// `Consumer 2 consumed 103`
    pub fn consumed(&self, c: usize, item: u64) -> Result<()> {
        self.ledger.consumed(c, item);
        self.tell(format_args!("Consumer {c} consumed {item}"))
    }

    /// Prints one line of the run, unless `--quiet`.
    pub fn tell(&self, line: fmt::Arguments<'_>) -> Result<()> {
        if self.quiet { Ok(()) } else { say!("{line}") }
    }
}

/// Producer `p` (from 1): makes its share of the items and puts each in
/// the buffer, waiting for a free slot.
///
/// # Errors
/// `Timeout` when no slot came free, or the lock stayed held, for
/// [`Config::timeout`]; `Interrupted` after SIGINT or SIGTERM.
pub fn producer(
    p: usize,
    buffer: &Buffer,
    guards: &Guards,
    log: &Log,
    config: &Config,
) -> Result<()> {
    let plan = log.ledger.plan();
    for k in 1..=plan.produces(p) {
        let item = produce(plan, p, k, config)?;
        // STUDENT: wait(empty); under the mutex put `item` in the ring and log it; signal(full)
        guards.wait_empty(p)?; // wait(empty): a free slot
        let mutex = guards.lock(Who::Producer(p), log)?; // wait(mutex)
        buffer.put(item); // buffer[in] = item; in += 1
        log.produced(p, item)?;
        drop(mutex); // signal(mutex)
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
    log: &Log,
    config: &Config,
) -> Result<()> {
    for _ in 0..log.ledger.plan().consumes(c) {
        // STUDENT: wait(full); under the mutex take an item from the ring and log it; signal(empty)
        guards.wait_full(c)?; // wait(full): a filled slot
        let mutex = guards.lock(Who::Consumer(c), log)?; // wait(mutex)
        let item = buffer.take(); // item = buffer[out]; out += 1
        log.consumed(c, item)?;
        drop(mutex); // signal(mutex)
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

/// The experiment: a buffer of [`Config::capacity`] slots, the producers
/// and the consumers as processes, then the summary line
/// (`Produced 20, consumed 20, lost 0, duplicated 0`).
///
/// # Errors
/// `ChildFailed` naming the first process a signal killed or, if none,
/// the first that failed (after the summary line).
pub fn run(config: &Config) -> Result<()> {
    let plan = Plan::of(config);
    let log = Log {
        ledger: Ledger::new(plan)?,
        quiet: config.quiet,
    };
    let buffer = Buffer::new(config.capacity)?;
    let guarding = Guarding::new(config, &log)?;
    let producers = (1..=plan.producers).map(Who::Producer);
    let mut children = Vec::new();
    for who in producers.chain((1..=plan.consumers).map(Who::Consumer)) {
        children.push(Process::spawn(who.process_name(), || {
            interruptible(&log, who, || match (who, &guarding) {
                (Who::Producer(p), Guarding::Semaphores(g)) => {
                    producer(p, &buffer, g, &log, config)
                }
                (Who::Consumer(c), Guarding::Semaphores(g)) => {
                    consumer(c, &buffer, g, &log, config)
                }
                (who, Guarding::Condition(monitor)) => {
                    monitor::part(who, &buffer, monitor, &log, config)
                }
                (Who::Producer(p), Guarding::Nothing) => unsync::producer(p, &buffer, &log, config),
                (Who::Consumer(c), Guarding::Nothing) => unsync::consumer(c, &buffer, &log, config),
            })
        })?);
    }
    // A process that dies stops the others (they might wait for it).
    join_all(&mut children)?;
    say!("{}", log.ledger.tally())?;
    join_all_ok(&mut children)
}
