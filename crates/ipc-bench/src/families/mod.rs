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
//! | scaling (`--scaling`) | [`scaling`] | the `Queue`, `Value`, `Barrier`, an `Event` ring and `Semaphore` by 1 to 16 processes |
//! | past one machine | [`net`] | NATS request–reply and publish through a private `nats-server` on loopback |
//! | peers | `crate::peers` | ipc-channel, interprocess, iceoryx2 (feature `peers`) |
//!
//! Python's rows come from `scripts/bench_python.py`, run once after
//! these (see `crate::python`).

use ipc_core::Result;

use crate::measure::Ctx;
use crate::model::{Key, Measure, Mech, Section};

pub(crate) mod counter;
pub(crate) mod net;
pub(crate) mod scaling;
pub(crate) mod shm;
pub(crate) mod sockets;
pub(crate) mod streams;
pub(crate) mod sync;

/// Measures one mechanism: the parameter is a message size in bytes (round
/// trips, throughput) or a number of processes (increments, sync,
/// scaling).
pub(crate) type Measurer = fn(&Ctx, usize) -> Result<Measure>;

/// One measurement to make.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    pub(crate) key: Key,
    pub(crate) run: Measurer,
}

/// What the families need to know to list their jobs.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    /// The message sizes asked for.
    pub(crate) sizes: &'a [usize],
    /// The largest POSIX message queue message (0 if none).
    pub(crate) mq_msgsize_max: usize,
    /// Whether a usable `nats-server` was found (the NATS rows need one).
    pub(crate) nats: bool,
    /// Whether to measure the scaling curves (`--scaling`).
    pub(crate) scaling: bool,
}

/// Every family's jobs, in the order they run.
pub(crate) fn all(plan: &Plan<'_>) -> Vec<Job> {
    let mut jobs = Vec::new();
    jobs.extend(streams::jobs(plan));
    jobs.extend(sockets::jobs(plan));
    jobs.extend(shm::jobs(plan));
    jobs.extend(counter::jobs(plan));
    jobs.extend(sync::jobs(plan));
    #[cfg(feature = "peers")]
    jobs.extend(crate::peers::jobs(plan));
    jobs.extend(net::jobs(plan));
    jobs.extend(scaling::jobs(plan));
    jobs
}

/// For each section and each size, each of `rows` that `fits` the size, in
/// the order given: a floor listed right before what is held to it sees
/// the machine in the same state.
pub(crate) fn by_size(
    sections: &[(Section, &[(Mech, Measurer)])],
    sizes: &[usize],
    fits: impl Fn(Mech, usize) -> bool,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &(section, rows) in sections {
        for &size in sizes {
            for &(mech, run) in rows {
                if fits(mech, size) {
                    jobs.push(Job {
                        key: Key {
                            section,
                            mech,
                            param: size,
                        },
                        run,
                    });
                }
            }
        }
    }
    jobs
}
