//! Seed 000 theory, "Message queue": messages with priorities, in a queue
//! that outlives the process that created it.
//!
//! Seed 000 says that a message queue understands *messages* and their
//! *priorities*; seed 001 that "Message Queue will remain, even if the
//! process have existed". This experiment shows both with a POSIX message
//! queue (`mq_overview(7)`): a sender process sends four messages with
//! different priorities and exits; the queue keeps them; a receiver then
//! gets them highest priority first; finally the queue is unlinked.
//!
//! The roles (`send`, `receive`, `attrs`, `unlink`) do the same one step at
//! a time, from separate runs of the program.

use ipc_core::mqueue::{Limits, MSG_MAX_FILE, MSGSIZE_MAX_FILE, MessageQueue};
use ipc_core::{Error, IpcName, Process, Result, join_all_ok, say, signal};

/// The messages the sender sends, in this order, with their priorities:
/// seed 000's pipe messages, and an urgent one sent last.
pub const MESSAGES: [(&str, u32); 4] = [("First", 1), ("second", 5), ("third?", 1), ("urgent", 9)];

/// The queue's name in the roles without `--name`.
pub const NAME: &str = "exp7-mqueue";

/// The capacity (`mq_maxmsg`) of a queue this program creates unless told.
pub const DEFAULT_CAPACITY: usize = 8;

/// The message size (`mq_msgsize`) of a queue this program creates unless
/// told.
pub const DEFAULT_MSGSIZE: usize = 64;

/// The size of a queue to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// How many messages it holds (`mq_maxmsg`).
    pub capacity: usize,
    /// The largest message, in bytes (`mq_msgsize`).
    pub msgsize: usize,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            capacity: DEFAULT_CAPACITY,
            msgsize: DEFAULT_MSGSIZE,
        }
    }
}

/// The queue the roles use without `--name`: `/ipc-lab-exp7-mqueue`.
///
/// # Errors
/// None in practice: [`NAME`] is a valid name.
pub fn default_name() -> Result<IpcName> {
    IpcName::new(NAME)
}

/// The sender: sends [`MESSAGES`] with their priorities, printing each.
/// When the queue is full it says so and waits for a receiver to make room.
///
/// # Errors
/// As [`MessageQueue::send`].
pub fn sender(queue: &MessageQueue) -> Result<()> {
    for (message, priority) in MESSAGES {
        match queue.try_send(message.as_bytes(), priority) {
            Err(Error::WouldBlock) => {
                say!(
                    "The queue is full ({}): waiting for a receiver to make room",
                    queue.attributes()?
                )?;
                queue.send(message.as_bytes(), priority)?;
            }
            other => other?,
        }
        say!("Sent the message: {message} (priority {priority})")?;
    }
    Ok(())
}

/// The receiver: receives every message in the queue, highest priority
/// first, printing each with its priority, then `Queue is now empty!`.
/// With `wait`, an empty queue is first waited on for a message.
///
/// # Errors
/// As [`MessageQueue::receive`].
pub fn receiver(queue: &MessageQueue, wait: bool) -> Result<()> {
    let mut buf = vec![0; queue.msgsize()];
    if wait && queue.attributes()?.curmsgs == 0 {
        say!("The queue is empty: waiting for a sender")?;
        let (len, priority) = queue.receive(&mut buf)?;
        print_received(&buf[..len], priority)?;
    }
    loop {
        match queue.try_receive(&mut buf) {
            Ok((len, priority)) => print_received(&buf[..len], priority)?,
            Err(Error::WouldBlock) => break,
            Err(error) => return Err(error),
        }
    }
    say!("Queue is now empty!")?;
    Ok(())
}

fn print_received(message: &[u8], priority: u32) -> Result<()> {
    say!(
        "Received the message: {} (priority {priority})",
        String::from_utf8_lossy(message)
    )
}

fn print_attributes(queue: &MessageQueue) -> Result<()> {
    say!("Attributes: {}", queue.attributes()?)?;
    Ok(())
}

fn print_limits() -> Result<()> {
    let limits = Limits::read()?;
    say!(
        "System limits: msg_max {} ({MSG_MAX_FILE}), msgsize_max {} ({MSGSIZE_MAX_FILE})",
        limits.msg_max,
        limits.msgsize_max
    )?;
    Ok(())
}

/// The default run, all in one go: creates the queue `name` (a fresh one
/// without it), lets a child process open it by name, send [`MESSAGES`]
/// and exit, shows that the messages are still there, receives them
/// highest priority first and unlinks the queue.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) for a capacity below the
/// number of [`MESSAGES`]; as [`MessageQueue::create`] ([`Error::Limit`]
/// for a size above the system's limits, exit code 2);
/// [`Error::ChildFailed`] when the sender fails.
pub fn run(name: Option<IpcName>, size: Size) -> Result<()> {
    signal::install()?;
    // The parent receives only after the sender has exited: every message
    // must fit in the queue meanwhile, or the sender waits for ever.
    if (1..MESSAGES.len()).contains(&size.capacity) {
        return Err(Error::InvalidArgument(format!(
            "the default run needs --capacity {n} or more: the sender's {n} messages wait in \
             the queue until it has exited (the send and receive roles show a full queue)",
            n = MESSAGES.len()
        )));
    }
    let name = match name {
        Some(name) => name,
        None => IpcName::unique(NAME)?,
    };
    let mut queue = MessageQueue::create(&name, size.capacity, size.msgsize)?;
    say!("Message queue {} created (mode 0600)", name.path())?;
    print_limits()?;
    print_attributes(&queue)?;

    let mut p1 = Process::spawn("sender", || -> Result<()> {
        let queue = MessageQueue::open(&name)?;
        say!(
            "Sender (pid {}) opened {} by its name",
            std::process::id(),
            name.path()
        )?;
        sender(&queue)
    })?;
    // join_all passes a SIGTERM sent to this process alone on to the
    // sender (a plain join would wait for it regardless).
    join_all_ok(std::slice::from_mut(&mut p1))?;
    say!(
        "Sender (pid {}) has exited; its messages wait in the queue",
        p1.pid()
    )?;
    print_attributes(&queue)?;

    say!("Receiving, highest priority first:")?;
    receiver(&queue, false)?;
    queue.remove()?;
    say!("Message queue {} unlinked", name.path())?;
    Ok(())
}

/// The `send` role: opens the queue `name`, creating it with `size` if it
/// is missing, sends [`MESSAGES`] and exits **without unlinking it**.
///
/// # Errors
/// As [`MessageQueue::create_or_open`] and [`sender`].
pub fn send(name: &IpcName, size: Size) -> Result<()> {
    signal::install()?;
    let mut queue = MessageQueue::create_or_open(name, size.capacity, size.msgsize)?;
    let created = queue.is_owner();
    // The queue must outlive this process: that is the point.
    queue.keep();
    if created {
        say!("Message queue {} created (mode 0600)", name.path())?;
    } else {
        say!("Using the existing message queue {}", name.path())?;
    }
    print_attributes(&queue)?;
    interruptible("Sender", || sender(&queue))?;
    say!(
        "Sender (pid {}) exits without unlinking the queue: {} messages wait in {}",
        std::process::id(),
        queue.attributes()?.curmsgs,
        name.path()
    )?;
    Ok(())
}

/// The `receive` role: opens the existing queue `name` and receives every
/// message in it, highest priority first (see [`receiver`]). The queue
/// stays, empty, until the `unlink` role.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) when there is no such queue;
/// as [`receiver`].
pub fn receive(name: &IpcName, wait: bool) -> Result<()> {
    signal::install()?;
    let queue = open_existing(name)?;
    say!(
        "Receiving from {}, highest priority first ({}):",
        name.path(),
        queue.attributes()?
    )?;
    interruptible("Receiver", || receiver(&queue, wait))
}

/// The `attrs` role: prints the attributes of the existing queue `name`
/// (`mq_getattr(3)`) and the system's limits.
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) when there is no such queue.
pub fn attrs(name: &IpcName) -> Result<()> {
    let queue = open_existing(name)?;
    say!("Message queue {}: {}", name.path(), queue.attributes()?)?;
    print_limits()
}

/// The `unlink` role: removes the queue `name` and the messages in it
/// (`mq_unlink(3)`).
///
/// # Errors
/// [`Error::InvalidArgument`] (exit code 2) when there is no such queue.
pub fn unlink(name: &IpcName) -> Result<()> {
    open_existing(name)?.remove()?;
    say!("Message queue {} unlinked", name.path())?;
    Ok(())
}

fn open_existing(name: &IpcName) -> Result<MessageQueue> {
    MessageQueue::open(name).map_err(|error| missing(name, error))
}

/// A missing queue is bad input (exit code 2), as `exp4-counter --attach`
/// of a missing segment.
fn missing(name: &IpcName, error: Error) -> Error {
    if error.is_not_found() {
        Error::InvalidArgument(format!(
            "--name {name}: {error} (no such queue: run `exp7-mqueue send` first)"
        ))
    } else {
        error
    }
}

/// Runs a blocking step, turning SIGINT/SIGTERM into a last line and a
/// normal end.
fn interruptible(who: &str, step: impl FnOnce() -> Result<()>) -> Result<()> {
    signal::end_on_interrupt(step(), |by| say!("{who}: interrupted by {by}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_priorities_differ_and_are_not_in_order() {
        let mut sorted = MESSAGES;
        sorted.sort_by_key(|&(_, p)| std::cmp::Reverse(p));
        assert_ne!(sorted, MESSAGES, "the receiving order must show something");
        assert!(MESSAGES.len() <= DEFAULT_CAPACITY);
        assert!(MESSAGES.iter().all(|(m, _)| m.len() <= DEFAULT_MSGSIZE));
    }

    #[test]
    fn the_default_name_carries_the_prefix() {
        assert_eq!(default_name().unwrap().path(), "/ipc-lab-exp7-mqueue");
    }

    #[test]
    fn a_missing_queue_is_bad_input() {
        let name = IpcName::unique("exp7-mqueue-missing").unwrap();
        let err = attrs(&name).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("No such file or directory"),
            "{err}"
        );
    }
}
