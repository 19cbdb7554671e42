//! `--messages`: other messages and priorities for the sender than the
//! seed's [`crate::MESSAGES`].

use std::ops::RangeInclusive;

/// How many messages `--messages` takes: at most the default queue's
/// capacity ([`crate::DEFAULT_CAPACITY`]).
pub const COUNT: RangeInclusive<usize> = 1..=8;

/// The longest message, in bytes: the default queue's message size
/// ([`crate::DEFAULT_MSGSIZE`]).
pub const MAX_BYTES: usize = 64;

/// The priorities `--messages` takes: the 32 that POSIX promises every
/// system (`MQ_PRIO_MAX` is at least 32; Linux allows 32768).
pub const PRIORITIES: RangeInclusive<u32> = 0..=31;

/// The messages `--messages` gave, each with its priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages(pub Vec<(String, u32)>);

impl Messages {
    /// The messages as [`crate::sender`] takes them.
    pub fn as_pairs(&self) -> Vec<(&str, u32)> {
        self.0.iter().map(|(m, p)| (m.as_str(), *p)).collect()
    }
}

/// `--messages`' parser: [`COUNT`] comma-separated `TEXT:PRIORITY` pairs,
/// each text 1 to [`MAX_BYTES`] bytes of printable text and each priority
/// a whole number in [`PRIORITIES`] (`hello:3,urgent:9`; a text may hold a
/// colon: the last one separates the priority), or the rule in words.
///
/// ```
/// use exp7_mqueue::messages::{Messages, messages};
/// assert_eq!(
///     messages("hello:3,a:b:9"),
///     Ok(Messages(vec![("hello".into(), 3), ("a:b".into(), 9)]))
/// );
/// for bad in ["", "hello", "hello:32", "hello:-1", ":3", "a:1,,b:2", &format!("{}:1", "x".repeat(65))] {
///     assert!(messages(bad).unwrap_err().contains("TEXT:PRIORITY"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn messages(text: &str) -> Result<Messages, String> {
    let rule = || {
        format!(
            "expected {} to {} comma-separated TEXT:PRIORITY pairs, each TEXT 1 to {MAX_BYTES} bytes of printable text and each PRIORITY a whole number from {} to {}",
            COUNT.start(),
            COUNT.end(),
            PRIORITIES.start(),
            PRIORITIES.end()
        )
    };
    let pair = |item: &str| {
        let (message, priority) = item.rsplit_once(':')?;
        let priority = priority
            .trim()
            .parse()
            .ok()
            .filter(|p| PRIORITIES.contains(p))?;
        ipc_cli::printable(message, MAX_BYTES).then(|| (message.to_owned(), priority))
    };
    let messages: Vec<(String, u32)> = text
        .split(',')
        .map(pair)
        .collect::<Option<_>>()
        .ok_or_else(rule)?;
    if !COUNT.contains(&messages.len()) {
        return Err(rule());
    }
    Ok(Messages(messages))
}
