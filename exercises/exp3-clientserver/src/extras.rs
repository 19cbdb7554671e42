//! What exp3-clientserver adds around the default run: `--numbers`, the
//! numbers its clients ask the server to square (a client each) instead of
//! client N sending N + 5.

use std::ops::RangeInclusive;

/// How many numbers `--numbers` takes: as many clients as `--clients`
/// allows.
pub const COUNT: RangeInclusive<usize> = 1..=64;

/// `--numbers`' parser: a comma-separated list of [`COUNT`] whole numbers
/// from -[`MAX_NUMBER`](crate::protocol::MAX_NUMBER) to [`MAX_NUMBER`](crate::protocol::MAX_NUMBER) (their squares fit in 64 bits),
/// or the rule in words.
///
/// ```
/// use exp3_clientserver::extras::numbers;
/// use ipc_cli::List;
/// assert_eq!(numbers("12, -7,0"), Ok(List(vec![12, -7, 0])));
/// for bad in ["", "1,,2", "x", "3037000500", "1.5", &"1,".repeat(65)] {
///     assert!(numbers(bad).unwrap_err().contains("from -3037000499 to 3037000499"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn numbers(text: &str) -> Result<ipc_cli::List<i64>, String> {
    ipc_cli::squarable_numbers(COUNT)(text)
}
