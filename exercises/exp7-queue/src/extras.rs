//! What exp7-queue adds around the seed: `--numbers`, another list to
//! square than the seed's `[1, 2, 3, 4]`.

use std::ops::RangeInclusive;

/// How many numbers `--numbers` takes.
pub const COUNT: RangeInclusive<usize> = 1..=16;

/// The numbers `--numbers` takes: their squares fit the queue's `i32`.
pub const NUMBERS: RangeInclusive<i32> = -10_000..=10_000;

/// `--numbers`' parser: a comma-separated list of [`COUNT`] whole numbers
/// in [`NUMBERS`] (`3,8,5`, `-7`), or the rule in words.
///
/// ```
/// use exp7_queue::extras::numbers;
/// use ipc_cli::List;
/// assert_eq!(numbers("3, 8,5"), Ok(List(vec![3, 8, 5])));
/// for bad in ["", "1,,2", "x", "10001", "1.5", &"1,".repeat(17)] {
///     assert!(numbers(bad).unwrap_err().contains("from -10000 to 10000"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn numbers(text: &str) -> Result<ipc_cli::List<i32>, String> {
    ipc_cli::whole_numbers(COUNT, NUMBERS, "")(text)
}
