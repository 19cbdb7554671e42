//! Grading a submission: the reference's tests, run one at a time in the
//! [`Sandbox`] against the student's source.
//!
//! The student's part of a submission is `exercises/<crate>/src/` of each
//! crate graded (or `src/` of a submitted crate directory). Everything else
//! comes from the reference, the workspace the grader belongs to: the
//! library, the tests, the handouts, `Cargo.toml` and `Cargo.lock`. So a
//! student who changed a test, a dependency or ipc-core is graded on the
//! originals, and every student of a class is graded on the same checks.
//! The grading tree is put together in a work directory (inside the
//! submission, or inside the class's directory), and built there with a
//! target directory of its own; grading the reference itself needs no copy
//! and uses its own target directory.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::libtest::{self, Unfinished};
use crate::markers::Region;
use crate::points::{Declared, Points, Weight};
use crate::report::{Check, CrateReport, Report};
use crate::sandbox::{Limits, Sandbox};
use crate::workspace::{self, EXERCISES, Workspace};
use crate::{Error, Result};

/// The name of the work directory, inside the graded (or class) directory.
pub const WORK_DIR: &str = ".grade";

/// How much of a failed test's output a report keeps.
const OUTPUT_KEPT: usize = 8 * 1024;

/// How a grading goes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The bounds of every check.
    pub limits: Limits,
    /// How long the build of a submission may take.
    pub build_timeout: Duration,
    /// Print each check's line as it ends (and progress on stderr).
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            build_timeout: Duration::from_secs(30 * 60),
            progress: true,
        }
    }
}

/// What a submission directory holds.
#[derive(Debug, Clone)]
pub enum Submission {
    /// A copy of the workspace (a starter, worked on), or at least its
    /// `exercises/` directory.
    Workspace(PathBuf),
    /// One crate's directory (`Cargo.toml`, `src/`), named by its package.
    Crate(PathBuf, String),
}

impl Submission {
    /// What `dir` holds.
    ///
    /// # Errors
    /// [`Error::Usage`] when it is neither a workspace nor a crate.
    pub fn at(dir: &Path) -> Result<Submission> {
        let dir = &dir
            .canonicalize()
            .map_err(|e| Error::Usage(format!("{}: {e}", dir.display())))?;
        // Only the sources are used: `exercises/` is enough.
        if dir.join(EXERCISES).is_dir() {
            return Ok(Submission::Workspace(dir.to_owned()));
        }
        if let Some(name) = workspace::package_name(dir) {
            return Ok(Submission::Crate(dir.to_owned(), name));
        }
        Err(Error::Usage(format!(
            "{} is neither an ipc-lab workspace (with {EXERCISES}/) nor a crate (Cargo.toml with [package], src/)",
            dir.display()
        )))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        match self {
            Submission::Workspace(dir) | Submission::Crate(dir, _) => dir,
        }
    }

    /// The crates to grade when none are named: a starter's crates (its
    /// `STARTER.md`), else every experiment of a workspace, or the crate
    /// submitted.
    ///
    /// # Errors
    /// `exercises/` cannot be read.
    pub fn default_crates(&self) -> Result<Vec<String>> {
        match self {
            Submission::Crate(_, name) => Ok(vec![name.clone()]),
            Submission::Workspace(dir) => match workspace::starter_crates(dir) {
                Some(crates) if !crates.is_empty() => Ok(crates),
                _ => workspace::experiments_in(dir),
            },
        }
    }

    /// The student's source of `krate`, if the submission has it.
    pub fn source(&self, krate: &str) -> Option<PathBuf> {
        let src = match self {
            Submission::Workspace(dir) => dir.join(EXERCISES).join(krate).join("src"),
            Submission::Crate(dir, name) if name == krate => dir.join("src"),
            Submission::Crate(..) => return None,
        };
        src.is_dir().then_some(src)
    }
}

/// Grades submissions against the reference.
#[derive(Debug)]
pub struct Grader {
    reference: Workspace,
    options: Options,
    clean: Option<PathBuf>,
}

/// The tree a submission is graded in.
#[derive(Debug)]
struct Tree {
    /// The workspace built and tested.
    root: PathBuf,
    /// Its target directory.
    target: PathBuf,
    /// Where the sandbox keeps its temporary and audit files.
    scratch: PathBuf,
    /// Built here rather than in a copy.
    in_place: bool,
}

impl Grader {
    /// A grader whose reference is `reference`. Builds the reference's
    /// `ipc-lab-clean` (for `scripts/clean.sh`) if it can.
    pub fn new(reference: Workspace, options: Options) -> Grader {
        let clean = reference.target_dir().ok().and_then(|target| {
            // With the workspace's features: what `cargo test --workspace`
            // built is fresh.
            let built = Command::new("cargo")
                .args(["build", "--quiet", "--workspace", "--bin", "ipc-lab-clean"])
                .current_dir(reference.root())
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            let bin = target.join("debug/ipc-lab-clean");
            (built && bin.is_file()).then_some(bin)
        });
        Grader {
            reference,
            options,
            clean,
        }
    }

    /// The reference workspace.
    pub fn reference(&self) -> &Workspace {
        &self.reference
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

    /// Grades `crates` of `submission`, working in `work` (or in place when
    /// the submission is the reference itself), writing each check's line
    /// to `out` as it ends.
    ///
    /// # Errors
    /// [`Error::Interrupted`] on SIGINT or SIGTERM; a work directory that
    /// cannot be written; the reference's build tools missing.
    pub fn grade(
        &self,
        submission: &Submission,
        crates: &[String],
        work: &Path,
        out: &mut dyn Write,
    ) -> Result<Report> {
        let tree = self.prepare(submission, crates, work)?;
        let started = Instant::now();
        self.progress(format_args!(
            "grade: building {} ({})",
            crates.join(" "),
            if tree.in_place {
                format!("in place, {}", tree.target.display())
            } else {
                format!("in {}", tree.root.display())
            }
        ));
        let build = self.build(&tree, crates)?;
        self.progress(format_args!(
            "grade: built in {:.0} s; running the checks one at a time",
            started.elapsed().as_secs_f64()
        ));
        let mut sandbox = Sandbox::new(
            &tree.scratch,
            &self.reference.root().join("scripts"),
            self.clean.clone(),
            self.options.limits,
        )?;
        let mut graded = || {
            let mut reports = Vec::new();
            for krate in crates {
                let report =
                    self.grade_crate(&tree, krate, &build, &mut sandbox, submission, out)?;
                let _ = writeln!(out, "{}", crate::report::score_line(&report));
                reports.push(report);
            }
            Ok(reports)
        };
        let reports = graded();
        // Graded or interrupted, the scratch directory goes, and grading
        // in place leaves nothing in the work directory.
        let _ = fs::remove_dir_all(&tree.scratch);
        let _ = fs::remove_dir(work);
        let reports = reports?;
        let report = Report::new(&submission.dir().display().to_string(), reports);
        let _ = writeln!(
            out,
            "Score: {}/{}",
            crate::report::number(report.score),
            crate::report::number(report.total)
        );
        Ok(report)
    }

    fn progress(&self, line: std::fmt::Arguments<'_>) {
        if self.options.progress {
            eprintln!("{line}");
        }
    }

    /// The tree to grade in: the reference itself, or a copy of it in
    /// `work/ws` with the student's sources of `crates`.
    fn prepare(&self, submission: &Submission, crates: &[String], work: &Path) -> Result<Tree> {
        let same = submission
            .dir()
            .canonicalize()
            .is_ok_and(|dir| dir == self.reference.root());
        if same {
            return Ok(Tree {
                root: self.reference.root().to_owned(),
                target: self.reference.target_dir()?,
                scratch: work.join("scratch"),
                in_place: true,
            });
        }
        let root = work.join("ws");
        let mut wanted = BTreeSet::new();
        let graded: Vec<PathBuf> = crates
            .iter()
            .map(|c| Path::new(EXERCISES).join(c).join("src"))
            .collect();
        for file in self.reference.files()? {
            if graded.iter().any(|g| file.starts_with(g)) {
                continue;
            }
            let from = self.reference.root().join(&file);
            let to = root.join(&file);
            // An unchanged file keeps its time, so that cargo does not
            // rebuild what it built for the previous submission.
            if fs::read(&to).ok() != fs::read(&from).ok() {
                workspace::copy_file(&from, &to)?;
            }
            wanted.insert(file);
        }
        for (krate, src) in crates.iter().zip(&graded) {
            let to = root.join(src);
            let _ = fs::remove_dir_all(&to);
            if let Some(from) = submission.source(krate) {
                copy_tree(&from, &to, src, &mut wanted)?;
            }
        }
        remove_unwanted(&root, Path::new(""), &wanted)?;
        let venv = self.reference.root().join(".venv");
        let link = root.join(".venv");
        if venv.is_dir() && fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(&venv, &link)
                .map_err(|e| Error::io(format!("linking {}", link.display()), e))?;
        }
        let target = work.join("target");
        if !target.exists()
            && let Ok(from) = self.reference.target_dir()
        {
            let members = self.reference.members()?;
            let copied = seed_target(&from.join("debug"), &target.join("debug"), &members)?;
            if copied > 0 {
                self.progress(format_args!(
                    "grade: {copied} compiled dependencies copied from {}",
                    from.display()
                ));
            }
        }
        Ok(Tree {
            root,
            target,
            scratch: work.join("scratch"),
            in_place: false,
        })
    }

    /// Builds the integration tests of `crates` (and so their programs),
    /// going on past a crate that does not compile.
    fn build(&self, tree: &Tree, crates: &[String]) -> Result<Build> {
        let mut command = Command::new("cargo");
        command
            .args([
                "test",
                "--no-run",
                "--locked",
                "--no-fail-fast",
                "--message-format=json",
            ])
            .args(crates.iter().flat_map(|c| ["-p", c.as_str()]))
            .args(["--test", "*"])
            .current_dir(&tree.root)
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if !tree.in_place {
            command
                .env("CARGO_TARGET_DIR", &tree.target)
                .env("CARGO_INCREMENTAL", "0");
        }
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command
            .spawn()
            .map_err(|e| Error::io("starting cargo test --no-run".into(), e))?;
        let stdout = child.stdout.take().expect("piped");
        let lines = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(|l| l.ok())
                .collect::<Vec<String>>()
        });
        let mut stderr = child.stderr.take().expect("piped");
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let deadline = Instant::now() + self.options.build_timeout;
        let status = loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| Error::io("waiting for cargo".into(), e))?
            {
                break Some(status);
            }
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            if ipc_core::signal::interrupted() {
                let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
                let _ = child.wait();
                return Err(Error::Interrupted);
            }
            if Instant::now() >= deadline {
                let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let lines = lines.join().unwrap_or_default();
        let stderr = errors.join().unwrap_or_default();
        let mut build = Build::parse(&lines, &tree.root);
        if status.is_none() {
            build.fatal = Some(format!(
                "the build did not end within {} s; killed",
                self.options.build_timeout.as_secs()
            ));
        } else if build.executables.is_empty()
            && build.errors.is_empty()
            && !status.is_some_and(|s| s.success())
        {
            // Cargo stopped before compiling anything: a broken manifest,
            // a missing dependency.
            build.fatal = Some(libtest::cap(
                stderr
                    .lines()
                    .find(|l| l.starts_with("error"))
                    .unwrap_or("cargo test --no-run failed"),
            ));
        }
        Ok(build)
    }

    fn grade_crate(
        &self,
        tree: &Tree,
        krate: &str,
        build: &Build,
        sandbox: &mut Sandbox,
        submission: &Submission,
        out: &mut dyn Write,
    ) -> Result<CrateReport> {
        let crate_dir = tree.root.join(EXERCISES).join(krate);
        let executables: Vec<&(String, String, PathBuf)> = build
            .executables
            .iter()
            .filter(|(c, _, _)| c == krate)
            .collect();
        let broken = if submission.source(krate).is_none() && !tree.in_place {
            Some(format!(
                "the submission has no {EXERCISES}/{krate}/src (nor src/ of a crate {krate})"
            ))
        } else if let Some(fatal) = &build.fatal {
            Some(fatal.clone())
        } else if let Some(errors) = build.errors.get(krate) {
            Some(errors.join("\n"))
        } else if executables.is_empty() {
            let others: Vec<&str> = build.errors.keys().map(String::as_str).collect();
            Some(format!(
                "error: not built: a crate it needs did not compile ({})",
                others.join(", ")
            ))
        } else {
            None
        };
        let weights = self.weights(krate)?;
        let mut checks = Vec::new();
        if let Some(error) = &broken {
            // The checks are those of the reference's tests, all failed.
            let message = first_error(error);
            for (target, name) in self.reference_tests(krate)? {
                let mut check = weights.check(&format!("{target}::{name}"));
                check.settle(false, Some(message.clone()));
                self.report_line(out, krate, &check);
                checks.push(check);
            }
            return Ok(CrateReport::new(
                krate,
                Some(error.clone()),
                checks,
                Vec::new(),
            ));
        }
        let warnings = build.warnings.get(krate).copied().unwrap_or(0);
        for (_, target, exe) in executables {
            let mut list = Command::new(exe);
            list.args(["--list", "--format", "terse"])
                .current_dir(&crate_dir);
            let listed = sandbox.run(&list)?;
            let names = libtest::parse_list(&listed.stdout);
            for name in names {
                let mut command = Command::new(exe);
                command
                    .args(["--exact", &name, "--test-threads=1", "--color", "never"])
                    .current_dir(&crate_dir)
                    .env("CARGO_TARGET_DIR", &tree.target)
                    .env("RUST_BACKTRACE", "0");
                let outcome = sandbox.run(&command)?;
                let run = libtest::parse_run(&name, &outcome.stdout);
                let passed = run.passed && outcome.clean_success();
                let mut reasons: Vec<String> =
                    outcome.troubles.iter().map(ToString::to_string).collect();
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
                let mut check = weights.check(&format!("{target}::{name}"));
                check.settle(passed, Some(libtest::cap(&reasons.join("; "))));
                check.seconds = (outcome.seconds * 100.0).round() / 100.0;
                check.isolation = sandbox.isolation().into();
                if !passed {
                    check.at = run.at.clone();
                    check.diff = run.panic.as_deref().and_then(libtest::diff);
                    check.output = Some(keep_tail(&outcome.stdout, &outcome.stderr));
                    if !check.baseline {
                        check.hints = weights.hints(&check.id);
                    }
                }
                self.report_line(out, krate, &check);
                checks.push(check);
            }
        }
        let mut report = CrateReport::new(krate, None, checks, Vec::new());
        report.warnings = warnings;
        Ok(report)
    }

    /// What the checks of `krate` weigh, and the hints of its regions,
    /// from the reference.
    fn weights(&self, krate: &str) -> Result<Weights> {
        let dir = self.reference.crate_dir(krate);
        // A crate without a points file yet: every test weighs a point.
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

    fn report_line(&self, out: &mut dyn Write, krate: &str, check: &Check) {
        let _ = write!(out, "{}", crate::report::check_lines(krate, check));
        let _ = out.flush();
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

/// What a build gave: the test executables, by crate, and the compiler's
/// errors, by crate.
#[derive(Debug, Default)]
struct Build {
    /// (crate, test target, executable), in the order cargo built them
    /// (sorted by crate and target afterwards).
    executables: Vec<(String, String, PathBuf)>,
    /// The rendered errors of each crate that did not compile.
    errors: std::collections::BTreeMap<String, Vec<String>>,
    /// What stopped the whole build.
    fatal: Option<String>,
    /// How many warnings each crate's sources got.
    warnings: std::collections::BTreeMap<String, usize>,
}

impl Build {
    /// Reads cargo's `--message-format=json` lines.
    fn parse(lines: &[String], root: &Path) -> Build {
        let mut build = Build::default();
        for line in lines {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            match message["reason"].as_str() {
                Some("compiler-artifact") => {
                    let kinds = &message["target"]["kind"];
                    let is_test = kinds
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "test"));
                    let (Some(exe), Some(src)) = (
                        message["executable"].as_str(),
                        message["target"]["src_path"].as_str(),
                    ) else {
                        continue;
                    };
                    if let (true, Some(krate)) = (is_test, crate_of(Path::new(src), root)) {
                        build.executables.push((
                            krate,
                            libtest::target_name(Path::new(src)),
                            PathBuf::from(exe),
                        ));
                    }
                }
                Some("compiler-message") if message["message"]["level"] == "warning" => {
                    if let Some(krate) = message["target"]["src_path"]
                        .as_str()
                        .and_then(|src| crate_of(Path::new(src), root))
                    {
                        *build.warnings.entry(krate).or_default() += 1;
                    }
                }
                Some("compiler-message") if message["message"]["level"] == "error" => {
                    let rendered = message["message"]["rendered"].as_str().unwrap_or("error");
                    let krate = message["target"]["src_path"]
                        .as_str()
                        .and_then(|src| crate_of(Path::new(src), root))
                        .unwrap_or_default();
                    build
                        .errors
                        .entry(krate)
                        .or_default()
                        .push(rendered.trim_end().to_owned());
                }
                _ => {}
            }
        }
        build.executables.sort();
        build.executables.dedup();
        // An error outside the experiments stops them all.
        if let Some(errors) = build.errors.remove("") {
            build.fatal = Some(errors.join("\n"));
        }
        build
    }
}

/// The experiment a source file belongs to: the directory after
/// `exercises/`, below `root`.
fn crate_of(src: &Path, root: &Path) -> Option<String> {
    let rel = src.strip_prefix(root).unwrap_or(src);
    let mut parts = rel.components();
    while let Some(part) = parts.next() {
        if part.as_os_str() == EXERCISES {
            return parts
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
        }
    }
    None
}

/// A compiler error in one line: its first line and where it is
/// (`error[E0425]: cannot find value `x` in this scope (exercises/exp7-shm/src/lib.rs:16)`).
fn first_error(errors: &str) -> String {
    let mut lines = errors.lines();
    let head = lines.next().unwrap_or("error").trim();
    let at = errors
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map(|l| {
            let l = l.trim();
            // file:line:column → file:line
            match l.rsplit_once(':') {
                Some((rest, col)) if col.bytes().all(|b| b.is_ascii_digit()) => rest.to_owned(),
                _ => l.to_owned(),
            }
        });
    let head = head.strip_prefix("error: ").unwrap_or(head);
    libtest::cap(&match at {
        Some(at) => format!("does not compile: {head} ({at})"),
        None => format!("does not compile: {head}"),
    })
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

/// Seeds `to`, a new target profile directory (`…/debug`), with what
/// `from`, the reference's, compiled of every package that is not one of
/// the workspace's `members` (package names): the dependencies from
/// crates.io, whose compiled form does not depend on where the workspace
/// is. Cargo finds them fresh and builds only the workspace's own crates.
/// Returns how many files were copied (0 when `from` has none).
fn seed_target(from: &Path, to: &Path, members: &BTreeSet<String>) -> Result<usize> {
    let ours = |name: &str| members.contains(&name.replace('_', "-"));
    // `name-0123abcd…` (a directory of .fingerprint/ or build/, a .d file).
    let package = |stem: &str| stem.rsplit_once('-').map(|(name, _)| name.to_owned());
    let mut copied = 0;
    for dir in [".fingerprint", "build"] {
        let Ok(entries) = fs::read_dir(from.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if package(&name).is_some_and(|p| !ours(&p)) && entry.path().is_dir() {
                copied += copy_all(&entry.path(), &to.join(dir).join(&name))?;
            }
        }
    }
    if let Ok(entries) = fs::read_dir(from.join("deps")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = match name.rsplit_once('.') {
                Some((stem, "rlib" | "rmeta" | "so")) => stem.strip_prefix("lib").unwrap_or(stem),
                Some((stem, "d")) => stem,
                _ => continue,
            };
            if package(stem).is_some_and(|p| !ours(&p)) {
                workspace::copy_file(&entry.path(), &to.join("deps").join(&name))?;
                copied += 1;
            }
        }
    }
    Ok(copied)
}

/// Copies everything under `from` to `to`; returns how many files.
fn copy_all(from: &Path, to: &Path) -> Result<usize> {
    let mut copied = 0;
    let entries =
        fs::read_dir(from).map_err(|e| Error::io(format!("reading {}", from.display()), e))?;
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copied += copy_all(&entry.path(), &target)?;
        } else if kind.is_file() {
            workspace::copy_file(&entry.path(), &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Copies the regular files under `from` to `to` (fresh files, so that
/// cargo rebuilds), noting each in `wanted` as `rel/…`.
fn copy_tree(from: &Path, to: &Path, rel: &Path, wanted: &mut BTreeSet<PathBuf>) -> Result<()> {
    let entries =
        fs::read_dir(from).map_err(|e| Error::io(format!("reading {}", from.display()), e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("reading {}", entry.path().display()), e))?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name), &rel.join(&name), wanted)?;
        } else if kind.is_file() {
            workspace::copy_file(&entry.path(), &to.join(&name))?;
            wanted.insert(rel.join(&name));
        }
    }
    Ok(())
}

/// Removes the files under `root/rel` that are not `wanted` (left by an
/// earlier submission), but not `.venv`.
fn remove_unwanted(root: &Path, rel: &Path, wanted: &BTreeSet<PathBuf>) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiler_error_is_one_line_with_its_place() {
        let rendered = "error[E0425]: cannot find value `x` in this scope\n  --> exercises/exp7-shm/src/lib.rs:16:9\n   |\n16 |     x\n";
        assert_eq!(
            first_error(rendered),
            "does not compile: error[E0425]: cannot find value `x` in this scope (exercises/exp7-shm/src/lib.rs:16)"
        );
    }

    #[test]
    fn sources_belong_to_the_crate_after_exercises() {
        let root = Path::new("/w");
        assert_eq!(
            crate_of(Path::new("/w/exercises/exp7-shm/tests/output.rs"), root).as_deref(),
            Some("exp7-shm")
        );
        assert_eq!(
            crate_of(Path::new("/w/crates/ipc-core/src/lib.rs"), root),
            None
        );
    }

    #[test]
    fn a_long_output_keeps_its_end() {
        let long = "x".repeat(OUTPUT_KEPT * 2) + "the end";
        let kept = keep_tail(&long, "");
        assert!(kept.ends_with("the end") && kept.starts_with('…'));
        assert!(kept.len() <= OUTPUT_KEPT + '…'.len_utf8());
    }
}
