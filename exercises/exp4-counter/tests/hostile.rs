//! `exp4-counter` on a shared lab machine: invalid names, a name already
//! taken by someone else (another mode, a symbolic link planted in
//! /dev/shm), a hostile umask, a segment too small to attach to, and a
//! full /dev/shm.
//!
//! Every name is `ipc-lab-t<test pid>-<tag>`; whatever a test plants is
//! removed when it ends, also when it fails.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ipc_testkit::contract;
use ipc_testkit::{
    Run, Running, SIGNAL_DEADLINE, Sig, TempDir, assert_no_new_shm, eventually, run, run_command,
    running_as_root, skip_unless,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp4-counter");

const WAIT: Duration = Duration::from_secs(30);

/// Something planted in /dev/shm by a test, removed when dropped.
struct Planted {
    name: String,
}

impl Planted {
    /// `ipc-lab-t<pid>-<tag>`, nothing there yet.
    fn new(tag: &str) -> Planted {
        let planted = Planted {
            name: format!("t{}-{tag}", std::process::id()),
        };
        let _ = std::fs::remove_file(planted.path());
        planted
    }

    /// Runs `exp4-counter --name` on it and panics unless creating the
    /// segment failed with exit code 1 naming it as taken; returns the run.
    #[track_caller]
    fn assert_create_refused(&self) -> Run {
        let created = run(BIN, &["--fast", "--ticks", "3", "--name", self.name()]);
        let taken = format!(
            "shm_open /ipc-lab-{} (taken: `exp4-counter --attach",
            self.name()
        );
        assert_fails_with(&created, &taken);
        created
    }

    /// The name as `--name` and `--attach` take it.
    fn name(&self) -> &str {
        &self.name
    }

    fn path(&self) -> PathBuf {
        Path::new("/dev/shm").join(format!("ipc-lab-{}", self.name))
    }

    /// Shrinks the segment to nothing, as anybody who may write it can,
    /// under the processes that map it.
    fn truncate(&self) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(self.path())
            .unwrap()
            .set_len(0)
            .unwrap();
    }
}

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path());
    }
}

/// The content and the permission bits of `path`, following links.
fn content_and_mode(path: &Path) -> (Vec<u8>, u32) {
    let meta = std::fs::metadata(path).unwrap();
    (
        std::fs::read(path).unwrap(),
        meta.permissions().mode() & 0o7777,
    )
}

/// A runtime failure: exit 1, no panic, nothing on stdout, `message` on
/// stderr.
fn assert_fails_with(run: &Run, message: &str) {
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[message]);
    assert_eq!(run.stdout, "", "{run}");
}

/// What a program that refuses a name before touching anything does not
/// do: fork, or open anything in /dev/shm (`shm_open` is an `openat` there).
const IPC_CALLS: [&str; 5] = ["clone(", "clone3(", "fork(", "vfork(", "/dev/shm"];

#[test]
fn invalid_names_are_refused_before_any_system_call_on_them() {
    assert_no_new_shm(|| {
        for (name, reason) in contract::invalid_names() {
            for flag in ["--name", "--attach"] {
                let args = ["--fast", "--ticks", "1", flag, &name];
                contract::assert_refused_before_calls(BIN, &args, reason, &IPC_CALLS);
            }
        }
    });
}

#[test]
fn a_symbolic_link_planted_in_dev_shm_is_refused_and_its_target_untouched() {
    let dir = TempDir::new("shm-link");
    let target = dir.join("precious");
    std::fs::write(&target, "precious\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = content_and_mode(&target);
    let link = Planted::new("link");
    std::os::unix::fs::symlink(&target, link.path()).unwrap();

    // Creating (O_CREAT | O_EXCL) never follows a link; attaching opens
    // with O_NOFOLLOW (glibc's shm_open), so it does not either.
    link.assert_create_refused();
    let attached = run(BIN, &["--fast", "--ticks", "3", "--attach", link.name()]);
    assert_fails_with(
        &attached,
        &format!(
            "shm_open /ipc-lab-{}: Too many symbolic links encountered",
            link.name()
        ),
    );
    assert_eq!(content_and_mode(&target), before, "the target changed");
    let meta = std::fs::symlink_metadata(link.path()).unwrap();
    assert!(meta.file_type().is_symlink(), "the link was replaced");

    // A dangling link: nothing is created where it points.
    let nowhere = dir.join("nowhere");
    let dangling = Planted::new("dangling");
    std::os::unix::fs::symlink(&nowhere, dangling.path()).unwrap();
    dangling.assert_create_refused();
    assert!(!nowhere.exists(), "created behind the dangling link");
}

#[test]
fn a_name_taken_with_another_mode_is_refused_and_left_as_it_was() {
    for mode in [0o644, 0o400, 0o000] {
        let taken = Planted::new(&format!("taken-{mode:o}"));
        std::fs::write(taken.path(), "someone else's\n").unwrap();
        let before = content_and_mode(&taken.path());
        std::fs::set_permissions(taken.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        let run = taken.assert_create_refused();
        // Read back as its owner (not root, whom no mode stops) may.
        let after = std::fs::metadata(taken.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(after, mode, "the mode is left as it was\n{run}");
        std::fs::set_permissions(taken.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(content_and_mode(&taken.path()).0, before.0, "{run}");
    }
}

#[test]
fn segments_are_created_0600_whatever_the_umask() {
    for umask in ["000", "277", "077"] {
        let segment = Planted::new(&format!("umask-{umask}"));
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("umask {umask}; exec \"$0\" --fast --ticks 1000000 --name \"$1\""),
            BIN,
            segment.name(),
        ]);
        let mut running = Running::start(command, false);
        running.wait_for_lines(1, WAIT, |l| l.starts_with("Process-2:"));
        let mode = std::fs::symlink_metadata(segment.path())
            .map(|meta| meta.permissions().mode() & 0o7777)
            .unwrap_or_else(|e| panic!("{}: {e}", segment.path().display()));
        running.signal(Sig::SIGTERM);
        let run = running.finish(SIGNAL_DEADLINE);
        run.assert_code(0).assert_no_panic();
        assert_eq!(mode, 0o600, "umask {umask}: mode {mode:o}\n{run}");
        assert!(!segment.path().exists(), "{run}");
    }
}

#[test]
fn attaching_to_a_segment_smaller_than_the_counter_is_an_error_not_sigbus() {
    // The counter is 4 bytes; a segment of 0 to 3 bytes mapped and read
    // would raise SIGBUS. The size is checked first.
    for len in [0, 1, 3] {
        let small = Planted::new(&format!("small-{len}"));
        std::fs::write(small.path(), vec![7_u8; len]).unwrap();
        std::fs::set_permissions(small.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        let run = run(BIN, &["--fast", "--ticks", "3", "--attach", small.name()]);
        run.assert_bad_usage(&format!(
            "--attach ipc-lab-{}: /ipc-lab-{}: has {len} bytes, but 4 bytes are needed",
            small.name(),
            small.name()
        ));
        assert_eq!(std::fs::read(small.path()).unwrap(), vec![7_u8; len]);
    }
}

/// True when this process may make a private mount namespace and mount a
/// tmpfs in it (root, and `unshare` from util-linux).
fn can_mount_a_private_tmpfs() -> bool {
    Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=8k tmpfs /dev/shm"])
        .output()
        .is_ok_and(|out| out.status.success())
}

#[test]
fn a_full_dev_shm_is_an_error_not_sigbus() {
    skip_unless!(
        can_mount_a_private_tmpfs(),
        "cannot mount a small tmpfs on /dev/shm in a private mount namespace"
    );
    // In a mount namespace of its own, /dev/shm is an 8 KiB tmpfs, filled
    // up before the program starts: ftruncate would succeed (it reserves
    // nothing), the first write to the mapping would raise SIGBUS;
    // posix_fallocate reports the lack of space at creation instead.
    let mut command = Command::new("unshare");
    command.args([
        "-m",
        "sh",
        "-c",
        "mount -t tmpfs -o size=8k tmpfs /dev/shm \
         && dd if=/dev/zero of=/dev/shm/filler bs=4096 count=2 2>/dev/null; \
         exec \"$0\" --fast --ticks 3 --name full",
        BIN,
    ]);
    let run = run_command(command, None, WAIT);
    assert_fails_with(
        &run,
        "exp4-counter: posix_fallocate /ipc-lab-full: No space left on device",
    );
    assert!(
        !Path::new("/dev/shm/ipc-lab-full").exists(),
        "the private tmpfs was the one used"
    );
}

/// exp4-counter counting for a million ticks with `args`, once it has
/// printed `lines` of Process-2's squares.
fn counting(args: &[&str], lines: usize) -> Running {
    let mut command = Command::new(BIN);
    command.args(["--ticks", "1000000"]).args(args);
    let mut running = Running::start(command, false);
    running.wait_for_lines(lines, WAIT, |l| l.starts_with("Process-2:"));
    running
}

#[test]
fn a_segment_truncated_under_a_run_is_an_error_not_sigbus() {
    let segment = Planted::new("truncated");
    let running = counting(&["--fast", "--name", segment.name()], 2);
    // Anybody who may write the segment can shrink it under its users.
    segment.truncate();
    let run = running.finish(WAIT);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[&format!(
            "/ipc-lab-{} shrank under this process (another process truncated it): stopping",
            segment.name()
        )]);
    assert!(!run.stderr.contains("SIGBUS"), "{run}");
    assert!(
        eventually(WAIT, || !segment.path().exists()),
        "its segment is still removed\n{run}"
    );
}

#[test]
fn an_attached_segment_that_shrinks_is_an_error_not_sigbus() {
    let segment = Planted::new("shrinks");
    let owner = counting(&["--name", segment.name()], 1);
    let watcher = counting(&["--fast", "--attach", segment.name()], 2);
    segment.truncate();
    let watched = watcher.finish(WAIT);
    watched
        .assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[&format!(
            "exp4-counter: /ipc-lab-{} shrank under this process (another process truncated it): stopping",
            segment.name()
        )]);
    owner.signal(Sig::SIGKILL);
    let _ = owner.finish(WAIT);
}

#[test]
fn a_segment_of_another_user_is_not_attached_to() {
    skip_unless!(
        running_as_root(),
        "making a segment of another user needs root (chown)"
    );
    let foreign = Planted::new("foreign");
    std::fs::write(foreign.path(), [0_u8; 4]).unwrap();
    std::fs::set_permissions(foreign.path(), std::fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(foreign.path(), Some(65534), Some(65534)).unwrap();
    let run = run(BIN, &["--fast", "--ticks", "3", "--attach", foreign.name()]);
    assert_fails_with(
        &run,
        &format!(
            "/ipc-lab-{} belongs to uid 65534, not to you: not using it",
            foreign.name()
        ),
    );
}

#[test]
fn a_segment_others_may_open_is_not_attached_to() {
    let open = Planted::new("wide-open");
    std::fs::write(open.path(), [0_u8; 4]).unwrap();
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = run(BIN, &["--fast", "--ticks", "3", "--attach", open.name()]);
    assert_fails_with(
        &run,
        &format!(
            "/ipc-lab-{} has mode 0644: other users can open it",
            open.name()
        ),
    );
    assert_eq!(content_and_mode(&open.path()), (vec![0; 4], 0o644));
}
