//! Structs as messages: any type that derives serde's `Serialize` and
//! `Deserialize`, wrapped in [`Serde`], travels through every channel that
//! takes a [`Message`], as a Python program sends any picklable object.
//!
//! | Python | Rust |
//! | --- | --- |
//! | `q.put({'id': 1, 'name': 'First'})` | `q.put(Serde(Order { id: 1, name: "First".into() }))?` |
//! | `order = q.get()` | `let Serde(order) = q.get()?;` |
//! | `conn.send(order)`, `conn.recv()` | `conn.send(&Serde(order))?`, `conn.recv::<Serde<Order>>()?` |
//! | `pickle.dumps(order)`, `pickle.loads(data)` | `to_bytes(&Serde(order))?`, `from_bytes::<Serde<Order>>(&data)?` |
//!
//! ```
//! use ipc_core::Queue;
//! use ipc_core::message::structs::Serde;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! struct Order {
//!     id: u32,
//!     name: String,
//! }
//!
//! let q = Queue::<Serde<Order>>::new()?;
//! // Python: q.put({'id': 1, 'name': 'First'})
//! q.put(Serde(Order { id: 1, name: "First".into() }))?;
//! // Python: q.get()
//! let Serde(order) = q.get()?;
//! assert_eq!(order, Order { id: 1, name: "First".into() });
//! # Ok::<(), ipc_core::Error>(())
//! ```
//!
//! # The bytes
//!
//! A `Serde<T>` is a `u32` byte length (little-endian, as every length of
//! [`message`](super)), then the [postcard] encoding of the value: its
//! fields in order, integers as varints, strings and sequences behind a
//! varint length, enums behind a varint variant index; no field names, no
//! type tags. The length lets a `Serde<T>` sit inside a tuple or a `Vec`
//! like any other message, even when its postcard encoding is empty (a
//! unit struct). Both ends must use the same type: a field added on one
//! side only is an error (or, at worst, different values), never a panic.
//!
//! What postcard cannot encode is an error of [`Message::encode`]: types
//! that need a self-describing format (`#[serde(flatten)]`,
//! `#[serde(untagged)]` and internally tagged enums, `serde_json::Value`)
//! and maps or sequences whose length is not known up front.
//!
//! # Hostile bytes
//!
//! Decoding never panics (`tests/decode_property.rs` and the fuzz target
//! feed it random, cut and forged bytes), and it allocates in proportion
//! to its input:
//!
//! * the channel refuses a frame above its limit before allocating
//!   (`Queue::bounded`'s `max_message`, a pipe's or a connection's
//!   `limit`, a message queue's `msgsize`), and [`Decoder::count`] refuses
//!   a blob length longer than the bytes that are left;
//! * postcard reads the blob only: a length inside it that promises more
//!   elements than the blob has bytes gets no room reserved ahead (its
//!   size hint is dropped), so a `Vec` grows only with elements that
//!   really decode; a map reserves at most 1 MiB ahead (serde's own cap)
//!   before its first entry fails to decode.
//!
//! One thing the encoding cannot bound: a recursive type (a field of type
//! `Box<Self>`) is decoded by recursion, and a hostile peer's deep
//! nesting can then exhaust the stack. Keep message types flat (a tree as
//! a `Vec` of nodes that name each other by index).

use std::any::type_name;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Decoder, Message};
use crate::error::{Error, Result};

/// A serde type as a [`Message`]: a `u32` byte length, then the value's
/// [postcard] encoding (see [the module](self)).
///
/// The value's `Debug` form labels it on a `--trace` timeline
/// ([`Message::describe`]), hence the `Debug` bound.
///
/// ```
/// use ipc_core::message::structs::Serde;
/// use ipc_core::message::{from_bytes, to_bytes};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// enum Shape {
///     Circle { radius: f64 },
///     Square(u32),
/// }
///
/// // Python: data = pickle.dumps(('Square', 4))
/// let data = to_bytes(&Serde(Shape::Square(4)))?;
/// assert_eq!(data, [2, 0, 0, 0, 1, 4], "length 2, variant 1, the varint 4");
/// // Python: pickle.loads(data)
/// assert_eq!(from_bytes::<Serde<Shape>>(&data)?.0, Shape::Square(4));
/// // Cut short: an error, not a panic.
/// assert!(from_bytes::<Serde<Shape>>(&data[..5]).is_err());
/// # Ok::<(), ipc_core::Error>(())
/// ```
///
/// [postcard]: https://docs.rs/postcard
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Serde<T>(pub T);

impl<T> Serde<T> {
    /// The value, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Serde<T> {
    fn from(value: T) -> Self {
        Serde(value)
    }
}

impl<T> Deref for Serde<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Serde<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// Appends to a borrowed buffer: what postcard's `to_extend` writes into.
struct Tail<'a>(&'a mut Vec<u8>);

impl Extend<u8> for Tail<'_> {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, bytes: I) {
        self.0.extend(bytes);
    }
}

impl<T: Serialize + DeserializeOwned + fmt::Debug> Message for Serde<T> {
    const MIN_SIZE: usize = 4;

    /// Appends the length and the postcard encoding.
    ///
    /// # Errors
    /// [`Error::Message`] naming the type when postcard cannot encode it
    /// (see [the module](self)); [`Error::MessageTooLarge`] above
    /// `u32::MAX` bytes. `out` is then as it was.
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        if let Err(e) = postcard::to_extend(&self.0, Tail(out)) {
            out.truncate(start);
            return Err(Error::Message(format!(
                "postcard cannot encode a {}: {e}",
                type_name::<T>()
            )));
        }
        let size = out.len() - start - 4;
        let Ok(len) = u32::try_from(size) else {
            out.truncate(start);
            return Err(Error::MessageTooLarge {
                size,
                limit: u32::MAX as usize,
            });
        };
        out[start..start + 4].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let n = input.count(1)?;
        let blob = input.take(n)?;
        match postcard::take_from_bytes::<T>(blob) {
            Ok((value, [])) => Ok(Serde(value)),
            Ok((_, rest)) => Err(Error::Message(format!(
                "{} unexpected bytes after a {}",
                rest.len(),
                type_name::<T>()
            ))),
            Err(e) => Err(Error::Message(format!(
                "postcard cannot decode a {}: {e}",
                type_name::<T>()
            ))),
        }
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serializer};

    use super::*;
    use crate::message::tests::round_trip;
    use crate::message::{Describe, from_bytes, to_bytes};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Status {
        New,
        Paid { amount: f64 },
        Shipped(String, u16),
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Line {
        item: String,
        count: u32,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Order {
        id: u64,
        customer: Option<String>,
        lines: Vec<Line>,
        status: Status,
        tags: BTreeMap<String, i32>,
        matrix: Vec<Vec<i8>>,
        point: (f32, char, bool),
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Unit;

    fn order() -> Order {
        Order {
            id: u64::MAX,
            customer: Some("Ada".into()),
            lines: vec![
                Line {
                    item: "tea".into(),
                    count: 2,
                },
                Line {
                    item: String::new(),
                    count: 0,
                },
            ],
            status: Status::Shipped("tracked é".into(), 7),
            tags: [("rush".to_owned(), -1), ("gift".to_owned(), 3)].into(),
            matrix: vec![vec![], vec![-128, 127]],
            point: (1.5, '∑', true),
        }
    }

    #[test]
    fn structs_enums_and_their_nesting_round_trip() {
        round_trip(Serde(order()));
        round_trip(Serde(Status::New));
        round_trip(Serde(Status::Paid { amount: -0.25 }));
        round_trip(Serde(Unit));
        round_trip(Serde(()));
        // Beside and inside the built-in encodings.
        round_trip((7_i32, Serde(order()), String::from("END")));
        round_trip(vec![Serde(Unit), Serde(Unit), Serde(Unit)]);
        round_trip(Some(vec![
            Serde(Status::New),
            Serde(Status::Paid { amount: 1.0 }),
        ]));
    }

    #[test]
    fn the_bytes_are_a_length_then_postcard() {
        let line = Line {
            item: "tea".into(),
            count: 300,
        };
        let bytes = to_bytes(&Serde(line.clone())).unwrap();
        // "tea" behind its varint length, then 300 as the varint ac 02.
        assert_eq!(bytes, [6, 0, 0, 0, 3, b't', b'e', b'a', 0xac, 0x02]);
        assert_eq!(bytes[4..], postcard::to_allocvec(&line).unwrap()[..]);
        assert_eq!(to_bytes(&Serde(Unit)).unwrap(), [0, 0, 0, 0]);
    }

    #[test]
    fn malformed_blobs_are_errors_that_name_the_type() {
        // A bool that is 2.
        let err = from_bytes::<Serde<(bool,)>>(&[1, 0, 0, 0, 2]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("message: postcard cannot decode a (bool,)"),
            "{err}"
        );
        // A variant that does not exist.
        assert!(from_bytes::<Serde<Status>>(&[1, 0, 0, 0, 9]).is_err());
        // Bytes inside the blob that the value does not use.
        let err = from_bytes::<Serde<u8>>(&[2, 0, 0, 0, 1, 1]).unwrap_err();
        assert!(
            err.to_string().contains("1 unexpected bytes after a u8"),
            "{err}"
        );
        // A blob longer than the input.
        let err = from_bytes::<Serde<u8>>(&[9, 0, 0, 0, 1]).unwrap_err();
        assert!(err.to_string().contains("cannot fit"), "{err}");
    }

    #[test]
    fn a_forged_element_count_is_an_error() {
        // A Vec<u64> that claims 2^60 elements in a blob of 9 bytes. The
        // allocation it may cause is measured in tests/decode_property.rs.
        let blob = postcard::to_allocvec(&(1_u64 << 60)).unwrap();
        let mut bytes = (blob.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&blob);
        assert!(from_bytes::<Serde<Vec<u64>>>(&bytes).is_err());
    }

    /// A value whose `Serialize` fails, as a `#[serde(flatten)]` does
    /// under postcard.
    #[derive(Debug, Deserialize)]
    struct Refused;

    impl Serialize for Refused {
        fn serialize<S: Serializer>(&self, _: S) -> std::result::Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("not today"))
        }
    }

    #[test]
    fn what_postcard_cannot_encode_is_an_error_and_leaves_the_buffer() {
        let mut out = vec![1, 2, 3];
        let err = Serde(Refused).encode(&mut out).unwrap_err();
        assert!(matches!(err, Error::Message(_)));
        assert!(
            err.to_string().contains("postcard cannot encode a ")
                && err.to_string().contains("Refused"),
            "{err}"
        );
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn the_trace_label_is_the_debug_form() {
        let line = Serde(Line {
            item: "a\nb".into(),
            count: 1,
        });
        assert_eq!(
            Describe(&line).to_string(),
            r#"Line { item: "a\nb", count: 1 }"#
        );
    }
}
