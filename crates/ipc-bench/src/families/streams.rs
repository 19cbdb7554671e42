//! Kernel streams and queues: pipes, FIFOs, socket pairs and POSIX message
//! queues, each ipc-core mechanism right after its raw floor.

use crate::ipc;
use crate::model::Mech;
use crate::plan::{Job, Measurer, Plan, by_size};
use crate::raw::{self, Stream};

const ROUND_TRIP: [(Mech, Measurer); 7] = [
    (Mech::RawPipe, |c, s| {
        raw::stream_round_trip(c, s, Stream::Pipe)
    }),
    (Mech::Pipe, ipc::pipe_round_trip),
    (Mech::Fifo, ipc::fifo_round_trip),
    (Mech::RawSocketpair, |c, s| {
        raw::stream_round_trip(c, s, Stream::Socketpair)
    }),
    (Mech::Duplex, ipc::duplex_round_trip),
    (Mech::RawMq, raw::mq_round_trip),
    (Mech::Mqueue, ipc::mqueue_round_trip),
];

const THROUGHPUT: [(Mech, Measurer); 7] = [
    (Mech::RawPipe, |c, s| {
        raw::stream_throughput(c, s, Stream::Pipe)
    }),
    (Mech::Pipe, ipc::pipe_throughput),
    (Mech::Fifo, ipc::fifo_throughput),
    (Mech::RawSocketpair, |c, s| {
        raw::stream_throughput(c, s, Stream::Socketpair)
    }),
    (Mech::Duplex, ipc::duplex_throughput),
    (Mech::RawMq, raw::mq_throughput),
    (Mech::Mqueue, ipc::mqueue_throughput),
];

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    by_size(
        &ROUND_TRIP,
        &THROUGHPUT,
        plan.sizes,
        // A POSIX message queue takes messages up to msgsize_max only.
        |mech, size| !matches!(mech, Mech::RawMq | Mech::Mqueue) || size <= plan.mq_msgsize_max,
    )
}
