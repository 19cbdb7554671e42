//! The runner: what happens around an experiment's body, the same for
//! every program.
//!
//! [`run`] and [`run_with`] do, in order: name the process (in what
//! ipc-core says by itself), start logging in seed 001's format
//! ([`crate::logging::init`]), set `--fast` ([`ipc_core::pace::set_fast`]),
//! catch SIGINT and SIGTERM ([`Signals`]), start the run's event log with
//! `--trace FILE` ([`ipc_core::trace::start`]), run the body, write the
//! trace ([`ipc_trace::write`]), settle the run's named objects ([`ipc_core::owner::end_run`]) and
//! turn the outcome into an exit code: 0 for success and for a standard
//! output closed by its reader (`exp7-pipe | head -1`:
//! [`ipc_core::Error::OutputClosed`]), otherwise the error's own
//! ([`Failure::exit_code`]: 2 for bad input, 1 for a failure), its message
//! printed as `program: message` on standard error. A line that could not
//! be written to standard error ([`crate::logging::failure`]) ends a run
//! that went well with 1.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::process::ExitCode;

use ipc_core::{Error, owner, pace, signal, trace};

use crate::cli::Common;
use crate::{logging, output};

/// What SIGINT (Ctrl-C) and SIGTERM do to a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signals {
    /// They set the flag that every loop and blocking call of ipc-core
    /// notices ([`ipc_core::signal::install`], once, before the body and
    /// its first fork, so that every child inherits it): the waits return
    /// [`Error::Interrupted`], and the program ends in order, its last
    /// line printed and its objects removed. What [`run`] does.
    Caught,
    /// They keep their default action: the program ends at once, killed by
    /// the signal, as a Python program without a handler does (seed 000's
    /// menu and its mechanisms). Only for a program whose memory and pipes
    /// are anonymous, which the kernel frees with its processes, or that
    /// makes nothing at all.
    Default,
}

/// Runs an experiment's body with SIGINT and SIGTERM caught
/// ([`Signals::Caught`]) and maps the outcome to an exit code; see the
/// [module](self).
///
/// The body's error may be ipc-core's [`Error`] or any error that says its
/// exit code ([`Failure`]) and takes ipc-core's errors in (ipc-net's).
pub fn run<E: Failure + From<Error>>(
    program: &str,
    common: &Common,
    body: impl FnOnce() -> Result<(), E>,
) -> ExitCode {
    run_with(program, Signals::Caught, common, body)
}

/// [`run`], with `signals` saying what SIGINT and SIGTERM do.
pub fn run_with<E: Failure + From<Error>>(
    program: &str,
    signals: Signals,
    common: &Common,
    body: impl FnOnce() -> Result<(), E>,
) -> ExitCode {
    ipc_core::process::name_this_process(program);
    logging::init();
    pace::set_fast(common.fast);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if signals == Signals::Caught {
            signal::install()?;
        }
        // Before the body: the log must exist before the first fork.
        // A program started by another one's run has its lane named after
        // its role (ipc_trace::part_for).
        let lane = std::env::var(ipc_trace::NAME_VAR).unwrap_or_else(|_| program.to_owned());
        let log = common
            .trace
            .as_ref()
            .map(|_| trace::start(&lane, trace::DEFAULT_CAPACITY))
            .transpose()?;
        let outcome = body().and_then(|()| output::flush().map_err(E::from));
        if let (Some(log), Some(path)) = (log, &common.trace) {
            trace::exit(if outcome.is_ok() { 0 } else { 1 });
            let written = ipc_trace::write(&log, path)?;
            trace::stop();
            if written.dropped > 0 {
                crate::say_err!(
                    "{program}: the trace {} lacks {} events (its log was full)",
                    path.display(),
                    written.dropped
                );
            }
        }
        outcome
    }));
    owner::end_run();
    let error = match outcome {
        Ok(Ok(())) => match logging::failure() {
            None => return ExitCode::SUCCESS,
            Some(error) => E::from(error),
        },
        Ok(Err(error)) => error,
        Err(payload) => resume_unwind(payload),
    };
    let code = error.exit_code();
    if code != 0 {
        crate::say_err!("{program}: {error}");
    }
    ExitCode::from(code as u8)
}

/// An error [`run`] can end a program with: a message and an exit code (0
/// for a quiet end, 1 for a failure, 2 for bad input).
pub trait Failure: fmt::Display {
    /// The exit code the program ends with.
    fn exit_code(&self) -> i32;
}

impl Failure for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(outcome: Result<(), Error>) -> ExitCode {
        run_with("test", Signals::Default, &Common::default(), || outcome)
    }

    #[test]
    fn outcomes_become_the_exit_codes_of_the_table() {
        assert_eq!(ended(Ok(())), ExitCode::SUCCESS);
        assert_eq!(ended(Err(Error::OutputClosed)), ExitCode::SUCCESS);
        assert_eq!(ended(Err(Error::Timeout)), ExitCode::from(1));
        let bad = Error::InvalidArgument("no such option".into());
        assert_eq!(ended(Err(bad)), ExitCode::from(2));
    }
}
