//! What exp3-fifo adds around the seed: `--messages`, other lines for the
//! default run's writer to send than `First`, `second`, `third?`, and the
//! check of the `writer` role's own messages.

use std::ops::RangeInclusive;

/// How many messages `--messages` takes.
pub const COUNT: RangeInclusive<usize> = 1..=16;

/// The longest message, in bytes: a line to read, and short enough for a
/// `--trace` timeline to show it whole.
pub const MAX_BYTES: usize = 64;

/// `--messages`' parser: [`COUNT`] comma-separated messages, each one as
/// [`message`] takes it, or the rule in words.
///
/// ```
/// use exp3_fifo::extras::messages;
/// use ipc_cli::List;
/// assert_eq!(messages("a b,c?"), Ok(List(vec!["a b".into(), "c?".into()])));
/// for bad in ["", "a,,b", " ", "two\nlines", &"x".repeat(65), &"x,".repeat(17)] {
///     assert!(messages(bad).unwrap_err().contains("1 to 16 comma-separated"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn messages(text: &str) -> Result<ipc_cli::List<String>, String> {
    ipc_cli::printable_texts(COUNT, MAX_BYTES, &[], " (each is sent as one line)")(text)
}

/// The parser of each message the `writer` role takes on its command line
/// (`writer hello "two words"`): 1 to [`MAX_BYTES`] bytes of printable
/// text, a line without its line break (not only spaces, no control
/// character), or the rule in words.
///
/// ```
/// use exp3_fifo::extras::message;
/// assert_eq!(message("two words"), Ok("two words".to_string()));
/// for bad in ["", "  ", "two\nlines", "tab\there", &"x".repeat(65)] {
///     assert!(message(bad).unwrap_err().contains("1 to 64 bytes"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn message(text: &str) -> Result<String, String> {
    ipc_cli::printable_text("a message", MAX_BYTES, "it is sent as one line")(text)
}
