//! The roles' default FIFO on a machine without `$XDG_RUNTIME_DIR`: each
//! user's own directory in `/tmp`, so that another user who takes a name
//! first blocks nobody, and a directory of the user's name that somebody
//! else made is refused with what to do.
//!
//! Both checks need two users, so they run as root (another user's objects
//! are made with `chown`, the victim is run with `setpriv`) and are skipped
//! otherwise, as in the grader's sandbox, where checks run unprivileged.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{Running, run_command, running_as_root, skip_unless};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-fifo");
const WAIT: Duration = Duration::from_secs(30);

/// The other user: `nobody`.
const OTHER: u32 = 65534;

/// A role without `$XDG_RUNTIME_DIR`, as on a server or in a container.
fn role(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--fast")
        .env_remove("XDG_RUNTIME_DIR");
    command
}

/// Removes what a test planted, even when it fails.
struct Planted<'a>(&'a Path);

impl Drop for Planted<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
        let _ = std::fs::remove_dir(self.0);
    }
}

#[test]
fn a_fifo_another_user_made_at_the_shared_name_blocks_no_role() {
    skip_unless!(running_as_root(), "planting another user's FIFO needs root");
    let shared = Path::new("/tmp/ipc-lab-exp3-fifo");
    skip_unless!(
        shared.symlink_metadata().is_err(),
        "{} exists already",
        shared.display()
    );
    // Another user's FIFO, mode 0666, at the name every user once shared.
    let status = Command::new("mkfifo")
        .args(["-m", "666"])
        .arg(shared)
        .status()
        .unwrap();
    assert!(status.success());
    let _planted = Planted(shared);
    std::os::unix::fs::chown(shared, Some(OTHER), Some(OTHER)).unwrap();

    let reader = Running::start(role(&["reader"]), false);
    let writer = run_command(role(&["writer"]), None, WAIT);
    let reader = reader.finish(WAIT);
    writer.assert_code(0);
    reader
        .assert_code(0)
        .assert_stdout_contains(&["Reader received: First", "/tmp/ipc-lab-user-0/"]);
    let planted = shared.symlink_metadata().unwrap();
    assert_eq!(planted.uid(), OTHER, "the other user's FIFO is left alone");
    let mine = std::fs::metadata("/tmp/ipc-lab-user-0").unwrap();
    assert_eq!((mine.uid(), mine.permissions().mode() & 0o777), (0, 0o700));
}

#[test]
fn a_directory_of_the_users_name_made_by_another_is_refused_with_what_to_do() {
    skip_unless!(running_as_root(), "acting as two users needs root");
    let dir = format!("/tmp/ipc-lab-user-{OTHER}");
    let dir = Path::new(&dir);
    skip_unless!(
        dir.symlink_metadata().is_err(),
        "{} exists already",
        dir.display()
    );
    // Root makes nobody's directory first, open to all.
    std::fs::create_dir(dir).unwrap();
    let _planted = Planted(dir);
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();

    let mut victim = Command::new("setpriv");
    victim
        .args([
            &format!("--reuid={OTHER}"),
            &format!("--regid={OTHER}"),
            "--clear-groups",
            BIN,
            "reader",
            "--fast",
        ])
        .env_remove("XDG_RUNTIME_DIR");
    let run = run_command(victim, None, WAIT);
    run.assert_code(1).assert_no_panic();
    for words in [dir.to_str().unwrap(), "belongs to uid 0", "XDG_RUNTIME_DIR"] {
        assert!(run.stderr.contains(words), "{words:?} not said:\n{run}");
    }
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        0,
        "nothing made in it"
    );
}
