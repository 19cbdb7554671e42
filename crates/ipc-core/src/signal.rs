//! SIGINT and SIGTERM as a flag that loops and blocking calls notice.
//!
//! Python turns Ctrl-C into a `KeyboardInterrupt` exception. Here
//! [`install`] makes both SIGINT and SIGTERM set a process-wide flag instead
//! of killing the process; a loop asks [`interrupted`] (or sleeps with
//! [`crate::pace::sleep`], which returns [`Error::Interrupted`] within
//! [`crate::blocking::POLL_INTERVAL`] of the signal) and ends in an orderly
//! way: it prints its last line, and every IPC object is removed by its
//! owner's destructor.
//!
//! The handlers are installed without `SA_RESTART`, so a system call blocked
//! when the signal arrives returns `EINTR` (see `signal(7)`); ipc-core's
//! blocking calls then check the flag ([`crate::blocking`], the one place
//! that does). A forked child inherits the handlers
//! and sees the signals sent to it, not its parent's flag: the flag is per
//! process.
//!
//! # Signals as notifications
//!
//! A signal can also *carry* something: "data ready in slot 3". The
//! receiver then takes it synchronously, without any handler: it blocks
//! the signals it expects ([`Inbox::block`], `pthread_sigmask(3)`), so
//! that they wait as *pending* instead of running their default action,
//! and takes them one at a time with `sigtimedwait(2)`
//! ([`Inbox::next_within`]), which returns who sent what. The sender
//! queues a signal with a value ([`Notifier::send`], `sigqueue(3)`).
//!
//! Two kinds of signals behave differently when several are sent before
//! the receiver takes them (see `signal(7)`):
//!
//! * a **standard** signal ([`Signo::SIGUSR1`], [`Signo::SIGUSR2`]) is one
//!   bit of the receiver's pending set: while one is pending, more of the
//!   same are dropped, and only the first one's value arrives;
//! * a **real-time** signal ([`Signo::realtime`]: `SIGRTMIN+n`) is queued:
//!   every one arrives, in the order sent, each with its value, up to the
//!   receiver's `RLIMIT_SIGPENDING`.
//!
//! The wait is bounded by its timeout, which the kernel keeps, and it is
//! one sleep: the receiver wakes when a notice comes, not every
//! [`crate::blocking::POLL_INTERVAL`] to look at the Ctrl-C flag, as the
//! waits of the blocking layer do. While it waits, SIGINT and SIGTERM
//! are blocked and taken like the notices, so that one landing just
//! before the wait cannot be missed ([`Inbox::next_within`]).
//!
//! ```
//! use std::time::Duration;
//! use ipc_core::signal::{Inbox, Notifier, Signo};
//! use ipc_core::{Error, Process};
//!
//! // Before the fork: the child inherits the blocked set, so a signal
//! // that comes early waits for it instead of killing it.
//! let ready = Signo::realtime(0).unwrap(); // SIGRTMIN
//! let mut inbox = Inbox::block(&[ready]).unwrap();
//! let mut child = Process::spawn("reader", || -> Result<i32, Error> {
//!     let notice = inbox.wait(Duration::from_secs(10))?;
//!     Ok(notice.value().unwrap_or(-1))
//! })
//! .unwrap();
//! Notifier::new(child.pid(), ready).send(42).unwrap();
//! assert_eq!(child.join().unwrap().code(), 42);
//! ```
//!
//! Blocking is per thread: block before starting threads, which inherit
//! the mask (a thread that does not block them may take a signal sent to
//! the process, and its default action ends the process). The set stays
//! blocked when the [`Inbox`] is dropped, so a late signal stays pending
//! instead of ending the process.
//!
//! With `--trace`, every notification a [`Notifier`] sends and an
//! [`Inbox`] takes is a send and a receive on the channel `SIGNAL to pid
//! PID` (a named one, so that the traces of two programs pair up): the
//! trace's id of the message travels in the upper half of the signal's
//! 64-bit value, the caller's value in the lower half. A signal that came
//! without one (`kill -USR1` from a shell) is recorded as a signal
//! received.

use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// The number of the last SIGINT or SIGTERM received, 0 if none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// True while [`install`]'s handlers are in place: an [`Inbox`] may then
/// take SIGINT and SIGTERM itself while it waits (see
/// [`Inbox::next_within`]).
static INSTALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn record(signal: libc::c_int) {
    // Only atomic stores: async-signal-safe (so is recording it in the
    // run's trace).
    RECEIVED.store(signal, Ordering::SeqCst);
    crate::trace::signal(signal);
}

/// Makes SIGINT and SIGTERM set the flag instead of ending the process.
///
/// Call it once at the start of `main`, before forking, so that every child
/// inherits the handlers. Calling it again is harmless.
///
/// # Errors
/// [`Error::Sys`] naming `sigaction` if the kernel refuses the handler.
pub fn install() -> Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(record),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: `record` only performs an atomic store, which is
        // async-signal-safe, and it does not unwind.
        unsafe { sigaction(signal, &action) }
            .map_err(|errno| Error::sys("sigaction", signal.as_str(), errno))?;
    }
    INSTALLED.store(true, Ordering::SeqCst);
    Ok(())
}

/// The signal that set the flag, if any.
pub fn pending() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// True once SIGINT or SIGTERM has been received (after [`install`]).
pub fn interrupted() -> bool {
    pending().is_some()
}

/// `Err(Error::Interrupted)` once the flag is set, `Ok(())` before.
///
/// Handy as the first line of a loop body: `signal::check()?;`.
pub fn check() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Turns an interruption into a normal end, as the seeds' `except
/// KeyboardInterrupt:` blocks do.
///
/// For `Err(Error::Interrupted)` (a loop stopped by SIGINT or SIGTERM) it
/// calls `last_words` with the signal's name (`"SIGINT"`, `"SIGTERM"`, or
/// `"a signal"` if the flag was cleared meanwhile) and returns what it
/// returns (its last line printed, usually `Ok(())`); any other outcome is
/// returned unchanged.
///
/// ```
/// use ipc_core::{Error, signal};
///
/// let mut said = None;
/// let ended = signal::end_on_interrupt(Err(Error::Interrupted), |by| {
///     said = Some(by);
///     Ok(())
/// });
/// assert!(ended.is_ok());
/// assert_eq!(said, Some("a signal"));
/// assert!(signal::end_on_interrupt(Err(Error::Timeout), |_| unreachable!()).is_err());
/// ```
pub fn end_on_interrupt(
    outcome: Result<()>,
    last_words: impl FnOnce(&'static str) -> Result<()>,
) -> Result<()> {
    match outcome {
        Err(Error::Interrupted) => last_words(pending().map_or("a signal", Signal::as_str)),
        other => other,
    }
}

/// Clears the flag, so that a program can go on after handling a signal.
pub fn clear() {
    RECEIVED.store(0, Ordering::SeqCst);
}

/// Restores the default action (end the process) for SIGINT and SIGTERM.
///
/// # Errors
/// [`Error::Sys`] naming `sigaction`.
pub fn uninstall() -> Result<()> {
    INSTALLED.store(false, Ordering::SeqCst);
    let action = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: installing the default disposition runs no code of ours.
        unsafe { sigaction(signal, &action) }
            .map_err(|errno| Error::sys("sigaction", signal.as_str(), errno))?;
    }
    Ok(())
}

/// A signal that carries notifications: [`Signo::SIGUSR1`],
/// [`Signo::SIGUSR2`] or a real-time signal ([`Signo::realtime`]). The
/// signals that stop or end a program (SIGINT, SIGTERM, SIGKILL, …) are
/// not among them: they keep their own meaning.
///
/// ```
/// use ipc_core::signal::Signo;
///
/// assert_eq!(Signo::SIGUSR1.to_string(), "SIGUSR1");
/// assert!(!Signo::SIGUSR1.is_realtime());
/// let first = Signo::realtime(0).unwrap();
/// assert_eq!(first.to_string(), "SIGRTMIN");
/// assert_eq!(Signo::realtime(2).unwrap().to_string(), "SIGRTMIN+2");
/// assert!(first.is_realtime() && first.number() == libc::SIGRTMIN());
/// assert!(Signo::realtime(1000).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signo(libc::c_int);

impl Signo {
    /// SIGUSR1, a standard signal: sent again while pending, it is lost.
    pub const SIGUSR1: Signo = Signo(libc::SIGUSR1);
    /// SIGUSR2, a standard signal.
    pub const SIGUSR2: Signo = Signo(libc::SIGUSR2);

    /// The real-time signal `SIGRTMIN+n`: queued, in order, each with its
    /// value.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] past `SIGRTMAX` (SIGRTMIN+30 with glibc
    /// on Linux).
    pub fn realtime(n: u32) -> Result<Signo> {
        let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
        i32::try_from(n)
            .ok()
            .and_then(|n| min.checked_add(n))
            .filter(|&number| number <= max)
            .map(Signo)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "SIGRTMIN+{n}: the real-time signals here are SIGRTMIN to SIGRTMIN+{}",
                    max - min
                ))
            })
    }

    /// The signal's number, as `kill -l` lists it.
    pub fn number(self) -> i32 {
        self.0
    }

    /// True for a real-time signal (queued), false for a standard one.
    pub fn is_realtime(self) -> bool {
        self.0 >= libc::SIGRTMIN()
    }
}

impl fmt::Display for Signo {
    /// `SIGUSR1`, `SIGRTMIN`, `SIGRTMIN+1`: the names `kill -l` uses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            libc::SIGUSR1 => f.write_str("SIGUSR1"),
            libc::SIGUSR2 => f.write_str("SIGUSR2"),
            n if n == libc::SIGRTMIN() => f.write_str("SIGRTMIN"),
            n => write!(f, "SIGRTMIN+{}", n - libc::SIGRTMIN()),
        }
    }
}

/// The trace's channel of `signal` sent to `pid`: a named one, the same
/// in every process and every program.
fn channel(signal: Signo, pid: Pid) -> u64 {
    crate::trace::named_object(&format!("{signal} to pid {pid}"))
}

/// Sends one signal, with a value, to one process: the sending side of a
/// notification (`sigqueue(3)`).
///
/// The receiver must have blocked the signal first ([`Inbox::block`]):
/// a notification signal it does not expect ends it (the default action
/// of SIGUSR1 and of the real-time signals).
#[derive(Debug, Clone)]
pub struct Notifier {
    pid: Pid,
    signal: Signo,
    channel: u64,
}

impl Notifier {
    /// Notifications of `signal` to the process `pid`.
    pub fn new(pid: Pid, signal: Signo) -> Notifier {
        Notifier {
            pid,
            signal,
            channel: channel(signal, pid),
        }
    }

    /// The process notified.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The signal sent.
    pub fn signal(&self) -> Signo {
        self.signal
    }

    /// Queues the signal to the process with `value` (`sigqueue(3)`). It
    /// does not wait: a standard signal already pending there is dropped
    /// (with no error), a real-time one queued behind the others.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `sigqueue` and the signal and process:
    /// `ESRCH` for a process that has ended, `EPERM` for another user's,
    /// `EAGAIN` when the receiver's queue of real-time signals is full
    /// (its `RLIMIT_SIGPENDING`). [`Error::Interrupted`] instead of
    /// `ESRCH` once SIGINT or SIGTERM was received (after [`install`]): a
    /// Ctrl-C reaches the whole process group, and the receiver that
    /// stopped on it first is part of the interrupted run, not a failure.
    pub fn send(&self, value: i32) -> Result<()> {
        // The trace's id of the message rides in the upper half of the
        // value, so that the receiver records the same one.
        let msg = crate::trace::next_message_id() & u64::from(u32::MAX);
        crate::trace::send(self.channel, msg, value);
        let bits = (msg << 32) | u64::from(value as u32);
        let sigval = libc::sigval {
            sival_ptr: std::ptr::without_provenance_mut(bits as usize),
        };
        // SAFETY: sigqueue(3) only reads its arguments, all plain values;
        // it queues the signal and returns without waiting.
        let sent = unsafe { libc::sigqueue(self.pid.as_raw(), self.signal.0, sigval) };
        if sent == 0 {
            return Ok(());
        }
        match Errno::last() {
            Errno::ESRCH if interrupted() => Err(Error::Interrupted),
            errno => Err(Error::sys("sigqueue", self.to_string(), errno)),
        }
    }
}

impl fmt::Display for Notifier {
    /// `SIGRTMIN to pid 8025`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to pid {}", self.signal, self.pid)
    }
}

/// A notification taken from an [`Inbox`]: which signal, the value it
/// carried, and who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    signal: Signo,
    value: Option<i32>,
    sender: Option<Pid>,
}

impl Notice {
    /// The signal that arrived.
    pub fn signal(&self) -> Signo {
        self.signal
    }

    /// The value it was sent with ([`Notifier::send`]); `None` for a
    /// signal sent without one (`kill(2)`, `kill -USR1` from a shell).
    pub fn value(&self) -> Option<i32> {
        self.value
    }

    /// The process that sent it, when the kernel says (`kill(2)` and
    /// `sigqueue(3)` do).
    pub fn sender(&self) -> Option<Pid> {
        self.sender
    }
}

/// Signals blocked by the calling thread, to be taken one at a time: the
/// receiving side of notifications (`sigtimedwait(2)`).
///
/// Make it before forking the process that receives, or at the start of
/// a program that is told to receive: from then on the signals of the set
/// wait, pending, until taken, however early they come.
pub struct Inbox {
    signals: Vec<Signo>,
    set: libc::sigset_t,
    /// The trace's channel of each signal of the set for the process that
    /// takes them (named when first used there: after a fork, the child's
    /// own pid), or 0 before.
    channels: Vec<u64>,
    named_for: i32,
}

impl Inbox {
    /// Blocks `signals` in the calling thread (`pthread_sigmask(3)`,
    /// `SIG_BLOCK`: the ones already blocked stay so) and returns the set
    /// they can be taken from.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty set; [`Error::Sys`] naming
    /// `pthread_sigmask`.
    pub fn block(signals: &[Signo]) -> Result<Inbox> {
        if signals.is_empty() {
            return Err(Error::InvalidArgument(
                "an Inbox needs at least one signal to wait for".into(),
            ));
        }
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given; sigaddset
        // then adds valid signal numbers (a `Signo` is SIGUSR1, SIGUSR2 or
        // at most SIGRTMAX) to that initialised set.
        let set = unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            for signal in signals {
                libc::sigaddset(set.as_mut_ptr(), signal.0);
            }
            set.assume_init()
        };
        let mut signals = signals.to_vec();
        signals.sort();
        signals.dedup();
        let inbox = Inbox {
            channels: vec![0; signals.len()],
            signals,
            set,
            named_for: 0,
        };
        // SAFETY: `set` is an initialised signal set; the old mask is not
        // asked for (null).
        let blocked =
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &inbox.set, std::ptr::null_mut()) };
        if blocked != 0 {
            return Err(Error::sys(
                "pthread_sigmask",
                inbox.names(),
                Errno::from_raw(blocked),
            ));
        }
        Ok(inbox)
    }

    /// The signals of the set, in the order of their numbers.
    pub fn signals(&self) -> &[Signo] {
        &self.signals
    }

    /// Takes one signal of the set, waiting for one at most `timeout`
    /// (`sigtimedwait(2)`): a pending one at once (the lowest-numbered
    /// first, and the real-time ones in the order sent), `Ok(None)` when
    /// none came within `timeout`, or sooner when the handler of a signal
    /// other than SIGINT and SIGTERM cut the wait short (ipc-lab's
    /// programs install none).
    ///
    /// After [`install`], SIGINT and SIGTERM are blocked for the call and
    /// waited for with the set: one that came before the call, or comes
    /// during it, ends it at once with [`Error::Interrupted`] and sets
    /// the flag as the handler would; a notice already pending is taken
    /// first, even after the signal. No slice, no window in which the
    /// signal would go unnoticed, so no need to wake up and look.
    ///
    /// # Errors
    /// [`Error::Interrupted`] after SIGINT or SIGTERM; [`Error::Sys`]
    /// naming `sigtimedwait` or `pthread_sigmask`.
    pub fn next_within(&mut self, timeout: Duration) -> Result<Option<Notice>> {
        if interrupted() {
            // Finish without waiting if it can; never wait once told to stop.
            let set = self.set;
            return match self.take(&set, Duration::ZERO)? {
                Some(notice) => Ok(Some(notice)),
                None => Err(Error::Interrupted),
            };
        }
        if !INSTALLED.load(Ordering::SeqCst) {
            let set = self.set;
            return self.take(&set, timeout);
        }
        let mut stops = MaybeUninit::<libc::sigset_t>::uninit();
        let mut wanted = self.set;
        // SAFETY: sigemptyset initialises `stops`; sigaddset adds valid
        // signal numbers to initialised sets.
        let stops = unsafe {
            libc::sigemptyset(stops.as_mut_ptr());
            for stop in [libc::SIGINT, libc::SIGTERM] {
                libc::sigaddset(stops.as_mut_ptr(), stop);
                libc::sigaddset(&mut wanted, stop);
            }
            stops.assume_init()
        };
        let mut before = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: `stops` is initialised; `before` receives the old mask.
        let blocked =
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &stops, before.as_mut_ptr()) };
        if blocked != 0 {
            return Err(Error::sys(
                "pthread_sigmask",
                "SIGINT, SIGTERM",
                Errno::from_raw(blocked),
            ));
        }
        // SAFETY: pthread_sigmask succeeded, so it wrote the old mask.
        let before = unsafe { before.assume_init() };
        // A signal that came before the block set the flag by the handler.
        let taken = if interrupted() {
            Err(Error::Interrupted)
        } else {
            self.take(&wanted, timeout)
        };
        // SAFETY: `before` is the mask this thread had; restoring it lets a
        // SIGINT or SIGTERM that came since run its handler.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut()) };
        taken
    }

    /// The next signal of the set within `timeout`: [`Inbox::next_within`]
    /// that says [`Error::Timeout`] when none came.
    ///
    /// # Errors
    /// [`Error::Timeout`]; as [`Inbox::next_within`].
    pub fn wait(&mut self, timeout: Duration) -> Result<Notice> {
        self.next_within(timeout)?.ok_or(Error::Timeout)
    }

    /// One `sigtimedwait(2)` on `wanted` (the set, and perhaps SIGINT and
    /// SIGTERM): the notice it took, recorded in the trace.
    fn take(&mut self, wanted: &libc::sigset_t, timeout: Duration) -> Result<Option<Notice>> {
        let timeout = libc::timespec {
            tv_sec: timeout.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        let mut info = MaybeUninit::<libc::siginfo_t>::uninit();
        // SAFETY: the set is initialised, `info` is writable memory for one
        // siginfo_t and `timeout` a valid timespec; the call writes `info`
        // when it returns a signal.
        let taken = unsafe { libc::sigtimedwait(wanted, info.as_mut_ptr(), &timeout) };
        if taken < 0 {
            return match Errno::last() {
                Errno::EAGAIN => Ok(None),
                Errno::EINTR if interrupted() => Err(Error::Interrupted),
                Errno::EINTR => Ok(None),
                errno => Err(Error::sys("sigtimedwait", self.names(), errno)),
            };
        }
        if taken == libc::SIGINT || taken == libc::SIGTERM {
            // Taken instead of handled: do what the handler does.
            record(taken);
            return Err(Error::Interrupted);
        }
        // SAFETY: sigtimedwait returned a signal, so it filled `info`.
        let info = unsafe { info.assume_init() };
        // SAFETY: a signal taken by sigtimedwait was sent by kill(2),
        // sigqueue(3) or the kernel; for all of them the sender's pid is
        // in its place (0 from the kernel), and for SI_QUEUE the value is
        // the one sigqueue was given.
        let (pid, value) = unsafe { (info.si_pid(), info.si_value()) };
        let signal = Signo(taken);
        let queued = info.si_code == libc::SI_QUEUE;
        let bits = value.sival_ptr.addr() as u64;
        let value = queued.then_some(bits as u32 as i32);
        let msg = if queued { bits >> 32 } else { 0 };
        match (value, msg) {
            (Some(value), msg) if msg != 0 => {
                crate::trace::recv(self.channel_of(signal), msg, value);
            }
            _ => crate::trace::signal(taken),
        }
        Ok(Some(Notice {
            signal,
            value,
            sender: (pid > 0).then(|| Pid::from_raw(pid)),
        }))
    }

    /// Takes a pending signal of the set without waiting; `Ok(None)` when
    /// none is pending.
    ///
    /// # Errors
    /// As [`Inbox::next_within`].
    pub fn try_next(&mut self) -> Result<Option<Notice>> {
        self.next_within(Duration::ZERO)
    }

    /// The trace's channel of `signal` to this process.
    fn channel_of(&mut self, signal: Signo) -> u64 {
        let me = nix::unistd::getpid();
        if self.named_for != me.as_raw() {
            self.channels.fill(0);
            self.named_for = me.as_raw();
        }
        let at = self.signals.binary_search(&signal).unwrap_or(0);
        if self.channels[at] == 0 {
            self.channels[at] = channel(signal, me);
        }
        self.channels[at]
    }

    /// `SIGUSR1, SIGRTMIN`: the set, for messages.
    fn names(&self) -> String {
        let names: Vec<String> = self.signals.iter().map(Signo::to_string).collect();
        names.join(", ")
    }
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}

// The Ctrl-C flag is tested in tests/process_scenarios.rs, the
// notifications in tests/signal_scenarios.rs: raising or queueing a
// signal reaches the whole process, which would disturb unit tests
// running on other threads of the same test binary.

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_signals_are_named_as_kill_lists_them() {
        let last = libc::SIGRTMAX() - libc::SIGRTMIN();
        let top = Signo::realtime(last as u32).unwrap();
        assert_eq!(top.number(), libc::SIGRTMAX());
        assert_eq!(top.to_string(), format!("SIGRTMIN+{last}"));
        for n in [last as u32 + 1, u32::MAX] {
            let error = Signo::realtime(n).unwrap_err();
            assert_eq!(error.exit_code(), 2);
            assert!(
                error.to_string().contains("SIGRTMIN to SIGRTMIN+"),
                "{error}"
            );
        }
        assert!(Signo::SIGUSR2 < Signo::realtime(0).unwrap());
    }

    #[test]
    fn an_empty_inbox_is_refused_before_anything_is_blocked() {
        assert!(matches!(Inbox::block(&[]), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn a_notifier_names_its_signal_and_process() {
        let to = Notifier::new(Pid::from_raw(8025), Signo::realtime(1).unwrap());
        assert_eq!(to.to_string(), "SIGRTMIN+1 to pid 8025");
        assert_eq!(to.pid().as_raw(), 8025);
        assert_eq!(to.signal(), Signo::realtime(1).unwrap());
    }
}
