//! What exp3-fifo adds around the seed: `--messages`, other lines for the
//! default run's writer to send than `First`, `second`, `third?`.

use std::ops::RangeInclusive;

/// How many messages `--messages` takes.
pub const COUNT: RangeInclusive<usize> = 1..=16;

/// The longest message, in bytes: a line to read, and short enough for a
/// `--trace` timeline to show it whole.
pub const MAX_BYTES: usize = 64;

/// The messages `--messages` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages(pub Vec<String>);

/// `--messages`' parser: [`COUNT`] comma-separated messages of 1 to
/// [`MAX_BYTES`] bytes of printable text (a message is a line: no line
/// break, no other control character), or the rule in words.
///
/// ```
/// use exp3_fifo::extras::{Messages, messages};
/// assert_eq!(messages("a b,c?"), Ok(Messages(vec!["a b".into(), "c?".into()])));
/// for bad in ["", "a,,b", " ", "two\nlines", &"x".repeat(65), &"x,".repeat(17)] {
///     assert!(messages(bad).unwrap_err().contains("1 to 16 comma-separated"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn messages(text: &str) -> Result<Messages, String> {
    let messages: Vec<String> = text.split(',').map(str::to_owned).collect();
    let fits = |m: &String| {
        !m.trim().is_empty() && m.len() <= MAX_BYTES && !m.chars().any(char::is_control)
    };
    if COUNT.contains(&messages.len()) && messages.iter().all(fits) {
        Ok(Messages(messages))
    } else {
        Err(format!(
            "expected {} to {} comma-separated messages of 1 to {MAX_BYTES} bytes of printable text (each is sent as one line)",
            COUNT.start(),
            COUNT.end()
        ))
    }
}
