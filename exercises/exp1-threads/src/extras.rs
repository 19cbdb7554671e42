//! What exp1-threads adds around the seed: its options, the start gate of
//! the processes, the counters' names and values, the printed lines, the
//! end after Ctrl-C, and `--timings`.

use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ipc_cli::say;
use ipc_core::{Process, RawValue, Result, Value, signal};

use crate::{ProcessCounter, ThreadCounter};

/// How many processes, and how many threads, a run may start
/// (`--workers`).
pub const WORKERS: RangeInclusive<u64> = 1..=8;

/// What `--workers` accepts, in words, for its error message.
pub const WORKERS_NOTE: &str = "as many processes, then as many threads";

/// How many updates each worker may make (`--updates`).
pub const UPDATES: RangeInclusive<u64> = 1..=1_000_000;

/// What `--updates` accepts, in words, for its error message.
pub const UPDATES_NOTE: &str = "more would run for seconds; 200000 loses updates without a lock";

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Processes, and threads, that update the counter (4 by default).
    pub workers: u64,
    /// Updates of +1 each of them makes (200000 by default).
    pub updates: u64,
    /// With the locks (the default), or without (`--no-lock`).
    pub lock: bool,
    /// `--timings`: also print what starting a worker and one update cost.
    pub timings: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 4,
            updates: 200_000,
            lock: true,
            timings: false,
        }
    }
}

impl ProcessCounter {
    /// A counter holding 0 in shared memory, with its lock or without.
    ///
    /// # Errors
    /// As [`Value::new`].
    pub fn new(lock: bool) -> Result<ProcessCounter> {
        Ok(if lock {
            ProcessCounter::Locked(Value::new(0)?)
        } else {
            ProcessCounter::Raw(RawValue::new(0)?)
        })
    }

    /// The current value.
    ///
    /// # Errors
    /// As [`Value::get`].
    pub fn get(&self) -> Result<u64> {
        match self {
            ProcessCounter::Locked(v) => v.get(),
            ProcessCounter::Raw(v) => Ok(v.get()),
        }
    }

    /// What it is, as the printed line says it.
    pub fn describe(&self) -> String {
        match self {
            ProcessCounter::Locked(_) => "Processes, one shared Value<u64> with its lock".into(),
            ProcessCounter::Raw(_) => {
                "Processes, one shared RawValue<u64> without a lock (--no-lock)".into()
            }
        }
    }
}

impl ThreadCounter {
    /// The counters the threads update in a run: a `Mutex` and an atomic's
    /// `fetch_add`, or the racy atomic without the lock.
    pub fn all(lock: bool) -> Vec<ThreadCounter> {
        if lock {
            vec![
                ThreadCounter::Mutex(Mutex::new(0)),
                ThreadCounter::Atomic(AtomicU64::new(0)),
            ]
        } else {
            vec![ThreadCounter::Racy(AtomicU64::new(0))]
        }
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        match self {
            ThreadCounter::Mutex(m) => *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            ThreadCounter::Atomic(a) | ThreadCounter::Racy(a) => a.load(Ordering::Relaxed),
        }
    }

    /// What it is, as the printed line says it.
    pub fn describe(&self) -> String {
        match self {
            ThreadCounter::Mutex(_) => "Threads, one Mutex<u64>".into(),
            ThreadCounter::Atomic(_) => "Threads, one AtomicU64 with fetch_add".into(),
            ThreadCounter::Racy(_) => {
                "Threads, one AtomicU64, a load then a store (--no-lock)".into()
            }
        }
    }
}

/// Prints a counter's line: `Threads, one Mutex<u64>: final value 200000,
/// lost updates 0` (`which` before the value says whose it is).
///
/// # Errors
/// A failed write.
pub fn report(what: &str, actual: u64, expected: u64, which: &str) -> Result<()> {
    // Each update adds exactly 1: every unit missing is an update lost.
    let lost = i128::from(expected) - i128::from(actual);
    say!("{what}: final value {which}{actual}, lost updates {lost}")
}

/// The start gate of the processes, and their quiet ends (Ctrl-C, a
/// lock holder's death), as every program racing workers on one counter
/// has them.
pub use ipc_cli::workers::{Gate, until_stopped};

/// After Ctrl-C or SIGTERM: prints `Interrupted by SIGINT: the workers
/// stopped early` and returns true; false otherwise.
///
/// # Errors
/// A failed write.
pub fn stopped() -> Result<bool> {
    match signal::pending() {
        Some(by) => {
            say!("Interrupted by {by}: the workers stopped early")?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// What the run notes as it goes, after each counter: the end after
/// Ctrl-C, the counter's line, and with `--timings` the time its updates
/// took and the cost of starting a worker.
#[derive(Debug)]
pub struct Ledger {
    options: Options,
    timings: Timings,
    clock: Instant,
}

impl Ledger {
    /// A ledger for a run of `options`, its clock started now (the
    /// processes' updates begin).
    pub fn new(options: &Options) -> Ledger {
        Ledger {
            options: *options,
            timings: Timings::default(),
            clock: Instant::now(),
        }
    }

    /// Starts the clock again: the next counter's updates begin.
    pub fn start(&mut self) {
        self.clock = Instant::now();
    }

    fn expected(&self) -> u64 {
        self.options.workers * self.options.updates
    }

    /// After the processes' updates of `counter`: false after Ctrl-C or
    /// SIGTERM (said so: [`stopped`]); otherwise notes their time, prints
    /// the counter's line ([`report`]) and with `--timings` measures the
    /// start of a process.
    ///
    /// # Errors
    /// A failed write, read of the counter, `fork` or `waitpid`.
    pub fn processes(&mut self, counter: &ProcessCounter) -> Result<bool> {
        if stopped()? {
            return Ok(false);
        }
        let expected = self.expected();
        self.timings.processes(counter, self.clock, expected);
        report(
            &counter.describe(),
            counter.get()?,
            expected,
            "(in main program) ",
        )?;
        if self.options.timings {
            self.timings.measure_process_start(self.options.workers)?;
        }
        Ok(true)
    }

    /// After the threads' updates of `counter`: as
    /// [`Ledger::processes`], without a start to measure.
    ///
    /// # Errors
    /// A failed write.
    pub fn threads(&mut self, counter: &ThreadCounter) -> Result<bool> {
        if stopped()? {
            return Ok(false);
        }
        let expected = self.expected();
        self.timings.threads(counter, self.clock, expected);
        report(&counter.describe(), counter.get(), expected, "")?;
        Ok(true)
    }

    /// The end of a run that went through: with `--timings`, measures the
    /// start of a thread and prints the timings.
    ///
    /// # Errors
    /// A failed write.
    pub fn end(mut self) -> Result<()> {
        if self.options.timings {
            self.timings.measure_thread_start(self.options.workers);
            self.timings.print(self.options.workers)?;
        }
        Ok(())
    }
}

/// What `--timings` prints: the cost of starting a worker, and of one
/// update of each counter.
#[derive(Debug, Default)]
struct Timings {
    /// The counters, each with the time one update took (all workers
    /// running at once: the total time over the number of updates).
    updates: Vec<(&'static str, Duration)>,
    process_start: Duration,
    thread_start: Duration,
}

impl Timings {
    /// Notes the time since `clock` of the processes' `updates` updates
    /// of `counter`.
    fn processes(&mut self, counter: &ProcessCounter, clock: Instant, updates: u64) {
        let name = match counter {
            ProcessCounter::Locked(_) => "in a process (the Value's lock)",
            ProcessCounter::Raw(_) => "in a process (a RawValue, no lock)",
        };
        self.updates.push((name, per(clock.elapsed(), updates)));
    }

    /// Notes the time since `clock` of the threads' `updates` updates of
    /// `counter`.
    fn threads(&mut self, counter: &ThreadCounter, clock: Instant, updates: u64) {
        let name = match counter {
            ThreadCounter::Mutex(_) => "in a thread (the Mutex)",
            ThreadCounter::Atomic(_) => "in a thread (fetch_add)",
            ThreadCounter::Racy(_) => "in a thread (a load then a store)",
        };
        self.updates.push((name, per(clock.elapsed(), updates)));
    }

    /// Starts and joins `count` processes that do nothing, one after the
    /// other, and notes the mean time of one.
    ///
    /// # Errors
    /// A failed `fork` or `waitpid`.
    fn measure_process_start(&mut self, count: u64) -> Result<()> {
        let clock = Instant::now();
        for _ in 0..count {
            Process::spawn("empty", || ())?.join_ok()?;
        }
        self.process_start = per(clock.elapsed(), count);
        Ok(())
    }

    /// Starts and joins `count` threads that do nothing, one after the
    /// other, and notes the mean time of one.
    fn measure_thread_start(&mut self, count: u64) {
        let clock = Instant::now();
        for _ in 0..count {
            std::thread::scope(|scope| {
                scope.spawn(|| ());
            });
        }
        self.thread_start = per(clock.elapsed(), count);
    }

    /// Prints the timings: `Timings: starting and joining a process took
    /// 182.4 µs, a thread 31.9 µs (mean of 4 each)`, then the cost of one
    /// update of each counter.
    ///
    /// # Errors
    /// A failed write.
    fn print(&self, workers: u64) -> Result<()> {
        say!(
            "Timings: starting and joining a process took {:.1} µs, a thread {:.1} µs (mean of {workers} each)",
            micros(self.process_start),
            micros(self.thread_start)
        )?;
        let each: Vec<String> = self
            .updates
            .iter()
            .map(|(name, time)| format!("{:.0} ns {name}", time.as_secs_f64() * 1e9))
            .collect();
        say!(
            "Timings: one update, with all {workers} workers at once: {}",
            each.join(", ")
        )
    }
}

/// `total` shared by `count`.
fn per(total: Duration, count: u64) -> Duration {
    total / u32::try_from(count.max(1)).unwrap_or(u32::MAX)
}

fn micros(time: Duration) -> f64 {
    time.as_secs_f64() * 1e6
}
