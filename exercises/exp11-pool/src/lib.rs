//! Seed 002's squares, at scale: a `Pool` of worker processes squares a
//! list of numbers, and a `Manager` process keeps a dict in which every
//! worker records, per number, its own pid.
//!
//! [`run`] makes the manager and the pool, then squares the numbers twice:
//! with `Pool.map` ([`record_square`]: the results in the numbers' order,
//! each worker writing `d[x] = its pid` into the Manager dict first) and
//! with `imap_unordered` ([`square`]: each result as soon as it is done,
//! sorted before printing). It prints how many distinct workers the dict
//! names. With `--fail K` the task of the number K fails on purpose, and
//! `Pool.map` hands its error back to the main program.
//!
//! This file follows the seed; what the port adds around it (the limits
//! of the options, the dict's summary and its `--who` lines) is in
//! [`extras`].

pub mod extras;

use ipc_cli::say;
use ipc_core::manager::Token;
use ipc_core::{Manager, Pool, PyList, Result};

/// One task of `Pool.map`: how to reach the Manager dict (Python passes
/// the dict's proxy), the number, and the number whose task fails on
/// purpose (`--fail K`), if any.
pub type Task = (Token, i64, Option<i64>);

/// What a worker computes: the square of `x`.
pub fn square(x: i64) -> i64 {
    x * x
}

/// Records in the Manager dict that the calling process squares `x`:
/// `d[str(x)] = os.getpid()`.
///
/// # Errors
/// As [`Token::connect`] and [`ipc_core::Proxy::set`] (the manager is gone,
/// or does not answer).
pub fn record(d: &Token, x: i64) -> Result<()> {
    // STUDENT: connect to the Manager dict and set key x (as text) to this process's pid (d.connect(), set)
    // Python: `d[str(x)] = os.getpid()`, in the worker.
    let mut dict = d.connect::<i64>()?;
    dict.set(&x.to_string(), i64::from(std::process::id()))?;
    // END STUDENT
    Ok(())
}

/// The task of `Pool.map`, run in a worker: fails on purpose for the
/// number of `--fail`, otherwise records this worker in the Manager dict
/// ([`record`]) and returns the square.
///
/// # Errors
/// The failure on purpose (Python's `raise ValueError(...)`), or why the
/// dict could not be written; the pool hands it back as
/// [`ipc_core::Error::TaskFailed`].
pub fn record_square((d, x, fail): Task) -> std::result::Result<i64, String> {
    if fail == Some(x) {
        return Err(format!("ValueError: {x} fails on purpose (--fail)"));
    }
    record(&d, x).map_err(|e| e.to_string())?;
    Ok(square(x))
}

/// The numbers squared when `--numbers` is not given: 1 to 10.
pub const DEFAULT_NUMBERS: [i64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// The workers of the pool when `--workers` is not given.
pub const DEFAULT_WORKERS: usize = 4;

/// Squares `numbers` with a `Pool` of `workers` processes, by `Pool.map`
/// (recording each worker in a `Manager` dict) and by `imap_unordered`,
/// and prints the results, then what the dict says about the workers
/// (with `who`, the pid of each number's worker). The task of `fail`
/// fails on purpose: `Pool.map` raises its error, which is printed.
///
/// # Errors
/// Errors of the manager, the pool and their processes;
/// [`ipc_core::Error::Interrupted`] after Ctrl-C or SIGTERM.
pub fn run(numbers: &[i64], workers: usize, fail: Option<i64>, who: bool) -> Result<()> {
    let manager = Manager::<i64>::start()?; // manager = Manager(); d = manager.dict()
    let pool = Pool::new(workers)?; // pool = Pool(workers)
    say!(
        "Squares of {} by a Pool of {workers} workers",
        PyList(numbers.to_vec())
    )?;

    let tasks: Vec<Task> = numbers
        .iter()
        .map(|&x| (manager.token(), x, fail))
        .collect();
    // Declared before the region that sets it: a starter (the region cut
    // to `todo!()`) still compiles.
    #[allow(clippy::needless_late_init)]
    let squares: Result<Vec<i64>>;
    // STUDENT: square the tasks in the pool's workers with record_square, results in order (pool.try_map)
    // Python: `squares = pool.map(record_square, tasks)`
    squares = pool.try_map(record_square, tasks);
    // END STUDENT
    match squares {
        Ok(squares) => say!("Pool.map: {}", PyList(squares))?,
        // The task's exception, raised again in the main program.
        Err(error) => say!("Pool.map raised: {error}")?,
    }

    let mut unordered: Vec<i64> = Vec::with_capacity(numbers.len());
    // STUDENT: square the numbers again in the workers, pushing each result onto unordered as it comes (pool.imap_unordered)
    // Python: `for s in pool.imap_unordered(square, numbers): unordered.append(s)`
    for result in pool.imap_unordered(square, numbers.iter().copied())? {
        unordered.push(result?);
    }
    // END STUDENT
    unordered.sort_unstable();
    say!("imap_unordered, sorted: {}", PyList(unordered))?;

    pool.close()?;
    pool.join()?;
    extras::print_dict(&manager.connect()?.items()?, who)?;
    manager.shutdown()
}
