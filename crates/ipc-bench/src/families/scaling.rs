//! How the cost grows with the processes (`--scaling`): each family's
//! rate by N processes, each point right after its floor's (and the
//! references that sleep at once), on as many CPUs as the placement
//! gives (two on the project's machine, so 8 or 16 processes share them,
//! as in a lab room).
//!
//! | curve | processes | what a figure is |
//! | --- | --- | --- |
//! | `Queue` | 2, 4, 8, 16: half producers, half consumers | 8-byte messages per second, all consumers together (floor: a many-to-many ring on the atomics) |
//! | `Value` + lock | 1, 2, 4, 8, 16 | increments per second (floor: the raw robust mutex) |
//! | `Barrier` | 2, 4, 8, 16 parties | rounds per second (floor: the spinning raw barrier; also the plain futex barrier) |
//! | `Event` | 2, 4, 8, 16 round a ring | hand-overs per second of a token (floor: a ring of flags) |
//! | `Semaphore(1)` | 2, 4, 8, 16 | acquire+release pairs per second (floor: the spinning raw semaphore; also `sem_t`) |

use crate::ipc;
use crate::model::{Key, Mech, Section};
use crate::plan::{Job, Measurer, Plan};
use crate::raw;

/// The Queue's points: producers and consumers together.
pub(crate) const QUEUE: [usize; 4] = [2, 4, 8, 16];
/// The Value's points.
pub(crate) const VALUE: [usize; 5] = [1, 2, 4, 8, 16];
/// The Barrier's, the Event ring's and the Semaphore's points.
pub(crate) const SYNC: [usize; 4] = [2, 4, 8, 16];

/// A curve: its numbers of processes, and its rows, each floor before what
/// is held to it.
type Curve = (&'static [usize], &'static [(Mech, Measurer)]);

/// Every curve.
const CURVES: [Curve; 5] = [
    (
        &QUEUE,
        &[
            (Mech::RawShmSpin, raw::mpmc_scaling),
            (Mech::Queue, ipc::queue_scaling),
        ],
    ),
    (
        &VALUE,
        &[
            (Mech::RawMutex, |c, n| raw::increments(c, n, true)),
            (Mech::Value, ipc::value_increments),
        ],
    ),
    (
        &SYNC,
        &[
            (Mech::RawBarrier, raw::barrier_rounds),
            (Mech::RawBarrierSpin, raw::spin_barrier_rounds),
            (Mech::Barrier, ipc::barrier_rounds),
        ],
    ),
    (
        &SYNC,
        &[
            (Mech::RawFlag, raw::flag_ring),
            (Mech::Event, ipc::event_ring),
        ],
    ),
    (
        &SYNC,
        &[
            (Mech::RawSem, raw::semaphore_pairs),
            (Mech::RawSemSpin, raw::spin_semaphore_pairs),
            (Mech::Semaphore, ipc::semaphore_pairs),
        ],
    ),
];

pub(crate) fn jobs(plan: &Plan<'_>) -> Vec<Job> {
    if !plan.scaling {
        return Vec::new();
    }
    let mut jobs = Vec::new();
    for (points, rows) in CURVES {
        for &processes in points {
            for &(mech, run) in rows {
                jobs.push(Job {
                    key: Key {
                        section: Section::Scaling,
                        mech,
                        param: processes,
                    },
                    run,
                });
            }
        }
    }
    jobs
}
