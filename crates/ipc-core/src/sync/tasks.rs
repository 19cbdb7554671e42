//! A count of unfinished tasks that processes can wait to see reach zero:
//! the shared half of [`crate::JoinableQueue`] (Python's
//! `JoinableQueue._unfinished_tasks` and `_cond`).
//!
//! # How it works
//!
//! Three atomics on a cache line of their own, in the queue's shared
//! header: `unfinished` (tasks counted and not yet done, 64-bit, never
//! wrapping), `finished` (a 32-bit futex word, one more each time
//! `unfinished` drops to zero) and `sleepers` (how many processes sleep on
//! `finished`). [`Tasks::done`] takes one off with a compare-and-swap that
//! refuses to go below zero; the one that reaches zero adds one to
//! `finished` and, only if somebody sleeps, wakes every sleeper with
//! `FUTEX_WAKE`. A joiner notes `finished`, looks at `unfinished`, and
//! sleeps (`FUTEX_WAIT`, `futex(2)`) while `finished` still holds what it
//! noted, in slices of [`crate::blocking::POLL_INTERVAL`]
//! ([`crate::blocking::wait`]).
//!
//! Waiting on `finished` rather than on `unfinished` means a joiner is
//! released by *every* moment the count was zero, even one that a new
//! task ended at once (a `task_done` then a `put` before the joiner ran):
//! Python's `join()`, woken by `notify_all`, returns there too.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::blocking::Deadline;
use crate::error::{Error, Result};
use crate::sync::futex;

/// The count of unfinished tasks (see the module). Zeroed memory is a
/// count of zero with nobody waiting.
#[derive(Debug)]
#[repr(C, align(64))]
pub(crate) struct Tasks {
    /// Tasks counted by [`Tasks::add`] and not yet [`Tasks::done`].
    unfinished: AtomicU64,
    /// One more each time `unfinished` drops to zero (wrapping); the futex
    /// word joiners sleep on.
    finished: AtomicU32,
    /// How many processes sleep (or are about to) on `finished`.
    sleepers: AtomicU32,
}

impl Tasks {
    /// Counts one more task.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `u64::MAX` tasks are unfinished
    /// already (nothing is counted).
    pub(crate) fn add(&self) -> Result<()> {
        self.unfinished
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |n| n.checked_add(1))
            .map(drop)
            .map_err(|_| Error::InvalidArgument("JoinableQueue: too many unfinished tasks".into()))
    }

    /// Marks one task done; the last one releases every joiner.
    ///
    /// # Errors
    /// [`Error::TaskDoneTooManyTimes`] when no task is unfinished (the
    /// count stays zero); [`Error::Sys`] naming `futex` (only on a bug).
    pub(crate) fn done(&self) -> Result<()> {
        let before = self
            .unfinished
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |n| n.checked_sub(1))
            .map_err(|_| Error::TaskDoneTooManyTimes)?;
        if before == 1 {
            // SeqCst, as the load of `sleepers` after it: a joiner that
            // counted itself in before this load is woken; one that did
            // after finds `finished` changed and does not sleep.
            self.finished.fetch_add(1, Ordering::SeqCst);
            if self.sleepers.load(Ordering::SeqCst) > 0 {
                futex::wake(&self.finished, u32::MAX)?;
            }
        }
        Ok(())
    }

    /// How many tasks are unfinished now.
    pub(crate) fn unfinished(&self) -> u64 {
        self.unfinished.load(Ordering::SeqCst)
    }

    /// Waits until the count is zero, or has been since the call began.
    ///
    /// # Errors
    /// [`Error::Timeout`] at `deadline`; [`Error::Interrupted`] after
    /// SIGINT or SIGTERM; [`Error::Sys`] naming `futex` (only on a bug).
    pub(crate) fn join(&self, deadline: Deadline) -> Result<()> {
        // `finished` first: a drop to zero after this load changes it.
        let seen = self.finished.load(Ordering::SeqCst);
        let over = || {
            self.finished.load(Ordering::SeqCst) != seen
                || self.unfinished.load(Ordering::SeqCst) == 0
        };
        if over() {
            return Ok(());
        }
        futex::wait_until_done(deadline, &self.finished, seen, &self.sleepers, over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn zero() -> Tasks {
        Tasks {
            unfinished: AtomicU64::new(0),
            finished: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
        }
    }

    #[test]
    fn done_never_goes_below_zero() {
        let tasks = zero();
        tasks.add().unwrap();
        tasks.done().unwrap();
        assert!(matches!(tasks.done(), Err(Error::TaskDoneTooManyTimes)));
        assert_eq!(tasks.unfinished(), 0);
        tasks.join(Deadline::NEVER).unwrap();
    }

    #[test]
    fn add_never_wraps() {
        let tasks = zero();
        tasks.unfinished.store(u64::MAX, Ordering::SeqCst);
        assert!(matches!(tasks.add(), Err(Error::InvalidArgument(_))));
        assert_eq!(tasks.unfinished(), u64::MAX);
    }

    #[test]
    fn join_waits_for_the_last_done_of_another_thread() {
        let tasks = zero();
        tasks.add().unwrap();
        tasks.add().unwrap();
        assert!(matches!(
            tasks.join(Deadline::after(Duration::from_millis(10))),
            Err(Error::Timeout)
        ));
        std::thread::scope(|s| {
            let joiner = s.spawn(|| tasks.join(Deadline::after(Duration::from_secs(30))));
            tasks.done().unwrap();
            tasks.done().unwrap();
            joiner.join().unwrap().unwrap();
        });
    }

    #[test]
    fn a_moment_at_zero_releases_a_joiner_even_if_a_task_follows() {
        let tasks = zero();
        tasks.add().unwrap();
        let seen = tasks.finished.load(Ordering::SeqCst);
        tasks.done().unwrap();
        tasks.add().unwrap();
        assert_ne!(tasks.finished.load(Ordering::SeqCst), seen);
        assert_eq!(tasks.unfinished(), 1);
    }
}
