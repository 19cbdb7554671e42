//! Seed 002, Example 1 and Exercise 1: a number in shared memory.
//!
//! Example 1 ([`example`]): a child sets a shared `Value<f64>` to 2.678 and
//! the parent prints it.
//!
//! Exercise 1 ([`run`]): five processes, each running its own target
//! function ([`add_one`] … [`add_five`]), update one shared value many
//! times; after joining them the parent prints the value. Every update is
//! `v = v + 1`: a load, an add and a store. Under the `Value`'s lock the
//! three steps of one update cannot interleave with another's, and the
//! total is exact. Without a lock (`--no-lock`, a `RawValue`) they do, and
//! updates are lost.
//!
//! This file follows the seed; what the port adds around it (the printed
//! plan, the start gate, the limits on `--iterations` and `--processes`,
//! Ctrl-C) is in [`extras`].

pub mod extras;

use extras::{Target, targets};
use ipc_cli::say;
use ipc_core::{Process, RawValue, Result, Value, join_all_ok, signal};

/// The seed's Example 1 target: store 2.678 in the shared value.
fn shared_m(v: &Value<f64>) -> Result<()> {
    v.set(2.678)
}

/// Seed 002, Example 1: a child writes 2.678 into a shared `Value<f64>`;
/// the parent prints what it finds there after joining the child.
pub fn example() -> Result<()> {
    let v = Value::new(0.0_f64)?;
    let mut p1 = Process::spawn("p1", || shared_m(&v))?;
    p1.join_ok()?;
    // `{:?}` prints a float as Python does: `2.678`, and `0.0` for zero.
    say!("{:?}", v.get()?)?;
    Ok(())
}

/// The shared counter of Exercise 1.
#[derive(Debug)]
pub enum Counter {
    /// A `Value` with its lock (Python's `Value('i', 0)`).
    Locked(Value<u64>),
    /// A `RawValue`, no lock (Python's `Value('i', 0, lock=False)`).
    Unlocked(RawValue<u64>),
}

impl Counter {
    /// A counter holding 0, with a lock or without one.
    ///
    /// # Errors
    /// As [`Value::new`].
    pub fn new(lock: bool) -> Result<Counter> {
        Ok(if lock {
            Counter::Locked(Value::new(0)?)
        } else {
            Counter::Unlocked(RawValue::new(0)?)
        })
    }

    /// One update, `v = v + 1`: load the value, add 1, store the sum.
    ///
    /// # Errors
    /// As [`Value::lock`] (a lock whose holder died);
    /// [`ipc_core::Error::Interrupted`] once Ctrl-C or SIGTERM has come.
    pub fn increment(&self) -> Result<()> {
        signal::check()?;
        match self {
            Counter::Locked(v) => {
                // STUDENT: add 1 to `v` holding its lock for the load and the store (v.lock())
                // Python: `with v.get_lock(): v.value += 1`
                let v = v.lock()?;
                v.set(v.get() + 1);
                // END STUDENT
            }
            Counter::Unlocked(v) => {
                // STUDENT: add 1 to `v`, a RawValue without a lock (load, add, store)
                // Python: `v.value += 1` on a value without a lock. The load
                // and the store are each atomic; the pair is not.
                v.set(v.get() + 1);
                // END STUDENT
            }
        }
        Ok(())
    }

    /// The current value.
    ///
    /// # Errors
    /// As [`Value::get`].
    pub fn get(&self) -> Result<u64> {
        match self {
            Counter::Locked(v) => v.get(),
            Counter::Unlocked(v) => Ok(v.get()),
        }
    }
}

/// Process p1's target: adds 1 to the value on each pass.
pub fn add_one(v: &Counter, passes: u64) -> Result<()> {
    for _ in 0..passes {
        v.increment()?;
    }
    Ok(())
}

/// Process p2's target: adds 2 on each pass, one unit at a time.
pub fn add_two(v: &Counter, passes: u64) -> Result<()> {
    for _ in 0..passes {
        v.increment()?;
        v.increment()?;
    }
    Ok(())
}

/// Process p3's target: adds 3 on each pass, one unit at a time.
pub fn add_three(v: &Counter, passes: u64) -> Result<()> {
    for _ in 0..passes {
        for _ in 0..3 {
            v.increment()?;
        }
    }
    Ok(())
}

/// Process p4's target: adds 4 on each pass, one unit at a time.
pub fn add_four(v: &Counter, passes: u64) -> Result<()> {
    for _ in 0..passes {
        for _ in 0..4 {
            v.increment()?;
        }
    }
    Ok(())
}

/// Process p5's target: adds 5 on each pass, one unit at a time.
pub fn add_five(v: &Counter, passes: u64) -> Result<()> {
    for _ in 0..passes {
        for _ in 0..5 {
            v.increment()?;
        }
    }
    Ok(())
}

/// The five target functions: process p1 runs the first, p2 the second, …
pub const TARGETS: [Target; 5] = targets![add_one, add_two, add_three, add_four, add_five];

/// Passes each process makes when `--iterations` is not given: enough for
/// the unlocked run to lose updates on a two-core machine.
pub const DEFAULT_PASSES: u64 = 100_000;

/// Seed 002, Exercise 1: five processes, each with its own target function,
/// make `passes` passes over one shared counter (a locked `Value`, or a
/// `RawValue` when `lock` is false); the parent prints the expected value,
/// the final value and the number of updates lost. (`targets` is
/// [`TARGETS`], or its first few with `--processes`.)
///
/// Ctrl-C or SIGTERM stops every process at its next update; the parent
/// then says so instead of printing the totals, and the run ends with 0.
///
/// # Errors
/// [`ipc_core::Error::ChildFailed`] when a process fails; errors of the
/// shared memory.
pub fn run(targets: &[Target], passes: u64, lock: bool) -> Result<()> {
    let v = Counter::new(lock)?;
    // Prints which process runs which target, and how many updates of +1
    // each makes per pass.
    let expected = extras::print_plan(&v, targets, passes)?;

    let start = extras::Gate::new()?;
    let mut processes = Vec::with_capacity(targets.len());
    for (i, target) in targets.iter().enumerate() {
        processes.push(Process::spawn(format!("p{}", i + 1), || {
            start.wait()?;
            extras::until_stopped((target.function)(&v, passes))
        })?);
    }
    // Every process is waiting at the gate: let them all go at once.
    start.open()?;
    join_all_ok(&mut processes)?;

    let actual = v.get()?;
    if let Some(by) = signal::pending() {
        return extras::print_interrupted(by.as_str(), actual, expected);
    }
    say!("Expected value: {expected}")?;
    say!("Final value (in main program): {actual}")?;
    // Each update adds exactly 1, so every unit missing from the final value
    // is one update whose result another process overwrote.
    say!(
        "Lost updates: {}",
        i128::from(expected) - i128::from(actual)
    )?;
    Ok(())
}
