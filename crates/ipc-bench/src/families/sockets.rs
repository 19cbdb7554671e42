//! Stream sockets through ipc-core's `connection` (Python's
//! `multiprocessing.connection` frames, what exp1-sockets uses): a
//! `Listener` and a `Client` over TCP on loopback and over a Unix socket,
//! each held to a raw floor of the same kind of socket, written and read
//! with `write(2)` and `read(2)`, no frames. The Unix row's floor is the
//! socket pair of the streams family: a connected pair of Unix stream
//! sockets, as `accept` and `connect` make one.

use crate::ipc::{self, Transport};
use crate::model::Mech;
use crate::plan::{Job, Plan, SizedRow, by_size, sized_row};
use crate::raw::{self, Stream};

/// Each mechanism's round trip and throughput, the floor first.
const ROWS: [SizedRow; 3] = [
    sized_row!(
        Mech::RawTcp,
        raw::stream_round_trip,
        raw::stream_throughput,
        Stream::Tcp
    ),
    sized_row!(
        Mech::ConnectionTcp,
        ipc::connection_round_trip,
        ipc::connection_throughput,
        Transport::Tcp
    ),
    sized_row!(
        Mech::ConnectionUnix,
        ipc::connection_round_trip,
        ipc::connection_throughput,
        Transport::Unix
    ),
];

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    by_size(&ROWS, plan.sizes, |_, _| true)
}
