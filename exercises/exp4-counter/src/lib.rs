//! Seed 003: two processes share a counter in a named shared-memory
//! segment.
//!
//! Process 1 increments the counter every five seconds; process 2 reads it
//! every second and prints its square. Both run until Ctrl-C (or SIGTERM,
//! or `--ticks N`), then print `Process-1 Terminated` and `Process-2
//! Terminated`; the parent prints `Processes Terminated !`, closes the
//! segment and unlinks it.
//!
//! The segment is a POSIX shared-memory object (`shm_open(3)`), visible as
//! `/dev/shm/ipc-lab-…` while the program runs. It holds the counter as an
//! unsigned 32-bit little-endian integer at offset 0, so that another
//! program (`exp4-counter --attach NAME`, or Python's
//! `SharedMemory(name=NAME)`) can read it.
//!
//! # Ticks
//! A tick is one second (one millisecond with `--fast`). Each process
//! sleeps one tick at a time: process 2 prints after every tick, process 1
//! increments after every fifth tick. `--ticks N` ends both after their
//! N-th tick, so process 2 prints N lines and process 1 increments N / 5
//! times (rounded down).
//!
//! This file follows the seed; `--name`, `--attach`, the bound of
//! `--fast` and the advice for a taken name are in [`extras`].

pub mod extras;

use std::time::Duration;

pub use extras::Segment;
use ipc_cli::say;
use ipc_core::{IpcName, Process, RawValue, Result, join_all_ok, pace, signal};

/// The length of one tick (`--fast` divides it by 1000).
pub const TICK: Duration = Duration::from_secs(1);

/// Process 1 increments the counter after every this many ticks.
pub const TICKS_PER_INCREMENT: u64 = 5;

/// The ticks a process lives through: 1..=N, or without end.
pub(crate) fn ticks(limit: Option<u64>) -> std::ops::RangeInclusive<u64> {
    1..=limit.unwrap_or(u64::MAX)
}

/// Counter which increments every 5 seconds (the seed's `process_1`).
fn process_1(shared_mem: &RawValue<u32>, limit: Option<u64>) -> Result<()> {
    for tick in ticks(limit) {
        pace::sleep(TICK)?;
        // STUDENT: every TICKS_PER_INCREMENT ticks, add 1 to the counter and print the new value
        if tick % TICKS_PER_INCREMENT == 0 {
            // Only this process writes, so get-then-set loses nothing.
            let current_value = shared_mem.get().wrapping_add(1);
            shared_mem.set(current_value);
            say!("Process-1: Counter incremented to {current_value}")?;
        }
        // END STUDENT
    }
    Ok(())
}

/// Takes the value from the counter and computes its square, every second
/// (the seed's `process_2`).
pub(crate) fn process_2(shared_mem: &RawValue<u32>, limit: Option<u64>) -> Result<()> {
    for _ in ticks(limit) {
        pace::sleep(TICK)?; // Check every second
        // STUDENT: read the counter and print its square (as a u64: it may not fit a u32)
        let current_value = shared_mem.get();
        let square_value = u64::from(current_value).pow(2);
        say!("Process-2: Square of counter value {current_value} is {square_value}")?;
        // END STUDENT
    }
    Ok(())
}

/// Ends a role as the seed's `except KeyboardInterrupt` does: a signal, like
/// the end of `--ticks`, prints `<name> Terminated`.
pub(crate) fn terminated(name: &str, outcome: Result<()>) -> Result<()> {
    signal::end_on_interrupt(outcome, |_| Ok(()))?;
    say!("{name} Terminated")?;
    Ok(())
}

/// Runs the experiment on `segment`, for `limit` ticks or until SIGINT or
/// SIGTERM.
///
/// # Errors
/// `shm_open … File exists` when `--name` is taken (exit 1, with what to
/// do: [`extras::taken`]);
/// [`ipc_core::Error::InvalidArgument`] when the segment to attach to does not exist
/// or is too small (exit 2); a failed `fork` or `waitpid`;
/// [`ipc_core::Error::ChildFailed`] when a process fails.
pub fn run(segment: Segment, limit: Option<u64>) -> Result<()> {
    let name = match segment {
        Segment::Attach(name) => return extras::observe(&name, limit),
        Segment::Create(name) => name,
        Segment::Unique => IpcName::unique("counter")?,
    };
    let shared_mem = RawValue::<u32>::create(&name, 0).map_err(|e| extras::taken(&name, e))?;

    let mut procs = [
        Process::spawn("process_1", || {
            terminated("Process-1", process_1(&shared_mem, limit))
        })?,
        Process::spawn("process_2", || {
            terminated("Process-2", process_2(&shared_mem, limit))
        })?,
    ];
    // Passes a SIGTERM sent to the parent alone on to both processes.
    let joined = join_all_ok(&mut procs);
    // Close and unlink the segment (the creator's handle does both).
    drop(shared_mem);
    say!("Processes Terminated !")?;
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_bounded_only_when_asked() {
        assert_eq!(ticks(Some(3)).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(ticks(Some(0)).count(), 0);
        assert_eq!(*ticks(None).end(), u64::MAX);
    }
}
