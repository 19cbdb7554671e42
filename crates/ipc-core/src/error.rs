//! One error type for the whole library.
//!
//! Every failure names what failed and on which object, so that a message
//! such as `shm_open /ipc-lab-x: File exists` tells a student exactly which
//! call to look up in its man page.
//!
//! This module is a leaf: it depends on no other module of the crate, so
//! that every layer can use it. [`ExitStatus`], how a child process ended,
//! lives here because [`Error::ChildFailed`] carries one.

use std::fmt;

use nix::errno::Errno;
use nix::sys::signal::Signal;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in ipc-core.
///
/// The variants are precise so that callers can react to one case (a name
/// that does not exist, a dead lock owner) without parsing messages.
/// [`Error::exit_code`] maps each variant to the exit code the experiments
/// use: 2 for bad input, 1 for a failure at run time.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed.
    Sys {
        /// The call, as in its man page (`shm_open`, `mmap`, `fork`).
        call: &'static str,
        /// The object it was called on (`/ipc-lab-counter`), if any.
        object: Option<String>,
        /// What the kernel said.
        errno: Errno,
    },
    /// A name was rejected before any system call was made.
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An argument was out of its allowed range.
    InvalidArgument(String),
    /// An existing object is smaller than what the caller needs.
    TooSmall {
        /// The object (`/ipc-lab-counter`).
        object: String,
        /// How many bytes the caller needs.
        needed: usize,
        /// How many bytes the object has.
        actual: usize,
    },
    /// The holder of a robust lock died while holding it. The lock was
    /// acquired by somebody else afterwards and must be made consistent.
    OwnerDied,
    /// A robust lock whose dead holder's state was never repaired; it can
    /// never be locked again.
    NotRecoverable,
    /// A blocking call was interrupted by SIGINT or SIGTERM (see
    /// `signal`).
    Interrupted,
    /// A bounded wait ran out.
    Timeout,
    /// A call that was asked not to wait would have had to: a lock held by
    /// somebody else for a `try_lock`, a full or empty queue for a
    /// non-blocking put or get. Distinct from [`Error::Timeout`], where the
    /// caller did wait.
    WouldBlock,
    /// A message could not be encoded or decoded.
    Message(String),
    /// A message is larger than the limit of the channel.
    MessageTooLarge {
        /// The size of the message in bytes.
        size: usize,
        /// The largest size the channel accepts.
        limit: usize,
    },
    /// The other end of a channel is gone.
    Disconnected,
    /// A request above a limit the system sets, checked before the call
    /// that would have failed (see `mqueue::Limits`).
    Limit {
        /// What was asked for (`a message queue capacity (mq_maxmsg)`).
        what: &'static str,
        /// How much was asked for.
        requested: usize,
        /// The most the system allows.
        limit: usize,
        /// The file that sets the limit (`/proc/sys/fs/mqueue/msg_max`).
        file: &'static str,
    },
    /// `fork` was refused because the process has several threads: the
    /// child would inherit only the calling thread, and any lock another
    /// thread held would stay locked forever.
    MultiThreaded {
        /// How many threads the process has.
        threads: usize,
    },
    /// A child process ended with a failure.
    ChildFailed {
        /// The child's name, as given to `Process::spawn`.
        name: String,
        /// Its exit status.
        status: ExitStatus,
    },
    /// An existing object belongs to somebody else, or is not what it
    /// should be: it is not used (see the `owner` module).
    Untrusted {
        /// The object (`/tmp/ipc-lab-exp3-fifo`, `/ipc-lab-counter`).
        object: String,
        /// What is wrong with it (`belongs to uid 65534, not to you`).
        reason: String,
    },
    /// A named object this process uses but did not make was removed: the
    /// run that made it has ended (see `SharedMemory::is_removed`).
    Removed {
        /// The object (`/ipc-lab-counter`).
        object: String,
    },
    /// Writing to standard output or standard error failed for a reason
    /// other than a closed pipe (`No space left on device` for
    /// `> /dev/full`).
    Output {
        /// `standard output` or `standard error`.
        stream: &'static str,
        /// What the kernel said.
        errno: Errno,
    },
    /// Standard output is a pipe whose reader has gone (`| head -1`): the
    /// program should stop quietly, with exit code 0.
    OutputClosed,
    /// A barrier is broken (Python's `BrokenBarrierError`): the round
    /// cannot complete, and every wait on it fails until it is reset.
    BrokenBarrier {
        /// Why it broke: `aborted`, `a party timed out`, `a party died`,
        /// `reset while parties waited`.
        why: &'static str,
    },
    /// A bounded semaphore was released more times than it was acquired
    /// (Python's `ValueError: semaphore or lock released too many times`),
    /// or a semaphore's value would have passed `u32::MAX`.
    TooManyReleases {
        /// The most the semaphore's value may be.
        limit: u32,
    },
    /// `task_done` was called on a joinable queue more times than tasks
    /// were put on it (Python's `ValueError: task_done() called too many
    /// times`); the count of unfinished tasks stays at zero.
    TaskDoneTooManyTimes,
    /// One task of a process pool failed (Python's `Pool.map` re-raising
    /// the worker's exception): its function returned an error or
    /// panicked, or the worker running it died. The pool goes on with the
    /// other tasks (see `pool`).
    TaskFailed {
        /// The task's index among the items of its call (0 for
        /// `apply_async`).
        index: usize,
        /// What went wrong: the function's error, `panicked at …`, or how
        /// its worker ended.
        message: String,
    },
    /// The authkey handshake of a connection failed (Python's
    /// `multiprocessing.AuthenticationError`): the other side's authkey
    /// differs, it did not answer in time, or it does not speak the
    /// handshake (see `connection`). The reason names the step.
    Authentication(String),
}

impl Error {
    /// A failed system call on an object.
    pub fn sys(call: &'static str, object: impl Into<String>, errno: Errno) -> Self {
        Error::Sys {
            call,
            object: Some(object.into()),
            errno,
        }
    }

    /// A failed system call that has no object to name.
    pub fn call(call: &'static str, errno: Errno) -> Self {
        Error::Sys {
            call,
            object: None,
            errno,
        }
    }

    /// The errno of a failed system call, if that is what this error is.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Sys { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// True when a named object does not exist (`ENOENT`).
    pub fn is_not_found(&self) -> bool {
        self.errno() == Some(Errno::ENOENT)
    }

    /// The exit code an experiment should end with for this error:
    /// 0 for a closed standard output ([`Error::OutputClosed`], a quiet
    /// end), 2 for bad input (a bad name or argument, a request above a
    /// system limit), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::OutputClosed => 0,
            Error::InvalidName { .. } | Error::InvalidArgument(_) | Error::Limit { .. } => 2,
            _ => 1,
        }
    }

    /// The error of a failed write to `stream`: [`Error::OutputClosed`]
    /// for a reader that has gone (`EPIPE`), [`Error::Output`] otherwise.
    pub fn output(stream: &'static str, error: &std::io::Error) -> Self {
        match error.raw_os_error().map(Errno::from_raw) {
            Some(Errno::EPIPE) => Error::OutputClosed,
            Some(errno) => Error::Output { stream, errno },
            None => Error::Output {
                stream,
                errno: Errno::EIO,
            },
        }
    }
}

/// How a child process ended, in the terms of Python's
/// `Process.exitcode`.
///
/// `code()` is the exit code for a child that exited, or minus the signal
/// number for one that a signal killed (`-9` after SIGKILL).
///
/// ```
/// use ipc_core::ExitStatus;
/// assert_eq!(ExitStatus::from_code(-9).to_string(), "was killed by SIGKILL");
/// assert_eq!(ExitStatus::from_code(3).to_string(), "exited with code 3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(i32);

impl ExitStatus {
    /// The status of Python-like code `code`: an exit code, or `-SIGNAL`.
    pub fn from_code(code: i32) -> Self {
        ExitStatus(code)
    }

    /// The Python-like exit code: `0`, `1`, … or `-SIGNAL`.
    pub fn code(self) -> i32 {
        self.0
    }

    /// True for exit code 0.
    pub fn success(self) -> bool {
        self.0 == 0
    }

    /// The signal that killed the child, if one did.
    pub fn signal(self) -> Option<Signal> {
        if self.0 < 0 {
            Signal::try_from(-self.0).ok()
        } else {
            None
        }
    }
}

impl From<std::process::ExitStatus> for ExitStatus {
    /// The status of a program run with [`std::process::Command`]: its exit
    /// code, or minus the signal that killed it.
    fn from(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitStatus(code),
            (None, Some(signal)) => ExitStatus(-signal),
            // Neither an exit nor a signal: a stopped or continued child,
            // which `wait` does not report without WUNTRACED.
            (None, None) => ExitStatus(1),
        }
    }
}

impl fmt::Display for ExitStatus {
    /// `was killed by SIGKILL`, `exited with code 1`: what follows a
    /// process's name in a sentence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal() {
            Some(signal) => write!(f, "was killed by {signal}"),
            None if self.0 < 0 => write!(f, "was killed by signal {}", -self.0),
            None => write!(f, "exited with code {}", self.0),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sys {
                call,
                object: Some(object),
                errno,
            } => write!(f, "{call} {object}: {}", errno.desc()),
            Error::Sys {
                call,
                object: None,
                errno,
            } => write!(f, "{call}: {}", errno.desc()),
            Error::InvalidName { name, reason } => write!(f, "invalid name {name:?}: {reason}"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::TooSmall {
                object,
                needed,
                actual,
            } => write!(
                f,
                "{object}: has {actual} bytes, but {needed} bytes are needed"
            ),
            Error::OwnerDied => f.write_str("lock: the previous owner died while holding it"),
            Error::NotRecoverable => f.write_str(
                "lock: not recoverable (its owner died and the state was never made consistent)",
            ),
            Error::Interrupted => f.write_str("interrupted by a signal"),
            Error::Timeout => f.write_str("timed out"),
            Error::WouldBlock => f.write_str("would have to wait (asked not to)"),
            Error::Message(what) => write!(f, "message: {what}"),
            Error::MessageTooLarge { size, limit } => {
                write!(
                    f,
                    "message of {size} bytes is larger than the limit of {limit} bytes"
                )
            }
            Error::Disconnected => f.write_str("the other end is gone"),
            Error::Limit {
                what,
                requested,
                limit,
                file,
            } => write!(
                f,
                "{what} of {requested} is above the system limit of {limit} ({file})"
            ),
            Error::MultiThreaded { threads } => write!(
                f,
                "fork: refused in a process with {threads} threads (fork only from a single-threaded program)"
            ),
            Error::ChildFailed { name, status } => write!(f, "{name} {status}"),
            Error::Untrusted { object, reason } => write!(f, "{object} {reason}: not using it"),
            Error::Removed { object } => write!(
                f,
                "{object} was removed: the run that made it has ended (or `scripts/clean.sh` removed it)"
            ),
            Error::Output { stream, errno } => {
                write!(f, "writing to {stream}: {}", errno.desc())
            }
            Error::OutputClosed => f.write_str("standard output was closed by its reader"),
            Error::BrokenBarrier { why } => write!(f, "barrier broken: {why}"),
            Error::TooManyReleases { limit } => write!(
                f,
                "semaphore released too many times (its value may not exceed {limit})"
            ),
            Error::TaskDoneTooManyTimes => f.write_str(
                "JoinableQueue::task_done: called too many times (more than tasks were put)",
            ),
            Error::TaskFailed { index, message } => write!(f, "task {index} failed: {message}"),
            Error::Authentication(why) => write!(f, "authentication failed: {why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sys { errno, .. } | Error::Output { errno, .. } => Some(errno),
            _ => None,
        }
    }
}

/// One step of an iteration that lasts until the end of a stream
/// ([`Error::Disconnected`]), shared by the `iter()` of pipes and queues:
/// nothing once `*done`; the end is no item; any other error is yielded
/// once, and ends the iteration too.
pub(crate) fn until_disconnected<T>(
    done: &mut bool,
    next: impl FnOnce() -> Result<T>,
) -> Option<Result<T>> {
    if *done {
        return None;
    }
    match next() {
        Ok(item) => Some(Ok(item)),
        Err(Error::Disconnected) => {
            *done = true;
            None
        }
        Err(error) => {
            *done = true;
            Some(Err(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_call_and_the_object() {
        let e = Error::sys("shm_open", "/ipc-lab-x", Errno::EEXIST);
        assert_eq!(e.to_string(), "shm_open /ipc-lab-x: File exists");
        assert_eq!(e.exit_code(), 1);
        assert!(!e.is_not_found());
    }

    #[test]
    fn a_call_without_object() {
        assert_eq!(
            Error::call("fork", Errno::EPERM).to_string(),
            "fork: Operation not permitted"
        );
    }

    #[test]
    fn bad_input_exits_with_two() {
        let e = Error::InvalidName {
            name: "a/b".into(),
            reason: "contains '/'",
        };
        assert_eq!(e.exit_code(), 2);
        assert_eq!(e.to_string(), "invalid name \"a/b\": contains '/'");
        assert!(Error::sys("shm_open", "/ipc-lab-y", Errno::ENOENT).is_not_found());
    }

    #[test]
    fn a_program_run_by_std_ends_the_same_way_in_words() {
        let status = |script: &str| -> ExitStatus {
            std::process::Command::new("sh")
                .args(["-c", script])
                .status()
                .expect("sh")
                .into()
        };
        assert_eq!(status("exit 3").to_string(), "exited with code 3");
        assert_eq!(status("kill -9 $$").to_string(), "was killed by SIGKILL");
        assert_eq!(status("kill -9 $$").code(), -9);
        assert!(status("true").success());
    }

    #[test]
    fn a_dead_child_is_named_with_how_it_ended() {
        let e = Error::ChildFailed {
            name: "process1".into(),
            status: ExitStatus::from_code(-9),
        };
        assert_eq!(e.to_string(), "process1 was killed by SIGKILL");
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn output_errors_tell_a_closed_pipe_from_a_full_disk() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let e = Error::output("standard output", &full);
        assert_eq!(
            e.to_string(),
            "writing to standard output: No space left on device"
        );
        assert_eq!(e.exit_code(), 1);
        let closed = std::io::Error::from_raw_os_error(libc::EPIPE);
        assert!(matches!(
            Error::output("standard output", &closed),
            Error::OutputClosed
        ));
        assert_eq!(Error::OutputClosed.exit_code(), 0);
    }

    #[test]
    fn synchronisation_errors_say_what_happened() {
        let e = Error::BrokenBarrier {
            why: "a party died",
        };
        assert_eq!(e.to_string(), "barrier broken: a party died");
        assert_eq!(e.exit_code(), 1);
        let e = Error::TooManyReleases { limit: 2 };
        assert_eq!(
            e.to_string(),
            "semaphore released too many times (its value may not exceed 2)"
        );
    }

    #[test]
    fn would_block_is_not_a_timeout() {
        assert_ne!(Error::WouldBlock.to_string(), Error::Timeout.to_string());
    }

    #[test]
    fn a_limit_names_its_file_and_is_bad_input() {
        let e = Error::Limit {
            what: "a message queue capacity (mq_maxmsg)",
            requested: 11,
            limit: 10,
            file: "/proc/sys/fs/mqueue/msg_max",
        };
        assert_eq!(
            e.to_string(),
            "a message queue capacity (mq_maxmsg) of 11 is above the system limit of 10 \
             (/proc/sys/fs/mqueue/msg_max)"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
