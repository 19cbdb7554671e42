//! `Semaphore` and `BoundedSemaphore`: counting semaphores shared by
//! processes, like Python's `multiprocessing.Semaphore` and
//! `BoundedSemaphore`.
//!
//! # How it works
//!
//! The value is a 32-bit word in shared memory. `acquire` takes one unit
//! with a compare-and-swap when the value is above 0; when it is 0, it
//! watches the word for a few microseconds ([`crate::blocking::spin`]),
//! then counts itself as a sleeper and sleeps on the word with
//! `FUTEX_WAIT` (`futex(2)`), in slices of at most
//! [`crate::blocking::POLL_INTERVAL`] ([`crate::blocking::wait`]).
//! `release` adds one unit and, only if somebody sleeps, wakes one sleeper
//! with `FUTEX_WAKE`: with nobody waiting, an acquire and a release are two
//! atomic instructions and no system call.
//!
//! # A process that dies
//!
//! A semaphore has no owner: any process may release a unit that another
//! acquired (the producer–consumer pattern relies on it). So when a process
//! dies between its `acquire` and its `release`, nothing can tell that the
//! unit it took will never come back: the value stays one lower for good,
//! and a process that waits for that unit waits until its deadline
//! ([`Error::Timeout`]). Bound such waits (`acquire_timeout`), or let the
//! parent notice the dead child (`ipc_core::join_all`). A process killed
//! while *waiting* in `acquire` took nothing and loses nothing.
//!
//! # In a `--trace` timeline
//!
//! A semaphore made with `new` is labelled `semaphore (initial value N)`
//! (`bounded semaphore …`), a named one by its name; its events are
//! `sem_wait` (the first try found no unit), `sem_acquire` (a unit taken,
//! with the value left) and `sem_release` (recorded before the unit is
//! given back, so that the acquire it lets through comes after it). A
//! producer–consumer run thus shows who waited on which semaphore.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::name::IpcName;
use crate::sync::futex::{self, Wake};
use crate::sync::region::{Atomics, Kind, Region};
use crate::trace;

#[repr(C)]
struct Body {
    /// The value; the futex word.
    count: AtomicU32,
    /// How many processes sleep (or are about to) on `count` and have not
    /// been woken yet.
    sleepers: AtomicU32,
    /// The highest value a release may reach.
    bound: AtomicU32,
}

// SAFETY: repr(C), atomics only.
unsafe impl Atomics for Body {}

const BODY: usize = std::mem::size_of::<Body>();

/// The semaphore both public types share.
#[derive(Clone)]
struct Counter {
    region: Arc<Region>,
    /// Its id in the run's `--trace` timeline.
    trace_id: u64,
}

impl Counter {
    fn init(value: u32, bound: u32) -> impl FnOnce(&Region) -> Result<()> {
        move |region| {
            let body = region.atomics::<Body>(0);
            body.count.store(value, Ordering::Relaxed);
            body.bound.store(bound, Ordering::Relaxed);
            Ok(())
        }
    }

    fn new(kind: Kind, value: u32, bound: u32) -> Result<Self> {
        let region = Region::anonymous(kind, BODY, Self::init(value, bound))?;
        let label = match kind {
            Kind::BoundedSemaphore => "bounded semaphore",
            _ => "semaphore",
        };
        Ok(Counter {
            region: Arc::new(region),
            trace_id: trace::new_object(format_args!("{label} (initial value {value})")),
        })
    }

    fn create(name: &IpcName, kind: Kind, value: u32, bound: u32) -> Result<Self> {
        let region = Region::create(name, kind, BODY, Self::init(value, bound))?;
        Ok(Counter {
            region: Arc::new(region),
            trace_id: trace::named_object(&name.path()),
        })
    }

    fn open(name: &IpcName, kind: Kind) -> Result<Self> {
        Ok(Counter {
            region: Arc::new(Region::open(name, kind)?),
            trace_id: trace::named_object(&name.path()),
        })
    }

    fn body(&self) -> &Body {
        self.region.atomics(0)
    }

    /// Takes a unit if there is one, and gives the value it left.
    fn take(&self) -> Option<u32> {
        let count = &self.body().count;
        let mut value = count.load(Ordering::Relaxed);
        while value > 0 {
            match count.compare_exchange_weak(value, value - 1, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => return Some(value - 1),
                Err(now) => value = now,
            }
        }
        None
    }

    fn try_acquire(&self) -> Result<()> {
        let left = self.take().ok_or(Error::WouldBlock)?;
        trace::sem_acquired(self.trace_id, left);
        Ok(())
    }

    fn acquire_until(&self, deadline: Deadline) -> Result<()> {
        if let Some(left) = self.take() {
            trace::sem_acquired(self.trace_id, left);
            return Ok(());
        }
        trace::sem_wait(self.trace_id);
        // What the successful take left, for the timeline.
        let left = Cell::new(0);
        let take = || self.take().map(|value| left.set(value)).is_some();
        let outcome = self.wait_for_unit(deadline, take);
        if outcome.is_ok() {
            trace::sem_acquired(self.trace_id, left.get());
        }
        outcome
    }

    /// Waits until `take` takes a unit, or `deadline`.
    fn wait_for_unit(&self, deadline: Deadline, take: impl Fn() -> bool) -> Result<()> {
        let body = self.body();
        // A unit released by a process running on another CPU usually
        // comes within the spin: taken then, with no sleep and no wake-up.
        if blocking::spin(deadline, &take) {
            return Ok(());
        }
        let outcome = blocking::wait(deadline, |slice| {
            if take() {
                return Ok(Some(()));
            }
            if slice.is_zero() {
                return Ok(None);
            }
            // Count ourselves before the kernel looks at the word: a
            // release that comes after this either sees us and wakes us,
            // or came before and FUTEX_WAIT finds the word non-zero.
            body.sleepers.fetch_add(1, Ordering::SeqCst);
            let slept = futex::wait(&body.count, 0, slice);
            // Woken, we were counted out by the waker (see `wake_one`);
            // otherwise we count ourselves out.
            if !matches!(slept, Ok(Wake::Woken)) {
                body.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
            slept?;
            Ok(take().then_some(()))
        });
        if outcome.is_err() {
            // A release may have woken us just as we gave up: pass the
            // wake-up on, so that a unit is never left with sleepers.
            self.wake_one_if_needed()?;
        }
        outcome
    }

    fn release(&self) -> Result<()> {
        let body = self.body();
        let bound = body.bound.load(Ordering::Relaxed);
        let mut value = body.count.load(Ordering::Relaxed);
        if value < bound {
            // Before the unit is visible: the acquire it lets through
            // comes after it in the timeline.
            trace::sem_released(self.trace_id);
        }
        loop {
            if value >= bound {
                return Err(Error::TooManyReleases { limit: bound });
            }
            match body.count.compare_exchange_weak(
                value,
                value + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => value = now,
            }
        }
        self.wake_one_if_needed()
    }

    /// Wakes one sleeper if there is one and a unit for it, and counts it
    /// out of the sleepers at once: until it runs again (which takes a
    /// while when its CPU is busy), later releases do not wake it again,
    /// nor call the kernel to wake nobody. `FUTEX_WAIT` returns 0 only to a
    /// sleeper this call dequeued, so a sleeper counts itself out exactly
    /// when it was not woken (timed out, interrupted, or the word had
    /// changed).
    fn wake_one_if_needed(&self) -> Result<()> {
        let body = self.body();
        if body.sleepers.load(Ordering::SeqCst) > 0 && body.count.load(Ordering::SeqCst) > 0 {
            let woken = futex::wake(&body.count, 1)?;
            if woken > 0 {
                body.sleepers.fetch_sub(woken as u32, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    fn value(&self) -> u32 {
        self.body().count.load(Ordering::SeqCst)
    }

    fn bound(&self) -> u32 {
        self.body().bound.load(Ordering::Relaxed)
    }
}

macro_rules! semaphore_methods {
    ($kind:expr) => {
        /// Attaches to the semaphore made under `name` by `create`.
        ///
        /// # Errors
        /// As [`crate::SharedMemory::open`] (`No such file or directory`);
        /// [`Error::Untrusted`] when the segment is not this type of
        /// ipc-core object.
        pub fn open(name: &IpcName) -> Result<Self> {
            Ok(Self(Counter::open(name, $kind)?))
        }

        /// Takes a unit, waiting while the value is 0 (Python's
        /// `acquire()`).
        ///
        /// # Errors
        /// [`Error::Interrupted`] when SIGINT or SIGTERM arrives while it
        /// waits (after [`crate::signal::install`]), noticed within
        /// [`crate::blocking::POLL_INTERVAL`].
        pub fn acquire(&self) -> Result<()> {
            self.0.acquire_until(Deadline::NEVER)
        }

        /// Takes a unit only if the value is above 0 now (Python's
        /// `acquire(block=False)`).
        ///
        /// # Errors
        /// [`Error::WouldBlock`] when the value is 0.
        pub fn try_acquire(&self) -> Result<()> {
            self.0.try_acquire()
        }

        /// As `acquire`, waiting at most `timeout` (Python's
        /// `acquire(timeout=t)`).
        ///
        /// # Errors
        /// As `acquire`, plus [`Error::Timeout`] (nothing was taken).
        pub fn acquire_timeout(&self, timeout: Duration) -> Result<()> {
            self.0.acquire_until(Deadline::after(timeout))
        }

        /// As `acquire`, waiting until `deadline`.
        ///
        /// # Errors
        /// As `acquire_timeout`.
        pub fn acquire_until(&self, deadline: Deadline) -> Result<()> {
            self.0.acquire_until(deadline)
        }

        /// The value now (Python's `get_value()`): a snapshot that other
        /// processes may change at once.
        pub fn value(&self) -> u32 {
            self.0.value()
        }

        /// The segment's name, for a semaphore made with `create` or
        /// `open`.
        pub fn name(&self) -> Option<&IpcName> {
            self.0.region.name()
        }
    };
}

/// A counting semaphore shared by processes, like Python's
/// `multiprocessing.Semaphore`.
///
/// [`acquire`](Semaphore::acquire) takes a unit, waiting while there is
/// none; [`release`](Semaphore::release) gives one back, and any process
/// may release (no owner). Made before forking, it is shared with the
/// children; [`Semaphore::create`] and [`Semaphore::open`] name it for
/// unrelated processes. Cloning gives another handle to the same
/// semaphore. See the [module](self) for what a dead process leaves.
///
/// | Python | here |
/// | --- | --- |
/// | `Semaphore(value)` | [`Semaphore::new`] |
/// | `acquire()`, `acquire(timeout=t)` | [`Semaphore::acquire`], [`Semaphore::acquire_timeout`] |
/// | `acquire(block=False)` | [`Semaphore::try_acquire`] ([`Error::WouldBlock`]) |
/// | `release()` | [`Semaphore::release`] |
/// | `get_value()` | [`Semaphore::value`] |
///
/// ```
/// use std::time::Duration;
/// use ipc_core::{Error, Process, Semaphore};
///
/// let slots = Semaphore::new(2).unwrap();
/// slots.acquire().unwrap();
/// slots.acquire().unwrap();
/// assert!(matches!(slots.try_acquire(), Err(Error::WouldBlock)));
/// // A child waits for a unit; the parent's release lets it through.
/// let mut child = Process::spawn("child", || slots.acquire_timeout(Duration::from_secs(10)))
///     .unwrap();
/// slots.release().unwrap();
/// assert!(child.join().unwrap().success());
/// assert_eq!(slots.value(), 0, "the child took the unit and kept it");
/// assert!(matches!(
///     slots.acquire_timeout(Duration::from_millis(10)),
///     Err(Error::Timeout)
/// ));
/// ```
#[derive(Clone)]
pub struct Semaphore(Counter);

impl Semaphore {
    /// A semaphore holding `value` units, in anonymous shared memory.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap`.
    pub fn new(value: u32) -> Result<Self> {
        Ok(Semaphore(Counter::new(Kind::Semaphore, value, u32::MAX)?))
    }

    /// A semaphore holding `value` units in the named segment `name` (mode
    /// 0600), for [`Semaphore::open`] in other processes. The segment is
    /// removed when the creator's last handle is dropped.
    ///
    /// ```
    /// use ipc_core::{IpcName, Semaphore};
    ///
    /// let name = IpcName::unique("doc-sem").unwrap();
    /// let sem = Semaphore::create(&name, 1).unwrap();
    /// let same = Semaphore::open(&name).unwrap();
    /// same.acquire().unwrap();
    /// assert_eq!(sem.value(), 0);
    /// ```
    ///
    /// # Errors
    /// As [`crate::SharedMemory::create`] (`File exists`).
    pub fn create(name: &IpcName, value: u32) -> Result<Self> {
        Ok(Semaphore(Counter::create(
            name,
            Kind::Semaphore,
            value,
            u32::MAX,
        )?))
    }

    semaphore_methods!(Kind::Semaphore);

    /// Gives a unit back and wakes one waiting process, if any. Any
    /// process may release, whoever acquired.
    ///
    /// # Errors
    /// [`Error::TooManyReleases`] when the value is already `u32::MAX`.
    pub fn release(&self) -> Result<()> {
        self.0.release()
    }
}

/// A semaphore that refuses to be released above its initial value, like
/// Python's `multiprocessing.BoundedSemaphore`: a release without a
/// matching acquire is a bug, and it is reported instead of silently
/// letting one more process in.
///
/// Everything else is as [`Semaphore`].
///
/// ```
/// use ipc_core::{BoundedSemaphore, Error};
///
/// let sem = BoundedSemaphore::new(1).unwrap();
/// sem.acquire().unwrap();
/// sem.release().unwrap();
/// assert!(matches!(sem.release(), Err(Error::TooManyReleases { limit: 1 })));
/// assert_eq!(sem.value(), 1, "the extra release changed nothing");
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore(Counter);

impl BoundedSemaphore {
    /// A bounded semaphore holding `value` units, which is also the most
    /// it may ever hold.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap`.
    pub fn new(value: u32) -> Result<Self> {
        Ok(BoundedSemaphore(Counter::new(
            Kind::BoundedSemaphore,
            value,
            value,
        )?))
    }

    /// A bounded semaphore in the named segment `name`, as
    /// [`Semaphore::create`].
    ///
    /// # Errors
    /// As [`crate::SharedMemory::create`].
    pub fn create(name: &IpcName, value: u32) -> Result<Self> {
        Ok(BoundedSemaphore(Counter::create(
            name,
            Kind::BoundedSemaphore,
            value,
            value,
        )?))
    }

    semaphore_methods!(Kind::BoundedSemaphore);

    /// Gives a unit back and wakes one waiting process, if any.
    ///
    /// # Errors
    /// [`Error::TooManyReleases`] when the value is already the initial
    /// one (nothing changes).
    pub fn release(&self) -> Result<()> {
        self.0.release()
    }

    /// The initial value: the most the semaphore may hold.
    pub fn bound(&self) -> u32 {
        self.0.bound()
    }
}

super::debug_by_accessors!(Semaphore: name, value);
super::debug_by_accessors!(BoundedSemaphore: name, value, bound);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn units_are_counted() {
        let sem = Semaphore::new(3).unwrap();
        for _ in 0..3 {
            sem.try_acquire().unwrap();
        }
        assert!(matches!(sem.try_acquire(), Err(Error::WouldBlock)));
        sem.release().unwrap();
        assert_eq!(sem.value(), 1);
    }

    #[test]
    fn a_timed_acquire_waits_its_timeout() {
        let sem = Semaphore::new(0).unwrap();
        let start = Instant::now();
        assert!(matches!(
            sem.acquire_timeout(Duration::from_millis(30)),
            Err(Error::Timeout)
        ));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_release_wakes_a_waiting_thread() {
        let sem = Semaphore::new(0).unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| sem.acquire_timeout(Duration::from_secs(30)));
            std::thread::sleep(Duration::from_millis(20));
            sem.release().unwrap();
            waiter.join().unwrap().unwrap();
        });
        assert_eq!(sem.value(), 0);
    }

    #[test]
    fn the_unbounded_one_stops_at_u32_max() {
        let sem = Semaphore::new(u32::MAX).unwrap();
        assert!(matches!(
            sem.release(),
            Err(Error::TooManyReleases { limit: u32::MAX })
        ));
    }

    #[test]
    fn named_kinds_are_not_mixed_up() {
        let name = IpcName::unique("sem-kind").unwrap();
        let bounded = BoundedSemaphore::create(&name, 2).unwrap();
        assert!(matches!(
            Semaphore::open(&name),
            Err(Error::Untrusted { .. })
        ));
        let same = BoundedSemaphore::open(&name).unwrap();
        assert_eq!(same.bound(), 2);
        same.acquire().unwrap();
        assert_eq!(bounded.value(), 1);
    }
}
