//! Log lines in the format of Python's `logging.basicConfig`.
//!
//! Seed 001 logs with Python's default format, `LEVEL:logger:message`,
//! to standard error. [`init`] sets `env_logger` up the same way; the
//! logger's name is the `log` target:
//!
//! ```
//! ipc_cli::logging::init();
//! log::info!(target: "process1", "Pid: {}", std::process::id());
//! // stderr: INFO:process1:Pid: 2796
//! ```
//!
//! The level is `info` unless `RUST_LOG` says otherwise (`RUST_LOG=warn`
//! silences the info lines). Each line goes out in a single `write(2)`, so
//! lines from several processes never mix. A line that cannot be written
//! (standard error on a full disk) is remembered: [`failure`] reports it,
//! and [`run`](crate::run) ends the program with exit code 1 instead of pretending
//! all went well. Each line is also recorded in the run's `--trace`.

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;

use ipc_core::{Error, trace};

/// The errno of the first failed write to standard error, 0 if none.
static FAILED: AtomicI32 = AtomicI32::new(0);

/// Starts logging to standard error as `LEVEL:target:message`. Calling it
/// twice is harmless.
pub fn init() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|out, record| {
            writeln!(
                out,
                "{}:{}:{}",
                record.level(),
                record.target(),
                record.args()
            )
        })
        .target(env_logger::Target::Pipe(Box::new(Stderr)))
        .try_init();
}

/// The failure of a write to standard error, if one failed (a reader that
/// has gone does not count: nobody is left to read the lines).
pub fn failure() -> Option<Error> {
    match FAILED.load(Ordering::Relaxed) {
        0 => None,
        errno => Some(Error::Output {
            stream: "standard error",
            errno: Errno::from_raw(errno),
        }),
    }
}

/// Writes `bytes` to standard error with one `write_all` (one `write(2)`
/// for a line), remembering a failure ([`failure`]).
pub(crate) fn write_stderr(bytes: &[u8]) {
    if let Err(error) = std::io::stderr().write_all(bytes) {
        remember(&error);
    }
}

fn remember(error: &std::io::Error) {
    if let Some(errno) = error.raw_os_error()
        && errno != libc::EPIPE
    {
        let _ = FAILED.compare_exchange(0, errno, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// Standard error, remembering a failed write instead of hiding it.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        trace::print(String::from_utf8_lossy(buf).trim_end());
        let written = std::io::stderr().write(buf);
        if let Err(error) = &written {
            remember(error);
        }
        written
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
