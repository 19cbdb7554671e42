//! A struct message for the tests of `Serde<T>`: nested vectors, options,
//! strings, an enum with every kind of variant and a map, the shapes a
//! student's message takes.
//!
//! Shared by `tests/serde_messages.rs`, `tests/decode_property.rs` and
//! the fuzz target (`fuzz/fuzz_targets/decode.rs`), which include this
//! file by path.

use std::collections::BTreeMap;
use std::mem::size_of;

use serde::{Deserialize, Serialize};

/// Where an order stands: a unit, a struct and a tuple variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Status {
    New,
    Paid { amount: f64 },
    Shipped(String, u16),
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub item: String,
    pub count: u32,
}

/// The message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: u32,
    pub name: String,
    pub note: Option<String>,
    pub lines: Vec<Line>,
    pub status: Status,
    pub history: Vec<Option<Status>>,
    pub scores: BTreeMap<u8, i64>,
}

/// The most memory one byte of an `Order`'s encoding can make a decoder
/// allocate at once: an element of its largest vector takes one byte or
/// more on the wire, and a vector may hold twice the room its elements
/// need while it grows.
pub fn order_bytes_per_byte() -> usize {
    2 * size_of::<Line>().max(size_of::<Option<Status>>())
}

/// `blob` behind its `u32` length, as a `Serde<T>` encodes it: random
/// bytes put there reach postcard itself instead of failing at the
/// length.
pub fn behind_its_length(blob: &[u8]) -> Vec<u8> {
    let mut bytes = u32::try_from(blob.len())
        .expect("a test's blob is small")
        .to_le_bytes()
        .to_vec();
    bytes.extend_from_slice(blob);
    bytes
}
