//! What exp11-value adds around the seed's Exercise 1: the printed plan,
//! the start gate, the limits on `--iterations` and `--processes`, and the
//! end after Ctrl-C.

use std::ops::RangeInclusive;

use ipc_cli::say;
use ipc_core::Result;

use crate::Counter;

/// A target function and its name, for the printed plan.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The function's name (`add_one`).
    pub name: &'static str,
    /// The function: makes `passes` passes over the counter.
    pub function: fn(&Counter, u64) -> Result<()>,
}

/// `targets![add_one, add_two]`: each function with its name, so that the
/// name is written once, where the function is.
macro_rules! targets {
    ($($function:ident),* $(,)?) => {
        [$($crate::extras::Target {
            name: stringify!($function),
            function: $function,
        }),*]
    };
}
pub(crate) use targets;

/// The passes a run may make: at 100 000 passes updates are already lost
/// without the lock, and 5 000 000 passes (75 million locked updates)
/// take about 20 s in a debug build on a busy two-core machine; more would
/// run for minutes with nothing to show.
pub const PASSES: RangeInclusive<u64> = 1..=5_000_000;

/// What `--iterations` accepts, in words, for its error message.
pub const PASSES_NOTE: &str = "more would run for minutes; 100000 already loses updates";

/// How many processes a run may start (`--processes`): process k runs the
/// k-th target, and there are five.
pub const PROCESSES: RangeInclusive<u64> = 1..=5;

/// What `--processes` accepts, in words, for its error message.
pub const PROCESSES_NOTE: &str = "p1 to p5, one per target function";

/// The updates of +1 that `target` makes on each pass, counted by running
/// it for one pass on a counter of its own (no lock, nothing shared).
///
/// # Errors
/// As [`Counter::new`].
pub fn updates_per_pass(target: &Target) -> Result<u64> {
    let scratch = Counter::new(false)?;
    (target.function)(&scratch, 1)?;
    scratch.get()
}

/// Prints the plan of a run (the counter, then which process runs which
/// target and how many updates it makes per pass) and returns the value
/// expected at the end. (`--iterations` keeps `passes` within [`PASSES`]:
/// clap checked it, once.)
///
/// # Errors
/// A failed write.
pub fn print_plan(v: &Counter, targets: &[Target], passes: u64) -> Result<u64> {
    match v {
        Counter::Locked(_) => say!("Shared Value<u64> with its lock")?,
        Counter::Unlocked(_) => say!("Shared RawValue<u64> without a lock (--no-lock)")?,
    }
    say!("{} processes, {passes} passes each:", targets.len())?;
    let mut per_pass_total = 0;
    for (i, target) in targets.iter().enumerate() {
        let per_pass = updates_per_pass(target)?;
        let updates = if per_pass == 1 { "update" } else { "updates" };
        say!(
            "p{} runs {}: {per_pass} {updates} of +1 per pass",
            i + 1,
            target.name
        )?;
        per_pass_total += per_pass;
    }
    // Within PASSES the total fits a u64 by far (saturating for any
    // other caller, never a panic).
    Ok(passes.saturating_mul(per_pass_total))
}

/// The start gate of the processes, and their quiet ends (Ctrl-C, a
/// lock holder's death), as every program racing workers on one counter
/// has them.
pub use ipc_cli::workers::{Gate, until_stopped};

/// The parent's last line after Ctrl-C or SIGTERM, in place of the totals:
/// the processes stopped before their last pass.
///
/// # Errors
/// A failed write.
pub fn print_interrupted(by: &str, actual: u64, expected: u64) -> Result<()> {
    say!("Interrupted by {by}: the processes stopped early, at {actual} of the expected {expected}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TARGETS;

    #[test]
    fn the_five_targets_are_named_and_add_one_to_five_per_pass() {
        let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            ["add_one", "add_two", "add_three", "add_four", "add_five"]
        );
        let per_pass: Vec<u64> = TARGETS
            .iter()
            .map(|t| updates_per_pass(t).unwrap())
            .collect();
        assert_eq!(per_pass, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn each_target_makes_its_own_number_of_updates() {
        // No fork here: the targets run in the test's own process.
        for (k, target) in (1..).zip(&TARGETS) {
            for lock in [true, false] {
                let v = Counter::new(lock).unwrap();
                (target.function)(&v, 7).unwrap();
                assert_eq!(v.get().unwrap(), 7 * k, "{}", target.name);
            }
        }
    }
}
