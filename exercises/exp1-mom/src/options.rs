//! What exp1-mom's roles are told: where the messages go ([`Channel`]:
//! a subject, stored or core) and what a receiver does ([`Receive`]: when
//! it stops, its name, how long it waits), with their defaults.

use std::time::Duration;

use ipc_net::{Connection, Error, Subject};

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

impl Receive {
    /// The receiver's name in its lines: `Receiver`, or `Receiver 2` when
    /// it has a number.
    pub fn name(&self) -> String {
        match self.id {
            Some(id) => format!("Receiver {id}"),
            None => "Receiver".to_owned(),
        }
    }

    /// The error of a receiver on `channel` through `nc` whose timeout
    /// passed before its message (or the sender's end notice) came.
    pub fn timed_out(&self, nc: &Connection, channel: &Channel) -> Error {
        Error::Timeout {
            url: nc.urls().to_string(),
            what: match self.until {
                Until::Count(_) => format!("no message arrived on {}", channel.subject),
                Until::End => format!(
                    "the sender's end notice did not arrive on {}",
                    channel.end_subject()
                ),
            },
            after: self.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_notice_has_a_subject_of_its_own() {
        let channel = Channel {
            subject: DEFAULT_SUBJECT.parse().unwrap(),
            mode: Mode::Core,
        };
        assert_eq!(channel.end_subject().as_str(), "ipc-lab.exp1-mom.end");
    }

    #[test]
    fn a_receiver_with_a_number_says_it() {
        let mut how = Receive {
            until: Until::End,
            id: None,
            timeout: DEFAULT_TIMEOUT,
        };
        assert_eq!(how.name(), "Receiver");
        how.id = Some(2);
        assert_eq!(how.name(), "Receiver 2");
    }
}
