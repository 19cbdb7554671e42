//! Shared memory: the `Queue`, through `put`/`get` and through the
//! zero-copy `claim`/`get_ref`, beside the raw floor: a ring (or two
//! mailboxes) with the zero-copy path's copies, where the waiting side
//! spins, then sleeps, as the `Queue`'s does; and, as a reference, the
//! same where it sleeps at once.

use crate::ipc;
use crate::model::Mech;
use crate::plan::{Job, Measurer, Plan, by_size};
use crate::raw::{self, Wait};

const ROUND_TRIP: [(Mech, Measurer); 4] = [
    (Mech::RawShmSpin, |c, s| {
        raw::shm_round_trip(c, s, Wait::Spin)
    }),
    (Mech::RawShmFutex, |c, s| {
        raw::shm_round_trip(c, s, Wait::Futex)
    }),
    (Mech::Queue, ipc::queue_round_trip),
    (Mech::QueueZeroCopy, ipc::queue_zero_copy_round_trip),
];

const THROUGHPUT: [(Mech, Measurer); 4] = [
    (Mech::RawShmSpin, |c, s| {
        raw::shm_throughput(c, s, Wait::Spin)
    }),
    (Mech::RawShmFutex, |c, s| {
        raw::shm_throughput(c, s, Wait::Futex)
    }),
    (Mech::Queue, ipc::queue_throughput),
    (Mech::QueueZeroCopy, ipc::queue_zero_copy_throughput),
];

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    by_size(&ROUND_TRIP, &THROUGHPUT, plan.sizes, |_, _| true)
}
