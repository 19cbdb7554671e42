//! A global allocator that records the largest single request made while a
//! thread asks it to, so that a test can bound what decoding allocates.
//!
//! Shared by `tests/decode_property.rs` and the fuzz target
//! (`fuzz/fuzz_targets/decode.rs`, which includes this file by path).

// A global allocator needs `unsafe`; this module only.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, recording the largest request made by a thread
/// while it tracks.
struct Counting;

fn record(size: usize) {
    let _ = TRACKING.try_with(|tracking| {
        if tracking.get() {
            let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
        }
    });
}

// SAFETY: every call is passed on unchanged to the system allocator; the
// bookkeeping touches only const-initialised thread-locals, which never
// allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns what it returned with the largest single
/// allocation it made on this thread, in bytes.
pub fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|l| l.set(0));
    TRACKING.with(|t| t.set(true));
    let result = f();
    TRACKING.with(|t| t.set(false));
    (result, LARGEST.with(Cell::get))
}

/// Runs `f`, the work done on `input`, and asserts that no single
/// allocation it made on this thread was above `bound` bytes: a length
/// field cannot make a reader reserve what the input does not hold. What
/// `f` returned.
pub fn allocating_at_most<R>(bound: usize, what: &str, input: &[u8], f: impl FnOnce() -> R) -> R {
    let (result, largest) = largest_allocation(f);
    assert!(
        largest <= bound,
        "{what} allocated {largest} bytes at once from {} bytes of input: {input:02x?}",
        input.len()
    );
    result
}
