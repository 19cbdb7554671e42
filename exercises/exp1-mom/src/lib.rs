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
//! Beside the sender and the receiver: the channel and the receiver's
//! options in [`options`]; how each message is processed once (ids, the
//! receiver's inbox) in [`delivery`]; the option to send another text
//! (`--message`) in [`extras`]; the roles, their flags and command lines,
//! and the run that starts them ([`roles::run_ipc`]) in [`roles`].

pub mod delivery;
pub mod extras;
pub mod options;
pub mod roles;

use std::time::Duration;

use delivery::Inbox;
use ipc_cli::say;
use ipc_core::{Deadline, pace};
use ipc_net::{Connection, Result, RunId, WorkQueue, announce_ready};
pub use options::{Channel, DEFAULT_SUBJECT, DEFAULT_TIMEOUT, Mode, RECEIVERS, Receive, Until};

/// The message the sender sends.
pub const MESSAGE: &str = "Hello, introduction to distributed computing";

/// How long the sender waits before sending (`--fast` divides it by 1000).
pub const DELAY: Duration = Duration::from_secs(2);

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
    let batch = delivery::batch_id();
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
    let mut inbox = Inbox::open(nc, channel)?;
    let mut end = match how.until {
        Until::End => Some(nc.subscribe(&channel.end_subject())?),
        Until::Count(_) => None,
    };
    announce_ready(nc, run, "receiver")?;

    let name = how.name();
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
            return Err(how.timed_out(nc, channel));
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
}
