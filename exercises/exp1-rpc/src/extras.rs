//! What exp1-rpc adds around the seed: `--numbers`, another list for the
//! run's client to have squared and summed than the seed's `[1, 2, 3, 4]`.

use std::ops::RangeInclusive;

/// How many numbers `--numbers` takes.
pub const COUNT: RangeInclusive<usize> = 1..=16;

/// The numbers `--numbers` takes: their squares, and the sum of sixteen of
/// them, fit in 64 bits with room to spare.
pub const NUMBERS: RangeInclusive<i64> = -1_000_000..=1_000_000;

/// `--numbers`' parser: a comma-separated list of [`COUNT`] whole numbers
/// in [`NUMBERS`] (`3,8,5`, `-7`), or the rule in words.
///
/// ```
/// use exp1_rpc::extras::numbers;
/// use ipc_cli::List;
/// assert_eq!(numbers("3, 8,-5"), Ok(List(vec![3, 8, -5])));
/// for bad in ["", "1,,2", "x", "1000001", "1.5", &"1,".repeat(17)] {
///     assert!(numbers(bad).unwrap_err().contains("from -1000000 to 1000000"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn numbers(text: &str) -> Result<ipc_cli::List<i64>, String> {
    ipc_cli::whole_numbers(COUNT, NUMBERS, "")(text)
}
