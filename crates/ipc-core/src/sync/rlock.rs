//! `RLock`: a recursive lock shared by processes, like Python's
//! `multiprocessing.RLock`.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::blocking::Deadline;
#[cfg(any(test, doc))]
use crate::error::Error;
use crate::error::Result;
use crate::name::IpcName;
use crate::sync::mutex::{Acquired, LockError, RobustMutex, init_at};
use crate::sync::region::{Atomics, Kind, MUTEX_SLOT, Region, fresh_id};

/// The body of an RLock: its mutex, then its id.
pub(crate) const BODY: usize = MUTEX_SLOT + 64;

#[repr(C)]
struct Id(AtomicU64);
// SAFETY: repr(C), atomics only.
unsafe impl Atomics for Id {}

/// How deep one thread holds one RLock.
struct Holding {
    id: u64,
    pid: u32,
    depth: u32,
}

thread_local! {
    /// The RLocks this thread holds, and how many times each. Kept per
    /// thread, not in shared memory: whether *this* thread holds a lock is
    /// then never confused by a dead holder that had the same pid and
    /// thread id. The pid tells a forked child's inherited copy (the child
    /// holds nothing) from the real thing.
    static HELD: RefCell<Vec<Holding>> = const { RefCell::new(Vec::new()) };
}

/// A recursive lock shared by processes: the thread that holds it may take
/// it again, and it is free once every guard is dropped.
///
/// Like [`crate::Lock`] it is robust: when the holding process dies, the
/// next locker gets [`LockError::OwnerDied`] instead of waiting for ever.
/// Only the holder releases it, by dropping its guards (Python raises an
/// error when another process calls `release()`; here another process
/// cannot even try). Cloning gives another handle to the same lock.
///
/// | Python | here |
/// | --- | --- |
/// | `RLock()` | [`RLock::new`] |
/// | `with rlock:` / `acquire()` … `release()` | [`RLock::lock`], the guard's drop |
/// | `acquire(block=False)` | [`RLock::try_lock`] ([`Error::WouldBlock`]) |
/// | `acquire(timeout=t)` | [`RLock::lock_timeout`] ([`Error::Timeout`]) |
///
/// ```
/// use ipc_core::{Error, LockError, Process, RLock};
///
/// let rlock = RLock::new().unwrap();
/// let outer = rlock.lock().unwrap();
/// let inner = rlock.lock().unwrap(); // the holder may lock it again
/// assert_eq!(rlock.depth(), 2);
/// // Another process may not take it.
/// let mut other = Process::spawn("other", || {
///     matches!(rlock.try_lock(), Err(LockError::Failed(Error::WouldBlock))) as i32
/// })
/// .unwrap();
/// assert_eq!(other.join().unwrap().code(), 1);
/// drop(inner);
/// assert!(rlock.is_mine(), "still held once");
/// drop(outer);
/// assert!(!rlock.is_mine());
/// let mut other = Process::spawn("other", || rlock.try_lock().is_ok() as i32).unwrap();
/// assert_eq!(other.join().unwrap().code(), 1, "free for others now");
/// ```
#[derive(Clone)]
pub struct RLock {
    region: Arc<Region>,
    mutex: RobustMutex,
    id: u64,
}

super::debug_by_accessors!(RLock: name, depth);

impl RLock {
    /// Makes a new, unlocked recursive lock in anonymous shared memory.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap` or a `pthread_mutex*` call.
    pub fn new() -> Result<Self> {
        let region = Region::anonymous(Kind::RLock, BODY, init(0))?;
        // SAFETY: `init(0)` set an RLock up at offset 0.
        Ok(unsafe { RLock::in_region(Arc::new(region), 0) })
    }

    /// Makes a new, unlocked recursive lock in the named segment `name`
    /// (mode 0600), for [`RLock::open`] in other processes. The segment is
    /// removed when the creator's last handle is dropped.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::create`].
    pub fn create(name: &IpcName) -> Result<Self> {
        let region = Region::create(name, Kind::RLock, BODY, init(0))?;
        // SAFETY: as in `new`.
        Ok(unsafe { RLock::in_region(Arc::new(region), 0) })
    }

    /// Attaches to the recursive lock [`RLock::create`] made under `name`.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::open`]; [`Error::Untrusted`] when the
    /// segment is not an ipc-core `RLock`.
    pub fn open(name: &IpcName) -> Result<Self> {
        let region = Region::open(name, Kind::RLock)?;
        // SAFETY: an RLock region was set up by `init(0)`.
        Ok(unsafe { RLock::in_region(Arc::new(region), 0) })
    }

    /// The RLock set up by [`init`] at `offset` of `region`'s body.
    ///
    /// # Safety
    /// [`init`]`(offset)` must have set that part of the body up.
    pub(crate) unsafe fn in_region(region: Arc<Region>, offset: usize) -> Self {
        // SAFETY: the caller's contract; the handle keeps the region.
        let mutex = unsafe { RobustMutex::attach(region.ptr(offset)) };
        let id = region
            .atomics::<Id>(offset + MUTEX_SLOT)
            .0
            .load(Ordering::Relaxed);
        RLock { region, mutex, id }
    }

    /// The segment's name, for a lock made with `create` or `open`.
    pub fn name(&self) -> Option<&IpcName> {
        self.region.name()
    }

    super::lock_entry_points! {
        /// Blocks until the calling thread holds the lock (at once if it
        /// already does).
        ///
        /// # Errors
        /// [`LockError::OwnerDied`] with the lock held when its previous holder
        /// died; [`LockError::Failed`] with [`Error::NotRecoverable`] when such
        /// a lock was never made consistent, or [`Error::Interrupted`] after
        /// SIGINT or SIGTERM.
        RLockGuard<'_>
    }

    /// Takes the lock if it is free or already held by the calling thread.
    ///
    /// # Errors
    /// As [`RLock::lock`], plus [`Error::WouldBlock`] when another holds it.
    pub fn try_lock(&self) -> std::result::Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.take(|| self.mutex.try_lock())
    }

    /// Waits for the lock until `deadline`.
    ///
    /// # Errors
    /// As [`RLock::lock`], plus [`Error::Timeout`].
    pub fn lock_until(
        &self,
        deadline: Deadline,
    ) -> std::result::Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.take(|| self.mutex.lock_until(deadline))
    }

    fn take(
        &self,
        attempt: impl FnOnce() -> Result<Acquired>,
    ) -> std::result::Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        if self.enter_again() {
            return Ok(self.guard());
        }
        match attempt() {
            Ok(acquired) => {
                self.restore(1);
                match acquired {
                    Acquired::Clean => Ok(self.guard()),
                    Acquired::OwnerDied => Err(LockError::OwnerDied(self.guard())),
                }
            }
            Err(error) => Err(LockError::Failed(error)),
        }
    }

    fn guard(&self) -> RLockGuard<'_> {
        RLockGuard {
            lock: self,
            _thread_bound: PhantomData,
        }
    }

    /// How many guards of the calling thread hold the lock (0 when it does
    /// not hold it).
    pub fn depth(&self) -> u32 {
        let pid = std::process::id();
        HELD.with_borrow(|held| {
            held.iter()
                .find(|h| h.id == self.id && h.pid == pid)
                .map_or(0, |h| h.depth)
        })
    }

    /// True when the calling thread holds the lock.
    pub fn is_mine(&self) -> bool {
        self.depth() > 0
    }

    /// One more level, if the calling thread holds the lock already.
    fn enter_again(&self) -> bool {
        let pid = std::process::id();
        HELD.with_borrow_mut(|held| {
            held.retain(|h| h.pid == pid);
            match held.iter_mut().find(|h| h.id == self.id) {
                Some(h) => {
                    h.depth += 1;
                    true
                }
                None => false,
            }
        })
    }

    /// Records that the calling thread holds the mutex, `depth` times.
    pub(crate) fn restore(&self, depth: u32) {
        let pid = std::process::id();
        HELD.with_borrow_mut(|held| {
            held.retain(|h| h.pid == pid && h.id != self.id);
            held.push(Holding {
                id: self.id,
                pid,
                depth,
            });
        });
    }

    /// Releases the lock completely, whatever the depth, and returns the
    /// depth, for [`crate::Condition`]'s wait; `None` if the calling
    /// thread did not hold it.
    pub(crate) fn release_all(&self) -> Option<u32> {
        let pid = std::process::id();
        let depth = HELD.with_borrow_mut(|held| {
            let at = held.iter().position(|h| h.id == self.id && h.pid == pid)?;
            Some(held.swap_remove(at).depth)
        })?;
        self.mutex.unlock();
        Some(depth)
    }

    /// Releases one level; the mutex itself when it was the last.
    fn leave(&self) {
        let pid = std::process::id();
        let last = HELD.with_borrow_mut(|held| {
            let Some(at) = held.iter().position(|h| h.id == self.id && h.pid == pid) else {
                // Not held: a Condition could not take it back after a
                // wait, and said so. Nothing to release.
                return false;
            };
            held[at].depth -= 1;
            if held[at].depth == 0 {
                held.swap_remove(at);
                true
            } else {
                false
            }
        });
        if last {
            self.mutex.unlock();
        }
    }

    pub(crate) fn mutex(&self) -> &RobustMutex {
        &self.mutex
    }
}

/// An `init` for [`Region`] that sets an RLock up at `offset` of the body
/// ([`BODY`] bytes).
pub(crate) fn init(offset: usize) -> impl FnOnce(&Region) -> Result<()> {
    move |region| {
        init_at(offset)(region)?;
        region
            .atomics::<Id>(offset + MUTEX_SLOT)
            .0
            .store(fresh_id(), Ordering::Relaxed);
        Ok(())
    }
}

/// One level of an [`RLock`] held by the calling thread, released when
/// dropped (the lock itself is free once every guard is dropped).
///
/// A guard stays on the thread that took it (it is not `Send`): the lock
/// belongs to a thread.
pub struct RLockGuard<'a> {
    lock: &'a RLock,
    _thread_bound: PhantomData<*const ()>,
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("depth", &self.lock.depth())
            .finish()
    }
}

impl RLockGuard<'_> {
    /// Declares the protected state repaired after
    /// [`LockError::OwnerDied`], so that the lock can be used again.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `pthread_mutex_consistent`.
    pub fn make_consistent(&self) -> Result<()> {
        self.lock.mutex.make_consistent()
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        self.lock.leave();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn depth_counts_nested_guards_in_any_drop_order() {
        let rlock = RLock::new().unwrap();
        let a = rlock.lock().unwrap();
        let b = rlock.try_lock().unwrap();
        let c = rlock.lock_timeout(Duration::ZERO).unwrap();
        assert_eq!(rlock.depth(), 3);
        drop(a); // not the innermost: fine, it only counts
        assert_eq!(rlock.depth(), 2);
        drop(c);
        drop(b);
        assert_eq!(rlock.depth(), 0);
        // Free: another thread takes it.
        std::thread::scope(|s| {
            s.spawn(|| assert!(rlock.try_lock().is_ok()))
                .join()
                .unwrap();
        });
    }

    #[test]
    fn another_thread_waits_and_times_out() {
        let rlock = RLock::new().unwrap();
        let _held = rlock.lock().unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(matches!(
                    rlock.lock_timeout(Duration::from_millis(20)),
                    Err(LockError::Failed(Error::Timeout))
                ));
                assert_eq!(rlock.depth(), 0);
            })
            .join()
            .unwrap();
        });
    }

    #[test]
    fn release_all_and_restore_keep_the_depth() {
        let rlock = RLock::new().unwrap();
        let a = rlock.lock().unwrap();
        let b = rlock.lock().unwrap();
        assert_eq!(rlock.release_all(), Some(2));
        assert!(!rlock.is_mine());
        std::thread::scope(|s| {
            s.spawn(|| drop(rlock.try_lock().unwrap())).join().unwrap();
        });
        assert!(matches!(rlock.mutex.try_lock(), Ok(Acquired::Clean)));
        rlock.restore(2);
        drop(b);
        drop(a);
        assert!(!rlock.is_mine());
        assert_eq!(rlock.release_all(), None);
    }

    #[test]
    fn named_handles_share_one_lock() {
        let name = IpcName::unique("rlock").unwrap();
        let made = RLock::create(&name).unwrap();
        let opened = RLock::open(&name).unwrap();
        let _g = made.lock().unwrap();
        assert!(opened.is_mine(), "the same id through either mapping");
        assert_eq!(opened.depth(), 1);
        let _again = opened.lock().unwrap();
        assert_eq!(made.depth(), 2);
    }
}
