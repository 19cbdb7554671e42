//! Printing a lab's lines without ever panicking: [`say!`](crate::say).
//!
//! `println!` panics when standard output cannot be written: with
//! `exp7-shm > /dev/full` the program dies with "failed printing to
//! stdout: No space left on device" (exit code 101), and with
//! `exp7-pipe | head -1` a child dies the same way once `head` has gone.
//! [`say!`](crate::say) prints a line like `println!` but returns a
//! [`Result`]: [`Error::OutputClosed`] when the reader of a pipe has gone
//! (`EPIPE`, which [`run`](crate::run) turns into a quiet exit with code 0), and
//! [`Error::Output`] for any other failure (a message and exit code 1).
//! With `--trace`, the line is also recorded in the run's timeline.
//!
//! ```
//! use ipc_cli::say;
//!
//! fn square_sum(list: &[i32]) -> ipc_core::Result<()> {
//!     say!("Sum of squares: {}", list.iter().map(|x| x * x).sum::<i32>())?;
//!     Ok(())
//! }
//! square_sum(&[1, 2, 3, 4]).unwrap();
//! ```

use std::fmt;
use std::io::Write;

use ipc_core::{Error, Result, trace};

/// Prints a line on standard output, like `println!`, and returns
/// `ipc_core::Result<()>` instead of panicking (see [`crate::output`]).
///
/// The line goes out in one `write(2)` (standard output is line-buffered),
/// so lines of several processes never mix.
#[macro_export]
macro_rules! say {
    () => {
        $crate::output::line(::std::format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(::std::format_args!($($arg)*))
    };
}

/// Prints a line on standard error, like `eprintln!`, but in one
/// `write(2)`, so that the lines of several processes never mix (which
/// `eprintln!`, writing each piece as it comes, does not promise). A
/// failure to write is remembered, as for log lines
/// ([`crate::logging::failure`]): nothing is left to tell.
#[macro_export]
macro_rules! say_err {
    ($($arg:tt)*) => {
        $crate::output::error_line(::std::format_args!($($arg)*))
    };
}

/// Writes `args` and a newline to standard error in one `write(2)`. What
/// [`say_err!`](crate::say_err) calls.
pub fn error_line(args: fmt::Arguments<'_>) {
    let mut line = args.to_string();
    line.push('\n');
    trace::print(line.trim_end());
    crate::logging::write_stderr(line.as_bytes());
}

/// Writes `args` and a newline to standard output, and records the line in
/// the run's trace. What [`say!`](crate::say) calls.
///
/// # Errors
/// [`Error::OutputClosed`] when standard output is a pipe whose reader has
/// gone; [`Error::Output`] for any other failed write.
pub fn line(args: fmt::Arguments<'_>) -> Result<()> {
    trace::print(args);
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|error| Error::output("standard output", &error))
}

/// Writes `args` to standard output without a newline, as Python's
/// `print(x, end=" ")` does; the line is finished by the next
/// [`say!`](crate::say).
///
/// # Errors
/// As [`line()`].
pub fn part(args: fmt::Arguments<'_>) -> Result<()> {
    std::io::stdout()
        .lock()
        .write_fmt(args)
        .map_err(|error| Error::output("standard output", &error))
}

/// Flushes standard output.
///
/// # Errors
/// As [`line()`].
pub fn flush() -> Result<()> {
    std::io::stdout()
        .flush()
        .map_err(|error| Error::output("standard output", &error))
}
