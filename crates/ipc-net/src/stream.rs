//! Stored messages: a JetStream work queue.
//!
//! Core NATS delivers a message to whoever listens at the moment it is
//! published, at most once. A JetStream *stream* captures the messages
//! published on its subject and keeps them (here in files, on every
//! replica); a *consumer* hands them out. A [`WorkQueue`] is a stream with
//! work-queue retention and one shared, durable pull consumer: each
//! message is given to exactly one of the receivers pulling from it, and
//! removed once that receiver acknowledged it. A message published while
//! no receiver runs waits in the stream for the first one.
//!
//! ```no_run
//! use std::time::Duration;
//! use ipc_net::{Connection, ServerUrls, Subject, WorkQueue};
//!
//! let nc = Connection::connect(&"nats://127.0.0.1:4222".parse()?)?;
//! let subject: Subject = "ipc-lab.jobs".parse()?;
//! let queue = WorkQueue::open(&nc, &subject, 1)?;
//! queue.publish(b"job 1", "job-1")?;        // stored: no receiver needed
//! let mut receiver = queue.receiver("workers")?;
//! if let Some(job) = receiver.next(Duration::from_secs(5))? {
//!     println!("{}", String::from_utf8_lossy(job.payload()));
//!     receiver.ack(&job)?;                       // done: remove it
//! }
//! # Ok::<(), ipc_net::Error>(())
//! ```

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{Config, RetentionPolicy, StorageType};
use futures_util::StreamExt;

use ipc_core::blocking::{self, Deadline};

use crate::client::Connection;
use crate::error::{Error, Result};
use crate::names::Subject;

/// How long a receiver has to acknowledge a message before the server
/// gives it to a receiver again.
pub const ACK_WAIT: Duration = Duration::from_secs(5);

/// How long a publish keeps trying (through a leader election in a
/// cluster, a reconnection) before it gives up.
pub const PUBLISH_PATIENCE: Duration = Duration::from_secs(20);

/// How long opening a stream (or a bucket) asks again when the server
/// does not answer: a three-node cluster on a busy machine has been seen
/// to leave a request to create a replicated stream unanswered for more
/// than 10 s while it elected the stream's leader.
pub const CREATE_PATIENCE: Duration = Duration::from_secs(30);

/// A stream of stored messages with work-queue retention.
pub struct WorkQueue<'c> {
    connection: &'c Connection,
    js: async_nats::jetstream::Context,
    stream: String,
    subject: Subject,
}

impl fmt::Debug for WorkQueue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkQueue")
            .field("stream", &self.stream)
            .field("subject", &self.subject)
            .finish()
    }
}

impl<'c> WorkQueue<'c> {
    /// Opens the stream that stores the messages of `subject` (named after
    /// it, [`Subject::stream_name`]), creating it with `replicas` copies
    /// (1, or up to the number of nodes of a cluster) when it is missing.
    ///
    /// # Errors
    /// [`Error::Refused`] when the server has no JetStream, cannot place
    /// the replicas, or has a stream of that name with other subjects; as
    /// [`Connection::flush`].
    pub fn open(connection: &'c Connection, subject: &Subject, replicas: usize) -> Result<Self> {
        let js = connection.jetstream()?;
        let stream = subject.stream_name();
        let config = Config {
            name: stream.clone(),
            subjects: vec![subject.to_string()],
            retention: RetentionPolicy::WorkQueue,
            storage: StorageType::File,
            num_replicas: replicas,
            ..Default::default()
        };
        let what = || format!("opening the stream {stream}");
        // A cluster that has just started needs a moment before it can
        // place the replicas (nothing is made until then), and one busy
        // electing the new stream's leader may not answer in time.
        let info = connection
            .retry_unanswered(CREATE_PATIENCE, no_peers_yet, || {
                connection.wait(
                    what,
                    js.get_or_create_stream(config.clone()),
                    Some(connection.options.op_timeout * 2),
                )
            })?
            .map_err(|e| connection.refused(what(), e))?;
        if replicas > 1 {
            wait_for_leader(connection, &js, &stream)?;
        }
        let subjects = &info.cached_info().config.subjects;
        if !subjects.iter().any(|s| s == subject.as_str()) {
            return Err(connection.refused(
                what(),
                format!("that stream stores {subjects:?}, not {subject}"),
            ));
        }
        Ok(WorkQueue {
            connection,
            js,
            stream,
            subject: subject.clone(),
        })
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Stores `payload` in the stream and waits until the server (every
    /// replica's quorum) confirmed it. `id` identifies the message: the
    /// server keeps only the first of messages with the same id (within two
    /// minutes), so a publish that is tried again after a lost
    /// confirmation is never stored twice. Returns the message's sequence
    /// number in the stream.
    ///
    /// # Errors
    /// [`Error::Refused`] when the server refuses it (no such stream any
    /// more); [`Error::Timeout`] after [`PUBLISH_PATIENCE`]; as
    /// [`Connection::flush`].
    pub fn publish(&self, payload: &[u8], id: &str) -> Result<u64> {
        let patience = Deadline::after(PUBLISH_PATIENCE);
        let subject = &self.subject;
        crate::traced::storing(subject.as_str(), id, payload);
        loop {
            let message = PublishMessage::build()
                .payload(payload.to_vec().into())
                .message_id(id);
            let attempt = async {
                self.js
                    .send_publish(subject.to_string(), message)
                    .await?
                    .await
            };
            let outcome = self.connection.wait(
                || format!("storing a message on {subject}"),
                attempt,
                Some(self.connection.options.op_timeout),
            );
            let failure = match outcome {
                Ok(Ok(ack)) => return Ok(ack.sequence),
                Ok(Err(e)) => e.to_string(),
                Err(Error::Timeout { .. }) => "no confirmation".to_owned(),
                Err(e) => return Err(e),
            };
            // No confirmation: a cluster electing a new leader, or a
            // client reconnecting. The id makes trying again safe.
            if patience.has_passed() {
                return Err(self.connection.refused(
                    format!("storing a message on {subject} (stream {})", self.stream),
                    failure,
                ));
            }
            crate::runtime::pause(blocking::POLL_INTERVAL)?;
        }
    }

    /// Joins the durable consumer `durable` (creating it when missing):
    /// every receiver joined to the same consumer shares its messages, each
    /// message going to one of them.
    ///
    /// # Errors
    /// [`Error::Refused`] when the server refuses the consumer; as
    /// [`Connection::flush`].
    pub fn receiver(&self, durable: &str) -> Result<WorkReceiver<'c>> {
        let connection = self.connection;
        let what = || format!("joining the consumer {durable} of {}", self.stream);
        let creating = async {
            let stream = self.js.get_stream(&self.stream).await?;
            let config = pull::Config {
                durable_name: Some(durable.to_owned()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                ..Default::default()
            };
            let consumer: PullConsumer = stream.get_or_create_consumer(durable, config).await?;
            Ok::<_, async_nats::Error>(consumer)
        };
        let consumer = connection
            .wait(what, creating, Some(connection.options.op_timeout * 2))?
            .map_err(|e| connection.refused(what(), e))?;
        // A replicated consumer hands nothing out until its replicas have
        // elected a leader: a receiver is ready only then.
        let unled = |info: &async_nats::jetstream::consumer::Info| {
            info.cluster.as_ref().is_some_and(|c| c.leader.is_none())
        };
        if unled(consumer.cached_info()) {
            wait_until_led(connection, &format!("the consumer {durable}"), || {
                let mut consumer = consumer.clone();
                async move { Ok(!unled(consumer.info().await?)) }
            })?;
        }
        Ok(WorkReceiver {
            connection,
            consumer,
            subject: self.subject.clone(),
            seen: HashSet::new(),
        })
    }

    /// The name of the server that leads the stream (its replicas follow),
    /// if the server says.
    ///
    /// # Errors
    /// As [`WorkQueue::open`].
    pub fn leader(&self) -> Result<Option<String>> {
        let what = || format!("asking for the leader of {}", self.stream);
        let asking = async {
            let mut stream = self.js.get_stream(&self.stream).await?;
            let info = stream.info().await?;
            Ok::<_, async_nats::Error>(info.cluster.as_ref().and_then(|c| c.leader.clone()))
        };
        self.connection
            .wait(what, asking, Some(self.connection.options.op_timeout))?
            .map_err(|e| self.connection.refused(what(), e))
    }

    /// How many messages the stream holds now (stored, not yet
    /// acknowledged).
    ///
    /// # Errors
    /// As [`WorkQueue::open`].
    pub fn len(&self) -> Result<u64> {
        let what = || format!("asking for the size of {}", self.stream);
        let asking = async {
            let mut stream = self.js.get_stream(&self.stream).await?;
            let info = stream.info().await?;
            Ok::<_, async_nats::Error>(info.state.messages)
        };
        self.connection
            .wait(what, asking, Some(self.connection.options.op_timeout))?
            .map_err(|e| self.connection.refused(what(), e))
    }

    /// True when the stream holds no message.
    ///
    /// # Errors
    /// As [`WorkQueue::len`].
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// True when `error` (or one of its causes) is JetStream's "no suitable
/// peers for placement" (10005).
pub(crate) fn no_peers_yet(error: &(dyn std::error::Error + 'static)) -> bool {
    use async_nats::jetstream::context::{CreateStreamError, CreateStreamErrorKind};
    use async_nats::jetstream::{Error as JetStreamError, ErrorCode};
    let mut cause = Some(error);
    while let Some(e) = cause {
        let code = e
            .downcast_ref::<JetStreamError>()
            .map(JetStreamError::error_code)
            .or_else(|| match e.downcast_ref::<CreateStreamError>()?.kind() {
                CreateStreamErrorKind::JetStream(js) => Some(js.error_code()),
                _ => None,
            });
        if code == Some(ErrorCode::CLUSTER_NO_PEERS) {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Waits (up to [`CREATE_PATIENCE`]) until the replicated
/// stream `stream` has elected its leader: before, writes may find no
/// stream.
pub(crate) fn wait_for_leader(
    connection: &Connection,
    js: &async_nats::jetstream::Context,
    stream: &str,
) -> Result<()> {
    wait_until_led(connection, &format!("the replicas of {stream}"), || async {
        let info = js.get_stream(stream).await?.info().await?.clone();
        Ok(info.cluster.is_some_and(|c| c.leader.is_some()))
    })
}

/// Waits (up to [`CREATE_PATIENCE`]) until `has_leader`
/// says that the replicated object `what` (a stream, a consumer) has
/// elected its leader; asks again every 50 ms, an error counting as "not
/// yet".
fn wait_until_led<F: Future<Output = std::result::Result<bool, async_nats::Error>>>(
    connection: &Connection,
    what: &str,
    mut has_leader: impl FnMut() -> F,
) -> Result<()> {
    let patience = Deadline::after(CREATE_PATIENCE);
    loop {
        let led = connection.wait(
            || format!("asking for the leader of {what}"),
            has_leader(),
            Some(connection.options.op_timeout),
        )?;
        if let Ok(true) = led {
            return Ok(());
        }
        if patience.has_passed() {
            return Err(connection.refused(format!("waiting for {what}"), "no leader was elected"));
        }
        crate::runtime::pause(blocking::RETRY_INTERVAL)?;
    }
}

/// One receiver of a [`WorkQueue`]'s durable consumer.
pub struct WorkReceiver<'c> {
    connection: &'c Connection,
    consumer: PullConsumer,
    subject: Subject,
    /// Stream sequences this receiver has acknowledged: a message the
    /// server gives again (its acknowledgement was lost) is recognised.
    seen: HashSet<u64>,
}

impl fmt::Debug for WorkReceiver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkReceiver")
            .field("subject", &self.subject)
            .finish()
    }
}

impl WorkReceiver<'_> {
    /// Waits up to `timeout` for the next message, pulling one at a time
    /// (so that the receivers share the work). `None` when none came.
    ///
    /// # Errors
    /// [`Error::Lost`] when the server went away; `Interrupted`;
    /// [`Error::Refused`] when the consumer is gone.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Delivery>> {
        let deadline = Deadline::after(timeout);
        loop {
            if deadline.has_passed() {
                return Ok(None);
            }
            // The server holds a pull request up to `expires`, then says
            // there was nothing: ask in slices, each bounded.
            let expires = deadline
                .left_or(blocking::LONG_POLL)
                .clamp(blocking::POLL_INTERVAL, blocking::LONG_POLL);
            let subject = &self.subject;
            let pulling = async {
                let mut batch = self
                    .consumer
                    .batch()
                    .max_messages(1)
                    .expires(expires)
                    .messages()
                    .await?;
                match batch.next().await {
                    Some(Ok(message)) => Ok(Some(message)),
                    Some(Err(e)) => Err(async_nats::Error::from(e)),
                    None => Ok(None),
                }
            };
            let outcome = self.connection.wait(
                || format!("waiting for a stored message on {subject}"),
                pulling,
                // The server's answer may come late: a long poll more.
                Some(expires + blocking::LONG_POLL),
            );
            match outcome {
                Ok(Ok(Some(message))) => {
                    let info = message.info().map_err(|e| Error::BadMessage {
                        subject: subject.to_string(),
                        reason: e.to_string(),
                    })?;
                    let sequence = info.stream_sequence;
                    let delivered = info.delivered;
                    let again = self.seen.contains(&sequence);
                    crate::traced::delivered(&message);
                    return Ok(Some(Delivery {
                        message,
                        sequence,
                        delivered,
                        already_processed: again,
                    }));
                }
                Ok(Ok(None)) => continue,
                // A pull that fails while the cluster elects a leader or
                // the client reconnects: ask again, within the timeout.
                Ok(Err(_)) | Err(Error::Timeout { .. }) => {
                    crate::runtime::pause(blocking::RETRY_INTERVAL)?;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Acknowledges `delivery` and waits until the server confirmed it (a
    /// "double ack"); remembers it as processed either way. Returns false
    /// when no confirmation came (a cluster electing a new leader): the
    /// server may then hand the message out again, and
    /// [`Delivery::already_processed`] says so when it comes back here.
    ///
    /// # Errors
    /// [`Error::Lost`] when the server went away; `Interrupted`.
    pub fn ack(&mut self, delivery: &Delivery) -> Result<bool> {
        self.seen.insert(delivery.sequence);
        let connection = self.connection;
        let outcome = connection.wait(
            || "acknowledging a stored message".into(),
            delivery.message.double_ack(),
            Some(ACK_WAIT),
        );
        match outcome {
            Ok(Ok(())) => Ok(true),
            Ok(Err(_)) | Err(Error::Timeout { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// A stored message handed to one receiver; acknowledge it with
/// [`WorkReceiver::ack`] once it is processed.
pub struct Delivery {
    message: async_nats::jetstream::Message,
    sequence: u64,
    delivered: i64,
    already_processed: bool,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("sequence", &self.sequence)
            .field("delivered", &self.delivered)
            .finish()
    }
}

impl Delivery {
    /// The message's bytes.
    pub fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    /// Its sequence number in the stream.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// How many times the server has handed it out (more than 1: an
    /// earlier receiver did not acknowledge it in time, or its
    /// acknowledgement was lost).
    pub fn delivered(&self) -> i64 {
        self.delivered
    }

    /// True when this receiver acknowledged the same message before and
    /// the acknowledgement was lost: process it again only if processing
    /// is idempotent.
    pub fn already_processed(&self) -> bool {
        self.already_processed
    }
}
