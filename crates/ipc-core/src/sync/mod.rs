//! Synchronisation between processes.
//!
//! [`Lock`] is Python's `multiprocessing.Lock`, made robust: when the
//! process holding it dies, the next [`Lock::lock`] says so
//! ([`LockError::OwnerDied`]) instead of waiting forever.

mod mutex;

pub use mutex::{Lock, LockError, LockGuard};
pub(crate) use mutex::{RobustMutex, guard_with};
