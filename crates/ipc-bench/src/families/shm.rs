//! Shared memory: the `Queue`, through `put`/`get` and through the
//! zero-copy `claim`/`get_ref`, beside the raw floor: a ring (or two
//! mailboxes) with the zero-copy path's copies, where the waiting side
//! spins, then sleeps, as the `Queue`'s does; and, as a reference, the
//! same where it sleeps at once.

use crate::ipc;
use crate::model::Mech;
use crate::plan::{Job, Plan, SizedRow, by_size, sized_row};
use crate::raw::{self, Wait};

/// Each mechanism's round trip and throughput, the floors first.
const ROWS: [SizedRow; 4] = [
    sized_row!(
        Mech::RawShmSpin,
        raw::shm_round_trip,
        raw::shm_throughput,
        Wait::Spin
    ),
    sized_row!(
        Mech::RawShmFutex,
        raw::shm_round_trip,
        raw::shm_throughput,
        Wait::Futex
    ),
    (Mech::Queue, ipc::queue_round_trip, ipc::queue_throughput),
    (
        Mech::QueueZeroCopy,
        ipc::queue_zero_copy_round_trip,
        ipc::queue_zero_copy_throughput,
    ),
];

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    by_size(&ROWS, plan.sizes, |_, _| true)
}
