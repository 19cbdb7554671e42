//! Looking for what a run left behind: named objects with the ipc-lab
//! prefix, files still held open, and temporary directories that remove
//! themselves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The prefix of every IPC object ipc-lab creates.
pub const PREFIX: &str = "ipc-lab-";
/// The workspace's `scripts/clean.sh`, which removes what dead runs left.
pub const CLEAN_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/clean.sh");

/// Why [`CLEAN_SH`] cannot run here, if it cannot: without
/// `$IPC_LAB_CLEAN` naming its program (the grader names it), it builds
/// that program with cargo, which needs a build directory it may write; a
/// check in the grader's sandbox gets a read-only one (and no cargo
/// registry). A test skips, saying why, rather than fail there.
pub fn clean_sh_unavailable() -> Option<String> {
    if std::env::var_os("IPC_LAB_CLEAN").is_some() {
        return None;
    }
    // A test program is <target>/debug/deps/<name>.
    let exe = std::env::current_exe().ok()?;
    let debug = exe.parent()?.parent()?;
    let writable = std::process::Command::new("sh")
        .args(["-c", "test -w \"$0\"", &debug.to_string_lossy()])
        .status()
        .is_ok_and(|status| status.success());
    (!writable).then(|| {
        format!(
            "scripts/clean.sh builds its program with cargo, and the build directory {} is read-only here (set IPC_LAB_CLEAN to an ipc-lab-clean program to run it)",
            debug.display()
        )
    })
}

/// A directory of its own under the temporary directory, removed with all
/// it holds when dropped (also when a test panics).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `ipc-testkit-<pid>-<n>-<tag>` under the temporary directory,
    /// with `<n>` counting up within this process.
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("ipc-testkit-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path of `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
/// The names in `/dev/shm` that carry the ipc-lab prefix.
pub fn shm_objects() -> BTreeSet<String> {
    prefixed_entries("/dev/shm")
}

/// Runs `action` and panics, naming them, if ipc-lab objects that the
/// programs it started created in `/dev/shm` are still there afterwards:
/// what a program run by `action` left behind. Returns what `action`
/// returned.
///
/// Only what this action's programs made is blamed, never a segment that
/// another program on the machine (another test binary, a benchmark, a
/// student's `exp4-counter`) created meanwhile. The programs started on
/// this thread through this crate ([`crate::Running::start`] and every
/// runner built on it) write each object they create to an audit file of
/// this check's own (`IPC_LAB_AUDIT`, see `ipc_core::owner`); a new segment
/// is blamed when it is listed there (and is still that very object), or
/// when its name carries the pid of one of those programs
/// (`ipc-lab-<pid>-…`). The audit lines are then added to the file the
/// caller's own `IPC_LAB_AUDIT` names, if it does, so that CI's leak check
/// still sees them.
///
/// ```
/// let run = ipc_testkit::assert_no_new_shm(|| ipc_testkit::run("true", &[]));
/// run.assert_code(0);
/// ```
#[track_caller]
pub fn assert_no_new_shm<T>(action: impl FnOnce() -> T) -> T {
    let before = shm_objects();
    let dir = TempDir::new("audit");
    let audit = dir.join("audit.log");
    let outer = SCOPE.with(|scope| {
        scope.replace(Some(Scope {
            audit: audit.clone(),
            pids: Vec::new(),
        }))
    });
    let result = action();
    let scope = SCOPE
        .with(|scope| scope.replace(outer))
        .expect("the scope set above");
    let lines = std::fs::read_to_string(&audit).unwrap_or_default();
    if let Some(file) = std::env::var_os(AUDIT_VAR) {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(file)
        {
            let _ = file.write_all(lines.as_bytes());
        }
    }
    let created = created_segments(&lines);
    let started: Vec<String> = scope
        .pids
        .iter()
        .map(|pid| format!("{PREFIX}{pid}-"))
        .collect();
    // A leak outlives every process: a segment a live program still maps
    // or holds is not one (a test beside this one may run it), and a run's
    // tracker may need a moment after the last process to remove a
    // child's objects.
    let leaked = || -> Vec<String> {
        shm_objects()
            .difference(&before)
            .filter(|name| {
                let path = Path::new("/dev/shm").join(name);
                let ours = created
                    .iter()
                    .any(|(identity, made)| made == *name && identity_of(&path) == Some(*identity))
                    || started.iter().any(|prefix| name.starts_with(prefix));
                ours && !in_use(&path)
            })
            .cloned()
            .collect()
    };
    if !leaked().is_empty() {
        crate::procfs::eventually(Duration::from_secs(1), || leaked().is_empty());
        let new = leaked();
        assert!(new.is_empty(), "new objects in /dev/shm: {new:?}");
    }
    result
}

/// The environment variable that makes ipc-core write every object it
/// creates to a file (`ipc_core::owner::AUDIT_VAR`).
pub const AUDIT_VAR: &str = "IPC_LAB_AUDIT";

/// What [`assert_no_new_shm`] is watching on this thread.
#[derive(Debug)]
struct Scope {
    /// The audit file the programs started meanwhile write to.
    audit: PathBuf,
    /// The programs started meanwhile.
    pids: Vec<nix::unistd::Pid>,
}

thread_local! {
    static SCOPE: std::cell::RefCell<Option<Scope>> = const { std::cell::RefCell::new(None) };
}

/// Called by [`crate::Running::start`] before it starts `command`: inside
/// [`assert_no_new_shm`], the program writes what it creates to the
/// check's audit file (unless the test chose a file of its own).
pub(crate) fn audit_command(command: &mut std::process::Command) {
    SCOPE.with(|scope| {
        if let Some(scope) = scope.borrow().as_ref()
            && !command.get_envs().any(|(key, _)| key == AUDIT_VAR)
        {
            command.env(AUDIT_VAR, &scope.audit);
        }
    });
}

/// Called by [`crate::Running::start`] once the program runs.
pub(crate) fn audit_started(pid: nix::unistd::Pid) {
    SCOPE.with(|scope| {
        if let Some(scope) = scope.borrow_mut().as_mut() {
            scope.pids.push(pid);
        }
    });
}

/// The device and inode of `path`, as the audit file records them.
fn identity_of(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The segments an audit file lists as created, with their identity:
/// lines `PID created shm DEV INO /ipc-lab-x`.
fn created_segments(lines: &str) -> Vec<((u64, u64), String)> {
    lines
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.splitn(6, ' ').collect();
            match fields[..] {
                [_, "created", "shm", dev, ino, name] => Some((
                    (dev.parse().ok()?, ino.parse().ok()?),
                    name.trim_start_matches('/').to_owned(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// True while a live process maps `path` (`/proc/PID/maps`) or holds it
/// open (`/proc/PID/fd`).
pub fn in_use(path: &Path) -> bool {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return false;
    };
    let shown = path.to_string_lossy();
    processes.filter_map(|e| e.ok()).any(|process| {
        let dir = process.path();
        let maps = std::fs::read_to_string(dir.join("maps")).unwrap_or_default();
        maps.lines()
            .any(|line| line.trim_end_matches(" (deleted)").ends_with(&*shown))
            || std::fs::read_dir(dir.join("fd")).is_ok_and(|fds| {
                fds.filter_map(|fd| fd.ok())
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
            })
    })
}

/// Held by each test of a test binary whose tests must not overlap: any
/// ipc-lab program that creates a named object first sweeps what dead
/// runs left (`ipc_core::owner`), so a test of a dead run's leftovers, of
/// the tracker or of the sweep must not have another test's program do
/// that work meanwhile. A test that panicked while holding it does not
/// stop the others.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The entries of `dir` whose names start with [`PREFIX`].
pub fn prefixed_entries(dir: &str) -> BTreeSet<String> {
    entries_starting_with(Path::new(dir), PREFIX)
}

/// The names of the entries of `dir` that start with `prefix`, sorted;
/// none where `dir` cannot be read.
pub fn entries_starting_with(dir: &Path, prefix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_use_sees_an_open_file_and_not_a_closed_one() {
        let dir = TempDir::new("in-use");
        let path = dir.join("held");
        let file = std::fs::File::create(&path).unwrap();
        assert!(in_use(&path));
        drop(file);
        assert!(!in_use(&path));
    }

    #[test]
    fn temp_dirs_are_distinct_and_removed() {
        let (one, two) = (TempDir::new("t"), TempDir::new("t"));
        assert_ne!(one.path(), two.path());
        std::fs::write(one.join("f"), "x").unwrap();
        let path = one.path().to_owned();
        drop(one);
        assert!(!path.exists());
    }

    /// A file in /dev/shm with the ipc-lab prefix, removed when dropped.
    #[derive(Debug)]
    struct ShmFile(PathBuf);

    impl Drop for ShmFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn only_what_the_started_programs_made_is_blamed() {
        // One test, so that nothing else in this binary adds to /dev/shm
        // while it looks.
        let foreign = ShmFile(
            Path::new("/dev/shm").join(format!("ipc-lab-testkit-foreign-{}", std::process::id())),
        );
        assert_no_new_shm(|| {
            // Made by this process, not by a program the check started:
            // another program's segment, not blamed.
            std::fs::write(&foreign.0, "").unwrap();
            // Made and removed by a started program.
            crate::run(
                "sh",
                &["-c", "f=/dev/shm/ipc-lab-$$-testkit; touch $f; rm $f"],
            )
            .assert_code(0);
        });
        assert!(foreign.0.exists());

        // A segment named after a started program's pid, left behind.
        let outcome = std::panic::catch_unwind(|| {
            assert_no_new_shm(|| {
                crate::run("sh", &["-c", "touch /dev/shm/ipc-lab-$$-testkit; echo $$"])
            })
        });
        let message = crate::panicked_saying(outcome, "new objects in /dev/shm: [\"ipc-lab-");
        let name = message.split('"').nth(1).unwrap().to_owned();
        drop(ShmFile(Path::new("/dev/shm").join(&name)));

        // A segment without a pid in its name, listed in the audit file
        // as ipc-core lists what it creates.
        let audited = format!("ipc-lab-testkit-audited-{}", std::process::id());
        let script = format!(
            "f=/dev/shm/{audited}; touch $f; \
             echo \"$$ created shm $(stat -c '%d %i' $f) /{audited}\" >> \"$IPC_LAB_AUDIT\""
        );
        let left = ShmFile(Path::new("/dev/shm").join(&audited));
        let outcome = std::panic::catch_unwind(|| {
            assert_no_new_shm(|| crate::run("sh", &["-c", &script]).assert_code(0).code())
        });
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert_eq!(message, format!("new objects in /dev/shm: [{audited:?}]"));
        drop(left);
        drop(foreign);
    }
}
