//! Synchronisation between processes.
//!
//! [`Lock`] is Python's `multiprocessing.Lock`, made robust: when the
//! process holding it dies, the next [`Lock::lock`] says so
//! ([`LockError::OwnerDied`]) instead of waiting forever.

#[allow(unsafe_code)]
pub mod futex;
mod mutex;

pub(crate) use mutex::{Acquired, Held, RobustMutex, guard_with};
pub use mutex::{Lock, LockError, LockGuard};
