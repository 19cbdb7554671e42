//! The ends the seed's `sender` and `receiver` take, whichever pipe they
//! belong to.
//!
//! Python's `Pipe()` and `Pipe(duplex=False)` both return `Connection`
//! objects, so the seed's `sender(conn, msgs)` works on either. ipc-core
//! has a type per kind: a duplex [`Connection`] (`socketpair(2)`) both
//! sends and receives, while a simplex pipe (`pipe(2)`) has a
//! [`Sender`] end and a [`Receiver`] end, each one way only. [`SendEnd`]
//! and [`RecvEnd`] are what the seed's functions need of an end, for all
//! three. [`Paced`] adds `--delay` to an end that sends.

use std::time::Duration;

use ipc_core::pipe::{Connection, Receiver, Sender};
use ipc_core::{Result, pace};

/// An end that sends messages: a duplex [`Connection`] or a simplex
/// pipe's [`Sender`].
pub trait SendEnd {
    /// Sends one message (see [`Connection::send`]).
    ///
    /// # Errors
    /// As [`Connection::send`]: [`ipc_core::Error::Disconnected`] when
    /// every receiving end is closed.
    fn send(&mut self, msg: &str) -> Result<()>;

    /// Closes this end in this process (Python's `conn.close()`).
    fn close(&mut self);
}

/// An end that receives messages: a duplex [`Connection`] or a simplex
/// pipe's [`Receiver`].
pub trait RecvEnd {
    /// Waits for the next message (see [`Connection::recv`]).
    ///
    /// # Errors
    /// As [`Connection::recv`]: [`ipc_core::Error::Disconnected`] at the
    /// end of the stream, every sending end closed.
    fn recv(&mut self) -> Result<String>;
}

impl SendEnd for Connection<String> {
    fn send(&mut self, msg: &str) -> Result<()> {
        Connection::send(self, &msg.to_owned())
    }

    fn close(&mut self) {
        Connection::close(self);
    }
}

impl SendEnd for Sender<String> {
    fn send(&mut self, msg: &str) -> Result<()> {
        Sender::send(self, &msg.to_owned())
    }

    fn close(&mut self) {
        Sender::close(self);
    }
}

impl RecvEnd for Connection<String> {
    fn recv(&mut self) -> Result<String> {
        Connection::recv(self)
    }
}

impl RecvEnd for Receiver<String> {
    fn recv(&mut self) -> Result<String> {
        Receiver::recv(self)
    }
}

/// An end that waits `delay` before each message it sends (`--delay`;
/// [`pace::sleep`], so `--fast` shortens it 1000 times).
#[derive(Debug)]
pub struct Paced<'a, E> {
    end: &'a mut E,
    delay: Duration,
}

impl<'a, E: SendEnd> Paced<'a, E> {
    /// `end`, waiting `delay` before each message.
    pub fn new(end: &'a mut E, delay: Duration) -> Self {
        Paced { end, delay }
    }
}

impl<E: SendEnd> SendEnd for Paced<'_, E> {
    fn send(&mut self, msg: &str) -> Result<()> {
        pace::sleep(self.delay)?;
        self.end.send(msg)
    }

    fn close(&mut self) {
        self.end.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `msgs` on `tx` and closes it; what `rx` then receives.
    fn across(tx: &mut impl SendEnd, rx: &mut impl RecvEnd, msgs: &[&str]) -> Vec<String> {
        for text in msgs {
            tx.send(text).unwrap();
        }
        tx.close();
        msgs.iter().map(|_| rx.recv().unwrap()).collect()
    }

    #[test]
    fn every_kind_of_end_carries_the_messages_in_order() {
        // No fork: both ends in the test's own process.
        let (mut a, mut b) = ipc_core::pipe::duplex::<String>().unwrap();
        assert_eq!(across(&mut a, &mut b, &["First", "END"]), ["First", "END"]);
        let (mut rx, mut tx) = ipc_core::pipe::simplex::<String>().unwrap();
        let mut paced = Paced::new(&mut tx, Duration::ZERO);
        assert_eq!(across(&mut paced, &mut rx, &["second"]), ["second"]);
        assert!(matches!(rx.recv(), Err(ipc_core::Error::Disconnected)));
    }
}
