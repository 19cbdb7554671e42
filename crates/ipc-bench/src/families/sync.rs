//! The synchronisation twins of Python's `multiprocessing`, each beside a
//! raw floor and Python's own: a `Semaphore(1)` acquired and released by 1
//! and 4 processes, an `Event` ping-pong between two processes (two
//! events, one each way), and a `Barrier` of 4 parties, round after round.
//! The floors spin before they sleep, as ipc-core does; the raw `sem_t`
//! and the plain futex barrier, which sleep at once, stand as references.

use crate::ipc;
use crate::model::{Key, Mech, Section};
use crate::plan::{Job, Measurer, Plan};
use crate::raw;

/// How many processes acquire and release the semaphore.
pub(crate) const SEMAPHORE_PROCESSES: [usize; 2] = [1, 4];

/// The processes of an Event ping-pong.
pub(crate) const EVENT_PROCESSES: usize = 2;

/// How many parties the barrier has.
pub(crate) const BARRIER_PARTIES: usize = 4;

/// Every row with its number of processes, each floor right before what
/// is held to it.
const ROWS: [(Mech, Measurer, usize); 11] = [
    (Mech::RawSem, raw::semaphore_pairs, SEMAPHORE_PROCESSES[0]),
    (
        Mech::RawSemSpin,
        raw::spin_semaphore_pairs,
        SEMAPHORE_PROCESSES[0],
    ),
    (
        Mech::Semaphore,
        ipc::semaphore_pairs,
        SEMAPHORE_PROCESSES[0],
    ),
    (Mech::RawSem, raw::semaphore_pairs, SEMAPHORE_PROCESSES[1]),
    (
        Mech::RawSemSpin,
        raw::spin_semaphore_pairs,
        SEMAPHORE_PROCESSES[1],
    ),
    (
        Mech::Semaphore,
        ipc::semaphore_pairs,
        SEMAPHORE_PROCESSES[1],
    ),
    (Mech::RawFlag, raw::flag_round_trip, EVENT_PROCESSES),
    (Mech::Event, ipc::event_round_trip, EVENT_PROCESSES),
    (Mech::RawBarrier, raw::barrier_rounds, BARRIER_PARTIES),
    (
        Mech::RawBarrierSpin,
        raw::spin_barrier_rounds,
        BARRIER_PARTIES,
    ),
    (Mech::Barrier, ipc::barrier_rounds, BARRIER_PARTIES),
];

pub(crate) fn jobs(_plan: &Plan<'_>) -> Vec<Job> {
    ROWS.into_iter()
        .map(|(mech, run, param)| Job {
            key: Key {
                section: Section::Sync,
                mech,
                param,
            },
            run,
        })
        .collect()
}
