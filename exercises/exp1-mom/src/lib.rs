//! Seed 004 through message-oriented middleware: NATS.
//!
//! The sender waits two seconds, then sends "Hello, introduction to
//! distributed computing"; the receiver, started before it, waits for the
//! message and prints it; the run waits for both. The queue between them
//! is no longer a `multiprocessing.Queue` in this machine's memory but a
//! *broker*, `nats-server`, that the two processes reach over TCP, on one
//! machine or on many:
//!
//! * by default the message is **stored** in a JetStream stream, a work
//!   queue: it waits there until a receiver takes it, even if no receiver
//!   runs yet when it is sent (seed 001: a queue "will remain, even if the
//!   process have existed");
//! * with `--core` it goes through plain NATS publish/subscribe, **at most
//!   once**: whoever listens at that moment gets it, and if nobody does,
//!   it is gone.
//!
//! Several receivers form one work queue (a queue group in core NATS, one
//! shared consumer of the stream): each message goes to exactly one.
//!
//! The option to send another text (`--message`) is in [`extras`]; the
//! roles, their flags and command lines, and the run that starts them
//! ([`roles::run_ipc`]) in [`roles`].

pub mod extras;
pub mod roles;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::{Deadline, pace};
use ipc_net::printable::escaped_bytes;
use ipc_net::{Connection, Delivery, Result, RunId, Subject, Subscription};
use ipc_net::{WorkQueue, WorkReceiver, announce_ready};

/// The message the sender sends.
pub const MESSAGE: &str = "Hello, introduction to distributed computing";

/// How long the sender waits before sending (`--fast` divides it by 1000).
pub const DELAY: Duration = Duration::from_secs(2);

/// The subject the messages travel on unless `--subject` says otherwise.
pub const DEFAULT_SUBJECT: &str = "ipc-lab.exp1-mom";

/// The name the receivers share: their queue group (core NATS) or their
/// durable consumer (a stream).
pub const RECEIVERS: &str = "receivers";

/// How long a receiver waits, in all, unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How messages travel between sender and receivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Stored in a JetStream stream with this many replicas, until a
    /// receiver has taken it.
    Stored {
        /// Copies of the stream on the nodes of a cluster (1 on one server).
        replicas: usize,
    },
    /// Core NATS: at most once, to whoever listens right now.
    Core,
}

/// Where the messages go: a subject, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The subject (`ipc-lab.exp1-mom`).
    pub subject: Subject,
    /// Stored or core.
    pub mode: Mode,
}

impl Channel {
    /// The subject of the sender's end notice: `SUBJECT.end`. Core NATS,
    /// never stored: only receivers that listen when the sender finishes
    /// hear it.
    pub fn end_subject(&self) -> Subject {
        self.subject.child("end")
    }
}

/// The text of message `k` of `count`: the seed's message, with `#k` after
/// it when there are several.
///
/// ```
/// assert_eq!(exp1_mom::message(1, 1), exp1_mom::MESSAGE);
/// assert_eq!(exp1_mom::message(2, 3), format!("{} #2", exp1_mom::MESSAGE));
/// ```
pub fn message(k: u32, count: u32) -> String {
    message_of(MESSAGE, k, count)
}

/// [`message`] with `text` (`--message`, checked by [`extras::message`])
/// in place of the seed's.
///
/// ```
/// assert_eq!(exp1_mom::message_of("Hi", 2, 3), "Hi #2");
/// ```
pub fn message_of(text: &str, k: u32, count: u32) -> String {
    if count == 1 {
        text.to_owned()
    } else {
        format!("{text} #{k}")
    }
}

/// The sender's target: wait, then for each message announce it and send
/// it; finally tell the receivers that it has finished.
///
/// `text` is the message ([`MESSAGE`], or `--message`), numbered when
/// `count` is more than 1; `interval` is the pause between two messages
/// (scaled by `--fast`).
///
/// # Errors
/// A failed connection or publish (naming the server's URL);
/// `Interrupted` on Ctrl-C or SIGTERM.
pub fn sender(
    nc: &Connection,
    channel: &Channel,
    text: &str,
    count: u32,
    interval: Duration,
) -> Result<()> {
    let queue = match channel.mode {
        Mode::Stored { replicas } => Some(WorkQueue::open(nc, &channel.subject, replicas)?),
        Mode::Core => None,
    };
    // Each message gets an id of its own: the stream stores it once even
    // if a lost confirmation makes the sender try again.
    let batch = batch_id();
    pace::sleep(DELAY)?;
    for k in 1..=count {
        if k > 1 {
            pace::sleep(interval)?;
        }
        let message = message_of(text, k, count);
        say!("sender is sending: {message}")?;
        // STUDENT: send `message`: queue.publish(bytes, id) if stored, else nc.publish(…)
        match &queue {
            Some(queue) => {
                queue.publish(message.as_bytes(), &format!("{batch}-{k}"))?;
            }
            None => nc.publish(&channel.subject, message.as_bytes())?,
        }
        // END STUDENT
    }
    // The end notice comes after every message on this connection, so a
    // receiver that hears it has been given its share already.
    nc.publish(&channel.end_subject(), count.to_string().as_bytes())
}

/// A name for this sender's messages, unique across machines and runs.
fn batch_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// When a receiver stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// After this many messages (the seed's receiver: 1).
    Count(u32),
    /// When the sender says it has finished (`--all`): every message it
    /// sent has then been given to one of the receivers.
    End,
}

/// What one receiver does: how long, which name, how long it waits.
#[derive(Debug, Clone, Copy)]
pub struct Receive {
    /// When it stops.
    pub until: Until,
    /// Its number among several receivers (`Receiver 2 received: …`).
    pub id: Option<u32>,
    /// How long it waits in all before it gives up.
    pub timeout: Duration,
}

/// The receiver's inbox: the shared consumer of the stream, or its place
/// in the queue group.
enum Inbox<'c> {
    // Boxed: a consumer carries its whole configuration.
    Stored(Box<WorkReceiver<'c>>),
    Core(Subscription<'c>),
}

impl Inbox<'_> {
    /// The next message's text within `timeout`, and what acknowledges it.
    /// The text is a peer's (any NATS client may publish on the subject):
    /// its control characters come escaped, ready to print.
    fn next(&mut self, timeout: Duration) -> Result<Option<(String, Option<Delivery>)>> {
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
    fn done(&mut self, delivery: Option<Delivery>) -> Result<()> {
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

/// How long a receiver that heard the end notice still looks for
/// messages of the stream not yet handed out.
const DRAIN: Duration = Duration::from_millis(200);

/// The receiver's target: wait for messages, print each one.
///
/// In a run (`run`), it tells the run when it listens, so that the sender
/// is started only then.
///
/// # Errors
/// [`ipc_net::Error::Timeout`] when nothing (or not the end notice) came
/// within the timeout; a lost connection; `Interrupted`.
pub fn receiver(
    nc: &Connection,
    channel: &Channel,
    how: Receive,
    run: Option<&RunId>,
) -> Result<()> {
    let mut inbox = match channel.mode {
        Mode::Stored { replicas } => {
            let queue = WorkQueue::open(nc, &channel.subject, replicas)?;
            Inbox::Stored(Box::new(queue.receiver(RECEIVERS)?))
        }
        Mode::Core => Inbox::Core(nc.queue_subscribe(&channel.subject, RECEIVERS)?),
    };
    let mut end = match how.until {
        Until::End => Some(nc.subscribe(&channel.end_subject())?),
        Until::Count(_) => None,
    };
    announce_ready(nc, run, "receiver")?;

    let name = match how.id {
        Some(id) => format!("Receiver {id}"),
        None => "Receiver".to_owned(),
    };
    let deadline = Deadline::after(how.timeout);
    let mut received = 0;
    let mut ended = false;
    loop {
        if let Until::Count(count) = how.until
            && received >= count
        {
            return Ok(());
        }
        let left = deadline.left_or(how.timeout);
        let wait = match (&end, ended) {
            (_, true) => DRAIN,
            (Some(_), false) => left.min(Duration::from_millis(100)),
            (None, _) => left,
        };
        match inbox.next(wait)? {
            Some((message, delivery)) => {
                // STUDENT: print `{name} received: …`, acknowledge it (inbox.done), count it
                say!("{name} received: {message}")?;
                inbox.done(delivery)?;
                received += 1;
                // END STUDENT
            }
            // Everything sent before the end notice has been handed out.
            None if ended => return Ok(()),
            None => {}
        }
        if let Some(end) = &mut end
            && !ended
            && end.try_next().is_some()
        {
            // Messages of core NATS that came before the notice are in the
            // inbox already; a stream may still hand some out.
            ended = true;
        }
        if !ended && deadline.has_passed() {
            return Err(ipc_net::Error::Timeout {
                url: nc.urls().to_string(),
                what: match how.until {
                    Until::Count(_) => format!("no message arrived on {}", channel.subject),
                    Until::End => format!(
                        "the sender's end notice did not arrive on {}",
                        channel.end_subject()
                    ),
                },
                after: how.timeout,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_numbered_only_when_there_are_several() {
        assert_eq!(
            message(1, 1),
            "Hello, introduction to distributed computing"
        );
        assert_eq!(
            message(3, 10),
            "Hello, introduction to distributed computing #3"
        );
    }

    #[test]
    fn the_end_notice_has_a_subject_of_its_own() {
        let channel = Channel {
            subject: DEFAULT_SUBJECT.parse().unwrap(),
            mode: Mode::Core,
        };
        assert_eq!(channel.end_subject().as_str(), "ipc-lab.exp1-mom.end");
    }

    #[test]
    fn batch_ids_differ() {
        assert_ne!(batch_id(), batch_id());
    }
}
