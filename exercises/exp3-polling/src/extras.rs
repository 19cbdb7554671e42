//! What exp3-polling adds around the seed: `--values`, other values for
//! the writer to store than the seed's 1 to 10 (the shared array gets a
//! slot per value).

use std::ops::RangeInclusive;

/// How many values `--values` takes.
pub const COUNT: RangeInclusive<usize> = 1..=30;

/// The values `--values` takes: never [`crate::EMPTY`] (-1), which marks a
/// slot the writer has not filled yet.
pub const VALUES: RangeInclusive<i32> = 0..=999_999;

/// `--values`' parser: a comma-separated list of [`COUNT`] whole numbers
/// in [`VALUES`] (`42,7,19`), or the rule in words.
///
/// ```
/// use exp3_polling::extras::values;
/// use ipc_cli::List;
/// assert_eq!(values("42, 7,0"), Ok(List(vec![42, 7, 0])));
/// for bad in ["", "1,,2", "x", "-1", "1000000", "1.5", &"1,".repeat(31)] {
///     assert!(values(bad).unwrap_err().contains("from 0 to 999999"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn values(text: &str) -> Result<ipc_cli::List<i32>, String> {
    ipc_cli::whole_numbers(COUNT, VALUES, "-1 marks an empty slot")(text)
}
