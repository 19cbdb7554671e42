//! Seed 004 theory ("multi-threaded programs: different threads within a
//! process might use shared memory or semaphores to communicate") on
//! seed 002's exercise (exp11-value): one counter, updated `updates`
//! times by each of `workers` processes, then by each of `workers`
//! threads.
//!
//! A forked process gets a *copy* of its parent's memory: an ordinary
//! variable it updates is its own, and the parent still reads 0. So the
//! processes share a [`Value`] mapped shared before the fork, with its
//! lock. Threads share the whole address space of their process: an
//! ordinary `u64` behind a [`Mutex`], or an [`AtomicU64`] and its
//! `fetch_add`. Without the lock (`--no-lock`: a [`RawValue`], an
//! atomic's load then store) both lose updates.
//!
//! Ctrl-C or SIGTERM stops the workers at their next update; the run then
//! says so and ends with 0.
//!
//! This file follows the seed; the options, the start gate, the printed
//! lines, the end after Ctrl-C and `--timings` are in [`extras`] (its
//! [`extras::Ledger`] notes each counter's end).

pub mod extras;

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex, PoisonError};

use extras::{Gate, Ledger, Options};
use ipc_cli::say;
use ipc_core::{Process, RawValue, Result, Value, join_all_ok, signal};

/// The processes' counter, in memory mapped shared before they are forked.
#[derive(Debug)]
pub enum ProcessCounter {
    /// A `Value` with its lock (Python's `Value('Q', 0)`).
    Locked(Value<u64>),
    /// A `RawValue`, no lock (`--no-lock`).
    Raw(RawValue<u64>),
}

impl ProcessCounter {
    /// One update, `v = v + 1`: a load, an add and a store.
    ///
    /// # Errors
    /// As [`Value::lock`] (a lock whose holder died).
    pub fn update(&self) -> Result<()> {
        // STUDENT: add 1: for Locked, load and store under the Value's lock (lock(), then get and set on the guard); for Raw, a load and a store
        match self {
            ProcessCounter::Locked(v) => {
                let v = v.lock()?;
                v.set(v.get() + 1);
            }
            ProcessCounter::Raw(v) => v.set(v.get() + 1),
        }
        // END STUDENT
        Ok(())
    }
}

/// The threads' counter, in the memory of their process: every thread
/// sees the same one, no mapping needed.
#[derive(Debug)]
pub enum ThreadCounter {
    /// An ordinary `u64` behind a lock (Python's `threading.Lock`).
    Mutex(Mutex<u64>),
    /// An atomic integer: one `fetch_add` is the whole update.
    Atomic(AtomicU64),
    /// The same atomic, updated by a load then a store (`--no-lock`).
    Racy(AtomicU64),
}

impl ThreadCounter {
    /// One update, `v = v + 1`.
    pub fn update(&self) {
        // STUDENT: add 1: under the Mutex (lock(); a poisoned lock's value is still good), with one fetch_add on the Atomic, and for Racy a load then a store
        match self {
            ThreadCounter::Mutex(m) => *m.lock().unwrap_or_else(PoisonError::into_inner) += 1,
            ThreadCounter::Atomic(a) => {
                a.fetch_add(1, Ordering::Relaxed);
            }
            ThreadCounter::Racy(a) => a.store(a.load(Ordering::Relaxed) + 1, Ordering::Relaxed),
        }
        // END STUDENT
    }
}

/// A process's work: `updates` updates of `counter`, until Ctrl-C.
fn process_target(counter: &ProcessCounter, updates: u64) -> Result<()> {
    for _ in 0..updates {
        signal::check()?;
        counter.update()?;
    }
    Ok(())
}

/// `workers` processes that each add `updates` to an ordinary variable:
/// each to its own copy. Returns what the parent then reads in its own.
fn processes_with_an_ordinary_variable(workers: u64, updates: u64) -> Result<u64> {
    let counter = Cell::new(0_u64);
    let add_to_my_copy = || {
        for _ in 0..updates {
            counter.set(counter.get() + 1);
        }
    };
    let mut copies = (1..=workers)
        .map(|k| Process::spawn(format!("copy{k}"), add_to_my_copy))
        .collect::<Result<Vec<_>>>()?;
    join_all_ok(&mut copies)?;
    Ok(counter.get())
}

/// `workers` processes p1, p2, … that each make `updates` updates of one
/// shared `counter`, started together.
fn processes_sharing(counter: &ProcessCounter, workers: u64, updates: u64) -> Result<()> {
    let start = Gate::new()?;
    // STUDENT: start processes p1 … p{workers} (Process::spawn), each waiting at `start` then running process_target (extras::until_stopped around both); open the gate, then join them all (join_all_ok)
    let mut children = Vec::new();
    for k in 1..=workers {
        children.push(Process::spawn(format!("p{k}"), || {
            // Ctrl-C may come while it waits at the gate: a quiet stop too.
            extras::until_stopped(start.wait().and_then(|()| process_target(counter, updates)))
        })?);
    }
    start.open()?;
    join_all_ok(&mut children)?;
    // END STUDENT
    Ok(())
}

/// `workers` threads of this process that each make `updates` updates of
/// one `counter`, started together.
fn threads_sharing(counter: &ThreadCounter, workers: u64, updates: u64) {
    let start = Barrier::new(workers as usize);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                start.wait();
                for _ in 0..updates {
                    if signal::interrupted() {
                        break;
                    }
                    counter.update();
                }
            });
        }
    });
}

/// Runs the experiment: the processes first (a process that has started
/// threads must not fork), then the threads.
///
/// # Errors
/// A failed system call (`mmap`, `fork`, `waitpid`, a full disk), or
/// [`ipc_core::Error::ChildFailed`] when a process dies.
pub fn run(options: &Options) -> Result<()> {
    let (workers, updates) = (options.workers, options.updates);
    let expected = workers * updates;
    say!(
        "{workers} processes and {workers} threads, {updates} updates of +1 each: {expected} expected"
    )?;

    let own = processes_with_an_ordinary_variable(workers, updates)?;
    say!(
        "Processes, each with its own u64 (an ordinary variable): final value (in main program) {own}"
    )?;
    let counter = ProcessCounter::new(options.lock)?;
    // The ledger: after each counter, its line (or the end after Ctrl-C).
    let mut ledger = Ledger::new(options);
    processes_sharing(&counter, workers, updates)?;
    if !ledger.processes(&counter)? {
        return Ok(());
    }
    for counter in ThreadCounter::all(options.lock) {
        ledger.start();
        threads_sharing(&counter, workers, updates);
        if !ledger.threads(&counter)? {
            return Ok(());
        }
    }
    ledger.end()
}
