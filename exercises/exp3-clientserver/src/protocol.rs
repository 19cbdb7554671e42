//! What travels through the queues, and what the reply queues are called.
//!
//! Messages are short lines of text, so that they can be read as they are:
//!
//! | message | from | to | meaning |
//! | --- | --- | --- | --- |
//! | `square 2 7 ipc-lab-4242-exp3-clientserver-reply` | client 2 | the server's queue | the square of 7, please, into that queue |
//! | `49` | the server | the client's reply queue | the answer |
//! | `error: the square of … does not fit in 64 bits` | the server | the client's reply queue | no answer: why |
//! | `stop` | the default run's parent | the server's queue | every client has ended: stop serving |
//!
//! A client's reply queue is `ipc-lab-PID-SERVER-reply`: the client's pid
//! (so that `scripts/clean.sh` can tell a dead client's leftover from a
//! live one's queue) and the server's name without its `ipc-lab-` prefix
//! (so that each server's clients are told apart).
//!
//! Whatever arrives on a queue is a peer's, and read as hostile: the
//! decoders ([`Request::parse`], [`Reply::parse`]) take any bytes and end
//! in a value or a reason, never a panic, and the square of any `i64` is
//! computed with checked arithmetic ([`Reply::to`]).

use std::fmt;

use ipc_core::name::PREFIX;
use ipc_core::{Error, IpcName, Result};

/// The largest request, in bytes: the server queue's `mq_msgsize`.
pub const REQUEST_SIZE: usize = 512;

/// The largest reply, in bytes: a reply queue's `mq_msgsize`.
pub const REPLY_SIZE: usize = 128;

/// The largest number `--number` and `--numbers` take: its square still
/// fits in an `i64`. (A request for a larger one gets an error reply.)
pub const MAX_NUMBER: i64 = ipc_cli::MAX_SQUARABLE;

/// What a client asks: the square of `number`, into the queue `reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Square {
    /// The client's number, for the server's log.
    pub client: u32,
    /// The number to square.
    pub number: i64,
    /// Where the answer goes.
    pub reply: IpcName,
}

/// A message to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A client asks for a square.
    Square(Square),
    /// Stop serving.
    Stop,
}

impl Request {
    /// The message's text.
    pub fn to_text(&self) -> String {
        match self {
            Request::Square(wanted) => {
                format!(
                    "square {} {} {}",
                    wanted.client, wanted.number, wanted.reply
                )
            }
            Request::Stop => "stop".into(),
        }
    }

    /// Reads a request sent to the server `server`, whatever its bytes.
    ///
    /// # Errors
    /// What is wrong with the message, when it is not a request, or names
    /// a reply queue that is not one of `server`'s clients'.
    pub fn parse(bytes: &[u8], server: &IpcName) -> std::result::Result<Request, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
        let words: Vec<&str> = text.split(' ').collect();
        match words[..] {
            ["stop"] => Ok(Request::Stop),
            ["square", client, number, reply] => {
                let wanted = Square {
                    client: client
                        .parse()
                        .map_err(|_| format!("{client:?} is not a client number"))?,
                    number: number
                        .parse()
                        .map_err(|_| format!("{number:?} is not a 64-bit number"))?,
                    reply: IpcName::new(reply).map_err(|e| e.to_string())?,
                };
                if !is_reply_of(&wanted.reply, server) {
                    return Err(format!("{} is not a reply queue of {server}", wanted.reply));
                }
                Ok(Request::Square(wanted))
            }
            _ => Err(format!("{text:?} is not a request")),
        }
    }
}

/// The server's answer to a [`Square`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The square.
    Square(i64),
    /// No square: why (a number whose square does not fit in 64 bits).
    Refused(String),
}

impl Reply {
    /// The answer to `number`: its square, checked, or why there is none.
    ///
    /// ```
    /// use exp3_clientserver::protocol::Reply;
    /// assert_eq!(Reply::to(-7), Reply::Square(49));
    /// assert!(matches!(Reply::to(i64::MIN), Reply::Refused(_)));
    /// ```
    pub fn to(number: i64) -> Reply {
        number.checked_mul(number).map_or_else(
            || Reply::Refused(format!("the square of {number} does not fit in 64 bits")),
            Reply::Square,
        )
    }

    /// The message's text: `49`, or `error: why`.
    pub fn to_text(&self) -> String {
        match self {
            Reply::Square(square) => square.to_string(),
            Reply::Refused(why) => format!("error: {why}"),
        }
    }

    /// Reads a reply, whatever its bytes.
    ///
    /// # Errors
    /// What is wrong with the message, when it is neither a square nor a
    /// refusal (the text shown with its control characters escaped).
    pub fn parse(bytes: &[u8]) -> std::result::Result<Reply, String> {
        let text = String::from_utf8_lossy(bytes);
        if let Some(why) = text.strip_prefix("error: ") {
            return Ok(Reply::Refused(why.to_owned()));
        }
        text.parse()
            .map(Reply::Square)
            .map_err(|_| format!("{text:?} is not an answer"))
    }
}

impl fmt::Display for Reply {
    /// The square, or the refusal with its control characters escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Square(square) => write!(f, "{square}"),
            Reply::Refused(why) => write!(f, "refused: {why:?}"),
        }
    }
}

/// The square an answer carries.
///
/// # Errors
/// [`ipc_core::Error::Message`] when the server refused (saying why, with
/// its control characters escaped) or the answer is no answer.
pub fn square_in(answer: &[u8]) -> Result<i64> {
    match Reply::parse(answer) {
        Ok(Reply::Square(square)) => Ok(square),
        Ok(refused) => Err(Error::Message(format!("the server's answer: {refused}"))),
        Err(why) => Err(Error::Message(format!("the server's answer: {why}"))),
    }
}

/// The reply queue of the client with pid `pid` of the server `server`.
///
/// # Errors
/// [`ipc_core::Error::InvalidName`] when the name would be too long.
pub fn reply_name(server: &IpcName, pid: u32) -> Result<IpcName> {
    IpcName::new(&format!("{pid}-{}-reply", bare(server)))
}

/// True when `reply` is what [`reply_name`] makes for `server`.
fn is_reply_of(reply: &IpcName, server: &IpcName) -> bool {
    reply
        .as_str()
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(&format!("-{}-reply", bare(server))))
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// The name as a user types it: without its `ipc-lab-` prefix.
pub fn bare(name: &IpcName) -> &str {
    name.as_str().strip_prefix(PREFIX).unwrap_or(name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> IpcName {
        IpcName::new("exp3-clientserver").unwrap()
    }

    #[test]
    fn a_request_reads_back_as_it_was_written() {
        let asked = Request::Square(Square {
            client: 2,
            number: 7,
            reply: reply_name(&server(), 4242).unwrap(),
        });
        let text = asked.to_text();
        assert_eq!(text, "square 2 7 ipc-lab-4242-exp3-clientserver-reply");
        assert_eq!(Request::parse(text.as_bytes(), &server()), Ok(asked));
        assert_eq!(Request::parse(b"stop", &server()), Ok(Request::Stop));
        assert_eq!(Reply::to(7).to_text(), "49");
        assert_eq!(
            Reply::to(-MAX_NUMBER),
            Reply::Square(MAX_NUMBER * MAX_NUMBER)
        );
        assert!(matches!(Reply::to(MAX_NUMBER + 1), Reply::Refused(_)));
    }

    #[test]
    fn malformed_requests_are_refused_with_a_reason() {
        let server = server();
        for (text, reason) in [
            ("hello", "is not a request"),
            (
                "square x 7 ipc-lab-1-exp3-clientserver-reply",
                "not a client number",
            ),
            (
                "square 1 seven ipc-lab-1-exp3-clientserver-reply",
                "not a 64-bit number",
            ),
            (
                "square 1 9223372036854775808 ipc-lab-1-exp3-clientserver-reply",
                "not a 64-bit number",
            ),
            ("square 1 7 ipc-lab-counter", "not a reply queue"),
            (
                "square 1 7 ipc-lab-x-exp3-clientserver-reply",
                "not a reply queue",
            ),
            ("square 1 7 ipc-lab-1-other-reply", "not a reply queue"),
            ("square 1 7 a/b", "'/'"),
        ] {
            let error = Request::parse(text.as_bytes(), &server).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
        assert!(Request::parse(&[0xff], &server).is_err());
    }

    #[test]
    fn replies_read_back_and_refusals_print_escaped() {
        for reply in [
            Reply::Square(0),
            Reply::Square(i64::MAX),
            Reply::to(i64::MIN),
        ] {
            assert_eq!(Reply::parse(reply.to_text().as_bytes()), Ok(reply));
        }
        let hostile = Reply::parse(b"error: \x1b[2Jgone\0").unwrap();
        assert_eq!(hostile.to_string(), r#"refused: "\u{1b}[2Jgone\0""#);
        assert!(Reply::parse(b"49 and more").is_err());
    }
}
