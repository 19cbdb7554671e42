//! What a run measures, below every family (and the peers, which are
//! one): the [`Plan`] the command line makes, the [`Job`]s the families
//! list from it, and [`by_size`], which lists a family's rows size by
//! size.

use ipc_core::Result;

use crate::measure::Ctx;
use crate::model::{Key, Measure, Mech, Section};

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

/// For each size, each of the `round_trip` rows that `fits` the size, in
/// the order given, then likewise the `throughput` rows: a floor listed
/// right before what is held to it sees the machine in the same state.
pub(crate) fn by_size(
    round_trip: &[(Mech, Measurer)],
    throughput: &[(Mech, Measurer)],
    sizes: &[usize],
    fits: impl Fn(Mech, usize) -> bool,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (section, rows) in [
        (Section::RoundTrip, round_trip),
        (Section::Throughput, throughput),
    ] {
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
