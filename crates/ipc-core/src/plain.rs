//! Plain data in shared memory, read and written through atomics.
//!
//! [`Plain`] marks the types that [`crate::Value`] and [`crate::Array`] can
//! hold: integers and floats, whose every bit pattern is valid, so that
//! nothing another process writes can make a value invalid. Every access
//! to them is an atomic load (`Acquire`) or store (`Release`) of the same
//! width: on x86-64 and aarch64 that is the same plain `mov` a C program
//! would use, but it is defined behaviour even when another process writes
//! at the same moment. An unlocked read-modify-write (a load, then a store)
//! still loses updates, which is exactly what `exp11-value --no-lock`
//! shows.
//!
//! Every access is also a hook of the run's `--trace` timeline
//! ([`crate::trace::read`] after a load, [`crate::trace::write`] before a
//! store), under the id the owner gave the slots. Slots made while no log
//! records are never recorded: their accesses test one field.

use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, transmute_copy};
use std::ops::Deref;
use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};

use crate::error::Result;
use crate::name::IpcName;
use crate::shm::SharedMemory;
use crate::trace;

/// A type that can live in shared memory: a Python typecode's C type.
///
/// | Python typecode | Rust |
/// | --- | --- |
/// | `'b'`, `'h'`, `'i'`, `'q'` | `i8`, `i16`, `i32`, `i64` |
/// | `'B'`, `'H'`, `'I'`, `'Q'` | `u8`, `u16`, `u32`, `u64` |
/// | `'f'`, `'d'` | `f32`, `f64` |
///
/// # Safety
/// Implementors must be 1, 2, 4 or 8 bytes long, aligned to their size, and
/// valid for every bit pattern. The trait is implemented for the types in
/// the table; there is no need to implement it elsewhere.
pub unsafe trait Plain: Copy + Send + Sync + fmt::Debug + 'static {
    /// Writes the value the way Python prints it (`2.678`, `0.0`, `16`).
    fn fmt_py(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

macro_rules! plain {
    ($how:literal: $($t:ty),*) => {$(
        // SAFETY: a primitive integer or float: 1, 2, 4 or 8 bytes, aligned
        // to its size on the supported targets, every bit pattern valid.
        unsafe impl Plain for $t {
            fn fmt_py(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, $how, self)
            }
        }
        const _: () = assert!(size_of::<$t>() == align_of::<$t>());
    )*};
}
plain!("{}": i8, i16, i32, i64, u8, u16, u32, u64);
// Debug formatting keeps the `.0` Python shows for whole floats.
plain!("{:?}": f32, f64);

/// Reads `*at` with one atomic load of its width.
///
/// # Safety
/// `at` must be valid for reads and aligned, in memory that every process
/// accesses only atomically.
unsafe fn load<T: Plain>(at: *const T) -> T {
    let at = at.cast_mut();
    // SAFETY: for each arm, `at` is valid and aligned (the caller's
    // contract), `T` has exactly the atomic's size (the `match`), and every
    // bit pattern is a valid `T` (`Plain`'s contract).
    unsafe {
        match size_of::<T>() {
            1 => transmute_copy(&AtomicU8::from_ptr(at.cast()).load(Ordering::Acquire)),
            2 => transmute_copy(&AtomicU16::from_ptr(at.cast()).load(Ordering::Acquire)),
            4 => transmute_copy(&AtomicU32::from_ptr(at.cast()).load(Ordering::Acquire)),
            8 => transmute_copy(&AtomicU64::from_ptr(at.cast()).load(Ordering::Acquire)),
            _ => unreachable!("Plain types are 1, 2, 4 or 8 bytes"),
        }
    }
}

/// Writes `value` to `*at` with one atomic store of its width.
///
/// # Safety
/// As [`load`], for writes.
unsafe fn store<T: Plain>(at: *mut T, value: T) {
    // SAFETY: for each arm, as in `load`; the integer made by
    // `transmute_copy` has `T`'s size, so no byte is invented or lost.
    unsafe {
        match size_of::<T>() {
            1 => AtomicU8::from_ptr(at.cast()).store(transmute_copy(&value), Ordering::Release),
            2 => AtomicU16::from_ptr(at.cast()).store(transmute_copy(&value), Ordering::Release),
            4 => AtomicU32::from_ptr(at.cast()).store(transmute_copy(&value), Ordering::Release),
            8 => AtomicU64::from_ptr(at.cast()).store(transmute_copy(&value), Ordering::Release),
            _ => unreachable!("Plain types are 1, 2, 4 or 8 bytes"),
        }
    }
}

/// A [`Plain`] value shown as Python prints it, for the trace.
struct Py<T>(T);

impl<T: Plain> fmt::Display for Py<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_py(f)
    }
}

/// `len` slots of `T` in a shared mapping, starting `offset` bytes in.
#[derive(Debug)]
pub(crate) struct Slots<T> {
    memory: SharedMemory,
    offset: usize,
    len: usize,
    /// Its id in the run's `--trace` timeline ([`Slots::traced`]); 0 for
    /// slots made while no log was recording, which are never recorded.
    trace_id: u64,
    _type: PhantomData<T>,
}

impl<T: Plain> Slots<T> {
    /// Bytes needed for `len` slots after `offset`.
    pub(crate) fn bytes(offset: usize, len: usize) -> usize {
        offset + len.max(1) * size_of::<T>()
    }

    /// Anonymous memory for `len` slots after `offset`, all zero.
    pub(crate) fn anonymous(offset: usize, len: usize) -> Result<Self> {
        Ok(Self::new(
            SharedMemory::anonymous(Self::bytes(offset, len))?,
            offset,
            len,
        ))
    }

    /// A new named segment holding `len` zeroed slots at offset 0.
    pub(crate) fn create(name: &IpcName, len: usize) -> Result<Self> {
        Ok(Self::new(
            SharedMemory::create(name, Self::bytes(0, len))?,
            0,
            len,
        ))
    }

    /// An existing named segment holding at least `len` slots at offset 0.
    pub(crate) fn open(name: &IpcName, len: usize) -> Result<Self> {
        Ok(Self::new(
            SharedMemory::open(name, Self::bytes(0, len))?,
            0,
            len,
        ))
    }

    fn new(memory: SharedMemory, offset: usize, len: usize) -> Self {
        assert!(offset.is_multiple_of(align_of::<T>()) && Self::bytes(offset, len) <= memory.len());
        Slots {
            memory,
            offset,
            len,
            trace_id: 0,
            _type: PhantomData,
        }
    }

    /// Records the accesses in the `--trace` timeline under `trace_id`
    /// (from [`trace::new_data_object`] or [`trace::named_object`]), if a
    /// log is recording now: slots made while none is are not in the
    /// timeline (their id would name nothing there), and their accesses
    /// cost one test of a field that stays in a register. Call it before
    /// the fork that shares the slots, so that every process records the
    /// same id.
    pub(crate) fn traced(mut self, trace_id: u64) -> Self {
        if trace::is_on() {
            self.trace_id = trace_id;
        }
        self
    }

    /// True when an access is to be recorded: the slots are in the
    /// timeline and the log still records (one relaxed load, only for
    /// slots made while tracing).
    #[inline]
    fn recording(&self) -> bool {
        self.trace_id != 0 && trace::is_on()
    }

    pub(crate) fn memory(&self) -> &SharedMemory {
        &self.memory
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, index: usize) -> *mut T {
        assert!(
            index < self.len,
            "index {index} out of range for length {}",
            self.len
        );
        // SAFETY: `index < len`, and `new` checked that `len` slots after
        // `offset` fit in the mapping.
        unsafe { self.memory.as_ptr().add(self.offset).cast::<T>().add(index) }
    }

    /// Element `index`, not recorded.
    fn load(&self, index: usize) -> T {
        // SAFETY: the slot is in the mapping, aligned (page-aligned base,
        // offset checked in `new`), and only ever accessed atomically.
        unsafe { load(self.slot(index)) }
    }

    /// Reads element `index`, recorded after the load.
    ///
    /// Slots made while tracing is off add one test of a field, which a
    /// loop hoists, and nothing else (an atomic load of the trace's flag
    /// on every access cost a loop of guarded `Array` reads and writes
    /// 20 %); the recording itself is out of line ([`Slots::record_read`]),
    /// so that the callers stay small enough to be inlined where they are
    /// used (a locked `Value` increment in a loop lost 8 % with it inline).
    ///
    /// # Panics
    /// If `index >= len`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> T {
        let value = self.load(index);
        if self.recording() {
            self.record_read(index, value);
        }
        value
    }

    /// Writes element `index`, recorded before the store.
    ///
    /// # Panics
    /// If `index >= len`.
    #[inline]
    pub(crate) fn set(&self, index: usize, value: T) {
        if self.recording() {
            self.record_write(index, value);
        }
        // SAFETY: as in `load`.
        unsafe { store(self.slot(index), value) }
    }

    #[cold]
    #[inline(never)]
    fn record_read(&self, index: usize, value: T) {
        trace::read(self.trace_id, index as u64, Py(value));
    }

    #[cold]
    #[inline(never)]
    fn record_write(&self, index: usize, value: T) {
        trace::write(self.trace_id, index as u64, Py(value));
    }

    /// Every element, read one by one and recorded as one read of all.
    pub(crate) fn to_list(&self) -> PyList<T> {
        let list = PyList((0..self.len).map(|i| self.load(i)).collect());
        if self.recording() {
            trace::read_all(self.trace_id, &list);
        }
        list
    }
}

/// A list of values that prints like a Python list: `[1, 4, 9, 16]`.
///
/// It is what [`crate::Array::to_list`] returns, a copy taken under the
/// lock; it dereferences to a slice.
///
/// ```
/// use ipc_core::PyList;
///
/// assert_eq!(PyList(vec![1, 4, 9]).to_string(), "[1, 4, 9]");
/// assert_eq!(PyList(vec![0.0, 2.5]).to_string(), "[0.0, 2.5]");
/// assert_eq!(PyList(Vec::<i32>::new()).to_string(), "[]");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PyList<T>(pub Vec<T>);

impl<T: Plain> fmt::Display for PyList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, value) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            value.fmt_py(f)?;
        }
        f.write_str("]")
    }
}

impl<T> Deref for PyList<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> From<PyList<T>> for Vec<T> {
    fn from(list: PyList<T>) -> Vec<T> {
        list.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_round_trips() {
        let s8 = Slots::<i8>::anonymous(0, 2).unwrap();
        s8.set(1, -5);
        assert_eq!(s8.to_list().0, vec![0, -5]);
        let s16 = Slots::<u16>::anonymous(0, 1).unwrap();
        s16.set(0, 65_535);
        assert_eq!(s16.get(0), 65_535);
        let s32 = Slots::<f32>::anonymous(64, 3).unwrap();
        s32.set(2, 1.5);
        assert_eq!(s32.to_list().0, vec![0.0, 0.0, 1.5]);
        let s64 = Slots::<f64>::anonymous(64, 1).unwrap();
        s64.set(0, 2.678);
        assert_eq!(s64.get(0), 2.678);
    }

    #[test]
    #[should_panic(expected = "index 4 out of range for length 4")]
    fn an_index_past_the_end_panics_like_a_slice() {
        Slots::<i32>::anonymous(0, 4).unwrap().get(4);
    }

    #[test]
    fn attaching_to_a_segment_smaller_than_the_value_or_array_is_an_error() {
        // Mapping them anyway would raise SIGBUS at the first access past
        // the segment's end.
        let name = IpcName::unique("small").unwrap();
        let _segment = SharedMemory::create(&name, 4).unwrap();
        let too_small = |result: Result<()>, needed| match result {
            Err(crate::Error::TooSmall {
                needed: n,
                actual: 4,
                ..
            }) => assert_eq!(n, needed),
            other => panic!("{other:?}"),
        };
        too_small(crate::RawValue::<u64>::open(&name).map(drop), 8);
        too_small(crate::RawArray::<u32>::open(&name, 2).map(drop), 8);
        too_small(crate::RawArray::<u8>::open(&name, 5).map(drop), 5);
        assert_eq!(crate::RawValue::<u32>::open(&name).unwrap().get(), 0);
        assert_eq!(
            crate::RawArray::<u16>::open(&name, 2)
                .unwrap()
                .to_list()
                .len(),
            2
        );
    }

    #[test]
    fn floats_print_like_python() {
        assert_eq!(PyList(vec![2.678_f64, 1.0]).to_string(), "[2.678, 1.0]");
        assert_eq!(PyList(vec![-1_i32, 16]).to_string(), "[-1, 16]");
    }
}
