//! Grading a submission: the reference's tests, one at a time, against the
//! student's sources, each graded crate built on its own.
//!
//! The student's part of a submission is `exercises/<crate>/src/` of each
//! crate graded (or `src/` of a submitted crate directory), and its
//! `ANSWERS.md`. Everything else comes from the reference, the workspace
//! the grader belongs to: the library, the tests, the handouts,
//! `Cargo.toml` and `Cargo.lock`. So a student who changed a test, a
//! dependency or ipc-core is graded on the originals, and every student
//! of a class on the same checks.
//!
//! Each build and each check runs in namespaces of its own
//! ([`crate::isolation`]) where the machine allows it, otherwise in a
//! session of its own watched from outside ([`crate::sandbox`]); the
//! report records which, for every check.

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::compile::{self, Built};
use crate::isolation::{self, Isolation, Job, Namespaces};
use crate::libtest::{self, Unfinished};
use crate::markers::Region;
use crate::points::{Declared, Points, Weight};
use crate::report::{Check, CrateReport, Report};
use crate::sandbox::{Limits, Outcome, Sandbox};
use crate::submission::{Copied, Submission};
use crate::work::{Slot, Work};
use crate::workspace::{self, EXERCISES, Workspace};
use crate::{Error, Result};

/// How much of a failed test's output a report keeps.
const OUTPUT_KEPT: usize = 8 * 1024;

/// How a grading goes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The bounds of every check.
    pub limits: Limits,
    /// How long the build of one crate may take.
    pub build_timeout: Duration,
    /// Print progress on stderr.
    pub progress: bool,
    /// Run only the checks students see before the due date (not the
    /// hidden-input ones): the watch mode.
    pub visible_only: bool,
    /// Stop a crate at its first failed check with points (the watch
    /// mode).
    pub first_failure: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            build_timeout: Duration::from_secs(10 * 60),
            progress: true,
            visible_only: false,
            first_failure: false,
        }
    }
}

/// Grades submissions against the reference.
#[derive(Debug)]
pub struct Grader {
    reference: Workspace,
    options: Options,
    isolation: Isolation,
    work: Work,
    /// Host directories no run may see (the class, the grades, the work).
    hidden: Vec<PathBuf>,
    /// The reference's `ipc-lab-clean`, for the session sandbox.
    clean: Option<PathBuf>,
    /// The base build, once made (namespaces only).
    base: std::sync::OnceLock<std::result::Result<PathBuf, String>>,
}

impl Grader {
    /// A grader whose reference is `reference`, working in `work`, whose
    /// runs are supervised by `program` (the `ipc-grade` program itself).
    /// Finds out how runs can be isolated here.
    pub fn new(reference: Workspace, options: Options, work: Work, program: &Path) -> Grader {
        let isolation = Isolation::detect(reference.root(), program);
        let clean = match isolation {
            Isolation::Namespaces(_) => None,
            Isolation::Session(_) => build_clean(&reference),
        };
        Grader {
            hidden: vec![work.dir().to_owned()],
            reference,
            options,
            isolation,
            work,
            clean,
            base: std::sync::OnceLock::new(),
        }
    }

    /// The reference workspace.
    pub fn reference(&self) -> &Workspace {
        &self.reference
    }

    /// How runs are isolated.
    pub fn isolation(&self) -> &Isolation {
        &self.isolation
    }

    /// The work directory.
    pub fn work(&self) -> &Work {
        &self.work
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Hides `dir` from every run (a class's directory, the grades).
    pub fn hide(&mut self, dir: &Path) {
        self.hidden.push(dir.to_owned());
    }

    /// The crates `names` stands for (`all`, or experiment names), or the
    /// submission's default crates when `names` is empty.
    ///
    /// # Errors
    /// [`Error::Usage`] for an unknown name.
    pub fn crates(&self, submission: &Submission, names: &[String]) -> Result<Vec<String>> {
        if names.is_empty() {
            let known = self.reference.experiments()?;
            let crates: Vec<String> = submission
                .default_crates()?
                .into_iter()
                .filter(|c| known.contains(c))
                .collect();
            if crates.is_empty() {
                return Err(Error::Usage(format!(
                    "{} has no experiment to grade: name the crates",
                    submission.dir().display()
                )));
            }
            return Ok(crates);
        }
        crate::starter::resolve_crates(&self.reference, names)
    }

    fn progress(&self, line: &str) {
        if self.options.progress {
            eprintln!("{line}");
        }
    }

    /// Builds what every submission shares (the reference, in namespaces),
    /// once; later calls return at once.
    ///
    /// # Errors
    /// The reference does not build.
    pub fn prepare(&self) -> Result<()> {
        let Isolation::Namespaces(ns) = &self.isolation else {
            return Ok(());
        };
        let base = self.base.get_or_init(|| {
            compile::base(
                self.work.dir(),
                &self.reference,
                ns,
                self.options.build_timeout,
                &|line| self.progress(line),
            )
            .map_err(|e| e.to_string())
        });
        match base {
            Ok(_) => Ok(()),
            Err(e) if e == &Error::Interrupted.to_string() => Err(Error::Interrupted),
            Err(e) => Err(Error::Failed(e.clone())),
        }
    }

    /// Grades `crates` of `submission` in a free slot of the work
    /// directory, writing each check's lines to `out` as it ends.
    ///
    /// # Errors
    /// [`Error::Interrupted`] on SIGINT or SIGTERM; the work directory
    /// cannot be written; the reference does not build.
    pub fn grade(
        &self,
        submission: &Submission,
        crates: &[String],
        out: &mut dyn Write,
    ) -> Result<Report> {
        self.prepare()?;
        let slot = self.work.slot()?;
        let started = Instant::now();
        let copied = Copied::take(submission, crates, &slot.sources())?;
        let mut runs = self.runs(&slot, &copied)?;
        let mut reports = Vec::new();
        for krate in crates {
            let report = self.grade_crate(krate, submission, &copied, &mut runs, out)?;
            let _ = writeln!(out, "{}", crate::report::score_line(&report));
            reports.push(report);
        }
        drop(runs);
        let report = Report::new(&submission.dir().display().to_string(), reports);
        let _ = writeln!(
            out,
            "Score: {}/{}",
            crate::report::number(report.score),
            crate::report::number(report.total)
        );
        self.progress(&format!(
            "grade: {} graded in {:.0} s ({})",
            submission.dir().display(),
            started.elapsed().as_secs_f64(),
            self.isolation.name()
        ));
        Ok(report)
    }

    /// How the builds and checks of a submission run in `slot`.
    fn runs<'a>(&'a self, slot: &'a Slot, copied: &Copied) -> Result<Runs<'a>> {
        match &self.isolation {
            Isolation::Namespaces(ns) => {
                let base = match self.base.get() {
                    Some(Ok(base)) => base,
                    _ => return Err(Error::Failed("the reference was not built".into())),
                };
                let experiments = self.reference.experiments()?;
                let uid = ns.changes_user().then_some(slot.uid());
                compile::from_base(base, &slot.target(), &experiments, uid)?;
                let sources = copied
                    .sources
                    .iter()
                    .map(|(krate, copy)| {
                        (Path::new(EXERCISES).join(krate).join("src"), copy.clone())
                    })
                    .collect();
                Ok(Runs::Namespaces(InNamespaces {
                    ns,
                    slot,
                    sources,
                    grader: self,
                }))
            }
            Isolation::Session(_) => {
                let tree = slot.tree();
                assemble(&self.reference, copied, &tree)?;
                let target = slot.target();
                if !target.exists()
                    && let Ok(from) = self.reference.target_dir()
                {
                    let members = self.reference.members()?;
                    compile::seed_target(&from.join("debug"), &target.join("debug"), &members)?;
                }
                let sandbox = Sandbox::new(
                    &slot.scratch(),
                    &self.reference.root().join("scripts"),
                    self.clean.clone(),
                    self.options.limits,
                )?;
                Ok(Runs::Session(InSession {
                    sandbox,
                    tree,
                    target,
                    timeout: self.options.build_timeout,
                }))
            }
        }
    }

    fn grade_crate(
        &self,
        krate: &str,
        submission: &Submission,
        copied: &Copied,
        runs: &mut Runs<'_>,
        out: &mut dyn Write,
    ) -> Result<CrateReport> {
        let weights = self.weights(krate)?;
        let answers = self.answers(krate, submission, &weights.points)?;
        let broken = if let Some(why) = copied.refused.get(krate) {
            Some(why.clone())
        } else if !copied.sources.contains_key(krate) {
            Some(format!(
                "the submission has no {EXERCISES}/{krate}/src (nor src/ of a crate {krate})"
            ))
        } else {
            None
        };
        let built = match broken {
            Some(_) => Built::default(),
            None => {
                self.progress(&format!("grade: building {krate}"));
                runs.build(krate)?
            }
        };
        if let Some(error) = broken.or_else(|| built.broken(krate)) {
            // The checks are those of the reference's tests, all failed.
            let message = if error.starts_with("error") {
                compile::first_error(&error)
            } else {
                error.clone()
            };
            let mut checks = Vec::new();
            for (target, name) in self.reference_tests(krate)? {
                let mut check = weights.check(&format!("{target}::{name}"));
                if self.options.visible_only && check.hidden {
                    continue;
                }
                check.settle(false, Some(message.clone()));
                check.isolation = self.isolation.name().into();
                report_line(out, krate, &check);
                checks.push(check);
            }
            return Ok(CrateReport::new(krate, Some(error), checks, answers));
        }
        let policy = self.policy(krate, copied)?;
        let mut checks = Vec::new();
        let executables: Vec<&(String, String, PathBuf)> = built
            .executables
            .iter()
            .filter(|(c, _, _)| c == krate)
            .collect();
        'targets: for (_, target, exe) in executables {
            let cwd = Path::new(EXERCISES).join(krate);
            let listed = runs.run(exe, &["--list", "--format", "terse"], &cwd)?;
            for name in libtest::parse_list(&listed.stdout) {
                let mut check = weights.check(&format!("{target}::{name}"));
                if self.options.visible_only && check.hidden {
                    continue;
                }
                let args = ["--exact", &name, "--test-threads=1", "--color", "never"];
                let outcome = runs.run(exe, &args, &cwd)?;
                settle(&mut check, &name, &outcome, &weights, &policy);
                check.isolation = self.isolation.name().into();
                report_line(out, krate, &check);
                let failed = !check.passed && !check.baseline;
                checks.push(check);
                if failed && self.options.first_failure {
                    break 'targets;
                }
            }
        }
        let mut report = CrateReport::new(krate, None, checks, answers);
        report.warnings = built.warnings.get(krate).copied().unwrap_or(0);
        report.policy = policy;
        Ok(report)
    }

    /// The handout's questions of `krate`, answered or not in the
    /// submission's `ANSWERS.md`.
    fn answers(
        &self,
        krate: &str,
        submission: &Submission,
        points: &Points,
    ) -> Result<Vec<crate::report::Answer>> {
        let questions = crate::answers::read_questions(&self.reference.crate_dir(krate))?;
        let text = submission.answers(krate).unwrap_or_default();
        let answered = crate::answers::answered(&text, &questions);
        Ok(crate::answers::report_answers(&answered, points))
    }

    /// What the student's sources of `krate` add that could fake the
    /// evidence ([`crate::policy`]).
    fn policy(&self, krate: &str, copied: &Copied) -> Result<Vec<String>> {
        let Some(copy) = copied.sources.get(krate) else {
            return Ok(Vec::new());
        };
        let read_all = |dir: &Path| -> Result<Vec<(PathBuf, String)>> {
            let mut files = Vec::new();
            for path in rs_files(dir) {
                let text = fs::read_to_string(&path).unwrap_or_default();
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                files.push((Path::new("src").join(rel), text));
            }
            Ok(files)
        };
        let student = read_all(copy)?;
        let reference: Vec<String> = read_all(&self.reference.crate_dir(krate).join("src"))?
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        Ok(crate::policy::added(&student, &reference))
    }

    /// What the checks of `krate` weigh, and the hints of its regions,
    /// from the reference.
    fn weights(&self, krate: &str) -> Result<Weights> {
        let dir = self.reference.crate_dir(krate);
        // A crate without a points file yet: every test weighs a point
        // (tests/cli.rs requires one for every experiment).
        let points = if dir.join(crate::points::FILE).exists() {
            Points::read(&dir)?
        } else {
            Points::default()
        };
        let regions = crate::starter::crate_regions(&self.reference, krate)?
            .into_iter()
            .flat_map(|(_, regions)| regions)
            .collect();
        Ok(Weights { points, regions })
    }

    /// The tests of `krate` in the reference's sources, as (target, name):
    /// the checks when the student's version does not build.
    fn reference_tests(&self, krate: &str) -> Result<Vec<(String, String)>> {
        let dir = self.reference.crate_dir(krate).join("tests");
        let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        let mut tests = Vec::new();
        for file in files {
            let source = fs::read_to_string(&file)
                .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
            let target = libtest::target_name(&file);
            // In the order the test binary lists them.
            let mut names = libtest::tests_in_source(&source);
            names.sort();
            tests.extend(names.into_iter().map(|name| (target.clone(), name)));
        }
        Ok(tests)
    }
}

/// Settles `check` from the run of test `name`.
fn settle(check: &mut Check, name: &str, outcome: &Outcome, weights: &Weights, policy: &[String]) {
    let run = libtest::parse_run(name, &outcome.stdout);
    let mut passed = run.passed && outcome.clean_success();
    let mut reasons: Vec<String> = outcome.troubles.iter().map(ToString::to_string).collect();
    if !run.passed {
        let all = format!("{}\n{}", outcome.stdout, outcome.stderr);
        let why = libtest::unfinished(&all)
            .map(|u: Unfinished| u.to_string())
            .or_else(|| run.panic.as_deref().map(libtest::summary))
            .unwrap_or_else(|| match outcome.status {
                Some(status) => format!("the test ended with {status} and no message"),
                None => "the test was stopped".into(),
            });
        reasons.push(why);
    }
    // Said whether or not the check passed otherwise: a student who fixes
    // the other reason learns at once that this one stays.
    if !check.baseline && !policy.is_empty() {
        passed = false;
        reasons.push(format!(
            "not counted: the code uses what this lab does not need and what could fake a run's evidence: {} (remove it)",
            policy.join("; ")
        ));
    }
    check.settle(passed, Some(libtest::cap(&reasons.join("; "))));
    check.seconds = (outcome.seconds * 100.0).round() / 100.0;
    if !passed {
        check.at = run.at.clone();
        check.diff = run.panic.as_deref().and_then(libtest::diff);
        check.output = Some(keep_tail(&outcome.stdout, &outcome.stderr));
        if !check.baseline {
            check.hints = weights.hints(&check.id);
        }
    }
}

fn report_line(out: &mut dyn Write, krate: &str, check: &Check) {
    let _ = write!(out, "{}", crate::report::check_lines(krate, check));
    let _ = out.flush();
}

/// How a submission's builds and checks run.
enum Runs<'a> {
    /// In namespaces, in a slot whose build starts from the base.
    Namespaces(InNamespaces<'a>),
    /// In a session, in a copy of the tree.
    Session(InSession),
}

/// A submission's runs in namespaces.
struct InNamespaces<'a> {
    ns: &'a Namespaces,
    slot: &'a Slot,
    sources: Vec<(PathBuf, PathBuf)>,
    grader: &'a Grader,
}

/// A submission's runs in sessions, in a copy of the tree.
struct InSession {
    sandbox: Sandbox,
    tree: PathBuf,
    target: PathBuf,
    timeout: Duration,
}

impl Runs<'_> {
    fn build(&mut self, krate: &str) -> Result<Built> {
        match self {
            Runs::Namespaces(runs) => runs.build(krate),
            Runs::Session(runs) => {
                compile::cargo_here(&runs.tree, &runs.target, &[krate.to_owned()], runs.timeout)
            }
        }
    }

    /// Runs a test program `exe` (as the build named it) with `args` in
    /// the tree's `cwd`.
    fn run(&mut self, exe: &Path, args: &[&str], cwd: &Path) -> Result<Outcome> {
        match self {
            Runs::Namespaces(runs) => runs.run(exe, args, cwd),
            Runs::Session(runs) => {
                let mut command = Command::new(exe);
                command
                    .args(args)
                    .current_dir(runs.tree.join(cwd))
                    .env("CARGO_TARGET_DIR", &runs.target)
                    .env("RUST_BACKTRACE", "0");
                runs.sandbox.run(&command)
            }
        }
    }
}

impl InNamespaces<'_> {
    fn build(&self, krate: &str) -> Result<Built> {
        let target = self.slot.target();
        compile::unseal(&target)?;
        let built = compile::cargo_in_namespaces(
            self.ns,
            self.grader.reference.root(),
            &self.sources,
            &target,
            self.slot.uid(),
            &compile::test_build_args(&[krate.to_owned()]),
            self.grader.options.build_timeout,
        )?;
        compile::seal(&built, &target)?;
        Ok(built)
    }

    fn run(&self, exe: &Path, args: &[&str], cwd: &Path) -> Result<Outcome> {
        let mut command = vec![exe.as_os_str().to_owned()];
        command.extend(args.iter().map(Into::into));
        let mut env = vec![
            ("RUST_BACKTRACE".to_owned(), "0".into()),
            ("CARGO_TARGET_DIR".to_owned(), isolation::TARGET.into()),
            (
                "IPC_LAB_CLEAN".to_owned(),
                Path::new(isolation::TARGET)
                    .join(compile::CLEAN_PROGRAM)
                    .into(),
            ),
        ];
        if let Some(seed) = std::env::var_os("IPC_LAB_CHECK_SEED") {
            env.push(("IPC_LAB_CHECK_SEED".into(), seed));
        }
        let target = self.slot.target();
        let job = Job {
            reference: self.grader.reference.root(),
            sources: &self.sources,
            target: &target,
            build: false,
            uid: self.slot.uid(),
            limits: self.grader.options.limits,
            cwd: cwd.to_owned(),
            command,
            env,
            hide: &self.grader.hidden,
        };
        let started = Instant::now();
        let report = self.ns.run(&job)?;
        if let Some(error) = report.error {
            return Err(Error::Failed(format!("a check in namespaces: {error}")));
        }
        let status = match (report.code, report.signal) {
            (Some(code), _) => Some(ExitStatus::from_raw((code & 0xff) << 8)),
            (None, Some(signal)) => Some(ExitStatus::from_raw(signal)),
            (None, None) => None,
        };
        Ok(Outcome {
            status,
            stdout: report.stdout,
            stderr: report.stderr,
            troubles: report.troubles,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// The weights of a crate's checks and the regions their hints come from.
#[derive(Debug)]
struct Weights {
    points: Points,
    regions: Vec<Region>,
}

impl Weights {
    /// Check `id`, not yet run, weighed as declared (a test the crate's
    /// points file does not list weighs one point: the crate's own test
    /// of its points file fails on it).
    fn check(&self, id: &str) -> Check {
        let fallback = Declared {
            weight: Weight::Points(1),
            hidden: false,
            regions: Vec::new(),
        };
        Check::new(id, self.points.get(id).unwrap_or(&fallback))
    }

    /// The hints of the regions check `id` is about (every region of the
    /// crate when it names none).
    fn hints(&self, id: &str) -> Vec<String> {
        let named = self
            .points
            .get(id)
            .map(|d| d.regions.clone())
            .unwrap_or_default();
        self.regions
            .iter()
            .filter(|r| {
                named.is_empty()
                    || r.function
                        .as_ref()
                        .is_some_and(|f| named.iter().any(|n| n == f))
            })
            .map(|r| r.hint.clone())
            .collect()
    }
}

/// Without namespaces: the tree at `tree`, a copy of the reference with
/// the student's sources of the graded crates. An unchanged file keeps
/// its time, so that cargo does not rebuild what it built for the
/// previous submission.
fn assemble(reference: &Workspace, copied: &Copied, tree: &Path) -> Result<()> {
    let mut wanted = std::collections::BTreeSet::new();
    for file in reference.files()? {
        let graded = copied
            .sources
            .keys()
            .any(|c| file.starts_with(Path::new(EXERCISES).join(c).join("src")));
        if graded {
            continue;
        }
        let (from, to) = (reference.root().join(&file), tree.join(&file));
        if fs::read(&to).ok() != fs::read(&from).ok() {
            workspace::copy_file(&from, &to)?;
        }
        wanted.insert(file);
    }
    for (krate, copy) in &copied.sources {
        let rel = Path::new(EXERCISES).join(krate).join("src");
        let to = tree.join(&rel);
        let _ = fs::remove_dir_all(&to);
        for path in rs_files_and_more(copy) {
            let inner = path.strip_prefix(copy).unwrap_or(&path);
            workspace::copy_file(&path, &to.join(inner))?;
            wanted.insert(rel.join(inner));
        }
    }
    remove_unwanted(tree, Path::new(""), &wanted)?;
    let venv = reference.root().join(".venv");
    let link = tree.join(".venv");
    if venv.exists() && fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(&venv, &link)
            .map_err(|e| Error::io(format!("linking {}", link.display()), e))?;
    }
    Ok(())
}

/// The `.rs` files under `dir`, sorted.
fn rs_files(dir: &Path) -> Vec<PathBuf> {
    rs_files_and_more(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect()
}

/// Every regular file under `dir`, sorted.
fn rs_files_and_more(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(entry.path()),
                Ok(kind) if kind.is_file() => found.push(entry.path()),
                _ => {}
            }
        }
    }
    found.sort();
    found
}

/// Removes the files under `root/rel` that are not `wanted` (left by an
/// earlier submission), but not `.venv`.
fn remove_unwanted(
    root: &Path,
    rel: &Path,
    wanted: &std::collections::BTreeSet<PathBuf>,
) -> Result<()> {
    let dir = root.join(rel);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = rel.join(entry.file_name());
        if path == Path::new(".venv") {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            remove_unwanted(root, &path, wanted)?;
        } else if !wanted.contains(&path) {
            fs::remove_file(entry.path())
                .map_err(|e| Error::io(format!("removing {}", entry.path().display()), e))?;
        }
    }
    Ok(())
}

/// Builds the reference's `ipc-lab-clean` (for `scripts/clean.sh` in the
/// session sandbox), if it can.
fn build_clean(reference: &Workspace) -> Option<PathBuf> {
    let target = reference.target_dir().ok()?;
    // With the workspace's features: what `cargo test --workspace` built
    // is fresh.
    let built = Command::new("cargo")
        .args(["build", "--quiet", "--workspace", "--bin", "ipc-lab-clean"])
        .current_dir(reference.root())
        .stdin(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let bin = target.join("debug/ipc-lab-clean");
    (built && bin.is_file()).then_some(bin)
}

/// The end of a failed test's output, at most [`OUTPUT_KEPT`] bytes.
fn keep_tail(stdout: &str, stderr: &str) -> String {
    let mut text = stdout.to_owned();
    if !stderr.trim().is_empty() {
        text.push_str("\n--- stderr ---\n");
        text.push_str(stderr);
    }
    if text.len() > OUTPUT_KEPT {
        let mut cut = text.len() - OUTPUT_KEPT;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        text = format!("…{}", &text[cut..]);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_output_keeps_its_end() {
        let long = "x".repeat(OUTPUT_KEPT * 2) + "the end";
        let kept = keep_tail(&long, "");
        assert!(kept.ends_with("the end") && kept.starts_with('…'));
        assert!(kept.len() <= OUTPUT_KEPT + '…'.len_utf8());
    }
}
