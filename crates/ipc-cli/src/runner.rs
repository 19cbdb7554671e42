//! The runner: what happens around an experiment's body, the same for
//! every program.
//!
//! [`run`] does, in order: name the process (in what
//! ipc-core says by itself), start logging in seed 001's format
//! ([`crate::logging::init`]), set `--fast` ([`ipc_core::pace::set_fast`]),
//! start the run's event log with
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

use ipc_core::{Error, owner, pace, trace};

use crate::cli::Common;
use crate::{logging, output};

/// Runs an experiment's body and maps the outcome to an exit code; see
/// the [module](self).
///
/// The body's error may be ipc-core's [`Error`] or any error that says its
/// exit code ([`Failure`]) and takes ipc-core's errors in (ipc-net's).
pub fn run<E: Failure + From<Error>>(
    program: &str,
    common: &Common,
    body: impl FnOnce() -> Result<(), E>,
) -> ExitCode {
    ipc_core::process::name_this_process(program);
    logging::init();
    pace::set_fast(common.fast);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
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
