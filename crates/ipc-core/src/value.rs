//! `Value<T>`: one number in shared memory, like Python's
//! `multiprocessing.Value`.
//!
//! [`Value`] comes with a robust process-shared lock, as Python's does by
//! default (`lock=True`); [`RawValue`] has none (`lock=False`,
//! `RawValue`), and can also live in a named segment that other programs
//! attach to.

use std::fmt;
use std::sync::Arc;

use crate::blocking::Deadline;
use crate::error::Result;
use crate::name::IpcName;
use crate::plain::{Plain, Slots};
use crate::sync::{Held, LockError, RobustMutex, guard_with};
use crate::trace;

/// One `T` in anonymous shared memory, behind a robust lock.
///
/// Make it before forking; the children share it. `get`, `set` and
/// `update` each take the lock for one operation; [`Value::lock`] holds it
/// across several (Python's `with v.get_lock():`).
///
/// In a `--trace` timeline it is a `value` guarded by its `lock`: every
/// read and write is an event of the process that did it, so the timeline
/// shows whether a read-modify-write happened inside one hold of the lock.
///
/// ```
/// use ipc_core::{Process, Value};
///
/// let v = Value::new(0_i32).unwrap();
/// let mut children: Vec<Process> = (0..3)
///     .map(|i| {
///         Process::spawn(format!("p{i}"), || {
///             for _ in 0..1000 {
///                 v.update(|x| x + 1)?;
///             }
///             Ok::<(), ipc_core::Error>(())
///         })
///         .unwrap()
///     })
///     .collect();
/// for child in &mut children {
///     assert!(child.join().unwrap().success());
/// }
/// assert_eq!(v.get().unwrap(), 3000);
/// ```
#[derive(Clone)]
pub struct Value<T: Plain> {
    inner: Arc<Locked<T>>,
}

impl<T: Plain> Value<T> {
    /// A new value holding `init`, with its own lock.
    ///
    /// # Errors
    /// [`crate::Error::Sys`] naming `mmap` or a `pthread_mutex*` call.
    pub fn new(init: T) -> Result<Self> {
        let inner = Locked::anonymous(1, "value")?;
        inner.slots.set(0, init);
        Ok(Value {
            inner: Arc::new(inner),
        })
    }

    crate::sync::lock_entry_points! {
        /// Takes the lock and returns a guard that reads and writes the value.
        ///
        /// # Errors
        /// [`LockError::OwnerDied`] (with the lock held) if the previous holder
        /// died; [`LockError::Failed`] with [`crate::Error::NotRecoverable`] if
        /// such a lock was never made consistent.
        ValueGuard<'_, T>
    }

    /// Waits for the lock until `deadline`.
    ///
    /// # Errors
    /// As [`Value::lock`], plus [`crate::Error::Timeout`] when the time
    /// runs out.
    pub fn lock_until(
        &self,
        deadline: Deadline,
    ) -> std::result::Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        self.inner.lock_until(deadline, ValueGuard::new)
    }

    /// Reads the value under the lock.
    ///
    /// # Errors
    /// As [`Value::lock`], converted to [`crate::Error`].
    pub fn get(&self) -> Result<T> {
        Ok(self.lock()?.get())
    }

    /// Writes the value under the lock.
    ///
    /// # Errors
    /// As [`Value::get`].
    pub fn set(&self, value: T) -> Result<()> {
        self.lock()?.set(value);
        Ok(())
    }

    /// Replaces the value with `f(value)` under the lock, and returns the
    /// new value: an atomic read-modify-write such as `v.update(|x| x + 1)`.
    ///
    /// # Errors
    /// As [`Value::get`].
    #[inline]
    pub fn update(&self, f: impl FnOnce(T) -> T) -> Result<T> {
        let guard = self.lock()?;
        let new = f(guard.get());
        guard.set(new);
        Ok(new)
    }
}

impl<T: Plain> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value").finish_non_exhaustive()
    }
}

/// The lock of a [`Value`], held until dropped.
#[derive(Debug)]
pub struct ValueGuard<'a, T: Plain> {
    slots: &'a Slots<T>,
    held: Held<'a>,
}

impl<'a, T: Plain> ValueGuard<'a, T> {
    fn new(slots: &'a Slots<T>, held: Held<'a>) -> Self {
        ValueGuard { slots, held }
    }

    /// Reads the value.
    #[inline]
    pub fn get(&self) -> T {
        self.slots.get(0)
    }

    /// Writes the value.
    #[inline]
    pub fn set(&self, value: T) {
        self.slots.set(0, value);
    }

    /// After [`LockError::OwnerDied`]: declares the value repaired so the
    /// lock can be used again.
    ///
    /// # Errors
    /// [`crate::Error::Sys`] naming `pthread_mutex_consistent`.
    pub fn make_consistent(&self) -> Result<()> {
        self.held.make_consistent()
    }
}

/// One `T` in shared memory without a lock (Python's `RawValue`).
///
/// Reads and writes are single atomic operations, but nothing makes a
/// read-modify-write (a `get`, then a `set` of a value computed from it)
/// atomic: two processes doing it at once lose updates.
///
/// A `RawValue` can also sit at the start of a named segment
/// ([`RawValue::create`], [`RawValue::open`]) in native byte order
/// (little-endian on x86-64), so that any program can attach to it.
///
/// ```
/// let flag = ipc_core::RawValue::new(0_u32).unwrap();
/// flag.set(1);
/// assert_eq!(flag.get(), 1);
/// ```
pub struct RawValue<T: Plain> {
    slots: Arc<Slots<T>>,
}

impl<T: Plain> RawValue<T> {
    /// A new value holding `init` in anonymous shared memory.
    ///
    /// # Errors
    /// [`crate::Error::Sys`] naming `mmap`.
    pub fn new(init: T) -> Result<Self> {
        let slots = Slots::anonymous(0, 1)?.traced(trace::new_data_object("raw value", 0));
        slots.set(0, init);
        Ok(RawValue {
            slots: Arc::new(slots),
        })
    }

    /// Creates the named segment `name`, exactly `size_of::<T>()` bytes,
    /// holding `init`. It is unlinked when the creator drops it.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::create`].
    pub fn create(name: &IpcName, init: T) -> Result<Self> {
        let slots = Slots::create(name, 1)?.traced(trace::named_object(&name.path()));
        slots.set(0, init);
        Ok(RawValue {
            slots: Arc::new(slots),
        })
    }

    /// Attaches to the value at the start of the existing segment `name`.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::open`]; [`crate::Error::TooSmall`] when the
    /// segment is smaller than a `T`.
    pub fn open(name: &IpcName) -> Result<Self> {
        let slots = Slots::open(name, 1)?.traced(trace::named_object(&name.path()));
        Ok(RawValue {
            slots: Arc::new(slots),
        })
    }

    /// Reads the value.
    pub fn get(&self) -> T {
        self.slots.get(0)
    }

    /// Writes the value.
    pub fn set(&self, value: T) {
        self.slots.set(0, value);
    }

    /// The name of the segment, for a value made with `create` or `open`.
    pub fn name(&self) -> Option<&IpcName> {
        self.slots.memory().name()
    }

    /// True once the segment's name no longer leads to it (its creator
    /// ended and removed it): see [`crate::SharedMemory::is_removed`].
    pub fn is_removed(&self) -> bool {
        self.slots.memory().is_removed()
    }
}

impl<T: Plain> Clone for RawValue<T> {
    fn clone(&self) -> Self {
        RawValue {
            slots: Arc::clone(&self.slots),
        }
    }
}

impl<T: Plain> fmt::Debug for RawValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawValue").field(&self.get()).finish()
    }
}

/// Where the data starts in the mapping of a locked value or array: the
/// mutex comes first, and the data gets a cache line of its own.
const DATA_OFFSET: usize = 64;
const _: () = assert!(RobustMutex::SIZE <= DATA_OFFSET);

/// Slots behind a robust mutex, in one anonymous mapping: the memory of
/// [`Value`] and [`crate::Array`].
#[derive(Debug)]
pub(crate) struct Locked<T> {
    pub(crate) mutex: RobustMutex,
    pub(crate) slots: Slots<T>,
}

impl<T: Plain> Locked<T> {
    /// `len` zeroed slots behind a fresh lock, shown in the `--trace`
    /// timeline as `label` guarded by that `lock`.
    pub(crate) fn anonymous(len: usize, label: &str) -> Result<Self> {
        let slots = Slots::anonymous(DATA_OFFSET, len)?;
        // SAFETY: the first DATA_OFFSET bytes of the fresh, page-aligned
        // mapping are reserved for the mutex, and the mapping lives in
        // `slots`, beside the mutex, for as long as it does.
        let mutex = unsafe { RobustMutex::init(slots.memory().as_ptr())? }.traced("lock");
        let slots = slots.traced(trace::new_data_object(label, mutex.trace_id()));
        Ok(Locked { mutex, slots })
    }

    /// Takes the lock until `deadline` and wraps the held lock and the
    /// slots into a guard made by `guard`.
    pub(crate) fn lock_until<'a, G>(
        &'a self,
        deadline: Deadline,
        guard: impl FnOnce(&'a Slots<T>, Held<'a>) -> G,
    ) -> std::result::Result<G, LockError<G>> {
        guard_with(&self.mutex, self.mutex.lock_until(deadline), |held| {
            guard(&self.slots, held)
        })
    }
}
