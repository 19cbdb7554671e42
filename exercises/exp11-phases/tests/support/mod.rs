//! What the tests expect of a run, computed here one phase after the
//! other (the program's own `expected` is not trusted by its checks).

/// Every row: `numbers`, then the ring after each of `phases` phases.
pub fn rows(numbers: &[i64], phases: usize) -> Vec<Vec<i64>> {
    let n = numbers.len();
    let mut rows = vec![numbers.to_vec()];
    for _ in 0..phases {
        let row = rows.last().expect("row 0");
        let next = (0..n)
            .map(|k| row[(k + n - 1) % n] + row[k] + row[(k + 1) % n])
            .collect();
        rows.push(next);
    }
    rows
}

/// A list as Python prints it: `[3, 1, 4]`.
pub fn list(row: &[i64]) -> String {
    let items: Vec<String> = row.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// What a run with a barrier prints for `numbers` over `phases` phases.
pub fn lines(numbers: &[i64], phases: usize) -> Vec<String> {
    let rows = rows(numbers, phases);
    let plural = if phases == 1 { "" } else { "s" };
    let mut lines = vec![
        format!("Numbers: {}", list(numbers)),
        format!(
            "{} workers, {phases} phase{plural}, a Barrier between phases",
            numbers.len()
        ),
    ];
    for (t, row) in rows.iter().enumerate().skip(1) {
        lines.push(format!("After phase {t}: {}", list(row)));
    }
    lines.push(format!("Expected:      {}", list(&rows[phases])));
    lines.push("Right: every worker read the phase before it, complete".into());
    lines
}
