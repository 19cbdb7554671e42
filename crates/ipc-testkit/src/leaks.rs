//! Looking for what a run left behind: named objects with the ipc-lab
//! prefix, files still held open, and temporary directories that remove
//! themselves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The prefix of every IPC object ipc-lab creates.
pub const PREFIX: &str = "ipc-lab-";
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

/// Runs `action` and panics, naming them, if ipc-lab objects appeared in
/// `/dev/shm` meanwhile and are still there afterwards: what a program
/// run by `action` left behind. Returns what `action` returned.
///
/// ```
/// let run = ipc_testkit::assert_no_new_shm(|| ipc_testkit::run("true", &[]));
/// run.assert_code(0);
/// ```
#[track_caller]
pub fn assert_no_new_shm<T>(action: impl FnOnce() -> T) -> T {
    let before = shm_objects();
    let result = action();
    // Tests of one binary run side by side: a segment another test's live
    // program maps or holds is not a leak of this one. A leak outlives
    // every process; the second look spares a segment caught between its
    // owner's munmap and its shm_unlink.
    let leaked = || -> Vec<String> {
        shm_objects()
            .difference(&before)
            .filter(|name| !in_use(&Path::new("/dev/shm").join(name)))
            .cloned()
            .collect()
    };
    if !leaked().is_empty() {
        std::thread::sleep(Duration::from_millis(200));
        let new = leaked();
        assert!(new.is_empty(), "new objects in /dev/shm: {new:?}");
    }
    result
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

/// The entries of `dir` whose names start with [`PREFIX`].
pub fn prefixed_entries(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(PREFIX))
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
    fn new_shm_objects_are_reported_and_removed_ones_are_not() {
        // One test, so that nothing else in this binary adds to /dev/shm
        // while it looks.
        let path = Path::new("/dev/shm").join(format!("ipc-lab-testkit-{}", std::process::id()));
        assert_no_new_shm(|| {
            std::fs::write(&path, "").unwrap();
            std::fs::remove_file(&path).unwrap();
        });
        let outcome = std::panic::catch_unwind(|| {
            assert_no_new_shm(|| {
                let file = ShmFile(path.clone());
                std::fs::write(&file.0, "").unwrap();
                file
            })
        });
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.starts_with("new objects in /dev/shm: [\"ipc-lab-testkit-"),
            "{message}"
        );
        assert!(!path.exists(), "the guard removed it while unwinding");
    }
}
