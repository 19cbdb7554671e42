//! What a grading says: one line per check, a score per crate and in all,
//! as text and JSON (its schema is in `docs/grader-json.md`), and a
//! class's table (CSV and JSON).
//!
//! Scores count **points** ([`crate::points`]): a check passed earns its
//! points, a failed one none. Baseline checks (help, bad usage, a full
//! disk: what a blank starter passes) are reported apart and weigh
//! nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::points::{Declared, Weight};

/// One check: one test of a crate, run on its own.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// The test, as `TARGET::NAME` (`output::prints_the_seed_lines`).
    pub id: String,
    /// The test's name in words (`prints the seed lines`).
    pub name: String,
    /// It passed, and left nothing running or behind.
    pub passed: bool,
    /// Points earned: [`Check::points`] if it passed, else 0.
    pub score: u32,
    /// Points it carries (0 for a baseline check).
    pub points: u32,
    /// A baseline check: it passes without the student's work.
    pub baseline: bool,
    /// It runs the program on inputs the handout never shows.
    pub hidden: bool,
    /// Why it failed, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For a failed output check: the whole difference between the lines
    /// expected and those printed, as a unified diff (cut when long).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// For a failed check with points: the hints of the regions it is
    /// about.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    /// Where the test failed (`exercises/exp7-shm/tests/output.rs:20`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// How the check was isolated (`namespaces`, `session`, `none`).
    pub isolation: String,
    /// The test's whole output, for a failure (cut to a few kilobytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl Check {
    /// A check `id` (`TARGET::NAME`) weighed as `declared`, not yet run:
    /// failed, with no message.
    pub fn new(id: &str, declared: &Declared) -> Check {
        let name = id.rsplit("::").next().unwrap_or(id).replace('_', " ");
        Check {
            id: id.to_owned(),
            name,
            passed: false,
            score: 0,
            points: declared.weight.points(),
            baseline: declared.weight == Weight::Baseline,
            hidden: declared.hidden,
            message: None,
            diff: None,
            hints: Vec::new(),
            at: None,
            seconds: 0.0,
            isolation: String::new(),
            output: None,
        }
    }

    /// Marks the check passed (earning its points) or failed with `why`.
    pub fn settle(&mut self, passed: bool, why: Option<String>) {
        self.passed = passed;
        self.score = if passed { self.points } else { 0 };
        self.message = if passed { None } else { why };
    }
}

/// A handout's question and the student's answer to it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Answer {
    /// Its number in the handout (from 1).
    pub number: u32,
    /// The student wrote something under it in `ANSWERS.md`.
    pub answered: bool,
    /// Points it carries when marked.
    pub points: u32,
    /// The instructor's mark (`--marks`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<f64>,
}

/// Baseline checks passed and in all.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Baseline {
    /// Passed.
    pub passed: usize,
    /// In all.
    pub total: usize,
}

/// The checks of one crate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CrateReport {
    /// The crate (`exp7-shm`).
    #[serde(rename = "crate")]
    pub name: String,
    /// Points earned: checks passed, plus the marks of the answers.
    pub score: f64,
    /// Points in all: of every check, plus the answers' when marked.
    pub total: f64,
    /// Baseline checks (no points) passed and in all.
    pub baseline: Baseline,
    /// The compiler's errors, when the crate did not build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_error: Option<String>,
    /// How many warnings the compiler gave for the crate (when it built;
    /// `cargo build -p CRATE` shows them).
    pub warnings: usize,
    /// What the student's source uses that the lab does not need and that
    /// could fake a run's evidence (`src/lib.rs:12: std::fs`); when any,
    /// no check with points passes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policy: Vec<String>,
    /// Every check, in the order they ran.
    pub checks: Vec<Check>,
    /// The handout's questions, answered or not.
    pub answers: Vec<Answer>,
}

impl CrateReport {
    /// A report of `checks` and `answers`, scored.
    pub fn new(
        name: &str,
        build_error: Option<String>,
        checks: Vec<Check>,
        answers: Vec<Answer>,
    ) -> CrateReport {
        let mut report = CrateReport {
            name: name.to_owned(),
            score: 0.0,
            total: 0.0,
            baseline: Baseline::default(),
            build_error,
            warnings: 0,
            policy: Vec::new(),
            checks,
            answers,
        };
        report.rescore();
        report
    }

    /// Recomputes the scores from the checks and the answers' marks (a
    /// question counts in the total once any answer of the crate is
    /// marked).
    pub fn rescore(&mut self) {
        let graded = self.checks.iter().filter(|c| !c.baseline);
        self.score = graded.clone().map(|c| f64::from(c.score)).sum();
        self.total = graded.map(|c| f64::from(c.points)).sum();
        if self.answers.iter().any(|a| a.mark.is_some()) {
            self.score += self.answers.iter().filter_map(|a| a.mark).sum::<f64>();
            self.total += self
                .answers
                .iter()
                .map(|a| f64::from(a.points))
                .sum::<f64>();
        }
        let baseline = self.checks.iter().filter(|c| c.baseline);
        self.baseline = Baseline {
            passed: baseline.clone().filter(|c| c.passed).count(),
            total: baseline.count(),
        };
    }
}

/// A whole grading of one submission.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// The submission (its directory or archive).
    pub dir: String,
    /// Points earned, in all.
    pub score: f64,
    /// Points in all.
    pub total: f64,
    /// Each crate graded.
    pub crates: Vec<CrateReport>,
}

impl Report {
    /// A report of `crates`, scored.
    pub fn new(dir: &str, crates: Vec<CrateReport>) -> Report {
        let mut report = Report {
            dir: dir.to_owned(),
            score: 0.0,
            total: 0.0,
            crates,
        };
        report.rescore();
        report
    }

    /// Recomputes the totals from the crates.
    pub fn rescore(&mut self) {
        self.score = self.crates.iter().map(|c| c.score).sum();
        self.total = self.crates.iter().map(|c| c.total).sum();
    }

    /// Full marks: every check of every crate passed (and there was one).
    pub fn full_marks(&self) -> bool {
        let mut checks = self.crates.iter().flat_map(|c| &c.checks).peekable();
        checks.peek().is_some() && checks.all(|c| c.passed)
    }

    /// The report as text: [`check_lines`] for every check, the answers,
    /// [`score_line`] for every crate, then the total.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for krate in &self.crates {
            for check in &krate.checks {
                text.push_str(&check_lines(&krate.name, check));
            }
            for answer in &krate.answers {
                text.push_str(&answer_line(&krate.name, answer));
                text.push('\n');
            }
            text.push_str(&score_line(krate));
            text.push('\n');
        }
        let _ = writeln!(text, "Score: {}/{}", number(self.score), number(self.total));
        text
    }
}

/// A score as people write it: `12`, or `12.5` for a half mark.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// `(2 points)`, `(1 point)`, `(baseline)`.
fn weight(check: &Check) -> String {
    match (check.baseline, check.points) {
        (true, _) => "(baseline)".into(),
        (false, 1) => "(1 point)".into(),
        (false, n) => format!("({n} points)"),
    }
}

/// How many lines of a diff a text report shows (the JSON has it whole).
pub const DIFF_LINES: usize = 40;

/// `exp11-value: the locked total is exact (3 points) ... OK`, or `...
/// FAIL: why`, followed for a failure by its diff and hints, indented; with
/// a final newline.
pub fn check_lines(krate: &str, check: &Check) -> String {
    let mut text = if check.passed {
        format!("{krate}: {} {} ... OK\n", check.name, weight(check))
    } else {
        format!(
            "{krate}: {} {} ... FAIL: {}\n",
            check.name,
            weight(check),
            check.message.as_deref().unwrap_or("failed")
        )
    };
    if !check.passed {
        if let Some(diff) = &check.diff {
            let lines: Vec<&str> = diff.lines().collect();
            for line in lines.iter().take(DIFF_LINES) {
                let _ = writeln!(text, "    {line}");
            }
            if lines.len() > DIFF_LINES {
                let _ = writeln!(
                    text,
                    "    … {} more lines (the JSON report has them all)",
                    lines.len() - DIFF_LINES
                );
            }
        }
        for hint in &check.hints {
            let _ = writeln!(text, "    hint: {hint}");
        }
    }
    text
}

/// `exp11-value: question 2 ... answered` (or `not answered`, or
/// `marked 1.5/2`).
pub fn answer_line(krate: &str, answer: &Answer) -> String {
    let state = match (answer.mark, answer.answered) {
        (Some(mark), _) => format!("marked {}/{}", number(mark), answer.points),
        (None, true) => "answered".into(),
        (None, false) => "not answered".into(),
    };
    format!("{krate}: question {} ... {state}", answer.number)
}

/// `exp11-value: Score: 10/13 (baseline checks: 5/5 passed)`.
pub fn score_line(krate: &CrateReport) -> String {
    let mut line = format!(
        "{}: Score: {}/{}",
        krate.name,
        number(krate.score),
        number(krate.total)
    );
    if krate.baseline.total > 0 {
        let _ = write!(
            line,
            " (baseline checks: {}/{} passed)",
            krate.baseline.passed, krate.baseline.total
        );
    }
    line
}

/// A class: students × crates.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Class {
    /// The crates graded, the table's columns.
    pub crates: Vec<String>,
    /// The questions of each crate graded, by crate: a column each.
    pub questions: BTreeMap<String, Vec<u32>>,
    /// One row per student, in name order.
    pub students: Vec<Row>,
}

/// A student's result in one crate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cell {
    /// Points earned.
    pub score: f64,
    /// Points in all.
    pub total: f64,
    /// Each question: answered, or its mark.
    pub answers: Vec<Answer>,
}

/// One student's row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    /// The student: the name of their submission (directory or archive).
    pub student: String,
    /// Per crate graded for this student.
    pub scores: BTreeMap<String, Cell>,
    /// Points earned, in all.
    pub score: f64,
    /// Points in all.
    pub total: f64,
    /// The student's report, relative to the table
    /// (`students/alice.json`).
    pub report: String,
    /// What stopped the grading of this submission, if something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Class {
    /// The table as CSV: `student`, a column per crate (`passed/total`),
    /// a column per question of each crate (`exp7-shm Q1`: `answered`,
    /// `blank`, or the mark), then `score,total,percent`. Every cell is
    /// escaped so that a spreadsheet shows it as text ([`csv_field`]).
    pub fn csv(&self) -> String {
        let mut text = String::from("student");
        for krate in &self.crates {
            let _ = write!(text, ",{}", csv_field(krate));
            for q in self.questions.get(krate).into_iter().flatten() {
                let _ = write!(text, ",{}", csv_field(&question_column(krate, *q)));
            }
        }
        text.push_str(",score,total,percent\n");
        for row in &self.students {
            text.push_str(&csv_field(&row.student));
            for krate in &self.crates {
                let cell = row.scores.get(krate);
                match cell {
                    Some(cell) => {
                        let _ = write!(text, ",{}/{}", number(cell.score), number(cell.total));
                    }
                    None => text.push(','),
                }
                for q in self.questions.get(krate).into_iter().flatten() {
                    let answer = cell.and_then(|c| c.answers.iter().find(|a| a.number == *q));
                    let value = match answer {
                        Some(Answer {
                            mark: Some(mark), ..
                        }) => number(*mark),
                        Some(Answer { answered: true, .. }) => "answered".into(),
                        Some(_) => "blank".into(),
                        None => String::new(),
                    };
                    let _ = write!(text, ",{value}");
                }
            }
            let percent = if row.total == 0.0 {
                0.0
            } else {
                100.0 * row.score / row.total
            };
            let _ = writeln!(
                text,
                ",{},{},{percent:.1}",
                number(row.score),
                number(row.total)
            );
        }
        text
    }
}

/// The CSV column of a crate's question: `exp7-shm Q2`.
pub fn question_column(krate: &str, number: u32) -> String {
    format!("{krate} Q{number}")
}

/// `text` as one CSV field: quoted when it holds a comma, a quote or a
/// line break, and with a `'` before a leading `=`, `+`, `-`, `@`, tab or
/// carriage return, so that a spreadsheet never evaluates it as a formula
/// (OWASP's advice on CSV injection).
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, points: u32, passed: bool, message: Option<&str>) -> Check {
        let declared = Declared {
            weight: if points == 0 {
                Weight::Baseline
            } else {
                Weight::Points(points)
            },
            hidden: false,
            regions: Vec::new(),
        };
        let mut check = Check::new(&format!("output::{}", name.replace(' ', "_")), &declared);
        check.settle(passed, message.map(str::to_owned));
        check
    }

    #[test]
    fn the_text_has_a_line_per_check_and_the_points() {
        let mut failed = check(
            "the locked total is exact",
            3,
            false,
            Some("expected 1500000, got 1499873"),
        );
        failed.diff = Some("--- expected\n+++ got\n-1500000\n+1499873".into());
        failed.hints = vec!["add 1 holding the lock".into()];
        let report = Report::new(
            "alice",
            vec![
                CrateReport::new(
                    "exp11-value",
                    None,
                    vec![
                        failed,
                        check("help explains the experiment", 0, true, None),
                        check("example prints", 1, true, None),
                    ],
                    vec![Answer {
                        number: 1,
                        answered: true,
                        points: 1,
                        mark: None,
                    }],
                ),
                CrateReport::new(
                    "exp7-shm",
                    None,
                    vec![check("prints the seed lines", 2, true, None)],
                    Vec::new(),
                ),
            ],
        );
        assert_eq!(
            report.text(),
            "exp11-value: the locked total is exact (3 points) ... FAIL: expected 1500000, got 1499873\n\
             \x20   --- expected\n    +++ got\n    -1500000\n    +1499873\n\
             \x20   hint: add 1 holding the lock\n\
             exp11-value: help explains the experiment (baseline) ... OK\n\
             exp11-value: example prints (1 point) ... OK\n\
             exp11-value: question 1 ... answered\n\
             exp11-value: Score: 1/4 (baseline checks: 1/1 passed)\n\
             exp7-shm: prints the seed lines (2 points) ... OK\n\
             exp7-shm: Score: 2/2\n\
             Score: 3/6\n"
        );
        assert!(!report.full_marks());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["crates"][0]["checks"][0]["points"], 3);
        assert_eq!(json["crates"][0]["checks"][0]["score"], 0);
        assert_eq!(json["crates"][0]["baseline"]["passed"], 1);
        assert!(json["crates"][0]["checks"][1].get("message").is_none());
    }

    #[test]
    fn marks_count_once_any_answer_is_marked() {
        let answers = |marks: [Option<f64>; 2]| {
            marks
                .iter()
                .enumerate()
                .map(|(i, mark)| Answer {
                    number: i as u32 + 1,
                    answered: true,
                    points: 2,
                    mark: *mark,
                })
                .collect()
        };
        let checks = || vec![check("a", 4, true, None)];
        let unmarked = CrateReport::new("x", None, checks(), answers([None, None]));
        assert_eq!((unmarked.score, unmarked.total), (4.0, 4.0));
        let marked = CrateReport::new("x", None, checks(), answers([Some(1.5), None]));
        assert_eq!((marked.score, marked.total), (5.5, 8.0));
    }

    #[test]
    fn the_class_table_is_csv_a_spreadsheet_never_evaluates() {
        let cell = Cell {
            score: 9.0,
            total: 12.0,
            answers: vec![
                Answer {
                    number: 1,
                    answered: true,
                    points: 1,
                    mark: None,
                },
                Answer {
                    number: 2,
                    answered: false,
                    points: 1,
                    mark: None,
                },
            ],
        };
        let class = Class {
            crates: vec!["exp7-shm".into(), "exp11-value".into()],
            questions: BTreeMap::from([("exp7-shm".into(), vec![1, 2])]),
            students: vec![Row {
                student: "=1+2, \"pat\"".into(),
                scores: BTreeMap::from([("exp7-shm".into(), cell)]),
                score: 9.0,
                total: 12.0,
                report: "students/x.json".into(),
                error: None,
            }],
        };
        assert_eq!(
            class.csv(),
            "student,exp7-shm,exp7-shm Q1,exp7-shm Q2,exp11-value,score,total,percent\n\
             \"'=1+2, \"\"pat\"\"\",9/12,answered,blank,,9,12,75.0\n"
        );
        for (raw, field) in [
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+1", "'+1"),
            ("plain", "plain"),
        ] {
            assert_eq!(csv_field(raw), field);
        }
    }
}
