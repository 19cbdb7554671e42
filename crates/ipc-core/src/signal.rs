//! SIGINT and SIGTERM as a flag that loops and blocking calls notice.
//!
//! Python turns Ctrl-C into a `KeyboardInterrupt` exception. Here
//! [`install`] makes both SIGINT and SIGTERM set a process-wide flag instead
//! of killing the process; a loop asks [`interrupted`] (or sleeps with
//! [`crate::pace::sleep`], which returns [`Error::Interrupted`] within
//! [`crate::blocking::POLL_INTERVAL`] of the signal) and ends in an orderly
//! way: it prints its last line, and every IPC object is removed by its
//! owner's destructor.
//!
//! The handlers are installed without `SA_RESTART`, so a system call blocked
//! when the signal arrives returns `EINTR` (see `signal(7)`); ipc-core's
//! blocking calls then check the flag ([`crate::blocking`], the one place
//! that does). A forked child inherits the handlers
//! and sees the signals sent to it, not its parent's flag: the flag is per
//! process.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::error::{Error, Result};

/// The number of the last SIGINT or SIGTERM received, 0 if none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: libc::c_int) {
    // Only atomic stores: async-signal-safe (so is recording it in the
    // run's trace).
    RECEIVED.store(signal, Ordering::SeqCst);
    crate::trace::signal(signal);
}

/// Makes SIGINT and SIGTERM set the flag instead of ending the process.
///
/// Call it once at the start of `main`, before forking, so that every child
/// inherits the handlers. Calling it again is harmless.
///
/// # Errors
/// [`Error::Sys`] naming `sigaction` if the kernel refuses the handler.
pub fn install() -> Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(record),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: `record` only performs an atomic store, which is
        // async-signal-safe, and it does not unwind.
        unsafe { sigaction(signal, &action) }
            .map_err(|errno| Error::sys("sigaction", signal.as_str(), errno))?;
    }
    Ok(())
}

/// The signal that set the flag, if any.
pub fn pending() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// True once SIGINT or SIGTERM has been received (after [`install`]).
pub fn interrupted() -> bool {
    pending().is_some()
}

/// `Err(Error::Interrupted)` once the flag is set, `Ok(())` before.
///
/// Handy as the first line of a loop body: `signal::check()?;`.
pub fn check() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Turns an interruption into a normal end, as the seeds' `except
/// KeyboardInterrupt:` blocks do.
///
/// For `Err(Error::Interrupted)` (a loop stopped by SIGINT or SIGTERM) it
/// calls `last_words` with the signal's name (`"SIGINT"`, `"SIGTERM"`, or
/// `"a signal"` if the flag was cleared meanwhile) and returns what it
/// returns (its last line printed, usually `Ok(())`); any other outcome is
/// returned unchanged.
///
/// ```
/// use ipc_core::{Error, signal};
///
/// let mut said = None;
/// let ended = signal::end_on_interrupt(Err(Error::Interrupted), |by| {
///     said = Some(by);
///     Ok(())
/// });
/// assert!(ended.is_ok());
/// assert_eq!(said, Some("a signal"));
/// assert!(signal::end_on_interrupt(Err(Error::Timeout), |_| unreachable!()).is_err());
/// ```
pub fn end_on_interrupt(
    outcome: Result<()>,
    last_words: impl FnOnce(&'static str) -> Result<()>,
) -> Result<()> {
    match outcome {
        Err(Error::Interrupted) => last_words(pending().map_or("a signal", Signal::as_str)),
        other => other,
    }
}

/// Clears the flag, so that a program can go on after handling a signal.
pub fn clear() {
    RECEIVED.store(0, Ordering::SeqCst);
}

/// Restores the default action (end the process) for SIGINT and SIGTERM.
///
/// # Errors
/// [`Error::Sys`] naming `sigaction`.
pub fn uninstall() -> Result<()> {
    let action = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: installing the default disposition runs no code of ours.
        unsafe { sigaction(signal, &action) }
            .map_err(|errno| Error::sys("sigaction", signal.as_str(), errno))?;
    }
    Ok(())
}

// Tested in tests/process_scenarios.rs: raising a signal sets a flag for
// the whole process, which would disturb unit tests running on other
// threads of the same test binary.
