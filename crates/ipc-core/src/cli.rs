//! What every experiment's `main` shares: the common flags, logging, and
//! turning the result into an exit code.
//!
//! ```no_run
//! use clap::Parser;
//! use std::process::ExitCode;
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     common: ipc_core::cli::Common,
//! }
//!
//! fn main() -> ExitCode {
//!     let args = Args::parse();
//!     ipc_core::cli::run("demo", &args.common, || {
//!         println!("hello");
//!         Ok(())
//!     })
//! }
//! ```

use std::any::Any;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::process::ExitCode;

use crate::error::Result;
use crate::{logging, pace};

/// Flags every experiment takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Common {
    /// Scale every sleep down 1000 times: the same lines, without the
    /// waiting (for scripts and graders)
    #[arg(long)]
    pub fast: bool,
}

/// Runs an experiment's body and maps the outcome to an exit code.
///
/// Before the body: logging in seed 001's format ([`logging::init`]),
/// `--fast` ([`pace::set_fast`]), and a quiet end when standard output is
/// closed early (`exp7-pipe | head -1`): the write fails, the body unwinds
/// (so every IPC object is removed by its destructor), and the program
/// exits with 0 without a panic message. After it: an error is printed as
/// `program: message` on stderr and ends the program with
/// [`crate::Error::exit_code`] (2 for bad input, 1 otherwise).
pub fn run(program: &str, common: &Common, body: impl FnOnce() -> Result<()>) -> ExitCode {
    quiet_broken_pipe();
    logging::init();
    pace::set_fast(common.fast);
    let outcome = catch_unwind(AssertUnwindSafe(body));
    let _ = std::io::stdout().flush();
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("{program}: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
        Err(payload) if is_broken_pipe(payload.as_ref()) => ExitCode::SUCCESS,
        Err(payload) => resume_unwind(payload),
    }
}

/// True for the panic `println!` raises when standard output is a pipe
/// whose reader has gone.
pub fn is_broken_pipe(payload: &(dyn Any + Send)) -> bool {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
}

/// Keeps the default panic message for every panic but the broken-pipe one.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            default(info);
        }
    }));
}
