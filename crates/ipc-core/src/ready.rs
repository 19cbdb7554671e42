//! Waiting for the first of several things to become ready: Python's
//! `multiprocessing.connection.wait(object_list, timeout)`, on `poll(2)`.
//!
//! [`wait`] takes any handles of ipc-core that read from a descriptor
//! ([`Waitable`]: pipe ends and connections, FIFO ends, message queues,
//! sockets and listeners, a [`Process`](crate::Process) or its
//! [`sentinel`](crate::Process::sentinel), any [`OwnedFd`] or
//! [`BorrowedFd`]) and returns the indices of those ready to read:
//! something to receive, or the end of the stream (every writer closed),
//! or a child that ended. Like every wait of ipc-core it goes through
//! [`crate::blocking`]: a bounded wait has a [`Deadline`], `EINTR` is
//! retried, and SIGINT or SIGTERM ends it with [`Error::Interrupted`]
//! within [`crate::blocking::POLL_INTERVAL`].
//!
//! ```
//! use std::time::Duration;
//! use ipc_core::{Process, pipe, ready};
//!
//! let (mut a_rx, mut a_tx) = pipe::simplex::<String>().unwrap();
//! let (b_rx, b_tx) = pipe::simplex::<String>().unwrap();
//! let mut child = Process::spawn("child", || a_tx.send(&"hello".to_string())).unwrap();
//! let sentinel = child.sentinel().unwrap();                   // p.sentinel
//! drop((a_tx, b_tx)); // the child holds the only writers now
//! let objects: [&dyn ready::Waitable; 3] = [&a_rx, &b_rx, &sentinel];
//! let first = ready::wait(&objects, Some(Duration::from_secs(10))).unwrap();
//! // wait([a, b, p.sentinel], timeout=10)
//! assert!(first.contains(&0), "a message, or a's end: {first:?}");
//! assert_eq!(a_rx.recv().unwrap(), "hello");
//! assert!(child.join().unwrap().success());
//! ```
//!
//! # What "ready" means
//!
//! As in Python: a descriptor `poll(2)` reports readable, hung up or in
//! error (`POLLIN`, `POLLHUP`, `POLLERR`), so a reader whose writers are
//! all gone is ready, and its next receive says so
//! ([`Error::Disconnected`]). A handle that reads ahead ([`pipe`]'s
//! receivers, a [`FifoReader`](crate::FifoReader)) is also ready while it
//! holds bytes it read ahead, which `poll(2)` cannot see
//! ([`Waitable::has_buffered`]). A ready receiver may still wait for the
//! rest of a frame its writer is in the middle of.
//!
//! [`pipe`]: crate::pipe

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};

/// What [`wait`] can wait for: a handle that reads from a descriptor.
pub trait Waitable {
    /// The descriptor `poll(2)` watches for reading.
    ///
    /// # Errors
    /// [`Error::Sys`] with `EBADF` for a handle closed in this process
    /// (Python's `OSError: handle is closed`).
    fn wait_fd(&self) -> Result<BorrowedFd<'_>>;

    /// True when the handle holds bytes it read ahead, so that reading
    /// from it finds something even if `poll(2)` says the descriptor has
    /// nothing. False for a handle that never reads ahead.
    fn has_buffered(&self) -> bool {
        false
    }
}

impl Waitable for OwnedFd {
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.as_fd())
    }
}

impl Waitable for BorrowedFd<'_> {
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.as_fd())
    }
}

/// The indices of `objects` ready to read, in their order, waiting up to
/// `timeout` (`None`: as long as it takes) for at least one (Python's
/// `multiprocessing.connection.wait`). Empty when the timeout ran out
/// first; with `Some(Duration::ZERO)` it only looks. See `poll(2)`.
///
/// ```
/// use std::time::Duration;
/// use ipc_core::{pipe, ready};
///
/// let (rx, mut tx) = pipe::simplex::<u32>().unwrap();
/// let nothing = ready::wait(&[&rx], Some(Duration::from_millis(10))).unwrap();
/// assert!(nothing.is_empty(), "the timeout ran out: an empty set, as in Python");
/// tx.close(); // the last writer gone: the reader is ready (end of stream)
/// assert_eq!(ready::wait(&[&rx], Some(Duration::ZERO)).unwrap(), [0]);
/// ```
///
/// # Errors
/// [`Error::Interrupted`] after SIGINT or SIGTERM (see [`crate::signal`]);
/// the error of [`Waitable::wait_fd`] for a closed handle; [`Error::Sys`]
/// naming `poll` (`EINVAL`: more objects than the limit of open files).
pub fn wait(objects: &[&dyn Waitable], timeout: Option<Duration>) -> Result<Vec<usize>> {
    wait_until(objects, Deadline::within(timeout))
}

/// As [`wait`], giving up at `deadline`.
///
/// # Errors
/// As [`wait`].
pub fn wait_until(objects: &[&dyn Waitable], deadline: Deadline) -> Result<Vec<usize>> {
    let fds = objects
        .iter()
        .map(|object| object.wait_fd())
        .collect::<Result<Vec<_>>>()?;
    let outcome = blocking::wait(deadline, |slice| {
        let buffered: Vec<bool> = objects.iter().map(|o| o.has_buffered()).collect();
        // Something read ahead is ready now: only look at the rest.
        let slice = if buffered.contains(&true) {
            Duration::ZERO
        } else {
            slice
        };
        let mut polled: Vec<PollFd<'_>> = fds
            .iter()
            .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
            .collect();
        // Rounded up: poll(2) counts whole milliseconds, and must not
        // return before the slice is over.
        let ms = slice.as_nanos().div_ceil(1_000_000);
        let timeout =
            PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX);
        match poll(&mut polled, timeout) {
            Ok(_) => {}
            Err(Errno::EINTR) => return Ok(None),
            Err(errno) => return Err(Error::sys("poll", "the objects of wait", errno)),
        }
        let mut ready = Vec::new();
        for (index, (fd, buffered)) in polled.iter().zip(buffered).enumerate() {
            let events = fd.revents().unwrap_or(PollFlags::empty());
            if events.contains(PollFlags::POLLNVAL) {
                return Err(Error::sys(
                    "poll",
                    format!("object {index} of wait"),
                    Errno::EBADF,
                ));
            }
            if buffered || !events.is_empty() {
                ready.push(index);
            }
        }
        Ok((!ready.is_empty()).then_some(ready))
    });
    match outcome {
        Err(Error::Timeout) => Ok(Vec::new()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn the_ready_ones_in_their_order() {
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        let (b, mut b_peer) = UnixStream::pair().unwrap();
        let (a, b) = (OwnedFd::from(a), OwnedFd::from(b));
        let objects: [&dyn Waitable; 2] = [&a, &b];
        let bound = Some(Duration::from_millis(10));
        assert!(wait(&objects, bound).unwrap().is_empty());
        b_peer.write_all(b"x").unwrap();
        assert_eq!(wait(&objects, bound).unwrap(), [1]);
        a_peer.write_all(b"y").unwrap();
        assert_eq!(wait(&objects, None).unwrap(), [0, 1]);
    }

    #[test]
    fn nothing_to_wait_for_waits_out_the_timeout() {
        let deadline = Deadline::after(Duration::from_millis(10));
        assert!(wait_until(&[], deadline).unwrap().is_empty());
        assert!(deadline.has_passed());
    }

    struct Buffered(OwnedFd);

    impl Waitable for Buffered {
        fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
            Ok(self.0.as_fd())
        }

        fn has_buffered(&self) -> bool {
            true
        }
    }

    #[test]
    fn bytes_read_ahead_are_ready_though_the_descriptor_is_not() {
        let (quiet, _peer) = UnixStream::pair().unwrap();
        let buffered = Buffered(OwnedFd::from(quiet));
        assert_eq!(wait(&[&buffered], None).unwrap(), [0]);
    }
}
