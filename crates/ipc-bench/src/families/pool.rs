//! A pool of workers and a manager (issue 23): `Pool.map` of many small
//! tasks and of a few large ones by 2 and 4 workers, each beside the same
//! map in one process (the work without IPC); `Manager` dict set and get
//! by one client, beside a raw dict server on a socket pair. The rates
//! are tasks and operations per second; what is measured is in
//! `crate::pool`.

use crate::model::{Key, Mech, Section};
use crate::plan::{Job, Measurer, Plan};
use crate::pool;

/// How many workers the pool has.
pub(crate) const WORKERS: [usize; 2] = [2, 4];

/// How many clients the manager has.
pub(crate) const CLIENTS: usize = 1;

/// The pool's rows, each floor right before what is held to it.
const POOL: [(Mech, Measurer); 4] = [
    (Mech::RawSeqMap, pool::sequential_map),
    (Mech::PoolMap, pool::pool_map),
    (Mech::RawSeqMapLarge, pool::sequential_map_large),
    (Mech::PoolMapLarge, pool::pool_map_large),
];

/// The manager's rows, after their floor.
const MANAGER: [(Mech, Measurer); 3] = [
    (Mech::RawDictServer, pool::dict_server),
    (Mech::ManagerSet, pool::manager_set),
    (Mech::ManagerGet, pool::manager_get),
];

pub(crate) fn jobs(_plan: &Plan<'_>) -> Vec<Job> {
    let job = |(mech, run): (Mech, Measurer), param| Job {
        key: Key {
            section: Section::Pool,
            mech,
            param,
        },
        run,
    };
    let mut jobs = Vec::new();
    for workers in WORKERS {
        jobs.extend(POOL.into_iter().map(|row| job(row, workers)));
    }
    jobs.extend(MANAGER.into_iter().map(|row| job(row, CLIENTS)));
    jobs
}
