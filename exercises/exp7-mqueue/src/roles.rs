//! The roles, one step per run, for two terminals: `send` (leaves the
//! queue in place), `receive`, `attrs`, `unlink`.

use ipc_cli::say;
use ipc_core::mqueue::MessageQueue;
use ipc_core::{Error, IpcName, Result, signal};

use crate::size::{Size, print_attributes, print_limits};
use crate::{NAME, receiver, sender};

/// The queue the roles use without `--name`: `/ipc-lab-exp7-mqueue`.
///
/// # Errors
/// None in practice: [`NAME`] is a valid name.
pub fn default_name() -> Result<IpcName> {
    IpcName::new(NAME)
}

/// The `send` role: opens the queue `name`, creating it with `size` if it
/// is missing, sends `messages` ([`crate::MESSAGES`], or `--messages`)
/// and exits **without unlinking it**.
///
/// # Errors
/// As [`MessageQueue::create_or_open`] and [`sender`].
pub fn send(name: &IpcName, size: Size, messages: &[(&str, u32)]) -> Result<()> {
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
    interruptible("Sender", || sender(&queue, messages))?;
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
