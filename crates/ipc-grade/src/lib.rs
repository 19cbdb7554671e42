//! # ipc-grade
//!
//! The instructor's loop for ipc-lab: a **starter** of any experiment for
//! students, and a **grader** that scores their work with the
//! experiment's own tests, safely. `scripts/starter.sh` and
//! `scripts/grade.sh` run the `ipc-grade` program.
//!
//! | module | what |
//! | --- | --- |
//! | [`markers`] | the regions a student writes, marked in each experiment's source (`// STUDENT: <hint>` … `// END STUDENT`), and how a starter cuts them |
//! | [`points`] | what each check weighs, declared beside the crate's tests (`tests/points.toml`) |
//! | [`workspace`] | the workspace's files and experiments, found at run time; what a starter records (`STARTER.md`) |
//! | [`starter`] | a copy of the workspace with the chosen crates only, their regions replaced by `todo!("<hint>")` |
//! | [`submission`] | a student's submission, and the copy of its sources the grader takes (no link followed) |
//! | [`work`] | the grader's work directory: the shared base build, one locked slot per submission being graded |
//! | [`compile`] | each graded crate built on its own, on top of the reference built once |
//! | [`isolation`] | each build and check in namespaces of its own (bubblewrap) |
//! | [`supervise`] | the first process of those namespaces: runs, bounds and inspects the run |
//! | [`sandbox`] | without namespaces: a run in a session of its own, watched from outside |
//! | [`policy`] | what a student's code may not add: the means to fake a run's evidence |
//! | [`grade`] | a submission graded: the reference's tests against the student's sources, one at a time |
//! | [`class`] | a class at once, `--jobs` at a time, and its table |
//! | [`libtest`] | the test harness's output read: the tests of a binary, a failure in one line, a diff, an unfinished part |
//! | [`report`] | one line per check with its points, `Score: a/b`, JSON, a class's table (CSV and JSON) |
//! | [`answers`] | the handout's questions, the `ANSWERS.md` a starter writes, which are answered, the instructor's marks (`--marks`) |
//! | [`gradescope`] | a grading as Gradescope's `results.json`, and a strict check of one |
//! | [`handin`] | a student's hand-in: one `.tar.gz` of each crate's `src/` and `ANSWERS.md` with a manifest of hashes, checked as hostile input when unpacked |
//! | [`fakes`] | faked solutions kept for instructors (`instructor/fakes/`), to show they lose |
//!
//! A check is one test of the crate's `tests/` (the tests the reference
//! passes): `exp11-value: the locked total is exact on every run ... OK`.

pub mod answers;
pub mod class;
pub mod compile;
pub mod fakes;
pub mod grade;
pub mod gradescope;
pub mod handin;
pub mod isolation;
pub mod libtest;
pub mod markers;
pub mod points;
pub mod policy;
pub mod report;
pub mod sandbox;
pub mod starter;
pub mod submission;
pub mod supervise;
pub mod work;
pub mod workspace;

use std::fmt;

/// What can stop the starter or the grader (a failed check is not an
/// error: it is in the report).
#[derive(Debug)]
pub enum Error {
    /// Bad usage or bad input: exit code 2.
    Usage(String),
    /// A file or a program that failed, with what was being done.
    Io {
        /// What was being done (`copying a to b`).
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Anything else that failed: exit code 1.
    Failed(String),
    /// SIGINT or SIGTERM: the current check was killed and cleaned up.
    Interrupted,
}

impl Error {
    /// An I/O error while doing `what`.
    pub fn io(what: String, source: std::io::Error) -> Error {
        Error::Io { what, source }
    }

    /// The exit code a program ends with after this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(what) | Error::Failed(what) => f.write_str(what),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
            Error::Interrupted => {
                f.write_str("interrupted; the check that was running was killed and cleaned up")
            }
        }
    }
}

impl std::error::Error for Error {}

/// The result of everything here.
pub type Result<T> = std::result::Result<T, Error>;
