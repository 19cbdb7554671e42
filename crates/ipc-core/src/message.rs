//! Typed messages as bytes: what pickling is to Python's `Queue` and `Pipe`.
//!
//! A [`Message`] encodes itself into bytes and decodes itself back. Both
//! ends of a channel know the type, so the encoding carries no type tags:
//!
//! | type | bytes |
//! | --- | --- |
//! | `u8` … `u64`, `i8` … `i64`, `usize`, `isize` | fixed width, little-endian (`usize`/`isize` as 8 bytes) |
//! | `f32`, `f64` | their IEEE-754 bits, little-endian |
//! | `bool` | one byte, 0 or 1 |
//! | `char` | its code point as a `u32` |
//! | `String` | a `u32` byte length, then UTF-8 |
//! | `Vec<T>` | a `u32` element count, then the elements |
//! | [`Bytes`] | a `u32` byte length, then the bytes, copied in bulk |
//! | `Option<T>` | one byte, 0 (`None`) or 1 (`Some`), then the value |
//! | tuples of up to four | the elements one after the other |
//! | [`Serde<T>`](structs::Serde), for any `T` that derives serde's `Serialize` and `Deserialize` | a `u32` byte length, then the value's [postcard](https://docs.rs/postcard) encoding ([`structs`]) |
//!
//! Decoding is total: any slice of bytes gives `Ok` or an [`Error`], never a
//! panic. Every encoded value takes at least [`Message::MIN_SIZE`] bytes, so
//! a length prefix that promises more elements than the remaining bytes can
//! hold is rejected before anything is allocated; the memory a decode
//! allocates stays proportional to its input, which the channels bound by
//! their size limit ([`from_bytes_limited`]).
//!
//! ```
//! use ipc_core::message::{from_bytes, to_bytes};
//!
//! let sent = (7_i32, String::from("third?"), vec![1.5_f64, 2.0], Some(true));
//! let bytes = to_bytes(&sent).unwrap();
//! let received: (i32, String, Vec<f64>, Option<bool>) = from_bytes(&bytes).unwrap();
//! assert_eq!(received, sent);
//!
//! // Truncated input is an error, not a panic.
//! assert!(from_bytes::<(i32, String)>(&bytes[..5]).is_err());
//! ```
//!
//! Structs and enums of your own go through [`structs::Serde`];
//! the built-in encodings above stay for the handouts' values and their
//! printed forms.

use std::fmt;

use crate::error::{Error, Result};

pub mod structs;

/// The largest message ipc-core channels accept unless told otherwise.
pub const DEFAULT_LIMIT: usize = 16 << 20;

/// A value that can travel through a channel as bytes.
pub trait Message: Sized {
    /// The fewest bytes any value of this type encodes to (at least 1).
    const MIN_SIZE: usize;

    /// Appends the encoding of `self` to `out`.
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] when a string or vector has more than
    /// `u32::MAX` elements.
    fn encode(&self, out: &mut Vec<u8>) -> Result<()>;

    /// Reads one value from the front of `input`.
    ///
    /// # Errors
    /// [`Error::Message`] for truncated or malformed bytes.
    fn decode(input: &mut Decoder<'_>) -> Result<Self>;

    /// Reads one value from the front of `input` into `self`, reusing the
    /// memory `self` already has where it can (a `String`'s, a `Vec`'s, a
    /// [`Bytes`]'): what a receiver that takes message after message into
    /// one value does, without an allocation per message
    /// ([`crate::Queue::get_into`]). After an error `self` holds some
    /// valid value, not necessarily the old one.
    ///
    /// The default decodes a new value and moves it in.
    ///
    /// # Errors
    /// As [`Message::decode`].
    fn decode_into(&mut self, input: &mut Decoder<'_>) -> Result<()> {
        *self = Self::decode(input)?;
        Ok(())
    }

    /// Writes the value as Python would print it (`16`, `'First'`,
    /// `[1, 4, 9, 16]`): how a `--trace` timeline labels the message.
    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result;
}

/// A message as Python would print it, for a `Display` context:
/// `Describe(&value).to_string()`.
///
/// ```
/// use ipc_core::message::Describe;
/// assert_eq!(Describe(&"First".to_string()).to_string(), "'First'");
/// assert_eq!(Describe(&vec![1, 4, 9]).to_string(), "[1, 4, 9]");
/// assert_eq!(Describe(&(7_i32, Some(2.5_f64))).to_string(), "(7, 2.5)");
/// ```
#[derive(Debug)]
pub struct Describe<'a, T>(pub &'a T);

impl<T: Message> fmt::Display for Describe<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.describe(f)
    }
}

/// Encodes `value` into a new buffer.
///
/// # Errors
/// As [`Message::encode`].
pub fn to_bytes<T: Message>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    value.encode(&mut out)?;
    Ok(out)
}

/// Decodes one `T` that must fill `bytes` exactly.
///
/// # Errors
/// [`Error::Message`] for truncated, malformed or trailing bytes.
pub fn from_bytes<T: Message>(bytes: &[u8]) -> Result<T> {
    let mut input = Decoder::new(bytes);
    let value = T::decode(&mut input)?;
    input.finish()?;
    Ok(value)
}

/// As [`from_bytes`], into `value` ([`Message::decode_into`]: its memory
/// reused).
///
/// ```
/// use ipc_core::message::{from_bytes_into, to_bytes};
///
/// let mut text = String::with_capacity(64);
/// from_bytes_into(&to_bytes(&"First".to_string()).unwrap(), &mut text).unwrap();
/// assert_eq!(text, "First");
/// assert!(text.capacity() >= 64, "the same memory");
/// ```
///
/// # Errors
/// As [`from_bytes`].
pub fn from_bytes_into<T: Message>(bytes: &[u8], value: &mut T) -> Result<()> {
    let mut input = Decoder::new(bytes);
    value.decode_into(&mut input)?;
    input.finish()
}

/// As [`from_bytes`], refusing more than `limit` bytes up front.
///
/// # Errors
/// [`Error::MessageTooLarge`] when `bytes` is longer than `limit`, else as
/// [`from_bytes`].
pub fn from_bytes_limited<T: Message>(bytes: &[u8], limit: usize) -> Result<T> {
    if bytes.len() > limit {
        return Err(Error::MessageTooLarge {
            size: bytes.len(),
            limit,
        });
    }
    from_bytes(bytes)
}

/// Reads encoded values from the front of a byte slice.
#[derive(Debug)]
pub struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// A decoder over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder { rest: bytes }
    }

    /// The bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`Error::Message`] if fewer than `n` bytes are left.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(Error::Message(format!(
                "truncated: {n} more bytes expected, {} left",
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes exactly `N` bytes as an array.
    ///
    /// # Errors
    /// As [`Decoder::take`].
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    /// Reads a `u32` count of items that take at least `min_size` bytes
    /// each, rejecting a count the remaining bytes cannot hold.
    ///
    /// # Errors
    /// [`Error::Message`] for a count that cannot be right.
    pub fn count(&mut self, min_size: usize) -> Result<usize> {
        let n = u32::from_le_bytes(self.take_array()?) as usize;
        if n.saturating_mul(min_size.max(1)) > self.rest.len() {
            return Err(Error::Message(format!(
                "a count of {n} items cannot fit in the {} bytes left",
                self.rest.len()
            )));
        }
        Ok(n)
    }

    /// Succeeds only if every byte was read.
    ///
    /// # Errors
    /// [`Error::Message`] naming how many bytes are left over.
    pub fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Message(format!(
                "{} unexpected bytes after the message",
                self.rest.len()
            )))
        }
    }
}

/// Appends a `u32` length prefix.
///
/// # Errors
/// [`Error::MessageTooLarge`] for more than `u32::MAX` items.
pub fn put_count(out: &mut Vec<u8>, n: usize) -> Result<()> {
    let n = u32::try_from(n).map_err(|_| Error::MessageTooLarge {
        size: n,
        limit: u32::MAX as usize,
    })?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

macro_rules! fixed {
    ($($t:ty),*) => {$(
        impl Message for $t {
            const MIN_SIZE: usize = std::mem::size_of::<$t>();

            fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
                out.extend_from_slice(&self.to_le_bytes());
                Ok(())
            }

            fn decode(input: &mut Decoder<'_>) -> Result<Self> {
                Ok(<$t>::from_le_bytes(input.take_array()?))
            }

            fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
                write!(out, "{self}")
            }
        }
    )*};
}
fixed!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

/// `usize` and `isize` travel as 64 bits whatever the machine's word, so
/// that a 32-bit peer reads what a 64-bit one wrote; a value too large for
/// the reader's word is an error, never a truncation.
macro_rules! word_sized {
    ($($t:ident as $wire:ident),*) => {$(
        impl Message for $t {
            const MIN_SIZE: usize = 8;

            fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
                (*self as $wire).encode(out)
            }

            fn decode(input: &mut Decoder<'_>) -> Result<Self> {
                $t::try_from($wire::decode(input)?)
                    .map_err(|_| Error::Message(concat!(stringify!($t), " out of range").into()))
            }

            fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
                write!(out, "{self}")
            }
        }
    )*};
}
word_sized!(usize as u64, isize as i64);

impl Message for bool {
    const MIN_SIZE: usize = 1;

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.push(u8::from(*self));
        Ok(())
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        match u8::decode(input)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(Error::Message(format!("{other} is not a bool"))),
        }
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str(if *self { "True" } else { "False" })
    }
}

impl Message for char {
    const MIN_SIZE: usize = 4;

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        u32::from(*self).encode(out)
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let code = u32::decode(input)?;
        char::from_u32(code).ok_or_else(|| Error::Message(format!("{code:#x} is not a char")))
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "'{self}'")
    }
}

impl Message for String {
    const MIN_SIZE: usize = 4;

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_count(out, self.len())?;
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let mut text = String::new();
        text.decode_into(input)?;
        Ok(text)
    }

    fn decode_into(&mut self, input: &mut Decoder<'_>) -> Result<()> {
        let n = input.count(1)?;
        let bytes = input.take(n)?;
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::Message(format!("a string is not UTF-8: {e}")))?;
        self.clear();
        self.push_str(text);
        Ok(())
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "'{self}'")
    }
}

impl<T: Message> Message for Vec<T> {
    const MIN_SIZE: usize = 4;

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_count(out, self.len())?;
        self.iter().try_for_each(|item| item.encode(out))
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let mut items = Vec::new();
        items.decode_into(input)?;
        Ok(items)
    }

    fn decode_into(&mut self, input: &mut Decoder<'_>) -> Result<()> {
        let n = input.count(T::MIN_SIZE)?;
        self.clear();
        self.reserve(n);
        for _ in 0..n {
            self.push(T::decode(input)?);
        }
        Ok(())
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_char('[')?;
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            item.describe(out)?;
        }
        out.write_char(']')
    }
}

impl<T: Message> Message for Option<T> {
    const MIN_SIZE: usize = 1;

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            None => false.encode(out),
            Some(value) => {
                true.encode(out)?;
                value.encode(out)
            }
        }
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        Ok(if bool::decode(input)? {
            Some(T::decode(input)?)
        } else {
            None
        })
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            None => out.write_str("None"),
            Some(value) => value.describe(out),
        }
    }
}

macro_rules! tuple {
    ($($name:ident)+) => {
        impl<$($name: Message),+> Message for ($($name,)+) {
            const MIN_SIZE: usize = 0 $(+ $name::MIN_SIZE)+;

            #[allow(non_snake_case)]
            fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
                let ($($name,)+) = self;
                $($name.encode(out)?;)+
                Ok(())
            }

            fn decode(input: &mut Decoder<'_>) -> Result<Self> {
                Ok(($($name::decode(input)?,)+))
            }

            #[allow(non_snake_case, unused_assignments)]
            fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
                let ($($name,)+) = self;
                out.write_char('(')?;
                let mut first = true;
                $(
                    if !first {
                        out.write_str(", ")?;
                    }
                    first = false;
                    $name.describe(out)?;
                )+
                out.write_char(')')
            }
        }
    };
}
tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);

/// Raw bytes, encoded with one bulk copy instead of byte by byte (Python's
/// `send_bytes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Message for Bytes {
    const MIN_SIZE: usize = 4;

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_count(out, self.0.len())?;
        out.extend_from_slice(&self.0);
        Ok(())
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let n = input.count(1)?;
        Ok(Bytes(input.take(n)?.to_vec()))
    }

    fn decode_into(&mut self, input: &mut Decoder<'_>) -> Result<()> {
        let n = input.count(1)?;
        let bytes = input.take(n)?;
        self.0.clear();
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "<{} bytes>", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round trips `value` (also into a value that held another), and
    /// checks that every strict prefix is an error; used by `structs` too.
    pub(super) fn round_trip<T: Message + PartialEq + std::fmt::Debug>(value: T) {
        let bytes = to_bytes(&value).unwrap();
        assert!(bytes.len() >= T::MIN_SIZE);
        assert_eq!(from_bytes::<T>(&bytes).unwrap(), value);
        // Every strict prefix is truncated, hence an error.
        for cut in 0..bytes.len() {
            assert!(from_bytes::<T>(&bytes[..cut]).is_err(), "prefix {cut}");
        }
        // Decoded into a value that held something else, the same.
        let mut into = from_bytes::<T>(&bytes).unwrap();
        from_bytes_into(&bytes, &mut into).unwrap();
        assert_eq!(into, value);
        for cut in 0..bytes.len() {
            assert!(from_bytes_into(&bytes[..cut], &mut into).is_err());
        }
    }

    #[test]
    fn decoding_into_a_value_reuses_its_memory() {
        let mut text = String::from("a longer string than the next one");
        let capacity = text.capacity();
        from_bytes_into(&to_bytes(&"short".to_string()).unwrap(), &mut text).unwrap();
        assert_eq!((text.as_str(), text.capacity()), ("short", capacity));
        let mut bytes = Bytes(vec![9; 100]);
        from_bytes_into(&to_bytes(&Bytes(vec![1, 2])).unwrap(), &mut bytes).unwrap();
        assert_eq!(bytes, Bytes(vec![1, 2]));
        assert!(bytes.0.capacity() >= 100);
        let mut list = vec![7_u32; 10];
        from_bytes_into(&to_bytes(&vec![1_u32, 4, 9]).unwrap(), &mut list).unwrap();
        assert_eq!(list, [1, 4, 9]);
    }

    #[test]
    fn every_kind_round_trips() {
        round_trip(-5_i8);
        round_trip(u64::MAX);
        round_trip(usize::MAX);
        round_trip(isize::MIN);
        round_trip(2.678_f64);
        round_trip(f32::MIN_POSITIVE);
        round_trip(true);
        round_trip('é');
        round_trip(String::from("Hello, introduction to distributed computing"));
        round_trip(String::new());
        round_trip(vec![1_i32, 4, 9, 16]);
        round_trip(Vec::<String>::new());
        round_trip(Some(vec![Some(1_u8), None]));
        round_trip(None::<String>);
        round_trip((1_u8, 2_i16, 3.0_f32, String::from("four")));
        round_trip(Bytes(vec![0, 255, 7]));
    }

    #[test]
    fn fixed_layout_is_little_endian() {
        assert_eq!(to_bytes(&0x0102_i32).unwrap(), [2, 1, 0, 0]);
        assert_eq!(
            to_bytes(&String::from("hi")).unwrap(),
            [2, 0, 0, 0, b'h', b'i']
        );
        assert_eq!(to_bytes(&Some(1_u8)).unwrap(), [1, 1]);
    }

    #[test]
    fn malformed_bytes_are_errors() {
        assert!(from_bytes::<bool>(&[2]).is_err());
        assert!(from_bytes::<char>(&0xD800_u32.to_le_bytes()).is_err());
        assert!(from_bytes::<String>(&[1, 0, 0, 0, 0xff]).is_err());
        assert!(from_bytes::<Option<u8>>(&[9, 0]).is_err());
        let trailing = from_bytes::<u8>(&[1, 2]).unwrap_err();
        assert_eq!(
            trailing.to_string(),
            "message: 1 unexpected bytes after the message"
        );
    }

    #[test]
    fn a_huge_count_is_rejected_before_allocating() {
        // Claims 4 billion u64s in 8 bytes.
        let mut bytes = u32::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 8]);
        let err = from_bytes::<Vec<u64>>(&bytes).unwrap_err();
        assert!(err.to_string().contains("cannot fit"), "{err}");
    }

    #[test]
    fn the_limit_is_checked_first() {
        let bytes = to_bytes(&Bytes(vec![0; 100])).unwrap();
        assert!(matches!(
            from_bytes_limited::<Bytes>(&bytes, 50),
            Err(Error::MessageTooLarge {
                size: 104,
                limit: 50
            })
        ));
        assert!(from_bytes_limited::<Bytes>(&bytes, 104).is_ok());
    }

    #[test]
    fn random_input_never_panics() {
        // A small xorshift so the test needs no dependency and is
        // repeatable; the property test over 100 000 inputs lives in
        // tests/decode_property.rs.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 40) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = from_bytes::<(Vec<String>, Option<f64>, char)>(&bytes);
            let _ = from_bytes::<Vec<Vec<bool>>>(&bytes);
        }
    }
}
