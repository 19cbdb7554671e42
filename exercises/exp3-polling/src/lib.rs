//! Seed 001: interprocess communication by polling a shared array.
//!
//! The parent logs its pid and starts two processes that share an `Array`
//! of ten `-1`s. The writer (`process1`) stores 1..=10 in it, pausing for
//! five seconds after the sixth value; the reader (`process2`) reads the
//! slots in order and, whenever a slot still holds `-1`, logs that the data
//! is not available, sleeps one second and looks again. Every line is a log
//! record in Python's default format, `INFO:process1:Writing 1`, on stderr.
//!
//! Ctrl-C (SIGINT to the whole group) or SIGTERM to the parent stops both
//! processes at their next sleep: each logs `Interrupted`, the parent logs
//! `Interrupted by SIGINT` (or SIGTERM), and the program exits with 0.
//!
//! This file follows the seed; the option to write other values
//! (`--values`) is in [`extras`].

pub mod extras;

use std::time::Duration;

use ipc_core::{Array, Process, Result, join_all_ok, pace, signal};
use log::info;

/// The value that marks a slot the writer has not filled yet.
pub const EMPTY: i32 = -1;

/// The values the seed's writer stores, one per slot of the shared array.
pub const VALUES: [i32; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// The writer pauses after every this many slots it filled.
pub const PAUSE_AFTER: usize = 6;

/// How long the writer pauses (`--fast` divides it by 1000).
pub const WRITER_PAUSE: Duration = Duration::from_secs(5);

/// How long the reader waits before looking at an empty slot again.
pub const READER_RETRY: Duration = Duration::from_secs(1);

/// What the reader logs before it waits [`READER_RETRY`].
pub const NOT_AVAILABLE: &str = "Data not available sleeping for 1 second before retrying";

/// The writer: stores `values` (the seed's 1..=10), one slot after the
/// other, pausing after every sixth.
fn process1(shared: &Array<i32>, values: &[i32]) -> Result<()> {
    let process1_logger = "process1";
    info!(target: process1_logger, "Pid: {}", std::process::id());
    // STUDENT: log `Writing v`, store the i-th value in slot i-1; after every PAUSE_AFTER-th, log and sleep WRITER_PAUSE
    for (i, &value) in (1..).zip(values) {
        info!(target: process1_logger, "Writing {value}");
        shared.set(i - 1, value)?;
        if i % PAUSE_AFTER == 0 {
            info!(target: process1_logger, "Intentionally sleeping for 5 seconds");
            pace::sleep(WRITER_PAUSE)?;
        }
    }
    // END STUDENT
    info!(target: process1_logger, "Finished process 1");
    Ok(())
}

/// The reader: reads every slot in order, polling once a second while a
/// slot is still empty.
fn process2(shared: &Array<i32>) -> Result<()> {
    let process2_logger = "process2";
    info!(target: process2_logger, "Pid: {}", std::process::id());
    // STUDENT: read each slot; while it is EMPTY, log NOT_AVAILABLE and sleep READER_RETRY
    for i in 0..shared.len() {
        loop {
            let line = shared.get(i)?;
            if line == EMPTY {
                info!(target: process2_logger, "{NOT_AVAILABLE}");
                pace::sleep(READER_RETRY)?;
                continue;
            }
            info!(target: process2_logger, "Read: {line}");
            break;
        }
    }
    // END STUDENT
    info!(target: process2_logger, "Finished process 2");
    Ok(())
}

/// A role's result as its process ends it: a signal is an orderly stop
/// (logged, exit code 0); any other error is printed and exits with 1.
fn stop_on_signal(logger: &str, outcome: Result<()>) -> Result<()> {
    signal::end_on_interrupt(outcome, |_| {
        info!(target: logger, "Interrupted");
        Ok(())
    })
}

/// Runs the experiment: the parent, the writer and the reader.
///
/// # Errors
/// A failed system call (`mmap`, `fork`, `waitpid`), or
/// [`ipc_core::Error::ChildFailed`] when a process ends with a non-zero status.
pub fn run() -> Result<()> {
    run_with(&VALUES)
}

/// Runs the experiment with the writer storing `values` instead of the
/// seed's (`--values`, checked by [`extras::values`]): the shared array
/// has a slot per value.
///
/// # Errors
/// As [`run`].
pub fn run_with(values: &[i32]) -> Result<()> {
    let parent_logger = "parent";
    info!(target: parent_logger, "Pid: {}", std::process::id());
    let arr = Array::<i32>::from_slice(&vec![EMPTY; values.len()])?;

    let mut procs = [
        Process::spawn("process1", || {
            stop_on_signal("process1", process1(&arr, values))
        })?,
        Process::spawn("process2", || stop_on_signal("process2", process2(&arr)))?,
    ];
    let joined = join_all_ok(&mut procs);

    if let Some(sig) = signal::pending() {
        info!(target: parent_logger, "Interrupted by {sig}");
    }
    joined
}
