//! Kernel streams and queues: pipes, FIFOs, socket pairs and POSIX message
//! queues, each ipc-core mechanism right after its raw floor.

use crate::ipc;
use crate::model::Mech;
use crate::plan::{Job, Plan, SizedRow, by_size, sized_row};
use crate::raw::{self, Stream};

/// Each mechanism's round trip and throughput, each floor right before
/// what is held to it.
const ROWS: [SizedRow; 7] = [
    sized_row!(
        Mech::RawPipe,
        raw::stream_round_trip,
        raw::stream_throughput,
        Stream::Pipe
    ),
    (Mech::Pipe, ipc::pipe_round_trip, ipc::pipe_throughput),
    (Mech::Fifo, ipc::fifo_round_trip, ipc::fifo_throughput),
    sized_row!(
        Mech::RawSocketpair,
        raw::stream_round_trip,
        raw::stream_throughput,
        Stream::Socketpair
    ),
    (Mech::Duplex, ipc::duplex_round_trip, ipc::duplex_throughput),
    (Mech::RawMq, raw::mq_round_trip, raw::mq_throughput),
    (Mech::Mqueue, ipc::mqueue_round_trip, ipc::mqueue_throughput),
];

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    by_size(
        &ROWS,
        plan.sizes,
        // A POSIX message queue takes messages up to msgsize_max only.
        |mech, size| !matches!(mech, Mech::RawMq | Mech::Mqueue) || size <= plan.mq_msgsize_max,
    )
}
