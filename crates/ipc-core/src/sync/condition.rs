//! `Condition`: a condition variable shared by processes, like Python's
//! `multiprocessing.Condition`.
//!
//! # How it works
//!
//! Beside its lock (a [`Lock`] or an [`RLock`]) a condition keeps three
//! counters in shared memory, each changed only under that lock:
//!
//! * `epoch`, the futex word, which every notify increments;
//! * `waiting`, the processes waiting that no notify has picked yet;
//! * `tokens`, how many of them notifies have picked and not yet woken.
//!
//! A waiter notes the epoch, counts itself in `waiting`, releases the lock
//! (completely, for an `RLock` held several times) and sleeps on the epoch
//! with `FUTEX_WAIT` (`futex(2)`) in slices of at most
//! [`crate::blocking::POLL_INTERVAL`]. `notify(n)` moves up to `n`
//! processes from `waiting` to `tokens`, increments the epoch and wakes as
//! many. A woken waiter takes the lock back and leaves with a token, but
//! only one from a notify that came after it started waiting: a process
//! that starts waiting after a notify is never woken by it. So `notify(n)`
//! wakes at most `n` waiters, each of them waiting when it was called.
//!
//! # A process that dies
//!
//! * A notifier (or any process) that dies **holding the lock**: the lock
//!   is robust, so the waiters are not stuck behind it. A waiter that has
//!   slept a whole slice without a notify looks at the lock and, finding
//!   its holder dead, takes it and returns
//!   [`Error::OwnerDied`], with the lock held by its guard: repair what the
//!   dead process left half-done, call
//!   [`ConditionGuard::make_consistent`], and wait again if need be. Since
//!   the dead process may have died before it could notify, every other
//!   waiter is woken then (as by `notify_all`), to look again at what the
//!   lock protects once the repair is done. The condition's own counters
//!   stay usable whatever the moment of death.
//! * A waiter killed while waiting may leave its place counted: a later
//!   notify may then wake one waiter fewer than asked, or leave a token
//!   that wakes a later waiter for nothing. A spurious wake-up is what
//!   [`ConditionGuard::wait_for`] absorbs: wait for a predicate, not for a
//!   notify.
//! * A process that dies before it notifies never notifies: bound the wait.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::name::IpcName;
use crate::sync::futex::{self, Wake};
use crate::sync::mutex::{Acquired, Held, Lock, LockError, LockGuard, RobustMutex};
use crate::sync::region::{Atomics, Kind, Region};
use crate::sync::rlock::{self, RLock, RLockGuard};
use crate::trace;

#[repr(C)]
struct Body {
    /// Incremented by each notify that picks somebody; the futex word.
    epoch: AtomicU32,
    /// Waiters no notify has picked yet.
    waiting: AtomicU32,
    /// Waiters picked by a notify that have not taken their token yet.
    tokens: AtomicU32,
}

// SAFETY: repr(C), atomics only.
unsafe impl Atomics for Body {}

/// The counters take a cache line; a named condition's RLock follows.
const COUNTERS: usize = 64;

#[derive(Clone)]
enum Guarded {
    Lock(Lock),
    RLock(RLock),
}

/// A condition variable shared by processes: wait under a lock until
/// another process changes what the lock protects and notifies.
///
/// The condition owns its lock (a [`Lock`] or an [`RLock`]); take it with
/// [`Condition::lock`], and the [`ConditionGuard`] waits and notifies:
/// holding the guard is holding the lock, which Python requires of `wait`
/// and `notify` and checks at run time. Made before forking, it is shared
/// with the children; [`Condition::create`] and [`Condition::open`] name it
/// for unrelated processes. Cloning gives another handle. See the
/// [module](self) for how it works and what a dead process leaves.
///
/// | Python | here |
/// | --- | --- |
/// | `Condition()`, `Condition(lock)` | [`Condition::new`] (an `RLock`), [`Condition::with_lock`], [`Condition::with_rlock`] |
/// | `with cond:` | [`Condition::lock`] |
/// | `wait()`, `wait(timeout)` → `False` | [`ConditionGuard::wait`], [`ConditionGuard::wait_timeout`] → [`Error::Timeout`] |
/// | `wait_for(predicate, timeout)` | [`ConditionGuard::wait_for`], [`ConditionGuard::wait_for_timeout`] |
/// | `notify(n)`, `notify_all()` | [`ConditionGuard::notify`], [`ConditionGuard::notify_all`] |
///
/// ```
/// use std::time::Duration;
/// use ipc_core::{Condition, Process, RawValue};
///
/// let cond = Condition::new().unwrap();
/// let ready = RawValue::new(0_u32).unwrap(); // what the lock protects
/// let mut waiter = Process::spawn("waiter", || -> ipc_core::Result<()> {
///     let mut guard = cond.lock()?;
///     guard.wait_for_timeout(Duration::from_secs(10), || ready.get() == 1)
/// })
/// .unwrap();
/// {
///     let guard = cond.lock().unwrap();
///     ready.set(1);
///     guard.notify_all().unwrap();
/// }
/// assert!(waiter.join().unwrap().success());
/// ```
#[derive(Clone)]
pub struct Condition {
    region: Arc<Region>,
    lock: Guarded,
}

impl Condition {
    /// A condition over a new [`RLock`], as Python's `Condition()`.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap` or a `pthread_mutex*` call.
    pub fn new() -> Result<Self> {
        Self::with_rlock(RLock::new()?)
    }

    /// A condition over `lock` (Python's `Condition(lock)`): the processes
    /// that hold `lock` through its own guards are kept out while a
    /// [`ConditionGuard`] holds it, and the other way round.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap`.
    pub fn with_lock(lock: Lock) -> Result<Self> {
        Ok(Condition {
            region: Arc::new(Region::anonymous(Kind::Condition, COUNTERS, |_| Ok(()))?),
            lock: Guarded::Lock(lock),
        })
    }

    /// A condition over the recursive lock `lock`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ipc_core::{Condition, Error, RLock};
    ///
    /// let rlock = RLock::new().unwrap();
    /// let cond = Condition::with_rlock(rlock.clone()).unwrap();
    /// let _outer = rlock.lock().unwrap();
    /// let mut guard = cond.lock().unwrap(); // the same lock, once more
    /// assert_eq!(rlock.depth(), 2);
    /// // A wait releases it completely, then takes it back as deep.
    /// assert!(matches!(guard.wait_timeout(Duration::from_millis(10)), Err(Error::Timeout)));
    /// assert_eq!(rlock.depth(), 2);
    /// ```
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap`.
    pub fn with_rlock(lock: RLock) -> Result<Self> {
        Ok(Condition {
            region: Arc::new(Region::anonymous(Kind::Condition, COUNTERS, |_| Ok(()))?),
            lock: Guarded::RLock(lock),
        })
    }

    /// A condition over a new [`RLock`], both in the named segment `name`
    /// (mode 0600), for [`Condition::open`] in other processes. The segment
    /// is removed when the creator's last handle is dropped.
    ///
    /// ```
    /// use ipc_core::{Condition, IpcName};
    ///
    /// let name = IpcName::unique("doc-cond").unwrap();
    /// let cond = Condition::create(&name).unwrap();
    /// let same = Condition::open(&name).unwrap();
    /// let _held = cond.lock().unwrap();
    /// assert!(same.lock_timeout(std::time::Duration::ZERO).is_ok(), "this thread holds it");
    /// ```
    ///
    /// # Errors
    /// As [`crate::SharedMemory::create`] (`File exists`).
    pub fn create(name: &IpcName) -> Result<Self> {
        let region = Region::create(
            name,
            Kind::Condition,
            COUNTERS + rlock::BODY,
            rlock::init(COUNTERS),
        )?;
        Ok(Self::named(region))
    }

    /// Attaches to the condition [`Condition::create`] made under `name`.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::open`]; [`Error::Untrusted`] when the
    /// segment is not an ipc-core `Condition`.
    pub fn open(name: &IpcName) -> Result<Self> {
        let region = Region::open(name, Kind::Condition)?;
        if region.body_len() < COUNTERS + rlock::BODY {
            return Err(Error::Untrusted {
                object: name.path(),
                reason: "is too short for an ipc-core Condition".into(),
            });
        }
        Ok(Self::named(region))
    }

    fn named(region: Region) -> Self {
        let region = Arc::new(region);
        // SAFETY: a named Condition's body holds an RLock set up by
        // `rlock::init(COUNTERS)` (see `create`).
        let lock = unsafe { RLock::in_region(Arc::clone(&region), COUNTERS) };
        Condition {
            region,
            lock: Guarded::RLock(lock),
        }
    }

    fn body(&self) -> &Body {
        self.region.atomics(0)
    }

    /// The segment's name, for a condition made with `create` or `open`.
    pub fn name(&self) -> Option<&IpcName> {
        self.region.name()
    }

    super::lock_entry_points! {
        /// Takes the condition's lock (Python's `with cond:`), waiting as long
        /// as it takes.
        ///
        /// # Errors
        /// As [`Lock::lock`]: [`LockError::OwnerDied`] with the lock held when
        /// its previous holder died, [`Error::Interrupted`] after SIGINT or
        /// SIGTERM.
        ConditionGuard<'_>
    }

    /// Takes the lock only if it is free (or, for an `RLock`, held by the
    /// calling thread).
    ///
    /// # Errors
    /// As [`Condition::lock`], plus [`Error::WouldBlock`].
    pub fn try_lock(
        &self,
    ) -> std::result::Result<ConditionGuard<'_>, LockError<ConditionGuard<'_>>> {
        match &self.lock {
            Guarded::Lock(lock) => self.wrap(lock.try_lock(), |g| Holding::Lock(Some(g))),
            Guarded::RLock(lock) => self.wrap(lock.try_lock(), |g| Holding::RLock(Some(g))),
        }
    }

    /// Waits for the lock until `deadline`.
    ///
    /// # Errors
    /// As [`Condition::lock`], plus [`Error::Timeout`].
    pub fn lock_until(
        &self,
        deadline: Deadline,
    ) -> std::result::Result<ConditionGuard<'_>, LockError<ConditionGuard<'_>>> {
        match &self.lock {
            Guarded::Lock(lock) => self.wrap(lock.lock_until(deadline), |g| Holding::Lock(Some(g))),
            Guarded::RLock(lock) => {
                self.wrap(lock.lock_until(deadline), |g| Holding::RLock(Some(g)))
            }
        }
    }

    fn wrap<'a, G>(
        &'a self,
        taken: std::result::Result<G, LockError<G>>,
        holding: impl FnOnce(G) -> Holding<'a>,
    ) -> std::result::Result<ConditionGuard<'a>, LockError<ConditionGuard<'a>>> {
        let guard = |g| ConditionGuard {
            cond: self,
            held: holding(g),
            _thread_bound: PhantomData,
        };
        match taken {
            Ok(g) => Ok(guard(g)),
            Err(LockError::OwnerDied(g)) => {
                // The dead holder may have died before it could notify.
                if let Err(error) = wake_everyone(self.body()) {
                    return Err(LockError::Failed(error));
                }
                Err(LockError::OwnerDied(guard(g)))
            }
            Err(LockError::Failed(error)) => Err(LockError::Failed(error)),
        }
    }

    fn mutex(&self) -> &RobustMutex {
        match &self.lock {
            Guarded::Lock(lock) => lock.mutex(),
            Guarded::RLock(lock) => lock.mutex(),
        }
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = self.body();
        f.debug_struct("Condition")
            .field("name", &self.name())
            .field(
                "lock",
                &match self.lock {
                    Guarded::Lock(_) => "Lock",
                    Guarded::RLock(_) => "RLock",
                },
            )
            .field("waiting", &body.waiting.load(Ordering::Relaxed))
            .finish()
    }
}

/// How a [`ConditionGuard`] holds the lock; `None` once a wait could not
/// take it back (after an error).
enum Holding<'a> {
    Lock(Option<LockGuard<'a>>),
    RLock(Option<RLockGuard<'a>>),
}

/// What a wait released, to take back.
#[derive(Clone, Copy)]
enum Released {
    Lock,
    /// An RLock, held this many times.
    RLock(u32),
}

/// How a wait ended with the lock held again.
enum Woke {
    Notified,
    HolderDied,
}

/// The lock of a [`Condition`], held: wait and notify through it.
///
/// Dropping it releases the lock (one level, for an `RLock`). It stays on
/// the thread that took it (it is not `Send`).
pub struct ConditionGuard<'a> {
    cond: &'a Condition,
    held: Holding<'a>,
    _thread_bound: PhantomData<*const ()>,
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("holds", &self.holds())
            .finish()
    }
}

impl ConditionGuard<'_> {
    fn holds(&self) -> bool {
        match &self.held {
            Holding::Lock(guard) => guard.is_some(),
            Holding::RLock(guard) => guard.is_some() && self.rlock().is_some_and(RLock::is_mine),
        }
    }

    fn rlock(&self) -> Option<&RLock> {
        match &self.cond.lock {
            Guarded::RLock(lock) => Some(lock),
            Guarded::Lock(_) => None,
        }
    }

    fn check_held(&self) -> Result<()> {
        if self.holds() {
            Ok(())
        } else {
            // Only a wait that could not take the lock back (it was not
            // recoverable) leaves a guard without it.
            Err(Error::NotRecoverable)
        }
    }

    /// Releases the lock completely.
    fn release(&mut self) -> Result<Released> {
        self.check_held()?;
        match &mut self.held {
            Holding::Lock(guard) => {
                drop(guard.take());
                Ok(Released::Lock)
            }
            Holding::RLock(_) => {
                let lock = self.rlock().expect("an RLock condition");
                lock.release_all()
                    .map(Released::RLock)
                    .ok_or(Error::NotRecoverable)
            }
        }
    }

    /// The lock is held again (by `acquired`): record it.
    fn hold_again(&mut self, released: Released) {
        match released {
            Released::Lock => {
                let mutex = self.cond.mutex();
                self.held = Holding::Lock(Some(LockGuard::from_held(Held::new(mutex))));
            }
            Released::RLock(depth) => {
                self.rlock().expect("an RLock condition").restore(depth);
            }
        }
    }

    /// Takes the lock back, waiting for it without giving up: a guard
    /// always ends a wait holding its lock (as Python's does), unless the
    /// lock can never be taken again.
    fn relock(&mut self, released: Released) -> Result<Acquired> {
        let mutex = self.cond.mutex();
        let acquired = mutex.lock_brief();
        if acquired.is_ok() {
            // Taken back: the timeline shows the hold again (the release
            // was recorded when the wait let go).
            mutex.record(trace::lock_acquired);
            self.hold_again(released);
        }
        acquired
    }

    /// Looks whether the lock's holder died, without waiting: if so, takes
    /// the lock and returns true.
    fn holder_died(&mut self, released: Released) -> Result<bool> {
        let mutex = self.cond.mutex();
        match mutex.peek() {
            Ok(Acquired::Clean) => {
                mutex.unlock();
                Ok(false)
            }
            Ok(Acquired::OwnerDied) => {
                mutex.record(trace::lock_acquired);
                self.hold_again(released);
                Ok(true)
            }
            Err(Error::WouldBlock) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Waits until notified. The lock is released while waiting and held
    /// again when this returns, whatever it returns (unless the lock is
    /// [`Error::NotRecoverable`]).
    ///
    /// # Errors
    /// [`Error::OwnerDied`] when a process died holding the lock: this
    /// guard holds it now; repair, [`ConditionGuard::make_consistent`],
    /// and wait again if need be. [`Error::Interrupted`] after SIGINT or
    /// SIGTERM, noticed within [`crate::blocking::POLL_INTERVAL`] (taking
    /// the lock back may take longer, if another process holds it).
    pub fn wait(&mut self) -> Result<()> {
        self.wait_until(Deadline::NEVER)
    }

    /// As [`ConditionGuard::wait`], giving up after `timeout` (the lock is
    /// held again then, too).
    ///
    /// # Errors
    /// As [`ConditionGuard::wait`], plus [`Error::Timeout`].
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<()> {
        self.wait_until(Deadline::after(timeout))
    }

    /// As [`ConditionGuard::wait`], giving up at `deadline`.
    ///
    /// # Errors
    /// As [`ConditionGuard::wait_timeout`].
    pub fn wait_until(&mut self, deadline: Deadline) -> Result<()> {
        let cond = self.cond;
        let body = cond.body();
        self.check_held()?;
        let arrival = body.epoch.load(Ordering::SeqCst);
        body.waiting.fetch_add(1, Ordering::SeqCst);
        let released = match self.release() {
            Ok(released) => released,
            Err(error) => {
                body.waiting.fetch_sub(1, Ordering::SeqCst);
                return Err(error);
            }
        };
        let mut seen = arrival;
        let woke = blocking::wait(deadline, |slice| {
            let woke = if slice.is_zero() {
                None
            } else {
                Some(futex::wait(&body.epoch, seen, slice)?)
            };
            if body.epoch.load(Ordering::SeqCst) == seen {
                // A whole slice without a notify: is somebody dead holding
                // the lock?
                let quiet = woke == Some(Wake::TimedOut);
                return Ok((quiet && self.holder_died(released)?).then_some(Woke::HolderDied));
            }
            if let Acquired::OwnerDied = self.relock(released)? {
                return Ok(Some(Woke::HolderDied));
            }
            if take_token(body, arrival) {
                return Ok(Some(Woke::Notified));
            }
            // Somebody else took the token: sleep again.
            seen = body.epoch.load(Ordering::SeqCst);
            self.release()?;
            Ok(None)
        });
        match woke {
            Ok(Woke::Notified) => Ok(()),
            Ok(Woke::HolderDied) => {
                leave(body, arrival, true);
                wake_everyone(body)?;
                Err(Error::OwnerDied)
            }
            Err(error) => {
                if !self.holds() {
                    // The lock was released by the wait: take it back.
                    if let Acquired::OwnerDied = self.relock(released)? {
                        leave(body, arrival, true);
                        wake_everyone(body)?;
                        return Err(Error::OwnerDied);
                    }
                }
                if matches!(error, Error::Timeout) && take_token(body, arrival) {
                    // Notified just as the time ran out: a success.
                    return Ok(());
                }
                leave(body, arrival, false);
                if body.tokens.load(Ordering::SeqCst) > 0 {
                    // Pass on a notify this waiter might have consumed.
                    futex::wake(&body.epoch, 1)?;
                }
                Err(error)
            }
        }
    }

    /// Waits until `predicate` holds (at once if it does), checking it with
    /// the lock held after each wake-up: Python's `wait_for`.
    ///
    /// # Errors
    /// As [`ConditionGuard::wait`].
    pub fn wait_for(&mut self, predicate: impl FnMut() -> bool) -> Result<()> {
        self.wait_for_until(Deadline::NEVER, predicate)
    }

    /// As [`ConditionGuard::wait_for`], giving up after `timeout`.
    ///
    /// # Errors
    /// As [`ConditionGuard::wait`], plus [`Error::Timeout`] when the
    /// predicate still does not hold at the end (the lock is held again).
    pub fn wait_for_timeout(
        &mut self,
        timeout: Duration,
        predicate: impl FnMut() -> bool,
    ) -> Result<()> {
        self.wait_for_until(Deadline::after(timeout), predicate)
    }

    /// As [`ConditionGuard::wait_for`], giving up at `deadline`.
    ///
    /// # Errors
    /// As [`ConditionGuard::wait_for_timeout`].
    pub fn wait_for_until(
        &mut self,
        deadline: Deadline,
        mut predicate: impl FnMut() -> bool,
    ) -> Result<()> {
        loop {
            if predicate() {
                return Ok(());
            }
            match self.wait_until(deadline) {
                Ok(()) => {}
                Err(Error::Timeout) if predicate() => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    }

    /// Wakes up to `n` of the processes waiting on the condition (Python's
    /// `notify(n)`); they go on once this guard releases the lock.
    ///
    /// # Errors
    /// [`Error::NotRecoverable`] when a wait lost the lock; [`Error::Sys`]
    /// naming `futex` (only on a bug).
    pub fn notify(&self, n: u32) -> Result<()> {
        self.check_held()?;
        let body = self.cond.body();
        let picked = n.min(body.waiting.load(Ordering::SeqCst));
        if picked == 0 {
            return Ok(());
        }
        // In this order, so that a notifier killed between two of these
        // stores leaves the counters usable (see the module).
        body.epoch.fetch_add(1, Ordering::SeqCst);
        body.tokens.fetch_add(picked, Ordering::SeqCst);
        body.waiting.fetch_sub(picked, Ordering::SeqCst);
        futex::wake(&body.epoch, picked)?;
        Ok(())
    }

    /// Wakes every process waiting on the condition (Python's
    /// `notify_all()`).
    ///
    /// # Errors
    /// As [`ConditionGuard::notify`].
    pub fn notify_all(&self) -> Result<()> {
        self.notify(u32::MAX)
    }

    /// Declares the protected state repaired after [`Error::OwnerDied`]
    /// (from [`Condition::lock`] or a wait), so that the lock can be used
    /// again; otherwise dropping this guard leaves it
    /// [`Error::NotRecoverable`] for everybody.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `pthread_mutex_consistent`.
    pub fn make_consistent(&self) -> Result<()> {
        self.check_held()?;
        self.cond.mutex().make_consistent()
    }
}

/// Under the lock, after its holder died: every waiter wakes (as after a
/// notify_all) and looks again at what the lock protects, since the dead
/// process may have changed it and died before it could notify. A
/// spurious wake-up at worst.
fn wake_everyone(body: &Body) -> Result<()> {
    let waiting = body.waiting.load(Ordering::SeqCst);
    if waiting > 0 {
        body.epoch.fetch_add(1, Ordering::SeqCst);
        body.tokens.fetch_add(waiting, Ordering::SeqCst);
        body.waiting.fetch_sub(waiting, Ordering::SeqCst);
        futex::wake(&body.epoch, u32::MAX)?;
    }
    Ok(())
}

/// Takes a token from a notify that came after `arrival`, if any.
fn take_token(body: &Body, arrival: u32) -> bool {
    if body.epoch.load(Ordering::SeqCst) != arrival && body.tokens.load(Ordering::SeqCst) > 0 {
        body.tokens.fetch_sub(1, Ordering::SeqCst);
        true
    } else {
        false
    }
}

/// A waiter leaves without being woken: it no longer counts. With
/// `consume`, a token meant for it is taken rather than left for another.
fn leave(body: &Body, arrival: u32, consume: bool) {
    if consume && take_token(body, arrival) {
        return;
    }
    let waiting = body.waiting.load(Ordering::SeqCst);
    if waiting > 0 {
        body.waiting.store(waiting - 1, Ordering::SeqCst);
    } else {
        // Every waiter was picked, this one too: give its token up.
        let tokens = body.tokens.load(Ordering::SeqCst);
        body.tokens
            .store(tokens.saturating_sub(1), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_timed_wait_times_out_holding_the_lock() {
        for cond in [
            Condition::new().unwrap(),
            Condition::with_lock(Lock::new().unwrap()).unwrap(),
        ] {
            let mut guard = cond.lock().unwrap();
            let start = Instant::now();
            assert!(matches!(
                guard.wait_timeout(Duration::from_millis(30)),
                Err(Error::Timeout)
            ));
            assert!(start.elapsed() >= Duration::from_millis(30));
            assert!(guard.holds());
            std::thread::scope(|s| {
                s.spawn(|| {
                    assert!(matches!(
                        cond.try_lock(),
                        Err(LockError::Failed(Error::WouldBlock))
                    ));
                })
                .join()
                .unwrap();
            });
            assert_eq!(cond.body().waiting.load(Ordering::Relaxed), 0);
        }
    }

    #[test]
    fn notify_one_wakes_one_thread() {
        let cond = Condition::with_lock(Lock::new().unwrap()).unwrap();
        let woken = AtomicU32::new(0);
        std::thread::scope(|s| {
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        let mut guard = cond.lock().unwrap();
                        if guard.wait_timeout(Duration::from_millis(600)).is_ok() {
                            woken.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            while cond.body().waiting.load(Ordering::SeqCst) < 3 {
                std::thread::sleep(Duration::from_millis(1));
            }
            cond.lock().unwrap().notify(1).unwrap();
            for waiter in waiters {
                waiter.join().unwrap();
            }
        });
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        let body = cond.body();
        assert_eq!(body.waiting.load(Ordering::SeqCst), 0);
        assert_eq!(body.tokens.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_notify_before_a_wait_does_not_wake_it() {
        let cond = Condition::new().unwrap();
        let mut guard = cond.lock().unwrap();
        guard.notify_all().unwrap();
        assert!(matches!(
            guard.wait_timeout(Duration::from_millis(20)),
            Err(Error::Timeout)
        ));
    }
}
