//! The rows of the tables, family by family: each family's module says
//! which mechanisms it measures, in which sections, and with which
//! function. A measurement function takes the context and the parameter
//! (a message size, or a number of processes) and returns a [`Measure`].
//!
//! | family | module | rows |
//! | --- | --- | --- |
//! | kernel streams and queues | [`streams`] | pipe, FIFO, duplex, message queue and their raw floors |
//! | stream sockets | [`sockets`] | `Connection` (`Listener` and `Client`) over TCP on loopback and a Unix socket; the raw TCP floor |
//! | shared memory | [`shm`] | `Queue` (`put`/`get` and `claim`/`get_ref`), the raw spinning and futex floors |
//! | one shared counter | [`counter`] | `Value` with its lock, the raw robust mutex, a raw atomic add |
//! | synchronisation | [`sync`] | `Semaphore`, `Event`, `Barrier`; a spinning raw semaphore, flag and barrier (their floors), a raw `sem_t` and a futex barrier |
//! | pool and manager | [`pool`] | `Pool.map` of 10 000 squares and of 8 sums of 1 MiB by 2 and 4 workers, beside the same map in one process; `Manager` dict set and get by one client, beside a raw dict server on a socket pair |
//! | scaling (`--scaling`) | [`scaling`] | the `Queue`, `Value`, `Barrier`, an `Event` ring and `Semaphore` by 1 to 16 processes |
//! | past one machine | [`net`] | NATS request–reply and publish through a private `nats-server` on loopback |
//! | peers | `crate::peers` | ipc-channel, interprocess, iceoryx2 (feature `peers`) |
//!
//! Python's rows come from `scripts/bench_python.py`, run once after
//! these (see `crate::python`).

use crate::plan::{Job, Plan};

pub(crate) mod counter;
pub(crate) mod net;
pub(crate) mod pool;
pub(crate) mod scaling;
pub(crate) mod shm;
pub(crate) mod sockets;
pub(crate) mod streams;
pub(crate) mod sync;

/// Every family's jobs, in the order they run.
pub(crate) fn all(plan: &Plan<'_>) -> Vec<Job> {
    let mut jobs = Vec::new();
    jobs.extend(streams::jobs(plan));
    jobs.extend(sockets::jobs(plan));
    jobs.extend(shm::jobs(plan));
    jobs.extend(counter::jobs(plan));
    jobs.extend(sync::jobs(plan));
    jobs.extend(pool::jobs(plan));
    #[cfg(feature = "peers")]
    jobs.extend(crate::peers::jobs(plan));
    jobs.extend(net::jobs(plan));
    jobs.extend(scaling::jobs(plan));
    jobs
}
