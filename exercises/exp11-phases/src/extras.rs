//! What a run is asked to do (`--numbers`, `--phases`, `--delay`,
//! `--no-barrier`), the sums it should find, computed here in one process
//! one phase after the other, and the lines that say whether the workers
//! found them.

use std::time::Duration;

use ipc_cli::say;
use ipc_core::{PyList, Result};

/// The numbers unless `--numbers` says otherwise: one worker each.
pub const NUMBERS: [i64; 8] = [3, 1, 4, 1, 5, 9, 2, 6];

/// Phases unless `--phases` says otherwise.
pub const PHASES: usize = 3;

/// A worker's time unit unless `--delay` says otherwise: worker `k` of
/// `n` works `n - k` units a phase.
pub const UNIT: Duration = Duration::from_millis(10);

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Config {
    /// Row 0: one number per worker.
    pub numbers: Vec<i64>,
    /// How many phases.
    pub phases: usize,
    /// A worker's time unit (scaled by `--fast`).
    pub unit: Duration,
    /// With the barrier between phases (false: `--no-barrier`).
    pub barrier: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            numbers: NUMBERS.to_vec(),
            phases: PHASES,
            unit: UNIT,
            barrier: true,
        }
    }
}

/// The ring after the last phase, computed in this process, one phase
/// after the other: what the workers must find.
///
/// ```
/// let config = exp11_phases::Config { numbers: vec![1, 2, 3, 4], phases: 1, ..Default::default() };
/// assert_eq!(exp11_phases::expected(&config), [7, 6, 9, 8]);
/// ```
pub fn expected(config: &Config) -> Vec<i64> {
    let mut row = config.numbers.clone();
    let n = row.len();
    for _ in 0..config.phases {
        row = (0..n)
            .map(|k| row[(k + n - 1) % n] + row[k] + row[(k + 1) % n])
            .collect();
    }
    row
}

/// The line under the numbers: how many workers and phases, and whether a
/// barrier keeps the phases apart.
///
/// # Errors
/// As `say!`.
pub fn announce(config: &Config) -> Result<()> {
    let (n, phases) = (config.numbers.len(), config.phases);
    let between = if config.barrier {
        "a Barrier between phases"
    } else {
        "no barrier (--no-barrier)"
    };
    let plural = if phases == 1 { "" } else { "s" };
    say!("{n} workers, {phases} phase{plural}, {between}")
}

/// The last lines: the expected sums, and whether the workers found them.
///
/// # Errors
/// As `say!`.
pub fn verdict(got: &[i64], expected: &[i64]) -> Result<()> {
    say!("Expected:      {}", PyList(expected.to_vec()))?;
    let wrong = got.iter().zip(expected).filter(|(g, e)| g != e).count();
    if wrong == 0 {
        say!("Right: every worker read the phase before it, complete")
    } else {
        say!(
            "Wrong in {wrong} of {} cells: a worker read a neighbour's cell before it was written",
            expected.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sums() {
        let config = Config::default();
        assert_eq!(expected(&config).iter().sum::<i64>(), 31 * 27);
        let one = Config {
            phases: 1,
            ..Config::default()
        };
        assert_eq!(expected(&one), [10, 8, 6, 10, 15, 16, 17, 11]);
    }
}
