//! Fuzzes `ipc_core::message`: any bytes, decoded as one of several
//! message types (structs through `Serde` and postcard among them), give
//! `Ok` or `Err`, never a panic; no allocation is larger than a small
//! multiple of the input (so a forged count cannot make the decoder
//! reserve gigabytes); and whatever decodes encodes back to bytes that
//! decode to the same encoding.
//!
//! The first byte chooses the type, the rest is the message (for the
//! struct choices, the rest is the postcard blob, put behind its true
//! length so that postcard reads all of it). Run it with
//! `scripts/fuzz.sh` (cargo-fuzz on a nightly toolchain).
#![no_main]

use ipc_core::message::structs::Serde;
use ipc_core::message::{Bytes, Message, from_bytes, from_bytes_limited, to_bytes};
use libfuzzer_sys::fuzz_target;

// The allocator that records the largest request: the same file the
// property test in crates/ipc-core/tests uses.
#[path = "../../crates/ipc-core/tests/support/counting_alloc.rs"]
mod counting_alloc;

// The struct message: the same file the property test uses.
#[path = "../../crates/ipc-core/tests/support/order.rs"]
mod order;
use order::{Order, Status, behind_its_length, order_bytes_per_byte};

// ---- the check -----------------------------------------------------------

/// Decodes `bytes` as a `T` and checks the promises; a broken one panics,
/// which libFuzzer reports with the input.
fn check<T: Message>(bytes: &[u8]) {
    // The largest element (a String or a Vec) takes 24 bytes of memory and
    // at least 4 of input: 8 per byte, plus room for small buffers.
    check_within::<T>(bytes, 8);
}

/// As [`check`], allowing `per_byte` bytes of memory per byte of input.
fn check_within<T: Message>(bytes: &[u8], per_byte: usize) {
    let decoded = counting_alloc::allocating_at_most(
        per_byte * bytes.len() + 256,
        &format!("decoding {}", std::any::type_name::<T>()),
        bytes,
        || from_bytes::<T>(bytes),
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

// The other message shapes: the same file the property test uses.
#[path = "../../crates/ipc-core/tests/support/shapes.rs"]
mod shapes;
use shapes::{Chars, Four, Mixed, Nested, Pair, Records};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    match choice % 13 {
        10 => check_within::<Serde<Order>>(&behind_its_length(bytes), order_bytes_per_byte()),
        11 => check_within::<Serde<Vec<Option<Status>>>>(
            &behind_its_length(bytes),
            order_bytes_per_byte(),
        ),
        12 => check_within::<(u8, Serde<Order>)>(bytes, order_bytes_per_byte()),
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
