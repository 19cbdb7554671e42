//! The ring in shared memory (Python: `Array('q', capacity)` and two
//! `Value`s without a lock): `in` and `out` count the items put and taken
//! so far; slot `in % capacity` is the next to fill. Each end moves with a
//! single store, after its slot is written or read, so a process killed
//! between two steps leaves the ring whole.

use std::num::NonZeroU32;

use ipc_core::{RawArray, Result};

/// The index of `in` (the next slot to fill) in the ring's ends.
const IN: usize = 0;
/// The index of `out` (the next slot to empty).
const OUT: usize = 1;
/// The index of `count`, the filled slots, kept only by `--no-sync`.
const COUNT: usize = 2;

/// The bounded buffer: `capacity` slots and their two ends.
#[derive(Debug)]
pub struct Buffer {
    slots: RawArray<u64>,
    /// `[in, out, count]`.
    ends: RawArray<i64>,
}

impl Buffer {
    /// An empty ring of `capacity` slots (all 0: no item).
    ///
    /// # Errors
    /// As [`RawArray::new`].
    pub fn new(capacity: NonZeroU32) -> Result<Buffer> {
        Ok(Buffer {
            slots: RawArray::new(capacity.get() as usize)?,
            ends: RawArray::new(3)?,
        })
    }

    /// How many slots the ring has.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// `buffer[in] = item; in += 1`
    pub fn put(&self, item: u64) {
        let at = self.ends.get(IN);
        self.slots.set(self.slot(at), item);
        self.ends.set(IN, at + 1);
    }

    /// `item = buffer[out]; out += 1`
    pub fn take(&self) -> u64 {
        let at = self.ends.get(OUT);
        let item = self.slots.get(self.slot(at));
        self.ends.set(OUT, at + 1);
        item
    }

    /// How many slots are filled: `in - out`.
    pub fn filled(&self) -> usize {
        (self.ends.get(IN) - self.ends.get(OUT)).unsigned_abs() as usize
    }

    /// The slot of the `at`-th item put or taken.
    fn slot(&self, at: i64) -> usize {
        at.unsigned_abs() as usize % self.capacity()
    }

    /// `--no-sync`'s shared count of the filled slots, as last stored.
    pub(crate) fn count(&self) -> i64 {
        self.ends.get(COUNT)
    }

    /// `count += by`: a load, an add and a store, with nothing to keep
    /// another process out between them (what `--no-sync` shows). Between
    /// the load and the store it gives up the CPU (`sched_yield(2)`), as a
    /// preemption there would: the other processes then run in the middle
    /// of the update on any machine, not only on idle cores running them
    /// side by side (on one busy core a 200 000-item run was seen clean).
    pub(crate) fn add_to_count(&self, by: i64) {
        let count = self.count();
        std::thread::yield_now();
        self.ends.set(COUNT, count + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_wraps_around() {
        let ring = Buffer::new(NonZeroU32::new(2).unwrap()).unwrap();
        ring.put(1);
        ring.put(2);
        assert_eq!(ring.filled(), 2);
        assert_eq!(ring.take(), 1);
        assert_eq!(ring.filled(), 1);
        ring.put(3);
        assert_eq!(ring.slots.to_list().to_vec(), [3, 2]);
        assert_eq!([ring.take(), ring.take()], [2, 3]);
    }
}
