//! What travels through the queues, and what the reply queues are called.
//!
//! Messages are short lines of text, so that they can be read as they are:
//!
//! | message | from | to | meaning |
//! | --- | --- | --- | --- |
//! | `square 2 7 ipc-lab-4242-exp3-clientserver-reply` | client 2 | the server's queue | the square of 7, please, into that queue |
//! | `49` | the server | the client's reply queue | the answer |
//! | `stop` | the default run's parent | the server's queue | every client has ended: stop serving |
//!
//! A client's reply queue is `ipc-lab-PID-SERVER-reply`: the client's pid
//! (so that `scripts/clean.sh` can tell a dead client's leftover from a
//! live one's queue) and the server's name without its `ipc-lab-` prefix
//! (so that each server's clients are told apart).

use ipc_core::name::PREFIX;
use ipc_core::{IpcName, Result};

/// The largest request, in bytes: the server queue's `mq_msgsize`.
pub const REQUEST_SIZE: usize = 512;

/// The largest reply, in bytes: a reply queue's `mq_msgsize`.
pub const REPLY_SIZE: usize = 64;

/// The largest number a client may send: its square still fits in an
/// `i64`.
pub const MAX_NUMBER: i64 = 3_037_000_499;

/// A message to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Client `client` asks for the square of `number`, to be sent to the
    /// queue `reply`.
    Square {
        /// The client's number, for the server's log.
        client: u32,
        /// The number to square.
        number: i64,
        /// Where the answer goes.
        reply: IpcName,
    },
    /// Stop serving.
    Stop,
}

impl Request {
    /// The message's text.
    pub fn to_text(&self) -> String {
        match self {
            Request::Square {
                client,
                number,
                reply,
            } => format!("square {client} {number} {reply}"),
            Request::Stop => "stop".into(),
        }
    }

    /// Reads a request sent to the server `server`.
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
                let client = client
                    .parse()
                    .map_err(|_| format!("{client:?} is not a client number"))?;
                let number: i64 = number
                    .parse()
                    .map_err(|_| format!("{number:?} is not a number"))?;
                if number.abs() > MAX_NUMBER {
                    return Err(format!("{number} is too large to square"));
                }
                let reply = IpcName::new(reply).map_err(|e| e.to_string())?;
                if !is_reply_of(&reply, server) {
                    return Err(format!("{reply} is not a reply queue of {server}"));
                }
                Ok(Request::Square {
                    client,
                    number,
                    reply,
                })
            }
            _ => Err(format!("{text:?} is not a request")),
        }
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

fn bare(name: &IpcName) -> &str {
    name.as_str().strip_prefix(PREFIX).unwrap_or(name.as_str())
}

/// The answer to `number`: its square, as text.
pub fn answer(number: i64) -> String {
    (number * number).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> IpcName {
        IpcName::new("exp3-clientserver").unwrap()
    }

    #[test]
    fn a_request_reads_back_as_it_was_written() {
        let request = Request::Square {
            client: 2,
            number: 7,
            reply: reply_name(&server(), 4242).unwrap(),
        };
        let text = request.to_text();
        assert_eq!(text, "square 2 7 ipc-lab-4242-exp3-clientserver-reply");
        assert_eq!(Request::parse(text.as_bytes(), &server()), Ok(request));
        assert_eq!(Request::parse(b"stop", &server()), Ok(Request::Stop));
        assert_eq!(answer(7), "49");
        assert_eq!(answer(-MAX_NUMBER), (MAX_NUMBER * MAX_NUMBER).to_string());
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
                "not a number",
            ),
            (
                "square 1 3037000500 ipc-lab-1-exp3-clientserver-reply",
                "too large",
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
}
