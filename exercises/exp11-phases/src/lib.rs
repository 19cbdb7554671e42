//! Seed 002's exercises, in phases: one worker process per number of a
//! ring, all computing at once over one shared `Array`, a `Barrier`
//! between phases.
//!
//! Row 0 of the array holds the numbers. In phase `t`, worker `k` sums
//! cells `k - 1`, `k` and `k + 1` (around the ring) of row `t - 1` into
//! cell `k` of row `t`. A worker may start phase `t` only once every
//! worker has finished phase `t - 1`: its neighbours' cells must be
//! written before it reads them. The workers go at different speeds
//! (worker `k` takes `n - k` time units a phase), so without the barrier
//! (`--no-barrier`, [`extras`]) a fast worker reads a slow neighbour's
//! cell before it was written, and the sums come out wrong.
//!
//! ```text
//! def worker(k, cells, barrier):
//!     for t in range(1, phases + 1):
//!         work(k)                                 # n - k time units
//!         left, right = (k - 1) % n, (k + 1) % n
//!         cells[t][k] = cells[t-1][left] + cells[t-1][k] + cells[t-1][right]
//!         barrier.wait()                          # nobody goes on alone
//! ```

pub mod extras;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::{Array, Barrier, Process, PyList, Result, join_all_ok, pace};

pub use extras::{Config, expected};

/// How long a worker waits at the barrier before it gives up (the barrier
/// then breaks, and every other worker gives up too).
pub const BARRIER_TIMEOUT: Duration = Duration::from_secs(10);

/// The phases in shared memory: row `t` (from 0, the numbers) holds the
/// ring after phase `t`, one cell per worker.
#[derive(Debug)]
pub struct Cells {
    /// `(phases + 1) × n` cells, row after row.
    pub array: Array<i64>,
    /// Cells in a row: the workers.
    pub n: usize,
}

impl Cells {
    /// Cell `k` of row `t`.
    ///
    /// # Errors
    /// As [`Array::get`].
    pub fn get(&self, t: usize, k: usize) -> Result<i64> {
        self.array.get(t * self.n + k)
    }

    /// Stores `value` in cell `k` of row `t`.
    ///
    /// # Errors
    /// As [`Array::set`].
    pub fn set(&self, t: usize, k: usize, value: i64) -> Result<()> {
        self.array.set(t * self.n + k, value)
    }

    /// Row `t`, as Python prints a list.
    ///
    /// # Errors
    /// As [`Array::get`].
    pub fn row(&self, t: usize) -> Result<PyList<i64>> {
        Ok(PyList(
            (0..self.n).map(|k| self.get(t, k)).collect::<Result<_>>()?,
        ))
    }
}

/// Worker `k`'s step of phase `t`: cell `k` of row `t` from its cell and
/// its two neighbours' in row `t - 1`.
///
/// # Errors
/// As [`Array::get`] and [`Array::set`].
pub fn step(cells: &Cells, t: usize, k: usize) -> Result<()> {
    let n = cells.n;
    // STUDENT: row t's cell k = the sum of row t-1's cells k-1, k and k+1, around the ring
    let (left, right) = ((k + n - 1) % n, (k + 1) % n);
    let sum = cells.get(t - 1, left)? + cells.get(t - 1, k)? + cells.get(t - 1, right)?;
    cells.set(t, k, sum)?;
    // END STUDENT
    Ok(())
}

/// Worker `k`: every phase, its work (`n - k` time units), its step, then
/// the barrier, unless `--no-barrier`.
///
/// # Errors
/// As [`step`]; [`ipc_core::Error::BrokenBarrier`] or `Timeout` when a
/// worker did not arrive within [`BARRIER_TIMEOUT`].
pub fn worker(k: usize, cells: &Cells, barrier: &Barrier, config: &Config) -> Result<()> {
    for t in 1..=config.phases {
        pace::sleep(config.unit * (cells.n - k) as u32)?; // work(k)
        step(cells, t, k)?;
        if !config.barrier {
            continue; // --no-barrier: nobody waits (see extras)
        }
        // STUDENT: wait at the barrier (at most BARRIER_TIMEOUT) until every worker has finished this phase
        barrier.wait_timeout(BARRIER_TIMEOUT)?;
        // END STUDENT
    }
    Ok(())
}

/// The experiment: the numbers in row 0, one worker per number, all at
/// once; then every row, and the last against the [`expected`] sums.
///
/// # Errors
/// [`ipc_core::Error::ChildFailed`] when a worker fails; errors of the
/// shared memory.
pub fn run(config: &Config) -> Result<()> {
    let n = config.numbers.len();
    say!("Numbers: {}", PyList(config.numbers.clone()))?;
    extras::announce(config)?;
    let cells = Cells {
        array: Array::new((config.phases + 1) * n)?,
        n,
    };
    for (k, &number) in config.numbers.iter().enumerate() {
        cells.set(0, k, number)?;
    }
    // STUDENT: make a Barrier for the n workers; start worker k for every k (named `worker k`), all at once; then join them all
    let barrier = Barrier::new(n as u32)?;
    let mut workers = Vec::new();
    for k in 0..n {
        let name = format!("worker {k}");
        workers.push(Process::spawn(name, || {
            worker(k, &cells, &barrier, config)
        })?);
    }
    join_all_ok(&mut workers)?;
    // END STUDENT
    for t in 1..=config.phases {
        say!("After phase {t}: {}", cells.row(t)?)?;
    }
    extras::verdict(&cells.row(config.phases)?.0, &expected(config))
}
