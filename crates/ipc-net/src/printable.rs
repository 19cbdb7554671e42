//! A peer's text, made safe to print: what another program sent (a NATS
//! payload, a value in a bucket) may hold terminal escape sequences, NUL
//! bytes or characters that turn the text around; printed raw, they would
//! rewrite the reader's terminal. Each is written as an escape instead
//! (`\u{1b}`, `\0`, `\n`), the rest as it is.
//!
//! Its home is the output layer every program shares (ipc-cli, beside
//! `say!`); it lives here, with the NATS experiments that print a peer's
//! text, until it moves there.

use std::borrow::Cow;

/// `text` with its control characters (C0, DEL, C1) and its bidirectional
/// and zero-width format characters escaped as Rust writes them
/// (`\u{1b}`, `\n`, `\u{202e}`); unchanged, without a copy, when it has
/// none.
///
/// ```
/// use ipc_net::printable::escaped;
/// assert_eq!(escaped("Hello, introduction to distributed computing"), "Hello, introduction to distributed computing");
/// assert_eq!(escaped("\u{1b}[2Jgone\0"), "\\u{1b}[2Jgone\\0");
/// assert_eq!(escaped("a\nb\u{202e}c"), "a\\nb\\u{202e}c");
/// ```
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            match c {
                '\0' => out.push_str("\\0"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                _ => out.extend(c.escape_unicode()),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escaped`] for bytes that may not be UTF-8 (a payload): invalid
/// sequences become U+FFFD first.
pub fn escaped_bytes(bytes: &[u8]) -> String {
    escaped(&String::from_utf8_lossy(bytes)).into_owned()
}

/// True for a character a terminal acts on instead of showing it.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_is_escaped_and_nothing_else() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            let shown = escaped(&text);
            assert!(!shown.chars().any(is_unsafe), "{c:?} -> {shown:?}");
            if !is_unsafe(c) {
                assert_eq!(shown, text);
            }
        }
        assert_eq!(escaped_bytes(b"\xff\x1b"), "\u{fffd}\\u{1b}");
    }
}
