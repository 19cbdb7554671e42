//! What travels through a connection: exp3-clientserver's requests and
//! answers, less the reply queue (a connection goes both ways).
//!
//! | message | from | to | meaning |
//! | --- | --- | --- | --- |
//! | `square 2 7` | client 2 | the server | the square of 7, please |
//! | `49` | the server | that client, on the same connection | the answer |
//! | `error: …` | the server | a client whose request it cannot answer | why not |
//!
//! Each message is one frame of Python's `multiprocessing.connection`:
//! its length in 4 bytes (big-endian), then its bytes, here the text
//! itself, in UTF-8, with nothing added. So a Python client talks to the
//! server with `conn.send_bytes(b"square 1 7")` and `conn.recv_bytes()`
//! (`b"49"`). [`Request`] and [`Reply`] are ipc-core [`Message`]s whose
//! encoding is that text: `conn.send(&request)` and `conn.recv::<Reply>()`
//! carry them, and the run's `--trace` timeline shows them as text
//! (`'square 2 7'`, `'49'`).
//!
//! A peer's bytes are never trusted: anything that is not a request
//! becomes [`Request::Invalid`] (never a panic), and is shown with its
//! control characters escaped.

use std::fmt;

use ipc_core::message::{Decoder, Message};
use ipc_core::{Error, Result};

/// A [`Message`] that is its text, the whole frame (what Python's
/// `send_bytes` sends): encoded as `to_bytes()`, decoded by `$from` from
/// every byte of the frame, shown as Python shows the bytes.
macro_rules! text_message {
    ($t:ty, $from:expr) => {
        impl Message for $t {
            const MIN_SIZE: usize = 1;

            fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
                out.extend(self.to_bytes());
                Ok(())
            }

            /// The frame around the message says where it ends.
            fn decode(input: &mut Decoder<'_>) -> Result<Self> {
                let bytes = input.take(input.remaining())?;
                let from: fn(&[u8]) -> Result<$t> = $from;
                from(bytes)
            }

            fn describe(&self, out: &mut dyn fmt::Write) -> fmt::Result {
                out.write_str(&shown(&self.to_bytes()))
            }
        }
    };
}

/// The largest number a client may send: its square still fits in an
/// `i64`.
pub const MAX_NUMBER: i64 = ipc_cli::MAX_SQUARABLE;

/// The longest message the server receives, in bytes; a longer one ends
/// the client's connection.
pub const LIMIT: usize = 512;

/// How many bytes of a peer's message an error shows, at most.
const SHOWN: usize = 64;

/// A message to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Client `client` asks for the square of `number`.
    Square {
        /// The client's number, for the server's log.
        client: u32,
        /// The number to square.
        number: i64,
    },
    /// Anything else a peer sent: its bytes, and why it is no request.
    Invalid {
        /// The bytes as they came.
        bytes: Vec<u8>,
        /// What is wrong with them.
        why: String,
    },
}

impl Request {
    /// Reads a request from a message's bytes; anything else is
    /// [`Request::Invalid`], with the reason.
    pub fn parse(bytes: &[u8]) -> Request {
        let invalid = |why: String| Request::Invalid {
            bytes: bytes.to_vec(),
            why,
        };
        let rule = "expected: square CLIENT NUMBER";
        let Ok(text) = std::str::from_utf8(bytes) else {
            return invalid(format!("{} is not UTF-8 text ({rule})", shown(bytes)));
        };
        let words: Vec<&str> = text.split(' ').collect();
        let ["square", client, number] = words[..] else {
            return invalid(format!("{} is not a request ({rule})", shown(bytes)));
        };
        let Ok(client) = client.parse::<u32>() else {
            return invalid(format!(
                "{} is not a client number",
                shown(client.as_bytes())
            ));
        };
        let Ok(number) = number.parse::<i64>() else {
            return invalid(format!(
                "{} is not a whole number",
                shown(number.as_bytes())
            ));
        };
        if !(-MAX_NUMBER..=MAX_NUMBER).contains(&number) {
            return invalid(format!(
                "{number} is too large to square (at most {MAX_NUMBER} either way)"
            ));
        }
        Request::Square { client, number }
    }

    /// The text of the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Request::Square { client, number } => format!("square {client} {number}").into_bytes(),
            Request::Invalid { bytes, .. } => bytes.clone(),
        }
    }

    /// The server's answer: the square, or why there is none.
    pub fn answer(&self) -> Reply {
        match self {
            // |number| <= MAX_NUMBER: the square fits; checked all the same.
            Request::Square { number, .. } => number
                .checked_mul(*number)
                .map_or_else(|| Reply::Refused("too large".into()), Reply::Square),
            Request::Invalid { why, .. } => Reply::Refused(why.clone()),
        }
    }
}

text_message!(Request, |bytes| Ok(Request::parse(bytes)));

/// The server's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The square asked for.
    Square(i64),
    /// The request could not be answered: why (sent as `error: why`).
    Refused(String),
}

impl Reply {
    /// The text of the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Reply::Square(square) => square.to_string().into_bytes(),
            Reply::Refused(why) => format!("error: {why}").into_bytes(),
        }
    }

    /// A number is an answer; `error: …` is the server's refusal, and
    /// anything else a server that does not speak this protocol: both are
    /// [`Error::Message`], saying what came.
    fn from_frame(bytes: &[u8]) -> Result<Reply> {
        let text = std::str::from_utf8(bytes).unwrap_or_default();
        if let Ok(square) = text.parse::<i64>() {
            return Ok(Reply::Square(square));
        }
        match bytes.strip_prefix(b"error: ") {
            Some(why) => Err(Error::Message(format!(
                "the server refused the request: {}",
                why[..why.len().min(4 * SHOWN)].escape_ascii()
            ))),
            None => Err(Error::Message(format!(
                "the server answered {}, not a number",
                shown(bytes)
            ))),
        }
    }
}

impl fmt::Display for Reply {
    /// `49`, or `error: why`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Square(square) => write!(f, "{square}"),
            Reply::Refused(why) => write!(f, "error: {why}"),
        }
    }
}

text_message!(Reply, Reply::from_frame);

/// A peer's bytes as Python prints a string, quoted, control characters
/// and anything outside printable ASCII escaped, cut after 64 bytes:
/// `'square 2 7'`, `'\x1b[2J'`.
pub fn shown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(SHOWN)];
    let more = if head.len() < bytes.len() { "…" } else { "" };
    format!("'{}{more}'", head.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc_core::message::{from_bytes, to_bytes};

    #[test]
    fn a_request_and_its_answer_are_plain_text() {
        let request = Request::Square {
            client: 2,
            number: 7,
        };
        assert_eq!(to_bytes(&request).unwrap(), b"square 2 7");
        assert_eq!(from_bytes::<Request>(b"square 2 7").unwrap(), request);
        assert_eq!(request.answer(), Reply::Square(49));
        assert_eq!(to_bytes(&Reply::Square(49)).unwrap(), b"49");
        assert_eq!(from_bytes::<Reply>(b"-4").unwrap(), Reply::Square(-4));
        let largest = Request::parse(format!("square 1 -{MAX_NUMBER}").as_bytes());
        assert_eq!(largest.answer(), Reply::Square(MAX_NUMBER * MAX_NUMBER));
        assert_eq!(
            ipc_core::message::Describe(&request).to_string(),
            "'square 2 7'"
        );
    }

    #[test]
    fn anything_else_is_refused_with_its_reason_and_never_panics() {
        for (bytes, reason) in [
            (&b"hello"[..], "'hello' is not a request"),
            (b"", "'' is not a request"),
            (b"square 1", "is not a request"),
            (b"square x 7", "'x' is not a client number"),
            (b"square 1 seven", "'seven' is not a whole number"),
            (b"square 1 3037000500", "too large to square"),
            (b"square 1 7 ", "is not a request"),
            (b"\x1b[2J\xff", "'\\x1b[2J\\xff' is not UTF-8"),
        ] {
            let request = from_bytes::<Request>(bytes).unwrap();
            let Reply::Refused(why) = request.answer() else {
                panic!("{bytes:?} answered");
            };
            assert!(why.contains(reason), "{bytes:?}: {why}");
            assert!(!why.contains('\x1b'), "{why}");
            assert_eq!(to_bytes(&request).unwrap(), bytes);
        }
        let refused = to_bytes(&Reply::Refused("no".into())).unwrap();
        let error = from_bytes::<Reply>(&refused).unwrap_err().to_string();
        assert!(
            error.contains("the server refused the request: no"),
            "{error}"
        );
        let error = from_bytes::<Reply>(b"#CHALLENGE#\x00")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("'#CHALLENGE#\\x00', not a number"),
            "{error}"
        );
        assert!(shown(&[b'a'; 100]).ends_with("…'"));
    }
}
