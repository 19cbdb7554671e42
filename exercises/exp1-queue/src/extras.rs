//! What exp1-queue adds around the seed: `--message`, another message to
//! send than the seed's.

/// The longest message `--message` takes, in bytes: a line to read, and
/// short enough for a `--trace` timeline to show it whole.
pub const MAX_BYTES: usize = 160;

/// `--message`'s parser: 1 to [`MAX_BYTES`] bytes of printable text (no
/// control characters, not only spaces), or the rule in words.
///
/// ```
/// use exp1_queue::extras::message;
/// assert_eq!(message("Hi there, 42"), Ok("Hi there, 42".to_string()));
/// for bad in ["", "   ", "tab\there", &"x".repeat(161)] {
///     assert!(message(bad).unwrap_err().contains("1 to 160 bytes"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn message(text: &str) -> Result<String, String> {
    ipc_cli::printable_text("", MAX_BYTES, "no control characters, not only spaces")(text)
}
