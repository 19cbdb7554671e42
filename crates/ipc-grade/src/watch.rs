//! The student's watch mode (`scripts/watch.sh CRATE`): the crate's
//! visible checks again each time one of its files is saved, stopping at
//! the first that fails, with its difference, the hint of its region and
//! the points so far, as rustlings' watch mode does.
//!
//! The checks are the grader's own, run the same way (in namespaces where
//! the machine allows them), on the student's workspace, which is its own
//! reference; the checks on inputs the handout never shows are left for
//! the grader.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::grade::Grader;
use crate::points::Points;
use crate::report::{Report, number};
use crate::submission::Submission;
use crate::workspace::EXERCISES;
use crate::{Error, Result};

/// What a crate's files looked like: each file's size and time.
type Snapshot = BTreeMap<PathBuf, (u64, Option<SystemTime>)>;

/// The files under `exercises/<crate>` of each of `crates` in `root`.
fn snapshot(root: &Path, crates: &[String]) -> Snapshot {
    let mut found = Snapshot::new();
    for krate in crates {
        let mut stack = vec![root.join(EXERCISES).join(krate)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_dir() {
                    stack.push(entry.path());
                } else {
                    found.insert(entry.path(), (meta.len(), meta.modified().ok()));
                }
            }
        }
    }
    found
}

/// Grades `crates` of the workspace at `root` each time one of their
/// files changes, until SIGINT or SIGTERM (or, with `once`, after the
/// first grading). `out` gets what the student reads.
///
/// # Errors
/// The workspace cannot be graded (a crate without tests, the reference
/// not building); not [`Error::Interrupted`], which ends the watch.
pub fn watch(grader: &Grader, crates: &[String], once: bool, out: &mut dyn Write) -> Result<()> {
    let root = grader.reference().root().to_owned();
    let submission = Submission::at(&root)?;
    let visible: BTreeMap<String, u32> = crates
        .iter()
        .map(|krate| {
            let points = Points::read(&grader.reference().crate_dir(krate)).unwrap_or_default();
            let total = points
                .checks()
                .filter(|(_, d)| !d.hidden)
                .map(|(_, d)| d.weight.points())
                .sum();
            (krate.clone(), total)
        })
        .collect();
    let mut last: Option<Snapshot> = None;
    loop {
        let now = snapshot(&root, crates);
        if last.as_ref() != Some(&now) {
            let _ = writeln!(
                out,
                "\n== checking {} (the checks on inputs the handout never shows are the grader's)",
                crates.join(" ")
            );
            match grader.grade(&submission, crates, out) {
                Ok(report) => summary(&report, &visible, out),
                Err(Error::Interrupted) => return Ok(()),
                Err(error) => return Err(error),
            }
            if once {
                return Ok(());
            }
            let _ = writeln!(
                out,
                "== waiting for a change to {} (Ctrl-C to stop)",
                crates
                    .iter()
                    .map(|c| format!("{EXERCISES}/{c}/"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let _ = out.flush();
            last = Some(now);
        }
        if ipc_core::signal::interrupted() {
            return Ok(());
        }
        std::thread::sleep(ipc_core::blocking::POLL_INTERVAL);
    }
}

/// What the student reads after each grading: the points so far of the
/// visible checks, and what to do next.
fn summary(report: &Report, visible: &BTreeMap<String, u32>, out: &mut dyn Write) {
    for krate in &report.crates {
        let total = visible.get(&krate.name).copied().unwrap_or(0);
        let failed = krate.checks.iter().find(|c| !c.passed);
        let _ = match failed {
            None => writeln!(
                out,
                "{}: every visible check passes: {}/{total} points (the grader also runs it on inputs of its own)",
                krate.name,
                number(krate.score)
            ),
            Some(check) => writeln!(
                out,
                "{}: {}/{total} points so far; next: make \"{}\" pass (above: what it expected, and the hint)",
                krate.name,
                number(krate.score),
                check.name
            ),
        };
        let unanswered: Vec<String> = krate
            .answers
            .iter()
            .filter(|a| !a.answered)
            .map(|a| a.number.to_string())
            .collect();
        if !unanswered.is_empty() {
            let _ = writeln!(
                out,
                "{}: questions not answered yet in {EXERCISES}/{}/ANSWERS.md: {}",
                krate.name,
                krate.name,
                unanswered.join(", ")
            );
        }
    }
}
