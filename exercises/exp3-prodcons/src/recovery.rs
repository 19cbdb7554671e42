//! What keeps a run going, or ending in order, when a process does not
//! play its part: every wait bounded by [`Config::timeout`] and explained
//! when it gives up, a lock whose holder died taken over, and Ctrl-C or
//! SIGTERM turned into a last line. Not part of the textbook solution.

use std::fmt;
use std::time::Duration;

use ipc_core::{Error, LockError, LockGuard, Result, signal};

#[cfg(doc)]
use crate::options::Config;
use crate::{Guards, Log};

/// Who waits: a producer or a consumer and its number (from 1), printed
/// as `Producer 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Producer `p`.
    Producer(usize),
    /// Consumer `c`.
    Consumer(usize),
}

impl Who {
    /// The process's name in errors and the timeline (`producer 1`).
    pub fn process_name(self) -> String {
        self.to_string().to_lowercase()
    }
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::Producer(p) => write!(f, "Producer {p}"),
            Who::Consumer(c) => write!(f, "Consumer {c}"),
        }
    }
}

impl Guards {
    /// `wait(empty)`, at most [`Config::timeout`].
    ///
    /// # Errors
    /// [`Error::Timeout`] when no slot came free in time, said on stderr
    /// first; [`Error::Interrupted`] after SIGINT or SIGTERM.
    pub fn wait_empty(&self, p: usize) -> Result<()> {
        let outcome = self.empty.acquire_timeout(self.timeout);
        explained(outcome, || {
            format!(
                "Producer {p}: no free slot for {:?} (is a consumer gone?)",
                self.timeout
            )
        })
    }

    /// `wait(full)`, at most [`Config::timeout`].
    ///
    /// # Errors
    /// As [`Guards::wait_empty`], when no item came.
    pub fn wait_full(&self, c: usize) -> Result<()> {
        let outcome = self.full.acquire_timeout(self.timeout);
        explained(outcome, || {
            format!(
                "Consumer {c}: no item for {:?} (is a producer gone?)",
                self.timeout
            )
        })
    }

    /// `wait(mutex)`, at most [`Config::timeout`]. A process that died
    /// holding it left the ring whole (see [`crate::ring`]): `who` says so
    /// and goes on.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the lock stayed held, said on stderr first;
    /// [`Error::Interrupted`] after SIGINT or SIGTERM.
    pub fn lock(&self, who: Who, log: &Log) -> Result<LockGuard<'_>> {
        let taken = self.mutex.lock_timeout(self.timeout);
        taken_over(taken, LockGuard::make_consistent, who, log, self.timeout)
    }
}

/// The outcome of taking the buffer's lock (within `timeout`): the guard;
/// when a process died holding it, `who` says the ring is whole (see
/// [`crate::ring`]), declares it `repair`ed and goes on.
///
/// # Errors
/// [`Error::Timeout`] when the lock stayed held, said on stderr first;
/// [`Error::Interrupted`] after SIGINT or SIGTERM.
pub(crate) fn taken_over<G>(
    taken: std::result::Result<G, LockError<G>>,
    repair: impl FnOnce(&G) -> Result<()>,
    who: Who,
    log: &Log,
    timeout: Duration,
) -> Result<G> {
    match taken {
        Ok(guard) => Ok(guard),
        Err(LockError::OwnerDied(guard)) => {
            died_holding(who, log)?;
            repair(&guard)?;
            Ok(guard)
        }
        Err(LockError::Failed(error)) => explained(Err(error), || {
            format!("{who}: the buffer's lock stayed held for {timeout:?}")
        }),
    }
}

/// Says that a process died holding the buffer's lock, and that the ring
/// is whole.
pub(crate) fn died_holding(who: Who, log: &Log) -> Result<()> {
    log.tell(format_args!(
        "{who}: a process died holding the buffer's lock; the ring is whole, going on"
    ))
}

/// A bounded wait's outcome; on a timeout, explains it on stderr first.
pub(crate) fn explained<T>(outcome: Result<T>, explain: impl FnOnce() -> String) -> Result<T> {
    if let Err(Error::Timeout) = outcome {
        ipc_cli::say_err!("{}", explain());
    }
    outcome
}

/// Runs `who`'s part, turning SIGINT/SIGTERM into a last line and a
/// normal end.
///
/// # Errors
/// The part's error, but [`Error::Interrupted`].
pub fn interruptible(log: &Log, who: Who, part: impl FnOnce() -> Result<()>) -> Result<()> {
    signal::end_on_interrupt(part(), |by| {
        log.tell(format_args!("{who}: interrupted by {by}"))
    })
}
