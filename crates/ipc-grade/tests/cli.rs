//! The `ipc-grade` program without a build: the starter's copy, bad usage,
//! and the marked regions of every experiment against its handout.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ipc_grade::markers;
use ipc_grade::workspace::Workspace;
use ipc_testkit::{TempDir, handout, run};

const BIN: &str = env!("CARGO_BIN_EXE_ipc-grade");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[test]
fn a_starter_cuts_the_named_crates_and_copies_the_rest_unchanged() {
    let dir = TempDir::new("starter");
    let out = dir.join("class-starter");
    let run = run(
        BIN,
        &["starter", "--out", out.to_str().unwrap(), "exp7-shm"],
    );
    run.assert_code(0).assert_stdout_contains(&[
        "2 regions to write in exp7-shm",
        "exercises/exp7-shm/src/lib.rs:",
    ]);
    let cut = std::fs::read_to_string(out.join("exercises/exp7-shm/src/lib.rs")).unwrap();
    assert!(!cut.contains("num * num"), "the solution is gone\n{cut}");
    assert_eq!(cut.matches("todo!(\"").count(), 2, "{cut}");
    assert!(cut.contains(markers::ALLOW), "{cut}");
    // Everything else is the reference, byte for byte: the tests, the
    // handout, the library, another experiment.
    for file in [
        "exercises/exp7-shm/tests/output.rs",
        "exercises/exp7-shm/README.md",
        "crates/ipc-core/src/lib.rs",
        "exercises/exp11-value/src/lib.rs",
        "Cargo.lock",
    ] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(Path::new(ROOT).join(file)).unwrap(),
            "{file}"
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
    assert!(starter.contains("\nCrates: exp7-shm\n"), "{starter}");
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
    let again = ipc_testkit::run(
        BIN,
        &["starter", "--out", out.to_str().unwrap(), "exp7-shm"],
    );
    again.assert_bad_usage("is not empty");
}

#[test]
fn bad_usage_exits_with_2_and_says_why() {
    let dir = TempDir::new("usage");
    let out = dir.join("new");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
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
            &["grade", "--timeout", "0", ROOT],
            "expected a whole number of seconds from 1",
        ),
    ];
    for (args, message) in cases {
        run(BIN, args).assert_bad_usage(message);
    }
    assert!(
        !dir.join("new").exists(),
        "a refused command wrote its output"
    );
}

#[test]
fn help_names_both_scripts_and_the_exit_codes() {
    run(BIN, &["--help"])
        .assert_code(0)
        .assert_stdout_contains(&["scripts/starter.sh", "scripts/grade.sh", "Exit codes: 0"]);
    run(BIN, &["grade", "--help"])
        .assert_code(0)
        .assert_stdout_contains(&[
            "--class",
            "--json",
            "a fork bomb",
            "Exit codes: 0 full marks",
        ]);
}

#[test]
fn every_experiment_has_one_to_three_regions_and_its_handout_names_them() {
    let ws = Workspace::at(Path::new(ROOT)).unwrap();
    for krate in ws.experiments().unwrap() {
        let found = ipc_grade::starter::crate_regions(&ws, &krate).unwrap();
        let count: usize = found.iter().map(|(_, r)| r.len()).sum();
        assert!(
            (1..=3).contains(&count),
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
