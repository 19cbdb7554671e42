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

use ipc_core::{Error, Process, RawValue, Result, Value, join_all_ok, say};

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
    /// As [`Value::lock`] (a lock whose holder died).
    pub fn increment(&self) -> Result<()> {
        match self {
            Counter::Locked(v) => {
                // Python: `with v.get_lock(): v.value += 1`
                let v = v.lock()?;
                v.set(v.get() + 1);
            }
            // Python: `v.value += 1` on a value without a lock. The load
            // and the store are each atomic; the pair is not.
            Counter::Unlocked(v) => v.set(v.get() + 1),
        }
        Ok(())
    }

    /// The current value.
    ///
    /// # Errors
    /// As [`Counter::increment`].
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

/// One of the five processes: its name, its target function, and how many
/// updates of +1 that function makes on each pass.
#[derive(Debug)]
pub struct Worker {
    /// The process name (`p1`).
    pub name: &'static str,
    /// The target function's name, for the printed plan.
    pub target_name: &'static str,
    /// The target function.
    pub target: fn(&Counter, u64) -> Result<()>,
    /// Updates of +1 per pass.
    pub per_pass: u64,
}

/// The five processes of Exercise 1.
pub const WORKERS: [Worker; 5] = [
    Worker {
        name: "p1",
        target_name: "add_one",
        target: add_one,
        per_pass: 1,
    },
    Worker {
        name: "p2",
        target_name: "add_two",
        target: add_two,
        per_pass: 2,
    },
    Worker {
        name: "p3",
        target_name: "add_three",
        target: add_three,
        per_pass: 3,
    },
    Worker {
        name: "p4",
        target_name: "add_four",
        target: add_four,
        per_pass: 4,
    },
    Worker {
        name: "p5",
        target_name: "add_five",
        target: add_five,
        per_pass: 5,
    },
];

/// Passes each process makes when `--iterations` is not given: enough for
/// the unlocked run to lose updates on a two-core machine.
pub const DEFAULT_PASSES: u64 = 100_000;

/// The value after every process made `passes` passes: 15 × `passes`.
///
/// # Errors
/// [`Error::InvalidArgument`] when that does not fit in a `u64`.
pub fn expected_total(passes: u64) -> Result<u64> {
    let per_pass: u64 = WORKERS.iter().map(|w| w.per_pass).sum();
    passes.checked_mul(per_pass).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "--iterations {passes}: the expected total {passes} x {per_pass} does not fit \
             in a u64 (at most {} passes)",
            u64::MAX / per_pass
        ))
    })
}

/// Spins, yielding the CPU, until the parent opens the start gate, so that
/// the five loops start together and really overlap.
fn wait_for_start(gate: &RawValue<u32>) {
    while gate.get() == 0 {
        std::thread::yield_now();
    }
}

/// Seed 002, Exercise 1: five processes, each with its own target function,
/// make `passes` passes over one shared counter (a locked `Value`, or a
/// `RawValue` when `lock` is false); the parent prints the expected value,
/// the final value and the number of updates lost.
///
/// # Errors
/// [`Error::InvalidArgument`] when the expected total overflows;
/// [`Error::ChildFailed`] when a process fails; errors of the shared memory.
pub fn run(passes: u64, lock: bool) -> Result<()> {
    let expected = expected_total(passes)?;
    let v = Counter::new(lock)?;
    let start = RawValue::new(0_u32)?;

    match &v {
        Counter::Locked(_) => say!("Shared Value<u64> with its lock")?,
        Counter::Unlocked(_) => say!("Shared RawValue<u64> without a lock (--no-lock)")?,
    }
    say!("{} processes, {passes} passes each:", WORKERS.len())?;
    for w in &WORKERS {
        let updates = if w.per_pass == 1 { "update" } else { "updates" };
        say!(
            "{} runs {}: {} {updates} of +1 per pass",
            w.name,
            w.target_name,
            w.per_pass
        )?;
    }

    let mut processes = Vec::with_capacity(WORKERS.len());
    for w in &WORKERS {
        processes.push(Process::spawn(w.name, || {
            wait_for_start(&start);
            (w.target)(&v, passes)
        })?);
    }
    // Every process is waiting at the gate: let them all go at once.
    start.set(1);
    join_all_ok(&mut processes)?;

    let actual = v.get()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_targets_add_fifteen_per_pass() {
        assert_eq!(expected_total(1).unwrap(), 15);
        assert_eq!(expected_total(100_000).unwrap(), 1_500_000);
        let names: Vec<_> = WORKERS.iter().map(|w| w.target_name).collect();
        assert_eq!(
            names,
            ["add_one", "add_two", "add_three", "add_four", "add_five"]
        );
    }

    #[test]
    fn each_target_makes_its_own_number_of_updates() {
        // No fork here: the targets run in the test's own process.
        for w in &WORKERS {
            for lock in [true, false] {
                let v = Counter::new(lock).unwrap();
                (w.target)(&v, 7).unwrap();
                assert_eq!(v.get().unwrap(), 7 * w.per_pass, "{}", w.target_name);
            }
        }
    }

    #[test]
    fn an_overflowing_total_is_bad_input() {
        let error = expected_total(u64::MAX / 15 + 1).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("does not fit"), "{error}");
        assert!(expected_total(u64::MAX / 15).is_ok());
    }
}
