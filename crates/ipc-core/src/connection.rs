//! Connections over TCP and Unix-domain sockets that speak Python's own
//! wire format: `multiprocessing.connection`'s `Listener` and `Client`.
//!
//! A [`Listener`] waits for connections on an [`Address`]; a [`Client`]
//! connects to one; both give a [`Connection`], which sends and receives
//! whole messages. The bytes on the wire are those of Python's
//! `multiprocessing.connection`, so a Rust program and a Python program
//! talk to each other, either one listening:
//!
//! | Python | Rust |
//! | --- | --- |
//! | `listener = Listener(('127.0.0.1', 0), authkey=b'secret')` | `let mut listener = Listener::bind("127.0.0.1:0")?.authkey(b"secret");` |
//! | `Listener('/run/user/1000/sock')`, `Listener('\0name')` | `Listener::bind("/run/user/1000/sock")`, `Listener::bind("\0name")` |
//! | `listener.address` | [`listener.address()`](Listener::address) |
//! | `conn = listener.accept()` | [`listener.accept()?`](Listener::accept), or [`accept_until(deadline)`](Listener::accept_until) |
//! | `listener.last_accepted` | [`listener.last_accepted()`](Listener::last_accepted) |
//! | `conn = Client(address, authkey=b'secret')` | `let mut conn = Client::new(address).authkey(b"secret").connect()?;` |
//! | `conn.send_bytes(data)` | [`conn.send_bytes(&data)?`](Connection::send_bytes) |
//! | `conn.recv_bytes()`, `conn.recv_bytes(maxlength)` | [`conn.recv_bytes()?`](Connection::recv_bytes), [`conn.recv_bytes_max(maxlength)?`](Connection::recv_bytes_max) |
//! | `conn.send(obj)`, `conn.recv()` (pickles) | [`conn.send(&value)?`](Connection::send), [`conn.recv::<T>()?`](Connection::recv) ([`Message`] encodings: Rust to Rust only) |
//! | `conn.poll(timeout)` | [`conn.poll(timeout)?`](Connection::poll) |
//! | `conn.fileno()`, `conn.close()` | [`conn.as_fd()`](AsFd::as_fd), [`conn.close()`](Connection::close) |
//! | `deliver_challenge(conn, key)`, `answer_challenge(conn, key)` | [`deliver_challenge`], [`answer_challenge`] |
//! | `AuthenticationError`, `EOFError` | [`Error::Authentication`], [`Error::Disconnected`] |
//!
//! ```
//! use std::thread;
//! use ipc_core::connection::{Client, Listener};
//!
//! // Python: listener = Listener(('127.0.0.1', 0), authkey=b'secret password')
//! let mut listener = Listener::bind("127.0.0.1:0")?.authkey(b"secret password");
//! let address = listener.address().clone(); // the port the kernel chose
//! let client = thread::spawn(move || -> ipc_core::Result<Vec<u8>> {
//!     // Python: conn = Client(address, authkey=b'secret password')
//!     let mut conn = Client::new(address).authkey(b"secret password").connect()?;
//!     conn.send_bytes(b"hello")?; // conn.send_bytes(b'hello')
//!     conn.recv_bytes() // conn.recv_bytes()
//! });
//! let mut conn = listener.accept()?; // conn = listener.accept()
//! assert_eq!(conn.recv_bytes()?, b"hello");
//! conn.send_bytes(b"world")?;
//! assert_eq!(client.join().unwrap()?, b"world");
//! # Ok::<(), ipc_core::Error>(())
//! ```
//!
//! # The wire format
//!
//! Every message travels as a frame: its length as a 4-byte big-endian
//! signed integer (`struct.pack("!i", n)`), then its bytes. A message
//! longer than `0x7fffffff` bytes has the length `-1` and then its real
//! length as an 8-byte big-endian unsigned integer (`"!Q"`): Python writes
//! and reads both forms (3.11, 3.12 and 3.13 alike), and so does this
//! module. A receiver
//! accepts up to a limit it sets ([`Connection::set_limit`],
//! [`Connection::recv_bytes_max`]; [`message::DEFAULT_LIMIT`] by default):
//! a longer length is refused before anything is allocated
//! ([`Error::MessageTooLarge`]), and memory grows only with the bytes that
//! really arrive, so a peer's length is never trusted. Any other negative
//! length is an error (Python reads it as an empty message); a stream that
//! ends inside a frame is [`Error::Message`]; one that ends between frames
//! is [`Error::Disconnected`] (Python's `EOFError`). After a refused or
//! broken frame the connection is out of step and cannot be read again, as
//! in Python.
//!
//! [`Connection::send`] and [`Connection::recv`] carry ipc-core's typed
//! [`Message`] encodings in these frames, where Python would carry pickles:
//! a Python peer sees them as bytes (`recv_bytes`).
//!
//! # The authkey handshake
//!
//! With an authkey, each side proves to the other that it knows the key,
//! without sending it. The listener challenges the client first, then the
//! client challenges the listener (Python's `Listener.accept` runs
//! `deliver_challenge` then `answer_challenge`; `Client` the other way
//! round). A challenge is a frame `#CHALLENGE#` followed by random bytes;
//! the answer is an HMAC of those bytes under the key; the challenger
//! replies `#WELCOME#` or `#FAILURE#`.
//!
//! Two forms exist, and this module speaks both:
//!
//! | | Python 3.11 and older | Python 3.12 and later, and ipc-core |
//! | --- | --- | --- |
//! | challenge sent | 20 random bytes | `{sha256}` and 40 random bytes |
//! | answer to a 20-byte challenge | HMAC-MD5, 16 bytes | HMAC-MD5, 16 bytes |
//! | answer to a `{sha256}…` challenge | HMAC-MD5 of all of it, 16 bytes | `{sha256}` and the HMAC-SHA256 of all of it |
//! | answers accepted | HMAC-MD5 only | HMAC-MD5 (16 bytes, or `{md5}…`) and `{sha256}…` (3.12 accepts `sha384` and SHA-3 too) |
//!
//! So ipc-core offers `{sha256}`; a Python 3.11 peer answers it with
//! HMAC-MD5, which is accepted, and a 3.11 challenge is answered with
//! HMAC-MD5. Digests are compared in constant time. A wrong answer is
//! refused with `#FAILURE#` and [`Error::Authentication`] on this side; the
//! peer gets `#FAILURE#` and raises its own `AuthenticationError` (or gets
//! [`Error::Authentication`], naming the refusal). Every read of the
//! handshake has a deadline (20 s by default, Python's
//! `CONNECTION_TIMEOUT`; [`Client::timeout`], [`Listener::handshake_timeout`]),
//! so a peer that never answers, or answers with something else (a peer
//! without an authkey, or one that is not a `multiprocessing` peer), gives
//! an error in bounded time, never a hang. Every handshake message is read
//! with a limit of 256 bytes, as in Python.
//!
//! An empty authkey still runs the handshake, as Python's `Client` and
//! 3.13's `Listener` do (3.11's and 3.12's `Listener` skip it for an empty
//! key: do not mix those).
//!
//! # Addresses
//!
//! [`Address`] is TCP (`127.0.0.1:6000`; port 0 lets the kernel choose,
//! and [`Listener::address`] tells which), a Unix-domain socket path, or a
//! Linux abstract socket name (`\0name`, as Python writes it; shown, and
//! also read, as `@name`). A listener's socket file is made without
//! following a link (`bind(2)` refuses any existing file), with mode 0600
//! from the start (the socket's mode is set before `bind`), and removed
//! when the listener is dropped, by the process that made it, if it is
//! still the same file. A path that exists already is used only if it is
//! a socket of the calling user that nobody listens on any more (left by a
//! run that ended, or killed: it is replaced). Whether somebody listens is
//! asked of the kernel's table of listening sockets (`/proc/net/unix`),
//! then proved with a `connect(2)` that only a dead socket refuses.
//! Anything else there is refused ([`Error::Untrusted`], or `Address
//! already in use`). Abstract sockets leave no file.
//!
//! # Blocking
//!
//! Every wait (accept, connect, a receive, a send into a full socket
//! buffer) goes through [`crate::blocking`]: `EINTR` is retried, SIGINT
//! and SIGTERM end it with [`Error::Interrupted`] within
//! [`blocking::POLL_INTERVAL`], and a deadline ends it with
//! [`Error::Timeout`] ([`Connection::set_timeout`] bounds every send and
//! receive of a connection). The descriptor itself stays blocking, as in
//! Python, for a caller that polls it through [`AsFd`].
//!
//! # Traces
//!
//! Each direction of a connection is a channel of the run's `--trace`
//! timeline, named by its two ends (`tcp 127.0.0.1:6000>127.0.0.1:41234`),
//! so both processes name it alike, even when recorded apart. A Rust
//! client's Unix socket binds itself to an autobound abstract name
//! (`unix(7)`) for that purpose; Python's clients are unnamed.

use std::fmt;
use std::io::{IoSlice, Read};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, Backlog, MsgFlags, SockFlag, SockType, SockaddrLike, SockaddrStorage, UnixAddr,
    sockopt,
};
use nix::sys::stat::{Mode, SFlag};

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::message::{self, Describe, Message};
use crate::pipe::write_whole;
use crate::ready::Waitable;
use crate::trace;

mod digest;

use digest::{Hash, same_digest};

/// How long a [`Client`] waits to connect and authenticate, and a
/// [`Listener`] for an accepted client's handshake, unless told otherwise:
/// Python's `multiprocessing.connection.CONNECTION_TIMEOUT`.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest message of the handshake, as Python reads them
/// (`recv_bytes(256)`).
pub const HANDSHAKE_LIMIT: usize = 256;

/// How many connections may wait to be accepted (`listen(2)`'s backlog).
/// Python's `Listener` defaults to 1, which makes clients that connect at
/// the same moment fail; the kernel caps it at `somaxconn`.
pub const BACKLOG: i32 = 64;

/// The start of a challenge.
const CHALLENGE: &[u8] = b"#CHALLENGE#";
/// The reply to a right answer.
const WELCOME: &[u8] = b"#WELCOME#";
/// The reply to a wrong answer.
const FAILURE: &[u8] = b"#FAILURE#";
/// Random bytes in a challenge we send (Python 3.12's `MESSAGE_LENGTH`).
const CHALLENGE_RANDOM: usize = 40;
/// The length of a Python 3.11 challenge, which wants a bare HMAC-MD5.
const LEGACY_CHALLENGE: usize = 20;
/// The digests Python 3.12 accepts, with the longest name it allows in a
/// `{name}` prefix.
const PYTHON_DIGESTS: [&[u8]; 5] = [b"md5", b"sha256", b"sha384", b"sha3_256", b"sha3_384"];
const LONGEST_DIGEST_NAME: usize = 8;

/// The first frame length that needs the 8-byte form.
const LONG_FRAME: u64 = 0x8000_0000;

/// How much a receive allocates ahead of the bytes that have arrived, at
/// most: memory doubles with the data, from here.
const READ_CHUNK: usize = 64 << 10;

// ---- addresses --------------------------------------------------------------

/// Where a [`Listener`] listens and a [`Client`] connects.
///
/// Made from a string the way Python tells its address types apart:
///
/// ```
/// use ipc_core::connection::Address;
///
/// assert!(matches!(Address::from("127.0.0.1:6000"), Address::Tcp(_)));
/// assert!(matches!(Address::from("[::1]:0"), Address::Tcp(_)));
/// // `localhost:PORT` is Python's ('localhost', PORT), on 127.0.0.1.
/// assert_eq!(Address::from("localhost:6000").to_string(), "127.0.0.1:6000");
/// assert!(matches!(Address::from("/tmp/ipc-lab-sock"), Address::Unix(_)));
/// assert!(matches!(Address::from("sock"), Address::Unix(_)));
/// // A leading NUL byte is a Linux abstract name, as in Python; shown as
/// // @name, as ss(8) shows it, and read back from that (a command line
/// // cannot carry a NUL byte; a name of printable ASCII comes back the
/// // same). A file whose name starts with @: ./@name.
/// let abstract_name = Address::from("\0ipc-lab");
/// assert_eq!(abstract_name, Address::Abstract(b"ipc-lab".to_vec()));
/// assert_eq!(abstract_name.to_string(), "@ipc-lab");
/// assert_eq!(Address::from("@ipc-lab"), abstract_name);
/// assert!(matches!(Address::from("./@ipc-lab"), Address::Unix(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A TCP address and port (Python's `('127.0.0.1', 6000)`).
    Tcp(SocketAddr),
    /// A Unix-domain socket file.
    Unix(PathBuf),
    /// A Linux abstract Unix-domain socket name, without the leading NUL
    /// byte (Python's `'\0name'`): no file, gone with its last socket.
    Abstract(Vec<u8>),
}

impl Address {
    fn family(&self) -> AddressFamily {
        match self {
            Address::Tcp(SocketAddr::V4(_)) => AddressFamily::Inet,
            Address::Tcp(SocketAddr::V6(_)) => AddressFamily::Inet6,
            Address::Unix(_) | Address::Abstract(_) => AddressFamily::Unix,
        }
    }

    /// The address as `connect(2)` and `bind(2)` want it.
    fn sockaddr(&self) -> Result<Box<dyn SockaddrLike>> {
        let unix = match self {
            Address::Tcp(addr) => return Ok(Box::new(SockaddrStorage::from(*addr))),
            Address::Unix(path) => {
                if path.as_os_str().is_empty() {
                    return Err(Error::InvalidArgument(
                        "an empty path is not a socket address".into(),
                    ));
                }
                UnixAddr::new(path.as_path())
            }
            Address::Abstract(name) => UnixAddr::new_abstract(name),
        };
        match unix {
            Ok(unix) => Ok(Box::new(unix)),
            Err(Errno::ENAMETOOLONG) => Err(Error::InvalidArgument(format!(
                "socket address {self}: longer than the 107 bytes a Unix socket address holds"
            ))),
            Err(errno) => Err(Error::sys("socket address", self.to_string(), errno)),
        }
    }

    /// The address of a socket's end, `None` for an unnamed Unix socket.
    fn of(storage: &SockaddrStorage) -> Option<Address> {
        if let Some(v4) = storage.as_sockaddr_in() {
            return Some(Address::Tcp(SocketAddr::from(*v4)));
        }
        if let Some(v6) = storage.as_sockaddr_in6() {
            return Some(Address::Tcp(SocketAddr::from(*v6)));
        }
        let unix = storage.as_unix_addr()?;
        if let Some(path) = unix.path() {
            Some(Address::Unix(path.to_path_buf()))
        } else {
            unix.as_abstract()
                .map(|name| Address::Abstract(name.to_vec()))
        }
    }
}

impl From<&str> for Address {
    /// `host:port` with a literal IP address (or `localhost`) is TCP; a
    /// leading NUL byte or `@` is an abstract name; anything else a path.
    fn from(text: &str) -> Self {
        if let Ok(addr) = SocketAddr::from_str(text) {
            return Address::Tcp(addr);
        }
        if let Some(port) = text
            .strip_prefix("localhost:")
            .and_then(|port| port.parse::<u16>().ok())
        {
            return Address::Tcp(SocketAddr::from(([127, 0, 0, 1], port)));
        }
        if let Some(name) = text.strip_prefix('\0').or_else(|| text.strip_prefix('@')) {
            return Address::Abstract(name.as_bytes().to_vec());
        }
        Address::Unix(PathBuf::from(text))
    }
}

impl From<String> for Address {
    fn from(text: String) -> Self {
        Address::from(text.as_str())
    }
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Self {
        Address::Tcp(addr)
    }
}

impl From<&Path> for Address {
    fn from(path: &Path) -> Self {
        Address::Unix(path.to_path_buf())
    }
}

impl From<PathBuf> for Address {
    fn from(path: PathBuf) -> Self {
        Address::Unix(path)
    }
}

impl From<&Address> for Address {
    fn from(address: &Address) -> Self {
        address.clone()
    }
}

impl FromStr for Address {
    type Err = Error;

    /// As `Address::from`; an empty string is refused.
    fn from_str(text: &str) -> Result<Self> {
        if text.is_empty() {
            return Err(Error::InvalidArgument("an empty socket address".into()));
        }
        Ok(Address::from(text))
    }
}

impl fmt::Display for Address {
    /// `127.0.0.1:6000`, the path, or `@name` for an abstract name (bytes
    /// outside printable ASCII escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(addr) => write!(f, "{addr}"),
            Address::Unix(path) => write!(f, "{}", path.display()),
            Address::Abstract(name) => write!(f, "@{}", name.escape_ascii()),
        }
    }
}

// ---- the listener -------------------------------------------------------------

/// A socket that accepts connections (Python's
/// `multiprocessing.connection.Listener`).
///
/// ```
/// use std::time::Duration;
/// use ipc_core::blocking::Deadline;
/// use ipc_core::connection::Listener;
/// use ipc_core::Error;
///
/// let mut listener = Listener::bind("127.0.0.1:0").unwrap();
/// // Nobody connects: the wait ends at the deadline.
/// let nobody = listener.accept_until(Deadline::after(Duration::from_millis(20)));
/// assert!(matches!(nobody, Err(Error::Timeout)));
/// ```
pub struct Listener {
    socket: Socket,
    address: Address,
    authkey: Option<Vec<u8>>,
    handshake_timeout: Duration,
    limit: usize,
    last_accepted: Option<Address>,
    /// The socket file this listener made, removed on drop.
    file: Option<SocketFile>,
}

/// The listening socket.
#[derive(Debug)]
enum Socket {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    /// Listens on `address` (Python's `Listener(address)`), without an
    /// authkey until [`Listener::authkey`] sets one.
    ///
    /// TCP: `SO_REUSEADDR` is set, as Python does, so a port in
    /// `TIME_WAIT` can be listened on again at once; port 0 picks a free
    /// port ([`Listener::address`]). A Unix path: see the module docs on
    /// how the file is made, trusted and removed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or too long path;
    /// [`Error::Untrusted`] when the path exists and is not a socket of
    /// this user (a link, a file, somebody else's socket); [`Error::Sys`]
    /// naming `bind` (`Address already in use`: a live listener has it;
    /// `Permission denied`), `socket`, `listen` or `lstat`.
    pub fn bind(address: impl Into<Address>) -> Result<Listener> {
        let address = address.into();
        let (socket, file) = match &address {
            Address::Tcp(addr) => {
                let listener =
                    TcpListener::bind(addr).map_err(|e| io_error("bind", &address, &e))?;
                (Socket::Tcp(listener), None)
            }
            Address::Unix(path) => {
                let (listener, file) = bind_unix_path(&address, path)?;
                (Socket::Unix(listener), Some(file))
            }
            Address::Abstract(_) => {
                let listener = bind_unix(&address)?;
                listen(&listener, &address)?;
                (Socket::Unix(listener), None)
            }
        };
        // Made now, so that a failure below removes the socket file.
        let mut listener = Listener {
            socket,
            address,
            authkey: None,
            handshake_timeout: CONNECTION_TIMEOUT,
            limit: message::DEFAULT_LIMIT,
            last_accepted: None,
            file,
        };
        // Accept polls, then takes the connection without blocking: a
        // client that gave up in between cannot leave accept stuck.
        match &listener.socket {
            Socket::Tcp(socket) => socket.set_nonblocking(true),
            Socket::Unix(socket) => socket.set_nonblocking(true),
        }
        .map_err(|e| io_error("fcntl O_NONBLOCK", &listener.address, &e))?;
        let bound = nix::sys::socket::getsockname::<SockaddrStorage>(listener.as_fd().as_raw_fd())
            .map_err(|errno| Error::sys("getsockname", listener.address.to_string(), errno))?;
        if let Some(bound) = Address::of(&bound) {
            listener.address = bound;
        }
        Ok(listener)
    }

    /// Requires clients to prove they know `key` (Python's
    /// `Listener(address, authkey=key)`): every accepted connection runs
    /// the handshake before [`Listener::accept`] returns it.
    #[must_use]
    pub fn authkey(mut self, key: impl AsRef<[u8]>) -> Listener {
        self.authkey = Some(key.as_ref().to_vec());
        self
    }

    /// How long an accepted client has for the handshake
    /// ([`CONNECTION_TIMEOUT`] unless set): a client that does not answer
    /// in time is refused with [`Error::Authentication`].
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Listener {
        self.handshake_timeout = timeout;
        self
    }

    /// The largest message the accepted connections receive
    /// ([`message::DEFAULT_LIMIT`] unless set; see
    /// [`Connection::set_limit`]).
    #[must_use]
    pub fn limit(mut self, bytes: usize) -> Listener {
        self.limit = bytes;
        self
    }

    /// The address it listens on, with the port the kernel chose for port
    /// 0 (Python's `listener.address`).
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The address of the last client accepted (Python's
    /// `listener.last_accepted`); `None` before the first, or for an
    /// unnamed Unix client.
    pub fn last_accepted(&self) -> Option<&Address> {
        self.last_accepted.as_ref()
    }

    /// Waits for a client as long as it takes, then runs the handshake if
    /// there is an authkey (Python's `listener.accept()`).
    ///
    /// # Errors
    /// As [`Listener::accept_until`], never [`Error::Timeout`].
    pub fn accept(&mut self) -> Result<Connection> {
        self.accept_until(Deadline::NEVER)
    }

    /// Waits for a client until `deadline`, then runs the handshake if
    /// there is an authkey, within the deadline and the handshake timeout.
    ///
    /// A client that fails the handshake is refused (it gets `#FAILURE#`,
    /// and its connection is closed); the listener goes on listening.
    ///
    /// # Errors
    /// [`Error::Timeout`] when no client came by the deadline;
    /// [`Error::Authentication`] when the client's answer was wrong, or it
    /// did not answer in time, or closed the connection; [`Error::Interrupted`]
    /// after SIGINT or SIGTERM; [`Error::Sys`] naming `accept` or `poll`
    /// (`Too many open files`).
    pub fn accept_until(&mut self, deadline: Deadline) -> Result<Connection> {
        let fd = blocking::wait(deadline, |slice| {
            if let Some(fd) = self.try_accept()? {
                return Ok(Some(fd));
            }
            if !slice.is_zero() && ready(self.as_fd(), PollFlags::POLLIN, slice, &self.address)? {
                return self.try_accept();
            }
            Ok(None)
        })?;
        let mut conn = Connection::new(fd, self.limit);
        self.last_accepted = conn.peer.clone();
        if let Some(key) = &self.authkey {
            let deadline = earlier(deadline, Deadline::after(self.handshake_timeout));
            deliver_challenge(&mut conn, key, deadline)?;
            answer_challenge(&mut conn, key, deadline)?;
        }
        Ok(conn)
    }

    /// One `accept4(2)` that does not wait.
    fn try_accept(&self) -> Result<Option<OwnedFd>> {
        let accepted = match &self.socket {
            Socket::Tcp(socket) => socket.accept().map(|(stream, _)| OwnedFd::from(stream)),
            Socket::Unix(socket) => socket.accept().map(|(stream, _)| OwnedFd::from(stream)),
        };
        match accepted {
            Ok(fd) => Ok(Some(fd)),
            Err(error) => match error.raw_os_error().map(Errno::from_raw) {
                // Nobody yet; or a client that gave up before we took it.
                Some(Errno::EAGAIN | Errno::EINTR | Errno::ECONNABORTED | Errno::EPROTO) => {
                    Ok(None)
                }
                _ => Err(io_error("accept", &self.address, &error)),
            },
        }
    }

    /// Stops listening, and removes the socket file (Python's
    /// `listener.close()`); the same as dropping it.
    pub fn close(self) {}
}

impl AsFd for Listener {
    /// The listening socket, to wait for a client together with other
    /// descriptors (it is ready to read when a client waits).
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.socket {
            Socket::Tcp(socket) => socket.as_fd(),
            Socket::Unix(socket) => socket.as_fd(),
        }
    }
}

impl Waitable for Listener {
    /// The listening socket: ready when a client waits to be accepted.
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.as_fd())
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("address", &self.address)
            .field("fd", &self.as_fd().as_raw_fd())
            // Never the key itself.
            .field("authkey", &self.authkey.as_ref().map(|_| "<set>"))
            .field("last_accepted", &self.last_accepted)
            .finish()
    }
}

/// A socket file a listener made: removed on drop by the process that
/// made it, if the path still holds that very file.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
    pid: u32,
}

impl SocketFile {
    /// Removes the file, if this process made it and it is still there.
    fn remove(&self) {
        if self.pid != std::process::id() {
            // A forked child's copy: the parent still listens.
            return;
        }
        if let Ok(st) = nix::sys::stat::lstat(&self.path)
            && st.st_dev == self.dev
            && st.st_ino == self.ino
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            file.remove();
        }
    }
}

/// A Unix socket bound to `address` (a path or an abstract name), mode
/// 0600 from the start, listening.
fn bind_unix(address: &Address) -> Result<UnixListener> {
    let object = address.to_string();
    let fd = nix::sys::socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|errno| Error::sys("socket", object.clone(), errno))?;
    // Linux gives the socket file the mode of the socket itself (less the
    // umask): set it before bind, so the file is never open to others.
    nix::sys::stat::fchmod(&fd, Mode::S_IRUSR | Mode::S_IWUSR)
        .map_err(|errno| Error::sys("fchmod", object.clone(), errno))?;
    let addr = address.sockaddr()?;
    // bind(2) makes the file and fails on anything already there (a link
    // included): it never follows one.
    nix::sys::socket::bind(fd.as_raw_fd(), &*addr)
        .map_err(|errno| Error::sys("bind", object.clone(), errno))?;
    Ok(UnixListener::from(fd))
}

/// `listen(2)` on a socket bound by hand.
fn listen(listener: &UnixListener, address: &Address) -> Result<()> {
    let backlog = Backlog::new(BACKLOG).unwrap_or(Backlog::MAXCONN);
    nix::sys::socket::listen(listener, backlog)
        .map_err(|errno| Error::sys("listen", address.to_string(), errno))
}

/// [`bind_unix`] for a path, after checking what is there already; then
/// checks and records the file it made, and listens.
fn bind_unix_path(address: &Address, path: &Path) -> Result<(UnixListener, SocketFile)> {
    let object = address.to_string();
    match nix::sys::stat::lstat(path) {
        Err(Errno::ENOENT) => {}
        Err(errno) => return Err(Error::sys("lstat", object, errno)),
        Ok(st) => clear_stale_socket(address, path, &st)?,
    }
    let listener = bind_unix(address)?;
    let st =
        nix::sys::stat::lstat(path).map_err(|errno| Error::sys("lstat", object.clone(), errno))?;
    if file_type(&st) != SFlag::S_IFSOCK || st.st_uid != nix::unistd::geteuid().as_raw() {
        // Not the file bind made: leave it alone.
        return Err(Error::Untrusted {
            object,
            reason: "was replaced while it was being made".into(),
        });
    }
    let file = SocketFile {
        path: path.to_path_buf(),
        dev: st.st_dev,
        ino: st.st_ino,
        pid: std::process::id(),
    };
    // From here on the file is ours: a failure removes it.
    let finish = || {
        if st.st_mode & 0o077 != 0 {
            // A kernel that ignored the socket's mode: narrow the file's.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| io_error("chmod", address, &e))?;
        }
        listen(&listener, address)
    };
    match finish() {
        Ok(()) => Ok((listener, file)),
        Err(error) => {
            file.remove();
            Err(error)
        }
    }
}

fn file_type(st: &nix::sys::stat::FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// An existing file at a listener's path: refused unless it is a socket
/// of this user that nobody listens on (then it is removed).
fn clear_stale_socket(address: &Address, path: &Path, st: &nix::sys::stat::FileStat) -> Result<()> {
    let untrusted = |reason: String| Error::Untrusted {
        object: address.to_string(),
        reason,
    };
    match file_type(st) {
        SFlag::S_IFSOCK => {}
        SFlag::S_IFLNK => return Err(untrusted("is a symbolic link".into())),
        _ => return Err(untrusted("exists and is not a socket".into())),
    }
    let me = nix::unistd::geteuid().as_raw();
    if st.st_uid != me {
        return Err(untrusted(format!(
            "is a socket of uid {}, not yours",
            st.st_uid
        )));
    }
    // Ours: in use, or left by a run that ended? Look first in the
    // kernel's table of listening sockets (no side effect); then prove it
    // dead with a connect, which only a socket nobody listens on refuses.
    let in_use = || Error::sys("bind", address.to_string(), Errno::EADDRINUSE);
    if listed_as_listening(path) {
        return Err(in_use());
    }
    match probe(address) {
        Err(Errno::ECONNREFUSED) => {}
        _ => return Err(in_use()),
    }
    log::info!("{address}: removing a socket left by a run that ended");
    std::fs::remove_file(path).map_err(|e| io_error("unlink", address, &e))
}

/// True when `/proc/net/unix` lists a listening socket bound to `path`.
fn listed_as_listening(path: &Path) -> bool {
    /// `__SO_ACCEPTCON`: the socket listens.
    const LISTENING: &str = "00010000";
    let Ok(table) = std::fs::read("/proc/net/unix") else {
        return false;
    };
    let mut names = vec![path.as_os_str().as_bytes().to_vec()];
    if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(dir) = dir.canonicalize() {
            names.push(dir.join(name).as_os_str().as_bytes().to_vec());
        }
    }
    table.split(|&b| b == b'\n').skip(1).any(|line| {
        // Num RefCount Protocol Flags Type St Inode Path: the path is what
        // follows the seventh field.
        let mut rest = line;
        let mut fields = Vec::with_capacity(7);
        for _ in 0..7 {
            let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
            rest = &rest[start..];
            let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
            fields.push(&rest[..end]);
            rest = &rest[end..];
        }
        let bound = rest.strip_prefix(b" ").unwrap_or(rest);
        fields
            .get(3)
            .is_some_and(|flags| *flags == LISTENING.as_bytes())
            && names.iter().any(|name| name.as_slice() == bound)
    })
}

/// Tries to connect to a Unix socket address without waiting: how a
/// socket file nobody listens on is told apart (`ECONNREFUSED`).
fn probe(address: &Address) -> std::result::Result<(), Errno> {
    let fd = nix::sys::socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    let addr = address.sockaddr().map_err(|_| Errno::EINVAL)?;
    nix::sys::socket::connect(fd.as_raw_fd(), &*addr)
}

// ---- the client ---------------------------------------------------------------

/// Connects to a [`Listener`], or to Python's (Python's
/// `multiprocessing.connection.Client(address, authkey=…)`).
///
/// ```
/// use std::time::Duration;
/// use ipc_core::connection::Client;
///
/// // Nobody listens on that path.
/// let err = Client::new("/nonexistent/ipc-lab.sock")
///     .timeout(Duration::from_secs(1))
///     .connect()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "connect /nonexistent/ipc-lab.sock: No such file or directory");
/// ```
#[derive(Clone)]
pub struct Client {
    address: Address,
    authkey: Option<Vec<u8>>,
    timeout: Duration,
    limit: usize,
}

impl Client {
    /// A client of `address`, without an authkey, waiting at most
    /// [`CONNECTION_TIMEOUT`] to connect and authenticate.
    pub fn new(address: impl Into<Address>) -> Client {
        Client {
            address: address.into(),
            authkey: None,
            timeout: CONNECTION_TIMEOUT,
            limit: message::DEFAULT_LIMIT,
        }
    }

    /// Proves to the listener that it knows `key`, and makes the listener
    /// prove it too (Python's `authkey=key`).
    #[must_use]
    pub fn authkey(mut self, key: impl AsRef<[u8]>) -> Client {
        self.authkey = Some(key.as_ref().to_vec());
        self
    }

    /// How long [`Client::connect`] may take, connecting and
    /// authenticating together.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// The largest message the connection receives
    /// ([`message::DEFAULT_LIMIT`] unless set).
    #[must_use]
    pub fn limit(mut self, bytes: usize) -> Client {
        self.limit = bytes;
        self
    }

    /// The address it connects to.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Connects, then runs the handshake if there is an authkey, within
    /// the timeout.
    ///
    /// # Errors
    /// As [`Client::connect_until`].
    pub fn connect(&self) -> Result<Connection> {
        self.connect_until(Deadline::after(self.timeout))
    }

    /// Connects, then runs the handshake if there is an authkey, all by
    /// `deadline` (and within the timeout).
    ///
    /// # Errors
    /// [`Error::Sys`] naming `connect` (`Connection refused`: nobody
    /// listens; `No such file or directory`), or `socket`;
    /// [`Error::Timeout`] when the connection was not made in time;
    /// [`Error::Authentication`] when the listener refused our answer, or
    /// its own was wrong, or it did not answer in time (a listener without
    /// an authkey sends no challenge); [`Error::Interrupted`] after SIGINT
    /// or SIGTERM; [`Error::InvalidArgument`] for an empty or too long
    /// path.
    pub fn connect_until(&self, deadline: Deadline) -> Result<Connection> {
        let deadline = earlier(deadline, Deadline::after(self.timeout));
        let fd = connect(&self.address, deadline)?;
        let mut conn = Connection::new(fd, self.limit);
        if let Some(key) = &self.authkey {
            answer_challenge(&mut conn, key, deadline)?;
            deliver_challenge(&mut conn, key, deadline)?;
        }
        Ok(conn)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.address)
            // Never the key itself.
            .field("authkey", &self.authkey.as_ref().map(|_| "<set>"))
            .field("timeout", &self.timeout)
            .field("limit", &self.limit)
            .finish()
    }
}

/// A socket connected to `address` by `deadline`, blocking again.
fn connect(address: &Address, deadline: Deadline) -> Result<OwnedFd> {
    let object = address.to_string();
    let addr = address.sockaddr()?;
    let fd = nix::sys::socket::socket(
        address.family(),
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(|errno| Error::sys("socket", object.clone(), errno))?;
    if address.family() == AddressFamily::Unix {
        // Autobind to an abstract name (unix(7)), so that the listener's
        // side knows this end by a name: its trace channels are then
        // named alike on both sides. Nothing is lost if it fails.
        let _ = nix::sys::socket::bind(fd.as_raw_fd(), &UnixAddr::new_unnamed());
    }
    let raw = fd.as_raw_fd();
    let mut started = false;
    blocking::wait(deadline, |slice| {
        if !started {
            match nix::sys::socket::connect(raw, &*addr) {
                Ok(()) => return Ok(Some(())),
                Err(Errno::EINPROGRESS) => started = true,
                // A Unix listener's backlog is full: try again soon.
                Err(Errno::EAGAIN | Errno::EINTR) => {
                    std::thread::sleep(slice.min(Duration::from_millis(5)));
                    return Ok(None);
                }
                Err(errno) => return Err(Error::sys("connect", object.clone(), errno)),
            }
        }
        // A TCP connection under way: writable once it is made or failed.
        if !ready(fd.as_fd(), PollFlags::POLLOUT, slice, address)? {
            return Ok(None);
        }
        match nix::sys::socket::getsockopt(&fd, sockopt::SocketError) {
            Ok(0) => Ok(Some(())),
            Ok(code) => Err(Error::sys("connect", object.clone(), Errno::from_raw(code))),
            Err(errno) => Err(Error::sys("getsockopt SO_ERROR", object.clone(), errno)),
        }
    })?;
    // Blocking again, as Python's are, for callers that use the
    // descriptor; this module never waits in a system call anyway.
    set_blocking(&fd, address)?;
    Ok(fd)
}

fn set_blocking(fd: &OwnedFd, address: &Address) -> Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL)
        .map_err(|errno| Error::sys("fcntl F_GETFL", address.to_string(), errno))?;
    let flags = OFlag::from_bits_truncate(flags) - OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags))
        .map_err(|errno| Error::sys("fcntl F_SETFL", address.to_string(), errno))?;
    Ok(())
}

// ---- the connection -----------------------------------------------------------

/// A connected socket that sends and receives whole messages in Python's
/// `multiprocessing.connection` format (its `Connection`).
///
/// Made by [`Listener::accept`], [`Client::connect`], or
/// [`Connection::from_socket`] from any connected stream socket.
/// Sends and receives take `&mut self`; one thread uses a connection at a
/// time.
pub struct Connection {
    fd: OwnedFd,
    limit: usize,
    timeout: Option<Duration>,
    local: Option<Address>,
    peer: Option<Address>,
    /// How errors name the connection: the peer, or the local end.
    object: String,
    /// The ids of the two directions in the run's `--trace` timeline.
    send_channel: u64,
    recv_channel: u64,
    /// Why the stream can no longer be read, once it cannot.
    unreadable: Option<String>,
    /// Set when a send stopped inside a frame.
    unwritable: bool,
}

impl Connection {
    /// A connection over `socket`, a connected stream socket (one end of
    /// `socketpair(2)`, a `std` `UnixStream` or `TcpStream` turned
    /// `into()` an `OwnedFd`): Python's `Connection(fd)`.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use ipc_core::connection::Connection;
    ///
    /// let (a, b) = UnixStream::pair().unwrap();
    /// let (mut a, mut b) = (Connection::from_socket(a.into()), Connection::from_socket(b.into()));
    /// a.send(&(7_i32, "third?".to_string())).unwrap();
    /// assert_eq!(b.recv::<(i32, String)>().unwrap(), (7, "third?".to_string()));
    /// ```
    pub fn from_socket(socket: OwnedFd) -> Connection {
        Connection::new(socket, message::DEFAULT_LIMIT)
    }

    fn new(fd: OwnedFd, limit: usize) -> Connection {
        let raw = fd.as_raw_fd();
        let name =
            |storage: nix::Result<SockaddrStorage>| storage.ok().as_ref().and_then(Address::of);
        let local = name(nix::sys::socket::getsockname(raw));
        let peer = name(nix::sys::socket::getpeername(raw));
        let kind = match local.as_ref().or(peer.as_ref()) {
            Some(Address::Tcp(_)) => "tcp",
            _ => "unix",
        };
        if kind == "tcp" {
            // Each frame goes out in one call: nothing to gain from Nagle's
            // delay, and a small reply must not wait for an ACK.
            let _ = nix::sys::socket::setsockopt(&fd, sockopt::TcpNoDelay, &true);
        }
        let shown = |end: &Option<Address>| {
            end.as_ref()
                .map_or("unnamed".to_string(), Address::to_string)
        };
        let (me, them) = (shown(&local), shown(&peer));
        let object = match (&peer, &local) {
            (Some(peer), _) => peer.to_string(),
            (None, Some(local)) => local.to_string(),
            (None, None) => "socket".to_string(),
        };
        Connection {
            send_channel: trace::named_object(&format!("{kind} {me}>{them}")),
            recv_channel: trace::named_object(&format!("{kind} {them}>{me}")),
            fd,
            limit,
            timeout: None,
            local,
            peer,
            object,
            unreadable: None,
            unwritable: false,
        }
    }

    /// Sends `bytes` as one message (Python's `conn.send_bytes(bytes)`).
    ///
    /// # Errors
    /// [`Error::Disconnected`] when the peer has closed its end;
    /// [`Error::Timeout`] past [`Connection::set_timeout`]'s bound;
    /// [`Error::Interrupted`] after SIGINT or SIGTERM; [`Error::Message`]
    /// after an earlier send stopped inside a frame; [`Error::Sys`] naming
    /// `sendmsg`.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let deadline = self.deadline();
        let label = format_args!("<{} bytes>", bytes.len());
        self.send_frame(bytes, deadline, Some(&label))
    }

    /// Sends a typed message, in its [`Message`] encoding (Python's
    /// `conn.send(obj)` sends a pickle instead: a Python peer receives
    /// these bytes with `recv_bytes`).
    ///
    /// # Errors
    /// As [`Connection::send_bytes`], and [`Error::MessageTooLarge`] when
    /// a string or vector is too long to encode.
    pub fn send<T: Message>(&mut self, msg: &T) -> Result<()> {
        let bytes = message::to_bytes(msg)?;
        let deadline = self.deadline();
        self.send_frame(&bytes, deadline, Some(&Describe(msg)))
    }

    /// Receives the next message's bytes, up to the limit
    /// ([`Connection::set_limit`]) (Python's `conn.recv_bytes()`).
    ///
    /// # Errors
    /// [`Error::Disconnected`] when the peer closed its end between
    /// messages (Python's `EOFError`); [`Error::MessageTooLarge`] for a
    /// message above the limit (nothing is allocated for it; the
    /// connection cannot be read again); [`Error::Message`] for a stream
    /// that ended inside a message, or a negative length;
    /// [`Error::Timeout`], [`Error::Interrupted`], [`Error::Sys`] naming
    /// `recv` or `poll`.
    pub fn recv_bytes(&mut self) -> Result<Vec<u8>> {
        self.recv_bytes_max(self.limit)
    }

    /// Receives the next message's bytes, refusing one longer than
    /// `max` (Python's `conn.recv_bytes(maxlength)`).
    ///
    /// # Errors
    /// As [`Connection::recv_bytes`].
    pub fn recv_bytes_max(&mut self, max: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.recv_bytes_into(&mut out, max)?;
        Ok(out)
    }

    /// Receives the next message's bytes into `out`, replacing what it
    /// held and reusing its memory, refusing one longer than `max`;
    /// returns the message's length.
    ///
    /// # Errors
    /// As [`Connection::recv_bytes`].
    pub fn recv_bytes_into(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize> {
        let deadline = self.deadline();
        let len = self.recv_frame(out, max, deadline)?;
        trace::recv_next(self.recv_channel, format_args!("<{len} bytes>"));
        Ok(len)
    }

    /// Receives a typed message sent with [`Connection::send`].
    ///
    /// # Errors
    /// As [`Connection::recv_bytes`], and [`Error::Message`] when the
    /// bytes are not a `T`.
    pub fn recv<T: Message>(&mut self) -> Result<T> {
        let mut bytes = Vec::new();
        let deadline = self.deadline();
        self.recv_frame(&mut bytes, self.limit, deadline)?;
        let msg = message::from_bytes(&bytes)?;
        trace::recv_next(self.recv_channel, Describe(&msg));
        Ok(msg)
    }

    /// Waits up to `timeout` for something to receive; true when a
    /// receive would find data, or the end of the stream (Python's
    /// `conn.poll(timeout)`; `Duration::ZERO` only looks). A message still
    /// being sent can make the receive wait for its rest.
    ///
    /// # Errors
    /// [`Error::Interrupted`] after SIGINT or SIGTERM; [`Error::Sys`]
    /// naming `poll`.
    pub fn poll(&self, timeout: Duration) -> Result<bool> {
        if self.unreadable.is_some() {
            return Ok(true);
        }
        let outcome = blocking::wait(Deadline::after(timeout), |slice| {
            Ok(self.ready(PollFlags::POLLIN, slice)?.then_some(()))
        });
        match outcome {
            Ok(()) => Ok(true),
            Err(Error::Timeout) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Bounds every later send and receive to `timeout` (`None`, the
    /// default, waits as long as it takes, as Python does). A receive that
    /// times out before a message began leaves the connection usable; one
    /// that times out inside a message leaves it out of step, unreadable.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The bound of every send and receive, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The largest message a receive accepts.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the largest message a receive accepts.
    pub fn set_limit(&mut self, bytes: usize) {
        self.limit = bytes;
    }

    /// The address of this end: the listener's for an accepted
    /// connection; `None` for an unnamed Unix socket.
    pub fn local_address(&self) -> Option<&Address> {
        self.local.as_ref()
    }

    /// The address of the other end; `None` for an unnamed Unix socket
    /// (a Python client's).
    pub fn peer_address(&self) -> Option<&Address> {
        self.peer.as_ref()
    }

    /// Closes the connection (Python's `conn.close()`); the peer's next
    /// receive gets the end of the stream. The same as dropping it.
    pub fn close(self) {}

    fn deadline(&self) -> Deadline {
        Deadline::within(self.timeout)
    }

    /// Sends one frame: the length (4 or 12 bytes), then `payload`. A
    /// `label` records it in the run's trace (the handshake's frames are
    /// not recorded).
    fn send_frame(
        &mut self,
        payload: &[u8],
        deadline: Deadline,
        label: Option<&dyn fmt::Display>,
    ) -> Result<()> {
        if self.unwritable {
            return Err(Error::Message(format!(
                "an earlier send to {} stopped in the middle of a message; this connection cannot send again",
                self.object
            )));
        }
        let mut head = [0; 12];
        let head = frame_header(payload.len() as u64, &mut head);
        if let Some(label) = label {
            trace::send_next(self.send_channel, label);
        }
        let mut iov = [IoSlice::new(head), IoSlice::new(payload)];
        let this = &*self;
        write_whole(&mut iov, "sendmsg", &this.object, |iov| {
            blocking::wait(deadline, |slice| {
                if let Some(n) = this.try_send(iov)? {
                    return Ok(Some(n));
                }
                if !slice.is_zero() && this.ready(PollFlags::POLLOUT, slice)? {
                    return this.try_send(iov);
                }
                Ok(None)
            })
        })
        .map_err(|cut| {
            self.unwritable = cut.midway;
            cut.error
        })
    }

    /// One `sendmsg(2)` that does not wait; `None` when the socket buffer
    /// is full.
    fn try_send(&self, iov: &[IoSlice<'_>]) -> Result<Option<usize>> {
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
        match nix::sys::socket::sendmsg::<UnixAddr>(self.fd.as_raw_fd(), iov, &[], flags, None) {
            Ok(n) => Ok(Some(n)),
            Err(Errno::EAGAIN | Errno::EINTR) => Ok(None),
            Err(errno) => Err(blocking::error_for("sendmsg", &self.object, errno)),
        }
    }

    /// Receives one frame into `out`, refusing a length above `max`.
    fn recv_frame(&mut self, out: &mut Vec<u8>, max: usize, deadline: Deadline) -> Result<usize> {
        if let Some(why) = &self.unreadable {
            return Err(Error::Message(why.clone()));
        }
        let mut consumed = 0;
        let result = self.read_frame(out, max, deadline, &mut consumed);
        if let Err(error) = &result {
            let why = match error {
                Error::MessageTooLarge { size, limit } => Some(format!(
                    "this connection to {} can no longer be read: a message of {size} bytes was above the limit of {limit} bytes",
                    self.object
                )),
                Error::Message(why) => Some(why.clone()),
                // Stopped in the middle of a frame: out of step.
                error if consumed > 0 => Some(format!(
                    "this connection to {} can no longer be read: a receive stopped in the middle of a message ({error})",
                    self.object
                )),
                _ => None,
            };
            if why.is_some() {
                out.clear();
                self.unreadable = why;
            }
        }
        result
    }

    fn read_frame(
        &self,
        out: &mut Vec<u8>,
        max: usize,
        deadline: Deadline,
        consumed: &mut usize,
    ) -> Result<usize> {
        let mut head = [0; 12];
        self.fill(&mut head[..4], deadline, consumed)?;
        match *consumed {
            0 => return Err(Error::Disconnected),
            4 => {}
            have => {
                return Err(self.ended(format_args!(
                    "inside a message's length ({have} of 4 bytes)"
                )));
            }
        }
        let size = match i32::from_be_bytes([head[0], head[1], head[2], head[3]]) {
            -1 => {
                let mut got = 0;
                self.fill(&mut head[4..12], deadline, &mut got)?;
                *consumed += got;
                if got < 8 {
                    return Err(self.ended(format_args!(
                        "inside a long message's length ({got} of 8 bytes)"
                    )));
                }
                u64::from_be_bytes([
                    head[4], head[5], head[6], head[7], head[8], head[9], head[10], head[11],
                ])
            }
            n if n < 0 => {
                return Err(Error::Message(format!(
                    "{} sent a message length of {n}: not multiprocessing.connection's format",
                    self.object
                )));
            }
            n => n as u64,
        };
        if size > max as u64 {
            return Err(Error::MessageTooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
                limit: max,
            });
        }
        // At most `max`, which is a usize.
        let len = size as usize;
        out.clear();
        // Memory follows the bytes that arrive, doubling: a peer that
        // announces much and sends little makes us allocate little.
        let mut got = 0;
        while got < len {
            let want = (len - got).min(got.max(READ_CHUNK));
            out.resize(got + want, 0);
            let before = got;
            let filled = self.fill(&mut out[..got + want], deadline, &mut got);
            *consumed += got - before;
            filled?;
            if got < before + want {
                out.truncate(got);
                return Err(self.ended(format_args!(
                    "inside a message ({got} of {len} bytes arrived)"
                )));
            }
        }
        Ok(len)
    }

    /// The error for a stream that ended inside a frame.
    fn ended(&self, where_: fmt::Arguments<'_>) -> Error {
        Error::Message(format!("the connection to {} ended {where_}", self.object))
    }

    /// Reads into `buf[*got..]` until it is full or the stream ends,
    /// counting in `got` what arrived (also when it fails).
    fn fill(&self, buf: &mut [u8], deadline: Deadline, got: &mut usize) -> Result<()> {
        while *got < buf.len() {
            let space = &mut buf[*got..];
            let n = blocking::wait(deadline, |slice| {
                if let Some(n) = self.try_recv(space)? {
                    return Ok(Some(n));
                }
                if !slice.is_zero() && self.ready(PollFlags::POLLIN, slice)? {
                    return self.try_recv(space);
                }
                Ok(None)
            })?;
            if n == 0 {
                return Ok(());
            }
            *got += n;
        }
        Ok(())
    }

    /// One `recv(2)` that does not wait: `None` when nothing has arrived,
    /// `Some(0)` at the end of the stream (or a reset: the peer is gone).
    fn try_recv(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        match nix::sys::socket::recv(self.fd.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
            Ok(n) => Ok(Some(n)),
            Err(Errno::EAGAIN | Errno::EINTR) => Ok(None),
            Err(Errno::ECONNRESET) => Ok(Some(0)),
            Err(errno) => Err(Error::sys("recv", self.object.clone(), errno)),
        }
    }

    fn ready(&self, events: PollFlags, slice: Duration) -> Result<bool> {
        ready(self.fd.as_fd(), events, slice, &self.object)
    }
}

impl AsFd for Connection {
    /// The socket (Python's `conn.fileno()`), blocking, to wait on several
    /// connections at once with `poll(2)`.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Waitable for Connection {
    /// The socket: ready when a message (or the end of the stream) waits.
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.fd.as_fd())
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("fd", &self.fd.as_raw_fd())
            .field("local", &self.local)
            .field("peer", &self.peer)
            .field("limit", &self.limit)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The length that starts a frame of `len` bytes: 4 bytes, or `-1` and 8
/// bytes past `0x7fffffff` (Python's `_send_bytes`).
fn frame_header(len: u64, buf: &mut [u8; 12]) -> &[u8] {
    if len < LONG_FRAME {
        // Below 2^31: fits an i32.
        buf[..4].copy_from_slice(&(len as i32).to_be_bytes());
        &buf[..4]
    } else {
        buf[..4].copy_from_slice(&(-1_i32).to_be_bytes());
        buf[4..].copy_from_slice(&len.to_be_bytes());
        &buf[..]
    }
}

/// Waits up to `slice` for `events` on `fd`; true when they came. A
/// failure of `poll(2)` names `object`.
fn ready(
    fd: BorrowedFd<'_>,
    events: PollFlags,
    slice: Duration,
    object: &dyn fmt::Display,
) -> Result<bool> {
    let mut fds = [PollFd::new(fd, events)];
    match poll(&mut fds, poll_timeout(slice)) {
        Ok(0) | Err(Errno::EINTR) => Ok(false),
        Ok(_) => Ok(true),
        Err(errno) => Err(Error::sys("poll", object.to_string(), errno)),
    }
}

/// `slice` in whole milliseconds, rounded up: `poll(2)` must not return
/// before it.
fn poll_timeout(slice: Duration) -> PollTimeout {
    let ms = i32::try_from(slice.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX);
    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
}

/// The earlier of two deadlines.
fn earlier(a: Deadline, b: Deadline) -> Deadline {
    match (a.remaining(), b.remaining()) {
        (None, _) => b,
        (_, None) => a,
        (Some(x), Some(y)) => {
            if x <= y {
                a
            } else {
                b
            }
        }
    }
}

/// An error of `std`'s, as ipc-core names failed calls.
fn io_error(call: &'static str, address: &Address, error: &std::io::Error) -> Error {
    let errno = error.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
    Error::sys(call, address.to_string(), errno)
}

// ---- the handshake ------------------------------------------------------------

/// Challenges the peer to prove it knows `authkey` (Python's
/// `deliver_challenge(connection, authkey)`): sends `#CHALLENGE#{sha256}`
/// and 40 random bytes, checks the answer (HMAC-SHA256, or a Python 3.11
/// peer's HMAC-MD5) in constant time, and replies `#WELCOME#` or
/// `#FAILURE#`. Every read ends by `deadline`.
///
/// A [`Listener`] with an authkey calls it, then [`answer_challenge`], on
/// every connection it accepts; a [`Client`] the other way round.
///
/// # Errors
/// [`Error::Authentication`] for a wrong answer (after sending
/// `#FAILURE#`), one in a form or digest it does not speak, or none by the
/// deadline, or a peer that closed the connection; [`Error::Interrupted`]
/// after SIGINT or SIGTERM; [`Error::Sys`] naming `sendmsg`, `recv` or
/// `open /dev/urandom`.
pub fn deliver_challenge(conn: &mut Connection, authkey: &[u8], deadline: Deadline) -> Result<()> {
    let step = "answering our challenge";
    let mut challenge = CHALLENGE.to_vec();
    challenge.extend_from_slice(b"{sha256}");
    let nonce = challenge.len();
    challenge.resize(nonce + CHALLENGE_RANDOM, 0);
    random_bytes(&mut challenge[nonce..])?;
    conn.send_frame(&challenge, deadline, None)
        .map_err(|e| in_handshake(e, step))?;
    let mut answer = Vec::new();
    conn.recv_frame(&mut answer, HANDSHAKE_LIMIT, deadline)
        .map_err(|e| in_handshake(e, step))?;
    match check_answer(authkey, &challenge[CHALLENGE.len()..], &answer) {
        Ok(()) => conn
            .send_frame(WELCOME, deadline, None)
            .map_err(|e| in_handshake(e, "welcoming it")),
        Err(why) => {
            // Tell the peer, so that it fails at once rather than at its
            // deadline; it may be gone already.
            let _ = conn.send_frame(FAILURE, deadline, None);
            Err(Error::Authentication(format!(
                "{} {why}",
                conn.peer_label()
            )))
        }
    }
}

/// Answers the peer's challenge with an HMAC under `authkey` (Python's
/// `answer_challenge(connection, authkey)`): HMAC-MD5 for a Python 3.11
/// challenge (20 bytes), `{sha256}` or `{md5}` and that HMAC for a
/// prefixed one; then expects `#WELCOME#`. Every read ends by `deadline`.
///
/// # Errors
/// [`Error::Authentication`] when the peer refused the answer
/// (`#FAILURE#`: the authkeys differ), sent something else than a
/// challenge, asked for a digest ipc-core does not speak (`sha384`,
/// SHA-3), did not send by the deadline, or closed the connection;
/// [`Error::Interrupted`] after SIGINT or SIGTERM; [`Error::Sys`] naming
/// `sendmsg` or `recv`.
pub fn answer_challenge(conn: &mut Connection, authkey: &[u8], deadline: Deadline) -> Result<()> {
    let step = "waiting for its challenge";
    let mut challenge = Vec::new();
    conn.recv_frame(&mut challenge, HANDSHAKE_LIMIT, deadline)
        .map_err(|e| in_handshake(e, step))?;
    let answer = answer_for(authkey, &challenge)
        .map_err(|why| Error::Authentication(format!("{} {why}", conn.peer_label())))?;
    conn.send_frame(&answer, deadline, None)
        .map_err(|e| in_handshake(e, "answering its challenge"))?;
    let mut verdict = Vec::new();
    conn.recv_frame(&mut verdict, HANDSHAKE_LIMIT, deadline)
        .map_err(|e| in_handshake(e, "waiting for its verdict on our answer"))?;
    if verdict == WELCOME {
        Ok(())
    } else if verdict == FAILURE {
        Err(Error::Authentication(format!(
            "{} refused our answer to its challenge: the authkeys differ",
            conn.peer_label()
        )))
    } else {
        Err(Error::Authentication(format!(
            "{} replied {} instead of #WELCOME# or #FAILURE#",
            conn.peer_label(),
            shown(&verdict)
        )))
    }
}

impl Connection {
    /// `the peer 127.0.0.1:41234`, `the peer of /tmp/sock`.
    fn peer_label(&self) -> String {
        match (&self.peer, &self.local) {
            (Some(peer), _) => format!("the peer {peer}"),
            (None, Some(local)) => format!("the peer of {local}"),
            (None, None) => "the peer".to_string(),
        }
    }
}

/// An error met in a handshake's `step`, as the caller should see it:
/// the peer's silence, departure or garbage are an authentication
/// failure, which names the step; a signal or a system call's failure
/// stays what it is.
fn in_handshake(error: Error, step: &str) -> Error {
    let why = match error {
        Error::Timeout => format!(
            "nothing came in time while {step} (does the other side use an authkey, and speak multiprocessing.connection?)"
        ),
        Error::Disconnected => format!("the other side closed the connection while {step}"),
        Error::MessageTooLarge { size, limit } => format!(
            "a message of {size} bytes while {step}, above the {limit} bytes a handshake message may have"
        ),
        Error::Message(why) => format!("{why}, while {step}"),
        error => return error,
    };
    Error::Authentication(why)
}

/// The answer to `challenge` (the whole frame, `#CHALLENGE#` included)
/// under `authkey`, as Python 3.12's `_create_response` makes it; or why
/// there is none.
fn answer_for(authkey: &[u8], challenge: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let Some(message) = challenge.strip_prefix(CHALLENGE) else {
        return Err(format!(
            "sent {} where a challenge (#CHALLENGE#…) was expected",
            shown(challenge)
        ));
    };
    if message.len() < LEGACY_CHALLENGE {
        return Err(format!(
            "sent a challenge of {} bytes, too short (at least {LEGACY_CHALLENGE})",
            message.len()
        ));
    }
    if message.len() == LEGACY_CHALLENGE {
        // Python 3.11 and older: a bare HMAC-MD5.
        return Ok(Hash::Md5.hmac(authkey, message));
    }
    let hash = match digest_prefix(message) {
        Some((name, _)) => Hash::from_name(name).ok_or_else(|| {
            format!(
                "asks for an HMAC-{}, which ipc-core does not speak (it speaks md5 and sha256)",
                name.escape_ascii()
            )
        })?,
        None => {
            return Err(format!(
                "sent a challenge without a {{digest}} prefix: {}",
                shown(message)
            ));
        }
    };
    // The MAC covers the whole message, prefix included (Python 3.12).
    let mut answer = format!("{{{}}}", hash.name()).into_bytes();
    answer.extend(hash.hmac(authkey, message));
    Ok(answer)
}

/// Checks `answer` to our challenge `message` (after `#CHALLENGE#`), as
/// Python 3.12's `_verify_challenge` does: a bare 16-byte answer (or one
/// of 20, which cannot be right) is a legacy HMAC-MD5; any other must
/// name its digest.
fn check_answer(authkey: &[u8], message: &[u8], answer: &[u8]) -> std::result::Result<(), String> {
    let (hash, mac) = if answer.len() == 16 || answer.len() == LEGACY_CHALLENGE {
        (Hash::Md5, answer)
    } else {
        let Some((name, mac)) = digest_prefix(answer) else {
            return Err(format!(
                "answered our challenge with {}, not a digest",
                shown(answer)
            ));
        };
        let hash = Hash::from_name(name).ok_or_else(|| {
            format!(
                "answered our challenge with an HMAC-{}, which ipc-core does not check (it speaks md5 and sha256)",
                name.escape_ascii()
            )
        })?;
        (hash, mac)
    };
    if mac.len() != hash.len() {
        return Err(format!(
            "answered our challenge with a {}-byte HMAC-{}, not {} bytes",
            mac.len(),
            hash.name(),
            hash.len()
        ));
    }
    let expected = hash.hmac(authkey, message);
    if !same_digest(&expected, mac) {
        return Err(format!(
            "answered our challenge with a wrong HMAC-{}: the authkeys differ",
            hash.name()
        ));
    }
    Ok(())
}

/// Splits `{name}rest` into a digest name Python allows and the rest.
fn digest_prefix(message: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = message.strip_prefix(b"{")?;
    let end = body
        .iter()
        .take(LONGEST_DIGEST_NAME + 1)
        .position(|&b| b == b'}')?;
    let name = &body[..end];
    PYTHON_DIGESTS
        .contains(&name)
        .then_some((name, &body[end + 1..]))
}

/// Up to 40 bytes of a peer's message, escaped, for an error.
fn shown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(40)];
    let more = if bytes.len() > head.len() { "…" } else { "" };
    format!("b'{}{more}' ({} bytes)", head.escape_ascii(), bytes.len())
}

/// Fills `buf` from the kernel's random source (`/dev/urandom`, as
/// Python's `os.urandom`).
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<()> {
    std::fs::File::open("/dev/urandom")
        .and_then(|mut source| source.read_exact(buf))
        .map_err(|e| {
            Error::sys(
                "read",
                "/dev/urandom",
                e.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
            )
        })
}

#[cfg(test)]
mod tests;
