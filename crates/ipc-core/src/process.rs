//! Child processes that run a closure, like Python's `multiprocessing.Process`.
//!
//! [`Process::spawn`] forks (`fork(2)`); the child runs the closure and ends
//! with `_exit(2)`, so it never returns into the parent's code and never runs
//! the parent's destructors (which would, for instance, unlink the parent's
//! shared memory). Everything the closure captured is a copy in the child,
//! except memory that was mapped shared before the fork: that is how
//! [`crate::Value`] and [`crate::Array`] reach the child.
//!
//! Exit statuses read like Python's `Process.exitcode`: `0`, `1`, or
//! `-SIGNAL` for a child killed by a signal ([`ExitStatus`]).
//!
//! ```
//! use ipc_core::{Process, Value};
//!
//! let v = Value::new(0.0_f64).unwrap();
//! let mut p = Process::spawn("p1", {
//!     let v = v.clone();
//!     move || v.set(2.678)
//! })
//! .unwrap();
//! assert_eq!(p.join().unwrap().code(), 0);
//! assert_eq!(v.get().unwrap(), 2.678);
//! ```

use std::any::Any;
use std::fmt;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};

use crate::blocking::{self, Deadline};
pub use crate::error::ExitStatus;
use crate::error::{Error, Result};
use crate::ready::Waitable;
use crate::{os, signal};

/// The exit code of a child whose closure panicked (Rust's own convention).
pub const PANIC_EXIT_CODE: i32 = 101;

/// How long a child asked to end with SIGTERM (by [`Drop`], or by
/// [`join_all`] after a sibling failed) has before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// What a child's closure returns, turned into its exit code.
///
/// `()` exits with 0; an `i32` is the exit code itself; a `Result` exits
/// with the code of its `Ok` value, or prints the error on stderr, prefixed
/// with the child's name, and exits with 1.
pub trait Outcome {
    /// The exit code, after reporting a failure on stderr.
    fn exit_code(self, name: &str) -> i32;
}

impl Outcome for () {
    fn exit_code(self, _name: &str) -> i32 {
        0
    }
}

impl Outcome for i32 {
    fn exit_code(self, _name: &str) -> i32 {
        self
    }
}

impl<T: Outcome, E: fmt::Display + 'static> Outcome for std::result::Result<T, E> {
    fn exit_code(self, name: &str) -> i32 {
        match self {
            Ok(value) => value.exit_code(name),
            // Standard output closed early (`| head`): a quiet end, as in
            // the parent (see `ipc_cli::run`).
            Err(error)
                if matches!(
                    (&error as &dyn Any).downcast_ref(),
                    Some(Error::OutputClosed)
                ) =>
            {
                0
            }
            Err(error) => {
                report(format_args!("{name}: {error}"));
                1
            }
        }
    }
}

/// A child process running a closure.
///
/// Join it with [`Process::join`]. A `Process` dropped while its child still
/// runs sends the child SIGTERM, waits up to a second, then sends SIGKILL
/// and reaps it: no zombie is left behind, but the child's work is cut short,
/// so join the children you start.
#[derive(Debug)]
pub struct Process {
    name: String,
    pid: Pid,
    /// The process that forked the child: only it may wait for or kill it.
    parent: Pid,
    /// A `pidfd_open(2)` descriptor that becomes readable when the child ends.
    pidfd: OwnedFd,
    status: Option<ExitStatus>,
    /// When this process saw the child's end, to tell which of several
    /// failed children failed first.
    ended: Option<Instant>,
    /// True once `join_all` asked it to end because a sibling failed: its
    /// own end is then no failure of its own.
    stopped: bool,
}

impl Process {
    /// Forks a child named `name` that runs `target` and exits.
    ///
    /// Standard output and standard error are flushed before the fork, so
    /// that nothing written before it is printed twice, and again before the
    /// child exits. A panic in `target` prints its message (one line, never
    /// a backtrace) and ends the child with [`PANIC_EXIT_CODE`]; an
    /// [`Error::OutputClosed`] (standard output closed by its reader) ends
    /// it quietly with 0. If the parent dies, the child gets SIGTERM
    /// (`PR_SET_PDEATHSIG`, see `prctl(2)`) instead of living on.
    ///
    /// # Errors
    /// [`Error::MultiThreaded`] if the calling process has more than one
    /// thread (forking copies only the calling thread, and a lock held by
    /// another one would stay locked forever in the child); [`Error::Sys`]
    /// naming `fork` or `pidfd_open`.
    pub fn spawn<F, R>(name: impl Into<String>, target: F) -> Result<Process>
    where
        F: FnOnce() -> R,
        R: Outcome,
    {
        let name = name.into();
        let threads = os::thread_count();
        if threads > 1 {
            return Err(Error::MultiThreaded { threads });
        }
        os::flush_stdio();
        let parent = getpid();
        // The child's spawn in a --trace timeline is dated here, before
        // the fork: ahead of whatever this process does next.
        let forked_at = crate::trace::fork_time();
        // SAFETY: the process has a single thread (checked above), so the
        // child cannot inherit a lock held by another thread; the child
        // leaves only through `_exit`, never returning into the caller.
        match unsafe { fork() } {
            Err(errno) => Err(Error::sys("fork", name, errno)),
            Ok(ForkResult::Child) => run_child(&name, parent, forked_at, target),
            Ok(ForkResult::Parent { child }) => match pidfd_open(child) {
                Ok(pidfd) => Ok(Process {
                    name,
                    pid: child,
                    parent,
                    pidfd,
                    status: None,
                    ended: None,
                    stopped: false,
                }),
                Err(errno) => {
                    let _ = kill(child, Signal::SIGKILL);
                    let _ = waitpid(child, None);
                    Err(Error::sys("pidfd_open", name, errno))
                }
            },
        }
    }

    /// The name given to [`Process::spawn`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// How the child ended, once it has been joined.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.status
    }

    /// Waits for the child to end and returns how it ended.
    ///
    /// Joining twice returns the same status. SIGINT and SIGTERM do not cut
    /// the wait short: use [`join_all`] to pass them on to the children.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `waitpid` (for instance when called from a
    /// process that is not the child's parent).
    pub fn join(&mut self) -> Result<ExitStatus> {
        loop {
            if let Some(status) = self.join_by(Deadline::NEVER)? {
                return Ok(status);
            }
        }
    }

    /// Waits for the child to end and turns a failure into an error that
    /// names the child: what a parent usually wants.
    ///
    /// # Errors
    /// [`Error::ChildFailed`] with the child's name and status when it did
    /// not exit with 0; otherwise as [`Process::join`].
    pub fn join_ok(&mut self) -> Result<()> {
        let status = self.join()?;
        self.check(status)
    }

    fn check(&self, status: ExitStatus) -> Result<()> {
        if status.success() {
            Ok(())
        } else {
            Err(Error::ChildFailed {
                name: self.name.clone(),
                status,
            })
        }
    }

    /// Waits up to `timeout` for the child to end; `Ok(None)` if it still
    /// runs then.
    ///
    /// # Errors
    /// As [`Process::join`].
    ///
    /// Any timeout is accepted: one too large for the clock
    /// ([`Duration::MAX`]) waits as long as it takes.
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        self.join_by(Deadline::after(timeout))
    }

    /// Waits until `deadline` for the child to end: `poll(2)` on its pidfd,
    /// a slice at a time ([`Deadline::slice`]). A signal does not end the
    /// wait.
    fn join_by(&mut self, deadline: Deadline) -> Result<Option<ExitStatus>> {
        loop {
            if let Some(status) = self.try_join()? {
                return Ok(Some(status));
            }
            if deadline.has_passed() {
                return Ok(None);
            }
            // Rounded up: a wait of less than a millisecond still waits.
            let ms = deadline.slice().as_micros().div_ceil(1000);
            let timeout = PollTimeout::try_from(ms as i32).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.pidfd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(errno) => return Err(Error::sys("poll", self.describe(), errno)),
            }
        }
    }

    /// Reaps the child if it has ended, without waiting.
    ///
    /// # Errors
    /// As [`Process::join`].
    pub fn try_join(&mut self) -> Result<Option<ExitStatus>> {
        if self.status.is_some() {
            return Ok(self.status);
        }
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(status) => {
                    self.status = from_wait(status);
                    if let Some(status) = self.status {
                        self.ended = Some(Instant::now());
                        crate::trace::joined(self.pid.as_raw(), &self.name, status.code());
                    }
                    return Ok(self.status);
                }
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(Error::sys("waitpid", self.describe(), errno)),
            }
        }
    }

    /// True while the child has not ended (it is reaped if it has).
    ///
    /// # Errors
    /// As [`Process::join`].
    pub fn is_alive(&mut self) -> Result<bool> {
        Ok(self.try_join()?.is_none())
    }

    /// Sends `signal` to the child, unless it has already been joined.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `kill`.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        kill(self.pid, signal).map_err(|errno| Error::sys("kill", self.describe(), errno))
    }

    /// Asks the child to end with SIGTERM (Python's `terminate()`).
    ///
    /// # Errors
    /// As [`Process::signal`].
    pub fn terminate(&self) -> Result<()> {
        self.signal(Signal::SIGTERM)
    }

    /// Ends the child with SIGKILL (Python's `kill()`).
    ///
    /// # Errors
    /// As [`Process::signal`].
    pub fn kill(&self) -> Result<()> {
        self.signal(Signal::SIGKILL)
    }

    fn describe(&self) -> String {
        format!("{} (pid {})", self.name, self.pid)
    }

    /// A descriptor that becomes ready to read when the child ends
    /// (Python's `Process.sentinel`): a copy of the child's `pidfd_open(2)`
    /// descriptor, for [`crate::ready::wait`] among pipes and queues. It
    /// stays valid after the child is joined (and is then ready), and
    /// never refers to another process that reuses the pid.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ipc_core::{Event, Process, ready};
    ///
    /// let go = Event::new().unwrap();
    /// let mut child = Process::spawn("child", || go.wait_timeout(Duration::from_secs(10))).unwrap();
    /// let sentinel = child.sentinel().unwrap();
    /// assert!(ready::wait(&[&sentinel], Some(Duration::ZERO)).unwrap().is_empty(), "still running");
    /// go.set().unwrap();
    /// assert_eq!(ready::wait(&[&sentinel], Some(Duration::from_secs(10))).unwrap(), [0]);
    /// assert!(child.join().unwrap().success());
    /// ```
    ///
    /// # Errors
    /// [`Error::Sys`] naming `fcntl F_DUPFD_CLOEXEC` and the child
    /// (`EMFILE`: too many open files).
    pub fn sentinel(&self) -> Result<OwnedFd> {
        self.pidfd.try_clone().map_err(|e| {
            Error::sys(
                "fcntl F_DUPFD_CLOEXEC",
                self.describe(),
                Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            )
        })
    }
}

impl Waitable for Process {
    /// The child's `pidfd_open(2)` descriptor: ready once the child ends
    /// (see [`Process::sentinel`]).
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.pidfd.as_fd())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A copy of this handle inside a child (captured by its closure)
        // must leave its sibling alone.
        if self.parent != getpid() || self.status.is_some() {
            return;
        }
        if matches!(self.try_join(), Ok(Some(_))) {
            return;
        }
        let _ = self.terminate();
        if matches!(self.join_timeout(STOP_GRACE), Ok(Some(_))) {
            return;
        }
        let _ = self.kill();
        let _ = self.join();
    }
}

/// Joins every child, passing SIGINT or SIGTERM on to those still running,
/// and stopping the others when one fails.
///
/// Ctrl-C in a terminal reaches the whole process group, but `kill PID`
/// reaches the parent alone. After [`signal::install`], the parent's flag is
/// set and this function sends the children the same signal (once), then
/// goes on waiting, so that every child can print its last line and end.
///
/// A child that fails (a non-zero exit code, or killed by a signal) while
/// its siblings still run may leave them waiting for it for ever: a reader
/// polling for data its dead writer will never write. So the siblings are
/// then asked to end (SIGTERM), and killed (SIGKILL) if they have not
/// within a second; [`join_all_ok`] names the child that failed first:
/// `process1 was killed by SIGKILL`. A parent that must let the others go
/// on (a server outliving a client that died) uses [`join_all_with`] and
/// [`OnFailure::LetOthersRun`].
///
/// # Errors
/// As [`Process::join`].
pub fn join_all(children: &mut [Process]) -> Result<Vec<ExitStatus>> {
    join_all_with(children, OnFailure::StopOthers, |_| {})
}

/// What [`join_all_with`] does when a child fails while others still run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Ask the others to end (SIGTERM, SIGKILL a second later): they may
    /// be waiting for the one that failed. What [`join_all`] does.
    StopOthers,
    /// Let them run: they do not depend on it (a server and its other
    /// clients, when one client dies).
    LetOthersRun,
}

/// As [`join_all`], doing `on_failure` when a child fails while others
/// still run, and calling `meanwhile` with the children every
/// [`blocking::JOIN_INTERVAL`] while any of them still runs ([`Process::exit_status`] tells which have
/// ended).
///
/// For a parent that must act when one child ends before the others: in
/// `exp3-fifo`, a child that died before opening the FIFO would leave the
/// other waiting for it in `open` for ever, unless the parent lets it
/// through ([`crate::Fifo::release_waiters`]); in `exp3-clientserver`, the
/// server goes on serving when a client dies.
///
/// # Errors
/// As [`Process::join`].
pub fn join_all_with(
    children: &mut [Process],
    on_failure: OnFailure,
    mut meanwhile: impl FnMut(&[Process]),
) -> Result<Vec<ExitStatus>> {
    let mut forwarded = false;
    // Once the others were asked to end: when they get SIGKILL.
    let mut stopping: Option<Deadline> = None;
    loop {
        let mut running = false;
        for child in children.iter_mut() {
            if child.try_join()?.is_none() {
                running = true;
            }
        }
        if !running {
            return Ok(children.iter().filter_map(|c| c.status).collect());
        }
        if !forwarded && let Some(sig) = signal::pending() {
            for child in children.iter() {
                let _ = child.signal(sig);
            }
            forwarded = true;
        }
        match stopping {
            None if on_failure == OnFailure::StopOthers
                && children
                    .iter()
                    .any(|c| c.status.is_some_and(|s| !s.success())) =>
            {
                for child in children.iter_mut() {
                    if child.status.is_none() {
                        child.stopped = true;
                        let _ = child.terminate();
                    }
                }
                stopping = Some(Deadline::after(STOP_GRACE));
            }
            Some(grace) if grace.has_passed() => {
                for child in children.iter() {
                    let _ = child.kill();
                }
            }
            _ => {}
        }
        meanwhile(children);
        if let Some(child) = children.iter_mut().find(|c| c.status.is_none()) {
            child.join_timeout(blocking::JOIN_INTERVAL)?;
        }
    }
}

/// [`join_all`], then the child that failed first as an error.
///
/// # Errors
/// [`Error::ChildFailed`] naming the first child that did not exit with 0
/// (the one whose failure made [`join_all`] stop its siblings; of several
/// reaped in the same look, one a signal killed); otherwise as
/// [`Process::join`].
pub fn join_all_ok(children: &mut [Process]) -> Result<()> {
    join_all(children)?;
    // A child stopped because a sibling failed did not fail by itself.
    let failed: Vec<&Process> = children
        .iter()
        .filter(|child| !child.stopped && child.status.is_some_and(|s| !s.success()))
        .collect();
    let Some(first) = failed.iter().min_by_key(|child| child.ended) else {
        return Ok(());
    };
    // Children reaped in the same look are a tie: a victim killed by a
    // signal explains the run better than a bystander that failed because
    // of it (a sibling that found the dead one's lock, say).
    let same_look = |child: &&&Process| match (child.ended, first.ended) {
        (Some(a), Some(b)) => a.duration_since(b) < blocking::JOIN_INTERVAL,
        _ => false,
    };
    let blamed = failed
        .iter()
        .filter(same_look)
        .find(|child| child.status.and_then(ExitStatus::signal).is_some())
        .unwrap_or(first);
    blamed.check(blamed.status.unwrap_or(ExitStatus::from_code(1)))
}

/// How a reaped child ended; `None` for a child that has not ended (a
/// `waitpid` with `WNOHANG` that found it running, or a stop).
fn from_wait(status: WaitStatus) -> Option<ExitStatus> {
    match status {
        WaitStatus::Exited(_, code) => Some(ExitStatus::from_code(code)),
        WaitStatus::Signaled(_, signal, _) => Some(ExitStatus::from_code(-(signal as i32))),
        _ => None,
    }
}

fn pidfd_open(pid: Pid) -> std::result::Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new file
    // descriptor or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor to us, and nothing
    // else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The child's side of [`Process::spawn`]: run, flush, `_exit`.
fn run_child<F, R>(name: &str, parent: Pid, forked_at: Option<u64>, target: F) -> !
where
    F: FnOnce() -> R,
    R: Outcome,
{
    // Die with the parent instead of living on as an orphan; the check
    // after it covers a parent that died before the call.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    crate::trace::child_started_at(name, forked_at);
    name_this_process(name);
    quiet_panics(name);
    let code = if getppid() != parent {
        1
    } else {
        match catch_unwind(AssertUnwindSafe(target)) {
            Ok(outcome) => outcome.exit_code(name),
            Err(_) => PANIC_EXIT_CODE,
        }
    };
    // A run this child started (its own named objects) ends with it.
    crate::owner::end_run();
    os::flush_stdio();
    crate::trace::exit(code);
    // SAFETY: `_exit` ends the process at once; skipping the destructors of
    // the parent's objects (copied into this child) is the point.
    unsafe { libc::_exit(code) }
}

/// A panic in a child prints its message and where it happened, without
/// a backtrace even under `RUST_BACKTRACE=1`: the parent reports the
/// child's failure (`p1 exited with code 101`), and a deliberate panic in a
/// lab must not read like a crash of the kit.
fn quiet_panics(name: &str) {
    let name = name.to_owned();
    std::panic::set_hook(Box::new(move |info| {
        report(format_args!("{name}: {}", describe_panic(info)));
    }));
}

/// A panic as one line: `panicked at src/main.rs:3: boom` (its place, if
/// known, and its message).
pub(crate) fn describe_panic(info: &std::panic::PanicHookInfo<'_>) -> String {
    let message = info
        .payload()
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| info.payload().downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!("panicked{at}: {message}")
}

/// Names the calling process in what ipc-core says by itself (`NAME:
/// /ipc-lab-x shrank under this process…`, when a segment it maps is
/// truncated under it): a forked child is named after itself, a program
/// after itself by its runner (`ipc-cli`).
pub fn name_this_process(name: &str) {
    crate::bus::set_label(name);
}

/// Writes `args` and a newline to standard error in one `write(2)` (the
/// lines of several processes never mix) and records the line in the
/// run's trace: how a child says why it failed. (A program prints its own
/// lines through `ipc-cli`.)
fn report(args: fmt::Arguments<'_>) {
    let mut line = args.to_string();
    line.push('\n');
    crate::trace::print(line.trim_end());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_read_like_python() {
        assert_eq!(ExitStatus::from_code(0).to_string(), "exited with code 0");
        assert!(ExitStatus::from_code(0).success());
        let killed = ExitStatus::from_code(-9);
        assert_eq!(killed.signal(), Some(Signal::SIGKILL));
        assert_eq!(killed.to_string(), "was killed by SIGKILL");
        assert!(!killed.success());
    }

    #[test]
    fn refuses_to_fork_a_multi_threaded_process() {
        // The test harness runs tests on threads of its own.
        let other = std::thread::spawn(|| std::thread::sleep(Duration::from_millis(200)));
        let result = Process::spawn("never", || ());
        other.join().unwrap();
        assert!(
            matches!(result, Err(Error::MultiThreaded { threads }) if threads > 1),
            "{result:?}"
        );
    }

    #[test]
    fn outcomes_become_exit_codes() {
        assert_eq!(().exit_code("x"), 0);
        assert_eq!(7.exit_code("x"), 7);
        assert_eq!(Ok::<(), String>(()).exit_code("x"), 0);
        assert_eq!(Err::<(), _>("boom").exit_code("x"), 1);
    }
}
