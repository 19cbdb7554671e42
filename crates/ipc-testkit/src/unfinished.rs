//! A part still to write: the `todo!("<hint>")` of a starter
//! (`scripts/starter.sh`), reached by a run.
//!
//! In a starter, the regions a student writes are `todo!("<hint>")`. A
//! run that reaches one panics with `not yet implemented: <hint>`: a child
//! of ipc-core prints `p1: panicked at FILE:LINE: not yet implemented:
//! <hint>` on standard error, the main thread `thread 'main' panicked at
//! FILE:LINE:COLUMN:` and the message on the next line. A test that fails
//! because of it says so first ([`crate::Run`]'s assertions and its
//! display), with the hint and the place, instead of a wall of output;
//! the grader reads the same thing from a test's output.
//!
//! ```
//! let stderr = "p1: panicked at exercises/exp7-shm/src/lib.rs:18: not yet implemented: square them\n";
//! let found = ipc_testkit::unfinished::find(stderr).unwrap();
//! assert_eq!(found.hint, "square them");
//! assert_eq!(found.to_string(), "unfinished: square them (exercises/exp7-shm/src/lib.rs:18)");
//! ```

use std::fmt;

/// What a `todo!()` panic says.
pub const MARK: &str = "not yet implemented: ";

/// A `todo!()` a run reached: its hint and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The hint (`todo!`'s text).
    pub hint: String,
    /// `FILE:LINE` of the `todo!()`, when the panic said it.
    pub at: Option<String>,
}

impl fmt::Display for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unfinished: {}", self.hint)?;
        if let Some(at) = &self.at {
            write!(f, " ({at})")?;
        }
        Ok(())
    }
}

/// The first `todo!()` panic in `text` (a program's standard error, or a
/// test's output that shows it). The text may be quoted (`"…"` inside an
/// assertion's values): the hint then ends at the quote or at an escaped
/// line break.
pub fn find(text: &str) -> Option<Unfinished> {
    let at = text.find(MARK)?;
    let hint = text[at + MARK.len()..]
        .split(['\n', '"'])
        .next()
        .unwrap_or("")
        .split("\\n")
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let before = &text[..at];
    // `panicked at FILE:LINE:` on the same line, or on the line before.
    let location = before
        .rfind("panicked at ")
        .filter(|&p| before[p..].matches('\n').count() <= 1)
        .map(|p| {
            let rest = &before[p + "panicked at ".len()..];
            file_and_line(rest.split_whitespace().next().unwrap_or(""))
        })
        .filter(|l| !l.is_empty());
    Some(Unfinished { hint, at: location })
}

/// `FILE:LINE` from `FILE:LINE:COLUMN:` or `FILE:LINE:`.
pub fn file_and_line(location: &str) -> String {
    let location = location.trim().trim_end_matches(':');
    let number = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = location.rsplitn(3, ':').collect();
    match parts[..] {
        [column, line, file] if number(column) && number(line) => format!("{file}:{line}"),
        _ => location.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_or_the_main_thread_is_found_with_its_place() {
        let main = "thread 'main' (12) panicked at exercises/exp7/src/lib.rs:70:9:\nnot yet implemented: run it\nnote: …";
        assert_eq!(
            find(main).unwrap().to_string(),
            "unfinished: run it (exercises/exp7/src/lib.rs:70)"
        );
        let quoted =
            "  left: [\"p1: panicked at src/lib.rs:3: not yet implemented: do it\", \"x\"]";
        assert_eq!(
            find(quoted).unwrap().to_string(),
            "unfinished: do it (src/lib.rs:3)"
        );
        let escaped = "stderr: \"p1: panicked at a.rs:3: not yet implemented: do it\\nmore\"";
        assert_eq!(find(escaped).unwrap().hint, "do it");
    }

    #[test]
    fn a_hint_without_a_place_is_still_found() {
        // Far from its `panicked at`: the place is not guessed.
        let text = "panicked at a.rs:1:\nsomething\nelse\nnot yet implemented: x\n";
        assert_eq!(
            find(text),
            Some(Unfinished {
                hint: "x".into(),
                at: None
            })
        );
        assert_eq!(find("all good"), None);
    }
}
