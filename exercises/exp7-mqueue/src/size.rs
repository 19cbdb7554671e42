//! The size of a queue (`--capacity`, `--msgsize`), and the checks that
//! keep a run from waiting for ever or from asking the kernel for more
//! than its limits allow.

use ipc_cli::say;
use ipc_core::Result;
use ipc_core::mqueue::{Limits, MSG_MAX_FILE, MSGSIZE_MAX_FILE, MessageQueue};

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

impl Size {
    /// The default run's rule across `--capacity`, `--msgsize` and
    /// `--messages`, which `main` checks once, before the run: the
    /// sender's `messages` ([`crate::MESSAGES`], or `--messages`) must all
    /// wait in the queue (the parent receives only after the sender has
    /// exited, so a smaller queue would make the sender wait for room for
    /// ever), and the longest must fit the message size. (A capacity of 0,
    /// and sizes above the system's limits, are refused when the queue is
    /// created.)
    ///
    /// # Errors
    /// The rule in words, naming the size needed.
    pub fn holds_every_message(self, messages: &[(&str, u32)]) -> std::result::Result<(), String> {
        if (1..messages.len()).contains(&self.capacity) {
            return Err(format!(
                "the default run needs --capacity {n} or more: the sender's {n} messages wait \
                 in the queue until it has exited (the send and receive roles show a full queue)",
                n = messages.len()
            ));
        }
        let longest = messages.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        if (1..longest).contains(&self.msgsize) {
            return Err(format!(
                "--msgsize {} is too small for the longest message ({longest} bytes)",
                self.msgsize
            ));
        }
        Ok(())
    }
}

/// Prints the queue's attributes (`mq_getattr(3)`).
///
/// # Errors
/// As [`MessageQueue::attributes`].
pub fn print_attributes(queue: &MessageQueue) -> Result<()> {
    say!("Attributes: {}", queue.attributes()?)?;
    Ok(())
}

/// Prints the system's limits on a queue's size, and the files that set
/// them.
///
/// # Errors
/// As [`Limits::read`].
pub fn print_limits() -> Result<()> {
    let limits = Limits::read()?;
    say!(
        "System limits: msg_max {} ({MSG_MAX_FILE}), msgsize_max {} ({MSGSIZE_MAX_FILE})",
        limits.msg_max,
        limits.msgsize_max
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MESSAGES;

    #[test]
    fn the_default_size_holds_every_message() {
        assert!(MESSAGES.len() <= DEFAULT_CAPACITY);
        assert!(MESSAGES.iter().all(|(m, _)| m.len() <= DEFAULT_MSGSIZE));
        assert!(Size::default().holds_every_message(&MESSAGES).is_ok());
        let small = Size {
            capacity: MESSAGES.len() - 1,
            ..Size::default()
        };
        let rule = small.holds_every_message(&MESSAGES).unwrap_err();
        assert!(rule.contains("needs --capacity 4 or more"), "{rule}");
        let narrow = Size {
            msgsize: 5,
            ..Size::default()
        };
        let rule = narrow.holds_every_message(&MESSAGES).unwrap_err();
        assert!(rule.contains("longest message (6 bytes)"), "{rule}");
    }
}
