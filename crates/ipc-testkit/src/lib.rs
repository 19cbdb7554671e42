//! Helpers for the integration tests of the ipc-lab experiments.
//!
//! Tests run the real binaries (`env!("CARGO_BIN_EXE_exp7-shm")`) as
//! separate processes, never fork inside the multi-threaded test harness,
//! and bound every wait: a run that does not end in time is killed and the
//! test fails with everything the program printed.
//!
//! ```
//! // In a test: ipc_testkit::run(env!("CARGO_BIN_EXE_exp7-shm"), &["--fast"])
//! let run = ipc_testkit::run("sh", &["-c", "echo '[1, 4, 9, 16]'"]);
//! run.assert_code(0).assert_no_panic();
//! assert_eq!(run.stdout_lines(), ["[1, 4, 9, 16]"], "{run}");
//! ```
//!
//! | module | what |
//! | --- | --- |
//! | [`run`](mod@run) | run a binary with a bound, in the background or to the end; waits that fail at once when it ends; killed and reaped if a test drops it; assert on its output |
//! | [`procfs`] | children, zombies and survivors from `/proc`; bounded waits |
//! | [`leaks`] | objects with the `ipc-lab-` prefix, files held open, self-removing temporary directories, `scripts/clean.sh`, tests kept one at a time |
//! | [`text`] | normalise pids and numbers before comparing |
//! | [`nats`] | a NATS role's command line, started and awaited until it listens; private `nats-server`s and their directories, a local three-node cluster |
//! | [`handout`] | check an experiment's handout against a real run |
//! | [`book`] | check the mdBook's internal links, handouts included |
//! | [`scenarios`](mod@scenarios) | a single-threaded runner for library tests that fork |
//! | [`seed000`] | seed 000's lines: exp7-shm, exp7-queue, exp7-pipe and the exp7 menu that runs them |
//! | [`sources`] | the workspace's Rust sources as code: `crate::` paths, the import graph of a crate, its cycles |
//! | [`squares`] | the client/server contract of exp1-sockets and exp3-clientserver: clients' squares, the server's count |
//! | [`trace`] | check `--trace` timelines for causal consistency |
//! | [`contract`] | what every experiment keeps, one function each: its help, bad usage refused, its output to a file or a closed pipe, a killed process named, a run stopped or interrupted by a signal |
//! | [`counter`] | the shared-counter experiments (exp11-value, exp1-dsm): the target functions and the plan they print |
//! | [`evidence`] | graded checks: inputs chosen at run time, and the timeline's evidence that the work crossed the mechanism |
//! | [`unfinished`] | a starter's `todo!()` reached by a run: its hint and place, said first |
//!
//! Everything is re-exported at the top, as tests use it.

pub mod book;
pub mod contract;
pub mod counter;
pub mod evidence;
pub mod handout;
pub mod leaks;
pub mod nats;
pub mod procfs;
pub mod run;
pub mod scenarios;
pub mod seed000;
pub mod sources;
pub mod squares;
pub mod text;
pub mod trace;
pub mod unfinished;

pub use leaks::*;
pub use procfs::*;
pub use run::*;
pub use text::*;

/// Signal numbers for tests.
pub use nix::sys::signal::Signal as Sig;

/// A process id, as [`children_of`] and [`Running::pid`] give them.
pub use nix::unistd::Pid;

/// For the unit tests of the helpers: the message of the panic that
/// `outcome` caught (itself a failure if there was none).
#[cfg(test)]
#[track_caller]
pub(crate) fn panic_message<T>(outcome: std::thread::Result<T>) -> String {
    let Err(payload) = outcome else {
        panic!("no panic where one was expected");
    };
    payload
        .downcast::<String>()
        .map(|m| *m)
        .or_else(|p| p.downcast::<&str>().map(|m| m.to_string()))
        .unwrap_or_default()
}

/// As [`panic_message`], after checking that the message starts with
/// `start` (the whole message is printed otherwise).
#[cfg(test)]
#[track_caller]
pub(crate) fn panicked_saying<T>(outcome: std::thread::Result<T>, start: &str) -> String {
    let message = panic_message(outcome);
    assert!(
        message.starts_with(start),
        "expected {start:?}…, got:\n{message}"
    );
    message
}
