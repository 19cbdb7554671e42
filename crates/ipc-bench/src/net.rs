//! NATS on loopback: request–reply round trips and publish throughput
//! through a private `nats-server`, measured with `ipc_net::bench`.
//!
//! ipc-net drives an async runtime, and a process must not fork once a
//! runtime has started in it (its threads and locks would not follow the
//! fork). The bench forks partners for nearly every other row, so the
//! NATS rows never start a runtime in the bench's own process: each
//! measurement runs in a child forked for it (forked, like every partner,
//! while the bench has no runtime), which starts its own server and
//! runtime, measures, writes its figures into shared memory, stops the
//! server (removing its directory) and ends with `_exit`.
//!
//! SIGINT or SIGTERM reaching the bench (the watchdog's included) is
//! passed on to the child, whose every wait in ipc-net ends on it: it
//! stops its server in order and ends. Should the bench die without a
//! word, the child gets SIGTERM from the kernel (`PR_SET_PDEATHSIG`, set by
//! `ipc_core::Process`) and does the same; the server itself dies with the
//! child (ipc-net sets its `PR_SET_PDEATHSIG`).

use std::time::{Duration, Instant};

use ipc_core::{Error, OnFailure, Process, RawArray, Result, join_all_with, signal};

use crate::machine::pin_set;
use crate::measure::{Ctx, latency};
use crate::model::Measure;

/// The largest message a `nats-server` takes unless told otherwise
/// (`max_payload`, 1 MiB): larger sizes get no NATS row.
pub(crate) const MAX_PAYLOAD: usize = 1 << 20;

/// How long the child may take to end after the bench was interrupted
/// before it is killed (it stops its server in far less).
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// Why the NATS rows cannot be measured here, with what to do about it
/// (`nats-server not found …; install it with: …/scripts/install-nats.sh`),
/// or `None` when a usable `nats-server` was found.
pub(crate) fn missing() -> Option<String> {
    ipc_net::find_nats_server().err().map(|e| e.to_string())
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    RoundTrip,
    Throughput,
}

/// Request–reply round trips of `size`-byte messages: a requester and an
/// echoing responder, two connections of one process, through the server.
pub(crate) fn round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    in_child(ctx, size, Kind::RoundTrip)
}

/// Publish throughput of `size`-byte messages to a subscriber on a second
/// connection, through the server.
pub(crate) fn throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    in_child(ctx, size, Kind::Throughput)
}

/// Measures in a child process of its own (see the module), which the
/// server and the clients share the bench's CPUs in.
fn in_child(ctx: &Ctx, size: usize, kind: Kind) -> Result<Measure> {
    let figures = RawArray::<f64>::new(3)?;
    let cpus = ctx.placement.workers.clone();
    let duration = ctx.duration;
    let child = Process::spawn("nats", || -> Result<()> {
        pin_set(&cpus)?;
        let measured = measure_here(kind, size, duration).map_err(|e| {
            if e.is_interrupted() {
                Error::Interrupted
            } else {
                Error::Message(e.to_string())
            }
        })?;
        for (i, figure) in measured.into_iter().enumerate() {
            figures.set(i, figure);
        }
        Ok(())
    })?;
    let mut children = [child];
    let mut interrupted: Option<Instant> = None;
    // Passes SIGINT/SIGTERM on to the child, and kills it if it has not
    // ended STOP_LIMIT after that.
    let joined = join_all_with(&mut children, OnFailure::LetOthersRun, |children| {
        if signal::interrupted() {
            let since = *interrupted.get_or_insert_with(Instant::now);
            if since.elapsed() > STOP_LIMIT {
                let _ = children[0].kill();
            }
        }
    });
    signal::check()?;
    let status = joined?[0];
    if !status.success() {
        return Err(Error::ChildFailed {
            name: children[0].name().to_string(),
            status,
        });
    }
    let [a, b, c] = [figures.get(0), figures.get(1), figures.get(2)];
    Ok(match kind {
        Kind::RoundTrip => Measure::Latency {
            median_ns: a,
            p99_ns: b,
            samples: c as u64,
        },
        Kind::Throughput => Measure::Rate {
            per_s: a,
            bytes_per_s: Some(b),
            count: c as u64,
        },
    })
}

/// In the child: starts a private server, measures, stops it. The figures
/// are the median round trip, its p99 and the count of round trips kept
/// (the first tenth is warm-up, as for every round trip of the bench), or
/// the messages and bytes received per second and the messages received.
fn measure_here(kind: Kind, size: usize, duration: Duration) -> ipc_net::Result<[f64; 3]> {
    let server = ipc_net::NatsServer::start()?;
    let figures = match kind {
        Kind::RoundTrip => {
            let trips = ipc_net::bench::request_reply_round_trips(server.urls(), size, duration)?;
            match latency(trips.iter().map(|t| t.as_nanos() as u64).collect()) {
                Measure::Latency {
                    median_ns,
                    p99_ns,
                    samples,
                } => [median_ns, p99_ns, samples as f64],
                Measure::Rate { .. } => unreachable!("latency() gives a latency"),
            }
        }
        Kind::Throughput => {
            let flow = ipc_net::bench::publish_throughput(server.urls(), size, duration)?;
            [
                flow.messages_per_second(),
                flow.bytes_per_second(),
                flow.received as f64,
            ]
        }
    };
    server.stop()?;
    Ok(figures)
}
