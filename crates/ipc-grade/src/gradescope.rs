//! Gradescope's `results.json`: a grading as Gradescope's autograder
//! harness reads it (`/autograder/results/results.json`), so that an
//! instructor can run the grader inside a Gradescope assignment.
//!
//! The format is Gradescope's "Autograder Specifications"
//! (<https://gradescope-autograders.readthedocs.io/en/latest/specs/>):
//! a top-level `score`, `output`, `visibility`, `stdout_visibility`,
//! formats and `tests`, each test with `score`, `max_score`, `status`,
//! `name`, `number`, `output`, `tags` and `visibility`. [`results`] writes
//! it; [`validate`] checks a value against it, strictly, for the tests.
//!
//! What [`results`] writes:
//!
//! * one test per check: `name` `exp7-shm: prints the seed lines`,
//!   `number` `CRATE.CHECK` (both from 1, in the report's order), `score`
//!   and `max_score` its points (a baseline check has `max_score` 0),
//!   `status` `passed` or `failed`, tags the crate and `baseline` or
//!   `hidden`;
//! * a check on inputs the handout never shows ([`Check::hidden`]) is
//!   `after_due_date`: students see it once the due date is past; every
//!   other test is `visible`;
//! * a failed check's `output` is its message, its diff and its hints, as
//!   [`report::check_lines`] prints them after `FAIL: `; when the crate
//!   did not build, the compiler's errors follow; when its source used
//!   what the lab forbids, those lines follow;
//! * each question of the handout is a test of its own, `exp7-shm:
//!   question 2 answered` (or `not answered`), with no score (Gradescope's
//!   informational test) until the instructor marks it; a marked one has
//!   the mark as `score` and the question's points as `max_score`;
//! * the top-level `output` says how the checks were isolated and the
//!   score; the top-level `score` is the report's (marks included);
//!   `stdout_visibility` is `hidden` (the grader's progress is for the
//!   instructor); every text is plain text (`"text"` formats), so that a
//!   diff of HTML or Markdown shows as printed.
//!
//! ```
//! use ipc_grade::report::{Check, CrateReport, Report};
//! use ipc_grade::points::{Declared, Weight};
//! let declared = Declared { weight: Weight::Points(2), hidden: true, regions: vec![] };
//! let mut check = Check::new("work::other_numbers", &declared);
//! check.settle(false, Some("expected [1, 4], got []".into()));
//! let report = Report::new("alice", vec![CrateReport::new("exp7-shm", None, vec![check], vec![])]);
//! let json = ipc_grade::gradescope::results(&report);
//! assert_eq!(json["tests"][0]["name"], "exp7-shm: other numbers");
//! assert_eq!(json["tests"][0]["visibility"], "after_due_date");
//! assert_eq!(json["tests"][0]["output"], "expected [1, 4], got []\n");
//! assert!(ipc_grade::gradescope::validate(&json).is_empty());
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::report::{self, Check, CrateReport, Report};

/// Where Gradescope's harness reads the results from.
pub const PATH: &str = "/autograder/results/results.json";

/// The values of a `visibility` or `stdout_visibility`.
pub const VISIBILITIES: [&str; 4] = ["visible", "hidden", "after_due_date", "after_published"];

/// The values of an output or name format.
pub const FORMATS: [&str; 5] = ["text", "html", "simple_format", "md", "ansi"];

/// The values of a test's `status`.
pub const STATUSES: [&str; 2] = ["passed", "failed"];

/// How much of a crate's build error each of its checks' output repeats.
const BUILD_ERROR_KEPT: usize = 8 * 1024;

/// `report` as Gradescope's `results.json` (see the module's page).
pub fn results(report: &Report) -> Value {
    let mut tests = Vec::new();
    for (c, krate) in report.crates.iter().enumerate() {
        let mut index = 0;
        for check in &krate.checks {
            index += 1;
            tests.push(check_test(krate, check, format!("{}.{index}", c + 1)));
        }
        for answer in &krate.answers {
            index += 1;
            let state = if answer.answered {
                "answered"
            } else {
                "not answered"
            };
            let mut test = Map::new();
            test.insert(
                "name".into(),
                format!("{}: question {} {state}", krate.name, answer.number).into(),
            );
            test.insert("number".into(), format!("{}.{index}", c + 1).into());
            test.insert(
                "status".into(),
                if answer.answered { "passed" } else { "failed" }.into(),
            );
            if let Some(mark) = answer.mark {
                test.insert("score".into(), json!(mark));
                test.insert("max_score".into(), json!(answer.points));
                test.insert(
                    "output".into(),
                    format!("marked {}/{}\n", report::number(mark), answer.points).into(),
                );
            }
            test.insert("tags".into(), json!([krate.name, "question"]));
            test.insert("visibility".into(), "visible".into());
            test.insert("output_format".into(), "text".into());
            tests.push(Value::Object(test));
        }
    }
    json!({
        "score": report.score,
        "execution_time": report
            .crates
            .iter()
            .flat_map(|c| &c.checks)
            .map(|c| c.seconds.max(0.0))
            .sum::<f64>()
            .ceil() as u64,
        "output": summary(report),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// One check as a test.
fn check_test(krate: &CrateReport, check: &Check, number: String) -> Value {
    let mut tags = vec![krate.name.clone()];
    if check.baseline {
        tags.push("baseline".into());
    }
    if check.hidden {
        tags.push("hidden".into());
    }
    let mut test = json!({
        "name": format!("{}: {}", krate.name, check.name),
        "number": number,
        "score": check.score,
        "max_score": check.points,
        "status": if check.passed { "passed" } else { "failed" },
        "tags": tags,
        "visibility": if check.hidden { "after_due_date" } else { "visible" },
        "output_format": "text",
    });
    if !check.passed {
        test["output"] = failure(krate, check).into();
    }
    test
}

/// A failed check's output: [`report::check_lines`] after its `FAIL: `,
/// then the crate's build error and policy lines, if any.
fn failure(krate: &CrateReport, check: &Check) -> String {
    let lines = report::check_lines(&krate.name, check);
    let mut text = match lines.split_once(" ... FAIL: ") {
        Some((_, rest)) => rest.to_owned(),
        None => lines,
    };
    if let Some(error) = &krate.build_error {
        let _ = writeln!(text, "\n{} did not build:", krate.name);
        let mut end = error.len().min(BUILD_ERROR_KEPT);
        while !error.is_char_boundary(end) {
            end -= 1;
        }
        text.push_str(&error[..end]);
        if end < error.len() {
            text.push_str("\n… (cut: `cargo build -p ");
            text.push_str(&krate.name);
            text.push_str("` shows it all)");
        }
        text.push('\n');
    }
    if !krate.policy.is_empty() {
        let _ = writeln!(
            text,
            "\n{}'s source uses what the lab does not need (no check with points passes):",
            krate.name
        );
        for line in &krate.policy {
            let _ = writeln!(text, "    {line}");
        }
    }
    text
}

/// The top-level output: how the checks were isolated, then the score.
fn summary(report: &Report) -> String {
    let isolation: BTreeSet<&str> = report
        .crates
        .iter()
        .flat_map(|c| &c.checks)
        .map(|c| c.isolation.as_str())
        .filter(|i| !i.is_empty())
        .collect();
    let mut text = match isolation.len() {
        0 => "No check ran isolated (none ran, or none said how).\n".to_owned(),
        1 => format!(
            "Each check ran on its own, isolated: {}.\n",
            isolation.iter().next().copied().unwrap_or_default()
        ),
        _ => format!(
            "Each check ran on its own, isolated: {} (by check).\n",
            isolation.into_iter().collect::<Vec<_>>().join(", ")
        ),
    };
    for krate in &report.crates {
        text.push_str(&report::score_line(krate));
        text.push('\n');
    }
    let _ = writeln!(
        text,
        "Score: {}/{}",
        report::number(report.score),
        report::number(report.total)
    );
    text
}

/// What is wrong with `value` as a `results.json`: unknown keys, a value
/// of the wrong type, a visibility, status or format not among those
/// documented, a score above its `max_score`, a missing score. Each
/// problem names where it is (`tests[2].visibility`). Empty when it is
/// right.
///
/// ```
/// let bad = serde_json::json!({ "score": 1, "tests": [{ "score": 3, "max_score": 2, "visibility": "soon" }], "extra": 1 });
/// let problems = ipc_grade::gradescope::validate(&bad);
/// assert_eq!(problems.len(), 3, "{problems:?}");
/// assert!(problems.iter().any(|p| p.starts_with("tests[0].visibility")));
/// ```
pub fn validate(value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(top) = value.as_object() else {
        return vec![format!("the top level is {}, not an object", kind(value))];
    };
    for (key, value) in top {
        let at = key.clone();
        match key.as_str() {
            "score" | "execution_time" => non_negative(&at, value, &mut problems),
            "output" => string(&at, value, &mut problems),
            "output_format" | "test_output_format" | "test_name_format" => {
                one_of(&at, value, &FORMATS, &mut problems)
            }
            "visibility" | "stdout_visibility" => one_of(&at, value, &VISIBILITIES, &mut problems),
            "extra_data" => object(&at, value, &mut problems),
            "tests" => each(&at, value, validate_test, &mut problems),
            "leaderboard" => each(&at, value, validate_leader, &mut problems),
            _ => problems.push(format!("{key}: not a key of results.json")),
        }
    }
    let tests = top.get("tests").and_then(Value::as_array);
    if !top.contains_key("score") {
        match tests {
            None => problems.push("no score: give a top-level score, or tests".into()),
            Some(tests) => {
                if let Some(i) = tests.iter().position(|t| t.get("score").is_none()) {
                    problems.push(format!(
                        "tests[{i}] has no score, and there is no top-level score"
                    ));
                }
            }
        }
    }
    problems
}

/// Checks each element of the array `value` (at `at`) with `validate`,
/// at `at[i]`.
fn each(at: &str, value: &Value, validate: Validate, problems: &mut Vec<String>) {
    match value.as_array() {
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                validate(&format!("{at}[{i}]"), item, problems);
            }
        }
        None => problems.push(format!("{at}: {}, not an array", kind(value))),
    }
}

/// Checks the value at a place (`tests[2].status`), adding what is wrong.
type Validate = fn(&str, &Value, &mut Vec<String>);

/// Checks each field of the object `value` (at `at`) with `field`, given
/// the field's place (`at.key`), key and value: the object, or `None` (a
/// problem) when `value` is not one.
fn fields<'v>(
    at: &str,
    value: &'v Value,
    problems: &mut Vec<String>,
    field: impl Fn(&str, &str, &Value, &mut Vec<String>),
) -> Option<&'v Map<String, Value>> {
    let Some(fields) = value.as_object() else {
        problems.push(format!("{at}: {}, not an object", kind(value)));
        return None;
    };
    for (key, value) in fields {
        field(&format!("{at}.{key}"), key, value, problems);
    }
    Some(fields)
}

fn validate_test(at: &str, test: &Value, problems: &mut Vec<String>) {
    let fields = fields(at, test, problems, |at, key, value, problems| match key {
        "score" => number(at, value, problems),
        "max_score" => non_negative(at, value, problems),
        "status" => one_of(at, value, &STATUSES, problems),
        "name" | "number" | "output" => string(at, value, problems),
        "name_format" | "output_format" => one_of(at, value, &FORMATS, problems),
        "tags" => match value.as_array() {
            Some(tags) if tags.iter().all(Value::is_string) => {}
            _ => problems.push(format!("{at}: expected an array of strings")),
        },
        "visibility" => one_of(at, value, &VISIBILITIES, problems),
        "extra_data" => object(at, value, problems),
        _ => problems.push(format!("{at}: not a key of a test")),
    });
    let Some(fields) = fields else { return };
    if let (Some(score), Some(max)) = (
        fields.get("score").and_then(Value::as_f64),
        fields.get("max_score").and_then(Value::as_f64),
    ) && score > max
    {
        problems.push(format!("{at}: score {score} is above max_score {max}"));
    }
}

fn validate_leader(at: &str, entry: &Value, problems: &mut Vec<String>) {
    let fields = fields(at, entry, problems, |at, key, value, problems| match key {
        "name" => string(at, value, problems),
        "value" if value.is_number() || value.is_string() => {}
        "value" => problems.push(format!("{at}: {}, not a number or a string", kind(value))),
        "order" => one_of(at, value, &["asc", "desc"], problems),
        _ => problems.push(format!("{at}: not a key of a leaderboard entry")),
    });
    let Some(fields) = fields else { return };
    for key in ["name", "value"] {
        if !fields.contains_key(key) {
            problems.push(format!("{at}: no {key}"));
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn number(at: &str, value: &Value, problems: &mut Vec<String>) {
    if !value.is_number() {
        problems.push(format!("{at}: {}, not a number", kind(value)));
    }
}

fn non_negative(at: &str, value: &Value, problems: &mut Vec<String>) {
    match value.as_f64() {
        Some(n) if n >= 0.0 => {}
        Some(n) => problems.push(format!("{at}: {n} is negative")),
        None => problems.push(format!("{at}: {}, not a number", kind(value))),
    }
}

fn string(at: &str, value: &Value, problems: &mut Vec<String>) {
    if !value.is_string() {
        problems.push(format!("{at}: {}, not a string", kind(value)));
    }
}

fn object(at: &str, value: &Value, problems: &mut Vec<String>) {
    if !value.is_object() {
        problems.push(format!("{at}: {}, not an object", kind(value)));
    }
}

fn one_of(at: &str, value: &Value, allowed: &[&str], problems: &mut Vec<String>) {
    match value.as_str() {
        Some(s) if allowed.contains(&s) => {}
        Some(s) => problems.push(format!("{at}: {s:?} is not one of {}", allowed.join(", "))),
        None => problems.push(format!("{at}: {}, not a string", kind(value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::{Declared, Weight};
    use crate::report::Answer;

    fn check(id: &str, weight: Weight, hidden: bool, passed: bool) -> Check {
        let declared = Declared {
            weight,
            hidden,
            regions: Vec::new(),
        };
        let mut check = Check::new(id, &declared);
        check.settle(passed, (!passed).then(|| "it printed nothing".to_owned()));
        check.isolation = "namespaces".into();
        check.seconds = 1.25;
        check
    }

    fn sample() -> Report {
        let mut failed = check(
            "work::other_numbers_are_squared",
            Weight::Points(3),
            true,
            false,
        );
        failed.diff = Some("--- expected\n+++ got\n-[1, 4]\n+[]".into());
        failed.hints = vec!["square each number in the child".into()];
        let shm = CrateReport::new(
            "exp7-shm",
            None,
            vec![
                check(
                    "output::prints_the_seed_lines",
                    Weight::Points(2),
                    false,
                    true,
                ),
                check("cli::help_explains", Weight::Baseline, false, true),
                failed,
            ],
            vec![
                Answer {
                    number: 1,
                    answered: true,
                    points: 2,
                    mark: Some(1.5),
                },
                Answer {
                    number: 2,
                    answered: false,
                    points: 1,
                    mark: None,
                },
            ],
        );
        let mut broken = CrateReport::new(
            "exp11-value",
            Some("error[E0425]: cannot find value `x`".into()),
            vec![check("output::example", Weight::Points(1), false, false)],
            Vec::new(),
        );
        broken.policy = vec!["src/lib.rs:3: std::fs".into()];
        broken.checks[0].isolation = "session".into();
        Report::new("alice", vec![shm, broken])
    }

    #[test]
    fn every_check_and_question_is_a_test() {
        let json = results(&sample());
        assert!(validate(&json).is_empty(), "{:?}", validate(&json));
        let tests = json["tests"].as_array().unwrap();
        let names: Vec<&str> = tests.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "exp7-shm: prints the seed lines",
                "exp7-shm: help explains",
                "exp7-shm: other numbers are squared",
                "exp7-shm: question 1 answered",
                "exp7-shm: question 2 not answered",
                "exp11-value: example",
            ]
        );
        let numbers: Vec<&str> = tests
            .iter()
            .map(|t| t["number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1"]);
        // Points, baseline, hidden.
        assert_eq!(
            (tests[0]["score"].clone(), tests[0]["max_score"].clone()),
            (json!(2), json!(2))
        );
        assert_eq!(tests[0]["status"], "passed");
        assert!(tests[0].get("output").is_none());
        assert_eq!(tests[1]["max_score"], 0);
        assert_eq!(tests[1]["tags"], json!(["exp7-shm", "baseline"]));
        assert_eq!(tests[2]["visibility"], "after_due_date");
        assert_eq!(tests[2]["tags"], json!(["exp7-shm", "hidden"]));
        assert_eq!(tests[0]["visibility"], "visible");
        assert_eq!(
            tests[2]["output"],
            "it printed nothing\n    --- expected\n    +++ got\n    -[1, 4]\n    +[]\n    hint: square each number in the child\n"
        );
        // A marked question scores; an unmarked one is informational.
        assert_eq!(
            (tests[3]["score"].clone(), tests[3]["max_score"].clone()),
            (json!(1.5), json!(2))
        );
        assert_eq!(tests[4]["status"], "failed");
        assert!(tests[4].get("score").is_none() && tests[4].get("max_score").is_none());
        // The build error and the policy come with the crate's checks.
        let output = tests[5]["output"].as_str().unwrap();
        assert!(
            output.starts_with("it printed nothing\n\nexp11-value did not build:\nerror[E0425]"),
            "{output}"
        );
        assert!(output.contains("    src/lib.rs:3: std::fs\n"), "{output}");
        // The top level: isolation and score.
        assert_eq!(json["score"], json!(2.0 + 1.5));
        assert_eq!(json["execution_time"], 5);
        let summary = json["output"].as_str().unwrap();
        assert!(
            summary.starts_with(
                "Each check ran on its own, isolated: namespaces, session (by check).\n"
            ),
            "{summary}"
        );
        assert!(summary.ends_with("Score: 3.5/9\n"), "{summary}");
        assert_eq!(json["stdout_visibility"], "hidden");
    }

    #[test]
    fn a_long_build_error_is_cut_in_each_check() {
        let mut report = sample();
        report.crates[1].build_error = Some("é".repeat(BUILD_ERROR_KEPT));
        let json = results(&report);
        let output = json["tests"][5]["output"].as_str().unwrap();
        assert!(output.len() < BUILD_ERROR_KEPT + 1024, "{}", output.len());
        assert!(output.contains("(cut: `cargo build -p exp11-value` shows it all)"));
    }

    #[test]
    fn validation_refuses_what_the_format_does_not_have() {
        let good = results(&sample());
        assert!(validate(&good).is_empty());
        let broken = |change: &dyn Fn(&mut Value)| {
            let mut value = good.clone();
            change(&mut value);
            validate(&value)
        };
        for (change, needle) in [
            (
                Box::new(|v: &mut Value| v["tests"][0]["visibility"] = "later".into())
                    as Box<dyn Fn(&mut Value)>,
                "tests[0].visibility: \"later\" is not one of visible, hidden, after_due_date, after_published",
            ),
            (
                Box::new(|v| v["visibility"] = json!(1)),
                "visibility: a number, not a string",
            ),
            (
                Box::new(|v| v["stdout_visibility"] = "shown".into()),
                "stdout_visibility: \"shown\"",
            ),
            (
                Box::new(|v| v["tests"][0]["score"] = json!(5)),
                "tests[0]: score 5 is above max_score 2",
            ),
            (
                Box::new(|v| v["tests"][0]["score"] = "2".into()),
                "tests[0].score: a string, not a number",
            ),
            (
                Box::new(|v| v["tests"][0]["number"] = json!(1.1)),
                "tests[0].number: a number, not a string",
            ),
            (
                Box::new(|v| v["tests"][0]["status"] = "ok".into()),
                "tests[0].status: \"ok\"",
            ),
            (
                Box::new(|v| v["tests"][0]["tags"] = json!([1])),
                "tests[0].tags: expected an array of strings",
            ),
            (
                Box::new(|v| v["tests"][0]["passed"] = json!(true)),
                "tests[0].passed: not a key of a test",
            ),
            (
                Box::new(|v| v["tests"][0]["max_score"] = json!(-1)),
                "tests[0].max_score: -1 is negative",
            ),
            (
                Box::new(|v| v["tests"][0]["output_format"] = "rtf".into()),
                "tests[0].output_format: \"rtf\"",
            ),
            (
                Box::new(|v| v["tests"][1] = json!("x")),
                "tests[1]: a string, not an object",
            ),
            (
                Box::new(|v| v["tests"] = json!({})),
                "tests: an object, not an array",
            ),
            (
                Box::new(|v| v["output"] = json!(null)),
                "output: null, not a string",
            ),
            (
                Box::new(|v| v["extra_data"] = json!([])),
                "extra_data: an array, not an object",
            ),
            (
                Box::new(|v| v["grade"] = json!(1)),
                "grade: not a key of results.json",
            ),
            (
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("score");
                }),
                "tests[4] has no score, and there is no top-level score",
            ),
            (
                Box::new(|v| v["leaderboard"] = json!([{"name": "t", "order": "up"}])),
                "leaderboard[0].order",
            ),
            (
                Box::new(|v| v["leaderboard"] = json!([{"value": true}])),
                "leaderboard[0]: no name",
            ),
            (Box::new(|v| *v = json!([])), "the top level is an array"),
        ] {
            let problems = broken(&*change);
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "{needle}: {problems:?}"
            );
        }
        assert!(validate(&json!({"score": 0})).is_empty());
        assert!(!validate(&json!({})).is_empty());
    }

    /// The keys of each object of `docs/grader-json.md`, by its heading
    /// (`### `Report``): the first column of its table.
    fn documented() -> std::collections::BTreeMap<String, BTreeSet<String>> {
        let doc = include_str!("../../../docs/grader-json.md");
        let mut objects = std::collections::BTreeMap::new();
        let mut current: Option<String> = None;
        for line in doc.lines() {
            if let Some(title) = line.strip_prefix("### ") {
                current = Some(title.trim().trim_matches('`').to_owned());
                objects.insert(current.clone().unwrap(), BTreeSet::new());
            } else if line.starts_with("## ") {
                current = None;
            } else if let (Some(object), Some(row)) = (&current, line.strip_prefix("| `")) {
                let key = row.split('`').next().unwrap().to_owned();
                objects.get_mut(object).unwrap().insert(key);
            }
        }
        objects
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn the_grader_json_is_documented_key_for_key() {
        // A report with every optional field set.
        let mut report = sample();
        let check = &mut report.crates[0].checks[2];
        check.at = Some("exercises/exp7-shm/tests/work.rs:20".into());
        check.output = Some("thread panicked".into());
        report.crates[0].build_error = Some("error".into());
        report.crates[0].policy = vec!["src/lib.rs:3: std::fs".into()];
        let json = serde_json::to_value(&report).unwrap();
        let krate = &json["crates"][0];
        let cell = crate::report::Cell {
            score: 1.0,
            total: 2.0,
            answers: report.crates[0].answers.clone(),
        };
        let class = crate::report::Class {
            crates: vec!["exp7-shm".into()],
            questions: std::collections::BTreeMap::from([("exp7-shm".into(), vec![1, 2])]),
            students: vec![crate::report::Row {
                student: "alice".into(),
                scores: std::collections::BTreeMap::from([("exp7-shm".into(), cell)]),
                score: 1.0,
                total: 2.0,
                report: "alice.json".into(),
                error: Some("did not build".into()),
            }],
        };
        let class = serde_json::to_value(&class).unwrap();
        let written = std::collections::BTreeMap::from([
            ("Report".to_owned(), keys(&json)),
            ("CrateReport".to_owned(), keys(krate)),
            ("Check".to_owned(), keys(&krate["checks"][2])),
            ("Answer".to_owned(), keys(&krate["answers"][0])),
            ("Baseline".to_owned(), keys(&krate["baseline"])),
            ("Class".to_owned(), keys(&class)),
            ("Row".to_owned(), keys(&class["students"][0])),
            (
                "Cell".to_owned(),
                keys(&class["students"][0]["scores"]["exp7-shm"]),
            ),
        ]);
        let documented = documented();
        assert_eq!(
            documented.keys().collect::<Vec<_>>(),
            written.keys().collect::<Vec<_>>(),
            "docs/grader-json.md documents other objects than the grader writes"
        );
        for (object, keys) in &written {
            let listed = &documented[object];
            let undocumented: Vec<_> = keys.difference(listed).collect();
            let unwritten: Vec<_> = listed.difference(keys).collect();
            assert!(
                undocumented.is_empty() && unwritten.is_empty(),
                "{object}: written but not in docs/grader-json.md: {undocumented:?}; \
                 in docs/grader-json.md but never written: {unwritten:?}"
            );
        }
    }
}
