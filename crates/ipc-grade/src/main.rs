use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ipc_grade::grade::{Grader, Options};
use ipc_grade::sandbox::Limits;
use ipc_grade::submission::Submission;
use ipc_grade::work::Work;
use ipc_grade::workspace::{self, Workspace};
use ipc_grade::{Error, Result, class, starter, supervise};

/// The instructor's loop: a starter of any experiment for students, a
/// grader that scores their work with the experiment's own tests, each
/// check in namespaces of its own, and the student's watch mode
/// (scripts/starter.sh, grade.sh and watch.sh run it).
///
/// The reference (the workspace whose tests grade) is found from where
/// the program runs: $IPC_LAB_ROOT, else the current directory or one
/// above it that holds Cargo.toml and exercises/.
///
/// Exit codes: 0 done (grade: full marks; --class: every submission
/// graded), 1 a failure (grade: a check failed), 2 bad usage.
#[derive(Parser)]
#[command(name = "ipc-grade", version)]
struct Args {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Write a starter for students: a copy of the workspace with the named
    /// experiments only, the regions a student writes (// STUDENT: …
    /// // END STUDENT) cut to todo!(), and an ANSWERS.md per crate for the
    /// handout's questions. Instructors' material (instructor/) is left
    /// out.
    Starter {
        /// The new directory (it must not exist, or be empty)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The experiments to cut, or `all`
        #[arg(value_name = "CRATE", required = true)]
        crates: Vec<String>,
    },
    /// Write a class of faked solutions (instructor/fakes/CRATE/*.fake) to
    /// grade: each fake's crate in a directory of its own under OUT
    /// (`CRATE--FAKE`). Every fake must score at most a third of the
    /// crate's points: `grade --class OUT` shows it.
    Fake {
        /// The new directory (it must not exist, or be empty)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The experiments whose fakes to write, or `all`
        #[arg(value_name = "CRATE", required = true)]
        crates: Vec<String>,
    },
    /// Pack what the grader takes of the named crates (each crate's src/
    /// and ANSWERS.md) into one archive to hand in, with a manifest of the
    /// crates, every file's SHA-256 and the kit's commit. The grader
    /// refuses an archive whose files do not match their manifest.
    ///
    /// Exit codes: 0 packed (or checked), 1 a file could not be read or
    /// written, 2 bad usage or an archive refused.
    Handin {
        /// The archive to write (default: handin-CRATE+CRATE.tar.gz in the current directory)
        #[arg(long, value_name = "FILE", conflicts_with = "check")]
        out: Option<PathBuf>,
        /// Replace the archive if it exists
        #[arg(long, conflicts_with = "check")]
        force: bool,
        /// The workspace to pack from (default: the one around the current
        /// directory; scripts/handin.sh gives its own)
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Check ARCHIVE as the grader will, and write nothing
        #[arg(long, value_name = "ARCHIVE")]
        check: Option<PathBuf>,
        /// The experiments to hand in (default: the starter's crates)
        #[arg(value_name = "CRATE")]
        crates: Vec<String>,
    },
    /// Grade DIR (a starter worked on, or one crate's directory) with the
    /// reference's tests: one line per check with its points, then Score:
    /// a/b per crate and in all. With --class DIR, grade every submission
    /// in DIR and write a table of students × crates.
    ///
    /// Only the student's src/ and ANSWERS.md of each crate graded are
    /// used: the library, the tests and Cargo.lock are the reference's.
    /// Each build and each check runs in namespaces of its own (PID, IPC,
    /// network, mount; an unprivileged user when run as root) where
    /// bubblewrap can make them, bounded in time and processes; a hang, a
    /// fork bomb, a process left running, an IPC object left behind or a
    /// file written outside the check's scratch directory fails it.
    ///
    /// Exit codes: 0 full marks (--class: every submission graded), 1 a
    /// check failed (--class: a submission could not be graded), 2 bad
    /// usage.
    Grade {
        /// Also write every check, with its points and message, as JSON
        /// (schema: docs/grader-json.md)
        #[arg(long, value_name = "FILE", conflicts_with = "class")]
        json: Option<PathBuf>,
        /// Also write Gradescope's results.json (inside a Gradescope
        /// autograder: /autograder/results/results.json); hidden-input
        /// checks are shown to students after the due date
        #[arg(long, value_name = "FILE", conflicts_with = "class")]
        gradescope: Option<PathBuf>,
        /// With --class: the class table (class.csv) with the instructor's
        /// marks of the written answers in its question columns; they are
        /// added to the totals
        #[arg(long, value_name = "FILE", requires = "class")]
        marks: Option<PathBuf>,
        /// Grade every submission in CLASS (a directory per student)
        #[arg(long, value_name = "CLASS")]
        class: Option<PathBuf>,
        /// With --class: where the table and the reports go (default:
        /// CLASS-grades beside CLASS; never inside it)
        #[arg(long, value_name = "DIR", requires = "class")]
        out: Option<PathBuf>,
        /// With --class: how many submissions are graded at once (default:
        /// the number of CPUs)
        #[arg(long, value_name = "N", requires = "class",
              value_parser = ipc_cli::whole_number(1..=64, "jobs", ""))]
        jobs: Option<u64>,
        /// Seconds a check may take before it is killed and failed
        #[arg(long, value_name = "SECS", default_value_t = 120,
              value_parser = ipc_cli::whole_number(1..=3600, "seconds", ""))]
        timeout: u64,
        /// Seconds the build of one crate may take (default: 600)
        #[arg(long, value_name = "SECS", default_value_t = 600,
              value_parser = ipc_cli::whole_number(1..=7200, "seconds", ""))]
        build_timeout: u64,
        /// Processes a check may have at once before it is taken for a fork bomb
        #[arg(long, value_name = "N", default_value_t = 256,
              value_parser = ipc_cli::whole_number(8..=100_000, "processes", ""))]
        max_processes: u64,
        /// Print only the check lines and the scores (no progress on stderr)
        #[arg(long)]
        quiet: bool,
        /// DIR, then the crates to grade (default: a starter's crates, else all)
        #[arg(value_name = "DIR [CRATE]")]
        args: Vec<String>,
    },
    /// For students: check the named crates (default: the starter's) each
    /// time one of their files is saved, stopping at the first check that
    /// fails, with what it expected, the hint of the part to write, and
    /// the points so far. The checks on inputs the handout never shows are
    /// left for the grader. Ctrl-C stops it.
    Watch {
        /// Check once and stop
        #[arg(long)]
        once: bool,
        /// Seconds a check may take before it is killed and failed
        #[arg(long, value_name = "SECS", default_value_t = 120,
              value_parser = ipc_cli::whole_number(1..=3600, "seconds", ""))]
        timeout: u64,
        /// The experiments to watch
        #[arg(value_name = "CRATE")]
        crates: Vec<String>,
    },
    /// (Inside a run's namespaces: the supervisor; not for people.)
    #[command(hide = true)]
    Supervise {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<std::ffi::OsString>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The supervisor installs no signal handler: as PID 1 of its
    // namespace, it then gets no signal from the processes it runs.
    if let Commands::Supervise { args } = &args.command {
        return match supervise::Request::from_args(args) {
            Ok(request) => ExitCode::from(supervise::main(&request) as u8),
            Err(error) => {
                eprintln!("ipc-grade supervise: {error}");
                ExitCode::from(2)
            }
        };
    }
    let outcome = ipc_core::signal::install()
        .map_err(|e| Error::Failed(e.to_string()))
        .and_then(|()| run(args.command));
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("ipc-grade: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

fn run(command: Commands) -> Result<u8> {
    match command {
        Commands::Starter { out, crates } => make_starter(&out, &crates),
        Commands::Fake { out, crates } => make_fakes(&out, &crates),
        Commands::Handin {
            out,
            force,
            root,
            check,
            crates,
        } => handin(out, force, root, check, &crates),
        Commands::Grade {
            json,
            gradescope,
            marks,
            class,
            out,
            jobs,
            timeout,
            build_timeout,
            max_processes,
            quiet,
            args,
        } => {
            let options = Options {
                limits: Limits {
                    timeout: Duration::from_secs(timeout),
                    max_processes: max_processes as usize,
                    ..Limits::default()
                },
                build_timeout: Duration::from_secs(build_timeout),
                progress: !quiet,
                ..Options::default()
            };
            let reference = Workspace::find()?;
            let work = Work::of(&reference)?;
            let program =
                std::env::current_exe().map_err(|e| Error::io("finding this program".into(), e))?;
            let mut grader = Grader::new(reference, options, work, &program);
            match class {
                Some(class) => {
                    let jobs = jobs.map_or_else(cpus, |j| j as usize);
                    grade_class(&mut grader, &class, out, &args, jobs, marks)
                }
                None => grade_one(&grader, &args, json, gradescope),
            }
        }
        Commands::Watch {
            once,
            timeout,
            crates,
        } => {
            let options = Options {
                limits: Limits {
                    timeout: Duration::from_secs(timeout),
                    ..Limits::default()
                },
                visible_only: true,
                first_failure: true,
                ..Options::default()
            };
            let reference = Workspace::find()?;
            let submission = Submission::at(reference.root())?;
            let work = Work::of(&reference)?;
            let program =
                std::env::current_exe().map_err(|e| Error::io("finding this program".into(), e))?;
            let grader = Grader::new(reference, options, work, &program);
            let crates = grader.crates(&submission, &crates)?;
            ipc_grade::watch::watch(&grader, &crates, once, &mut std::io::stdout())?;
            Ok(0)
        }
        Commands::Supervise { .. } => Err(Error::Usage("supervise runs only inside a run".into())),
    }
}

fn make_starter(out: &Path, names: &[String]) -> Result<u8> {
    let ws = Workspace::find()?;
    let crates = starter::resolve_crates(&ws, names)?;
    let made = starter::write(&ws, out, &crates)?;
    let regions: usize = made.regions.iter().map(|(_, r)| r.len()).sum();
    println!(
        "starter: {} ({} files): {} region{} to write in {}",
        out.display(),
        made.files,
        regions,
        if regions == 1 { "" } else { "s" },
        made.crates.join(" ")
    );
    for (file, regions) in &made.regions {
        for region in regions {
            println!("  {}:{}: {}", file.display(), region.begin, region.hint);
        }
    }
    Ok(0)
}

fn make_fakes(out: &Path, names: &[String]) -> Result<u8> {
    let ws = Workspace::find()?;
    let crates = starter::resolve_crates(&ws, names)?;
    let made = ipc_grade::fakes::write_class(&ws, &crates, out)?;
    println!("fakes: {} in {}", made.len(), out.display());
    for name in &made {
        println!("  {name}");
    }
    Ok(0)
}

/// `ipc-grade handin`: packs (or, with --check, checks) a hand-in.
fn handin(
    out: Option<PathBuf>,
    force: bool,
    root: Option<PathBuf>,
    check: Option<PathBuf>,
    crates: &[String],
) -> Result<u8> {
    use ipc_grade::handin;
    if let Some(archive) = check {
        if !crates.is_empty() {
            return Err(Error::Usage(
                "--check ARCHIVE takes no crate: the archive names its own".into(),
            ));
        }
        let found = handin::check(&archive)?;
        println!(
            "handin: {} is a hand-in of {} ({} files, {} bytes; kit commit {}): the grader will take it",
            archive.display(),
            found.crates.join(" "),
            found.files.len(),
            found.bytes,
            found.commit
        );
        for file in &found.files {
            println!("  {file}");
        }
        return Ok(0);
    }
    let root = match root {
        Some(root) => root,
        None => {
            let here = std::env::current_dir()
                .map_err(|e| Error::io("reading the current directory".into(), e))?;
            here.ancestors()
                .find(|dir| workspace::is_workspace(dir))
                .map(Path::to_owned)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "{} is not inside an ipc-lab workspace: run it there, or give --root DIR",
                        here.display()
                    ))
                })?
        }
    };
    let crates = if crates.is_empty() {
        workspace::starter_crates(&root).unwrap_or_default()
    } else {
        crates.to_vec()
    };
    let packed = handin::pack(&root, &crates, out.as_deref(), force)?;
    let path = packed.path.canonicalize().unwrap_or(packed.path.clone());
    println!(
        "handin: {} ({} files and {}, {} bytes) for {} (kit commit {})",
        path.display(),
        packed.files.len(),
        handin::MANIFEST,
        packed.bytes,
        packed.crates.join(" "),
        packed.commit
    );
    println!("  {}", handin::MANIFEST);
    for (file, size) in &packed.files {
        println!("  {file} ({size} bytes)");
    }
    if !packed
        .files
        .iter()
        .any(|(f, _)| f.ends_with(handin::ANSWERS))
    {
        println!(
            "  (no {} in any crate: the written answers count as not answered)",
            handin::ANSWERS
        );
    }
    Ok(0)
}

fn grade_one(
    grader: &Grader,
    args: &[String],
    json: Option<PathBuf>,
    gradescope: Option<PathBuf>,
) -> Result<u8> {
    let Some((dir, names)) = args.split_first() else {
        return Err(Error::Usage(
            "name the directory to grade (grade DIR [CRATE…], or --class DIR)".into(),
        ));
    };
    let submission = Submission::at(Path::new(dir))?;
    let crates = grader.crates(&submission, names)?;
    if let ipc_grade::isolation::Isolation::Session(why) = grader.isolation() {
        eprintln!(
            "grade: note: no namespaces here ({why}); each check runs in a session of its own, watched from outside"
        );
    }
    let report = grader.grade(&submission, &crates, &mut std::io::stdout())?;
    if let Some(path) = json {
        class::write_json(&path, &report)?;
    }
    if let Some(path) = gradescope {
        class::write_json(&path, &ipc_grade::gradescope::results(&report))?;
    }
    Ok(if report.full_marks() { 0 } else { 1 })
}

fn grade_class(
    grader: &mut Grader,
    class: &Path,
    out: Option<PathBuf>,
    names: &[String],
    jobs: usize,
    marks: Option<PathBuf>,
) -> Result<u8> {
    let out = out.unwrap_or_else(|| class::default_out(class));
    let marks = match marks {
        Some(file) => {
            let crates = match names {
                [] => grader.reference().experiments()?,
                names => starter::resolve_crates(grader.reference(), names)?,
            };
            let scheme = ipc_grade::answers::scheme(grader.reference(), &crates)?;
            Some(ipc_grade::answers::read_marks_file(&file, &scheme)?)
        }
        None => None,
    };
    grader.hide(class);
    grader.hide(&out);
    let mut stdout = std::io::stdout();
    let lines: Mutex<&mut (dyn std::io::Write + Send)> = Mutex::new(&mut stdout);
    let graded = class::grade(grader, class, &out, names, jobs, marks.as_ref(), &lines)?;
    println!("== the class");
    print!("{}", graded.table.csv());
    eprintln!(
        "grade: wrote {} and {} (one report per student in {})",
        out.join("class.csv").display(),
        out.join("class.json").display(),
        out.join("students").display()
    );
    Ok(if graded.all_graded { 0 } else { 1 })
}

/// The number of CPUs this process may use.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
