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

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::process::ExitCode;

use crate::error::Result;
use crate::{logging, output, owner, pace};

/// Flags every experiment takes, before or after a subcommand
/// (`exp11-value --fast example` and `exp11-value example --fast` mean the
/// same): flatten it into the command line with `#[command(flatten)]`, once.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Common {
    /// Scale every sleep down 1000 times: the same lines, without the
    /// waiting (for scripts and graders)
    #[arg(long, global = true)]
    pub fast: bool,
}

/// Parses the command line into `A`, as `A::parse()` does, and also
/// refuses an option of the default run given with a subcommand
/// (`exp11-value --iterations 5 example`), which clap would otherwise
/// accept and ignore. The flags of [`Common`] are global: they are
/// accepted anywhere. Bad usage ends the program with exit code 2.
pub fn parse<A: clap::Parser>() -> A {
    let mut command = A::command();
    let matches = command.get_matches_mut();
    if let Some((subcommand, _)) = matches.subcommand() {
        let misplaced = command.get_arguments().find(|arg| {
            !arg.is_global_set()
                && matches.value_source(arg.get_id().as_str())
                    == Some(clap::parser::ValueSource::CommandLine)
        });
        if let Some(arg) = misplaced {
            let flag = arg
                .get_long()
                .map_or_else(|| arg.get_id().to_string(), |long| format!("--{long}"));
            command
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("{flag} belongs to the default run, not to `{subcommand}`"),
                )
                .exit();
        }
    }
    A::from_arg_matches(&matches).unwrap_or_else(|error| error.format(&mut command).exit())
}

/// A clap value parser for a whole number of `unit` in `range`, whose error
/// states the rule in words, whatever was wrong: `-1`, `abc`, `0` or a
/// number too large for 64 bits all get
/// `expected a whole number of passes from 1 to 5000000 (NOTE)`, instead
/// of clap's `unexpected argument '-1' found` or `0 is not in 1..…`.
///
/// An empty `unit` leaves out the words "of UNIT". Pair it with
/// `allow_hyphen_values = true`, so that a negative number
/// reaches the parser instead of being taken for a flag:
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[arg(long, allow_hyphen_values = true,
///           value_parser = ipc_core::cli::whole_number(0..=60, "seconds", ""))]
///     delay: u64,
/// }
///
/// assert_eq!(Args::try_parse_from(["demo", "--delay", "5"]).unwrap().delay, 5);
/// let error = Args::try_parse_from(["demo", "--delay", "-1"]).err().unwrap();
/// assert!(
///     error.to_string().contains("expected a whole number of seconds from 0 to 60"),
///     "{error}"
/// );
/// ```
pub fn whole_number(
    range: std::ops::RangeInclusive<u64>,
    unit: &'static str,
    note: &'static str,
) -> impl Fn(&str) -> std::result::Result<u64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                let (low, high) = (range.start(), range.end());
                let bounds = if *high == u64::MAX {
                    format!(", {low} or more")
                } else {
                    format!(" from {low} to {high}")
                };
                let note = if note.is_empty() {
                    String::new()
                } else {
                    format!(" ({note})")
                };
                let of = if unit.is_empty() {
                    String::new()
                } else {
                    format!(" of {unit}")
                };
                format!("expected a whole number{of}{bounds}{note}")
            })
    }
}

/// Runs an experiment's body and maps the outcome to an exit code.
///
/// Before the body: logging in seed 001's format ([`logging::init`]) and
/// `--fast` ([`pace::set_fast`]). After it: the run's named objects are
/// settled ([`owner::end_run`]); a standard output closed by its reader
/// (`exp7-pipe | head -1`: [`crate::Error::OutputClosed`]) ends the program
/// quietly with 0; any other error is printed as `program: message` on
/// stderr and ends the program with [`crate::Error::exit_code`] (2 for bad
/// input, 1 otherwise), and so does a line that could not be written to
/// standard error ([`logging::failure`]).
pub fn run(program: &str, common: &Common, body: impl FnOnce() -> Result<()>) -> ExitCode {
    crate::bus::set_label(program);
    logging::init();
    pace::set_fast(common.fast);
    let outcome = catch_unwind(AssertUnwindSafe(|| body().and_then(|()| output::flush())));
    owner::end_run();
    let error = match outcome {
        Ok(Ok(())) => match logging::failure() {
            None => return ExitCode::SUCCESS,
            Some(error) => error,
        },
        Ok(Err(error)) => error,
        Err(payload) => resume_unwind(payload),
    };
    let code = error.exit_code();
    if code != 0 {
        let _ = writeln!(std::io::stderr(), "{program}: {error}");
    }
    ExitCode::from(code as u8)
}
