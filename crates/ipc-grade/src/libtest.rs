//! Reading Rust's test harness (libtest): the tests a binary holds, how
//! one of them ended, and a failure said in one line a student can act on.

use std::path::Path;

pub use ipc_testkit::unfinished::Unfinished;
use ipc_testkit::unfinished::file_and_line;

/// The names of the tests `list_output` (`TEST-BINARY --list --format
/// terse`) lists, in order.
pub fn parse_list(list_output: &str) -> Vec<String> {
    list_output
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect()
}

/// The top-level `#[test]` functions of a test file's `source`, in order:
/// the checks of a crate whose build failed, named as its binary would
/// list them.
pub fn tests_in_source(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut marked = false;
    for line in source.lines() {
        let line = line.trim();
        if line == "#[test]" {
            marked = true;
        } else if marked {
            if line.starts_with("#[") || line.starts_with("//") || line.is_empty() {
                continue;
            }
            let name = line
                .strip_prefix("fn ")
                .or_else(|| line.strip_prefix("async fn "))
                .map(|rest| {
                    rest.split(['(', '<'])
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_owned()
                });
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                found.push(name);
            }
            marked = false;
        }
    }
    found
}

/// How one test ended, from the harness's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    /// The harness reported `test NAME ... ok`.
    pub passed: bool,
    /// The panic message of a failure (every line of it), if one was shown.
    pub panic: Option<String>,
    /// Where the test panicked (`exercises/exp7-shm/tests/output.rs:20`).
    pub at: Option<String>,
}

/// How test `name` ended in `output` (the standard output of
/// `TEST-BINARY --exact NAME`).
pub fn parse_run(name: &str, output: &str) -> TestRun {
    let passed = output
        .lines()
        .any(|l| l.trim() == format!("test {name} ... ok"));
    let block = output
        .split_once(&format!("---- {name} stdout ----"))
        .map(|(_, rest)| rest.split("\nfailures:\n").next().unwrap_or(rest))
        .unwrap_or("");
    let (panic, at) = match block.find("panicked at ") {
        Some(start) => {
            let rest = &block[start + "panicked at ".len()..];
            let (location, message) = rest.split_once(":\n").unwrap_or((rest, ""));
            let message: Vec<&str> = message
                .lines()
                .take_while(|l| {
                    !(l.starts_with("note: run with `RUST_BACKTRACE")
                        || l.starts_with("stack backtrace:")
                        || l.starts_with("note: Some details are omitted"))
                })
                .collect();
            (
                Some(message.join("\n").trim_end().to_owned()),
                Some(file_and_line(location)),
            )
        }
        None => (None, None),
    };
    TestRun { passed, panic, at }
}

/// The first `todo!()` of a starter reached in `text` (a test's output,
/// which shows the standard error of the programs it ran), as the tests
/// themselves name it: see [`ipc_testkit::unfinished`].
pub fn unfinished(text: &str) -> Option<Unfinished> {
    ipc_testkit::unfinished::find(text)
}

/// The unified diff a failed output check printed in its panic message
/// (from its `--- expected` line to the last line of the diff), if any.
///
/// ```
/// let panic = "unexpected stdout: line 2\n--- expected\n+++ got\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n$ prog\nstatus: 0";
/// assert_eq!(
///     ipc_grade::libtest::diff(panic).unwrap(),
///     "--- expected\n+++ got\n@@ -1,2 +1,2 @@\n a\n-b\n+c"
/// );
/// ```
pub fn diff(panic: &str) -> Option<String> {
    let mut lines = panic.lines().skip_while(|l| *l != "--- expected");
    let head = lines.next()?;
    let mut kept = vec![head];
    kept.extend(
        lines.take_while(|l| l.is_empty() || l.starts_with([' ', '-', '+', '@', '\\', '…'])),
    );
    while kept.last().is_some_and(|l| l.is_empty()) {
        kept.pop();
    }
    Some(kept.join("\n"))
}

/// The longest message a report line carries.
pub const MESSAGE_CAP: usize = 240;

/// A failure in one line: the first line of the panic message, without
/// the `assertion … failed: ` words; when that says nothing more (a bare
/// `assert_eq!`), the values compared.
pub fn summary(panic: &str) -> String {
    let mut lines = panic.lines();
    let first = lines.next().unwrap_or("").trim();
    let mut text = first.to_owned();
    for prefix in [
        "assertion `left == right` failed",
        "assertion `left != right` failed",
        "assertion failed",
    ] {
        if let Some(rest) = first.strip_prefix(prefix) {
            let rest = rest.trim_start_matches(':').trim();
            let values: Vec<&str> = panic
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("left: ") || l.starts_with("right: "))
                .collect();
            text = match (rest.is_empty(), values.is_empty()) {
                // `assert_eq!(a, b, "file:\n{text}")`: the message only
                // introduces what follows.
                (false, false) if rest.ends_with(':') => format!("{rest} {}", values.join(", ")),
                (false, _) => rest.to_owned(),
                (true, false) => format!("{prefix}: {}", values.join(", ")),
                (true, true) => first.to_owned(),
            };
            break;
        }
    }
    // `…this run:` introduces the run shown below it, which is not here.
    cap(text.trim_end_matches(':'))
}

/// `text` cut to [`MESSAGE_CAP`] characters, with `…` when cut.
pub fn cap(text: &str) -> String {
    if text.chars().count() <= MESSAGE_CAP {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MESSAGE_CAP - 1).collect();
    cut.push('…');
    cut
}

/// A test's name as a check's name: `the_locked_total_is_exact` reads
/// `the locked total is exact`.
pub fn human(name: &str) -> String {
    name.rsplit("::").next().unwrap_or(name).replace('_', " ")
}

/// The name of a test target from its source path (`tests/output.rs` is
/// `output`).
pub fn target_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: &str = "
running 1 test
test prints_the_seed_lines ... FAILED

failures:

---- prints_the_seed_lines stdout ----

thread 'prints_the_seed_lines' (6135) panicked at exercises/exp7-shm/tests/output.rs:20:20:
unexpected stdout: line 3 \"Result(in process p1): …\": expected [1, 4, 9, 16], got [2, 5, 10, 17]
$ /work/target/debug/exp7-shm
status: exit status: 0
--- stderr ---
p1: panicked at exercises/exp7-shm/src/lib.rs:16: not yet implemented: square each number
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    prints_the_seed_lines

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 8 filtered out; finished in 0.12s
";

    #[test]
    fn a_failure_gives_its_message_and_place() {
        let run = parse_run("prints_the_seed_lines", FAILED);
        assert!(!run.passed);
        assert_eq!(
            run.at.as_deref(),
            Some("exercises/exp7-shm/tests/output.rs:20")
        );
        let panic = run.panic.unwrap();
        assert!(panic.starts_with("unexpected stdout: line 3"), "{panic}");
        assert!(
            panic.ends_with("not yet implemented: square each number"),
            "{panic}"
        );
        assert_eq!(
            summary(&panic),
            "unexpected stdout: line 3 \"Result(in process p1): …\": expected [1, 4, 9, 16], got [2, 5, 10, 17]"
        );
    }

    #[test]
    fn a_pass_is_a_pass() {
        let run = parse_run(
            "a",
            "\nrunning 1 test\ntest a ... ok\n\ntest result: ok. 1 passed;\n",
        );
        assert_eq!(
            run,
            TestRun {
                passed: true,
                panic: None,
                at: None
            }
        );
    }

    #[test]
    fn an_unfinished_part_is_found_with_its_place() {
        assert_eq!(
            unfinished(FAILED).unwrap().to_string(),
            "unfinished: square each number (exercises/exp7-shm/src/lib.rs:16)"
        );
    }

    #[test]
    fn bare_assertions_show_their_values() {
        assert_eq!(
            summary("assertion `left == right` failed\n  left: 2\n right: 3"),
            "assertion `left == right` failed: left: 2, right: 3"
        );
        assert_eq!(
            summary("assertion `left == right` failed: file:\nx\n  left: 2\n right: 3"),
            "file: left: 2, right: 3"
        );
        assert_eq!(summary("assertion failed: a < b"), "a < b");
        assert_eq!(
            summary("the handout does not show this run:\n$ x"),
            "the handout does not show this run"
        );
        assert_eq!(summary(&"x".repeat(500)).chars().count(), MESSAGE_CAP);
    }

    #[test]
    fn lists_and_sources_name_the_same_tests() {
        assert_eq!(
            parse_list("a: test\nb::c: test\nd: benchmark\n"),
            ["a", "b::c"]
        );
        let source = "#[test]\nfn one() {}\n\n#[test]\n#[should_panic]\n// why\nfn two() {}\nfn helper() {}\n";
        assert_eq!(tests_in_source(source), ["one", "two"]);
        assert_eq!(
            human("the_locked_total_is_exact"),
            "the locked total is exact"
        );
    }
}
