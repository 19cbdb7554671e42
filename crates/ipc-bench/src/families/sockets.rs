//! Stream sockets through ipc-core's `connection` (Python's
//! `multiprocessing.connection` frames, what exp1-sockets uses): a
//! `Listener` and a `Client` over TCP on loopback and over a Unix socket,
//! each held to a raw floor of the same kind of socket, written and read
//! with `write(2)` and `read(2)`, no frames. The Unix row's floor is the
//! socket pair of the streams family: a connected pair of Unix stream
//! sockets, as `accept` and `connect` make one.

use crate::ipc::{self, Transport};
use crate::model::Mech;
use crate::plan::{Job, Measurer, Plan, by_size};
use crate::raw::{self, Stream};

const ROUND_TRIP: [(Mech, Measurer); 3] = [
    (Mech::RawTcp, |c, s| {
        raw::stream_round_trip(c, s, Stream::Tcp)
    }),
    (Mech::ConnectionTcp, |c, s| {
        ipc::connection_round_trip(c, s, Transport::Tcp)
    }),
    (Mech::ConnectionUnix, |c, s| {
        ipc::connection_round_trip(c, s, Transport::Unix)
    }),
];

const THROUGHPUT: [(Mech, Measurer); 3] = [
    (Mech::RawTcp, |c, s| {
        raw::stream_throughput(c, s, Stream::Tcp)
    }),
    (Mech::ConnectionTcp, |c, s| {
        ipc::connection_throughput(c, s, Transport::Tcp)
    }),
    (Mech::ConnectionUnix, |c, s| {
        ipc::connection_throughput(c, s, Transport::Unix)
    }),
];

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    by_size(&ROUND_TRIP, &THROUGHPUT, plan.sizes, |_, _| true)
}
