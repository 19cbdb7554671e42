//! Fuzzes `ipc_core::message`: any bytes, decoded as one of several
//! message types, give `Ok` or `Err`, never a panic; no allocation is
//! larger than a small multiple of the input (so a forged count cannot
//! make the decoder reserve gigabytes); and whatever decodes encodes back
//! to bytes that decode to the same encoding.
//!
//! The first byte chooses the type, the rest is the message. Run it with
//! `scripts/fuzz.sh` (cargo-fuzz on a nightly toolchain).
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ipc_core::message::{Bytes, Message, from_bytes, from_bytes_limited, to_bytes};
use libfuzzer_sys::fuzz_target;

// ---- the largest allocation made while decoding -------------------------

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

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

// ---- the check -----------------------------------------------------------

/// Decodes `bytes` as a `T` and checks the promises; a broken one panics,
/// which libFuzzer reports with the input.
fn check<T: Message>(bytes: &[u8]) {
    LARGEST.with(|l| l.set(0));
    TRACKING.with(|t| t.set(true));
    let decoded = from_bytes::<T>(bytes);
    TRACKING.with(|t| t.set(false));
    // The largest element (a String or a Vec) takes 24 bytes of memory and
    // at least 4 of input: 8 per byte, plus room for small buffers.
    let largest = LARGEST.with(Cell::get);
    let bound = 8 * bytes.len() + 256;
    assert!(
        largest <= bound,
        "decoding {} allocated {largest} bytes at once from {} bytes",
        std::any::type_name::<T>(),
        bytes.len()
    );
    // A limit below the length refuses the input before decoding it.
    if !bytes.is_empty() {
        assert!(from_bytes_limited::<T>(bytes, bytes.len() - 1).is_err());
    }
    if let Ok(value) = decoded {
        // What decodes encodes again, and that encoding is stable (bytes,
        // not values, are compared: NaN != NaN).
        let again = to_bytes(&value).expect("a decoded value encodes");
        let back = from_bytes::<T>(&again).expect("an encoding decodes");
        assert_eq!(
            to_bytes(&back).unwrap(),
            again,
            "{}",
            std::any::type_name::<T>()
        );
    }
}

type Mixed = (Vec<String>, Option<f64>, char);
type Nested = Vec<Vec<bool>>;
type Pair = (i32, String);
type Records = Option<Vec<(u16, i64)>>;
type Four = (u8, i16, f32, String);
type Chars = Vec<Option<char>>;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    match choice % 10 {
        0 => check::<Mixed>(bytes),
        1 => check::<Nested>(bytes),
        2 => check::<Pair>(bytes),
        3 => check::<Bytes>(bytes),
        4 => check::<Records>(bytes),
        5 => check::<Four>(bytes),
        6 => check::<Chars>(bytes),
        7 => check::<String>(bytes),
        8 => check::<usize>(bytes),
        _ => check::<Vec<(u64, Bytes, Option<String>)>>(bytes),
    }
});
