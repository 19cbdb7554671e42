//! Typed connections between processes, like Python's `multiprocessing.Pipe()`.
//!
//! Two kinds, both made before a fork and inherited by the children:
//!
//! * [`simplex`] is `pipe(2)`: a [`Receiver`] and a [`Sender`], data flowing
//!   one way (Python's `Pipe(duplex=False)`, which returns the reading end
//!   first, as `pipe(2)` does).
//! * [`duplex`] is `socketpair(2)` (`AF_UNIX`, `SOCK_STREAM`, see `unix(7)`):
//!   two [`Connection`]s that both send and receive (Python's `Pipe()`).
//!
//! A pipe carries a stream of bytes with no notion of a message (`pipe(7)`).
//! Each message therefore travels as a *frame*: a `u32` little-endian length,
//! then that many bytes, the [`Message`] encoding of the value (or raw bytes,
//! with [`Sender::send_bytes`]). So a message of any size up to the limit
//! ([`message::DEFAULT_LIMIT`] unless set with [`Builder::limit`]) arrives
//! whole, however the kernel splits it.
//!
//! ```
//! use ipc_core::pipe;
//!
//! let (mut reader, mut writer) = pipe::simplex::<String>().unwrap();
//! writer.send(&"First".to_string()).unwrap();
//! writer.send(&"second".to_string()).unwrap();
//! writer.close(); // the last writer gone: the reader sees the end after the data
//! assert_eq!(reader.recv().unwrap(), "First");
//! assert_eq!(reader.recv().unwrap(), "second");
//! assert!(matches!(reader.recv(), Err(ipc_core::Error::Disconnected)));
//! ```
//!
//! # Several writers
//!
//! POSIX makes a write of at most `PIPE_BUF` (4096) bytes atomic; a larger
//! one may be split, and while it waits for room another process's write,
//! even a small one, can land between its pieces. So every send takes a
//! process-shared, robust lock (a [`crate::Lock`] made with the channel, one
//! per direction) around its write: frames from any number of processes
//! never interleave. Uncontended, the lock costs an atomic instruction and
//! no system call.
//!
//! # Closing the ends you do not use
//!
//! After a fork both processes hold both ends. The reader sees the end of
//! the stream only once *every* write end is closed, and a writer gets
//! [`Error::Disconnected`] only once *every* read end is closed, so each
//! process should [`Sender::close`] / [`Receiver::close`] the ends it does
//! not use (Python's `conn.close()`), as the parent does after starting its
//! children. Dropping an end closes it too.
//!
//! # Errors and signals
//!
//! Writing when every reader is gone returns [`Error::Disconnected`]
//! (`EPIPE`; Rust programs ignore `SIGPIPE`, and sockets are written with
//! `MSG_NOSIGNAL`), never death by a signal. A message above the limit is
//! [`Error::MessageTooLarge`] before anything is written; a received length
//! above the limit is the same error before anything is allocated. A call
//! cut short by a signal (`EINTR`) is retried, unless SIGINT or SIGTERM set
//! the flag of [`crate::signal`], in which case it returns
//! [`Error::Interrupted`], so Ctrl-C ends a blocked `recv` (see
//! [`crate::blocking`]). While the flag is set, a call that would have to
//! wait returns that error at once ([`crate::signal::clear`] to go on).
//!
//! # Speed
//!
//! A small message costs one `write(2)` (header and payload in one reused
//! buffer, or `writev(2)` for [`Sender::send_bytes`]) and usually one
//! `read(2)` into a reused buffer. Large frames are read straight into the
//! caller's buffer by [`Receiver::recv_bytes_into`]. [`Builder::pipe_size`]
//! raises the pipe's capacity (`F_SETPIPE_SZ`, see `fcntl(2)`).

use std::fmt;
use std::io::{IoSlice, IoSliceMut};
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr, sendmsg};

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result, until_disconnected};
use crate::message::{self, Describe, Message};
use crate::ready::Waitable;
use crate::sync::Lock;
use crate::trace;

/// Bytes of the length that starts every frame.
pub const HEADER_LEN: usize = 4;

/// How much a receiver reads ahead when frames are small.
const READ_AHEAD: usize = 64 << 10;

/// Frames at least this long make the next read fetch only the header, so
/// that a large payload goes straight to its destination.
const LARGE_FRAME: usize = 16 << 10;

/// What both ends of a pipe say and set about themselves, written once:
/// closed or not, the largest message (kept by its `outbox` or `inbox`),
/// and the pipe's capacity.
macro_rules! end_settings {
    ($end:ident, $buffer:ident, $verb:literal) => {
        #[doc = concat!("True once [`", stringify!($end), "::close`] was called.")]
        pub fn is_closed(&self) -> bool {
            self.fd.is_none()
        }

        #[doc = concat!("The largest message this end ", $verb, ".")]
        pub fn limit(&self) -> usize {
            self.$buffer.limit
        }

        #[doc = concat!("Changes the largest message this end ", $verb, " (at most `u32::MAX`).")]
        pub fn set_limit(&mut self, bytes: usize) {
            self.$buffer.limit = bytes.min(u32::MAX as usize);
        }

        /// The pipe's capacity in bytes (`F_GETPIPE_SZ`, see `fcntl(2)`).
        ///
        /// # Errors
        /// [`Error::Sys`] naming `fcntl F_GETPIPE_SZ`.
        pub fn pipe_size(&self) -> Result<usize> {
            pipe_size(self.fd.as_ref())
        }

        /// Sets the pipe's capacity (`F_SETPIPE_SZ`), returning the size the
        /// kernel chose (see [`Builder::pipe_size`]).
        ///
        /// # Errors
        /// [`Error::InvalidArgument`] above `/proc/sys/fs/pipe-max-size`;
        /// [`Error::Sys`] naming `fcntl F_SETPIPE_SZ` (`Device or resource
        /// busy` when shrinking below the bytes it holds).
        pub fn set_pipe_size(&self, bytes: usize) -> Result<usize> {
            set_pipe_size(open_fd(self.fd.as_ref(), "fcntl", Kind::Pipe)?, bytes)
        }
    };
}

/// Makes a simplex pipe (`pipe(2)`) with the default settings: the reading
/// end first, as `pipe(2)` and Python's `Pipe(duplex=False)` return them.
///
/// # Errors
/// As [`Builder::simplex`].
///
/// # Examples
/// ```
/// let (mut rx, mut tx) = ipc_core::pipe::simplex::<(i32, String)>().unwrap();
/// tx.send(&(7, "third?".into())).unwrap();
/// assert_eq!(rx.recv().unwrap(), (7, "third?".to_string()));
/// ```
pub fn simplex<T: Message>() -> Result<(Receiver<T>, Sender<T>)> {
    Builder::new().simplex()
}

/// Makes a duplex connection (`socketpair(2)`) with the default settings:
/// two ends that both send and receive `T`, like Python's `Pipe()`.
///
/// # Errors
/// As [`Builder::duplex`].
///
/// # Examples
/// ```
/// let (mut a, mut b) = ipc_core::pipe::duplex::<String>().unwrap();
/// a.send(&"ping".to_string()).unwrap();
/// assert_eq!(b.recv().unwrap(), "ping");
/// b.send(&"pong".to_string()).unwrap();
/// assert_eq!(a.recv().unwrap(), "pong");
/// ```
pub fn duplex<T: Message>() -> Result<(Connection<T>, Connection<T>)> {
    Builder::new().duplex()
}

/// Settings for a new pipe or connection.
///
/// ```
/// use ipc_core::pipe::Builder;
/// use ipc_core::message::Bytes;
///
/// let (mut rx, mut tx) = Builder::new().limit(1 << 20).pipe_size(1 << 20).simplex::<Bytes>().unwrap();
/// assert!(tx.pipe_size().unwrap() >= 1 << 20);
/// tx.send_bytes(&[1, 2, 3]).unwrap();
/// assert_eq!(rx.recv_bytes().unwrap(), [1, 2, 3]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Builder {
    limit: usize,
    pipe_size: Option<usize>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: a limit of [`message::DEFAULT_LIMIT`] bytes per
    /// message, and the kernel's pipe size (64 KiB on Linux).
    pub fn new() -> Self {
        Builder {
            limit: message::DEFAULT_LIMIT,
            pipe_size: None,
        }
    }

    /// The largest message, in encoded bytes, that the ends send or accept
    /// (at most `u32::MAX`, which a frame's length can express).
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// The capacity of a simplex pipe, set with `F_SETPIPE_SZ` (`fcntl(2)`).
    /// The kernel rounds it up to a power-of-two number of pages; an
    /// unprivileged process may ask for up to `/proc/sys/fs/pipe-max-size`
    /// (1 MiB by default). A larger pipe lets a writer run further ahead
    /// and moves large messages in fewer system calls.
    pub fn pipe_size(mut self, bytes: usize) -> Self {
        self.pipe_size = Some(bytes);
        self
    }

    /// Makes a pipe (`pipe2(2)` with `O_CLOEXEC`): the reading end, then the
    /// writing end.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a limit above `u32::MAX` or a pipe
    /// size above the system's maximum (the message names
    /// `/proc/sys/fs/pipe-max-size`); [`Error::Sys`] naming `pipe2`, `mmap`
    /// (the write lock) or `fcntl F_SETPIPE_SZ`.
    pub fn simplex<T: Message>(&self) -> Result<(Receiver<T>, Sender<T>)> {
        self.check_limit()?;
        let (read, write) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|errno| Error::call("pipe2", errno))?;
        if let Some(bytes) = self.pipe_size {
            set_pipe_size(write.as_fd(), bytes)?;
        }
        // The id the run's `--trace` timeline knows the pipe by.
        let channel = trace::new_object("pipe");
        let receiver = Receiver::new(read, Inbox::new(Kind::Pipe, self.limit, channel));
        let sender = Sender {
            fd: Some(write),
            outbox: Outbox::new(Kind::Pipe, self.limit, channel)?,
            _type: PhantomData,
        };
        Ok((receiver, sender))
    }

    /// Makes a connected pair of `AF_UNIX` stream sockets
    /// (`socketpair(2)`, close-on-exec). The first end sends `A` and
    /// receives `B`; the second the other way round.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a limit above `u32::MAX`, or when a
    /// pipe size was set (it applies to simplex pipes only); [`Error::Sys`]
    /// naming `socketpair` or `mmap`.
    pub fn duplex<A: Message, B: Message>(&self) -> Result<(Connection<A, B>, Connection<B, A>)> {
        self.check_limit()?;
        if self.pipe_size.is_some() {
            return Err(Error::InvalidArgument(
                "a pipe size applies to simplex pipes only, not to a duplex socketpair".into(),
            ));
        }
        let (one, two) = nix::sys::socket::socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|errno| Error::call("socketpair", errno))?;
        // One lock per direction: a process blocked sending one way while
        // holding its lock must not stop the other way.
        let (forth, back) = (
            trace::new_object("socketpair 1>2"),
            trace::new_object("socketpair 2>1"),
        );
        let (one_to_two, two_to_one) = (
            Outbox::new(Kind::Socket, self.limit, forth)?,
            Outbox::new(Kind::Socket, self.limit, back)?,
        );
        let first = Connection {
            rx: Receiver::new(one, Inbox::new(Kind::Socket, self.limit, back)),
            outbox: one_to_two,
            _type: PhantomData,
        };
        let second = Connection {
            rx: Receiver::new(two, Inbox::new(Kind::Socket, self.limit, forth)),
            outbox: two_to_one,
            _type: PhantomData,
        };
        Ok((first, second))
    }

    fn check_limit(&self) -> Result<()> {
        if self.limit > u32::MAX as usize {
            return Err(Error::InvalidArgument(format!(
                "a message limit of {} bytes is above the {} bytes a frame length can express",
                self.limit,
                u32::MAX
            )));
        }
        Ok(())
    }
}

/// The writing end of a [`simplex`] pipe.
///
/// Sends take `&mut self` because the end reuses one buffer for every
/// message. After a fork, any number of processes may send on their copies
/// of the same end: frames never interleave (see the module docs).
pub struct Sender<T> {
    fd: Option<OwnedFd>,
    outbox: Outbox,
    _type: PhantomData<fn(T)>,
}

impl<T: Message> Sender<T> {
    /// Sends one message as one frame.
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] when the encoded message is above the
    /// limit (nothing is sent); [`Error::Disconnected`] when every reading
    /// end is closed; [`Error::Interrupted`] after SIGINT or SIGTERM (see
    /// [`crate::signal`]); [`Error::OwnerDied`] or
    /// [`Error::NotRecoverable`] when a writer died while holding the write
    /// lock, possibly in the middle of a frame; [`Error::Sys`] naming
    /// `write` (`EBADF` once this end is closed).
    pub fn send(&mut self, msg: &T) -> Result<()> {
        self.outbox.send(self.fd.as_ref(), msg)
    }

    /// Sends `bytes` as one frame, copied in bulk (Python's `send_bytes`).
    /// The receiver gets them back with [`Receiver::recv_bytes`].
    ///
    /// # Errors
    /// As [`Sender::send`].
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.outbox.send_bytes(self.fd.as_ref(), bytes)
    }
}

impl<T> Sender<T> {
    /// Closes this end in this process (Python's `close()`); later sends
    /// fail. Readers see the end of the stream once every process has
    /// closed its copy. Closing twice does nothing.
    pub fn close(&mut self) {
        self.fd = None;
    }

    end_settings!(Sender, outbox, "sends");
}

impl<T> Waitable for Sender<T> {
    /// The write end: `poll(2)` reports it once every reader is gone
    /// (`POLLERR`), when a send would fail with [`Error::Disconnected`].
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        open_fd(self.fd.as_ref(), "poll", Kind::Pipe)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("fd", &self.fd.as_ref().map(AsRawFd::as_raw_fd))
            .field("limit", &self.outbox.limit)
            .finish()
    }
}

/// The reading end of a [`simplex`] pipe.
///
/// It reads ahead into a buffer of its own, so only one process should
/// receive on a pipe (close the other copies after a fork); for several
/// consumers use a queue.
pub struct Receiver<T> {
    fd: Option<OwnedFd>,
    inbox: Inbox,
    _type: PhantomData<fn() -> T>,
}

impl<T: Message> Receiver<T> {
    /// Waits for the next message.
    ///
    /// # Errors
    /// [`Error::Disconnected`] at the end of the stream: every writing end
    /// is closed and every message has been received (Python's
    /// `EOFError`); [`Error::Message`] when the frame does not decode as a
    /// `T`, or the stream ended inside a frame; [`Error::MessageTooLarge`]
    /// when the frame's length is above the limit (nothing is allocated,
    /// and the end can no longer be read, as in Python);
    /// [`Error::Interrupted`] after SIGINT or SIGTERM; [`Error::Sys`]
    /// naming `read`.
    pub fn recv(&mut self) -> Result<T> {
        self.inbox.recv(self.fd.as_ref())
    }

    /// The messages until the end of the stream; an error other than the
    /// end is yielded once, and ends the iteration.
    ///
    /// ```
    /// let (mut rx, mut tx) = ipc_core::pipe::simplex::<u32>().unwrap();
    /// for n in [1, 4, 9] {
    ///     tx.send(&n).unwrap();
    /// }
    /// drop(tx);
    /// let got: Vec<u32> = rx.iter().collect::<Result<_, _>>().unwrap();
    /// assert_eq!(got, [1, 4, 9]);
    /// ```
    pub fn iter(&mut self) -> Iter<'_, T> {
        Iter {
            fd: self.fd.as_ref(),
            inbox: &mut self.inbox,
            done: false,
            _type: PhantomData,
        }
    }
}

impl<T> Receiver<T> {
    fn new(fd: OwnedFd, inbox: Inbox) -> Self {
        Receiver {
            fd: Some(fd),
            inbox,
            _type: PhantomData,
        }
    }

    /// Receives the next frame as raw bytes (Python's `recv_bytes`).
    ///
    /// # Errors
    /// As [`Receiver::recv`], without the decoding.
    pub fn recv_bytes(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.inbox.recv_into(self.fd.as_ref(), &mut out)?;
        Ok(out)
    }

    /// Receives the next frame into `out`, replacing its contents and
    /// reusing its memory; returns the frame's length (Python's
    /// `recv_bytes_into`). A large payload is read straight into `out`.
    ///
    /// # Errors
    /// As [`Receiver::recv_bytes`].
    pub fn recv_bytes_into(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        self.inbox.recv_into(self.fd.as_ref(), out)
    }

    /// Waits up to `timeout` for something to receive; true when
    /// [`Receiver::recv`] would find data or the end of the stream (a frame
    /// still being written can make it wait for the rest). `Duration::ZERO`
    /// only looks (Python's `poll()`). See `poll(2)`.
    ///
    /// # Errors
    /// [`Error::Interrupted`] after SIGINT or SIGTERM; [`Error::Sys`]
    /// naming `poll`.
    pub fn poll(&self, timeout: Duration) -> Result<bool> {
        self.inbox.poll(self.fd.as_ref(), timeout)
    }

    /// Closes this end in this process (Python's `close()`); later receives
    /// fail. Writers get [`Error::Disconnected`] once every process has
    /// closed its copy. Closing twice does nothing.
    pub fn close(&mut self) {
        self.fd = None;
    }

    end_settings!(Receiver, inbox, "accepts");
}

impl<T> Waitable for Receiver<T> {
    /// The read end; ready while frames wait in it, in the bytes this end
    /// read ahead, or once every writer is gone (see [`crate::ready`]).
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        open_fd(self.fd.as_ref(), "poll", Kind::Pipe)
    }

    fn has_buffered(&self) -> bool {
        self.inbox.has_buffered()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("fd", &self.fd.as_ref().map(AsRawFd::as_raw_fd))
            .field("limit", &self.inbox.limit)
            .field("buffered", &self.inbox.buffered())
            .finish()
    }
}

impl<'a, T: Message> IntoIterator for &'a mut Receiver<T> {
    type Item = Result<T>;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// One end of a [`duplex`] connection: sends `S`, receives `R`.
///
/// It combines a [`Sender`] and a [`Receiver`] on one socket; their methods
/// behave the same. Several processes may send on copies of one end; only
/// one should receive.
pub struct Connection<S, R = S> {
    /// The socket and its reading half: receiving is a [`Receiver`]'s.
    rx: Receiver<R>,
    outbox: Outbox,
    _type: PhantomData<fn(S)>,
}

impl<S: Message, R: Message> Connection<S, R> {
    /// Sends one message; see [`Sender::send`].
    ///
    /// # Errors
    /// As [`Sender::send`], naming `sendmsg`.
    pub fn send(&mut self, msg: &S) -> Result<()> {
        self.outbox.send(self.rx.fd.as_ref(), msg)
    }

    /// Waits for the next message; see [`Receiver::recv`].
    ///
    /// # Errors
    /// As [`Receiver::recv`].
    pub fn recv(&mut self) -> Result<R> {
        self.rx.recv()
    }

    /// The messages until the end of the stream; see [`Receiver::iter`].
    pub fn iter(&mut self) -> Iter<'_, R> {
        self.rx.iter()
    }
}

impl<S, R> Connection<S, R> {
    /// Sends `bytes` as one frame; see [`Sender::send_bytes`].
    ///
    /// # Errors
    /// As [`Sender::send`].
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.outbox.send_bytes(self.rx.fd.as_ref(), bytes)
    }

    /// Receives the next frame as raw bytes; see [`Receiver::recv_bytes`].
    ///
    /// # Errors
    /// As [`Receiver::recv`], without the decoding.
    pub fn recv_bytes(&mut self) -> Result<Vec<u8>> {
        self.rx.recv_bytes()
    }

    /// Receives the next frame into `out`; see
    /// [`Receiver::recv_bytes_into`].
    ///
    /// # Errors
    /// As [`Receiver::recv_bytes`].
    pub fn recv_bytes_into(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        self.rx.recv_bytes_into(out)
    }

    /// Waits up to `timeout` for something to receive; see
    /// [`Receiver::poll`].
    ///
    /// # Errors
    /// As [`Receiver::poll`].
    pub fn poll(&self, timeout: Duration) -> Result<bool> {
        self.rx.poll(timeout)
    }

    /// Closes this end in this process, both ways (Python's `close()`).
    /// The other end sees the end of the stream, and its sends fail, once
    /// every process has closed its copy. Closing twice does nothing.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// True once [`Connection::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// The largest message this end sends or accepts.
    pub fn limit(&self) -> usize {
        self.rx.limit()
    }

    /// Changes the largest message this end sends and accepts (at most
    /// `u32::MAX`).
    pub fn set_limit(&mut self, bytes: usize) {
        self.rx.set_limit(bytes);
        self.outbox.limit = self.rx.limit();
    }
}

impl<S, R> Waitable for Connection<S, R> {
    /// The socket; ready as a [`Receiver`] is.
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        open_fd(self.rx.fd.as_ref(), "poll", Kind::Socket)
    }

    fn has_buffered(&self) -> bool {
        self.rx.has_buffered()
    }
}

impl<S, R> fmt::Debug for Connection<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("fd", &self.rx.fd.as_ref().map(AsRawFd::as_raw_fd))
            .field("limit", &self.rx.inbox.limit)
            .field("buffered", &self.rx.inbox.buffered())
            .finish()
    }
}

/// The messages of a [`Receiver`] or [`Connection`] until the end of the
/// stream (see [`Receiver::iter`]).
pub struct Iter<'a, T> {
    fd: Option<&'a OwnedFd>,
    inbox: &'a mut Inbox,
    done: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T: Message> Iterator for Iter<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        until_disconnected(&mut self.done, || self.inbox.recv(self.fd))
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").field("done", &self.done).finish()
    }
}

/// What the descriptor is, for the system calls and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pipe,
    Socket,
}

impl Kind {
    fn object(self) -> &'static str {
        match self {
            Kind::Pipe => "pipe",
            Kind::Socket => "socketpair",
        }
    }

    fn write_call(self) -> &'static str {
        match self {
            Kind::Pipe => "write",
            Kind::Socket => "sendmsg",
        }
    }
}

/// The descriptor of an end that is still open, or `EBADF` naming `call`.
fn open_fd<'a>(fd: Option<&'a OwnedFd>, call: &'static str, kind: Kind) -> Result<BorrowedFd<'a>> {
    fd.map(AsFd::as_fd)
        .ok_or_else(|| Error::sys(call, kind.object(), Errno::EBADF))
}

/// The sending half: the reused frame buffer and the write lock.
struct Outbox {
    kind: Kind,
    limit: usize,
    /// The direction's id in the run's `--trace` timeline.
    channel: u64,
    lock: Lock,
    buf: Vec<u8>,
    /// Set when a send stopped in the middle of a frame: the stream holds a
    /// partial frame, and another frame after it would be misread.
    broken: bool,
}

impl Outbox {
    fn new(kind: Kind, limit: usize, channel: u64) -> Result<Self> {
        Ok(Outbox {
            kind,
            limit,
            channel,
            lock: Lock::untraced()?,
            buf: Vec::new(),
            broken: false,
        })
    }

    fn header(&self, len: usize) -> Result<[u8; HEADER_LEN]> {
        if len > self.limit {
            return Err(Error::MessageTooLarge {
                size: len,
                limit: self.limit,
            });
        }
        // The limit is at most u32::MAX, so the length fits.
        Ok((len as u32).to_le_bytes())
    }

    fn send<T: Message>(&mut self, fd: Option<&OwnedFd>, msg: &T) -> Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.extend_from_slice(&[0; HEADER_LEN]);
        let header = msg
            .encode(&mut buf)
            .and_then(|()| self.header(buf.len() - HEADER_LEN));
        let result = header.and_then(|header| {
            buf[..HEADER_LEN].copy_from_slice(&header);
            self.write_frame(fd, &mut [IoSlice::new(&buf)], &Describe(msg))
        });
        if !matches!(result, Err(Error::MessageTooLarge { .. })) {
            // Keep the memory for the next message, unless it was an
            // oversized one that was never sent.
            self.buf = buf;
        }
        result
    }

    fn send_bytes(&mut self, fd: Option<&OwnedFd>, bytes: &[u8]) -> Result<()> {
        let header = self.header(bytes.len())?;
        let described = format_args!("<{} bytes>", bytes.len());
        self.write_frame(
            fd,
            &mut [IoSlice::new(&header), IoSlice::new(bytes)],
            &described,
        )
    }

    /// Writes a whole frame under the write lock; `message` labels it in
    /// the run's trace.
    fn write_frame(
        &mut self,
        fd: Option<&OwnedFd>,
        iov: &mut [IoSlice<'_>],
        message: &dyn fmt::Display,
    ) -> Result<()> {
        let call = self.kind.write_call();
        let fd = open_fd(fd, call, self.kind)?;
        if self.broken {
            return Err(Error::Message(format!(
                "an earlier send on this {} end stopped in the middle of a frame; it cannot send again",
                self.kind.object()
            )));
        }
        // The lock notices SIGINT/SIGTERM while it waits; `blocking::call`
        // notices them before each write, so that a signal stops a frame
        // between two pieces at the latest (and marks the end broken).
        let _guard = self.lock.lock().map_err(Error::from)?;
        // Numbered under the lock, in the order the frames go out.
        trace::send_next(self.channel, message);
        let (kind, object) = (self.kind, self.kind.object());
        write_whole(iov, call, object, |iov| {
            blocking::call(call, object, || write_some(fd, kind, iov))
        })
        .map_err(|cut| {
            self.broken = cut.midway;
            cut.error
        })
    }
}

/// Why [`write_whole`] stopped.
pub(crate) struct Cut {
    /// What failed.
    pub(crate) error: Error,
    /// Some of the frame went out before: the stream now stops in the
    /// middle of a frame, and its reader could not find the next one, so
    /// the end must not send again.
    pub(crate) midway: bool,
}

/// Sends all of `iov`, one frame in pieces (its header and its payload),
/// through `write_some`, one call (`call` on `object`, for errors) that
/// returns how many bytes the kernel took, until none is left: the one
/// loop of the pipe's, the socket pair's and [`crate::connection`]'s sends.
///
/// # Errors
/// The first failed call, or a call that took nothing (never seen on a
/// pipe or a socket; a loop would spin), with whether part of the frame
/// had gone out ([`Cut::midway`]).
pub(crate) fn write_whole(
    mut iov: &mut [IoSlice<'_>],
    call: &str,
    object: &str,
    mut write_some: impl FnMut(&[IoSlice<'_>]) -> Result<usize>,
) -> std::result::Result<(), Cut> {
    let mut left: usize = iov.iter().map(|s| s.len()).sum();
    let mut written = 0;
    while left > 0 {
        let cut = |error| Cut {
            error,
            midway: written > 0,
        };
        match write_some(iov).map_err(cut)? {
            0 => {
                let none = format!("{call} {object}: the kernel took none of {left} bytes");
                return Err(cut(Error::Message(none)));
            }
            n => {
                written += n;
                left -= n;
                IoSlice::advance_slices(&mut iov, n);
            }
        }
    }
    Ok(())
}

/// One `write(2)` (`writev(2)` for a header and a payload apart), or
/// `sendmsg(2)` with `MSG_NOSIGNAL` on a socket.
fn write_some(
    fd: BorrowedFd<'_>,
    kind: Kind,
    iov: &[IoSlice<'_>],
) -> std::result::Result<usize, Errno> {
    match kind {
        Kind::Pipe if iov.len() == 1 => nix::unistd::write(fd, &iov[0]),
        Kind::Pipe => nix::sys::uio::writev(fd, iov),
        Kind::Socket => sendmsg::<UnixAddr>(fd.as_raw_fd(), iov, &[], MsgFlags::MSG_NOSIGNAL, None),
    }
}

/// The receiving half: a read-ahead buffer holding `buf[start..end]`.
struct Inbox {
    kind: Kind,
    limit: usize,
    /// The direction's id in the run's `--trace` timeline.
    channel: u64,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The length of the last frame, to decide how far to read ahead.
    last_len: usize,
    /// Why the stream can no longer be read, once it cannot.
    broken: Option<String>,
}

impl Inbox {
    fn new(kind: Kind, limit: usize, channel: u64) -> Self {
        Inbox {
            kind,
            limit,
            channel,
            buf: Vec::new(),
            start: 0,
            end: 0,
            last_len: 0,
            broken: None,
        }
    }

    fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// True when a receive finds something without reading: bytes read
    /// ahead, or the reason the stream can no longer be read.
    fn has_buffered(&self) -> bool {
        self.buffered() > 0 || self.broken.is_some()
    }

    fn recv<T: Message>(&mut self, fd: Option<&OwnedFd>) -> Result<T> {
        let len = self.next_len(fd)?;
        if !self.fill(fd, HEADER_LEN + len)? {
            return Err(self.truncated(len));
        }
        let at = self.start + HEADER_LEN;
        self.start = at + len;
        self.last_len = len;
        let msg = message::from_bytes(&self.buf[at..at + len])?;
        trace::recv_next(self.channel, Describe(&msg));
        Ok(msg)
    }

    fn recv_into(&mut self, fd: Option<&OwnedFd>, out: &mut Vec<u8>) -> Result<usize> {
        let len = self.next_len(fd)?;
        self.last_len = len;
        let at = self.start + HEADER_LEN;
        let have = (self.end - at).min(len);
        if have == len {
            out.clear();
            out.extend_from_slice(&self.buf[at..at + len]);
            self.start = at + len;
            trace::recv_next(self.channel, format_args!("<{len} bytes>"));
            return Ok(len);
        }
        // The rest of the frame goes straight into `out`, and what follows
        // it in the stream into the read-ahead buffer, in one `readv(2)`:
        // the frame's bytes are copied once, and the next header comes
        // with them (a `read` of the rest, then a `read` for the next
        // header, took two system calls). What is buffered is all part of
        // this frame.
        let fd = open_fd(fd, "read", self.kind)?;
        if out.capacity() < len {
            *out = vec![0; len];
        } else {
            out.resize(len, 0);
        }
        out[..have].copy_from_slice(&self.buf[at..at + have]);
        let mut header = [0; HEADER_LEN];
        header.copy_from_slice(&self.buf[self.start..at]);
        self.start = 0;
        self.end = 0;
        // After a large frame, only the next header (as `fill` does).
        let ahead = if len >= LARGE_FRAME {
            HEADER_LEN
        } else {
            READ_AHEAD
        };
        if self.buf.len() < ahead {
            self.buf.resize(ahead, 0);
        }
        let mut got = have;
        while got < len {
            let (rest, next) = (&mut out[got..], &mut self.buf[..ahead]);
            let failure = match blocking::call("read", self.kind.object(), || {
                let mut iov = [IoSliceMut::new(&mut *rest), IoSliceMut::new(&mut *next)];
                nix::sys::uio::readv(fd, &mut iov)
            }) {
                Ok(n) if n > 0 => {
                    // `readv` fills `rest` before it puts anything in `next`.
                    let mine = n.min(len - got);
                    got += mine;
                    self.end = n - mine;
                    continue;
                }
                // The end of the stream, or (a socket) the peer reset it.
                Ok(_) | Err(Error::Disconnected) => {
                    self.unread(&header, &out[..got]);
                    out.clear();
                    return Err(self.truncated(len));
                }
                Err(error) => error,
            };
            // Keep what arrived, so that a later call goes on from here.
            self.unread(&header, &out[..got]);
            out.clear();
            return Err(failure);
        }
        trace::recv_next(self.channel, format_args!("<{len} bytes>"));
        Ok(len)
    }

    /// Puts a partial frame back into the buffer.
    fn unread(&mut self, header: &[u8; HEADER_LEN], payload: &[u8]) {
        let need = HEADER_LEN + payload.len();
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        self.buf[..HEADER_LEN].copy_from_slice(header);
        self.buf[HEADER_LEN..need].copy_from_slice(payload);
        self.start = 0;
        self.end = need;
    }

    /// Reads the next frame's length, checking it against the limit.
    fn next_len(&mut self, fd: Option<&OwnedFd>) -> Result<usize> {
        open_fd(fd, "read", self.kind)?;
        if let Some(why) = &self.broken {
            return Err(Error::Message(why.clone()));
        }
        if !self.fill(fd, HEADER_LEN)? {
            if self.buffered() == 0 {
                return Err(Error::Disconnected);
            }
            return Err(self.truncated(0));
        }
        let mut header = [0; HEADER_LEN];
        header.copy_from_slice(&self.buf[self.start..self.start + HEADER_LEN]);
        let len = u32::from_le_bytes(header) as usize;
        if len > self.limit {
            self.broken = Some(format!(
                "this {} end can no longer be read: a frame of {len} bytes was above the limit of {} bytes",
                self.kind.object(),
                self.limit
            ));
            return Err(Error::MessageTooLarge {
                size: len,
                limit: self.limit,
            });
        }
        Ok(len)
    }

    /// The error for a stream that ended inside a frame of `len` bytes.
    fn truncated(&mut self, len: usize) -> Error {
        let have = self.buffered();
        let why = if have < HEADER_LEN {
            format!(
                "the {} ended inside a frame's length ({have} of {HEADER_LEN} bytes)",
                self.kind.object()
            )
        } else {
            format!(
                "the {} ended inside a frame ({} of {len} bytes arrived)",
                self.kind.object(),
                have - HEADER_LEN
            )
        };
        self.broken = Some(why.clone());
        Error::Message(why)
    }

    /// Reads until `need` bytes are buffered; `Ok(false)` if the stream
    /// ends first.
    fn fill(&mut self, fd: Option<&OwnedFd>, need: usize) -> Result<bool> {
        if self.buffered() >= need {
            return Ok(true);
        }
        let fd = open_fd(fd, "read", self.kind)?;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        // Small frames: read ahead, many frames per call. After a large
        // frame: fetch just what is needed (the next header), so that a
        // large payload can go straight to where it belongs.
        let ahead = if self.last_len >= LARGE_FRAME {
            need
        } else {
            need.max(READ_AHEAD)
        };
        if self.start + ahead > self.buf.len() {
            // Move the partial frame to the front, and grow for a frame
            // larger than the buffer.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() < ahead {
                self.buf.resize(ahead, 0);
            }
        }
        let stop = self.start + ahead;
        while self.buffered() < need {
            let space = &mut self.buf[self.end..stop];
            match blocking::call("read", self.kind.object(), || nix::unistd::read(fd, space)) {
                // The end of the stream, or (a socket) the peer reset it.
                Ok(0) | Err(Error::Disconnected) => return Ok(false),
                Ok(n) => self.end += n,
                Err(error) => return Err(error),
            }
        }
        Ok(true)
    }

    fn poll(&self, fd: Option<&OwnedFd>, timeout: Duration) -> Result<bool> {
        let fd = open_fd(fd, "poll", self.kind)?;
        if self.has_buffered() {
            return Ok(true);
        }
        let outcome = blocking::wait(Deadline::after(timeout), |slice| {
            // Round up: poll(2) counts whole milliseconds, and must not
            // return before the bound.
            let ms = slice.as_nanos().div_ceil(1_000_000) as i32;
            let wait = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
            match poll(&mut fds, wait) {
                Ok(0) | Err(Errno::EINTR) => Ok(None),
                Ok(_) => Ok(Some(())),
                Err(errno) => Err(Error::sys("poll", self.kind.object(), errno)),
            }
        });
        match outcome {
            Ok(()) => Ok(true),
            Err(Error::Timeout) => Ok(false),
            Err(error) => Err(error),
        }
    }
}

fn pipe_size(fd: Option<&OwnedFd>) -> Result<usize> {
    let fd = open_fd(fd, "fcntl F_GETPIPE_SZ", Kind::Pipe)?;
    fcntl(fd, FcntlArg::F_GETPIPE_SZ)
        .map(|size| size as usize)
        .map_err(|errno| Error::sys("fcntl F_GETPIPE_SZ", "pipe", errno))
}

/// The file that bounds an unprivileged `F_SETPIPE_SZ`.
const PIPE_MAX_SIZE: &str = "/proc/sys/fs/pipe-max-size";

fn set_pipe_size(fd: BorrowedFd<'_>, bytes: usize) -> Result<usize> {
    let max = std::fs::read_to_string(PIPE_MAX_SIZE)
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok());
    let too_large = |max: usize| {
        Error::InvalidArgument(format!(
            "a pipe size of {bytes} bytes is above the limit of {max} bytes in {PIPE_MAX_SIZE}"
        ))
    };
    let size = match libc::c_int::try_from(bytes) {
        Ok(size) => size,
        Err(_) => return Err(too_large(max.unwrap_or(libc::c_int::MAX as usize))),
    };
    match fcntl(fd, FcntlArg::F_SETPIPE_SZ(size)) {
        Ok(size) => Ok(size as usize),
        Err(Errno::EPERM) if max.is_some_and(|max| bytes > max) => {
            Err(too_large(max.unwrap_or_default()))
        }
        Err(errno) => Err(Error::sys("fcntl F_SETPIPE_SZ", "pipe", errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Bytes;
    use std::time::Instant;

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    #[test]
    fn typed_messages_arrive_in_order_then_the_end() {
        let (mut rx, mut tx) = simplex::<(u8, String)>().unwrap();
        for (i, word) in ["First", "second", "third?", "END"].iter().enumerate() {
            tx.send(&(i as u8, word.to_string())).unwrap();
        }
        tx.close();
        assert!(tx.is_closed());
        let got: Vec<_> = rx.iter().map(|m| m.unwrap().1).collect();
        assert_eq!(got, ["First", "second", "third?", "END"]);
        assert!(matches!(rx.recv(), Err(Error::Disconnected)));
        assert!(
            rx.poll(Duration::ZERO).unwrap(),
            "the end is something to read"
        );
    }

    #[test]
    fn raw_frames_of_many_sizes_round_trip() {
        let (mut rx, mut tx) = Builder::new()
            .pipe_size(1 << 20)
            .simplex::<Bytes>()
            .unwrap();
        let mut out = Vec::new();
        for len in [0, 1, 3, 4, 4091, 4092, 4096, 16 << 10, 65536, 200_000] {
            let frame = pattern(len, len as u8);
            tx.send_bytes(&frame).unwrap();
            assert_eq!(rx.recv_bytes_into(&mut out).unwrap(), len);
            assert_eq!(out, frame, "{len} bytes");
        }
        // Typed and raw interleave on one stream.
        tx.send(&Bytes(pattern(70_000, 9))).unwrap();
        tx.send_bytes(b"raw").unwrap();
        assert_eq!(rx.recv().unwrap(), Bytes(pattern(70_000, 9)));
        assert_eq!(rx.recv_bytes().unwrap(), b"raw");
    }

    #[test]
    fn many_small_frames_are_buffered_whole() {
        let (mut rx, mut tx) = simplex::<u64>().unwrap();
        for n in 0..5000_u64 {
            tx.send(&n).unwrap();
        }
        drop(tx);
        let sum: u64 = rx.iter().map(|m| m.unwrap()).sum();
        assert_eq!(sum, 4999 * 5000 / 2);
    }

    #[test]
    fn duplex_carries_different_types_each_way() {
        let (mut a, mut b) = Builder::new().duplex::<String, u64>().unwrap();
        a.send(&"how long?".to_string()).unwrap();
        let question = b.recv().unwrap();
        b.send(&(question.len() as u64)).unwrap();
        assert_eq!(a.recv().unwrap(), 9);
        b.send_bytes(&pattern(50_000, 1)).unwrap();
        assert_eq!(a.recv_bytes().unwrap(), pattern(50_000, 1));
        a.close();
        assert!(matches!(b.recv(), Err(Error::Disconnected)));
        assert!(matches!(b.send(&1), Err(Error::Disconnected)));
    }

    #[test]
    fn writing_without_a_reader_is_disconnected() {
        let (rx, mut tx) = simplex::<String>().unwrap();
        drop(rx);
        assert!(matches!(tx.send(&"x".into()), Err(Error::Disconnected)));
        assert!(matches!(
            tx.send_bytes(&[0; 100_000]),
            Err(Error::Disconnected)
        ));
    }

    #[test]
    fn a_closed_end_names_the_call() {
        let (mut rx, mut tx) = simplex::<u8>().unwrap();
        tx.close();
        tx.close();
        let err = tx.send(&1).unwrap_err();
        let bad = Errno::EBADF.desc();
        assert_eq!(err.to_string(), format!("write pipe: {bad}"));
        rx.close();
        assert_eq!(
            rx.recv().unwrap_err().to_string(),
            format!("read pipe: {bad}")
        );
        assert!(rx.poll(Duration::ZERO).is_err());
    }

    #[test]
    fn an_oversized_message_is_refused_and_nothing_is_sent() {
        let (mut rx, mut tx) = Builder::new().limit(100).simplex::<Bytes>().unwrap();
        assert_eq!(tx.limit(), 100);
        let err = tx.send(&Bytes(vec![0; 97])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::MessageTooLarge {
                    size: 101,
                    limit: 100
                }
            ),
            "{err}"
        );
        assert!(matches!(
            tx.send_bytes(&[0; 101]),
            Err(Error::MessageTooLarge {
                size: 101,
                limit: 100
            })
        ));
        assert!(!rx.poll(Duration::ZERO).unwrap(), "nothing was written");
        tx.send(&Bytes(vec![7; 96])).unwrap();
        assert_eq!(rx.recv().unwrap(), Bytes(vec![7; 96]));
    }

    #[test]
    fn a_received_length_above_the_limit_allocates_nothing() {
        let (mut rx, mut tx) = simplex::<Bytes>().unwrap();
        rx.set_limit(10);
        tx.send_bytes(&[1; 11]).unwrap();
        let err = rx.recv().unwrap_err();
        assert!(
            matches!(
                err,
                Error::MessageTooLarge {
                    size: 11,
                    limit: 10
                }
            ),
            "{err}"
        );
        assert!(rx.inbox.buf.len() <= READ_AHEAD, "no buffer for the frame");
        // Like Python, the end cannot be read any more: it is out of step.
        let again = rx.recv_bytes().unwrap_err();
        assert!(again.to_string().contains("no longer be read"), "{again}");
    }

    #[test]
    fn garbage_and_truncated_streams_are_errors() {
        use std::io::Write;
        // Write raw bytes into the pipe behind the framing's back.
        let (mut rx, tx) = simplex::<String>().unwrap();
        let mut raw = std::fs::File::from(tx.fd.unwrap());
        raw.write_all(&[0xff; 4]).unwrap();
        let err = rx.recv().unwrap_err();
        assert!(matches!(err, Error::MessageTooLarge { .. }), "{err}");

        let (mut rx, tx) = simplex::<String>().unwrap();
        let mut raw = std::fs::File::from(tx.fd.unwrap());
        // A frame whose String claims one byte but has none.
        raw.write_all(&[4, 0, 0, 0, 1, 0, 0, 0]).unwrap();
        let err = rx.recv().unwrap_err();
        assert!(matches!(err, Error::Message(_)), "undecodable: {err}");
        raw.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        drop(raw);
        let err = rx.recv().unwrap_err();
        assert_eq!(
            err.to_string(),
            "message: the pipe ended inside a frame (2 of 9 bytes arrived)"
        );

        let (mut rx, tx) = simplex::<String>().unwrap();
        let mut raw = std::fs::File::from(tx.fd.unwrap());
        raw.write_all(&[9, 0]).unwrap();
        drop(raw);
        let mut out = Vec::new();
        let err = rx.recv_bytes_into(&mut out).unwrap_err();
        assert!(err.to_string().contains("inside a frame's length"), "{err}");
    }

    #[test]
    fn a_large_frame_cut_short_is_reported() {
        use std::io::Write;
        let (mut rx, tx) = simplex::<Bytes>().unwrap();
        let mut raw = std::fs::File::from(tx.fd.unwrap());
        raw.write_all(&100_000_u32.to_le_bytes()).unwrap();
        raw.write_all(&[5; 30_000]).unwrap();
        drop(raw);
        let mut out = Vec::new();
        let err = rx.recv_bytes_into(&mut out).unwrap_err();
        assert_eq!(
            err.to_string(),
            "message: the pipe ended inside a frame (30000 of 100000 bytes arrived)"
        );
    }

    #[test]
    fn poll_waits_at_least_the_bound() {
        let (rx, mut tx) = simplex::<u8>().unwrap();
        let bound = Duration::from_millis(30);
        let start = Instant::now();
        assert!(!rx.poll(bound).unwrap());
        assert!(start.elapsed() >= bound);
        tx.send(&1).unwrap();
        assert!(rx.poll(Duration::ZERO).unwrap());
    }

    #[test]
    fn builder_rejects_what_cannot_work() {
        let err = Builder::new()
            .limit(usize::MAX)
            .simplex::<u8>()
            .unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        let err = Builder::new()
            .pipe_size(1 << 20)
            .duplex::<u8, u8>()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        let err = Builder::new()
            .pipe_size(usize::MAX)
            .simplex::<u8>()
            .unwrap_err();
        assert!(err.to_string().contains(PIPE_MAX_SIZE), "{err}");
    }

    #[test]
    fn the_pipe_size_can_be_raised() {
        let (rx, tx) = simplex::<u8>().unwrap();
        let size = tx.set_pipe_size(256 << 10).unwrap();
        assert!(size >= 256 << 10);
        assert_eq!(rx.pipe_size().unwrap(), size);
    }
}
