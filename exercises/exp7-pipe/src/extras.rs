//! What exp7-pipe adds around the seed: `--messages`, other messages to
//! send than the seed's `First`, `second`, `third?` (the sender still ends
//! with `END`).

use std::ops::RangeInclusive;

/// How many messages `--messages` takes.
pub const COUNT: RangeInclusive<usize> = 1..=16;

/// The longest message, in bytes: a line to read, and short enough for a
/// `--trace` timeline to show it whole.
pub const MAX_BYTES: usize = 64;

/// `--messages`' parser: [`COUNT`] comma-separated messages of 1 to
/// [`MAX_BYTES`] bytes of printable text, none of them `END` (the sender
/// sends it last, by itself), or the rule in words.
///
/// ```
/// use exp7_pipe::extras::messages;
/// use ipc_cli::List;
/// assert_eq!(messages("a b,c?"), Ok(List(vec!["a b".into(), "c?".into()])));
/// for bad in ["", "a,,b", "a,END", "tab\there", &"x".repeat(65), &"x,".repeat(17)] {
///     assert!(messages(bad).unwrap_err().contains("1 to 16 comma-separated"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn messages(text: &str) -> Result<ipc_cli::List<String>, String> {
    // END is the sender's own last message.
    let rest = ", none of them END (the sender sends END last, by itself)";
    ipc_cli::printable_texts(COUNT, MAX_BYTES, &["END"], rest)(text)
}
