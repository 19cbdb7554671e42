//! Fuzzes `ipc_core::connection`: any bytes a peer sends, read as frames
//! (with a limit the first byte chooses) or as one side of the authkey
//! handshake, give `Ok` or a clear error, never a panic or a wait once
//! the stream has ended; frames are read exactly as a reference model of
//! Python's format says; no allocation is out of proportion to the input.
//!
//! The first byte chooses the check, the rest is what the peer sent,
//! through a real socketpair. Run it with `scripts/fuzz.sh 60 connection`
//! (cargo-fuzz on a nightly toolchain). The checks are those of the
//! property test, `crates/ipc-core/tests/connection_property.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The allocator that records the largest request, and the checks: the
// same files the property test uses.
#[path = "../../crates/ipc-core/tests/support/counting_alloc.rs"]
mod counting_alloc;
#[path = "../../crates/ipc-core/tests/support/connection_input.rs"]
#[allow(dead_code)]
mod connection_input;

fuzz_target!(|data: &[u8]| {
    connection_input::check(data);
});
