//! Synchronisation between processes: the twins of Python's
//! `multiprocessing` locks, semaphores, events, conditions and barriers.
//!
//! | Python | here | what it is for |
//! | --- | --- | --- |
//! | `Lock` | [`Lock`] | one process at a time in a critical section |
//! | `RLock` | [`RLock`] | the same, and the holder may lock it again |
//! | `Semaphore` | [`Semaphore`] | at most N at a time; counting free slots or items |
//! | `BoundedSemaphore` | [`BoundedSemaphore`] | the same, and an extra release is an error |
//! | `Event` | [`Event`] | one process lets every waiting one go |
//! | `Condition` | [`Condition`] | wait under a lock until what it protects changes |
//! | `Barrier` | [`Barrier`] | N processes meet, round after round |
//!
//! Every one of them:
//!
//! * lives in shared memory: made before `fork`, it is shared with the
//!   children (anonymous memory, nothing to clean up); `create(name, …)`
//!   and `open(name)` put it in a named segment for unrelated processes
//!   (see [`crate::SharedMemory::create`]);
//! * waits without busy-waiting: a blocked process sleeps in the kernel,
//!   on a futex ([`futex`]) or in `pthread_mutex_timedlock(3)`, after
//!   watching the futex word for a few microseconds at most
//!   ([`crate::blocking::spin`]: the other side, running on another CPU,
//!   usually comes within them);
//! * waits through [`crate::blocking`]: every wait has a `_timeout` and an
//!   `_until` form ([`Error::Timeout`](crate::Error::Timeout)), a `try_`
//!   form where Python has `block=False`
//!   ([`Error::WouldBlock`](crate::Error::WouldBlock)), and notices
//!   SIGINT or SIGTERM within [`crate::blocking::POLL_INTERVAL`]
//!   ([`Error::Interrupted`](crate::Error::Interrupted));
//! * says what a dead process leaves: the locks are robust (the next
//!   locker gets [`LockError::OwnerDied`] instead of waiting for ever), a
//!   [`Barrier`] breaks when one of its parties dies, a [`Condition`]'s
//!   waiters take over a lock whose holder died, and the owner-less
//!   [`Semaphore`] and [`Event`] document what cannot be known (each
//!   type's page).

/// `lock` and `lock_timeout` for a lock type whose `lock_until(deadline)`
/// does the work: waiting as long as it takes and waiting at most a while
/// are both a [`Deadline`](crate::blocking::Deadline), made here once for
/// every lock (`Lock`, `RLock`, `Condition`, `Value`, `Array`). The doc
/// comment given before the guard type becomes `lock`'s.
macro_rules! lock_entry_points {
    ($(#[$lock_doc:meta])* $guard:ty) => {
        $(#[$lock_doc])*
        pub fn lock(&self) -> ::std::result::Result<$guard, $crate::sync::LockError<$guard>> {
            self.lock_until($crate::blocking::Deadline::NEVER)
        }

        /// Waits at most `timeout` for the lock.
        ///
        /// # Errors
        /// As [`Self::lock`], plus [`Error::Timeout`](crate::Error::Timeout)
        /// when the time runs out.
        pub fn lock_timeout(
            &self,
            timeout: ::std::time::Duration,
        ) -> ::std::result::Result<$guard, $crate::sync::LockError<$guard>> {
            self.lock_until($crate::blocking::Deadline::after(timeout))
        }
    };
}
pub(crate) use lock_entry_points;

/// `Debug` for a synchronisation object: its type, then what each of the
/// given accessors says now (`debug_by_accessors!(Event: name, is_set)`
/// prints `Event { name: Some(…), is_set: false }`), read through the same
/// methods a caller would use.
macro_rules! debug_by_accessors {
    ($type:ident: $($accessor:ident),+) => {
        impl ::std::fmt::Debug for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($type))
                    $(.field(stringify!($accessor), &self.$accessor()))+
                    .finish()
            }
        }
    };
}
pub(crate) use debug_by_accessors;

pub mod barrier;
pub mod condition;
pub mod event;
#[allow(unsafe_code)]
pub mod futex;
mod mutex;
mod region;
pub mod rlock;
pub mod semaphore;
mod tasks;

pub use barrier::{Barrier, MAX_PARTIES};
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub(crate) use mutex::{Acquired, Held, RobustMutex, guard_with};
pub use mutex::{Lock, LockError, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore};
pub(crate) use tasks::Tasks;
