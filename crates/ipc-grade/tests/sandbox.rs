//! The sandbox against what a student's code can do wrong: hang, fork
//! without end, leave a process running (even one that left its session
//! and its environment), leave an IPC object behind. Each is a real
//! program; each must fail its run and leave nothing.
//!
//! One test, so that no other test of this binary starts processes while
//! the sandbox counts this process's descendants as the run's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ipc_core::blocking::{self, Deadline};
use ipc_grade::sandbox::{Limits, Sandbox, TOKEN_VAR, Trouble};
use ipc_testkit::TempDir;

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts");

/// The `ipc-lab-clean` that `cargo test` built beside this test, if any
/// (else `scripts/clean.sh` builds it).
fn clean_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("ipc-lab-clean");
    bin.is_file().then_some(bin)
}

fn sh(script: &str) -> Command {
    let mut command = Command::new("bash");
    command.args(["-c", script]);
    command
}

/// The processes whose environment holds `needle`, as pids.
fn with_env(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.parse::<u32>().is_err() || name == std::process::id().to_string() {
            continue;
        }
        if let Ok(env) = std::fs::read(entry.path().join("environ"))
            && env
                .split(|&b| b == 0)
                .any(|v| v.starts_with(needle.as_bytes()))
        {
            found.push(name);
        }
    }
    found
}

/// No process is left of the runs that carried `marker` in their
/// environment, after at most a few seconds.
fn assert_none_left(marker: &str) {
    let gone = blocking::poll_until(
        Deadline::after(Duration::from_secs(5)),
        blocking::JOIN_INTERVAL,
        || with_env(marker).is_empty().then_some(()),
    );
    assert!(gone.is_some(), "left: {:?}", with_env(marker));
}

#[test]
fn every_kind_of_misbehaviour_fails_its_run_and_leaves_nothing() {
    let scratch = TempDir::new("sandbox");
    let limits = Limits {
        timeout: Duration::from_secs(20),
        max_processes: 64,
        grace: Duration::from_secs(2),
    };
    let mut sandbox =
        Sandbox::new(scratch.path(), Path::new(SCRIPTS), clean_bin(), limits).unwrap();
    // Each run carries this in its environment, and so does everything it
    // starts (unless it clears its environment).
    let marker = format!("IPC_LAB_GRADE_SANDBOX_TEST={}", std::process::id());
    let (key, value) = marker.split_once('=').unwrap();

    // A good run: its output, its own TMPDIR (removed after), the token.
    let mut good =
        sh("echo \"$TMPDIR\"; echo \"${IPC_LAB_GRADE_TOKEN:+token}\"; touch \"$TMPDIR/x\"");
    good.env(key, value);
    let outcome = sandbox.run(&good).unwrap();
    assert!(outcome.clean_success(), "{outcome:?}");
    let mut lines = outcome.stdout.lines();
    let tmp = PathBuf::from(lines.next().unwrap());
    assert!(tmp.starts_with(scratch.path()), "{tmp:?}");
    assert!(!tmp.exists(), "{tmp:?} left");
    assert_eq!(lines.next(), Some("token"), "{TOKEN_VAR} is set");

    // A hang: killed at the timeout, with what it started.
    sandbox = Sandbox::new(
        scratch.path(),
        Path::new(SCRIPTS),
        clean_bin(),
        Limits {
            timeout: Duration::from_millis(500),
            ..limits
        },
    )
    .unwrap();
    let mut hang = sh("sleep 60 & sleep 60");
    hang.env(key, value);
    let started = Instant::now();
    let outcome = sandbox.run(&hang).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        outcome.troubles,
        [Trouble::TimedOut(Duration::from_millis(500))]
    );
    assert!(outcome.status.is_none());
    assert_none_left(&marker);

    // A fork bomb: stopped past the limit, every process killed.
    sandbox = Sandbox::new(scratch.path(), Path::new(SCRIPTS), clean_bin(), limits).unwrap();
    let mut bomb = sh("bomb() { bomb | bomb & }; bomb; sleep 60");
    bomb.env(key, value);
    let started = Instant::now();
    let outcome = sandbox.run(&bomb).unwrap();
    assert!(started.elapsed() < Duration::from_secs(15), "{outcome:?}");
    assert_eq!(outcome.troubles, [Trouble::ForkBomb(64)], "{outcome:?}");
    assert_none_left(&marker);
    assert!(
        Trouble::ForkBomb(64).to_string().contains("fork bomb"),
        "the message says what it was"
    );

    // Processes left running after the run's first one ended: one in a
    // session of its own, one that also cleared its environment (found as
    // a descendant: the grader is their subreaper). Both killed.
    let mut escape = sh("setsid sleep 61 >/dev/null 2>&1 &
         env -i setsid sh -c 'sleep 62' >/dev/null 2>&1 &
         echo started");
    escape.env(key, value);
    let outcome = sandbox.run(&escape).unwrap();
    assert_eq!(outcome.status.map(|s| s.success()), Some(true));
    match &outcome.troubles[..] {
        [Trouble::LeftRunning(left)] => {
            // The two sleeps (and the shell of the second).
            let sleeps = left.iter().filter(|p| p.ends_with(" (sleep)")).count();
            assert_eq!(sleeps, 2, "{left:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!outcome.clean_success());
    assert_none_left(&marker);
    let gone = |command: &str| {
        !Command::new("pgrep")
            .args(["-f", command])
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(gone("^sleep 61$") && gone("^sleep 62$"), "still running");

    // A named object left behind, listed in the run's audit file as
    // ipc-core lists what it creates: the run fails, the object goes.
    let name = format!("ipc-lab-grade-sandbox-{}", std::process::id());
    let path = Path::new("/dev/shm").join(&name);
    let mut leave = sh(&format!(
        "f=/dev/shm/{name}; touch $f; \
         echo \"$$ created shm $(stat -c '%d %i' $f) /{name}\" >> \"$IPC_LAB_AUDIT\""
    ));
    leave.env(key, value);
    let outcome = sandbox.run(&leave).unwrap();
    let removed = !path.exists();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        outcome.troubles,
        [Trouble::LeftBehind(
            vec![format!("shm {}", path.display())],
            true
        )],
        "{outcome:?}"
    );
    assert!(removed, "{} left", path.display());
    assert_eq!(
        outcome.troubles[0].to_string(),
        format!("left behind: shm {} (removed)", path.display())
    );

    // Nothing of the runs is left in the scratch directory.
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
