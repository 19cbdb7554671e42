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

use std::time::Duration;

use ipc_core::{Error, IpcName, Process, RawValue, Result, join_all_ok, pace, say, signal};

/// The length of one tick (`--fast` divides it by 1000).
pub const TICK: Duration = Duration::from_secs(1);

/// Process 1 increments the counter after every this many ticks.
pub const TICKS_PER_INCREMENT: u64 = 5;

/// Which segment the program uses, and in which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Create a segment with a fresh name (`ipc-lab-PID-N-counter`) and run
    /// both processes.
    Unique,
    /// Create the segment under this name (it must not exist yet) and run
    /// both processes.
    Create(IpcName),
    /// Attach to an existing segment and run process 2's role only.
    Attach(IpcName),
}

impl Segment {
    /// The segment chosen by `--name` and `--attach` (`--attach` wins).
    pub fn from_flags(name: Option<IpcName>, attach: Option<IpcName>) -> Segment {
        match (name, attach) {
            (_, Some(name)) => Segment::Attach(name),
            (Some(name), None) => Segment::Create(name),
            (None, None) => Segment::Unique,
        }
    }
}

/// The ticks a process lives through: 1..=N, or without end.
fn ticks(limit: Option<u64>) -> std::ops::RangeInclusive<u64> {
    1..=limit.unwrap_or(u64::MAX)
}

/// Counter which increments every 5 seconds (the seed's `process_1`).
fn process_1(shared_mem: &RawValue<u32>, limit: Option<u64>) -> Result<()> {
    for tick in ticks(limit) {
        pace::sleep(TICK)?;
        if tick % TICKS_PER_INCREMENT == 0 {
            // Only this process writes, so get-then-set loses nothing.
            let current_value = shared_mem.get().wrapping_add(1);
            shared_mem.set(current_value);
            say!("Process-1: Counter incremented to {current_value}")?;
        }
    }
    Ok(())
}

/// Takes the value from the counter and computes its square, every second
/// (the seed's `process_2`).
fn process_2(shared_mem: &RawValue<u32>, limit: Option<u64>) -> Result<()> {
    for _ in ticks(limit) {
        pace::sleep(TICK)?; // Check every second
        let current_value = shared_mem.get();
        let square_value = u64::from(current_value).pow(2);
        say!("Process-2: Square of counter value {current_value} is {square_value}")?;
    }
    Ok(())
}

/// Ends a role as the seed's `except KeyboardInterrupt` does: a signal, like
/// the end of `--ticks`, prints `<name> Terminated`.
fn terminated(name: &str, outcome: Result<()>) -> Result<()> {
    signal::end_on_interrupt(outcome, |_| Ok(()))?;
    say!("{name} Terminated")?;
    Ok(())
}

/// Runs the experiment on `segment`, for `limit` ticks or until SIGINT or
/// SIGTERM.
///
/// # Errors
/// `shm_open … File exists` when `--name` is taken (exit 1);
/// [`Error::InvalidArgument`] when the segment to attach to does not exist
/// or is too small (exit 2); a failed `fork` or `waitpid`;
/// [`Error::ChildFailed`] when a process fails.
pub fn run(segment: Segment, limit: Option<u64>) -> Result<()> {
    signal::install()?;
    let name = match segment {
        Segment::Attach(name) => return observe(&name, limit),
        Segment::Create(name) => name,
        Segment::Unique => IpcName::unique("counter")?,
    };
    let shared_mem = RawValue::<u32>::create(&name, 0)?;

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

/// `--attach`: process 2's role on somebody else's segment, which is
/// never unlinked here.
fn observe(name: &IpcName, limit: Option<u64>) -> Result<()> {
    let shared_mem = RawValue::<u32>::open(name).map_err(|error| match error {
        Error::TooSmall { .. } => Error::InvalidArgument(format!("--attach {name}: {error}")),
        error if error.is_not_found() => Error::InvalidArgument(format!(
            "--attach {name}: {error} (start `exp4-counter --name {name}` first)"
        )),
        error => error,
    })?;
    terminated("Process-2", process_2(&shared_mem, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_wins_over_name() {
        let a = IpcName::new("a").unwrap();
        let b = IpcName::new("b").unwrap();
        assert_eq!(Segment::from_flags(None, None), Segment::Unique);
        assert_eq!(
            Segment::from_flags(Some(a.clone()), None),
            Segment::Create(a.clone())
        );
        assert_eq!(
            Segment::from_flags(Some(a), Some(b.clone())),
            Segment::Attach(b)
        );
    }

    #[test]
    fn ticks_are_bounded_only_when_asked() {
        assert_eq!(ticks(Some(3)).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(ticks(Some(0)).count(), 0);
        assert_eq!(*ticks(None).end(), u64::MAX);
    }
}
