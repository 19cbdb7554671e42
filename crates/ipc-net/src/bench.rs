//! What a benchmark measures of NATS: the round trip of request–reply and
//! the throughput of publish, through a server on this machine.
//!
//! Both run in the calling process, on two connections to the same server
//! (the bytes go client → server → client over loopback TCP, through the
//! broker), driven by this crate's runtime on the calling thread. For a
//! responder in another process, run [`serve_echo`] there: started before
//! this crate's runtime, a forked partner may call it.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let server = ipc_net::NatsServer::start()?;
//! let trips = ipc_net::bench::request_reply_round_trips(server.urls(), 64, Duration::from_secs(1))?;
//! let flow = ipc_net::bench::publish_throughput(server.urls(), 64, Duration::from_secs(1))?;
//! println!("{} round trips; {:.0} messages/s", trips.len(), flow.messages_per_second());
//! # Ok::<(), ipc_net::Error>(())
//! ```

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ipc_core::blocking::Deadline;

use crate::client::Connection;
use crate::error::{Error, Result};
use crate::names::{ServerUrls, Subject};

/// Every measurement makes at least this many round trips or messages.
pub const MIN_COUNT: usize = 5;

/// What [`publish_throughput`]'s receiver sends itself first.
const PROBE: &[u8] = b"probe";

fn subject(what: &str) -> Subject {
    format!("ipc-lab.bench.{}.{what}", std::process::id())
        .parse()
        .expect("a valid subject")
}

/// Answers every request on `subject` with its own payload, for `limit`
/// (or until SIGINT/SIGTERM): the partner of
/// [`request_reply_round_trips`] in another process.
///
/// # Errors
/// As [`Connection::subscribe`] and [`crate::Subscription::respond`].
pub fn serve_echo(connection: &Connection, subject: &Subject, limit: Duration) -> Result<()> {
    let mut requests = connection.subscribe(subject)?;
    let deadline = Deadline::after(limit);
    while !deadline.has_passed() {
        if let Some(request) = requests.next_within(deadline.left_or(limit))? {
            requests.respond(&request, request.payload())?;
        }
    }
    Ok(())
}

/// Request–reply round trips of `size`-byte messages through the server
/// at `urls`, one after another for `duration` (at least [`MIN_COUNT`]);
/// a responder on a second connection echoes each. Returns the time of
/// every round trip, in order.
///
/// # Errors
/// As [`Connection::connect`] and [`Connection::request`].
pub fn request_reply_round_trips(
    urls: &ServerUrls,
    size: usize,
    duration: Duration,
) -> Result<Vec<Duration>> {
    let requester = Connection::connect(urls)?;
    let responder = Connection::connect(urls)?;
    let subject = subject("echo");
    // The responder's subscription is the client's own (not borrowed from
    // `responder`): the echo runs as a task of the runtime.
    let mut requests = responder
        .wait(
            || format!("subscribing to {subject}"),
            responder.client.subscribe(subject.to_string()),
            Some(responder.options.op_timeout),
        )?
        .map_err(|e| responder.refused(format!("subscribe to {subject}"), e))?;
    responder.flush()?;
    let echo = {
        let client = responder.client.clone();
        async move {
            // Runs whenever the requester waits: one thread drives both.
            while let Some(request) = requests.next().await {
                if let Some(reply) = request.reply {
                    let _ = client.publish(reply, request.payload).await;
                }
            }
        }
    };
    let task = crate::runtime::runtime()?.spawn(echo);
    let payload = vec![0x5a_u8; size];
    // A flush only sends the subscription; the server may not have taken
    // it yet when the first request (on another connection) arrives, and
    // answer "no responders". Ask until the echo answers, untimed.
    if let Err(e) = requester.request_patiently(&subject, &payload, Duration::from_secs(5)) {
        task.abort();
        return Err(e);
    }
    let mut trips = Vec::new();
    let started = Instant::now();
    let outcome = loop {
        if started.elapsed() >= duration && trips.len() >= MIN_COUNT {
            break Ok(());
        }
        let sent = Instant::now();
        match requester.request(&subject, &payload, Duration::from_secs(5)) {
            Ok(reply) if reply.len() == size => trips.push(sent.elapsed()),
            Ok(reply) => {
                break Err(Error::BadMessage {
                    subject: subject.to_string(),
                    reason: format!("a reply of {} bytes, not {size}", reply.len()),
                });
            }
            Err(e) => break Err(e),
        }
    };
    task.abort();
    outcome.map(|()| trips)
}

/// What [`publish_throughput`] measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Messages published.
    pub sent: u64,
    /// Messages the subscriber received (fewer than `sent` if the server
    /// dropped some for a slow consumer).
    pub received: u64,
    /// The size of each message.
    pub size: usize,
    /// From the first publish to the last message received.
    pub elapsed: Duration,
}

impl Throughput {
    /// Messages received per second.
    pub fn messages_per_second(&self) -> f64 {
        self.received as f64 / self.elapsed.as_secs_f64()
    }

    /// Payload bytes received per second.
    pub fn bytes_per_second(&self) -> f64 {
        self.messages_per_second() * self.size as f64
    }
}

/// Publishes `size`-byte messages as fast as the client goes for
/// `duration` (at least [`MIN_COUNT`]) to a subscriber on a second
/// connection, then an end marker; returns how many arrived and how long
/// it took.
///
/// # Errors
/// As [`Connection::connect`] and [`Connection::publish`];
/// [`Error::Timeout`] when the end marker does not arrive.
pub fn publish_throughput(
    urls: &ServerUrls,
    size: usize,
    duration: Duration,
) -> Result<Throughput> {
    let publisher = Connection::connect(urls)?;
    let receiver = Connection::connect(urls)?;
    let data = subject("data");
    let mut subscription = receiver.subscribe(&data)?;
    // A flush only sends the subscription: until the server has taken it,
    // what the publisher sends is dropped (the end marker too). The
    // server handles each connection's commands in order, so once the
    // receiver's own probe comes back through the subscription, the
    // server knows it.
    receiver.publish(&data, PROBE)?;
    let probe = subscription.next(Duration::from_secs(5))?;
    if probe.payload() != PROBE {
        return Err(Error::BadMessage {
            subject: data.to_string(),
            reason: format!("{} bytes before the probe", probe.payload().len()),
        });
    }
    let payload = bytes::Bytes::from(vec![0xa5_u8; size.max(1)]);
    let client = publisher.client.clone();
    let started = Instant::now();
    let publishing = {
        let data = data.to_string();
        async move {
            let mut sent = 0_u64;
            while started.elapsed() < duration || sent < MIN_COUNT as u64 {
                client.publish(data.clone(), payload.clone()).await?;
                sent += 1;
            }
            // The end marker: an empty message.
            client.publish(data, bytes::Bytes::new()).await?;
            client.flush().await?;
            Ok::<_, async_nats::Error>(sent)
        }
    };
    let counting = async {
        let mut received = 0_u64;
        while let Some(message) = subscription.raw().next().await {
            if message.payload.is_empty() {
                return Some(received);
            }
            received += 1;
        }
        None
    };
    let both = async { tokio::join!(publishing, counting) };
    let limit = duration * 4 + Duration::from_secs(10);
    let (sent, received) = receiver.wait(|| format!("publishing on {data}"), both, Some(limit))?;
    let sent = sent.map_err(|e| publisher.refused(format!("publish on {data}"), e))?;
    let received = received.ok_or_else(|| Error::Lost {
        url: urls.to_string(),
        during: format!("receiving on {data}"),
    })?;
    Ok(Throughput {
        sent,
        received,
        size,
        elapsed: started.elapsed(),
    })
}
