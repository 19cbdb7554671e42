//! How each message is processed once, although a server that goes away
//! may make the sender send it again or the stream hand it out again: an
//! id per message for the sender ([`batch_id`]), and the receiver's
//! [`Inbox`], which skips a message processed already and acknowledges
//! each one it processes.

use std::time::Duration;

use ipc_net::printable::escaped_bytes;
use ipc_net::{Connection, Delivery, Result, Subscription, WorkQueue, WorkReceiver};

use crate::options::{Channel, Mode, RECEIVERS};

/// A name for this sender's messages, unique across machines and runs:
/// message `k` is stored under the id `BATCH-k`, so the stream stores it
/// once even if a lost confirmation makes the sender try again.
pub fn batch_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// The receiver's inbox: the shared consumer of the stream, or its place
/// in the queue group.
#[derive(Debug)]
pub enum Inbox<'c> {
    /// The shared consumer of the stream (boxed: a consumer carries its
    /// whole configuration).
    Stored(Box<WorkReceiver<'c>>),
    /// The place in the queue group of core NATS.
    Core(Subscription<'c>),
}

impl<'c> Inbox<'c> {
    /// Joins the receivers of `channel`: the stream's shared consumer
    /// (made when missing), or the queue group.
    ///
    /// # Errors
    /// A failed subscription or stream operation (naming the server's URL).
    pub fn open(nc: &'c Connection, channel: &Channel) -> Result<Self> {
        Ok(match channel.mode {
            Mode::Stored { replicas } => {
                let queue = WorkQueue::open(nc, &channel.subject, replicas)?;
                Inbox::Stored(Box::new(queue.receiver(RECEIVERS)?))
            }
            Mode::Core => Inbox::Core(nc.queue_subscribe(&channel.subject, RECEIVERS)?),
        })
    }

    /// The next message's text within `timeout`, and what acknowledges it.
    /// The text is a peer's (any NATS client may publish on the subject):
    /// its control characters come escaped, ready to print.
    ///
    /// # Errors
    /// A lost connection; `Interrupted`.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<(String, Option<Delivery>)>> {
        match self {
            Inbox::Stored(receiver) => loop {
                let Some(delivery) = receiver.next(timeout)? else {
                    return Ok(None);
                };
                if delivery.already_processed() {
                    // Its acknowledgement was lost (a server went away):
                    // processed once already, so only acknowledge it.
                    ipc_cli::say_err!(
                        "receiver: message {} was delivered again; processed already, skipped",
                        delivery.sequence()
                    );
                    receiver.ack(&delivery)?;
                    continue;
                }
                let text = escaped_bytes(delivery.payload());
                return Ok(Some((text, Some(delivery))));
            },
            Inbox::Core(subscription) => Ok(subscription
                .next_within(timeout)?
                .map(|message| (escaped_bytes(message.payload()), None))),
        }
    }

    /// Marks a message as processed: a stored one leaves the stream.
    ///
    /// # Errors
    /// A lost connection; `Interrupted`.
    pub fn done(&mut self, delivery: Option<Delivery>) -> Result<()> {
        if let (Inbox::Stored(receiver), Some(delivery)) = (self, delivery)
            && !receiver.ack(&delivery)?
        {
            ipc_cli::say_err!(
                "receiver: the acknowledgement of message {} was not confirmed; \
                 if it comes again, it is skipped",
                delivery.sequence()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_differ() {
        assert_ne!(batch_id(), batch_id());
    }
}
