//! A class at once: every submission of a directory, `--jobs` at a time,
//! and the table of students × crates.
//!
//! Each submission is graded in a slot of its own ([`crate::work`]), its
//! runs in namespaces of their own, so two submissions that use the same
//! fixed names pass side by side; the lines of each are printed together
//! once it is graded, in the order they end, and the table is in name
//! order, the same whatever `--jobs`. The reports go to a directory
//! outside the class (`CLASS-grades` beside it by default), where no
//! submission can be, whatever the students' directories are called.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::grade::Grader;
use crate::isolation::Isolation;
use crate::report::{Cell, Class, Report, Row};
use crate::submission::Submission;
use crate::work::Lock;
use crate::workspace;
use crate::{Error, Result};

/// One entry of a class directory.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The student: the entry's name (an archive's without `.tar.gz`).
    pub student: String,
    /// The directory, or the hand-in archive.
    pub path: PathBuf,
    /// A hand-in archive ([`crate::handin`]) rather than a directory.
    pub archive: bool,
}

/// The student an archive's file name stands for (`alice.tar.gz` is
/// `alice`), if it is one.
fn archive_student(name: &str) -> Option<&str> {
    name.strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".tgz"))
        .filter(|s| !s.is_empty())
}

/// The default directory of a class's reports: `CLASS-grades` beside it.
pub fn default_out(class: &Path) -> PathBuf {
    let name = class
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "class".into());
    class
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{name}-grades"))
}

/// The submissions of `class`: every directory in it, and every hand-in
/// archive (`NAME.tar.gz`, `NAME.tgz`), whose name does not start with
/// `.`, by name.
///
/// # Errors
/// [`Error::Usage`] when `class` is not a directory or holds no
/// submission.
pub fn entries(class: &Path) -> Result<Vec<Entry>> {
    if !class.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a directory",
            class.display()
        )));
    }
    let mut found: Vec<Entry> = std::fs::read_dir(class)
        .map_err(|e| Error::io(format!("reading {}", class.display()), e))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let kind = e.file_type().ok()?;
            let (student, archive) = if kind.is_dir() {
                (name.clone(), false)
            } else if kind.is_file() {
                (archive_student(&name)?.to_owned(), true)
            } else {
                return None;
            };
            Some(Entry {
                student,
                path: e.path(),
                archive,
            })
        })
        .filter(|e| !e.student.starts_with('.'))
        .collect();
    found.sort_by(|a, b| a.student.cmp(&b.student));
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no submission (a directory or a NAME.tar.gz hand-in per student)",
            class.display()
        )));
    }
    Ok(found)
}

/// What grading a class gave.
#[derive(Debug)]
pub struct Graded {
    /// The table.
    pub table: Class,
    /// Every submission was graded (none failed to be).
    pub all_graded: bool,
}

/// Grades every submission of `class` with `grader`, `jobs` at a time,
/// writing each student's report to `out/students/` and the table to
/// `out/class.csv` and `out/class.json`; each submission's lines go to
/// `lines` as it is done. `marks`, the instructor's marks of the written
/// answers, are added to the totals.
///
/// # Errors
/// [`Error::Usage`] for a bad class or `out` inside it; another grader
/// writing `out`; [`Error::Interrupted`].
pub fn grade(
    grader: &Grader,
    class: &Path,
    out: &Path,
    names: &[String],
    jobs: usize,
    marks: Option<&crate::answers::Marks>,
    lines: &Mutex<&mut (dyn Write + Send)>,
) -> Result<Graded> {
    let students = entries(class)?;
    let class_real = class
        .canonicalize()
        .map_err(|e| Error::io(format!("resolving {}", class.display()), e))?;
    std::fs::create_dir_all(out.join("students"))
        .map_err(|e| Error::io(format!("creating {}", out.display()), e))?;
    let out_real = out
        .canonicalize()
        .map_err(|e| Error::io(format!("resolving {}", out.display()), e))?;
    if out_real.starts_with(&class_real) {
        return Err(Error::Usage(format!(
            "{} is inside the class {}: the reports go where no submission can be (--out DIR elsewhere)",
            out.display(),
            class.display()
        )));
    }
    let Some(_held) = Lock::try_exclusive(&out.join(".lock"))? else {
        return Err(Error::Usage(format!(
            "another grader is writing {} (to grade the same class twice at once, give the second --out DIR)",
            out.display()
        )));
    };
    if let Isolation::Session(why) = grader.isolation() {
        eprintln!(
            "grade: note: no namespaces here ({why}); each check runs in a session of its own, watched from outside, one submission at a time"
        );
    }
    grader.prepare()?;
    let jobs = match grader.isolation() {
        // Without namespaces two runs would share /dev/shm and /tmp.
        Isolation::Session(_) => 1,
        Isolation::Namespaces(_) => jobs.clamp(1, students.len()),
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, std::result::Result<Report, String>>> =
        Mutex::new(BTreeMap::new());
    let interrupted = Mutex::new(false);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = students.get(i) else { break };
                    if *lock(&interrupted) {
                        break;
                    }
                    let mut buffer = Vec::new();
                    let _ = writeln!(buffer, "== {}", entry.student);
                    let graded = open(grader, entry).and_then(|(submission, unpacked)| {
                        let crates = grader.crates(&submission, names)?;
                        let report = grader.grade(&submission, &crates, &mut buffer);
                        if let Some(dir) = unpacked {
                            let _ = std::fs::remove_dir_all(dir);
                        }
                        let mut report = report?;
                        report.dir = entry.path.display().to_string();
                        Ok(report)
                    });
                    let result = match graded {
                        Ok(report) => Ok(report),
                        Err(Error::Interrupted) => {
                            *lock(&interrupted) = true;
                            break;
                        }
                        Err(error) => {
                            let _ = writeln!(buffer, "{}: not graded: {error}", entry.student);
                            Err(error.to_string())
                        }
                    };
                    {
                        let mut out = lock(lines);
                        let _ = out.write_all(&buffer);
                        let _ = out.flush();
                    }
                    lock(&results).insert(i, result);
                }
            });
        }
    });
    if *lock(&interrupted) {
        return Err(Error::Interrupted);
    }
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(marks) = marks {
        let reports = results.iter_mut().filter_map(|(i, r)| {
            let report = r.as_mut().ok()?;
            Some((students[*i].student.as_str(), report))
        });
        let applied = marks.apply_class(reports)?;
        eprintln!("grade: {applied} marks added from the marked table");
    }
    let order = grader.reference().experiments()?;
    let mut table = Class {
        crates: Vec::new(),
        questions: BTreeMap::new(),
        students: Vec::new(),
    };
    let mut all_graded = true;
    for (i, entry) in students.iter().enumerate() {
        let result = results
            .get(&i)
            .cloned()
            .unwrap_or_else(|| Err("not graded".into()));
        let file = format!("students/{}.json", entry.student);
        let row = match result {
            Ok(report) => {
                for krate in &report.crates {
                    if !table.crates.contains(&krate.name) {
                        table.crates.push(krate.name.clone());
                    }
                    let numbers: Vec<u32> = krate.answers.iter().map(|a| a.number).collect();
                    let entry = table.questions.entry(krate.name.clone()).or_default();
                    for n in numbers {
                        if !entry.contains(&n) {
                            entry.push(n);
                        }
                    }
                }
                workspace::write_file(
                    &out.join(format!("students/{}.txt", entry.student)),
                    report.text().as_bytes(),
                )?;
                write_json(&out.join(&file), &report)?;
                row(&entry.student, &file, Some(&report), None)
            }
            Err(error) => {
                all_graded = false;
                row(&entry.student, &file, None, Some(error))
            }
        };
        table.students.push(row);
    }
    table
        .crates
        .sort_by_key(|c| order.iter().position(|o| o == c));
    for questions in table.questions.values_mut() {
        questions.sort_unstable();
    }
    workspace::write_file(&out.join("class.csv"), table.csv().as_bytes())?;
    write_json(&out.join("class.json"), &table)?;
    Ok(Graded { table, all_graded })
}

/// The submission of `entry`: its directory, or its archive checked and
/// unpacked into the work directory (returned, to be removed after).
fn open(grader: &Grader, entry: &Entry) -> Result<(Submission, Option<PathBuf>)> {
    if !entry.archive {
        return Ok((Submission::at(&entry.path)?, None));
    }
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = grader.work().dir().join(format!(
        "unpacked-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(error) = crate::handin::unpack(&entry.path, &dir) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(Error::Usage(format!("hand-in refused: {error}")));
    }
    Ok((Submission::at(&dir)?, Some(dir)))
}

fn row(student: &str, file: &str, report: Option<&Report>, error: Option<String>) -> Row {
    let scores = report
        .iter()
        .flat_map(|r| &r.crates)
        .map(|k| {
            let cell = Cell {
                score: k.score,
                total: k.total,
                answers: k.answers.clone(),
            };
            (k.name.clone(), cell)
        })
        .collect();
    Row {
        student: student.to_owned(),
        scores,
        score: report.map_or(0.0, |r| r.score),
        total: report.map_or(0.0, |r| r.total),
        report: file.to_owned(),
        error,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes `value` as pretty JSON to `path`.
///
/// # Errors
/// The file cannot be written.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Failed(format!("JSON: {e}")))?;
    workspace::write_file(path, format!("{text}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_name_is_a_student_and_the_reports_go_beside_the_class() {
        let dir = ipc_testkit::TempDir::new("class");
        let class = dir.join("class");
        for name in ["grades", "class", "=1+2", "with space", ".hidden"] {
            std::fs::create_dir_all(class.join(name)).unwrap();
        }
        std::fs::write(class.join("notes.txt"), "").unwrap();
        let students: Vec<String> = entries(&class)
            .unwrap()
            .into_iter()
            .map(|e| e.student)
            .collect();
        assert_eq!(students, ["=1+2", "class", "grades", "with space"]);
        assert_eq!(default_out(&class), dir.join("class-grades"));
    }
}
