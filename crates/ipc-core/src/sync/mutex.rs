//! A robust, process-shared mutex on `pthread_mutex_t`.
//!
//! The mutex lives in shared memory and is initialised with
//! `PTHREAD_PROCESS_SHARED` and `PTHREAD_MUTEX_ROBUST`
//! (`pthread_mutexattr_setrobust(3)`): the kernel remembers which thread
//! holds it, and when that thread dies, the next locker gets `EOWNERDEAD`
//! together with the lock. It must then repair the data and call
//! `pthread_mutex_consistent(3)`; if it unlocks without doing so, the mutex
//! becomes unusable for good (`ENOTRECOVERABLE`), which is reported as an
//! error rather than a hang.

use std::fmt;
use std::marker::PhantomData;
use std::mem::size_of;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::errno::Errno;

use std::sync::Arc;

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::name::IpcName;
#[cfg(doc)]
use crate::shm::SharedMemory;
use crate::sync::region::{Kind, MUTEX_SLOT, Region};
use crate::trace;

/// A `pthread_mutex_t` living in shared memory.
///
/// It does not own that memory: the owner keeps the mapping alive for as
/// long as the `RobustMutex` exists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RobustMutex {
    raw: NonNull<libc::pthread_mutex_t>,
    /// Its id in the run's `--trace` timeline; 0 for a mutex not shown
    /// there (the queue's and the pipe's, held for nanoseconds).
    trace_id: u64,
}

/// How a lock attempt went, before it is wrapped into a guard.
pub(crate) enum Acquired {
    /// The lock is held, and the data is consistent.
    Clean,
    /// The lock is held, but its previous holder died holding it.
    OwnerDied,
}

// SAFETY: a process-shared pthread mutex may be used from any thread of any
// process that maps it.
unsafe impl Send for RobustMutex {}
// SAFETY: as above; every operation goes through the pthread functions.
unsafe impl Sync for RobustMutex {}

impl RobustMutex {
    /// Bytes the mutex occupies in shared memory.
    pub(crate) const SIZE: usize = size_of::<libc::pthread_mutex_t>();

    /// Initialises a robust, process-shared mutex at `at`.
    ///
    /// # Safety
    /// `at` must point to [`RobustMutex::SIZE`] writable bytes, suitably
    /// aligned, in memory that stays mapped for as long as the returned
    /// value (and every copy of it in other processes) is used, and that no
    /// process uses as a mutex yet.
    pub(crate) unsafe fn init(at: *mut u8) -> Result<Self> {
        let raw = at.cast::<libc::pthread_mutex_t>();
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is a local the init call fills in; it is destroyed
        // below on every path after a successful init.
        check("pthread_mutexattr_init", unsafe {
            libc::pthread_mutexattr_init(attr.as_mut_ptr())
        })?;
        let attr_ptr = attr.as_mut_ptr();
        // SAFETY: `attr_ptr` was initialised just above and `raw` is valid
        // for writes (the caller's contract).
        let result = unsafe {
            check(
                "pthread_mutexattr_setpshared",
                libc::pthread_mutexattr_setpshared(attr_ptr, libc::PTHREAD_PROCESS_SHARED),
            )
            .and_then(|()| {
                check(
                    "pthread_mutexattr_setrobust",
                    libc::pthread_mutexattr_setrobust(attr_ptr, libc::PTHREAD_MUTEX_ROBUST),
                )
            })
            .and_then(|()| {
                check(
                    "pthread_mutex_init",
                    libc::pthread_mutex_init(raw, attr_ptr),
                )
            })
        };
        // SAFETY: `attr_ptr` is initialised and not used afterwards.
        unsafe { libc::pthread_mutexattr_destroy(attr_ptr) };
        result?;
        Ok(RobustMutex {
            // SAFETY: `at` is non-null (the caller's contract).
            raw: unsafe { NonNull::new_unchecked(raw) },
            trace_id: 0,
        })
    }

    /// Shows the mutex in the run's `--trace` timeline as `label`: its
    /// waits, and the spans it is held. Call it before the fork that shares
    /// it, so that every process records the same id.
    pub(crate) fn traced(self, label: &str) -> Self {
        self.traced_as(trace::new_object(label))
    }

    /// Shows the mutex in the `--trace` timeline under the id `trace_id`
    /// (a named object's, the same in every process that opens it).
    pub(crate) fn traced_as(mut self, trace_id: u64) -> Self {
        self.trace_id = trace_id;
        self
    }

    /// A handle to the mutex that [`RobustMutex::init`] set up at `at`.
    ///
    /// # Safety
    /// `at` must point to a mutex initialised by [`RobustMutex::init`]
    /// (in this process or another), in memory that stays mapped for as
    /// long as the returned value is used.
    pub(crate) unsafe fn attach(at: *mut u8) -> Self {
        RobustMutex {
            // SAFETY: `at` is non-null (the caller's contract).
            raw: unsafe { NonNull::new_unchecked(at.cast()) },
            trace_id: 0,
        }
    }

    /// Takes the mutex if it is free; [`Error::WouldBlock`] if it is not.
    pub(crate) fn try_lock(&self) -> Result<Acquired> {
        let acquired = self.peek()?;
        self.record(trace::lock_acquired);
        Ok(acquired)
    }

    /// As [`RobustMutex::try_lock`], without showing it in the timeline:
    /// a look that lets go at once unless the holder died (a condition's
    /// waiter checking on a silent lock records nothing, so the timeline
    /// shows no hold that was none).
    pub(crate) fn peek(&self) -> Result<Acquired> {
        self.attempt(Duration::ZERO)?.ok_or(Error::WouldBlock)
    }

    /// Waits for the mutex until `deadline`, in slices of at most
    /// [`blocking::POLL_INTERVAL`] so that a signal is noticed; a free
    /// mutex is taken at once, whatever the signal flag says.
    ///
    /// A held mutex is first watched for a spin ([`blocking::spin`]): most
    /// locks are held for nanoseconds (a `Value`'s increment) by a process
    /// running on another CPU, and a `pthread_mutex_timedlock(3)` that
    /// finds it held sleeps in the kernel and makes its holder's unlock a
    /// `FUTEX_WAKE`. The spin reads the mutex's lock word (glibc's
    /// `__lock`, the first word of a `pthread_mutex_t`: 0 when free), a
    /// hint only, and tries once it reads free.
    pub(crate) fn lock_until(&self, deadline: Deadline) -> Result<Acquired> {
        let mut taken = self.attempt(Duration::ZERO)?;
        if taken.is_none() {
            let mut failed = None;
            blocking::spin(deadline, || {
                if self.lock_word().load(Ordering::Relaxed) != 0 {
                    return false;
                }
                match self.attempt(Duration::ZERO) {
                    Ok(attempt) => taken = attempt,
                    Err(error) => failed = Some(error),
                }
                taken.is_some() || failed.is_some()
            });
            if let Some(error) = failed {
                return Err(error);
            }
        }
        if let Some(acquired) = taken {
            self.record(trace::lock_acquired);
            return Ok(acquired);
        }
        let mut waiting = false;
        let acquired = blocking::wait(deadline, |slice| {
            if !slice.is_zero() && !waiting {
                // The first try found it held: a wait the timeline shows.
                waiting = true;
                self.record(trace::lock_wait);
            }
            self.attempt(slice)
        })?;
        self.record(trace::lock_acquired);
        Ok(acquired)
    }

    /// The mutex's lock word: glibc's `__lock`, the first field of every
    /// `pthread_mutex_t` on Linux (the holder's thread id and flag bits, 0
    /// when free). Read as a hint only; the pthread calls decide.
    fn lock_word(&self) -> &AtomicU32 {
        const _: () = assert!(RobustMutex::SIZE >= size_of::<AtomicU32>());
        // SAFETY: the mutex's memory is mapped for as long as `self` is
        // used (the contract of `init` and `attach`), aligned for a
        // `pthread_mutex_t` (so for a u32), and glibc changes its first
        // word only with atomic instructions.
        unsafe { &*self.raw.as_ptr().cast::<AtomicU32>() }
    }

    /// Its id in the `--trace` timeline, 0 when it is not shown there.
    pub(crate) fn trace_id(&self) -> u64 {
        self.trace_id
    }

    /// Records `event` for this mutex in the run's trace, if it is shown.
    #[inline]
    pub(crate) fn record(&self, event: fn(u64)) {
        if self.trace_id != 0 {
            event(self.trace_id);
        }
    }

    /// Blocks until the mutex is held, with `pthread_mutex_lock(3)`, not
    /// giving up on a signal: for critical sections that last
    /// nanoseconds (a barrier's count), and for taking a lock back that a
    /// wait let go (a condition's), which must end holding it.
    pub(crate) fn lock_brief(&self) -> Result<Acquired> {
        // SAFETY: `raw` was initialised by `init` and is still mapped (the
        // caller of `init` keeps the memory alive).
        acquired("pthread_mutex_lock", unsafe {
            libc::pthread_mutex_lock(self.raw.as_ptr())
        })
    }

    /// Takes the mutex if it is free, with one `pthread_mutex_trylock(3)`:
    /// the fast path of the queue, whose every lock is taken for
    /// nanoseconds. `Ok(None)` while somebody else holds it.
    ///
    /// Only for a mutex whose holder's death is always repaired
    /// (`make_consistent` right away, as the queue does): glibc's trylock
    /// wedges a mutex left not recoverable, which [`RobustMutex::attempt`]
    /// avoids at the price of a clock read.
    #[inline]
    pub(crate) fn try_lock_repaired(&self) -> Result<Option<Acquired>> {
        // SAFETY: `raw` was initialised by `init` and is still mapped (the
        // caller of `init` keeps the memory alive).
        match unsafe { libc::pthread_mutex_trylock(self.raw.as_ptr()) } {
            libc::EBUSY => Ok(None),
            code => acquired("pthread_mutex_trylock", code).map(Some),
        }
    }

    /// One attempt, waiting at most `slice` (`pthread_mutex_timedlock(3)`
    /// with an absolute time `slice` from now); `Ok(None)` while somebody
    /// else holds it.
    ///
    /// A zero `slice` is a try: the time has passed, so the call takes a
    /// free mutex and fails at once with `ETIMEDOUT` on a held one, as
    /// POSIX requires. `pthread_mutex_trylock(3)` is not used: glibc's
    /// leaves a robust mutex that is not recoverable locked for ever
    /// (after its `ENOTRECOVERABLE`, every later lock hangs).
    fn attempt(&self, slice: Duration) -> Result<Option<Acquired>> {
        let until = if slice.is_zero() {
            // The try that takes every free mutex: any time in the past
            // will do (the epoch), and it needs no clock read, which cost
            // an uncontended `Value` lock more than half its speed (22 M
            // increments per second against 50 M).
            libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }
        } else {
            blocking::realtime_after(slice)
        };
        // SAFETY: `raw` was initialised by `init` and is still mapped (the
        // caller of `init` keeps the memory alive); `until` lives across
        // the call.
        match unsafe { libc::pthread_mutex_timedlock(self.raw.as_ptr(), &until) } {
            libc::ETIMEDOUT => Ok(None),
            code => acquired("pthread_mutex_timedlock", code).map(Some),
        }
    }

    /// Marks the state protected by a mutex taken with `OwnerDied` as
    /// repaired.
    pub(crate) fn make_consistent(&self) -> Result<()> {
        // SAFETY: as in `lock`; the caller holds the mutex.
        check("pthread_mutex_consistent", unsafe {
            libc::pthread_mutex_consistent(self.raw.as_ptr())
        })
    }

    /// Releases the mutex, which the caller holds.
    #[inline]
    pub(crate) fn unlock(&self) {
        // SAFETY: `raw` is initialised and mapped (see `attempt`); only
        // `Held` calls this, and a `Held` exists only while its process
        // holds the mutex.
        unsafe { libc::pthread_mutex_unlock(self.raw.as_ptr()) };
    }
}

/// Holds a [`RobustMutex`] until dropped: the one unlock-on-drop guard,
/// inside every public guard ([`LockGuard`], `ValueGuard`, `ArrayGuard`)
/// and the queue's.
///
/// Not `Send`: a pthread mutex is unlocked by the thread that locked it
/// (another thread's unlock fails with `EPERM` and leaves it held).
#[derive(Debug)]
pub(crate) struct Held<'a>(&'a RobustMutex, PhantomData<*const ()>);

impl<'a> Held<'a> {
    /// A guard for `mutex`, which the caller has just taken.
    #[inline]
    pub(crate) fn new(mutex: &'a RobustMutex) -> Self {
        Held(mutex, PhantomData)
    }

    /// Declares the state the mutex protects repaired after its holder
    /// died (`pthread_mutex_consistent(3)`).
    pub(crate) fn make_consistent(&self) -> Result<()> {
        self.0.make_consistent()
    }
}

impl Drop for Held<'_> {
    #[inline]
    fn drop(&mut self) {
        // Before letting go: the next holder's acquire comes after it.
        self.0.record(trace::lock_released);
        self.0.unlock();
    }
}

fn check(call: &'static str, code: libc::c_int) -> Result<()> {
    match code {
        0 => Ok(()),
        code => Err(Error::call(call, Errno::from_raw(code))),
    }
}

#[inline]
fn acquired(call: &'static str, code: libc::c_int) -> Result<Acquired> {
    match code {
        0 => Ok(Acquired::Clean),
        libc::EOWNERDEAD => Ok(Acquired::OwnerDied),
        libc::ENOTRECOVERABLE => Err(Error::NotRecoverable),
        code => Err(Error::call(call, Errno::from_raw(code))),
    }
}

/// Why a lock could not be taken cleanly.
///
/// `OwnerDied` carries the guard: the lock *is* held, but the process that
/// held it before died in the middle of its critical section. Inspect and
/// repair the protected data, then call the guard's `make_consistent`. A
/// guard dropped without that makes the lock unusable for good: every later
/// attempt fails with [`Error::NotRecoverable`], so a broken invariant is
/// never silently trusted.
pub enum LockError<G> {
    /// The previous holder died; the lock is held through the guard.
    OwnerDied(G),
    /// Any other failure: [`Error::NotRecoverable`], [`Error::WouldBlock`]
    /// (`try_lock`), [`Error::Timeout`], [`Error::Interrupted`], or a failed
    /// call.
    Failed(Error),
}

impl<G> LockError<G> {
    /// The guard, if the lock was taken despite the error.
    pub fn into_guard(self) -> Option<G> {
        match self {
            LockError::OwnerDied(guard) => Some(guard),
            LockError::Failed(_) => None,
        }
    }
}

impl<G> fmt::Debug for LockError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDied(_) => f.write_str("OwnerDied(..)"),
            LockError::Failed(error) => f.debug_tuple("Failed").field(error).finish(),
        }
    }
}

impl<G> fmt::Display for LockError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDied(_) => Error::OwnerDied.fmt(f),
            LockError::Failed(error) => error.fmt(f),
        }
    }
}

impl<G> std::error::Error for LockError<G> {}

impl<G> From<LockError<G>> for Error {
    /// Drops the guard of an `OwnerDied` error (which leaves the lock not
    /// recoverable) and keeps only what happened.
    fn from(error: LockError<G>) -> Self {
        match error {
            LockError::OwnerDied(_) => Error::OwnerDied,
            LockError::Failed(error) => error,
        }
    }
}

/// Wraps an attempt on `mutex` into a guard (built by `guard` around the
/// [`Held`] mutex) or a [`LockError`].
pub(crate) fn guard_with<'a, G>(
    mutex: &'a RobustMutex,
    attempt: Result<Acquired>,
    guard: impl FnOnce(Held<'a>) -> G,
) -> std::result::Result<G, LockError<G>> {
    match attempt {
        Ok(Acquired::Clean) => Ok(guard(Held::new(mutex))),
        Ok(Acquired::OwnerDied) => Err(LockError::OwnerDied(guard(Held::new(mutex)))),
        Err(error) => Err(LockError::Failed(error)),
    }
}

/// A lock shared by processes, like Python's `multiprocessing.Lock`.
///
/// It lives in anonymous shared memory: make it before forking and the
/// children share it. Cloning gives another handle to the same lock.
/// [`Lock::create`] and [`Lock::open`] put it in a named segment instead,
/// for processes that are not parent and child.
///
/// | Python | here |
/// | --- | --- |
/// | `Lock()` | [`Lock::new`] |
/// | `with lock:` / `acquire()` … `release()` | [`Lock::lock`], the guard's drop |
/// | `acquire(block=False)` | [`Lock::try_lock`] ([`Error::WouldBlock`]) |
/// | `acquire(timeout=t)` | [`Lock::lock_timeout`] ([`Error::Timeout`]) |
///
/// Two differences, both on purpose: only the holder releases it (Python
/// lets any process call `release()`; here the release is the guard's
/// drop), and a holder that dies does not leave it locked for ever: the
/// next locker gets [`LockError::OwnerDied`] with the lock held.
///
/// ```
/// use std::time::Duration;
/// use ipc_core::{Error, Lock, LockError, Process};
///
/// let lock = Lock::new().unwrap();
/// {
///     let _held = lock.lock().unwrap();
///     assert!(matches!(
///         lock.try_lock(),
///         Err(LockError::Failed(Error::WouldBlock))
///     ), "held above");
///     // Another process waits for it, and gives up after its timeout.
///     let mut child = Process::spawn("child", || {
///         matches!(
///             lock.lock_timeout(Duration::from_millis(50)),
///             Err(LockError::Failed(Error::Timeout))
///         ) as i32
///     })
///     .unwrap();
///     assert_eq!(child.join().unwrap().code(), 1);
/// }
/// assert!(lock.try_lock().is_ok(), "released when the guard dropped");
/// ```
#[derive(Debug, Clone)]
pub struct Lock {
    region: Arc<Region>,
    mutex: RobustMutex,
}

impl Lock {
    /// Makes a new, unlocked lock.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap` or a `pthread_mutex*` call.
    pub fn new() -> Result<Self> {
        let mut lock = Lock::untraced()?;
        lock.mutex = lock.mutex.traced("lock");
        Ok(lock)
    }

    /// A lock the `--trace` timeline does not show (the pipe's, which
    /// keeps its frames whole).
    pub(crate) fn untraced() -> Result<Self> {
        Self::whole(Region::anonymous(Kind::Lock, MUTEX_SLOT, init_at(0))?)
    }

    /// Makes a new, unlocked lock in the named segment `name` (mode 0600),
    /// which other processes attach to with [`Lock::open`]. The segment is
    /// removed when the creator's last handle is dropped.
    ///
    /// ```
    /// use ipc_core::{IpcName, Lock};
    ///
    /// let name = IpcName::unique("doc-lock").unwrap();
    /// let lock = Lock::create(&name).unwrap();
    /// let same = Lock::open(&name).unwrap();
    /// let _held = lock.lock().unwrap();
    /// assert!(same.try_lock().is_err(), "one lock, two handles");
    /// assert_eq!(same.name(), Some(&name));
    /// ```
    ///
    /// # Errors
    /// As [`SharedMemory::create`] (`File exists` when the name is taken).
    pub fn create(name: &IpcName) -> Result<Self> {
        let lock = Self::whole(Region::create(name, Kind::Lock, MUTEX_SLOT, init_at(0))?)?;
        Ok(lock.named_in_trace(name))
    }

    /// Attaches to the lock [`Lock::create`] made under `name`.
    ///
    /// # Errors
    /// As [`SharedMemory::open`] (`No such file or directory`);
    /// [`Error::Untrusted`] when the segment is not an ipc-core `Lock`.
    pub fn open(name: &IpcName) -> Result<Self> {
        Ok(Self::whole(Region::open(name, Kind::Lock)?)?.named_in_trace(name))
    }

    /// Shows a named lock in the `--trace` timeline under its name, the
    /// same id in every process and program that opens it.
    fn named_in_trace(mut self, name: &IpcName) -> Self {
        self.mutex = self.mutex.traced_as(trace::named_object(&name.path()));
        self
    }

    fn whole(region: Region) -> Result<Self> {
        // SAFETY: a Lock region holds a mutex initialised at offset 0.
        Ok(unsafe { Lock::in_region(Arc::new(region), 0) })
    }

    /// The lock whose mutex sits at `offset` of `region`'s body.
    ///
    /// # Safety
    /// A mutex initialised by [`RobustMutex::init`] must be there.
    pub(crate) unsafe fn in_region(region: Arc<Region>, offset: usize) -> Self {
        // SAFETY: the caller's contract; the region (kept in the handle)
        // keeps the mapping alive.
        let mutex = unsafe { RobustMutex::attach(region.ptr(offset)) };
        Lock { region, mutex }
    }

    /// The segment's name, for a lock made with `create` or `open`.
    pub fn name(&self) -> Option<&IpcName> {
        self.region.name()
    }

    pub(crate) fn mutex(&self) -> &RobustMutex {
        &self.mutex
    }

    super::lock_entry_points! {
        /// Blocks until the lock is held.
        ///
        /// # Errors
        /// [`LockError::OwnerDied`] with the lock held when its previous holder
        /// died; [`LockError::Failed`] with [`Error::NotRecoverable`] when such
        /// a lock was never made consistent, or [`Error::Interrupted`] when
        /// SIGINT or SIGTERM arrives while it waits ([`crate::blocking`]).
        LockGuard<'_>
    }

    /// Takes the lock only if it is free.
    ///
    /// # Errors
    /// As [`Lock::lock`], plus [`Error::WouldBlock`] when it is held.
    pub fn try_lock(&self) -> std::result::Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        let mutex = &self.mutex;
        guard_with(mutex, mutex.try_lock(), LockGuard)
    }

    /// Waits for the lock until `deadline`.
    ///
    /// # Errors
    /// As [`Lock::lock`], plus [`Error::Timeout`] when the time runs out.
    pub fn lock_until(
        &self,
        deadline: Deadline,
    ) -> std::result::Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        let mutex = &self.mutex;
        guard_with(mutex, mutex.lock_until(deadline), LockGuard)
    }
}

/// An `init` for [`Region`] that sets up a robust mutex at `offset` of the
/// body.
pub(crate) fn init_at(offset: usize) -> impl FnOnce(&Region) -> Result<()> {
    move |region| {
        // SAFETY: the body is fresh, zeroed, and has a MUTEX_SLOT reserved
        // at `offset` (each caller's layout); the region keeps it mapped.
        unsafe { RobustMutex::init(region.ptr(offset)) }.map(drop)
    }
}

/// Holds a [`Lock`] until dropped.
#[derive(Debug)]
pub struct LockGuard<'a>(Held<'a>);

impl<'a> LockGuard<'a> {
    /// A guard for a lock held through `held`.
    pub(crate) fn from_held(held: Held<'a>) -> Self {
        LockGuard(held)
    }

    /// Declares the protected state repaired after
    /// [`LockError::OwnerDied`], so that the lock can be used again.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `pthread_mutex_consistent` (`EINVAL` when the
    /// lock was not in the owner-died state).
    pub fn make_consistent(&self) -> Result<()> {
        self.0.make_consistent()
    }
}
