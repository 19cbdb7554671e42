//! The one layer every blocking call goes through.
//!
//! Every mechanism of ipc-core that may wait (a read on a pipe, an `open`
//! of a FIFO, a send on a full message queue, a lock held by another
//! process, a sleep) waits through this module, so that they all keep the
//! same promises:
//!
//! | promise | where |
//! | --- | --- |
//! | a call cut short by a signal (`EINTR`) is retried, unless it was SIGINT or SIGTERM | [`call`], [`wait`] |
//! | after SIGINT or SIGTERM ([`crate::signal::install`]), a call that has to wait returns [`Error::Interrupted`] within [`POLL_INTERVAL`] | [`call`], [`wait`] |
//! | a call that can finish without waiting finishes, even after the signal | [`wait`] |
//! | every bounded wait has a [`Deadline`] that never overflows, however large the timeout | [`Deadline`] |
//! | one polling interval for everything that sleeps in slices; the few others named here, each with its reason | [`POLL_INTERVAL`]; [`RETRY_INTERVAL`], [`JOIN_INTERVAL`], [`WATCH_INTERVAL`], [`STEP_INTERVAL`], [`KILL_INTERVAL`], [`MOMENT`], [`LONG_POLL`] |
//! | a look at something no wake-up announces, again and again until it holds or a deadline passes, with or without the signal flag | [`poll`], [`poll_until`] |
//! | one short spin before a sleep, where the other side is likely running now, longer while many others keep coming | [`spin`], [`SPIN`]; [`spin_while_progress`], [`SPIN_MAX`] |
//! | one mapping of `errno` to typed errors: `EPIPE` → [`Error::Disconnected`], `ETIMEDOUT` → [`Error::Timeout`], `EAGAIN` → [`Error::WouldBlock`] | [`error_for`] |
//!
//! ```
//! use std::time::Duration;
//! use ipc_core::blocking::{self, Deadline};
//! use ipc_core::Error;
//!
//! // Wait for a condition that never comes true, at most 30 ms.
//! let deadline = Deadline::after(Duration::from_millis(30));
//! let outcome: Result<(), Error> = blocking::wait(deadline, |slice| {
//!     std::thread::sleep(slice); // a real caller sleeps on a futex or in poll(2)
//!     Ok(None)
//! });
//! assert!(matches!(outcome, Err(Error::Timeout)));
//! assert!(deadline.has_passed());
//! ```
//!
//! Nothing outside this module adds a timeout to the clock
//! (`Instant::now() + timeout` panics for a large one): a wait that ends
//! makes a [`Deadline`], and a loop that looks again sleeps one of the
//! intervals below (a test of the workspace scans the sources for it).

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::signal;

/// The longest any blocked call of ipc-core sleeps without looking at the
/// signal flag and its deadline again.
///
/// It bounds how late SIGINT or SIGTERM can be noticed when the signal
/// lands in the instant before a call starts to sleep (a signal that lands
/// during the sleep ends it at once), and how long a wake-up lost with a
/// process killed at the wrong moment can cost.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long a caller pauses before it asks again a party that refused for
/// now and will accept soon: a NATS cluster electing the leader of a
/// stream or a bucket, a node that has not yet heard of one. Such an
/// election takes a second or two; asking 20 times a second finds its end
/// soon enough without flooding a busy server.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(50);

/// How often [`crate::process::join_all_with`] looks at the children other
/// than the one it waits for (whose end wakes it at once), and calls its
/// caller back: a child's failure stops its siblings within it, and a
/// parent that lets a peer of a dead child go on
/// ([`crate::Fifo::release_waiters`]) does so within it. It is also the
/// time within which two children reaped in one look count as ending
/// together.
pub const JOIN_INTERVAL: Duration = Duration::from_millis(20);

/// How often a supervisor looks at the processes it bounds (a grader's
/// run: its time limit, its number of processes): often enough that a
/// fork bomb is stopped within tens of processes, seldom enough that the
/// reads of `/proc` it takes cost the run little.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(10);

/// How often a program waiting for another program's step that nothing
/// announces looks again: a `std::process::Child` that ends (it has no
/// descriptor to wait on), a file the other writes once ready (a
/// `nats-server`'s ports file), its state in `/proc`. The caller waits for
/// exactly that step, at the start or the end of a run, so a short
/// interval saves time at every run and costs a few wake-ups.
pub const STEP_INTERVAL: Duration = Duration::from_millis(5);

/// How long a killer pauses between two rounds of killing what is left of
/// a run (a fork bomb among it): short, so that the bomb loses the race,
/// and long enough for the kernel to deliver the signals of one round
/// before the next list of processes is read.
pub const KILL_INTERVAL: Duration = Duration::from_millis(2);

/// How often a process looks again for what happens within a moment: a
/// run's tracker ending once the run's lease is closed, a creator sizing
/// the segment it has just made. Every program's end waits for the first,
/// so the look is as quick as a sleep can be.
pub const MOMENT: Duration = Duration::from_millis(1);

/// The longest a request that another party holds open until it has
/// something (a NATS pull from a stream) is held: renewed this often, so
/// that a party that went away is noticed and the caller's own deadline
/// kept. (Signals do not wait for it: the caller's wait is cut in
/// [`POLL_INTERVAL`] slices meanwhile.)
pub const LONG_POLL: Duration = Duration::from_secs(2);

/// How long [`spin`] looks at a condition before its caller sleeps.
///
/// Between two processes running on two CPUs, most waits end within a
/// microsecond or two (the other side was about to set the flag, release
/// the unit, arrive at the barrier), far sooner than a `FUTEX_WAIT` and
/// its wake-up take (several microseconds each, more in a virtual
/// machine). 20 µs covers those, and costs little when the other side is
/// not coming soon: a wait that long is then followed by a sleep anyway.
pub const SPIN: Duration = Duration::from_micros(20);

/// How many looks [`spin`] takes, a `pause` apart (about 10 ns each on the
/// project's machine), before it first reads the clock and gives the CPU
/// away for a moment (`sched_yield(2)`), and between two such moments.
///
/// Measured on the 2-core machine with ipc-bench: 4 looks make every
/// wait of a round trip between two CPUs pay a yield (the Queue's 8-byte
/// round trip went from 440 to 610 ns); 64 leave a process whose other
/// side needs this CPU waiting ten times longer than 16 (an Event
/// ping-pong on one CPU: 4.1 µs against 2.0 µs; four barrier parties on
/// two CPUs: 160 k rounds per second against 260 k). 8 to 16 are alike
/// between CPUs.
const SPIN_LOOKS: u32 = 16;

/// Spins until `ready()` is true, for at most [`SPIN`] and never past
/// `deadline`; returns whether it became true. What a blocked call does
/// before it sleeps in the kernel (on a futex, in slices of
/// [`POLL_INTERVAL`]): the Queue's put and get, and the waits of
/// `Semaphore`, `Event` and `Barrier`.
///
/// `ready` looks at shared memory (atomic loads); it may also take what it
/// waited for (a semaphore's unit), and then returns true. Between two
/// looks the CPU is told it spins (`spin_loop`, `pause` on x86-64); every
/// 16 looks (a few hundred nanoseconds) the spin reads the clock and
/// yields the CPU (`sched_yield(2)`). It does not look at the signal flag:
/// [`SPIN`] is far below [`POLL_INTERVAL`], the promise for noticing
/// SIGINT and SIGTERM.
///
/// A spin helps when the other side runs meanwhile, on another CPU. When
/// it waits for this very CPU (more processes than CPUs: four parties of
/// a barrier on two; both sides on one CPU), a spinner that only paused
/// would hold the CPU the other side needs until the spin ends; the
/// yields hand it over at once, and cost about 0.2 µs each when nobody
/// else wants it. (On a busy machine a yield may hand the CPU to an
/// unrelated process for a while: what a sleep does too, only sooner.)
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use ipc_core::blocking::{self, Deadline};
///
/// let word = AtomicU32::new(0);
/// // Nobody sets it: the spin gives up after SPIN at most.
/// assert!(!blocking::spin(Deadline::NEVER, || word.load(Ordering::Acquire) != 0));
/// word.store(1, Ordering::Release);
/// assert!(blocking::spin(Deadline::after(Duration::ZERO), || word.load(Ordering::Acquire) != 0));
/// ```
pub fn spin(deadline: Deadline, ready: impl FnMut() -> bool) -> bool {
    spin_while_progress(deadline, false, || (), ready)
}

/// The longest [`spin_while_progress`] spins on after its first [`SPIN`],
/// however long the others keep making progress: far below
/// [`POLL_INTERVAL`], so that the spin need not look at the signal flag
/// either.
pub const SPIN_MAX: Duration = Duration::from_millis(1);

/// How many looks a crowded [`spin_while_progress`] takes between two
/// yields of the CPU.
const CROWDED_LOOKS: u32 = 2;

/// As [`spin`], for a wait on many parties (a barrier's): the spin goes
/// on for another [`SPIN`] whenever `progress()` (the count of arrivals)
/// changed during the last one, for at most [`SPIN_MAX`] more; and when
/// `crowded` (more parties still to come than the other CPUs could be
/// running), it gives the CPU away every 2 looks instead of every 16.
///
/// Sixteen parties of a barrier on two CPUs take longer than [`SPIN`] to
/// arrive even when none of them does anything between two rounds: each
/// needs its turn on a CPU, and several microseconds go with each turn in
/// a virtual machine. A waiter that then sleeps (`FUTEX_WAIT`) makes the
/// round slower still (a wake-up for every sleeper), so that more waiters
/// outlast their spin, and the rate fell to a sixth of the rate
/// with 4 parties (ipc-bench, 2-core machine). An arrival says that the
/// parties still to come are running: the waiters spin on, yielding
/// their CPU to those parties at once, and still sleep once nobody has
/// arrived for a whole [`SPIN`] (a party computing for a while).
///
/// ```
/// use std::time::Instant;
/// use ipc_core::blocking::{self, Deadline, SPIN_MAX};
///
/// // Somebody arrives at every look, and the wait never ends: the spin
/// // gives up only after SPIN_MAX more.
/// let start = Instant::now();
/// let mut arrived = 0_u32;
/// let progress = || {
///     arrived += 1;
///     arrived
/// };
/// assert!(!blocking::spin_while_progress(Deadline::NEVER, true, progress, || false));
/// assert!(start.elapsed() >= SPIN_MAX);
/// ```
pub fn spin_while_progress<T: PartialEq>(
    deadline: Deadline,
    crowded: bool,
    mut progress: impl FnMut() -> T,
    mut ready: impl FnMut() -> bool,
) -> bool {
    let between_yields = if crowded { CROWDED_LOOKS } else { SPIN_LOOKS };
    for _ in 0..between_yields {
        if ready() {
            return true;
        }
        std::hint::spin_loop();
    }
    let mut until = Deadline::after(deadline.slice().min(SPIN));
    let mut at_most: Option<Deadline> = None;
    let mut seen = progress();
    let mut looks = 0_u32;
    loop {
        if ready() {
            return true;
        }
        looks = looks.wrapping_add(1);
        if looks.is_multiple_of(between_yields) {
            if until.has_passed() {
                let now = progress();
                if now == seen {
                    return false;
                }
                let at_most =
                    *at_most.get_or_insert_with(|| Deadline::after(deadline.slice().min(SPIN_MAX)));
                if at_most.has_passed() {
                    return false;
                }
                seen = now;
                until = Deadline::after(deadline.slice().min(SPIN));
            }
            // The other side may be waiting for this very CPU: let it run.
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// The instant a bounded wait gives up, or never.
///
/// Made from a timeout of any size: one too large to add to the clock (a
/// `--delay` of `u64::MAX` seconds) is [`Deadline::NEVER`], never a panic.
///
/// ```
/// use std::time::Duration;
/// use ipc_core::blocking::Deadline;
///
/// assert_eq!(Deadline::after(Duration::MAX), Deadline::NEVER);
/// assert_eq!(Deadline::NEVER.remaining(), None);
/// let soon = Deadline::after(Duration::from_secs(60));
/// assert!(soon.remaining().unwrap() <= Duration::from_secs(60));
/// assert!(!soon.has_passed());
/// assert!(Deadline::after(Duration::ZERO).has_passed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: wait as long as it takes.
    pub const NEVER: Deadline = Deadline(None);

    /// `timeout` from now; [`Deadline::NEVER`] if that instant is beyond
    /// what the clock can represent.
    pub fn after(timeout: Duration) -> Self {
        Deadline(Instant::now().checked_add(timeout))
    }

    /// `timeout` from now, or never for `None`.
    pub fn within(timeout: Option<Duration>) -> Self {
        timeout.map_or(Deadline::NEVER, Deadline::after)
    }

    /// The time left, zero once passed; `None` for [`Deadline::NEVER`].
    pub fn remaining(self) -> Option<Duration> {
        self.0
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// True once the deadline is behind us (never for [`Deadline::NEVER`]).
    pub fn has_passed(self) -> bool {
        self.remaining().is_some_and(|left| left.is_zero())
    }

    /// How long the next sleep of a blocked call may last: the time left,
    /// at most [`POLL_INTERVAL`] (zero once passed).
    pub fn slice(self) -> Duration {
        self.pause(POLL_INTERVAL)
    }

    /// How long the next pause of a loop that looks every `interval` may
    /// last: `interval`, or the time left if that is shorter (zero once
    /// passed).
    pub fn pause(self, interval: Duration) -> Duration {
        self.remaining().map_or(interval, |left| left.min(interval))
    }

    /// The time left, or `forever` for [`Deadline::NEVER`]: the timeout to
    /// hand to a call that takes one (`recv_timeout`, a NATS request).
    pub fn left_or(self, forever: Duration) -> Duration {
        self.remaining().unwrap_or(forever)
    }
}

/// The `CLOCK_REALTIME` instant `timeout` from now, as the calls that take
/// an absolute time want it (`pthread_mutex_timedlock(3)`,
/// `mq_timedsend(3)`). Give it a [`Deadline::slice`], which is short, so
/// that a change of the wall clock cannot stretch the wait.
pub fn realtime_after(timeout: Duration) -> libc::timespec {
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(timeout);
    libc::timespec {
        tv_sec: at.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: at.subsec_nanos() as libc::c_long,
    }
}

/// The typed error for `errno` from `call` on `object`.
///
/// `EPIPE` and `ECONNRESET` (the other end is gone) are
/// [`Error::Disconnected`], `ETIMEDOUT` is [`Error::Timeout`], `EAGAIN`
/// (`EWOULDBLOCK`) is [`Error::WouldBlock`], `EINTR` is
/// [`Error::Interrupted`]; anything else is [`Error::Sys`] naming the call
/// and the object.
///
/// ```
/// use nix::errno::Errno;
/// use ipc_core::{Error, blocking::error_for};
///
/// assert!(matches!(error_for("write", "pipe", Errno::EPIPE), Error::Disconnected));
/// assert!(matches!(error_for("mq_send", "/q", Errno::EAGAIN), Error::WouldBlock));
/// assert_eq!(
///     error_for("open", "/tmp/f", Errno::EACCES).to_string(),
///     "open /tmp/f: Permission denied"
/// );
/// ```
pub fn error_for(call: &'static str, object: impl fmt::Display, errno: Errno) -> Error {
    match errno {
        Errno::EPIPE | Errno::ECONNRESET => Error::Disconnected,
        Errno::ETIMEDOUT => Error::Timeout,
        Errno::EAGAIN => Error::WouldBlock,
        Errno::EINTR => Error::Interrupted,
        errno => Error::sys(call, object.to_string(), errno),
    }
}

/// Runs a system call that may block in the kernel (`read`, `write`,
/// `open` of a FIFO, `mq_send`): gives up with [`Error::Interrupted`] if
/// SIGINT or SIGTERM has arrived, retries after an `EINTR` caused by any
/// other signal, and maps a failure with [`error_for`].
///
/// The signal handlers of [`crate::signal`] are installed without
/// `SA_RESTART`, so a call blocked when SIGINT or SIGTERM arrives returns
/// `EINTR` at once; the check before each attempt catches a signal that
/// came before it. (A signal landing in the instant between the check and
/// the call is noticed only when the call next returns: the price of a
/// plain blocking call, with no extra system call per attempt.)
///
/// # Errors
/// [`Error::Interrupted`], or the error [`error_for`] gives.
pub fn call<T>(
    call: &'static str,
    object: impl fmt::Display,
    mut attempt: impl FnMut() -> nix::Result<T>,
) -> Result<T> {
    loop {
        signal::check()?;
        match attempt() {
            Ok(value) => return Ok(value),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(error_for(call, object, errno)),
        }
    }
}

/// Waits in slices until `attempt` gives a value.
///
/// `attempt` is called first with [`Duration::ZERO`] (it must not wait
/// then), so that a call that can finish at once does, even after SIGINT
/// or SIGTERM. After that, each round checks the signal flag
/// ([`Error::Interrupted`]) and the deadline ([`Error::Timeout`]), then
/// calls `attempt` with the time it may wait ([`Deadline::slice`], at most
/// [`POLL_INTERVAL`]); `attempt` sleeps that long at most (on a futex, in
/// `poll(2)`, in a timed lock) and returns `Ok(None)` if it must wait more.
///
/// # Errors
/// [`Error::Interrupted`], [`Error::Timeout`], or the error of `attempt`.
pub fn wait<T>(
    deadline: Deadline,
    mut attempt: impl FnMut(Duration) -> Result<Option<T>>,
) -> Result<T> {
    if let Some(value) = attempt(Duration::ZERO)? {
        return Ok(value);
    }
    loop {
        signal::check()?;
        if deadline.has_passed() {
            return Err(Error::Timeout);
        }
        if let Some(value) = attempt(deadline.slice())? {
            return Ok(value);
        }
    }
}

/// Looks at `ready` until it gives a value, then again every `interval`
/// (the last pause ends at the deadline), and gives up with
/// [`Error::Timeout`] once `deadline` has passed; [`Error::Interrupted`]
/// after SIGINT or SIGTERM. For something no wake-up announces: another
/// program's step ([`STEP_INTERVAL`]), a file it writes. A value that is
/// there wins over the signal and the deadline; an error of `ready` ends
/// the wait as it is. `interval` is at most [`POLL_INTERVAL`] in effect,
/// the promise for noticing a signal.
///
/// # Errors
/// `E::from(Error::Interrupted)`, `E::from(Error::Timeout)`, or the error
/// of `ready`.
///
/// ```
/// use std::time::Duration;
/// use ipc_core::blocking::{self, Deadline, STEP_INTERVAL};
/// use ipc_core::Error;
///
/// let mut looks = 0;
/// let third = blocking::poll(Deadline::after(Duration::from_secs(5)), STEP_INTERVAL, || {
///     looks += 1;
///     Ok::<_, Error>((looks == 3).then_some(looks))
/// });
/// assert_eq!(third.unwrap(), 3);
/// let never: Result<(), Error> =
///     blocking::poll(Deadline::after(Duration::from_millis(20)), STEP_INTERVAL, || Ok(None));
/// assert!(matches!(never, Err(Error::Timeout)));
/// ```
pub fn poll<T, E: From<Error>>(
    deadline: Deadline,
    interval: Duration,
    mut ready: impl FnMut() -> std::result::Result<Option<T>, E>,
) -> std::result::Result<T, E> {
    let interval = interval.min(POLL_INTERVAL);
    loop {
        if let Some(value) = ready()? {
            return Ok(value);
        }
        signal::check()?;
        if deadline.has_passed() {
            return Err(Error::Timeout.into());
        }
        std::thread::sleep(deadline.pause(interval));
    }
}

/// As [`poll`], without the signal flag: `None` once `deadline` has
/// passed. For a watcher that must see its wait through whatever Ctrl-C
/// says (the end of a run waiting for its tracker, a test, a supervisor
/// that ends what it watches in order).
///
/// ```
/// use std::time::{Duration, Instant};
/// use ipc_core::blocking::{self, Deadline, STEP_INTERVAL};
///
/// let start = Instant::now();
/// let later = blocking::poll_until(Deadline::NEVER, STEP_INTERVAL, || {
///     (start.elapsed() >= Duration::from_millis(10)).then_some("later")
/// });
/// assert_eq!(later, Some("later"));
/// assert_eq!(blocking::poll_until(Deadline::after(Duration::ZERO), STEP_INTERVAL, || None::<()>), None);
/// ```
pub fn poll_until<T>(
    deadline: Deadline,
    interval: Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> Option<T> {
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if deadline.has_passed() {
            return None;
        }
        std::thread::sleep(deadline.pause(interval));
    }
}

/// Sleeps for `duration`, waking early when SIGINT or SIGTERM arrives.
///
/// # Errors
/// [`Error::Interrupted`] when the signal flag is set before or during the
/// sleep; it is noticed within [`POLL_INTERVAL`].
pub fn sleep(duration: Duration) -> Result<()> {
    let deadline = Deadline::after(duration);
    let outcome = wait(deadline, |slice| {
        if slice.is_zero() {
            return Ok(deadline.has_passed().then_some(()));
        }
        // nanosleep(2) is cut short by the signal; the slice bounds the
        // delay when the signal lands just before the call.
        std::thread::sleep(slice);
        Ok(deadline.has_passed().then_some(()))
    });
    match outcome {
        // The sleep was the whole point: reaching the deadline is success.
        Err(Error::Timeout) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_timeout_is_never_not_a_panic() {
        assert_eq!(Deadline::after(Duration::MAX), Deadline::NEVER);
        assert_eq!(
            Deadline::after(Duration::from_secs(u64::MAX)),
            Deadline::NEVER
        );
        assert_eq!(Deadline::NEVER.slice(), POLL_INTERVAL);
        assert!(!Deadline::NEVER.has_passed());
        assert_eq!(Deadline::within(None), Deadline::NEVER);
    }

    #[test]
    fn slices_never_exceed_the_interval_or_the_time_left() {
        let far = Deadline::after(Duration::from_secs(3600));
        assert_eq!(far.slice(), POLL_INTERVAL);
        let near = Deadline::after(Duration::from_millis(5));
        assert!(near.slice() <= Duration::from_millis(5));
        assert_eq!(Deadline::after(Duration::ZERO).slice(), Duration::ZERO);
    }

    #[test]
    fn wait_tries_once_without_waiting_before_anything_else() {
        let mut slices = Vec::new();
        let got = wait(Deadline::after(Duration::ZERO), |slice| {
            slices.push(slice);
            Ok(Some(7))
        });
        assert_eq!(got.unwrap(), 7);
        assert_eq!(slices, [Duration::ZERO]);
    }

    #[test]
    fn wait_times_out_after_its_deadline() {
        let start = Instant::now();
        let mut rounds = 0;
        let got: Result<()> = wait(Deadline::after(Duration::from_millis(20)), |slice| {
            rounds += 1;
            std::thread::sleep(slice);
            Ok(None)
        });
        assert!(matches!(got, Err(Error::Timeout)), "{got:?}");
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(rounds >= 2, "a first try, then at least one wait");
    }

    #[test]
    fn errors_of_attempts_pass_through() {
        let got: Result<()> = wait(Deadline::NEVER, |_| Err(Error::Disconnected));
        assert!(matches!(got, Err(Error::Disconnected)));
        let got: Result<()> = call("read", "pipe", || Err(Errno::EACCES));
        assert_eq!(got.unwrap_err().to_string(), "read pipe: Permission denied");
    }

    #[test]
    fn call_retries_after_eintr() {
        let mut tries = 0;
        let got = call("read", "pipe", || {
            tries += 1;
            if tries < 3 {
                Err(Errno::EINTR)
            } else {
                Ok(tries)
            }
        });
        assert_eq!(got.unwrap(), 3);
    }

    #[test]
    fn a_spin_ends_within_its_bound_or_the_deadline() {
        let start = Instant::now();
        assert!(!spin(Deadline::NEVER, || false));
        let spent = start.elapsed();
        assert!(spent >= SPIN, "{spent:?}");
        let mut looks = 0;
        assert!(spin(Deadline::NEVER, || {
            looks += 1;
            looks == 10
        }));
        assert_eq!(looks, 10, "it stops looking once the condition holds");
    }

    #[test]
    fn sleep_sleeps_at_least_its_duration() {
        let start = Instant::now();
        sleep(Duration::from_millis(15)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(15));
    }

    #[test]
    fn polls_end_at_their_deadline_and_pause_no_longer_than_it() {
        let start = Instant::now();
        let got: Option<()> =
            poll_until(Deadline::after(Duration::from_millis(15)), MOMENT, || None);
        assert_eq!(got, None);
        assert!(start.elapsed() >= Duration::from_millis(15));
        assert!(Deadline::NEVER.pause(STEP_INTERVAL) == STEP_INTERVAL);
        let near = Deadline::after(Duration::from_millis(2));
        assert!(near.pause(POLL_INTERVAL) <= Duration::from_millis(2));
        assert_eq!(Deadline::NEVER.left_or(Duration::MAX), Duration::MAX);
        let errors: Result<()> = poll(Deadline::NEVER, MOMENT, || Err(Error::Disconnected));
        assert!(matches!(errors, Err(Error::Disconnected)));
    }

    #[test]
    fn the_named_intervals_stay_below_the_one_that_notices_signals() {
        for interval in [
            RETRY_INTERVAL,
            JOIN_INTERVAL,
            WATCH_INTERVAL,
            STEP_INTERVAL,
            KILL_INTERVAL,
            MOMENT,
        ] {
            assert!(interval < POLL_INTERVAL, "{interval:?}");
        }
    }

    #[test]
    fn realtime_after_is_in_the_future() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let ts = realtime_after(Duration::from_secs(10));
        assert!(ts.tv_sec as u64 >= now.as_secs() + 9);
        let far = realtime_after(Duration::MAX);
        assert!(far.tv_sec > 0, "saturates instead of overflowing");
    }
}
