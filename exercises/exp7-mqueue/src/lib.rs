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
//! This file is that run. The roles (`send`, `receive`, `attrs`,
//! `unlink`), which do the same one step at a time from separate runs of
//! the program, are in [`roles`]; the queue's size and its checks in
//! [`size`]; other messages to send (`--messages`) in [`messages`].

pub mod messages;
pub mod roles;
pub mod size;

use ipc_cli::say;
use ipc_core::mqueue::MessageQueue;
use ipc_core::{Error, IpcName, Process, Result, join_all_ok};

pub use roles::{attrs, default_name, receive, send, unlink};
pub use size::{DEFAULT_CAPACITY, DEFAULT_MSGSIZE, Size};

/// The messages the sender sends, in this order, with their priorities:
/// seed 000's pipe messages, and an urgent one sent last.
pub const MESSAGES: [(&str, u32); 4] = [("First", 1), ("second", 5), ("third?", 1), ("urgent", 9)];

/// The queue's name in the roles without `--name`.
pub const NAME: &str = "exp7-mqueue";

/// The sender: sends `messages` ([`MESSAGES`], or `--messages`) with
/// their priorities, printing each. When the queue is full it says so and
/// waits for a receiver to make room.
///
/// # Errors
/// As [`MessageQueue::send`].
pub fn sender(queue: &MessageQueue, messages: &[(&str, u32)]) -> Result<()> {
    // STUDENT: send each of `messages` with its priority (a full queue: say so, then wait in `send`)
    for &(message, priority) in messages {
        match queue.try_send(message.as_bytes(), priority) {
            Err(Error::WouldBlock) => {
                say_full(queue)?;
                queue.send(message.as_bytes(), priority)?;
            }
            other => other?,
        }
        say!("Sent the message: {message} (priority {priority})")?;
    }
    // END STUDENT
    Ok(())
}

/// Says that `queue` is full and the sender waits for room.
fn say_full(queue: &MessageQueue) -> Result<()> {
    let attributes = queue.attributes()?;
    say!("The queue is full ({attributes}): waiting for a receiver to make room")
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
    // STUDENT: receive and print every message left in `queue` (try_receive) until it would block
    loop {
        match queue.try_receive(&mut buf) {
            Ok((len, priority)) => print_received(&buf[..len], priority)?,
            Err(Error::WouldBlock) => break,
            Err(error) => return Err(error),
        }
    }
    // END STUDENT
    say!("Queue is now empty!")?;
    Ok(())
}

fn print_received(message: &[u8], priority: u32) -> Result<()> {
    say!(
        "Received the message: {} (priority {priority})",
        String::from_utf8_lossy(message)
    )
}

/// The default run, all in one go: creates the queue `name` (a fresh one
/// without it), lets a child process open it by name, send `messages`
/// ([`MESSAGES`], or `--messages`) and exit, shows that the messages are
/// still there, receives them highest priority first and unlinks the
/// queue.
///
/// `size` holds every one of `messages` ([`Size::holds_every_message`],
/// which `main` checks before the run).
///
/// # Errors
/// As [`MessageQueue::create`] ([`Error::Limit`] for a size above the
/// system's limits, exit code 2); [`Error::ChildFailed`] when the sender
/// fails.
pub fn run(name: Option<IpcName>, size: Size, messages: &[(&str, u32)]) -> Result<()> {
    let name = match name {
        Some(name) => name,
        None => IpcName::unique(NAME)?,
    };
    let mut queue = MessageQueue::create(&name, size.capacity, size.msgsize)?;
    say!("Message queue {} created (mode 0600)", name.path())?;
    size::print_limits()?;
    size::print_attributes(&queue)?;

    let mut p1 = Process::spawn("sender", || -> Result<()> {
        let queue = MessageQueue::open(&name)?;
        say!(
            "Sender (pid {}) opened {} by its name",
            std::process::id(),
            name.path()
        )?;
        sender(&queue, messages)
    })?;
    // join_all passes a SIGTERM sent to this process alone on to the
    // sender (a plain join would wait for it regardless).
    join_all_ok(std::slice::from_mut(&mut p1))?;
    say!(
        "Sender (pid {}) has exited; its messages wait in the queue",
        p1.pid()
    )?;
    size::print_attributes(&queue)?;

    say!("Receiving, highest priority first:")?;
    receiver(&queue, false)?;
    queue.remove()?;
    say!("Message queue {} unlinked", name.path())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_priorities_differ_and_are_not_in_order() {
        let mut sorted = MESSAGES;
        sorted.sort_by_key(|&(_, p)| std::cmp::Reverse(p));
        assert_ne!(sorted, MESSAGES, "the receiving order must show something");
    }
}
