//! What a program that forks workers to race on one counter shares
//! (exp11-value, exp1-threads): a gate they start together at, and the
//! ends of a worker that are not its own failure.

use ipc_core::{Error, Event, Result};

/// A gate the processes wait at until the parent opens it, so that their
/// loops start together and really overlap.
///
/// An [`Event`]: the processes sleep in the kernel until it is set, and
/// all wake at once. (A shared flag polled in a loop would also fill a
/// `--trace` timeline with its reads.)
#[derive(Debug)]
pub struct Gate(Event);

impl Gate {
    /// A closed gate, in shared memory (make it before forking).
    ///
    /// # Errors
    /// As [`Event::new`].
    pub fn new() -> Result<Gate> {
        Ok(Gate(Event::new()?))
    }

    /// Waits until the gate is open.
    ///
    /// # Errors
    /// [`Error::Interrupted`] after Ctrl-C or SIGTERM (the parent may have
    /// died before opening it).
    pub fn wait(&self) -> Result<()> {
        self.0.wait()
    }

    /// Lets every waiting process go.
    ///
    /// # Errors
    /// As [`Event::set`].
    pub fn open(&self) -> Result<()> {
        self.0.set()
    }
}

/// A process's outcome, with the ends that are not its own failure turned
/// into a quiet stop: an interruption (Ctrl-C, or SIGTERM from the parent
/// after another process died), and the lock's holder dying while it held
/// it (the count can no longer be trusted). The parent reports them all,
/// and names the process that died.
///
/// # Errors
/// Any other error of `outcome`.
pub fn until_stopped(outcome: Result<()>) -> Result<()> {
    match outcome {
        Err(Error::Interrupted | Error::OwnerDied | Error::NotRecoverable) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_worker_s_own_failure_remains_an_error() {
        for quiet in [Error::Interrupted, Error::OwnerDied, Error::NotRecoverable] {
            assert!(until_stopped(Err(quiet)).is_ok());
        }
        assert!(matches!(
            until_stopped(Err(Error::Timeout)),
            Err(Error::Timeout)
        ));
    }

    #[test]
    fn an_open_gate_lets_its_waiter_go() {
        let gate = Gate::new().unwrap();
        gate.open().unwrap();
        gate.wait().unwrap();
    }
}
