//! The grader's work directory: where it builds, away from every
//! submission, shared by graders that run at once.
//!
//! ```text
//! <work>/                  default: <the reference's target dir>/ipc-grade
//!   base-<hash>/           the reference built once (in namespaces)
//!   base.lock              held while a base is being built
//!   slot-<n>/              one submission being graded at a time
//!     target/              its build directory (hard links to the base)
//!     src/<crate>/src      the student's sources, copied
//!     ws/                  without namespaces: the tree, copied
//!   slot-<n>.lock          held by the grader using the slot
//! ```
//!
//! A grader takes the first slot whose lock it can hold (`flock(2)`), so
//! two graders started on the same reference, or the jobs of one
//! `--class --jobs N`, never share a slot; a slot's build directory is
//! kept for its next submission, which then rebuilds only the student's
//! crates. A lock goes with its process, however that ends.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::workspace::Workspace;
use crate::{Error, Result};

/// The most slots a work directory has.
pub const MAX_SLOTS: usize = 64;

/// The environment variable that puts the work directory elsewhere.
pub const WORK_VAR: &str = "IPC_LAB_GRADE_WORK";

/// A held `flock(2)` on a file.
#[derive(Debug)]
pub struct Lock {
    _held: Flock<File>,
}

impl Lock {
    fn open(path: &Path) -> Result<File> {
        use std::os::unix::fs::OpenOptionsExt;
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            // A link planted at the name is not followed.
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))
    }

    /// Takes the lock on `path`, waiting for its holder if there is one
    /// (and saying so through `progress`).
    ///
    /// # Errors
    /// The file cannot be made; [`Error::Interrupted`] while waiting.
    pub fn exclusive(path: &Path, progress: &dyn Fn(&str)) -> Result<Lock> {
        if let Some(lock) = Lock::try_exclusive(path)? {
            return Ok(lock);
        }
        progress(&format!(
            "grade: waiting for another grader, which holds {}",
            path.display()
        ));
        loop {
            ipc_core::signal::check().map_err(|_| Error::Interrupted)?;
            if let Some(lock) = Lock::try_exclusive(path)? {
                return Ok(lock);
            }
            std::thread::sleep(ipc_core::blocking::POLL_INTERVAL);
        }
    }

    /// Takes the lock on `path` if nobody holds it.
    ///
    /// # Errors
    /// The file cannot be made or locked for another reason.
    pub fn try_exclusive(path: &Path) -> Result<Option<Lock>> {
        match Flock::lock(Lock::open(path)?, FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(Some(Lock { _held: held })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => Err(Error::Failed(format!("flock {}: {errno}", path.display()))),
        }
    }
}

/// The work directory.
#[derive(Debug, Clone)]
pub struct Work {
    dir: PathBuf,
}

/// One slot, held.
#[derive(Debug)]
pub struct Slot {
    /// Its number (from 0).
    pub index: usize,
    /// Its directory.
    pub dir: PathBuf,
    _lock: Lock,
}

impl Slot {
    /// Its build directory.
    pub fn target(&self) -> PathBuf {
        self.dir.join("target")
    }

    /// Where the student's sources are copied.
    pub fn sources(&self) -> PathBuf {
        self.dir.join("src")
    }

    /// Without namespaces: the tree built and tested.
    pub fn tree(&self) -> PathBuf {
        self.dir.join("ws")
    }

    /// Without namespaces: the scratch directory of the runs.
    pub fn scratch(&self) -> PathBuf {
        self.dir.join("scratch")
    }

    /// The user its runs are when the grader is root.
    pub fn uid(&self) -> u32 {
        crate::isolation::FIRST_UID + self.index as u32
    }
}

impl Work {
    /// The work directory of graders of `reference`: `IPC_LAB_GRADE_WORK`
    /// if set, else `ipc-grade/` in the reference's target directory.
    ///
    /// # Errors
    /// `cargo metadata` fails.
    pub fn of(reference: &Workspace) -> Result<Work> {
        let dir = match std::env::var_os(WORK_VAR) {
            Some(dir) => PathBuf::from(dir),
            None => reference.target_dir()?.join("ipc-grade"),
        };
        Ok(Work { dir })
    }

    /// The work directory at `dir`.
    pub fn at(dir: &Path) -> Work {
        Work {
            dir: dir.to_owned(),
        }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The first free slot, held until it is dropped.
    ///
    /// # Errors
    /// The directory cannot be written; every slot is taken.
    pub fn slot(&self) -> Result<Slot> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io(format!("creating {}", self.dir.display()), e))?;
        for index in 0..MAX_SLOTS {
            let lock = self.dir.join(format!("slot-{index}.lock"));
            if let Some(lock) = Lock::try_exclusive(&lock)? {
                let dir = self.dir.join(format!("slot-{index}"));
                fs::create_dir_all(&dir)
                    .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
                return Ok(Slot {
                    index,
                    dir,
                    _lock: lock,
                });
            }
        }
        Err(Error::Failed(format!(
            "all {MAX_SLOTS} slots of {} are taken by other graders",
            self.dir.display()
        )))
    }

    /// How many bytes the work directory holds on disk (a file linked
    /// from several places counts once).
    pub fn disk_use(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let mut seen = std::collections::BTreeSet::new();
        let mut bytes = 0;
        let mut stack = vec![self.dir.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_dir() {
                    stack.push(entry.path());
                } else if seen.insert((meta.dev(), meta.ino())) {
                    bytes += meta.blocks() * 512;
                }
            }
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_holders_never_share_a_slot() {
        let dir = ipc_testkit::TempDir::new("work");
        let work = Work::at(dir.path());
        let a = work.slot().unwrap();
        let b = work.slot().unwrap();
        assert_eq!((a.index, b.index), (0, 1));
        drop(a);
        assert_eq!(work.slot().unwrap().index, 0, "a free slot is taken again");
        assert!(
            Lock::try_exclusive(&dir.join("slot-1.lock"))
                .unwrap()
                .is_none()
        );
    }
}
