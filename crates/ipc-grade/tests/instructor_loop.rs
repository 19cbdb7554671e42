//! The instructor's whole loop, for real, on every experiment:
//!
//! 1. the reference graded in place: every check passes, its Gradescope
//!    `results.json` is valid;
//! 2. a class graded `--jobs 2`, in namespaces: a starter of every crate
//!    (it builds without a warning and earns 0 points of student work),
//!    the `prints` fake of every crate (`instructor/fakes/CRATE/prints.fake`:
//!    the handout's lines without the work, at most a third of the
//!    crate's points), a hand-in archive of the reference (full marks), a
//!    solution broken on purpose (exactly the checks it should fail fail,
//!    each with its diff and its hint), and a hostile one (it fails,
//!    leaves nothing on the machine, and changes no other grade);
//! 3. the instructor's marks of the written answers added to the totals;
//! 4. a grading stopped by SIGTERM.
//!
//! It builds every experiment several times (in the grader's work
//! directory, kept in the target directory from run to run) and runs
//! every check of every experiment about three times: minutes. So it is
//! ignored by a plain `cargo test`; `scripts/test.sh` runs it:
//!
//! ```sh
//! cargo test --workspace --test instructor_loop -- --ignored --exact the_instructors_loop_on_every_experiment --nocapture
//! ```
//!
//! The other fakes (two to five per crate) are graded by
//! [`every_fake_earns_at_most_a_third`], by name (about 20 minutes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ipc_grade::fakes::Fake;
use ipc_grade::points::Points;
use ipc_testkit::{Running, Sig, run_command};
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const BIN: &str = env!("CARGO_BIN_EXE_ipc-grade");

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

/// One check of a report.
#[derive(Debug, Clone)]
struct Row {
    krate: String,
    name: String,
    passed: bool,
    baseline: bool,
    message: String,
    diff: String,
    hints: Vec<String>,
}

fn checks(report: &Value) -> Vec<Row> {
    let mut all = Vec::new();
    for krate in report["crates"].as_array().unwrap() {
        for check in krate["checks"].as_array().unwrap() {
            all.push(Row {
                krate: krate["crate"].as_str().unwrap().to_owned(),
                name: check["name"].as_str().unwrap().to_owned(),
                passed: check["passed"].as_bool().unwrap(),
                baseline: check["baseline"].as_bool().unwrap(),
                message: check["message"].as_str().unwrap_or("").to_owned(),
                diff: check["diff"].as_str().unwrap_or("").to_owned(),
                hints: check["hints"]
                    .as_array()
                    .map(|h| h.iter().map(|h| h.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default(),
            });
        }
    }
    all
}

fn experiments() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("exercises"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Writes the submission `fake` makes of `krate` into `dir` (a
/// workspace-shaped directory whose STARTER.md names the crate).
fn write_fake(fake: &Path, krate: &str, dir: &Path) {
    let fake = Fake::read(fake).unwrap();
    let krate_dir = Path::new(ROOT).join("exercises").join(krate);
    fake.apply(&krate_dir, &dir.join("exercises").join(krate))
        .unwrap();
    std::fs::write(
        dir.join("STARTER.md"),
        format!("{}\n\nCrates: {krate}\n", fake.what),
    )
    .unwrap();
}

/// True if a process of the machine has `cmdline` (NUL-separated).
fn running(cmdline: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c.starts_with(cmdline.as_bytes()))
    })
}

#[test]
#[ignore = "builds every experiment several times and runs every check about three times (minutes): scripts/test.sh runs it"]
fn the_instructors_loop_on_every_experiment() {
    let started = Instant::now();
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("instructor-loop");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let experiments = experiments();

    // 1. The reference, graded in place, beside the class of part 2 (both
    // spend most of their time waiting for a check): full marks, a valid
    // results.json.
    let json = base.join("reference.json");
    let gradescope = base.join("results.json");
    let mut command = Command::new("bash");
    command.args([
        &script("grade.sh"),
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--gradescope",
        gradescope.to_str().unwrap(),
        ROOT,
    ]);
    let reference_grading = Beside(Some(Running::start(command, false)));

    // 2. A class, graded two at a time.
    let class = base.join("class");
    std::fs::create_dir_all(&class).unwrap();
    bash(
        &[
            &script("starter.sh"),
            "--out",
            class.join("starter").to_str().unwrap(),
            "all",
        ],
        Duration::from_secs(10 * 60),
    )
    .assert_code(0)
    .assert_stdout_contains(&["starter: ", "regions to write in exp1-dsm"]);
    // The `prints` fake of every crate (the handout's lines without the
    // work); every other fake is graded by `every_fake_earns_at_most_a_third`.
    let faked = add_fakes(&base.join("fakes"), &class, |name| {
        name.ends_with("--prints")
    });
    for krate in &experiments {
        assert!(
            faked.contains_key(krate),
            "{krate} has no prints fake in instructor/fakes/{krate}/prints.fake"
        );
    }
    let instructor = Path::new(ROOT).join("instructor");
    write_fake(
        &instructor.join("broken/exp7-shm.fake"),
        "exp7-shm",
        &class.join("=broken"),
    );
    write_fake(
        &instructor.join("hostile/exp7-shm.fake"),
        "exp7-shm",
        &class.join("hostile"),
    );
    // Carol's exp7-shm does not compile; her exp11-value is right.
    let carol = class.join("carol");
    write_fake(
        &instructor.join("broken/exp7-shm-does-not-compile.fake"),
        "exp7-shm",
        &carol,
    );
    let src = Path::new(ROOT).join("exercises/exp11-value/src");
    let to = carol.join("exercises/exp11-value/src");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    std::fs::write(carol.join("STARTER.md"), "Crates: exp7-shm exp11-value\n").unwrap();
    let mut command = Command::new(BIN);
    command
        .args(["handin", "--root", ROOT, "--out"])
        .arg(class.join("alice.tar.gz"))
        .arg("exp7-shm");
    run_command(command, None, Duration::from_secs(60)).assert_code(0);
    let out = base.join("grades");
    grade_class(&class, &out, &[]);
    let graded = reference_grading.finish(Duration::from_secs(30 * 60));
    let reference = read_json(&json);
    let failed: Vec<_> = checks(&reference)
        .into_iter()
        .filter(|c| !c.passed)
        .collect();
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
    let problems = ipc_grade::gradescope::validate(&read_json(&gradescope));
    assert!(problems.is_empty(), "results.json: {problems:#?}");
    let points: BTreeMap<String, f64> = reference["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["crate"].as_str().unwrap().to_owned(),
                c["total"].as_f64().unwrap(),
            )
        })
        .collect();
    let class_time = started.elapsed();
    let report = |student: &str| read_json(&out.join(format!("students/{student}.json")));

    // The starter: every crate builds, without a warning, and earns no
    // point; a failure names the part still to write, in the student's file.
    let starter = report("starter");
    for krate in starter["crates"].as_array().unwrap() {
        let name = krate["crate"].as_str().unwrap();
        assert!(
            krate.get("build_error").is_none(),
            "{name} did not build: {krate}"
        );
        assert_eq!(
            krate["warnings"], 0,
            "the starter of {name} builds with warnings"
        );
        let earning: Vec<&str> = krate["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["score"].as_f64().unwrap() > 0.0)
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert!(
            earning.is_empty(),
            "the starter of {name} earns points without the student's work (make these checks baseline): {earning:?}"
        );
    }
    let all = checks(&starter);
    for krate in &experiments {
        let ours: Vec<_> = all.iter().filter(|c| &c.krate == krate).collect();
        assert!(!ours.is_empty(), "{krate} has no checks");
        assert!(
            ours.iter().any(|c| c.message.starts_with("unfinished: ")),
            "no failure of {krate}'s starter names an unfinished part: {ours:#?}"
        );
    }

    // Every fake earns at most a third of its crate's points.
    let scores = assert_fakes_lose(&faked, &out, &points);
    // The hand-in of the reference: full marks.
    let alice = report("alice");
    assert_eq!(alice["score"], alice["total"], "{alice}");

    // The broken solution: the checks of the printed squares fail with the
    // whole difference and square_list's hint; every baseline check passes.
    let broken = checks(&report("=broken"));
    let seed = broken
        .iter()
        .find(|c| c.name == "prints the seed lines")
        .expect("exp7-shm has a check named prints the seed lines");
    assert!(!seed.passed, "{seed:?}");
    assert!(
        seed.message.starts_with("unexpected stdout: line 3"),
        "{seed:?}"
    );
    assert!(
        seed.diff.contains("-Result(in process p1): [1, 4, 9, 16]")
            && seed.diff.contains("+Result(in process p1): [2, 5, 10, 17]"),
        "{seed:?}"
    );
    assert!(
        seed.hints
            .iter()
            .any(|h| h.starts_with("square each number")),
        "{seed:?}"
    );
    for check in broken.iter().filter(|c| c.baseline) {
        assert!(
            check.passed,
            "a baseline check of the broken solution failed: {check:?}"
        );
    }

    // Carol: exp7-shm costs its own points only.
    let carol = report("carol");
    let by_crate = |name: &str| {
        carol["crates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["crate"] == name)
            .unwrap_or_else(|| panic!("carol: no {name}: {carol}"))
            .clone()
    };
    let shm = by_crate("exp7-shm");
    assert!(
        shm["build_error"]
            .as_str()
            .is_some_and(|e| e.contains("no_such_function")),
        "{shm}"
    );
    assert_eq!(shm["score"], 0.0, "{shm}");
    let value = by_crate("exp11-value");
    assert!(value.get("build_error").is_none(), "{value}");
    assert_eq!(value["score"], value["total"], "{value}");

    // The hostile solution fails, and nothing of it is left.
    let hostile = checks(&report("hostile"));
    let run = hostile
        .iter()
        .find(|c| c.name == "prints the seed lines")
        .unwrap();
    assert!(!run.passed, "{run:?}");
    for needle in [
        "wrote outside its scratch directory",
        "left running",
        "not counted",
    ] {
        assert!(run.message.contains(needle), "{needle:?} missing: {run:?}");
    }
    assert!(!Path::new("/tmp/ipc-lab-hostile-was-here").exists());
    assert!(
        !running("sleep\x003601"),
        "the hostile daemon outlived the grading"
    );
    let tests = std::fs::read_to_string(Path::new(ROOT).join("exercises/exp7-shm/tests/output.rs"))
        .unwrap();
    assert!(
        tests.contains("#[test]"),
        "the reference's tests were changed"
    );

    // The table: one row per submission, a column per crate and question;
    // the student named `=broken` is text to a spreadsheet.
    let csv = std::fs::read_to_string(out.join("class.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("student,exp1-dsm,exp1-dsm Q1,"),
        "{header}"
    );
    assert!(csv.contains("\n'=broken,"), "{csv}");
    let table = read_json(&out.join("class.json"));
    let rows = table["students"].as_array().unwrap().len();
    // The starter, `=broken`, hostile, carol and alice's hand-in, then
    // every fake.
    assert_eq!(
        rows,
        5 + faked.values().map(Vec::len).sum::<usize>(),
        "{csv}"
    );

    // 3. Marks: the instructor marks alice's answer to exp7-shm's first
    // question in the table; graded again with it, the mark counts.
    let marks_class = base.join("marks-class");
    std::fs::create_dir_all(&marks_class).unwrap();
    std::fs::copy(class.join("alice.tar.gz"), marks_class.join("alice.tar.gz")).unwrap();
    let marks = base.join("marks.csv");
    std::fs::write(
        &marks,
        "student,exp7-shm Q1,exp7-shm Q2\nalice,1,answered\n",
    )
    .unwrap();
    let marks_out = base.join("marks-grades");
    grade_class(
        &marks_class,
        &marks_out,
        &["--marks", marks.to_str().unwrap(), "exp7-shm"],
    );
    let marked = read_json(&marks_out.join("students/alice.json"));
    let questions = marked["crates"][0]["answers"].as_array().unwrap().len() as f64;
    assert_eq!(
        marked["total"].as_f64().unwrap(),
        points["exp7-shm"] + questions,
        "{marked}"
    );
    assert_eq!(
        marked["score"].as_f64().unwrap(),
        points["exp7-shm"] + 1.0,
        "{marked}"
    );

    // 4. Grading stopped by SIGTERM (a CI's time limit, Ctrl-C) while a
    // check runs: the grader says so and exits with 1. A class reports a
    // submission's lines when it is done, so the signal goes after the
    // first of three submissions, graded one at a time: the second is
    // being graded.
    let stop_class = base.join("stop-class");
    std::fs::create_dir_all(&stop_class).unwrap();
    for student in ["alice", "bob", "carol"] {
        std::fs::copy(
            class.join("alice.tar.gz"),
            stop_class.join(format!("{student}.tar.gz")),
        )
        .unwrap();
    }
    let mut command = Command::new("bash");
    command.args([
        &script("grade.sh"),
        "--quiet",
        "--jobs",
        "1",
        "--class",
        stop_class.to_str().unwrap(),
        "--out",
        base.join("stop-grades").to_str().unwrap(),
        "exp7-shm",
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

    println!(
        "instructor loop: the reference and the class ({} submissions, --jobs 2) graded side by side in {:.0} s; {:.0} s in all",
        rows,
        class_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!("fakes: {}", scores.join(", "));
    println!("{csv}");
    let _ = std::fs::remove_dir_all(&base);
}

/// A program run beside the test's other work: stopped with SIGTERM (the
/// grader then kills its running check and cleans up) if the test fails
/// before [`Beside::finish`].
struct Beside(Option<Running>);

impl Beside {
    fn finish(mut self, timeout: Duration) -> ipc_testkit::Run {
        self.0.take().expect("finished once").finish(timeout)
    }
}

impl Drop for Beside {
    fn drop(&mut self) {
        if let Some(running) = self.0.take() {
            // It ends on its own; the test's end reaps it.
            let _ = nix::sys::signal::kill(running.pid(), Sig::SIGTERM);
        }
    }
}

/// Moves the fakes of every crate that `wanted` accepts (by directory
/// name, `CRATE--FAKE`) into `class`, by crate.
fn add_fakes(
    fakes: &Path,
    class: &Path,
    wanted: impl Fn(&str) -> bool,
) -> BTreeMap<String, Vec<String>> {
    let mut command = Command::new(BIN);
    command
        .args(["fake", "--out", fakes.to_str().unwrap(), "all"])
        .env("IPC_LAB_ROOT", ROOT);
    run_command(command, None, Duration::from_secs(60)).assert_code(0);
    let mut faked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(fakes).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !wanted(&name) {
            continue;
        }
        let (krate, _) = name.split_once("--").unwrap();
        faked
            .entry(krate.to_owned())
            .or_default()
            .push(name.clone());
        std::fs::rename(entry.path(), class.join(&name)).unwrap();
    }
    let _ = std::fs::remove_dir_all(fakes);
    faked
}

/// Grades `class` two submissions at a time into `out`, with `more`
/// arguments (the crates last); every submission must be graded.
fn grade_class(class: &Path, out: &Path, more: &[&str]) {
    let mut args = vec![
        script("grade.sh"),
        "--quiet".into(),
        "--jobs".into(),
        "2".into(),
        "--class".into(),
        class.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(more.iter().map(|a| a.to_string()));
    let mut command = Command::new("bash");
    command.args(args);
    run_command(command, None, Duration::from_secs(60 * 60)).assert_code(0);
}

/// Asserts that every fake graded into `out` earns at most a third of its
/// crate's `points`; returns each fake's `name: score/total`.
fn assert_fakes_lose(
    faked: &BTreeMap<String, Vec<String>>,
    out: &Path,
    points: &BTreeMap<String, f64>,
) -> Vec<String> {
    let mut scores = Vec::new();
    for (krate, names) in faked {
        for name in names {
            let report = read_json(&out.join(format!("students/{name}.json")));
            let crate_report = &report["crates"][0];
            assert_eq!(crate_report["crate"], krate.as_str(), "{name}");
            let score = crate_report["score"].as_f64().unwrap();
            let total = points[krate];
            assert_eq!(crate_report["total"].as_f64().unwrap(), total, "{name}");
            scores.push(format!("{name}: {score}/{total}"));
            assert!(
                score * 3.0 <= total,
                "the fake {name} earns {score} of {total} points: more than a third\n{}",
                std::fs::read_to_string(out.join(format!("students/{name}.txt"))).unwrap()
            );
        }
    }
    scores
}

/// Every faked solution of `instructor/fakes/` (not only the `prints`
/// fakes of the loop above), graded as a class: each earns at most a third
/// of its crate's points. About 20 minutes on two cores, so neither a
/// plain `cargo test` nor `scripts/test.sh` runs it; run it after changing
/// a crate's tests or its fakes:
///
/// ```sh
/// cargo test -p ipc-grade --test instructor_loop every_fake -- --ignored --nocapture
/// ```
#[test]
#[ignore = "grades all 60-odd fakes (about 20 minutes): run it by name after changing tests or fakes"]
fn every_fake_earns_at_most_a_third() {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("every-fake");
    let _ = std::fs::remove_dir_all(&base);
    let class = base.join("class");
    std::fs::create_dir_all(&class).unwrap();
    let faked = add_fakes(&base.join("fakes"), &class, |_| true);
    let points: BTreeMap<String, f64> = experiments()
        .into_iter()
        .map(|krate| {
            let declared = Points::read(&Path::new(ROOT).join("exercises").join(&krate)).unwrap();
            (krate, f64::from(declared.total()))
        })
        .collect();
    for krate in points.keys() {
        assert!(faked.contains_key(krate), "{krate} has no fake");
    }
    let out = base.join("grades");
    grade_class(&class, &out, &[]);
    let scores = assert_fakes_lose(&faked, &out, &points);
    println!("fakes: {}", scores.join(", "));
    let _ = std::fs::remove_dir_all(&base);
}
