use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ipc_grade::grade::{Grader, Options, Submission, WORK_DIR};
use ipc_grade::report::{Cell, Class, Report, Row};
use ipc_grade::sandbox::Limits;
use ipc_grade::workspace::{self, Workspace};
use ipc_grade::{Error, Result, starter};

/// The instructor's loop: a starter of any experiment for students, and a
/// grader that scores their work with the experiment's own tests
/// (scripts/starter.sh and scripts/grade.sh run it).
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
    /// Write a copy of the workspace in which the regions a student writes
    /// (// STUDENT: … // END STUDENT) of the named crates are todo!().
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
    /// reference's tests: one line per check, then Score: a/b per crate and
    /// in all. With --class DIR, grade every submission in DIR and write a
    /// table of students × crates.
    ///
    /// Only the student's src/ of each crate graded is used: the library,
    /// the tests and Cargo.lock are this workspace's. Every check is
    /// bounded in time and processes; a hang, a fork bomb, a process left
    /// running or an IPC object left behind fails it and is cleaned up.
    ///
    /// Exit codes: 0 full marks (--class: every submission graded), 1 a
    /// check failed (--class: a submission could not be graded), 2 bad
    /// usage.
    Grade {
        /// Also write every check, with its result and message, as JSON
        #[arg(long, value_name = "FILE", conflicts_with = "class")]
        json: Option<PathBuf>,
        /// Grade every directory in CLASS (one per student)
        #[arg(long, value_name = "CLASS")]
        class: Option<PathBuf>,
        /// With --class: where the table and the reports go (default CLASS/grades)
        #[arg(long, value_name = "DIR", requires = "class")]
        out: Option<PathBuf>,
        /// Seconds a check may take before it is killed and failed
        #[arg(long, value_name = "SECS", default_value_t = 120,
              value_parser = ipc_core::cli::whole_number(1..=3600, "seconds", ""))]
        timeout: u64,
        /// Processes a check may have at once before it is taken for a fork bomb
        #[arg(long, value_name = "N", default_value_t = 256,
              value_parser = ipc_core::cli::whole_number(8..=100_000, "processes", ""))]
        max_processes: u64,
        /// Print only the check lines and the scores (no progress on stderr)
        #[arg(long)]
        quiet: bool,
        /// DIR, then the crates to grade (default: a starter's crates, else all)
        #[arg(value_name = "DIR [CRATE]")]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(error) = ipc_core::signal::install() {
        eprintln!("ipc-grade: {error}");
        return ExitCode::from(1);
    }
    let outcome = match args.command {
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
            class,
            out,
            timeout,
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
                progress: !quiet,
                ..Options::default()
            };
            match class {
                Some(class) => grade_class(&class, out, &args, options),
                None => grade_one(&args, json, options),
            }
        }
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("ipc-grade: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

fn make_starter(out: &Path, names: &[String]) -> Result<u8> {
    let ws = Workspace::own()?;
    let crates = starter::resolve_crates(&ws, names)?;
    let made = starter::write(&ws, out, &crates)?;
    let regions: usize = made.regions.iter().map(|(_, r)| r.len()).sum();
    println!(
        "starter: {} ({} files): {} region{} to write in {}",
        out.display(),
        made.files,
        regions,
        if regions == 1 { "" } else { "s" },
        crates.join(" ")
    );
    for (file, regions) in &made.regions {
        for region in regions {
            println!("  {}:{}: {}", file.display(), region.begin, region.hint);
        }
    }
    Ok(0)
}

fn make_fakes(out: &Path, names: &[String]) -> Result<u8> {
    let ws = Workspace::own()?;
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

fn grade_one(args: &[String], json: Option<PathBuf>, options: Options) -> Result<u8> {
    let Some((dir, names)) = args.split_first() else {
        return Err(Error::Usage(
            "name the directory to grade (grade DIR [CRATE…], or --class DIR)".into(),
        ));
    };
    let grader = Grader::new(Workspace::own()?, options);
    let submission = Submission::at(Path::new(dir))?;
    let crates = grader.crates(&submission, names)?;
    let work = submission.dir().join(WORK_DIR);
    let report = grader.grade(&submission, &crates, &work, &mut std::io::stdout())?;
    if let Some(path) = json {
        write_json(&path, &report)?;
    }
    Ok(if report.full_marks() { 0 } else { 1 })
}

fn grade_class(
    class: &Path,
    out: Option<PathBuf>,
    names: &[String],
    options: Options,
) -> Result<u8> {
    if !class.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a directory",
            class.display()
        )));
    }
    let out = out.unwrap_or_else(|| class.join("grades"));
    std::fs::create_dir_all(&out)
        .map_err(|e| Error::io(format!("creating {}", out.display()), e))?;
    let out_real = out.canonicalize().ok();
    let mut students: Vec<PathBuf> = std::fs::read_dir(class)
        .map_err(|e| Error::io(format!("reading {}", class.display()), e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter(|p| p.canonicalize().ok() != out_real)
        .collect();
    students.sort();
    if students.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no submission directory",
            class.display()
        )));
    }
    let grader = Grader::new(Workspace::own()?, options);
    let work = class.join(WORK_DIR);
    let mut table = Class {
        crates: Vec::new(),
        questions: Default::default(),
        students: Vec::new(),
    };
    let mut reports: Vec<(String, Option<Report>, Option<String>)> = Vec::new();
    let mut all_graded = true;
    for dir in &students {
        let student = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("== {student}");
        let graded = Submission::at(dir).and_then(|submission| {
            let crates = grader.crates(&submission, names)?;
            grader.grade(&submission, &crates, &work, &mut std::io::stdout())
        });
        match graded {
            Ok(report) => {
                for krate in &report.crates {
                    if !table.crates.contains(&krate.name) {
                        table.crates.push(krate.name.clone());
                    }
                }
                workspace::write_file(
                    &out.join(format!("{student}.txt")),
                    report.text().as_bytes(),
                )?;
                write_json(&out.join(format!("{student}.json")), &report)?;
                reports.push((student, Some(report), None));
            }
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(error) => {
                println!("{student}: not graded: {error}");
                all_graded = false;
                reports.push((student, None, Some(error.to_string())));
            }
        }
    }
    let order = grader.reference().experiments()?;
    table
        .crates
        .sort_by_key(|c| order.iter().position(|o| o == c));
    for (student, report, error) in reports {
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
        table.students.push(Row {
            report: format!("{student}.json"),
            score: report.as_ref().map_or(0.0, |r| r.score),
            total: report.as_ref().map_or(0.0, |r| r.total),
            student,
            scores,
            error,
        });
    }
    workspace::write_file(&out.join("class.csv"), table.csv().as_bytes())?;
    write_json(&out.join("class.json"), &table)?;
    println!("== the class");
    print!("{}", table.csv());
    eprintln!(
        "grade: wrote {} and {}",
        out.join("class.csv").display(),
        out.join("class.json").display()
    );
    Ok(if all_graded { 0 } else { 1 })
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Failed(format!("JSON: {e}")))?;
    workspace::write_file(path, format!("{text}\n").as_bytes())
}
