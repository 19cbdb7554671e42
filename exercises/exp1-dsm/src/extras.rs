//! What exp1-dsm adds around the seed: `--workers`, fewer workers than the
//! five of exp11-value's exercise (p1 to pK, with the first K targets),
//! and the total those workers should reach ([`expected_total_of`]).

use std::ops::RangeInclusive;

use ipc_net::{Error, Result};

use crate::Worker;

/// How many workers a run may start (`--workers`): worker k runs the k-th
/// target, and there are five.
pub const WORKERS: RangeInclusive<u64> = 1..=5;

/// What `--workers` accepts, in words, for its error message.
pub const WORKERS_NOTE: &str = "p1 to p5, one per target function";

/// The value after every worker made `passes` passes: 15 × `passes`.
///
/// # Errors
/// [`Error::BadArgument`] when it does not fit in a `u64`.
pub fn expected_total(passes: u64) -> Result<u64> {
    expected_total_of(&crate::WORKERS, passes)
}

/// The value after each of `workers` (the first K of [`crate::WORKERS`],
/// `--workers`) made `passes` passes.
///
/// # Errors
/// As [`expected_total`].
pub fn expected_total_of(workers: &[Worker], passes: u64) -> Result<u64> {
    let per_pass: u64 = workers.iter().map(|w| w.per_pass).sum();
    passes.checked_mul(per_pass).ok_or_else(|| {
        Error::BadArgument(format!(
            "--iterations {passes}: the expected total does not fit in a u64"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_PASSES;

    #[test]
    fn the_five_workers_add_fifteen_per_pass() {
        assert_eq!(expected_total(1).unwrap(), 15);
        assert_eq!(expected_total(DEFAULT_PASSES).unwrap(), 300);
        assert_eq!(
            expected_total(u64::MAX / 15 + 1).unwrap_err().exit_code(),
            2
        );
    }
}
