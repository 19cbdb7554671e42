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

/// A family's row of mechanisms measured at each message size: the
/// mechanism, how its round trip is measured, how its throughput is.
pub(crate) type SizedRow = (Mech, Measurer, Measurer);

/// A [`SizedRow`] of `$mech` whose two measurers take one more argument,
/// the same for both (the kind of stream, of wait, of transport):
/// `$round_trip(ctx, size, $arg)` and `$throughput(ctx, size, $arg)`.
macro_rules! sized_row {
    ($mech:expr, $round_trip:path, $throughput:path, $arg:expr) => {
        (
            $mech,
            |c, s| $round_trip(c, s, $arg),
            |c, s| $throughput(c, s, $arg),
        )
    };
}
pub(crate) use sized_row;

/// For each size, the round trip of each of the `rows` that `fits` the
/// size, in the order given, then likewise their throughput: a floor
/// listed right before what is held to it sees the machine in the same
/// state.
pub(crate) fn by_size(
    rows: &[SizedRow],
    sizes: &[usize],
    fits: impl Fn(Mech, usize) -> bool,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for section in [Section::RoundTrip, Section::Throughput] {
        for &size in sizes {
            for &(mech, round_trip, throughput) in rows {
                if fits(mech, size) {
                    jobs.push(Job {
                        key: Key {
                            section,
                            mech,
                            param: size,
                        },
                        run: match section {
                            Section::RoundTrip => round_trip,
                            _ => throughput,
                        },
                    });
                }
            }
        }
    }
    jobs
}
