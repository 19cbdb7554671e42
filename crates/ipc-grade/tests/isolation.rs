//! Runs in namespaces, for real: what a check can see, write and leave.
//! Each test is skipped (and says so) where bubblewrap cannot make
//! namespaces; scripts/test.sh installs it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipc_grade::isolation::{FIRST_UID, Isolation, Job, Namespaces};
use ipc_grade::sandbox::{Limits, Trouble};
use ipc_grade::supervise::Supervised;
use ipc_testkit::TempDir;

const GRADER: &str = env!("CARGO_BIN_EXE_ipc-grade");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn namespaces() -> Option<Namespaces> {
    let root = Path::new(ROOT).canonicalize().unwrap();
    match Isolation::detect(&root, Path::new(GRADER)) {
        Isolation::Namespaces(ns) => Some(ns),
        Isolation::Session(why) => {
            println!("skipped: no namespaces here: {why}");
            None
        }
    }
}

/// Runs `script` with sh in a check's namespaces, the reference being
/// `root` (this workspace) and `target` the build, within `timeout`.
fn sh_within(
    ns: &Namespaces,
    root: &Path,
    target: &Path,
    script: &str,
    timeout: u64,
) -> Supervised {
    let job = Job {
        reference: root,
        sources: &[],
        target,
        build: false,
        uid: FIRST_UID + 7,
        limits: Limits {
            timeout: Duration::from_secs(timeout),
            max_processes: 64,
            grace: Duration::from_secs(1),
        },
        cwd: PathBuf::from("exercises/exp7-shm"),
        command: vec!["/bin/sh".into(), "-c".into(), OsString::from(script)],
        env: Vec::new(),
        hide: &[],
    };
    ns.run(&job).unwrap()
}

/// [`sh_within`] 30 s, with a build target of its own, in the namespaces
/// of [`namespaces`]: those and the report, `None` where there are none
/// (the test is skipped).
fn sh(script: &str) -> Option<(Namespaces, Supervised)> {
    let ns = namespaces()?;
    let root = Path::new(ROOT).canonicalize().unwrap();
    let target = TempDir::new("target");
    let report = sh_within(&ns, &root, target.path(), script, 30);
    Some((ns, report))
}

#[test]
fn a_check_sees_only_loopback_and_its_own_user() {
    let Some((ns, report)) =
        sh("ls /sys/class/net; id -u; cat /etc/shadow 2>&1 | head -c 40; echo; pwd")
    else {
        return;
    };
    assert_eq!(report.code, Some(0), "{report:?}");
    let lines: Vec<&str> = report.stdout.lines().collect();
    if ns.changes_user() {
        assert_eq!(lines[0], "lo", "{report:?}");
        assert_eq!(lines[1], (FIRST_UID + 7).to_string(), "{report:?}");
        assert!(lines[2].contains("Permission denied"), "{report:?}");
    }
    assert_eq!(
        lines.last().copied(),
        Some("/tmp/ipc-lab-grade/ws/exercises/exp7-shm"),
        "{report:?}"
    );
    assert!(report.troubles.is_empty(), "{report:?}");
}

#[test]
fn writes_outside_the_scratch_fail_and_never_reach_the_host() {
    let marker = format!("ipc-lab-grade-escape-{}", std::process::id());
    let Some((_, report)) = sh(&format!(
        "echo x > /tmp/{marker}; echo y > /tmp/ipc-lab-grade/ws/{marker} 2>/dev/null; \
             echo z > $TMPDIR/fine; echo w > {ROOT}/{marker} 2>/dev/null; true"
    )) else {
        return;
    };
    assert_eq!(report.code, Some(0), "{report:?}");
    assert_eq!(
        report.troubles,
        [Trouble::WroteOutside(vec![format!("/tmp/{marker}")])],
        "{report:?}"
    );
    for path in [format!("/tmp/{marker}"), format!("{ROOT}/{marker}")] {
        assert!(!Path::new(&path).exists(), "{path} reached the host");
    }
}

#[test]
fn a_daemon_is_killed_and_named_and_nothing_outlives_the_check() {
    let Some((_, report)) =
        sh("setsid sh -c 'sleep 317' </dev/null >/dev/null 2>&1 & echo started")
    else {
        return;
    };
    assert_eq!(report.code, Some(0), "{report:?}");
    match report.troubles.as_slice() {
        [Trouble::LeftRunning(left)] => assert!(
            left.iter().any(|p| p.contains("sleep") || p.contains("sh")),
            "{left:?}"
        ),
        other => panic!("not reported as left running: {other:?}"),
    }
    assert!(!running("sleep\x00317"), "the daemon outlived its check");
}

#[test]
fn a_fork_bomb_and_a_hang_are_stopped() {
    let Some((_, bomb)) = sh("b() { b & b & }; b; sleep 60") else {
        return;
    };
    assert!(
        bomb.troubles
            .iter()
            .any(|t| matches!(t, Trouble::ForkBomb(_))),
        "{bomb:?}"
    );
}

#[test]
fn ipc_objects_left_in_the_namespace_are_reported() {
    let Some((_, report)) = sh("echo x > /dev/shm/ipc-lab-left; mkfifo $TMPDIR/ipc-lab-fifo")
    else {
        return;
    };
    match report.troubles.as_slice() {
        [Trouble::LeftBehind(left, _)] => {
            assert!(
                left.iter().any(|l| l == "shm /dev/shm/ipc-lab-left"),
                "{left:?}"
            );
            assert!(left.iter().any(|l| l.starts_with("fifo ")), "{left:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!Path::new("/dev/shm/ipc-lab-left").exists());
}

/// True if a process of the machine has `cmdline` (NUL-separated).
fn running(cmdline: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c.starts_with(cmdline.as_bytes()))
    })
}

#[test]
fn another_submission_and_the_instructors_files_are_out_of_sight() {
    // Another student's work, beside this one (the class), and the
    // grader's work directory inside the reference: neither is there.
    let class = TempDir::new("class");
    let victim = class.join("bob/exercises/exp7-shm/src/lib.rs");
    std::fs::create_dir_all(victim.parent().unwrap()).unwrap();
    std::fs::write(&victim, "bob's work\n").unwrap();
    let Some((_, report)) = sh(&format!(
        "cat {} 2>&1; ls /root /home 2>&1 | head -3; echo; ls {ROOT}/target 2>&1 | head -3",
        victim.display()
    )) else {
        return;
    };
    assert!(!report.stdout.contains("bob's work"), "{report:?}");
    assert!(report.stdout.contains("No such file"), "{report:?}");
}

#[test]
fn a_run_that_stops_every_process_it_can_is_still_ended_on_time() {
    let Some(ns) = namespaces() else { return };
    let target = TempDir::new("target");
    let root = Path::new(ROOT).canonicalize().unwrap();
    // SIGSTOP to every process it may signal: the supervisor (PID 1, no
    // handler) is not one of them, and the grader is not even visible.
    let started = std::time::Instant::now();
    let report = sh_within(
        &ns,
        &root,
        target.path(),
        "kill -STOP -1; kill -STOP 1; kill -KILL 1; sleep 30",
        2,
    );
    assert!(
        report
            .troubles
            .contains(&Trouble::TimedOut(Duration::from_secs(2))),
        "{report:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "{report:?}");
}
