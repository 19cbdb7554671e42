//! What a grading says: one line per check, a score per crate and in all,
//! as text, JSON, and a class's table (CSV and JSON).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// One check: one test of a crate, run on its own.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// The test, as `TARGET::NAME` (`output::prints_the_seed_lines`).
    pub id: String,
    /// The test's name in words (`prints the seed lines`).
    pub name: String,
    /// It passed, and left nothing running or behind.
    pub passed: bool,
    /// Why it failed, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where the test failed (`exercises/exp7-shm/tests/output.rs:20`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The test's whole output, for a failure (cut to a few kilobytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// The checks of one crate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CrateReport {
    /// The crate (`exp7-shm`).
    #[serde(rename = "crate")]
    pub name: String,
    /// Checks passed.
    pub score: usize,
    /// Checks in all.
    pub total: usize,
    /// The compiler's errors, when the crate did not build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_error: Option<String>,
    /// How many warnings the compiler gave for the crate (when it built;
    /// `cargo build -p CRATE` shows them).
    pub warnings: usize,
    /// Every check, in the order they ran.
    pub checks: Vec<Check>,
}

impl CrateReport {
    /// A report of `checks`, scored.
    pub fn new(name: &str, build_error: Option<String>, checks: Vec<Check>) -> CrateReport {
        CrateReport {
            name: name.to_owned(),
            score: checks.iter().filter(|c| c.passed).count(),
            total: checks.len(),
            build_error,
            warnings: 0,
            checks,
        }
    }
}

/// A whole grading of one submission.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// The submission's directory.
    pub dir: String,
    /// Checks passed, in all.
    pub score: usize,
    /// Checks in all.
    pub total: usize,
    /// Each crate graded.
    pub crates: Vec<CrateReport>,
}

impl Report {
    /// A report of `crates`, scored.
    pub fn new(dir: &str, crates: Vec<CrateReport>) -> Report {
        Report {
            dir: dir.to_owned(),
            score: crates.iter().map(|c| c.score).sum(),
            total: crates.iter().map(|c| c.total).sum(),
            crates,
        }
    }

    /// Full marks: every check of every crate passed (and there was one).
    pub fn full_marks(&self) -> bool {
        self.total > 0 && self.score == self.total
    }

    /// The report as text: [`check_line`] for every check, [`score_line`]
    /// for every crate, then the total.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for krate in &self.crates {
            for check in &krate.checks {
                text.push_str(&check_line(&krate.name, check));
                text.push('\n');
            }
            text.push_str(&score_line(krate));
            text.push('\n');
        }
        let _ = writeln!(text, "Score: {}/{}", self.score, self.total);
        text
    }
}

/// `exp11-value: the locked total is exact ... OK`, or `... FAIL: why`.
pub fn check_line(krate: &str, check: &Check) -> String {
    if check.passed {
        format!("{krate}: {} ... OK", check.name)
    } else {
        format!(
            "{krate}: {} ... FAIL: {}",
            check.name,
            check.message.as_deref().unwrap_or("failed")
        )
    }
}

/// `exp11-value: Score: 10/13`.
pub fn score_line(krate: &CrateReport) -> String {
    format!("{}: Score: {}/{}", krate.name, krate.score, krate.total)
}

/// A class: students × crates.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Class {
    /// The crates graded, the table's columns.
    pub crates: Vec<String>,
    /// One row per student, in name order.
    pub students: Vec<Row>,
}

/// A student's score in one crate.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Cell {
    /// Checks passed.
    pub score: usize,
    /// Checks in all.
    pub total: usize,
}

/// One student's row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    /// The student: the name of their submission's directory.
    pub student: String,
    /// Per crate graded for this student: checks passed and in all.
    pub scores: BTreeMap<String, Cell>,
    /// Checks passed, in all.
    pub score: usize,
    /// Checks in all.
    pub total: usize,
    /// The report's file, beside the table (`alice.json`).
    pub report: String,
    /// What stopped the grading of this submission, if something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Class {
    /// The table as CSV: `student,<crate>…,score,total,percent`, a crate's
    /// cell `passed/total` (empty when not graded).
    pub fn csv(&self) -> String {
        let mut text = String::from("student");
        for krate in &self.crates {
            let _ = write!(text, ",{}", csv_field(krate));
        }
        text.push_str(",score,total,percent\n");
        for row in &self.students {
            text.push_str(&csv_field(&row.student));
            for krate in &self.crates {
                match row.scores.get(krate) {
                    Some(cell) => {
                        let _ = write!(text, ",{}/{}", cell.score, cell.total);
                    }
                    None => text.push(','),
                }
            }
            let percent = if row.total == 0 {
                0.0
            } else {
                100.0 * row.score as f64 / row.total as f64
            };
            let _ = writeln!(text, ",{},{},{percent:.1}", row.score, row.total);
        }
        text
    }
}

/// `text` as one CSV field (quoted when it holds a comma, a quote or a
/// line break).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, passed: bool, message: Option<&str>) -> Check {
        Check {
            id: format!("output::{}", name.replace(' ', "_")),
            name: name.into(),
            passed,
            message: message.map(str::to_owned),
            at: None,
            seconds: 0.1,
            output: None,
        }
    }

    #[test]
    fn the_text_has_a_line_per_check_and_the_scores() {
        let report = Report::new(
            "alice",
            vec![
                CrateReport::new(
                    "exp11-value",
                    None,
                    vec![
                        check(
                            "the locked total is exact",
                            false,
                            Some("expected 1500000, got 1499873"),
                        ),
                        check("help explains the experiment", true, None),
                    ],
                ),
                CrateReport::new(
                    "exp7-shm",
                    None,
                    vec![check("prints the seed lines", true, None)],
                ),
            ],
        );
        assert_eq!(
            report.text(),
            "exp11-value: the locked total is exact ... FAIL: expected 1500000, got 1499873\n\
             exp11-value: help explains the experiment ... OK\n\
             exp11-value: Score: 1/2\n\
             exp7-shm: prints the seed lines ... OK\n\
             exp7-shm: Score: 1/1\n\
             Score: 2/3\n"
        );
        assert!(!report.full_marks());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["crates"][0]["checks"][0]["message"],
            "expected 1500000, got 1499873"
        );
        assert_eq!(json["crates"][0]["crate"], "exp11-value");
        assert!(json["crates"][0]["checks"][1].get("message").is_none());
    }

    #[test]
    fn the_class_table_is_csv() {
        let class = Class {
            crates: vec!["exp7-shm".into(), "exp11-value".into()],
            students: vec![Row {
                student: "o'brien, pat".into(),
                scores: BTreeMap::from([("exp7-shm".into(), Cell { score: 9, total: 9 })]),
                score: 9,
                total: 9,
                report: "x.json".into(),
                error: None,
            }],
        };
        assert_eq!(
            class.csv(),
            "student,exp7-shm,exp11-value,score,total,percent\n\"o'brien, pat\",9/9,,9,9,100.0\n"
        );
    }
}
