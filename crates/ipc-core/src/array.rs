//! `Array<T>`: a fixed-length list of numbers in shared memory, like
//! Python's `multiprocessing.Array`.

use std::fmt;
use std::sync::Arc;

use crate::blocking::Deadline;
use crate::error::Result;
use crate::name::IpcName;
use crate::plain::{Plain, PyList, Slots};
use crate::sync::{Held, LockError};
use crate::trace;
use crate::value::Locked;

/// The element access a locked [`ArrayGuard`] and a [`RawArray`] share,
/// written once: each reads and writes its `slots` one element at a time.
macro_rules! element_access {
    () => {
        /// The number of elements.
        pub fn len(&self) -> usize {
            self.slots.len()
        }

        /// True for an array of no elements.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// Reads element `index`.
        ///
        /// # Panics
        /// If `index >= len()`.
        pub fn get(&self, index: usize) -> T {
            self.slots.get(index)
        }

        /// Writes element `index`.
        ///
        /// # Panics
        /// If `index >= len()`.
        pub fn set(&self, index: usize, value: T) {
            self.slots.set(index, value);
        }

        /// A copy of every element, read one by one.
        pub fn to_list(&self) -> PyList<T> {
            self.slots.to_list()
        }
    };
}

/// `len` values of `T` in anonymous shared memory, behind one robust lock.
///
/// Make it before forking; the children share it. Each of `get`, `set` and
/// [`Array::to_list`] takes the lock once; [`Array::lock`] holds it across
/// several operations.
///
/// In a `--trace` timeline it is an `array` guarded by its `lock`: every
/// element read or written (and `to_list`, as one read of all) is an
/// event of the process that did it.
///
/// ```
/// use ipc_core::{Array, Process};
///
/// // A child reverses the array in place, holding its lock for the whole
/// // pass: no other process sees it half reversed.
/// let arr = Array::from_slice(&[10, 20, 30, 40, 50]).unwrap();
/// let mut p = Process::spawn("p", || {
///     let guard = arr.lock()?;
///     let last = guard.len() - 1;
///     for k in 0..guard.len() / 2 {
///         let front = guard.get(k);
///         guard.set(k, guard.get(last - k));
///         guard.set(last - k, front);
///     }
///     Ok::<(), ipc_core::Error>(())
/// })
/// .unwrap();
/// assert!(p.join().unwrap().success());
/// assert_eq!(arr.to_list().unwrap().to_string(), "[50, 40, 30, 20, 10]");
/// ```
#[derive(Clone)]
pub struct Array<T: Plain> {
    inner: Arc<Locked<T>>,
}

impl<T: Plain> Array<T> {
    /// `len` zeros (Python's `Array('i', len)`).
    ///
    /// # Errors
    /// [`crate::Error::Sys`] naming `mmap` or a `pthread_mutex*` call.
    pub fn new(len: usize) -> Result<Self> {
        Ok(Array {
            inner: Arc::new(Locked::anonymous(len, "array")?),
        })
    }

    /// A copy of `values` (Python's `Array('i', [-1] * 10)`).
    ///
    /// # Errors
    /// As [`Array::new`].
    pub fn from_slice(values: &[T]) -> Result<Self> {
        let array = Array::new(values.len())?;
        for (i, &value) in values.iter().enumerate() {
            array.inner.slots.set(i, value);
        }
        Ok(array)
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.inner.slots.len()
    }

    /// True for an array of no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    crate::sync::lock_entry_points! {
        /// Takes the lock and returns a guard that reads and writes elements.
        ///
        /// # Errors
        /// As [`crate::Value::lock`].
        ArrayGuard<'_, T>
    }

    /// Waits for the lock until `deadline`.
    ///
    /// # Errors
    /// As [`Array::lock`], plus [`crate::Error::Timeout`] when the time
    /// runs out.
    pub fn lock_until(
        &self,
        deadline: Deadline,
    ) -> std::result::Result<ArrayGuard<'_, T>, LockError<ArrayGuard<'_, T>>> {
        self.inner.lock_until(deadline, ArrayGuard::new)
    }

    /// Reads element `index` under the lock.
    ///
    /// # Errors
    /// As [`Array::lock`], converted to [`crate::Error`].
    ///
    /// # Panics
    /// If `index >= len()`, as slice indexing does.
    pub fn get(&self, index: usize) -> Result<T> {
        Ok(self.lock()?.get(index))
    }

    /// Writes element `index` under the lock.
    ///
    /// # Errors
    /// As [`Array::get`].
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn set(&self, index: usize, value: T) -> Result<()> {
        self.lock()?.set(index, value);
        Ok(())
    }

    /// A copy of every element, taken under the lock (Python's `arr[:]`);
    /// it prints like a Python list.
    ///
    /// # Errors
    /// As [`Array::get`].
    pub fn to_list(&self) -> Result<PyList<T>> {
        Ok(self.lock()?.to_list())
    }
}

impl<T: Plain> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// The lock of an [`Array`], held until dropped.
#[derive(Debug)]
pub struct ArrayGuard<'a, T: Plain> {
    slots: &'a Slots<T>,
    held: Held<'a>,
}

impl<'a, T: Plain> ArrayGuard<'a, T> {
    fn new(slots: &'a Slots<T>, held: Held<'a>) -> Self {
        ArrayGuard { slots, held }
    }

    element_access!();

    /// After [`LockError::OwnerDied`]: declares the elements repaired so
    /// the lock can be used again.
    ///
    /// # Errors
    /// [`crate::Error::Sys`] naming `pthread_mutex_consistent`.
    pub fn make_consistent(&self) -> Result<()> {
        self.held.make_consistent()
    }
}

/// `len` values of `T` in shared memory without a lock (Python's
/// `RawArray`); it prints like a Python list.
///
/// Each element is read and written atomically, but nothing orders
/// operations across elements or makes a read-modify-write atomic. It can
/// also fill a named segment ([`RawArray::create`], [`RawArray::open`]),
/// elements packed from offset 0 in native byte order.
///
/// ```
/// let a = ipc_core::RawArray::from_slice(&[-1_i32; 3]).unwrap();
/// a.set(0, 1);
/// assert_eq!(a.to_string(), "[1, -1, -1]");
/// ```
pub struct RawArray<T: Plain> {
    slots: Arc<Slots<T>>,
}

impl<T: Plain> RawArray<T> {
    /// `len` zeros in anonymous shared memory.
    ///
    /// # Errors
    /// [`crate::Error::Sys`] naming `mmap`.
    pub fn new(len: usize) -> Result<Self> {
        let slots = Slots::anonymous(0, len)?.traced(trace::new_data_object("raw array", 0));
        Ok(RawArray {
            slots: Arc::new(slots),
        })
    }

    /// A copy of `values` in anonymous shared memory.
    ///
    /// # Errors
    /// As [`RawArray::new`].
    pub fn from_slice(values: &[T]) -> Result<Self> {
        let array = RawArray::new(values.len())?;
        for (i, &value) in values.iter().enumerate() {
            array.set(i, value);
        }
        Ok(array)
    }

    /// Creates the named segment `name` holding a copy of `values`; it is
    /// unlinked when the creator drops it.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::create`].
    pub fn create(name: &IpcName, values: &[T]) -> Result<Self> {
        let slots = Slots::create(name, values.len())?.traced(trace::named_object(&name.path()));
        let array = RawArray {
            slots: Arc::new(slots),
        };
        for (i, &value) in values.iter().enumerate() {
            array.set(i, value);
        }
        Ok(array)
    }

    /// Attaches to `len` elements at the start of the existing segment
    /// `name`.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::open`]; [`crate::Error::TooSmall`] when the
    /// segment cannot hold `len` elements.
    pub fn open(name: &IpcName, len: usize) -> Result<Self> {
        let slots = Slots::open(name, len)?.traced(trace::named_object(&name.path()));
        Ok(RawArray {
            slots: Arc::new(slots),
        })
    }

    element_access!();
}

impl<T: Plain> Clone for RawArray<T> {
    fn clone(&self) -> Self {
        RawArray {
            slots: Arc::clone(&self.slots),
        }
    }
}

impl<T: Plain> fmt::Display for RawArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_list().fmt(f)
    }
}

impl<T: Plain> fmt::Debug for RawArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawArray({self})")
    }
}
