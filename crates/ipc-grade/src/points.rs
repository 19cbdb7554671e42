//! The points of a crate's checks, declared once beside its tests.
//!
//! Every experiment has `tests/points.toml`: a table per test file (named
//! after the file, its test target), and in it every test of that file
//! once, with its weight:
//!
//! ```toml
//! [output]
//! prints_the_seed_lines = 1                      # 1 point
//! help_explains_the_experiment = "baseline"      # passes without the student's work: no points
//!
//! [work]
//! other_numbers_are_squared_by_the_child = { points = 4, hidden = true, regions = ["square_list"] }
//!
//! [questions]                                    # optional: points of the handout's questions
//! 2 = 2                                          # (1 each by default)
//! ```
//!
//! * a **baseline** check is one a blank starter passes by construction
//!   (`--help`, bad usage, a full disk): it is reported apart and weighs
//!   nothing, so that a starter scores 0 points for the student's work;
//! * a **hidden** check runs the program on inputs the handout never
//!   shows: Gradescope shows it to students only after the due date, and
//!   the student's watch mode does not run it;
//! * **regions** names the functions whose `// STUDENT:` regions the
//!   check is about: their hints are shown when it fails (all of the
//!   crate's regions when it names none).
//!
//! ```
//! use ipc_grade::points::{Points, Weight};
//! let points = Points::parse(
//!     "[output]\nprints = 2\nhelp = \"baseline\"\n[work]\nother = { points = 5, hidden = true }\n",
//!     "points.toml",
//! )
//! .unwrap();
//! assert_eq!(points.get("output::prints").unwrap().weight, Weight::Points(2));
//! assert!(points.get("work::other").unwrap().hidden);
//! assert_eq!(points.total(), 7);
//! assert_eq!(points.question(3), 1);
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};

/// Where a crate declares its checks' points, relative to the crate.
pub const FILE: &str = "tests/points.toml";

/// The table of the handout's questions.
const QUESTIONS: &str = "questions";

/// What a check weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// It passes without the student's work: reported apart, no points.
    Baseline,
    /// It needs the student's work: this many points.
    Points(u32),
}

impl Weight {
    /// The points it carries (0 for a baseline check).
    pub fn points(self) -> u32 {
        match self {
            Weight::Baseline => 0,
            Weight::Points(n) => n,
        }
    }
}

/// One check as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// Its weight.
    pub weight: Weight,
    /// It runs on inputs the handout never shows.
    pub hidden: bool,
    /// The functions whose regions it is about (empty: all of them).
    pub regions: Vec<String>,
}

/// A crate's declared checks and questions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Points {
    checks: BTreeMap<String, Declared>,
    questions: BTreeMap<u32, u32>,
}

impl Points {
    /// Reads `crate_dir`'s [`FILE`].
    ///
    /// # Errors
    /// [`Error::Failed`] naming the file when it is missing or malformed.
    pub fn read(crate_dir: &Path) -> Result<Points> {
        let path = crate_dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Points::parse(&text, &path.display().to_string()).map_err(Error::Failed)
    }

    /// Parses the text of a points file; `origin` names it in errors.
    ///
    /// # Errors
    /// A message naming `origin` and the entry at fault.
    pub fn parse(text: &str, origin: &str) -> std::result::Result<Points, String> {
        let table: toml::Table = text.parse().map_err(|e| format!("{origin}: {e}"))?;
        let mut points = Points::default();
        for (target, checks) in &table {
            let Some(checks) = checks.as_table() else {
                return Err(format!(
                    "{origin}: `{target}` is not a table: write `[{target}]` and its checks below it"
                ));
            };
            if target == QUESTIONS {
                for (number, value) in checks {
                    let n = number.parse::<u32>().ok().filter(|n| *n > 0);
                    let p = value.as_integer().and_then(|p| u32::try_from(p).ok());
                    match (n, p) {
                        (Some(n), Some(p)) => {
                            points.questions.insert(n, p);
                        }
                        _ => {
                            return Err(format!(
                                "{origin}: [questions] {number} = {value}: expected a question number from 1 and whole points"
                            ));
                        }
                    }
                }
                continue;
            }
            for (name, value) in checks {
                let id = format!("{target}::{name}");
                let declared = declared(value).map_err(|e| format!("{origin}: {id}: {e}"))?;
                points.checks.insert(id, declared);
            }
        }
        Ok(points)
    }

    /// The declaration of check `id` (`TARGET::NAME`).
    pub fn get(&self, id: &str) -> Option<&Declared> {
        self.checks.get(id)
    }

    /// Every declared check, by id.
    pub fn checks(&self) -> impl Iterator<Item = (&str, &Declared)> {
        self.checks.iter().map(|(id, d)| (id.as_str(), d))
    }

    /// The points of all checks.
    pub fn total(&self) -> u32 {
        self.checks.values().map(|d| d.weight.points()).sum()
    }

    /// The points of the handout's question `number` (1 unless declared).
    pub fn question(&self, number: u32) -> u32 {
        self.questions.get(&number).copied().unwrap_or(1)
    }

    /// What does not match between the declarations and `tests`, the
    /// crate's tests as `TARGET::NAME`: a test without points, points
    /// without a test. Empty when they match.
    pub fn mismatches<S: AsRef<str>>(&self, tests: &[S]) -> Vec<String> {
        let tests: std::collections::BTreeSet<&str> = tests.iter().map(AsRef::as_ref).collect();
        let mut found: Vec<String> = tests
            .iter()
            .filter(|t| !self.checks.contains_key(**t))
            .map(|t| format!("the test {t} has no points (add it to {FILE})"))
            .collect();
        found.extend(
            self.checks
                .keys()
                .filter(|id| !tests.contains(id.as_str()))
                .map(|id| format!("{id} in {FILE} is no test of the crate")),
        );
        found
    }
}

/// One entry's value: `N`, `"baseline"`, or `{ points = N | baseline =
/// true, hidden = …, regions = […] }`.
fn declared(value: &toml::Value) -> std::result::Result<Declared, String> {
    let points = |n: i64| match u32::try_from(n) {
        Ok(n) if n > 0 => Ok(Weight::Points(n)),
        _ => Err(format!(
            "{n} points: a check carries 1 point or more (a check worth nothing is \"baseline\")"
        )),
    };
    let plain = |weight| Declared {
        weight,
        hidden: false,
        regions: Vec::new(),
    };
    match value {
        toml::Value::Integer(n) => Ok(plain(points(*n)?)),
        toml::Value::String(s) if s == "baseline" => Ok(plain(Weight::Baseline)),
        toml::Value::Table(table) => {
            let mut weight = None;
            let mut hidden = false;
            let mut regions = Vec::new();
            for (key, value) in table {
                match (key.as_str(), value) {
                    ("points", toml::Value::Integer(n)) if weight.is_none() => {
                        weight = Some(points(*n)?);
                    }
                    ("baseline", toml::Value::Boolean(true)) if weight.is_none() => {
                        weight = Some(Weight::Baseline);
                    }
                    ("hidden", toml::Value::Boolean(b)) => hidden = *b,
                    ("regions", toml::Value::Array(names)) => {
                        for name in names {
                            let Some(name) = name.as_str() else {
                                return Err("regions: expected function names".into());
                            };
                            regions.push(name.to_owned());
                        }
                    }
                    _ => {
                        return Err(format!(
                            "unexpected `{key} = {value}` (expected points = N or baseline = true, and optionally hidden = true, regions = [\"function\"])"
                        ));
                    }
                }
            }
            let Some(weight) = weight else {
                return Err("neither points = N nor baseline = true".into());
            };
            if hidden && weight == Weight::Baseline {
                return Err("a baseline check cannot be hidden: it needs no input".into());
            }
            Ok(Declared {
                weight,
                hidden,
                regions,
            })
        }
        other => Err(format!(
            "unexpected {other}: expected points (a whole number), \"baseline\", or a table"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_read() {
        let points = Points::parse(
            "[output]\na = 2\nb = \"baseline\"\nc = { baseline = true, regions = [\"f\"] }\n\
             [work]\nd = { points = 3, hidden = true, regions = [\"f\", \"g\"] }\n\
             [questions]\n2 = 3\n",
            "p",
        )
        .unwrap();
        assert_eq!(points.get("output::a").unwrap().weight, Weight::Points(2));
        assert_eq!(points.get("output::b").unwrap().weight, Weight::Baseline);
        assert_eq!(points.get("output::c").unwrap().regions, ["f"]);
        let d = points.get("work::d").unwrap();
        assert_eq!((d.weight, d.hidden), (Weight::Points(3), true));
        assert_eq!(d.regions, ["f", "g"]);
        assert_eq!(points.total(), 5);
        assert_eq!((points.question(1), points.question(2)), (1, 3));
        assert_eq!(points.checks().count(), 4);
    }

    #[test]
    fn mistakes_are_named_with_the_file_and_the_check() {
        for (text, needle) in [
            ("[output]\na = 0\n", "output::a: 0 points"),
            ("[output]\na = -1\n", "output::a: -1 points"),
            ("[output]\na = \"free\"\n", "output::a: unexpected \"free\""),
            ("[output]\na = { hidden = true }\n", "neither points"),
            (
                "[output]\na = { baseline = true, hidden = true }\n",
                "cannot be hidden",
            ),
            (
                "[output]\na = { points = 1, extra = 2 }\n",
                "unexpected `extra",
            ),
            ("a = 1\n", "`a` is not a table"),
            ("[questions]\nx = 1\n", "[questions] x = 1"),
            ("[output\n", "p.toml"),
        ] {
            let error = Points::parse(text, "p.toml").unwrap_err();
            assert!(error.starts_with("p.toml"), "{text:?}: {error}");
            assert!(error.contains(needle), "{text:?}: {error}");
        }
    }

    #[test]
    fn tests_and_declarations_are_matched_both_ways() {
        let points = Points::parse("[output]\na = 1\ngone = 1\n", "p").unwrap();
        let problems = points.mismatches(&["output::a", "output::new"]);
        assert_eq!(
            problems,
            [
                "the test output::new has no points (add it to tests/points.toml)",
                "output::gone in tests/points.toml is no test of the crate",
            ]
        );
        assert!(points.mismatches(&["output::a", "output::gone"]).is_empty());
    }
}
