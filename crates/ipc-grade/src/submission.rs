//! A student's submission, and the copy of it the grader takes.
//!
//! The grader takes only each graded crate's `src/` (and its
//! `ANSWERS.md`): the library, the tests, `Cargo.toml` and `Cargo.lock`
//! are the reference's. It copies them into its own work directory before
//! anything runs, refusing what a hostile submission could plant there: a
//! symbolic link anywhere on the way (`src -> /etc`, `lib.rs ->
//! /home/other/…`), a device or a FIFO, a file or a tree too large. Every
//! directory is opened without following links (`openat(2)` with
//! `O_NOFOLLOW`), so that a link swapped in while the copy runs is refused
//! too.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstat};

use crate::workspace::{self, EXERCISES};
use crate::{Error, Result};

/// The largest file of a student's `src/` the grader takes.
pub const MAX_FILE: u64 = 1 << 20;

/// The most a crate's `src/` may hold, in bytes and in files.
pub const MAX_TREE: (u64, usize) = (8 << 20, 500);

/// The file of a crate where a student writes the answers to the
/// handout's questions.
pub const ANSWERS: &str = "ANSWERS.md";

/// What a submission is.
#[derive(Debug, Clone)]
pub enum Submission {
    /// A copy of the workspace (a starter worked on), or at least its
    /// `exercises/` directory.
    Workspace(PathBuf),
    /// One crate's directory (`Cargo.toml`, `src/`), named by its package.
    Crate(PathBuf, String),
}

impl Submission {
    /// What `dir` holds.
    ///
    /// # Errors
    /// [`Error::Usage`] when it is neither a workspace nor a crate.
    pub fn at(dir: &Path) -> Result<Submission> {
        let meta = fs::symlink_metadata(dir)
            .map_err(|e| Error::Usage(format!("{}: {e}", dir.display())))?;
        if !meta.is_dir() {
            return Err(Error::Usage(format!(
                "{} is not a directory (nor a hand-in archive)",
                dir.display()
            )));
        }
        if is_real_dir(&dir.join(EXERCISES)) {
            return Ok(Submission::Workspace(dir.to_owned()));
        }
        if let Some(name) = workspace::package_name(dir) {
            return Ok(Submission::Crate(dir.to_owned(), name));
        }
        Err(Error::Usage(format!(
            "{} is neither an ipc-lab workspace (with {EXERCISES}/) nor a crate (Cargo.toml with [package], src/)",
            dir.display()
        )))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        match self {
            Submission::Workspace(dir) | Submission::Crate(dir, _) => dir,
        }
    }

    /// The crates to grade when none are named: a starter's crates (its
    /// `STARTER.md`), else every experiment of a workspace, or the crate
    /// submitted.
    ///
    /// # Errors
    /// `exercises/` cannot be read.
    pub fn default_crates(&self) -> Result<Vec<String>> {
        match self {
            Submission::Crate(_, name) => Ok(vec![name.clone()]),
            Submission::Workspace(dir) => match workspace::starter_crates(dir) {
                Some(crates) if !crates.is_empty() => Ok(crates),
                _ => workspace::experiments_in(dir),
            },
        }
    }

    /// Where `krate`'s directory is (holding `src/` and `ANSWERS.md`): the
    /// submission's directory and the components below it, if the
    /// submission has the crate.
    fn crate_at(&self, krate: &str) -> Option<(&Path, Vec<String>)> {
        match self {
            Submission::Workspace(dir) => Some((dir, vec![EXERCISES.into(), krate.into()])),
            Submission::Crate(dir, name) if name == krate => Some((dir, Vec::new())),
            Submission::Crate(..) => None,
        }
    }

    /// Copies `krate`'s `src/` into `to` (which must not exist), refusing
    /// links, special files and trees too large. `Ok(None)` when the
    /// submission has no `src/` for it.
    ///
    /// # Errors
    /// [`Error::Usage`] naming what was refused; a file that cannot be
    /// read or written.
    pub fn copy_source(&self, krate: &str, to: &Path) -> Result<Option<usize>> {
        let Some((root, mut below)) = self.crate_at(krate) else {
            return Ok(None);
        };
        below.push("src".into());
        let Some(src) = open_below(root, &below)? else {
            return Ok(None);
        };
        let mut budget = Budget {
            bytes: MAX_TREE.0,
            files: MAX_TREE.1,
        };
        let shown: PathBuf = below.iter().fold(root.to_owned(), |p, c| p.join(c));
        copy_dir(&src, &shown, to, &mut budget)?;
        Ok(Some(MAX_TREE.1 - budget.files))
    }

    /// The student's `ANSWERS.md` of `krate` (read without following a
    /// link, at most [`MAX_FILE`] bytes), if there is one.
    pub fn answers(&self, krate: &str) -> Option<String> {
        let (root, below) = self.crate_at(krate)?;
        let parent = open_below(root, &below).ok()??;
        let fd = openat(
            parent.as_fd(),
            ANSWERS,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        )
        .ok()?;
        let stat = fstat(&fd).ok()?;
        if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return None;
        }
        let mut text = String::new();
        fs::File::from(fd)
            .take(MAX_FILE)
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    }
}

/// What a copy may still take.
struct Budget {
    bytes: u64,
    files: usize,
}

/// True if `path` is a directory and not a link to one.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Opens the directory `root/below…`: `root` as given (the instructor
/// named it), every component of `below` without following a link, so
/// that a link planted in the submission is refused; `Ok(None)` when one
/// does not exist.
///
/// # Errors
/// [`Error::Usage`] when a component is a link or not a directory.
fn open_below(root: &Path, below: &[String]) -> Result<Option<OwnedFd>> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let mut fd = match nix::fcntl::open(root, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(Error::Usage(format!("{}: {e}", root.display()))),
    };
    let mut at = root.to_owned();
    for part in below {
        at.push(part);
        fd = match openat(
            fd.as_fd(),
            part.as_str(),
            flags | OFlag::O_NOFOLLOW,
            Mode::empty(),
        ) {
            Ok(next) => next,
            Err(nix::errno::Errno::ENOENT) => return Ok(None),
            Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR) => {
                return Err(Error::Usage(format!(
                    "{} is a symbolic link or not a directory: refused (a submission holds plain files and directories only)",
                    at.display()
                )));
            }
            Err(e) => return Err(Error::Usage(format!("{}: {e}", at.display()))),
        };
    }
    Ok(Some(fd))
}

/// Copies the directory open as `dir` (at `shown`, for messages) to `to`.
fn copy_dir(dir: &OwnedFd, shown: &Path, to: &Path, budget: &mut Budget) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| Error::io(format!("creating {}", to.display()), e))?;
    let mut names: Vec<std::ffi::OsString> = {
        let listing = nix::dir::Dir::from_fd(
            nix::unistd::dup(dir).map_err(|e| Error::Failed(format!("dup: {e}")))?,
        )
        .map_err(|e| Error::Usage(format!("{}: {e}", shown.display())))?;
        let mut names = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|e| Error::Usage(format!("{}: {e}", shown.display())))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                use std::os::unix::ffi::OsStrExt;
                names.push(std::ffi::OsStr::from_bytes(name).to_owned());
            }
        }
        names
    };
    names.sort();
    for name in names {
        let path = shown.join(&name);
        let refuse = |what: &str| {
            Err(Error::Usage(format!(
                "{}: {what}: refused (a submission holds plain files and directories only)",
                path.display()
            )))
        };
        let fd = match openat(
            dir.as_fd(),
            name.as_os_str(),
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(nix::errno::Errno::ELOOP) => return refuse("a symbolic link"),
            Err(e) => return Err(Error::Usage(format!("{}: {e}", path.display()))),
        };
        let stat = fstat(&fd).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
        let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFDIR {
            copy_dir(&fd, &path, &to.join(&name), budget)?;
            continue;
        }
        if kind != SFlag::S_IFREG {
            return refuse("not a regular file (a device, a FIFO or a socket)");
        }
        let size = stat.st_size as u64;
        if size > MAX_FILE {
            return refuse(&format!("{size} bytes, more than {MAX_FILE}"));
        }
        if budget.files == 0 || budget.bytes < size {
            return Err(Error::Usage(format!(
                "{}: the crate's src/ holds more than {} files or {} bytes: refused",
                shown.display(),
                MAX_TREE.1,
                MAX_TREE.0
            )));
        }
        budget.files -= 1;
        budget.bytes -= size;
        let mut bytes = Vec::new();
        fs::File::from(fd)
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        workspace::write_file(&to.join(&name), &bytes)?;
    }
    Ok(())
}

/// The student's sources of a submission, copied: `src/` by crate, and
/// the answers.
#[derive(Debug, Clone, Default)]
pub struct Copied {
    /// The copy of each crate's `src/` (crates the submission lacks are
    /// not here).
    pub sources: BTreeMap<String, PathBuf>,
    /// Why a crate's sources were refused, by crate.
    pub refused: BTreeMap<String, String>,
}

impl Copied {
    /// Copies the `src/` of each of `crates` into `dir/<crate>/src`.
    ///
    /// # Errors
    /// A file that cannot be written (a refused submission is not an
    /// error: it is in [`Copied::refused`]).
    pub fn take(submission: &Submission, crates: &[String], dir: &Path) -> Result<Copied> {
        let _ = fs::remove_dir_all(dir);
        let mut copied = Copied::default();
        for krate in crates {
            let to = dir.join(krate).join("src");
            match submission.copy_source(krate, &to) {
                Ok(Some(_)) => {
                    copied.sources.insert(krate.clone(), to);
                }
                Ok(None) => {}
                Err(Error::Usage(why)) => {
                    let _ = fs::remove_dir_all(dir.join(krate));
                    copied.refused.insert(krate.clone(), why);
                }
                Err(other) => return Err(other),
            }
        }
        Ok(copied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn workspace_with(files: &[(&str, &str)]) -> ipc_testkit::TempDir {
        let dir = ipc_testkit::TempDir::new("submission");
        for (path, text) in files {
            workspace::write_file(&dir.join(path), text.as_bytes()).unwrap();
        }
        dir
    }

    #[test]
    fn plain_sources_are_copied_and_answers_read() {
        let dir = workspace_with(&[
            ("exercises/exp7-shm/src/lib.rs", "pub fn f() {}\n"),
            ("exercises/exp7-shm/src/extra/more.rs", "// more\n"),
            ("exercises/exp7-shm/ANSWERS.md", "## Question 1\nyes\n"),
        ]);
        let submission = Submission::at(dir.path()).unwrap();
        let out = dir.join("copy");
        let copied = Copied::take(&submission, &["exp7-shm".into(), "exp7".into()], &out).unwrap();
        assert!(copied.refused.is_empty(), "{copied:?}");
        assert_eq!(copied.sources.len(), 1, "exp7 has no src/");
        let src = &copied.sources["exp7-shm"];
        assert_eq!(
            fs::read_to_string(src.join("extra/more.rs")).unwrap(),
            "// more\n"
        );
        assert_eq!(
            submission.answers("exp7-shm").as_deref(),
            Some("## Question 1\nyes\n")
        );
        assert_eq!(submission.answers("exp7"), None);
    }

    #[test]
    fn links_and_special_files_are_refused_and_nothing_of_them_copied() {
        let secret = workspace_with(&[("secret.txt", "the other student's work\n")]);
        for plant in ["file", "src", "dir", "answers", "fifo"] {
            let dir = workspace_with(&[("exercises/exp7-shm/src/lib.rs", "pub fn f() {}\n")]);
            let src = dir.join("exercises/exp7-shm/src");
            match plant {
                "file" => symlink(secret.join("secret.txt"), src.join("leak.rs")).unwrap(),
                "src" => {
                    fs::remove_dir_all(&src).unwrap();
                    symlink(secret.path(), &src).unwrap();
                }
                "dir" => symlink(secret.path(), src.join("more")).unwrap(),
                "answers" => symlink(
                    secret.join("secret.txt"),
                    dir.join("exercises/exp7-shm/ANSWERS.md"),
                )
                .unwrap(),
                _ => nix::unistd::mkfifo(&src.join("pipe.rs"), Mode::S_IRWXU).unwrap(),
            }
            let submission = Submission::at(dir.path()).unwrap();
            let out = dir.join("copy");
            let copied = Copied::take(&submission, &["exp7-shm".into()], &out).unwrap();
            if plant == "answers" {
                assert!(copied.refused.is_empty(), "{copied:?}");
                assert_eq!(
                    submission.answers("exp7-shm"),
                    None,
                    "the link was followed"
                );
                continue;
            }
            let why = copied.refused.get("exp7-shm").unwrap_or_else(|| {
                panic!("{plant}: not refused: {copied:?}");
            });
            assert!(why.contains("refused"), "{plant}: {why}");
            assert!(
                !out.join("exp7-shm").exists(),
                "{plant}: something was copied"
            );
        }
    }

    #[test]
    fn a_tree_too_large_is_refused() {
        let dir = workspace_with(&[("exercises/exp7-shm/src/lib.rs", "")]);
        let big = "x".repeat(MAX_FILE as usize + 1);
        workspace::write_file(&dir.join("exercises/exp7-shm/src/big.rs"), big.as_bytes()).unwrap();
        let submission = Submission::at(dir.path()).unwrap();
        let copied = Copied::take(&submission, &["exp7-shm".into()], &dir.join("c")).unwrap();
        assert!(
            copied.refused["exp7-shm"].contains("more than"),
            "{copied:?}"
        );
    }
}
