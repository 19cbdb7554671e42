//! The instructor's whole loop, for real, on every experiment: grade the
//! reference (full marks), make a starter of every crate (it builds, and
//! scores low: no check that needs the student's code passes), and grade
//! a class of two submissions, that starter and a deliberately broken
//! solution of two crates (exactly the expected checks fail, each with a
//! message a student can act on).
//!
//! It builds the starter's crates once (in a work directory kept in
//! `CARGO_TARGET_TMPDIR` from run to run, its dependencies copied from
//! this workspace's own build) and runs every check of every experiment
//! twice, one at a time: a few minutes. So it is ignored by a plain
//! `cargo test`; `.ci/run` runs it:
//!
//! ```sh
//! cargo test --workspace --test instructor_loop -- --ignored --nocapture
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ipc_testkit::{Running, Sig, run_command};
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The checks of each experiment that can pass without the student's
/// code: they stop before it runs (`--help`, bad usage, a hostile name or
/// a full disk refused first, `--ticks 0`, an empty menu), test what the
/// student does not write (`--no-sync`'s unsynchronised ring, the
/// orchestration of the NATS roles, Ctrl-C before the first message, the
/// two-terminal roles' checks), or end before it by chance (`| head -1`
/// can close the output before the part is reached). A starter may pass
/// these and no other.
const FREE: &[(&str, &[&str])] = &[
    (
        "exp1-dsm",
        &[
            "a worker whose server goes away fails with its url",
            "an unreachable server is named and fails with 1",
            "bad input is refused with 2 before anything connects",
            "help explains the roles and the exit codes",
        ],
    ),
    (
        "exp1-mom",
        &[
            "a killed parent leaves no nats server running",
            "a missing or old nats server is named with the install command",
            "a role that dies ends the run at once",
            "a role whose server goes away fails with its url",
            "a server killed mid run ends the run with its url",
            "an unreachable server is named and fails with 1",
            "bad input is refused with 2 before anything starts",
            "ctrl c ends every process and leaves no server behind",
            "help explains the roles and the exit codes",
            "sigterm to the parent alone stops the roles and the server",
        ],
    ),
    (
        "exp1-queue",
        &[
            "bad usage exits with 2 and no panic",
            "help explains the experiment",
        ],
    ),
    (
        "exp1-rpc",
        &[
            "a server role whose nats server goes away fails with its url",
            "an unreachable server is named and fails with 1",
            "bad input is refused with 2 before anything connects",
            "help explains the roles and the exit codes",
            "sigterm stops a server in order",
        ],
    ),
    (
        "exp11-array",
        &[
            "bad input exits with 2 and no panic",
            "help explains the experiment",
        ],
    ),
    (
        "exp11-value",
        &[
            "a closed stdout ends the run quietly",
            "a full disk is reported not a panic",
            "bad input exits with 2 and no panic",
            // Example 1's target is not one of the parts to write.
            "example prints the seed line",
            "help explains the experiment",
        ],
    ),
    (
        "exp3-clientserver",
        &[
            "bad input exits with 2 and no panic",
            "help explains the roles and the exit codes",
        ],
    ),
    (
        "exp3-fifo",
        &[
            "a fifo of another user is refused and left alone",
            "a closed stdout ends every process quietly and removes the fifo",
            "a fifo others may open is refused with what to do",
            "a full disk is reported and the fifo removed",
            "a path that is not a fifo is bad input",
            "a planted symbolic link is refused and its target untouched",
            "bad usage exits with 2 and no panic",
            "help explains the experiment and the roles",
            "invalid paths are refused before any system call on them",
        ],
    ),
    (
        "exp3-polling",
        &[
            "bad usage exits with 2 and no panic",
            "help explains the experiment",
        ],
    ),
    (
        "exp3-prodcons",
        &[
            "bad input exits with 2 and no panic",
            "help explains the flags and the exit codes",
            "sigterm to the parent alone reaches every process",
            "without sync a large run loses or duplicates items",
            "without sync a small run still ends by itself",
        ],
    ),
    (
        "exp4-counter",
        &[
            "a full dev shm is an error not sigbus",
            "a name taken with another mode is refused and left as it was",
            "a segment of another user is not attached to",
            "a segment others may open is not attached to",
            "a symbolic link planted in dev shm is refused and its target untouched",
            "attaching to a segment smaller than the counter is an error not sigbus",
            "invalid names are refused before any system call on them",
            "attaching to a missing name is bad input",
            "bad arguments exit with 2 and no panic",
            "help explains the experiment",
            "zero ticks only terminate",
        ],
    ),
    (
        "exp7",
        &[
            "a full disk is reported not a panic",
            "an unknown flag is bad usage",
            "end of input exits cleanly",
            "help explains the menu",
        ],
    ),
    (
        "exp7-mqueue",
        &[
            "a queue of another user is refused and left as it was",
            "a capacity above the system limit names the limit",
            "a closed stdout ends the run quietly and unlinks the queue",
            "a full disk is reported and the queue unlinked",
            "a missing queue is bad input",
            "a name taken by someone elses queue is refused and left as it was",
            "a receiver waiting on an empty queue ends on sigint and sigterm",
            "a small rlimit msgqueue names the limit and how to raise it",
            "bad usage exits with 2 and no panic",
            "help explains the experiment and the roles",
            "invalid names are refused before any system call on them",
        ],
    ),
    (
        "exp7-pipe",
        &[
            "bad usage exits with 2 and no panic",
            "help explains the experiment",
        ],
    ),
    (
        "exp7-queue",
        &[
            "a full disk is reported not a panic",
            "bad usage exits with 2 and no panic",
            "head closing stdout early is quiet",
            "help explains the experiment",
        ],
    ),
    (
        "exp7-shm",
        &[
            "a closed stdout ends every process quietly",
            "a full disk is reported not a panic",
            "bad usage exits with 2 and no panic",
            "help explains the experiment",
        ],
    ),
];

/// The deliberately broken solution: (crate, file, the reference's line,
/// its broken version, the checks that must fail, and what each failure
/// must say).
type Break = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const BROKEN: [Break; 2] = [
    (
        "exp7-shm",
        "src/lib.rs",
        "        result.set(idx, num * num)?;\n",
        // The squares off by one.
        "        result.set(idx, num * num + 1)?;\n",
        &[
            (
                "prints the seed lines",
                "unexpected stdout: line 3 \"Result(in process p1): …\": expected [1, 4, 9, 16], got [2, 5, 10, 17]",
            ),
            (
                "fast prints the same lines",
                "unexpected stdout: line 3 \"Result(in process p1): …\": expected [1, 4, 9, 16], got [2, 5, 10, 17]",
            ),
            (
                "redirected to a file each line appears once",
                "in the file: line 3 \"Result(in process p1): …\": expected [1, 4, 9, 16], got [2, 5, 10, 17]",
            ),
            (
                "the handout shows a real run",
                "the handout's expected output is not what a run prints: line 3 \"Result(in process p1): …\": expected [1, 4, 9, 16], got [2, 5, 10, 17]",
            ),
        ],
    ),
    (
        "exp11-value",
        "src/lib.rs",
        "                let v = v.lock()?;\n                v.set(v.get() + 1);\n",
        // The update without the lock: a locked load, then a locked store.
        "                v.set(v.get()? + 1)?;\n",
        &[
            (
                "the default run prints the plan and an exact total",
                "unexpected stdout: line 9 \"Final value (in main program): …\": expected 1500000, got ",
            ),
            (
                "the locked total is exact on every run",
                "unexpected stdout: line 9 \"Final value (in main program): …\": expected 150000, got ",
            ),
            (
                "the handout shows real runs",
                "the handout does not show this run (nor its line \"Final value (in main program): ",
            ),
        ],
    ),
];

fn script(name: &str) -> String {
    format!("{ROOT}/scripts/{name}")
}

fn bash(args: &[&str], timeout: Duration) -> ipc_testkit::Run {
    let mut command = Command::new("bash");
    command.args(args);
    run_command(command, None, timeout)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// (crate, check name, passed, message) of every check of a report.
fn checks(report: &Value) -> Vec<(String, String, bool, String)> {
    let mut all = Vec::new();
    for krate in report["crates"].as_array().unwrap() {
        for check in krate["checks"].as_array().unwrap() {
            all.push((
                krate["crate"].as_str().unwrap().to_owned(),
                check["name"].as_str().unwrap().to_owned(),
                check["passed"].as_bool().unwrap(),
                check["message"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    all
}

/// Writes the broken submission: the reference's sources of the broken
/// crates, each with its line changed, in a workspace-shaped directory
/// whose STARTER.md names them.
fn write_broken(dir: &Path) {
    let root = Path::new(ROOT);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(root.join("Cargo.toml"), dir.join("Cargo.toml")).unwrap();
    let mut crates = Vec::new();
    for (krate, file, good, bad, _) in BROKEN {
        let src = root.join("exercises").join(krate).join("src");
        let to = dir.join("exercises").join(krate).join("src");
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&src).unwrap().flatten() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
        let path = dir.join("exercises").join(krate).join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.matches(good).count(),
            1,
            "{krate}: {good:?} is not in {file} once"
        );
        std::fs::write(&path, text.replace(good, bad)).unwrap();
        crates.push(krate);
    }
    std::fs::write(
        dir.join("STARTER.md"),
        format!("A broken solution.\n\nCrates: {}\n", crates.join(" ")),
    )
    .unwrap();
}

#[test]
#[ignore = "builds a starter of every experiment and runs every check twice (minutes): .ci/run runs it"]
fn the_instructors_loop_on_every_experiment() {
    let started = Instant::now();
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("instructor-loop");
    let class = base.join("class");
    // Fresh submissions; the work directory (class/.grade) is kept, so
    // that a second run builds only what changed.
    for old in ["starter", "broken", "grades"] {
        let _ = std::fs::remove_dir_all(class.join(old));
    }
    std::fs::create_dir_all(&base).unwrap();
    let experiments: Vec<String> = {
        let mut names: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("exercises"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // 1. The reference, graded in place: full marks.
    let json = base.join("reference.json");
    let graded = bash(
        &[
            &script("grade.sh"),
            "--quiet",
            "--json",
            json.to_str().unwrap(),
            ROOT,
        ],
        Duration::from_secs(30 * 60),
    );
    let reference = read_json(&json);
    let failed: Vec<_> = checks(&reference).into_iter().filter(|c| !c.2).collect();
    assert!(
        failed.is_empty(),
        "the reference failed {failed:#?}\n{graded}"
    );
    graded.assert_code(0);
    let graded_crates: Vec<&str> = reference["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["crate"].as_str().unwrap())
        .collect();
    assert_eq!(graded_crates, experiments, "every experiment is graded");
    assert!(
        graded.stdout.ends_with(&format!(
            "Score: {0}/{0}\n",
            reference["total"].as_u64().unwrap()
        )),
        "{graded}"
    );
    let reference_time = started.elapsed();

    // 2. A class: the starter of every experiment, and a broken solution.
    let starter = class.join("starter");
    bash(
        &[
            &script("starter.sh"),
            "--out",
            starter.to_str().unwrap(),
            "all",
        ],
        Duration::from_secs(10 * 60),
    )
    .assert_code(0)
    .assert_stdout_contains(&["starter: ", "regions to write in exp1-dsm"]);
    write_broken(&class.join("broken"));
    let graded = bash(
        &[
            &script("grade.sh"),
            "--quiet",
            "--class",
            class.to_str().unwrap(),
        ],
        Duration::from_secs(45 * 60),
    );
    graded.assert_code(0);
    let class_time = started.elapsed() - reference_time;

    // The starter: every crate builds, without a warning; only free checks
    // pass; a failure names the part still to write, in the student's file.
    let report = read_json(&class.join("grades/starter.json"));
    for krate in report["crates"].as_array().unwrap() {
        let name = krate["crate"].as_str().unwrap();
        assert!(
            krate.get("build_error").is_none(),
            "{name} did not build: {krate}"
        );
        assert_eq!(
            krate["warnings"], 0,
            "the starter of {name} builds with warnings"
        );
    }
    let all = checks(&report);
    for krate in &experiments {
        let free: BTreeSet<&str> = FREE
            .iter()
            .find(|(k, _)| k == krate)
            .map_or(BTreeSet::new(), |(_, f)| f.iter().copied().collect());
        let ours: Vec<_> = all.iter().filter(|c| &c.0 == krate).collect();
        assert!(!ours.is_empty(), "{krate} has no checks");
        let passed: BTreeSet<&str> = ours.iter().filter(|c| c.2).map(|c| c.1.as_str()).collect();
        let not_free: Vec<_> = passed.difference(&free).collect();
        assert!(
            not_free.is_empty(),
            "the starter of {krate} passes checks that need the student's code: {not_free:?}"
        );
        assert!(
            passed.len() * 2 < ours.len() + 2,
            "{krate}'s starter scores {}/{}: not low",
            passed.len(),
            ours.len()
        );
        // A failure names the part still to write, in the student's file.
        let unfinished: Vec<_> = ours
            .iter()
            .filter(|c| c.3.starts_with("unfinished: "))
            .collect();
        assert!(
            !unfinished.is_empty(),
            "no failure of {krate} names an unfinished part: {ours:#?}"
        );
        for check in unfinished {
            let at = check
                .3
                .rsplit_once(" (")
                .and_then(|(_, at)| at.strip_suffix(')'))
                .unwrap_or_else(|| panic!("no file and line: {check:?}"));
            let (file, line) = at.rsplit_once(':').unwrap();
            assert!(
                file.starts_with(&format!("exercises/{krate}/src/")),
                "{check:?}"
            );
            let text = std::fs::read_to_string(starter.join(file)).unwrap();
            let line = text
                .lines()
                .nth(line.parse::<usize>().unwrap() - 1)
                .unwrap();
            assert!(
                line.trim_start().starts_with("todo!("),
                "{check:?} points at {line:?}"
            );
        }
    }

    // The broken solution: exactly the expected checks fail, saying what
    // is wrong.
    let report = read_json(&class.join("grades/broken.json"));
    let all = checks(&report);
    for (krate, _, _, _, expected) in BROKEN {
        let failed: BTreeSet<&str> = all
            .iter()
            .filter(|c| c.0 == krate && !c.2)
            .map(|c| c.1.as_str())
            .collect();
        let wanted: BTreeSet<&str> = expected.iter().map(|e| e.0).collect();
        assert_eq!(failed, wanted, "{krate}: {all:#?}");
        for (name, message) in expected {
            let check = all.iter().find(|c| c.0 == krate && c.1 == *name).unwrap();
            assert!(
                check.3.starts_with(message),
                "{krate}: {name}: {:?}",
                check.3
            );
        }
    }

    // The table: one row per student, a column per crate.
    let csv = std::fs::read_to_string(class.join("grades/class.csv")).unwrap();
    let mut rows = csv.lines();
    let header = rows.next().unwrap();
    assert_eq!(
        header,
        format!("student,{},score,total,percent", experiments.join(","))
    );
    let rows: Vec<&str> = rows.collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[0].starts_with("broken,"), "{csv}");
    assert!(rows[1].starts_with("starter,"), "{csv}");
    let table = read_json(&class.join("grades/class.json"));
    assert_eq!(table["students"].as_array().unwrap().len(), 2);

    // 3. Grading stopped by SIGTERM (a CI's time limit, Ctrl-C) after its
    // first check: the grader says so, exits with 1, and leaves no scratch
    // directory behind.
    let mut command = Command::new("bash");
    command.args([
        &script("grade.sh"),
        "--quiet",
        "--class",
        class.to_str().unwrap(),
    ]);
    let mut grading = Running::start(command, false);
    grading.wait_for_lines(1, Duration::from_secs(10 * 60), |l| {
        l.contains(" ... OK") || l.contains(" ... FAIL")
    });
    grading.signal(Sig::SIGTERM);
    let stopped = grading.finish(Duration::from_secs(60));
    stopped
        .assert_code(1)
        .assert_stderr_contains(&["interrupted; the check that was running was killed"]);
    let scratch = class.join(".grade/scratch");
    assert!(
        !scratch.exists(),
        "{} is left\n{stopped}",
        scratch.display()
    );

    println!(
        "instructor loop: reference graded in {:.0} s, the class (starter of all, broken) in {:.0} s",
        reference_time.as_secs_f64(),
        class_time.as_secs_f64()
    );
    println!("{csv}");
}
