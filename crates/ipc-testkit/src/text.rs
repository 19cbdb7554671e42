//! Normalising output that changes from run to run (pids, timings)
//! before comparing it.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_after_a_marker_are_normalised() {
        assert_eq!(
            normalise_numbers("INFO:parent:Pid: 16740\nPid: 7 x", "Pid: "),
            "INFO:parent:Pid: <N>\nPid: <N> x"
        );
        assert_eq!(normalise_numbers("Pid: x", "Pid: "), "Pid: x");
    }
}
