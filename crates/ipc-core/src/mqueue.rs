//! POSIX message queues: whole messages with priorities, kept by the kernel
//! under a name until somebody unlinks it.
//!
//! A pipe carries a stream of bytes; a message queue (`mq_overview(7)`)
//! carries *messages*: each `mq_send(3)` is received whole by one
//! `mq_receive(3)`, and the receiver always gets the oldest message of the
//! **highest priority**. The queue has a name (`/ipc-lab-…`, see
//! [`IpcName`]) in a namespace of its own, and it **outlives the processes
//! that use it**: messages sent by a process that has exited wait in the
//! kernel until somebody receives them or unlinks the queue.
//!
//! A queue is created with a capacity (`mq_maxmsg`, how many messages it
//! holds before `mq_send` blocks) and a message size (`mq_msgsize`, the
//! largest message it takes). The system caps both, in
//! `/proc/sys/fs/mqueue/msg_max` and `/proc/sys/fs/mqueue/msgsize_max`;
//! [`MessageQueue::create`] checks them *before* calling `mq_open(3)` and
//! reports a request above them as [`Error::Limit`], naming the file. (The
//! kernel lets a privileged process exceed them; ipc-core holds every user
//! to them, so that a program behaves the same for root and for a student.)
//!
//! Ownership: the handle that created a queue unlinks it when dropped, in
//! the creating process only, unless [`MessageQueue::keep`] was called; a
//! handle from [`MessageQueue::open`] never unlinks. A program that wants
//! its messages to wait for a later receiver calls `keep()`; the receiver,
//! or a clean-up step, opens it and calls [`MessageQueue::remove`]. The
//! rule is [`crate::owner`]'s, the same for every named object.
//!
//! Blocking calls (send on a full queue, receive on an empty one) notice
//! SIGINT and SIGTERM after [`crate::signal::install`] and return
//! [`Error::Interrupted`]; an `EINTR` from any other signal is retried.
//! The flag is also checked before each call (see [`crate::fifo`] for the
//! one instant this cannot cover).
//!
//! ```
//! use ipc_core::mqueue::MessageQueue;
//! use ipc_core::{IpcName, Process};
//!
//! let name = IpcName::unique("doc-mq").unwrap();
//! let queue = MessageQueue::create(&name, 8, 64).unwrap();
//! // Another process opens the queue by its name, sends, and exits.
//! let mut sender = Process::spawn("sender", || -> ipc_core::Result<()> {
//!     let q = MessageQueue::open(&name)?;
//!     q.send(b"low", 1)?;
//!     q.send(b"high", 9)?;
//!     q.send(b"also low", 1)
//! })
//! .unwrap();
//! assert!(sender.join().unwrap().success());
//! assert_eq!(queue.attributes().unwrap().curmsgs, 3, "the messages outlived their sender");
//!
//! // Highest priority first; equal priorities in the order sent.
//! let mut buf = vec![0; queue.msgsize()];
//! let mut got = Vec::new();
//! for _ in 0..3 {
//!     let (len, priority) = queue.receive(&mut buf).unwrap();
//!     got.push((String::from_utf8_lossy(&buf[..len]).into_owned(), priority));
//! }
//! assert_eq!(got, [("high".into(), 9), ("low".into(), 1), ("also low".into(), 1)]);
//! drop(queue); // the creator unlinks it
//! assert!(!MessageQueue::exists(&name).unwrap());
//! ```

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, mq_getattr, mq_open, mq_receive, mq_send, mq_timedreceive};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;

use crate::blocking;
use crate::error::{Error, Result};
use crate::name::IpcName;
use crate::owner::{MqDescriptor, Owner, QueueObject, QueueSize};
use crate::ready::Waitable;
use crate::trace;

/// Where the system's largest queue capacity is set (`mq_overview(7)`).
pub const MSG_MAX_FILE: &str = "/proc/sys/fs/mqueue/msg_max";

/// Where the system's largest message size is set (`mq_overview(7)`).
pub const MSGSIZE_MAX_FILE: &str = "/proc/sys/fs/mqueue/msgsize_max";

/// The highest priority a message can have on Linux
/// (`sysconf(_SC_MQ_PRIO_MAX)` less one). 0 is the lowest.
pub const MAX_PRIORITY: u32 = 32767;

/// The mode every queue is created with: read and write for its owner only.
pub const MODE: u32 = crate::owner::MODE;

/// The system's limits on a queue created by an unprivileged process, read
/// from `/proc/sys/fs/mqueue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest capacity (`mq_maxmsg`), from [`MSG_MAX_FILE`].
    pub msg_max: usize,
    /// The largest message size (`mq_msgsize`), from [`MSGSIZE_MAX_FILE`].
    pub msgsize_max: usize,
}

impl Limits {
    /// Reads the limits of this system.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `read` and the file when it cannot be read (a
    /// kernel without message queues has no such files);
    /// [`Error::InvalidArgument`] when it does not hold a number.
    ///
    /// ```
    /// let limits = ipc_core::mqueue::Limits::read().unwrap();
    /// assert!(limits.msg_max >= 1 && limits.msgsize_max >= 128);
    /// ```
    pub fn read() -> Result<Limits> {
        Ok(Limits {
            msg_max: read_number(MSG_MAX_FILE)?,
            msgsize_max: read_number(MSGSIZE_MAX_FILE)?,
        })
    }

    /// Checks a request for a queue of `capacity` messages of up to
    /// `msgsize` bytes against these limits.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for 0; [`Error::Limit`] naming the limit
    /// and its file for a value above it.
    ///
    /// ```
    /// use ipc_core::mqueue::Limits;
    /// let limits = Limits { msg_max: 10, msgsize_max: 8192 };
    /// assert!(limits.check(10, 8192).is_ok());
    /// let err = limits.check(11, 64).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "a message queue capacity (mq_maxmsg) of 11 is above the system limit of 10 \
    ///      (/proc/sys/fs/mqueue/msg_max)"
    /// );
    /// assert_eq!(err.exit_code(), 2);
    /// ```
    pub fn check(&self, capacity: usize, msgsize: usize) -> Result<()> {
        if capacity == 0 || msgsize == 0 {
            return Err(Error::InvalidArgument(
                "a message queue needs a capacity and a message size of at least 1".into(),
            ));
        }
        if capacity > self.msg_max {
            return Err(Error::Limit {
                what: "a message queue capacity (mq_maxmsg)",
                requested: capacity,
                limit: self.msg_max,
                file: MSG_MAX_FILE,
            });
        }
        if msgsize > self.msgsize_max {
            return Err(Error::Limit {
                what: "a message size (mq_msgsize)",
                requested: msgsize,
                limit: self.msgsize_max,
                file: MSGSIZE_MAX_FILE,
            });
        }
        Ok(())
    }
}

/// A queue's attributes, as `mq_getattr(3)` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributes {
    /// The capacity: how many messages the queue holds before a send
    /// blocks (`mq_maxmsg`).
    pub maxmsg: usize,
    /// The largest message, in bytes (`mq_msgsize`).
    pub msgsize: usize,
    /// How many messages are in the queue now (`mq_curmsgs`).
    pub curmsgs: usize,
}

impl fmt::Display for Attributes {
    /// `maxmsg 8, msgsize 64, curmsgs 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "maxmsg {}, msgsize {}, curmsgs {}",
            self.maxmsg, self.msgsize, self.curmsgs
        )
    }
}

/// An open POSIX message queue.
///
/// Dropping it closes the descriptor (`mq_close(3)`); dropping the
/// creator's handle also unlinks the queue, unless [`MessageQueue::keep`]
/// was called (see the [module](self) for the ownership rule).
#[derive(Debug)]
pub struct MessageQueue {
    mqd: MqDescriptor,
    name: IpcName,
    msgsize: usize,
    /// The queue's id in the `--trace` timeline (the same in every process).
    channel: u64,
    /// Who removes the queue.
    owner: Owner,
}

impl MessageQueue {
    /// Creates the queue `name` holding up to `capacity` messages of up to
    /// `msgsize` bytes, with mode 0600 (`mq_open(3)` with `O_CREAT |
    /// O_EXCL`, then `fchmod(2)` so that the umask does not matter).
    ///
    /// An existing queue is never reused. The limits are checked first
    /// ([`Limits::check`]). The queue is unlinked when this handle is
    /// dropped (unless kept), and after a crash by the run's tracker or the
    /// next program ([`crate::owner`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a capacity or size of 0;
    /// [`Error::Limit`] above the system's limits; [`Error::Sys`] naming
    /// `mq_open` (`File exists`; `Too many open files` when the user's
    /// `RLIMIT_MSGQUEUE` bytes are used up, said in words; `No space left
    /// on device` at `/proc/sys/fs/mqueue/queues_max`) or `fchmod`.
    ///
    /// ```
    /// use ipc_core::mqueue::MessageQueue;
    /// let name = ipc_core::IpcName::unique("doc-create").unwrap();
    /// let q = MessageQueue::create(&name, 4, 100).unwrap();
    /// let attrs = q.attributes().unwrap();
    /// assert_eq!((attrs.maxmsg, attrs.msgsize, attrs.curmsgs), (4, 100, 0));
    /// assert!(MessageQueue::create(&name, 4, 100).is_err(), "O_EXCL");
    /// ```
    pub fn create(name: &IpcName, capacity: usize, msgsize: usize) -> Result<Self> {
        Limits::read()?.check(capacity, msgsize)?;
        let size = QueueSize { capacity, msgsize };
        let (mqd, owner) = Owner::create::<QueueObject, _>(name, &size, |mqd, _| Ok(mqd))?;
        MessageQueue::with(mqd, name, owner)
    }

    /// Opens the existing queue `name` for sending and receiving. It must
    /// belong to the calling user and be closed to others (mode 0600, see
    /// [`crate::owner::check_trusted`]). This handle never unlinks it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mq_open` (`No such file or directory` when
    /// there is no such queue, see [`Error::is_not_found`]) or `mq_getattr`;
    /// [`Error::Untrusted`] for a queue of another user or a wider mode.
    pub fn open(name: &IpcName) -> Result<Self> {
        let (mqd, _, owner) = Owner::open::<QueueObject>(name)?;
        MessageQueue::with(mqd, name, owner)
    }

    /// Creates the queue `name` or, if it exists, opens it (with the checks
    /// of [`MessageQueue::open`]); an existing queue keeps its own capacity
    /// and message size. [`MessageQueue::is_owner`] tells which happened.
    ///
    /// # Errors
    /// As [`MessageQueue::create`] and [`MessageQueue::open`].
    pub fn create_or_open(name: &IpcName, capacity: usize, msgsize: usize) -> Result<Self> {
        Limits::read()?.check(capacity, msgsize)?;
        let size = QueueSize { capacity, msgsize };
        let (mqd, owner) =
            Owner::create_or_open::<QueueObject, _>(name, &size, |mqd, _, _| Ok(mqd))?;
        MessageQueue::with(mqd, name, owner)
    }

    fn with(mqd: MqDescriptor, name: &IpcName, owner: Owner) -> Result<Self> {
        let mut queue = MessageQueue {
            mqd,
            name: name.clone(),
            msgsize: 0,
            channel: trace::named_object(&name.path()),
            owner,
        };
        queue.msgsize = queue.attributes()?.msgsize;
        Ok(queue)
    }

    /// True if a queue called `name` exists now.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mq_open` for anything but `ENOENT` (a queue
    /// of another user, for instance, gives `Permission denied`).
    pub fn exists(name: &IpcName) -> Result<bool> {
        let path = name.path();
        match mq_open(
            path.as_str(),
            MQ_OFlag::O_RDONLY | MQ_OFlag::O_CLOEXEC,
            Mode::empty(),
            None,
        ) {
            Ok(mqd) => {
                drop(MqDescriptor(mqd));
                Ok(true)
            }
            Err(Errno::ENOENT) => Ok(false),
            Err(errno) => Err(Error::sys("mq_open", &path, errno)),
        }
    }

    /// Removes the queue's name now (`mq_unlink(3)`), whoever created it,
    /// if it is still the queue this handle opened; this handle stays
    /// usable, and the queue is destroyed when the last process closes it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mq_unlink` (`No such file or directory` when
    /// it is gone already).
    pub fn remove(&mut self) -> Result<()> {
        self.owner.remove()
    }

    /// Removes the existing queue `name`, after the checks of
    /// [`MessageQueue::open`] (a queue of another user is never removed):
    /// `MessageQueue::open(name)?.remove()`.
    ///
    /// # Errors
    /// As [`MessageQueue::open`] (`No such file or directory` when there is
    /// no such queue) and [`MessageQueue::remove`].
    pub fn remove_existing(name: &IpcName) -> Result<()> {
        MessageQueue::open(name)?.remove()
    }

    /// Leaves the queue in place when this handle is dropped, so that its
    /// messages wait for a receiver that comes later.
    pub fn keep(&mut self) {
        self.owner.keep();
    }

    /// True if this handle created the queue and will unlink it.
    pub fn is_owner(&self) -> bool {
        self.owner.is_owner()
    }

    /// The queue's name.
    pub fn name(&self) -> &IpcName {
        &self.name
    }

    /// The largest message the queue takes (`mq_msgsize`), and the
    /// smallest buffer [`MessageQueue::receive`] accepts.
    pub fn msgsize(&self) -> usize {
        self.msgsize
    }

    /// The queue's attributes now (`mq_getattr(3)`).
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mq_getattr`.
    pub fn attributes(&self) -> Result<Attributes> {
        let attr = mq_getattr(&self.mqd.0)
            .map_err(|errno| Error::sys("mq_getattr", self.path(), errno))?;
        Ok(Attributes {
            maxmsg: attr.maxmsg() as usize,
            msgsize: attr.msgsize() as usize,
            curmsgs: attr.curmsgs() as usize,
        })
    }

    /// Sends `message` with `priority` (0 lowest, [`MAX_PRIORITY`]
    /// highest), blocking while the queue is full (`mq_send(3)`).
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] for a message longer than
    /// [`MessageQueue::msgsize`] (nothing is sent);
    /// [`Error::InvalidArgument`] for a priority above [`MAX_PRIORITY`];
    /// [`Error::Interrupted`]; [`Error::Sys`] naming `mq_send`.
    ///
    /// ```
    /// use ipc_core::{Error, mqueue::MessageQueue};
    /// let q = MessageQueue::create(&ipc_core::IpcName::unique("doc-big").unwrap(), 2, 8).unwrap();
    /// assert!(matches!(
    ///     q.send(b"nine bytes", 0),
    ///     Err(Error::MessageTooLarge { size: 10, limit: 8 })
    /// ));
    /// assert_eq!(q.attributes().unwrap().curmsgs, 0, "nothing was sent");
    /// ```
    pub fn send(&self, message: &[u8], priority: u32) -> Result<()> {
        self.check_send(message, priority)?;
        self.trace_send(message, priority);
        self.retry("mq_send", || mq_send(&self.mqd.0, message, priority))
    }

    /// As [`MessageQueue::send`], only if there is room right now.
    ///
    /// # Errors
    /// As [`MessageQueue::send`]; [`Error::WouldBlock`] when the queue is
    /// full (nothing is sent).
    pub fn try_send(&self, message: &[u8], priority: u32) -> Result<()> {
        match self.send_timeout(message, priority, Duration::ZERO) {
            Err(Error::Timeout) => Err(Error::WouldBlock),
            other => other,
        }
    }

    /// As [`MessageQueue::send`], waiting at most `timeout` for room
    /// (`mq_timedsend(3)`); [`Duration::ZERO`] sends only if there is room
    /// now.
    ///
    /// # Errors
    /// As [`MessageQueue::send`]; [`Error::Timeout`] when the queue stayed
    /// full (nothing is sent).
    pub fn send_timeout(&self, message: &[u8], priority: u32, timeout: Duration) -> Result<()> {
        self.check_send(message, priority)?;
        self.trace_send(message, priority);
        let deadline = blocking::realtime_after(timeout);
        self.retry("mq_timedsend", || {
            // SAFETY: the descriptor is open for the life of `self`; the
            // pointer and length describe the borrowed `message`, which the
            // kernel only reads; `deadline` is a valid timespec.
            let res = unsafe {
                libc::mq_timedsend(
                    self.mqd.0.as_raw_fd(),
                    message.as_ptr().cast(),
                    message.len(),
                    priority,
                    &deadline,
                )
            };
            Errno::result(res).map(drop)
        })
    }

    /// Receives the oldest message of the highest priority into `buf`,
    /// blocking while the queue is empty (`mq_receive(3)`). Returns the
    /// message's length and its priority.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `buf` is shorter than
    /// [`MessageQueue::msgsize`] (the kernel refuses such a buffer);
    /// [`Error::Interrupted`]; [`Error::Sys`] naming `mq_receive`.
    pub fn receive(&self, buf: &mut [u8]) -> Result<(usize, u32)> {
        self.check_buffer(buf)?;
        let mut priority = 0;
        let len = self.retry("mq_receive", || mq_receive(&self.mqd.0, buf, &mut priority))?;
        self.trace_received(&buf[..len], priority);
        Ok((len, priority))
    }

    /// As [`MessageQueue::receive`], waiting at most `timeout` for a
    /// message (`mq_timedreceive(3)`); [`Duration::ZERO`] takes a message
    /// only if one is there now.
    ///
    /// # Errors
    /// As [`MessageQueue::receive`]; [`Error::Timeout`] when the queue
    /// stayed empty.
    pub fn receive_timeout(&self, buf: &mut [u8], timeout: Duration) -> Result<(usize, u32)> {
        self.check_buffer(buf)?;
        let deadline = TimeSpec::from(blocking::realtime_after(timeout));
        let mut priority = 0;
        let len = self.retry("mq_timedreceive", || {
            mq_timedreceive(&self.mqd.0, buf, &mut priority, &deadline)
        })?;
        self.trace_received(&buf[..len], priority);
        Ok((len, priority))
    }

    /// As [`MessageQueue::receive`], only if a message is there right now.
    ///
    /// # Errors
    /// As [`MessageQueue::receive`]; [`Error::WouldBlock`] when the queue
    /// is empty.
    pub fn try_receive(&self, buf: &mut [u8]) -> Result<(usize, u32)> {
        match self.receive_timeout(buf, Duration::ZERO) {
            Err(Error::Timeout) => Err(Error::WouldBlock),
            other => other,
        }
    }

    /// As [`MessageQueue::receive`], into a new buffer of the message's
    /// length: handy, but it allocates for every message.
    ///
    /// # Errors
    /// As [`MessageQueue::receive`].
    pub fn receive_bytes(&self) -> Result<(Vec<u8>, u32)> {
        let mut buf = vec![0; self.msgsize];
        let (len, priority) = self.receive(&mut buf)?;
        buf.truncate(len);
        Ok((buf, priority))
    }

    fn path(&self) -> String {
        self.name.path()
    }

    /// Records a send in the `--trace` timeline. A queue delivers by
    /// priority, not in the order sent: messages are paired by content.
    /// (A send that then times out is recorded all the same.)
    fn trace_send(&self, message: &[u8], priority: u32) {
        trace::send_keyed(
            self.channel,
            message,
            format_args!("'{}' (priority {priority})", Lossy(message)),
        );
    }

    fn trace_received(&self, message: &[u8], priority: u32) {
        trace::recv_keyed(
            self.channel,
            message,
            format_args!("'{}' (priority {priority})", Lossy(message)),
        );
    }

    fn check_send(&self, message: &[u8], priority: u32) -> Result<()> {
        if message.len() > self.msgsize {
            return Err(Error::MessageTooLarge {
                size: message.len(),
                limit: self.msgsize,
            });
        }
        if priority > MAX_PRIORITY {
            return Err(Error::InvalidArgument(format!(
                "a message priority of {priority} is above the highest, {MAX_PRIORITY}"
            )));
        }
        Ok(())
    }

    fn check_buffer(&self, buf: &[u8]) -> Result<()> {
        if buf.len() < self.msgsize {
            return Err(Error::InvalidArgument(format!(
                "a receive buffer of {} bytes is smaller than the message size of {}, {}",
                buf.len(),
                self.path(),
                self.msgsize
            )));
        }
        Ok(())
    }

    /// Runs a possibly blocking call on this queue through
    /// [`blocking::call`].
    ///
    /// The queue's path is handed over unformatted: only an error message
    /// spells it out (a `String` made per call cost every send and receive
    /// an allocation).
    fn retry<T>(&self, call: &'static str, f: impl FnMut() -> nix::Result<T>) -> Result<T> {
        blocking::call(call, format_args!("/{}", self.name), f)
    }
}

/// A message's bytes as text for the `--trace` timeline, invalid UTF-8
/// replaced: converted only when the timeline formats it, that is only
/// while tracing is on. (`String::from_utf8_lossy` as an argument of
/// `format_args!` ran before the recorder could find tracing off, and
/// scanned every byte of every message: 72 % of a 4 KiB send and
/// receive in one thread.)
struct Lossy<'a>(&'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str(char::REPLACEMENT_CHARACTER.encode_utf8(&mut [0; 4]))?;
            }
        }
        Ok(())
    }
}

impl AsFd for MessageQueue {
    /// The queue descriptor; on Linux it can be polled (`poll(2)`,
    /// readable when a message is waiting).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.mqd.0.as_fd()
    }
}

impl Waitable for MessageQueue {
    /// The queue descriptor: ready when a message is waiting.
    fn wait_fd(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.as_fd())
    }
}

fn read_number(file: &'static str) -> Result<usize> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Error::sys(
            "read",
            file,
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    text.trim()
        .parse()
        .map_err(|_| Error::InvalidArgument(format!("{file}: not a number: {:?}", text.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A queue name of this test, unlinked at the end whatever happens.
    struct Name(IpcName);

    impl Name {
        fn new(tag: &str) -> Name {
            Name(IpcName::unique(tag).unwrap())
        }
    }

    impl Drop for Name {
        fn drop(&mut self) {
            let _ = MessageQueue::open(&self.0).map(|mut q| q.remove());
        }
    }

    fn text(q: &MessageQueue) -> (String, u32) {
        let (bytes, priority) = q.receive_bytes().unwrap();
        (String::from_utf8(bytes).unwrap(), priority)
    }

    #[test]
    fn highest_priority_first_then_in_order_sent() {
        let name = Name::new("mq-prio");
        let q = MessageQueue::create(&name.0, 8, 32).unwrap();
        for (msg, prio) in [("First", 1), ("second", 5), ("third?", 1), ("urgent", 9)] {
            q.send(msg.as_bytes(), prio).unwrap();
        }
        assert_eq!(q.attributes().unwrap().curmsgs, 4);
        let got: Vec<_> = (0..4).map(|_| text(&q)).collect();
        assert_eq!(
            got,
            [
                ("urgent".to_string(), 9),
                ("second".to_string(), 5),
                ("First".to_string(), 1),
                ("third?".to_string(), 1)
            ]
        );
    }

    #[test]
    fn attributes_are_what_was_asked() {
        let name = Name::new("mq-attrs");
        let q = MessageQueue::create(&name.0, 3, 100).unwrap();
        let attrs = q.attributes().unwrap();
        assert_eq!(
            attrs,
            Attributes {
                maxmsg: 3,
                msgsize: 100,
                curmsgs: 0
            }
        );
        assert_eq!(attrs.to_string(), "maxmsg 3, msgsize 100, curmsgs 0");
        let opened = MessageQueue::open(&name.0).unwrap();
        assert_eq!(opened.msgsize(), 100);
        assert!(q.is_owner() && !opened.is_owner());
        let st = nix::sys::stat::fstat(q.as_fd()).unwrap();
        assert_eq!(st.st_mode & 0o7777, 0o600);
    }

    #[test]
    fn a_message_larger_than_the_queue_size_is_refused_and_nothing_sent() {
        let name = Name::new("mq-big");
        let q = MessageQueue::create(&name.0, 2, 16).unwrap();
        let big = [b'x'; 17];
        let err = q.send(&big, 0).unwrap_err();
        assert!(matches!(
            err,
            Error::MessageTooLarge {
                size: 17,
                limit: 16
            }
        ));
        assert_eq!(
            err.to_string(),
            "message of 17 bytes is larger than the limit of 16 bytes"
        );
        assert!(matches!(
            q.send_timeout(&big, 0, Duration::ZERO),
            Err(Error::MessageTooLarge { .. })
        ));
        assert_eq!(q.attributes().unwrap().curmsgs, 0);
        q.send(&big[..16], 0).unwrap();
        assert_eq!(q.receive_bytes().unwrap().0.len(), 16, "exactly 16 fits");
    }

    #[test]
    fn a_capacity_above_the_system_limit_names_the_limit() {
        let limits = Limits::read().unwrap();
        let name = Name::new("mq-limit");
        let err = MessageQueue::create(&name.0, limits.msg_max + 1, 16).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(MSG_MAX_FILE), "{text}");
        assert!(
            text.contains(&format!("limit of {}", limits.msg_max)),
            "{text}"
        );
        assert!(matches!(err, Error::Limit { requested, .. } if requested == limits.msg_max + 1));
        assert_eq!(err.exit_code(), 2);

        let err = MessageQueue::create(&name.0, 1, limits.msgsize_max + 1).unwrap_err();
        assert!(err.to_string().contains(MSGSIZE_MAX_FILE), "{err}");
        assert!(!MessageQueue::exists(&name.0).unwrap(), "nothing created");

        for (capacity, size) in [(0, 16), (1, 0)] {
            assert!(matches!(
                MessageQueue::create(&name.0, capacity, size),
                Err(Error::InvalidArgument(_))
            ));
        }
    }

    #[test]
    fn timed_calls_time_out_after_the_bound() {
        let name = Name::new("mq-timed");
        let q = MessageQueue::create(&name.0, 1, 8).unwrap();
        let mut buf = [0_u8; 8];
        let start = Instant::now();
        assert!(matches!(
            q.receive_timeout(&mut buf, Duration::from_millis(100)),
            Err(Error::Timeout)
        ));
        assert!(start.elapsed() >= Duration::from_millis(90));
        q.send_timeout(b"one", 3, Duration::ZERO).unwrap();
        let start = Instant::now();
        assert!(matches!(
            q.send_timeout(b"two", 3, Duration::from_millis(100)),
            Err(Error::Timeout)
        ));
        assert!(start.elapsed() >= Duration::from_millis(90));
        assert_eq!(
            q.attributes().unwrap().curmsgs,
            1,
            "the second was not sent"
        );
        let (len, prio) = q.receive_timeout(&mut buf, Duration::ZERO).unwrap();
        assert_eq!((&buf[..len], prio), (&b"one"[..], 3));
    }

    #[test]
    fn the_creator_unlinks_unless_told_to_keep() {
        let name = Name::new("mq-own");
        let q = MessageQueue::create(&name.0, 2, 8).unwrap();
        drop(MessageQueue::open(&name.0).unwrap());
        assert!(
            MessageQueue::exists(&name.0).unwrap(),
            "only the creator unlinks"
        );
        drop(q);
        assert!(!MessageQueue::exists(&name.0).unwrap());

        let mut kept = MessageQueue::create(&name.0, 2, 8).unwrap();
        kept.send(b"waits", 0).unwrap();
        kept.keep();
        drop(kept);
        let later = MessageQueue::open(&name.0).unwrap();
        assert_eq!(text(&later), ("waits".to_string(), 0));
        let mut again = MessageQueue::open(&name.0).unwrap();
        again.remove().unwrap();
        assert!(!MessageQueue::exists(&name.0).unwrap());
        assert!(again.remove().unwrap_err().is_not_found());
    }

    #[test]
    fn create_or_open_and_the_errors_of_open() {
        let name = Name::new("mq-open");
        assert!(MessageQueue::open(&name.0).unwrap_err().is_not_found());
        assert_eq!(
            MessageQueue::open(&name.0).unwrap_err().to_string(),
            format!("mq_open /{}: No such file or directory", name.0)
        );
        let first = MessageQueue::create_or_open(&name.0, 2, 8).unwrap();
        assert!(first.is_owner());
        let second = MessageQueue::create_or_open(&name.0, 5, 50).unwrap();
        assert!(!second.is_owner());
        assert_eq!(second.attributes().unwrap().maxmsg, 2, "the existing one");
        let err = MessageQueue::create(&name.0, 2, 8).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EEXIST));
    }

    #[test]
    fn bad_buffers_and_priorities_are_refused() {
        let name = Name::new("mq-bad");
        let q = MessageQueue::create(&name.0, 2, 8).unwrap();
        let mut small = [0_u8; 7];
        assert!(matches!(
            q.receive(&mut small),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            q.send(b"x", MAX_PRIORITY + 1),
            Err(Error::InvalidArgument(_))
        ));
        q.send(b"x", MAX_PRIORITY).unwrap();
        assert_eq!(q.receive_bytes().unwrap().1, MAX_PRIORITY);
    }
}
