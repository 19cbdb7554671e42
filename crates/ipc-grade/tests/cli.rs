//! The `ipc-grade` program without a build: the starter's copy, bad usage,
//! and the marked regions of every experiment against its handout.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ipc_grade::markers;
use ipc_grade::workspace::Workspace;
use ipc_testkit::{TempDir, handout, run};

const BIN: &str = env!("CARGO_BIN_EXE_ipc-grade");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `ipc-grade` with `args`, its reference given as the scripts give it.
fn grade(args: &[&str]) -> ipc_testkit::Run {
    let mut command = std::process::Command::new(BIN);
    command.args(args).env("IPC_LAB_ROOT", ROOT);
    ipc_testkit::run_command(command, None, ipc_testkit::DEFAULT_TIMEOUT)
}

#[test]
fn a_starter_holds_the_named_crates_and_those_they_use_cut_with_their_answers() {
    let dir = TempDir::new("starter");
    let out = dir.join("class-starter");
    let run = grade(&["starter", "--out", out.to_str().unwrap(), "exp7"]);
    run.assert_code(0).assert_stdout_contains(&[
        "7 regions to write in exp7 exp7-pipe exp7-queue exp7-shm",
        "exercises/exp7-shm/src/lib.rs:",
    ]);
    // The menu uses three other experiments: they are cut too; no other
    // experiment is there (their code would answer these), nor the
    // instructors' material, nor the book's chapters of the others.
    let mut crates: Vec<String> = std::fs::read_dir(out.join("exercises"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    assert_eq!(crates, ["exp7", "exp7-pipe", "exp7-queue", "exp7-shm"]);
    assert!(!out.join("instructor").exists(), "instructor/ was copied");
    assert!(!out.join("docs/experiments/exp11-value.md").exists());
    let summary = std::fs::read_to_string(out.join("docs/SUMMARY.md")).unwrap();
    assert!(!summary.contains("exp11-value"), "{summary}");
    assert!(summary.contains("(experiments/exp7-shm.md)"), "{summary}");
    let cut = std::fs::read_to_string(out.join("exercises/exp7-shm/src/lib.rs")).unwrap();
    assert!(!cut.contains("num * num"), "the solution is gone\n{cut}");
    assert_eq!(cut.matches("todo!(\"").count(), 2, "{cut}");
    assert!(cut.contains(markers::ALLOW), "{cut}");
    // Everything else is the reference, byte for byte.
    for file in [
        "exercises/exp7-shm/tests/output.rs",
        "exercises/exp7-shm/README.md",
        "crates/ipc-core/src/lib.rs",
        "Cargo.lock",
    ] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(Path::new(ROOT).join(file)).unwrap(),
            "{file}"
        );
    }
    // An ANSWERS.md per crate, listing its handout's questions.
    for krate in &crates {
        let answers = std::fs::read_to_string(out.join("exercises").join(krate).join("ANSWERS.md"))
            .unwrap_or_else(|e| panic!("{krate}: no ANSWERS.md: {e}"));
        let questions =
            ipc_grade::answers::read_questions(&Path::new(ROOT).join("exercises").join(krate))
                .unwrap();
        for question in &questions {
            assert!(
                answers.contains(&format!("## Question {}\n", question.number)),
                "{krate}: question {} missing\n{answers}",
                question.number
            );
        }
        let none = ipc_grade::answers::answered(&answers, &questions);
        assert!(
            none.iter().all(|(_, a)| !a),
            "{krate}: the template counts as answered"
        );
    }
    // Scripts stay executable; build outputs and the NATS install stay out.
    let mode = std::fs::metadata(out.join("scripts/grade.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_ne!(mode & 0o111, 0, "scripts/grade.sh is not executable");
    for absent in ["target", ".venv", ".git"] {
        assert!(!out.join(absent).exists(), "{absent} was copied");
    }
    let starter = std::fs::read_to_string(out.join("STARTER.md")).unwrap();
    assert!(
        starter.contains("\nCrates: exp7 exp7-pipe exp7-queue exp7-shm\n"),
        "{starter}"
    );
    let commit = starter
        .lines()
        .find_map(|l| l.strip_prefix("Commit: "))
        .unwrap_or_else(|| panic!("no Commit: line\n{starter}"));
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{commit}"
    );
    // Each part to write is listed where it is in the starter's file.
    for line in starter.lines().filter(|l| l.starts_with("- `exercises/")) {
        let (file, rest) = line[3..].split_once("` line ").unwrap();
        let number: usize = rest.split(',').next().unwrap().parse().unwrap();
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        let marker = text.lines().nth(number - 1).unwrap();
        assert!(
            marker.trim_start().starts_with(markers::BEGIN),
            "{line}: {marker:?}"
        );
    }

    // A second starter into the same directory is refused.
    grade(&["starter", "--out", out.to_str().unwrap(), "exp7-shm"])
        .assert_bad_usage("is not empty");
}

#[test]
fn the_reference_is_found_where_the_program_runs_never_where_it_was_built() {
    let dir = TempDir::new("elsewhere");
    let out = dir.join("s");
    // Outside any workspace, with nothing to say where one is.
    let mut command = std::process::Command::new(BIN);
    command
        .args(["starter", "--out", out.to_str().unwrap(), "exp7-shm"])
        .current_dir(dir.path())
        .env_remove("IPC_LAB_ROOT");
    ipc_testkit::run_command(command, None, ipc_testkit::DEFAULT_TIMEOUT)
        .assert_bad_usage("no ipc-lab workspace found");
    // A wrong $IPC_LAB_ROOT is named.
    let mut command = std::process::Command::new(BIN);
    command
        .args(["starter", "--out", out.to_str().unwrap(), "exp7-shm"])
        .env("IPC_LAB_ROOT", "/nonexistent-ipc-lab-root");
    ipc_testkit::run_command(command, None, ipc_testkit::DEFAULT_TIMEOUT)
        .assert_bad_usage("/nonexistent-ipc-lab-root");
    // From a directory inside the workspace, it is found.
    let mut command = std::process::Command::new(BIN);
    command
        .args(["starter", "--out", out.to_str().unwrap(), "exp7-shm"])
        .current_dir(Path::new(ROOT).join("crates/ipc-grade/src"))
        .env_remove("IPC_LAB_ROOT");
    ipc_testkit::run_command(command, None, ipc_testkit::DEFAULT_TIMEOUT).assert_code(0);
    assert!(out.join("exercises/exp7-shm/src/lib.rs").is_file());
}

#[test]
fn every_experiment_declares_the_points_of_exactly_its_tests() {
    let ws = Workspace::at(Path::new(ROOT)).unwrap();
    for krate in ws.experiments().unwrap() {
        let dir = ws.crate_dir(&krate);
        let points =
            ipc_grade::points::Points::read(&dir).unwrap_or_else(|e| panic!("{krate}: {e}"));
        let mut tests = Vec::new();
        for entry in std::fs::read_dir(dir.join("tests")).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") {
                let target = ipc_grade::libtest::target_name(&path);
                let source = std::fs::read_to_string(&path).unwrap();
                for name in ipc_grade::libtest::tests_in_source(&source) {
                    tests.push(format!("{target}::{name}"));
                }
            }
        }
        let problems = points.mismatches(&tests);
        assert!(problems.is_empty(), "{krate}: {problems:#?}");
        assert!(points.total() > 0, "{krate}: no check carries points");
        // A check's regions are functions that hold a region.
        let functions: Vec<String> = ipc_grade::starter::crate_regions(&ws, &krate)
            .unwrap()
            .into_iter()
            .flat_map(|(_, regions)| regions)
            .filter_map(|r| r.function)
            .collect();
        for (id, declared) in points.checks() {
            for region in &declared.regions {
                assert!(
                    functions.contains(region),
                    "{krate}: {id} names the region of `{region}`, which has none ({functions:?})"
                );
            }
        }
        // Every question of the handout is numbered from 1.
        let questions = ipc_grade::answers::read_questions(&dir).unwrap();
        assert!(!questions.is_empty(), "{krate}: no question");
    }
}

#[test]
fn bad_usage_exits_with_2_and_says_why() {
    let dir = TempDir::new("usage");
    let out = dir.join("new");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 12] = [
        (
            &["starter", "--out", out, "nosuch"],
            "no experiment named nosuch",
        ),
        (&["starter", "--out", out], "required"),
        (&["grade"], "name the directory to grade"),
        (
            &["grade", "/nonexistent-ipc-lab-dir"],
            "/nonexistent-ipc-lab-dir",
        ),
        (
            &["grade", dir.path().to_str().unwrap()],
            "neither an ipc-lab workspace",
        ),
        (&["grade", ROOT, "nosuch"], "no experiment named nosuch"),
        (
            &["grade", "--class", out, "--json", "x.json"],
            "cannot be used with",
        ),
        (
            &["grade", "--class", out, "--gradescope", "r.json"],
            "cannot be used with",
        ),
        (&["grade", "--marks", "m.csv", ROOT], "--class"),
        (&["grade", "--jobs", "2", ROOT], "--class"),
        (&["grade", "--class", out, "--jobs", "0"], "jobs"),
        (
            &["grade", "--timeout", "0", ROOT],
            "expected a whole number of seconds from 1",
        ),
    ];
    for (args, message) in cases {
        grade(args).assert_bad_usage(message);
    }
    // Reports never go inside the class.
    let class = dir.join("class");
    std::fs::create_dir_all(class.join("alice")).unwrap();
    let inside = class.join("grades");
    grade(&[
        "grade",
        "--class",
        class.to_str().unwrap(),
        "--out",
        inside.to_str().unwrap(),
    ])
    .assert_bad_usage("inside the class");
    // A second grader on the same class and output directory says the
    // first holds it (here the test holds it).
    let out = dir.join("class-grades");
    std::fs::create_dir_all(&out).unwrap();
    let held = ipc_grade::work::Lock::try_exclusive(&out.join(".lock"))
        .unwrap()
        .unwrap();
    grade(&["grade", "--class", class.to_str().unwrap()])
        .assert_bad_usage("another grader is writing");
    drop(held);
    assert!(
        !dir.join("new").exists(),
        "a refused command wrote its output"
    );
}

#[test]
fn help_names_the_scripts_and_the_exit_codes() {
    run(BIN, &["--help"])
        .assert_code(0)
        .assert_stdout_contains(&[
            "scripts/starter.sh",
            "grade.sh",
            "watch.sh",
            "$IPC_LAB_ROOT",
            "Exit codes: 0",
        ]);
    run(BIN, &["grade", "--help"])
        .assert_code(0)
        .assert_stdout_contains(&[
            "--class",
            "--jobs",
            "--json",
            "--gradescope",
            "--marks",
            "--build-timeout",
            "namespaces",
            "a fork bomb",
            "Exit codes: 0 full marks",
        ]);
    run(BIN, &["watch", "--help"])
        .assert_code(0)
        .assert_stdout_contains(&["is saved", "hint", "Ctrl-C"]);
    run(BIN, &["handin", "--help"])
        .assert_code(0)
        .assert_stdout_contains(&["manifest", "Exit codes"]);
}

#[test]
fn every_experiment_has_one_to_four_regions_and_its_handout_names_them() {
    let ws = Workspace::at(Path::new(ROOT)).unwrap();
    for krate in ws.experiments().unwrap() {
        let found = ipc_grade::starter::crate_regions(&ws, &krate).unwrap();
        let count: usize = found.iter().map(|(_, r)| r.len()).sum();
        // Four at most: exp3-prodcons has the semaphores' two and the
        // condition's two (`--condition`), one lab each.
        assert!(
            (1..=4).contains(&count),
            "{krate} has {count} regions: keep them few and meaningful"
        );
        let readme = std::fs::read_to_string(ws.crate_dir(&krate).join("README.md")).unwrap();
        let part = handout::section(&readme, "## Your part");
        assert!(
            part.contains(&format!("starter.sh --out DIR {krate}")),
            "{krate}: {part}"
        );
        assert!(
            part.contains(&format!("cargo test -p {krate}")),
            "{krate}: {part}"
        );
        assert!(
            part.contains(&format!("grade.sh . {krate}")),
            "{krate}: {part}"
        );
        for (file, regions) in &found {
            let name = file.file_name().unwrap().to_string_lossy();
            assert!(
                part.contains(&format!("`src/{name}`")),
                "{krate}: no `src/{name}`"
            );
            for region in regions {
                let function = region.function.as_deref().unwrap();
                assert!(
                    part.contains(&format!("`{function}`"))
                        || part.contains(&format!("::{function}`")),
                    "{krate}: \"Your part\" does not name `{function}`, where the region of line {} is",
                    region.begin
                );
            }
        }
    }
}
