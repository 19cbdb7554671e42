//! `scripts/run-all.sh`, the instructors' batch run, as a grader uses it:
//! with the binaries wherever cargo put them.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{TempDir, run_command};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-shm");
const RUN_ALL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/run-all.sh");

#[test]
fn run_all_takes_the_binaries_from_the_target_directory_cargo_reports() {
    // It used to run target/debug/<crate>, and failed every experiment
    // ("No such file or directory") for anyone with CARGO_TARGET_DIR set.
    // Here the target directory holds one program, a wrapper that notes it
    // ran and runs the real exp7-shm: only a script that asks cargo where
    // the binaries are can find it. (--no-build: building a whole target
    // directory would take minutes.)
    let target = TempDir::new("target");
    let debug = target.join("debug");
    std::fs::create_dir(&debug).unwrap();
    let marker = target.join("ran");
    let wrapper = debug.join("exp7-shm");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\nexec '{BIN}' \"$@\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut command = Command::new("bash");
    command
        .args([RUN_ALL, "--no-build", "--only", "exp7-shm"])
        .env("CARGO_TARGET_DIR", target.path());
    let run = run_command(command, None, Duration::from_secs(120));
    run.assert_code(0)
        .assert_stdout_contains(&["exp7-shm", "ok", "1 passed, 0 failed"]);
    let args = std::fs::read_to_string(&marker)
        .unwrap_or_else(|e| panic!("the wrapper never ran ({e})\n{run}"));
    assert_eq!(args.trim(), "--fast", "{run}");
}
