//! A blocking NATS connection: publish, subscribe, request–reply.
//!
//! ```no_run
//! use std::time::Duration;
//! use ipc_net::{Connection, ServerUrls, Subject};
//!
//! let urls: ServerUrls = "nats://127.0.0.1:4222".parse()?;
//! let subject: Subject = "ipc-lab.demo".parse()?;
//! let nc = Connection::connect(&urls)?;
//! let mut sub = nc.subscribe(&subject)?;
//! nc.publish(&subject, b"hello")?;
//! let message = sub.next(Duration::from_secs(5))?;
//! assert_eq!(message.payload(), b"hello");
//! # Ok::<(), ipc_net::Error>(())
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_nats::{Client, RequestErrorKind};
use futures_util::{FutureExt, StreamExt};

use futures_util::future::Either;

use ipc_core::blocking::{self, Deadline};

use crate::error::{Error, Result};
use crate::names::{ServerUrls, Subject};
use crate::runtime::{self, Stop, Watch};
use crate::traced;

/// How a connection is made and how long its operations may take.
#[derive(Debug, Clone)]
pub struct Options {
    /// The client's name, shown by the server's monitoring (`connz`).
    pub name: String,
    /// How long the first connection may take.
    pub connect_timeout: Duration,
    /// How long the connection may stay down (the client reconnecting, to
    /// the same server or another node of its cluster) before an operation
    /// gives up with [`Error::Lost`].
    pub lost_after: Duration,
    /// How long a flush, a JetStream call or an acknowledgement may take.
    pub op_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "ipc-lab".into(),
            connect_timeout: Duration::from_secs(5),
            lost_after: Duration::from_secs(3),
            op_timeout: Duration::from_secs(5),
        }
    }
}

/// A connection to a NATS server (or to one of the nodes of a cluster).
///
/// Every call blocks until it is done, and every call is bounded: by its
/// timeout, by Ctrl-C or SIGTERM (after `ipc_core::signal::install`), and
/// by the connection staying down longer than [`Options::lost_after`].
/// Errors name the server's URL.
pub struct Connection {
    pub(crate) client: Client,
    pub(crate) urls: ServerUrls,
    pub(crate) options: Options,
    /// Since when the connection has been down, as the client's events
    /// tell (`None` while it is up).
    pub(crate) down_since: Arc<Mutex<Option<Instant>>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("urls", &self.urls)
            .field("state", &self.client.connection_state())
            .finish()
    }
}

impl Connection {
    /// Connects to `urls` with the default [`Options`].
    ///
    /// # Errors
    /// [`Error::Connect`] naming the URL when no server answers in time
    /// (refused, unreachable, not a NATS server); `Interrupted` on a
    /// signal.
    pub fn connect(urls: &ServerUrls) -> Result<Connection> {
        Connection::connect_with(urls, &Options::default())
    }

    /// Connects to `urls` with `options`.
    ///
    /// # Errors
    /// As [`Connection::connect`].
    pub fn connect_with(urls: &ServerUrls, options: &Options) -> Result<Connection> {
        let addrs: Vec<async_nats::ServerAddr> = urls
            .as_slice()
            .iter()
            .map(|url| url.parse())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::invalid("server URL", &urls.to_string(), format!("{e}")))?;
        let down_since = Arc::new(Mutex::new(None));
        let events = Arc::clone(&down_since);
        let connecting = async_nats::ConnectOptions::new()
            .event_callback(move |event| {
                let mut down = events.lock().unwrap_or_else(PoisonError::into_inner);
                match event {
                    async_nats::Event::Disconnected => {
                        down.get_or_insert_with(Instant::now);
                    }
                    async_nats::Event::Connected => *down = None,
                    _ => {}
                }
                std::future::ready(())
            })
            .name(&options.name)
            .connection_timeout(options.connect_timeout)
            // Requests are bounded by our own timeouts.
            .request_timeout(None)
            .connect(addrs);
        // Past its own timeout the client tries the next URL; the bound
        // covers every URL of the list, and a little more.
        let limit = options.connect_timeout * (urls.as_slice().len() as u32) + runtime::SLICE * 4;
        let connect_error = |reason: String| Error::Connect {
            url: urls.to_string(),
            reason,
        };
        match runtime::drive(connecting, Some(limit), None)? {
            Ok(Ok(client)) => Ok(Connection {
                client,
                urls: urls.clone(),
                options: options.clone(),
                down_since,
            }),
            Ok(Err(e)) => Err(connect_error(e.to_string())),
            Err(Stop::Signal) => Err(ipc_core::Error::Interrupted.into()),
            Err(_) => Err(connect_error(format!(
                "no answer within {}",
                crate::error::Seconds(limit)
            ))),
        }
    }

    /// The server URL(s) this connection was made to.
    pub fn urls(&self) -> &ServerUrls {
        &self.urls
    }

    /// The options the connection was made with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Runs `future` on the runtime, bounded by `limit`, signals and this
    /// connection's state; `what` describes the operation for messages
    /// (`waiting for a message on ipc-lab.exp1-mom`).
    pub(crate) fn wait<F: std::future::Future>(
        &self,
        what: impl Fn() -> String,
        future: F,
        limit: Option<Duration>,
    ) -> Result<F::Output> {
        let watch = Watch {
            client: &self.client,
            down_since: &self.down_since,
            grace: self.options.lost_after,
        };
        match runtime::drive(future, limit, Some(watch))? {
            Ok(output) => Ok(output),
            Err(Stop::Signal) => Err(ipc_core::Error::Interrupted.into()),
            Err(Stop::Lost) => Err(Error::Lost {
                url: self.urls.to_string(),
                during: what(),
            }),
            Err(Stop::Deadline) => Err(Error::Timeout {
                url: self.urls.to_string(),
                what: format!("no answer {}", what()),
                after: limit.unwrap_or_default(),
            }),
        }
    }

    /// An error of the server or the client during `what`.
    /// Runs `operation` again, after a short pause, while it fails in a way
    /// `transient` recognises (a cluster still forming, a node that has
    /// not yet heard of a stream), for up to the operation timeout. Only
    /// for operations that did nothing when they failed so.
    pub(crate) fn retry_while<T, E: std::error::Error + 'static>(
        &self,
        transient: fn(&(dyn std::error::Error + 'static)) -> bool,
        mut operation: impl FnMut() -> Result<std::result::Result<T, E>>,
    ) -> Result<std::result::Result<T, E>> {
        let patience = Deadline::after(self.options.op_timeout);
        loop {
            match operation()? {
                Err(e) if transient(&e) && !patience.has_passed() => {
                    runtime::pause(blocking::RETRY_INTERVAL)?;
                }
                outcome => return Ok(outcome),
            }
        }
    }

    /// As [`Connection::retry_while`]; and when `operation` got no answer
    /// at all ([`Error::Timeout`]), asks again, until `patience` has
    /// passed. For requests that may be asked twice (get or create): a
    /// cluster that is electing the leader of what it was asked to make
    /// answers nothing meanwhile, for seconds on a busy machine.
    pub(crate) fn retry_unanswered<T, E: std::error::Error + 'static>(
        &self,
        patience: std::time::Duration,
        transient: fn(&(dyn std::error::Error + 'static)) -> bool,
        mut operation: impl FnMut() -> Result<std::result::Result<T, E>>,
    ) -> Result<std::result::Result<T, E>> {
        let patience = Deadline::after(patience);
        loop {
            match self.retry_while(transient, &mut operation) {
                Err(Error::Timeout { .. }) if !patience.has_passed() => {}
                outcome => return outcome,
            }
        }
    }

    pub(crate) fn refused(&self, what: impl Into<String>, reason: impl fmt::Display) -> Error {
        Error::Refused {
            url: self.urls.to_string(),
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// Publishes `payload` on `subject` (core NATS: at most once, to
    /// whoever listens right now), and waits until the server has it
    /// ([`Connection::flush`]).
    ///
    /// # Errors
    /// [`Error::Lost`] or [`Error::Timeout`] when the server does not
    /// confirm; `Interrupted`.
    pub fn publish(&self, subject: &Subject, payload: &[u8]) -> Result<()> {
        self.publish_queued(subject, payload)?;
        self.flush()
    }

    /// Publishes `payload` on `subject` without waiting for the server: the
    /// message is queued in the client and sent in order with the next
    /// ones. Call [`Connection::flush`] to be sure it left.
    ///
    /// # Errors
    /// As [`Connection::publish`].
    pub fn publish_queued(&self, subject: &Subject, payload: &[u8]) -> Result<()> {
        let publishing = self.publishing(subject.as_str().to_owned(), subject.as_str(), payload);
        self.wait(
            || format!("publishing on {subject}"),
            publishing,
            Some(self.options.op_timeout),
        )?
        .map_err(|e| self.refused(format!("publish on {subject}"), e))
    }

    /// The future that publishes `payload` to `to` (a subject, or a
    /// request's reply inbox), drawn as a send on the subject `traced_as`
    /// when the run is traced, with the headers that carry the message's
    /// id then.
    fn publishing(
        &self,
        to: String,
        traced_as: &str,
        payload: &[u8],
    ) -> impl std::future::Future<Output = std::result::Result<(), async_nats::PublishError>> + '_
    {
        let headers = traced::sending(traced_as, payload);
        let payload = payload.to_vec().into();
        match headers {
            Some(headers) => Either::Left(self.client.publish_with_headers(to, headers, payload)),
            None => Either::Right(self.client.publish(to, payload)),
        }
    }

    /// Waits until the server has received everything published so far
    /// (a PING answered by a PONG).
    ///
    /// # Errors
    /// [`Error::Lost`] or [`Error::Timeout`]; `Interrupted`.
    pub fn flush(&self) -> Result<()> {
        self.wait(
            || "flushing".into(),
            self.client.flush(),
            Some(self.options.op_timeout),
        )?
        .map_err(|e| self.refused("flush", e))
    }

    /// Listens on `subject`: every message published there from now on
    /// arrives at this subscription (and at every other one).
    ///
    /// # Errors
    /// As [`Connection::flush`].
    pub fn subscribe(&self, subject: &Subject) -> Result<Subscription<'_>> {
        let subscribing = self.client.subscribe(subject.as_str().to_owned());
        self.subscribed(subject, subscribing)
    }

    /// Joins the queue group `group` on `subject`: each message published
    /// there goes to ONE member of the group (a work queue of core NATS).
    ///
    /// # Errors
    /// As [`Connection::subscribe`].
    pub fn queue_subscribe(&self, subject: &Subject, group: &str) -> Result<Subscription<'_>> {
        let subscribing = self
            .client
            .queue_subscribe(subject.as_str().to_owned(), group.to_owned());
        self.subscribed(subject, subscribing)
    }

    /// Waits for `subscribing` (a subscription to `subject` being made) and
    /// then for the server to know it: it has answered a PING sent after
    /// it, so a message published after this returns is ours.
    fn subscribed<E: std::fmt::Display>(
        &self,
        subject: &Subject,
        subscribing: impl std::future::Future<Output = std::result::Result<async_nats::Subscriber, E>>,
    ) -> Result<Subscription<'_>> {
        let subscriber = self
            .wait(
                || format!("subscribing to {subject}"),
                subscribing,
                Some(self.options.op_timeout),
            )?
            .map_err(|e| self.refused(format!("subscribe to {subject}"), e))?;
        self.flush()?;
        Ok(Subscription {
            connection: self,
            subject: subject.clone(),
            subscriber,
        })
    }

    /// Sends `payload` as a request on `subject` and waits up to `timeout`
    /// for the first reply.
    ///
    /// # Errors
    /// [`Error::NoResponders`] at once when nobody listens on `subject`
    /// (the server says so), or when nobody answered within `timeout`;
    /// [`Error::Lost`]; `Interrupted`.
    pub fn request(&self, subject: &Subject, payload: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        let name = subject.as_str().to_owned();
        let requesting = match traced::sending(&name, payload) {
            Some(headers) => Either::Left(self.client.request_with_headers(
                name,
                headers,
                payload.to_vec().into(),
            )),
            None => Either::Right(self.client.request(name, payload.to_vec().into())),
        };
        let started = Instant::now();
        let no_responders = || Error::NoResponders {
            url: self.urls.to_string(),
            subject: subject.to_string(),
            waited: started.elapsed(),
        };
        match self.wait(
            || format!("waiting for a reply on {subject}"),
            requesting,
            Some(timeout),
        ) {
            Ok(Ok(reply)) => {
                traced::received(subject.as_str(), reply.headers.as_ref(), &reply.payload);
                Ok(reply.payload.to_vec())
            }
            Ok(Err(e)) => match e.kind() {
                RequestErrorKind::NoResponders | RequestErrorKind::TimedOut => Err(no_responders()),
                _ => Err(self.refused(format!("request on {subject}"), e)),
            },
            Err(Error::Timeout { .. }) => Err(Error::NoResponders {
                url: self.urls.to_string(),
                subject: subject.to_string(),
                waited: timeout,
            }),
            Err(e) => Err(e),
        }
    }

    /// As [`Connection::request`], but when nobody listens yet it asks
    /// again (every [`blocking::POLL_INTERVAL`]) until `timeout` has passed: a client started a
    /// moment before its server still gets an answer.
    ///
    /// # Errors
    /// As [`Connection::request`], [`Error::NoResponders`] after `timeout`.
    pub fn request_patiently(
        &self,
        subject: &Subject,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        let deadline = Deadline::after(timeout);
        loop {
            match self.request(subject, payload, deadline.left_or(timeout)) {
                Err(Error::NoResponders { url, subject, .. }) => {
                    if deadline.has_passed() {
                        return Err(Error::NoResponders {
                            url,
                            subject,
                            waited: timeout,
                        });
                    }
                    runtime::pause(deadline.slice())?;
                }
                other => return other,
            }
        }
    }

    /// The JetStream context of this connection (streams, key-value).
    pub(crate) fn jetstream(&self) -> Result<async_nats::jetstream::Context> {
        // The context starts a task of its own: inside the runtime.
        let _inside = runtime::runtime()?.enter();
        Ok(async_nats::jetstream::new(self.client.clone()))
    }

    /// The name the server gives itself (`ipc-lab-n1` in the cluster of
    /// `scripts/nats-cluster.sh`), as it told this client when it
    /// connected.
    pub fn server_name(&self) -> String {
        self.client.server_info().server_name
    }
}

/// Messages arriving on a subject (see [`Connection::subscribe`]).
pub struct Subscription<'c> {
    connection: &'c Connection,
    subject: Subject,
    subscriber: async_nats::Subscriber,
}

impl fmt::Debug for Subscription<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("subject", &self.subject)
            .finish()
    }
}

impl Subscription<'_> {
    /// The subject listened on.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// Waits up to `timeout` for the next message.
    ///
    /// # Errors
    /// [`Error::Timeout`] naming the subject when none came;
    /// [`Error::Lost`] when the server went away; `Interrupted`.
    pub fn next(&mut self, timeout: Duration) -> Result<Message> {
        match self.next_within(timeout)? {
            Some(message) => Ok(message),
            None => Err(Error::Timeout {
                url: self.connection.urls.to_string(),
                what: format!("no message arrived on {}", self.subject),
                after: timeout,
            }),
        }
    }

    /// Waits up to `timeout` for the next message; `None` if none came.
    ///
    /// # Errors
    /// As [`Subscription::next`], except for the timeout.
    pub fn next_within(&mut self, timeout: Duration) -> Result<Option<Message>> {
        let subject = &self.subject;
        let receiving = self.subscriber.next();
        match self.connection.wait(
            || format!("waiting for a message on {subject}"),
            receiving,
            Some(timeout),
        ) {
            Ok(Some(message)) => Ok(Some(Message::new(message))),
            Ok(None) => Err(Error::Lost {
                url: self.connection.urls.to_string(),
                during: format!("waiting for a message on {subject}"),
            }),
            Err(Error::Timeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The client's own subscriber, for code of this crate that runs
    /// several futures at once.
    pub(crate) fn raw(&mut self) -> &mut async_nats::Subscriber {
        &mut self.subscriber
    }

    /// The next message if one has arrived already, without waiting.
    pub fn try_next(&mut self) -> Option<Message> {
        let receiving = self.subscriber.next();
        match runtime::drive(async { receiving.now_or_never() }, None, None) {
            Ok(Ok(Some(Some(message)))) => Some(Message::new(message)),
            _ => None,
        }
    }

    /// Answers `request` (a message that carries a reply subject) with
    /// `payload`, through this subscription's connection.
    ///
    /// # Errors
    /// [`Error::BadMessage`] when the message expects no reply; as
    /// [`Connection::publish`].
    pub fn respond(&self, request: &Message, payload: &[u8]) -> Result<()> {
        let Some(reply) = &request.reply else {
            return Err(Error::BadMessage {
                subject: request.subject.clone(),
                reason: "it is not a request: it has no reply subject".into(),
            });
        };
        // The answer is drawn on the request's subject: the reply subject
        // is an inbox of the moment, the same for nobody else.
        let connection = self.connection;
        let publishing = connection.publishing(reply.clone(), &request.subject, payload);
        connection
            .wait(
                || format!("answering on {}", request.subject),
                publishing,
                Some(connection.options.op_timeout),
            )?
            .map_err(|e| connection.refused(format!("reply on {reply}"), e))?;
        connection.flush()
    }
}

/// A message received from a subscription.
#[derive(Debug, Clone)]
pub struct Message {
    subject: String,
    reply: Option<String>,
    payload: Vec<u8>,
}

impl Message {
    fn new(message: async_nats::Message) -> Message {
        traced::received(&message.subject, message.headers.as_ref(), &message.payload);
        Message {
            subject: message.subject.to_string(),
            reply: message.reply.map(|r| r.to_string()),
            payload: message.payload.to_vec(),
        }
    }

    /// The subject it was published on.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Its bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Its bytes as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// True when the sender waits for an answer (a request).
    pub fn is_request(&self) -> bool {
        self.reply.is_some()
    }
}
