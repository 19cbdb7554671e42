//! What exp11-pool adds around the seed's squares: the limits of
//! `--numbers` and `--workers`, and what the Manager dict says about the
//! workers once the pool is done.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use ipc_cli::say;
use ipc_core::Result;

/// How many numbers `--numbers` takes: enough for many chunks per worker,
/// few enough for one printed line.
pub const COUNT: RangeInclusive<usize> = 1..=100;

/// The numbers `--numbers` takes: their squares fit an `i64` by far.
pub const NUMBERS: RangeInclusive<i64> = -1_000_000..=1_000_000;

/// What `--numbers` accepts, in words, for its error message.
pub const NUMBERS_NOTE: &str = "their squares are printed on one line";

/// `--numbers`' parser: a comma-separated list of [`COUNT`] whole numbers
/// in [`NUMBERS`] (`3,8,5`, `-7`), or the rule in words.
///
/// ```
/// use exp11_pool::extras::numbers;
/// use ipc_cli::List;
/// assert_eq!(numbers("3, 8,-5"), Ok(List(vec![3, 8, -5])));
/// for bad in ["", "1,,2", "x", "1000001", "1.5", &"1,".repeat(101)] {
///     assert!(numbers(bad).unwrap_err().contains("from -1000000 to 1000000"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn numbers(text: &str) -> std::result::Result<ipc_cli::List<i64>, String> {
    ipc_cli::whole_numbers(COUNT, NUMBERS, NUMBERS_NOTE)(text)
}

/// `--fail`'s parser: one whole number in [`NUMBERS`], or the rule in
/// words.
///
/// ```
/// assert_eq!(exp11_pool::extras::fail("-3"), Ok(-3));
/// assert!(exp11_pool::extras::fail("3,4").unwrap_err().contains("a whole number from"));
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn fail(text: &str) -> std::result::Result<i64, String> {
    text.trim()
        .parse()
        .ok()
        .filter(|k| NUMBERS.contains(k))
        .ok_or_else(|| {
            format!(
                "expected a whole number from {} to {} (the number whose task fails)",
                NUMBERS.start(),
                NUMBERS.end()
            )
        })
}

/// How many workers `--workers` starts.
pub const WORKERS: RangeInclusive<u64> = 1..=16;

/// What `--workers` accepts, in words, for its error message.
pub const WORKERS_NOTE: &str = "each one a process of its own";

/// Prints what the Manager dict holds, `(number as text, pid of the
/// process that squared it)`: with `who`, one line per number (in the
/// numbers' order), then how many numbers it holds and how many distinct
/// processes other than the main program recorded them, and how many the
/// main program recorded itself (none, when the pool did the work).
///
/// # Errors
/// A failed write.
pub fn print_dict(items: &[(String, i64)], who: bool) -> Result<()> {
    if who {
        let mut by_number: Vec<(Option<i64>, &str, i64)> = items
            .iter()
            .map(|(key, pid)| (key.parse().ok(), key.as_str(), *pid))
            .collect();
        by_number.sort_unstable();
        for (_, key, pid) in by_number {
            say!("{key} squared by pid {pid}")?;
        }
    }
    let main = i64::from(std::process::id());
    let workers: BTreeSet<i64> = items
        .iter()
        .map(|(_, pid)| *pid)
        .filter(|&pid| pid != main)
        .collect();
    let by_main = items.iter().filter(|(_, pid)| *pid == main).count();
    say!(
        "Manager dict: {} numbers, recorded by {} distinct worker processes and {by_main} by the main program",
        items.len(),
        workers.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_square_of_the_largest_number_fits() {
        let largest = NUMBERS
            .start()
            .unsigned_abs()
            .max(NUMBERS.end().unsigned_abs());
        assert!(
            largest
                .checked_mul(largest)
                .is_some_and(|s| s <= i64::MAX as u64)
        );
    }
}
