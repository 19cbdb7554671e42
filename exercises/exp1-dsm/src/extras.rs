//! What exp1-dsm adds around the seed: `--workers`, fewer workers than the
//! five of exp11-value's exercise (p1 to pK, with the first K targets).

use std::ops::RangeInclusive;

/// How many workers a run may start (`--workers`): worker k runs the k-th
/// target, and there are five.
pub const WORKERS: RangeInclusive<u64> = 1..=5;

/// What `--workers` accepts, in words, for its error message.
pub const WORKERS_NOTE: &str = "p1 to p5, one per target function";
