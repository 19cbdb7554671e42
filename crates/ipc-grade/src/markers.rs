//! The marked regions of an experiment's source: what a student writes.
//!
//! A region is whole lines between a begin marker and an end marker, each
//! a comment on a line of its own:
//!
//! ```text
//! fn area(width: u32, height: u32) -> u32 {
//!     // STUDENT: multiply the two sides
//!     width * height
//!     // END STUDENT
//! }
//! ```
//!
//! The text after `// STUDENT:` is the hint, one line. A starter keeps both
//! marker lines and replaces the lines between them with
//! `todo!("<hint>");`, a statement that compiles wherever the region
//! stood: it never returns, so the code after it type-checks (it is
//! unreachable) and so does a region at the end of a function that
//! returns a value. The rules that keep that true:
//!
//! * regions do not nest, and every region has its end, in the same file;
//! * a region is whole statements of one block (a function's body, a loop's
//!   body, a match arm's block), never part of an expression;
//! * a name a region defines is not used after it;
//! * the hint is not empty, and has no `"` or `\` (it becomes a string
//!   literal and is read back from panic messages).
//!
//! A file with a region also gets, in the starter, an
//! `#![allow(unused_…)]` line ([`ALLOW`]): the code that would use a
//! parameter, an import or a helper is gone until the student writes it.
//!
//! ```
//! let source = "fn f(x: i32) -> i32 {\n    // STUDENT: double x\n    x * 2\n    // END STUDENT\n}\n";
//! let regions = ipc_grade::markers::regions(source).unwrap();
//! assert_eq!(regions[0].hint, "double x");
//! assert_eq!(regions[0].function.as_deref(), Some("f"));
//! let (starter, _) = ipc_grade::markers::cut(source).unwrap();
//! assert!(starter.contains("    todo!(\"double x\");\n"));
//! assert!(!starter.contains("x * 2"));
//! ```

use std::fmt;

/// The comment that opens a region; the hint follows it.
pub const BEGIN: &str = "// STUDENT:";

/// The comment that closes a region.
pub const END: &str = "// END STUDENT";

/// What a starter adds to a file whose regions it cut, after its leading
/// `//!` comments and inner attributes: the lints that the missing code
/// would otherwise trigger (an unused parameter, import or helper, code
/// after the `todo!()`), silenced until the student has written it.
pub const ALLOW: &str = "\
// Starter: the parts to write are `todo!()` (see the handout's \"Your part\").
// Delete the next line once they are written, so that the compiler warns again.
#![allow(unused_imports, unused_variables, unused_mut, unused_assignments, dead_code, unreachable_code)]

";

/// One marked region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The hint after [`BEGIN`].
    pub hint: String,
    /// The line of the begin marker (from 1).
    pub begin: usize,
    /// The line of the end marker (from 1).
    pub end: usize,
    /// The function the region is in (the nearest `fn NAME` above it, less
    /// indented), if any.
    pub function: Option<String>,
}

/// A marker that breaks the rules, with its line (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    /// The line of the offending marker.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for MarkerError {}

/// The regions of `text`, in order.
///
/// # Errors
/// A [`MarkerError`] for a region without its end, a nested or stray
/// marker, an empty region, or a hint that is empty or holds `"` or `\`.
pub fn regions(text: &str) -> Result<Vec<Region>, MarkerError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        let trimmed = line.trim();
        let error = |what: &str| MarkerError {
            line: number,
            what: what.to_owned(),
        };
        if let Some(hint) = trimmed.strip_prefix(BEGIN) {
            if let Some((begin, _)) = &open {
                return Err(error(&format!(
                    "a region begins inside the region of line {begin}"
                )));
            }
            let hint = hint.trim();
            if hint.is_empty() {
                return Err(error("the hint after `// STUDENT:` is empty"));
            }
            if hint.contains(['"', '\\']) {
                return Err(error("the hint holds a `\"` or a `\\`"));
            }
            open = Some((number, hint.to_owned()));
        } else if trimmed == END {
            let Some((begin, hint)) = open.take() else {
                return Err(error("`// END STUDENT` without a region to end"));
            };
            if number == begin + 1 {
                return Err(error("the region is empty"));
            }
            found.push(Region {
                hint,
                begin,
                end: number,
                function: enclosing_function(&lines[..begin - 1], indent_of(lines[begin - 1])),
            });
        } else if trimmed.starts_with("// STUDENT") || trimmed.starts_with("// END STUDENT") {
            return Err(error(&format!(
                "a marker must be `{BEGIN} <hint>` or `{END}`, alone on its line"
            )));
        }
    }
    match open {
        Some((begin, _)) => Err(MarkerError {
            line: begin,
            what: "the region has no `// END STUDENT`".into(),
        }),
        None => Ok(found),
    }
}

/// The starter's version of `text`: every region's lines replaced by
/// `todo!("<hint>");` (the markers stay), and [`ALLOW`] added when there
/// was a region. Returns the text and the regions (their lines are those
/// of `text`).
///
/// # Errors
/// As [`regions`].
pub fn cut(text: &str) -> Result<(String, Vec<Region>), MarkerError> {
    rewrite(text, true, |_, region, indent| {
        Some(format!("{indent}{}\n", todo_call(&region.hint)))
    })
}

/// `text` with the body of some regions replaced: `bodies` maps a region's
/// index in the file (from 0) to its new lines (each ending in a newline,
/// indented as they should be); the other regions, and the markers, stay.
/// This is how a faked solution ([`crate::fakes`]) is made.
///
/// # Errors
/// As [`regions`].
pub fn fill(
    text: &str,
    bodies: &std::collections::BTreeMap<usize, String>,
) -> Result<(String, Vec<Region>), MarkerError> {
    rewrite(text, false, |index, _, _| bodies.get(&index).cloned())
}

/// `text` with the lines of each region replaced by what `body` gives for
/// it (its index, the region, its indentation), or kept when it gives
/// `None`; with [`ALLOW`] when `allow` and there is a region.
fn rewrite(
    text: &str,
    allow: bool,
    body: impl Fn(usize, &Region, &str) -> Option<String>,
) -> Result<(String, Vec<Region>), MarkerError> {
    let found = regions(text)?;
    if found.is_empty() {
        return Ok((text.to_owned(), found));
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let allow_at = if allow {
        allow_position(&lines)
    } else {
        usize::MAX
    };
    let mut next = found.iter().enumerate().peekable();
    let mut i = 0;
    while i < lines.len() {
        if i == allow_at {
            out.push_str(ALLOW);
        }
        out.push_str(lines[i]);
        out.push('\n');
        if let Some((index, region)) = next.peek().copied()
            && region.begin == i + 1
        {
            next.next();
            if let Some(new) = body(index, region, indent_of(lines[i])) {
                out.push_str(&new);
                i = region.end - 1; // the end marker is written next
                continue;
            }
        }
        i += 1;
    }
    if allow && allow_at >= lines.len() {
        out.push_str(ALLOW);
    }
    Ok((out, found))
}

/// `todo!("<hint>");`, the hint escaped for a format string.
pub fn todo_call(hint: &str) -> String {
    let escaped = hint
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('{', "{{")
        .replace('}', "}}");
    format!("todo!(\"{escaped}\");")
}

/// The index of the first line after the file's leading inner doc comments,
/// inner attributes and blank lines: where [`ALLOW`] goes.
fn allow_position(lines: &[&str]) -> usize {
    lines
        .iter()
        .position(|line| {
            let line = line.trim();
            !(line.is_empty() || line.starts_with("//!") || line.starts_with("#!["))
        })
        .unwrap_or(lines.len())
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The name in the nearest line `… fn NAME…` above, indented less than
/// `indent`.
fn enclosing_function(above: &[&str], indent: &str) -> Option<String> {
    above.iter().rev().find_map(|line| {
        if indent_of(line).len() >= indent.len() {
            return None;
        }
        let at = line.find("fn ")?;
        let before = &line[..at];
        if !(before.trim().is_empty() || before.ends_with(' ')) {
            return None;
        }
        let name: String = line[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "//! A crate.

use std::fmt;

/// Doubles.
pub fn double(x: i32) -> i32 {
    // STUDENT: double {x}
    x * 2
    // END STUDENT
}

fn print(x: i32) {
    let y = x;
    // STUDENT: print it
    println!(\"{y}\");
    // END STUDENT
}
";

    #[test]
    fn regions_carry_their_hint_lines_and_function() {
        let found = regions(TWO).unwrap();
        assert_eq!(
            found,
            [
                Region {
                    hint: "double {x}".into(),
                    begin: 7,
                    end: 9,
                    function: Some("double".into())
                },
                Region {
                    hint: "print it".into(),
                    begin: 14,
                    end: 16,
                    function: Some("print".into())
                },
            ]
        );
    }

    #[test]
    fn a_cut_keeps_the_markers_and_escapes_the_hint() {
        let (text, found) = cut(TWO).unwrap();
        assert_eq!(found.len(), 2);
        assert!(
            !text.contains("x * 2") && !text.contains("println!"),
            "{text}"
        );
        assert!(
            text.contains(
                "    // STUDENT: double {x}\n    todo!(\"double {{x}}\");\n    // END STUDENT\n"
            ),
            "{text}"
        );
        // The allow line goes after the crate's doc comment.
        assert!(
            text.starts_with(&format!("//! A crate.\n\n{ALLOW}use std::fmt;\n")),
            "{text}"
        );
        // The starter's regions are where they are in the starter.
        let moved = regions(&text).unwrap();
        assert_eq!(moved[0].begin, found[0].begin + ALLOW.lines().count());
        // Everything outside the regions is unchanged.
        assert!(
            text.contains("fn print(x: i32) {\n    let y = x;\n"),
            "{text}"
        );
    }

    #[test]
    fn a_file_without_regions_is_left_alone() {
        let text = "fn main() {}\n";
        assert_eq!(cut(text).unwrap(), (text.to_owned(), Vec::new()));
    }

    #[test]
    fn broken_markers_are_refused_with_their_line() {
        let cases = [
            ("// STUDENT: a\nx\n", 1, "no `// END STUDENT`"),
            (
                "// STUDENT: a\n// STUDENT: b\n// END STUDENT\n",
                2,
                "inside the region",
            ),
            ("x\n// END STUDENT\n", 2, "without a region"),
            ("// STUDENT: a\n// END STUDENT\n", 2, "empty"),
            ("// STUDENT:\nx\n// END STUDENT\n", 1, "hint after"),
            ("// STUDENT: say \"hi\"\nx\n// END STUDENT\n", 1, "`\"`"),
            ("// STUDENT a\nx\n// END STUDENT\n", 1, "alone on its line"),
        ];
        for (text, line, what) in cases {
            let error = regions(text).unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {error}");
            assert!(error.what.contains(what), "{text:?}: {error}");
        }
    }
}
