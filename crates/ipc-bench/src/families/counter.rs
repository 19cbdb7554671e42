//! One shared counter, incremented by 1 and by 5 processes: the `Value`
//! with its lock, beside a raw robust mutex and a raw atomic add.

use crate::ipc;
use crate::model::{Key, Mech, Section};
use crate::plan::{Job, Measurer, Plan};
use crate::raw;

/// How many processes increment the counter.
pub(crate) const PROCESSES: [usize; 2] = [1, 5];

const ROWS: [(Mech, Measurer); 3] = [
    (Mech::RawAtomic, |c, n| raw::increments(c, n, false)),
    (Mech::RawMutex, |c, n| raw::increments(c, n, true)),
    (Mech::Value, ipc::value_increments),
];

pub(crate) fn jobs(_plan: &Plan<'_>) -> Vec<Job> {
    let mut jobs = Vec::new();
    for processes in PROCESSES {
        for (mech, run) in ROWS {
            jobs.push(Job {
                key: Key {
                    section: Section::Increments,
                    mech,
                    param: processes,
                },
                run,
            });
        }
    }
    jobs
}
