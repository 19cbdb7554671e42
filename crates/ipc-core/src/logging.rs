//! Log lines in the format of Python's `logging.basicConfig`.
//!
//! Seed 001 logs with Python's default format, `LEVEL:logger:message`,
//! to standard error. [`init`] sets `env_logger` up the same way; the
//! logger's name is the `log` target:
//!
//! ```
//! ipc_core::logging::init();
//! log::info!(target: "process1", "Pid: {}", std::process::id());
//! // stderr: INFO:process1:Pid: 2796
//! ```
//!
//! The level is `info` unless `RUST_LOG` says otherwise (`RUST_LOG=warn`
//! silences the info lines). Each line goes out in a single `write(2)`, so
//! lines from several processes never mix.

use std::io::Write;

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
        .try_init();
}
