//! Normalising output that changes from run to run (pids, timings)
//! before comparing it.

/// The numbers a hostile peer tries first, as text: signs, the edges of
/// 32 and 64 bits (and one past them), the largest number whose square
/// fits in an `i64` (3037000499) and one past it, and what is not a whole
/// number at all. A decoder fed these ends in a value or a clear reason.
pub const EXTREME_NUMBERS: [&str; 18] = [
    "0",
    "-0",
    "+0",
    "-1",
    "1",
    "3037000499",
    "-3037000500",
    "4294967295",
    "4294967296",
    "-9223372036854775808",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "-1.5",
    "99999999999999999999999999999999999999",
];

/// Replaces every run of digits after `marker` with `<N>`:
/// `normalise_numbers("Pid: 2796", "Pid: ")` is `"Pid: <N>"`.
pub fn normalise_numbers(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str("<N>");
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The lines of `text` grouped by the first of `prefixes` they start with,
/// one group per prefix and a last group for the lines that start with
/// none; each group keeps the order of its lines.
///
/// When processes print at the same time, the interleaving changes from
/// run to run but the order of each process's own lines does not: compare
/// the groups.
///
/// ```
/// let text = "start\nB: 1\nA: 1\nA: 2\nB: 2\nend\n";
/// assert_eq!(
///     ipc_testkit::by_prefix(text, &["A:", "B:"]),
///     [vec!["A: 1", "A: 2"], vec!["B: 1", "B: 2"], vec!["start", "end"]]
/// );
/// ```
pub fn by_prefix(text: &str, prefixes: &[&str]) -> Vec<Vec<String>> {
    let mut groups = vec![Vec::new(); prefixes.len() + 1];
    for line in text.lines() {
        let group = prefixes
            .iter()
            .position(|prefix| line.starts_with(prefix))
            .unwrap_or(prefixes.len());
        groups[group].push(line.to_owned());
    }
    groups
}

/// Where `actual` first differs from `expected`, said in one line that a
/// student can act on, or `None` if they are equal:
///
/// ```
/// use ipc_testkit::first_difference;
///
/// let expected = ["Expected value: 1500000", "Final value (in main program): 1500000"];
/// let actual = ["Expected value: 1500000", "Final value (in main program): 1499873"];
/// assert_eq!(
///     first_difference(&actual, &expected).unwrap(),
///     "line 2 \"Final value (in main program): …\": expected 1500000, got 1499873"
/// );
/// assert_eq!(
///     first_difference(&actual[..1], &expected).unwrap(),
///     "line 2: expected \"Final value (in main program): 1500000\", got nothing more"
/// );
/// assert_eq!(first_difference(&expected, &expected), None);
/// ```
pub fn first_difference<A: AsRef<str>, E: AsRef<str>>(
    actual: &[A],
    expected: &[E],
) -> Option<String> {
    let n = (0..actual.len().max(expected.len()))
        .find(|&i| actual.get(i).map(AsRef::as_ref) != expected.get(i).map(AsRef::as_ref))?;
    let line = n + 1;
    Some(
        match (
            actual.get(n).map(AsRef::as_ref),
            expected.get(n).map(AsRef::as_ref),
        ) {
            (Some(got), Some(want)) => {
                // A shared start up to a space is named once, with what differs
                // after it: `expected 1500000, got 1499873`.
                let common = got
                    .char_indices()
                    .zip(want.chars())
                    .take_while(|((_, a), b)| a == b)
                    .map(|((i, c), _)| i + c.len_utf8())
                    .last()
                    .unwrap_or(0);
                let start = got[..common].rfind(' ').map_or(0, |i| i + 1);
                if start >= 8 {
                    format!(
                        "line {line} {:?}: expected {}, got {}",
                        format!("{}…", &got[..start]),
                        &want[start..],
                        &got[start..]
                    )
                } else {
                    format!("line {line}: expected {want:?}, got {got:?}")
                }
            }
            (None, Some(want)) => format!("line {line}: expected {want:?}, got nothing more"),
            (Some(got), None) => format!("line {line}: expected nothing more, got {got:?}"),
            (None, None) => unreachable!("a difference past both ends"),
        },
    )
}

/// How many lines a [`unified_diff`] keeps; the rest is counted.
pub const DIFF_CAP: usize = 200;

/// The whole difference between the lines `expected` and those `actual`
/// as a unified diff (`--- expected`, `+++ got`, hunks with three lines of
/// context), cut after [`DIFF_CAP`] lines; empty when they are equal. A
/// failed output check prints it below its one-line summary, and the
/// grader shows it to the student.
///
/// ```
/// let diff = ipc_testkit::unified_diff(&["a", "b", "c"], &["a", "x", "c"]);
/// assert_eq!(diff, "--- expected\n+++ got\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n");
/// assert_eq!(ipc_testkit::unified_diff(&["a"], &["a"]), "");
/// ```
pub fn unified_diff<E: AsRef<str>, A: AsRef<str>>(expected: &[E], actual: &[A]) -> String {
    let expected: Vec<&str> = expected.iter().map(AsRef::as_ref).collect();
    let actual: Vec<&str> = actual.iter().map(AsRef::as_ref).collect();
    if expected == actual {
        return String::new();
    }
    let diff = similar::TextDiff::from_slices(&expected, &actual);
    let mut text = String::from("--- expected\n+++ got\n");
    let mut lines = 2;
    let mut dropped = 0;
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let hunk = hunk.to_string();
        for line in hunk.lines() {
            if lines < DIFF_CAP {
                text.push_str(line);
                text.push('\n');
                lines += 1;
            } else {
                dropped += 1;
            }
        }
    }
    if dropped > 0 {
        text.push_str(&format!("… {dropped} more lines of difference\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_names_its_line_and_what_differs() {
        assert_eq!(
            first_difference(
                &["Result(in process p1): [2, 5, 10, 17]"],
                &["Result(in process p1): [1, 4, 9, 16]"]
            )
            .unwrap(),
            "line 1 \"Result(in process p1): …\": expected [1, 4, 9, 16], got [2, 5, 10, 17]"
        );
        // Nothing worth naming in common: both lines.
        assert_eq!(
            first_difference(&["a b", "x"], &["a b", "y"]).unwrap(),
            "line 2: expected \"y\", got \"x\""
        );
        assert_eq!(
            first_difference(&["a", "b"], &["a"]).unwrap(),
            "line 2: expected nothing more, got \"b\""
        );
    }

    #[test]
    fn a_unified_diff_shows_every_difference_and_is_capped() {
        let expected: Vec<String> = (0..10).map(|i| format!("line {i}")).collect();
        let mut actual = expected.clone();
        actual[1] = "changed".into();
        actual[8] = "also changed".into();
        let diff = unified_diff(&expected, &actual);
        assert!(diff.contains("-line 1\n+changed\n"), "{diff}");
        assert!(diff.contains("-line 8\n+also changed\n"), "{diff}");
        let shorter = unified_diff(&expected, &actual[..9]);
        assert!(shorter.contains("-line 9\n"), "{shorter}");
        let long: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let capped = unified_diff(&long, &[] as &[&str]);
        assert_eq!(capped.lines().count(), DIFF_CAP + 1, "{capped}");
        assert!(capped.ends_with("more lines of difference\n"), "{capped}");
    }

    #[test]
    fn numbers_after_a_marker_are_normalised() {
        assert_eq!(
            normalise_numbers("INFO:parent:Pid: 16740\nPid: 7 x", "Pid: "),
            "INFO:parent:Pid: <N>\nPid: <N> x"
        );
        assert_eq!(normalise_numbers("Pid: x", "Pid: "), "Pid: x");
    }
}
