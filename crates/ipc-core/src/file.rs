//! Files the kit writes for people (a run's trace, a grader's report):
//! checked before the work that fills them starts, and written without
//! ever following a link.
//!
//! A name in a shared directory (`/tmp/run.json`) may be a link another
//! user planted to a file of yours: writing through it with `open(2)` and
//! `O_TRUNC` would overwrite that file. So a [`Destination`] is checked
//! when it is named (its directory exists and may be written, the name is
//! not a directory, a link, a special file or another user's file, and is
//! not too long), and written at the end into a fresh file of an
//! unpredictable name, created beside it with `O_CREAT | O_EXCL |
//! O_NOFOLLOW` (see `open(2)`), then renamed over the name (`rename(2)`
//! replaces a link, never follows it). A reader never sees half a file.
//!
//! ```
//! use ipc_core::file::Destination;
//! let dir = std::env::temp_dir().join(format!("ipc-core-doc-file-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let target = dir.join("someone-elses.txt");
//! std::fs::write(&target, "precious").unwrap();
//! let planted = dir.join("run.json");
//! std::os::unix::fs::symlink(&target, &planted).unwrap();
//!
//! // A planted link is refused before the work starts…
//! let error = Destination::check(&planted).unwrap_err();
//! assert_eq!(error.exit_code(), 2);
//! assert!(error.to_string().contains("symbolic link"), "{error}");
//! // …and a name that was fine when checked is written without following
//! // whatever is there when the work ends.
//! let out = dir.join("out.json");
//! let destination = Destination::check(&out).unwrap();
//! std::os::unix::fs::symlink(&target, &out).unwrap();
//! destination.write(b"{}").unwrap();
//! assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
//! assert_eq!(std::fs::read_to_string(&out).unwrap(), "{}");
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, open, openat, renameat};
use nix::sys::stat::{Mode, SFlag, fstatat};
use nix::unistd::{AccessFlags, UnlinkatFlags, faccessat, getuid, unlinkat};

use crate::error::{Error, Result};

/// The longest name a file may have (`NAME_MAX` of Linux file systems).
const NAME_MAX: usize = 255;

/// A file to be written, checked: see the [module](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    path: PathBuf,
}

impl Destination {
    /// Checks that `path` can be written as a new file or over a regular
    /// file of the caller's, and names it.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (exit code 2) naming the path and what is
    /// wrong: a directory that does not exist or cannot be written, a name
    /// that is empty or too long, or a name that is a directory, a symbolic
    /// link, a FIFO, a device or another user's file.
    pub fn check(path: &Path) -> Result<Destination> {
        let refuse = |why: String| Error::InvalidArgument(format!("{}: {why}", path.display()));
        let (dir, name) = split(path).ok_or_else(|| refuse("no file name".into()))?;
        if name.len() > NAME_MAX {
            return Err(refuse(format!("the name is longer than {NAME_MAX} bytes")));
        }
        let dir_fd = open_dir(&dir).map_err(|e| match e {
            Errno::ENOENT => refuse(format!("its directory {} does not exist", dir.display())),
            e => refuse(format!(
                "its directory {} cannot be opened: {e}",
                dir.display()
            )),
        })?;
        if let Err(e) = faccessat(&dir_fd, ".", AccessFlags::W_OK, AtFlags::AT_EACCESS) {
            return Err(refuse(format!(
                "its directory {} cannot be written: {e}",
                dir.display()
            )));
        }
        match fstatat(&dir_fd, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(refuse(e.to_string())),
            Ok(st) => {
                let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
                let what = match kind {
                    SFlag::S_IFREG if st.st_uid == getuid().as_raw() => None,
                    SFlag::S_IFREG => Some("another user's file"),
                    SFlag::S_IFDIR => Some("a directory"),
                    SFlag::S_IFLNK => Some("a symbolic link"),
                    SFlag::S_IFIFO => Some("a FIFO"),
                    _ => Some("a special file"),
                };
                if let Some(what) = what {
                    return Err(refuse(format!(
                        "it is {what}: choose another name (nothing is written through a link or over another user's file)"
                    )));
                }
            }
        }
        Ok(Destination {
            path: path.to_owned(),
        })
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` as the whole new content of the destination: into a
    /// fresh file beside it (`O_EXCL | O_NOFOLLOW`, an unpredictable
    /// name, mode 0644 less the umask), then renamed over it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming the call (`open`, `write`, `rename`) and the
    /// path; the fresh file is removed then.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        let sys = |call: &'static str, errno: Errno| {
            Error::sys(call, self.path.display().to_string(), errno)
        };
        let (dir, name) = split(&self.path).ok_or_else(|| sys("open", Errno::EINVAL))?;
        let dir_fd = open_dir(&dir).map_err(|e| sys("open", e))?;
        let (temp, fd) = create_fresh(&dir_fd, &name).map_err(|e| sys("open", e))?;
        let written = std::fs::File::from(fd).write_all(bytes).map_err(|e| {
            sys(
                "write",
                Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            )
        });
        let renamed = written.and_then(|()| {
            renameat(&dir_fd, temp.as_os_str(), &dir_fd, name.as_os_str())
                .map_err(|e| sys("rename", e))
        });
        if renamed.is_err() {
            let _ = unlinkat(&dir_fd, temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
        renamed
    }
}

/// `path`'s directory (`.` for a bare name) and its last component.
fn split(path: &Path) -> Option<(PathBuf, OsString)> {
    let name = path.file_name()?.to_owned();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    Some((dir, name))
}

fn open_dir(dir: &Path) -> nix::Result<OwnedFd> {
    open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Creates `.NAME.XXXXXXXX.tmp` in `dir` with a random part, never an
/// existing file or a link.
fn create_fresh(dir: &impl AsFd, name: &OsString) -> nix::Result<(OsString, OwnedFd)> {
    for _ in 0..16 {
        let mut temp = OsString::from(".");
        // The name's first bytes, so that a long name stays a legal one.
        let keep = &name.as_bytes()[..name.len().min(NAME_MAX - 20)];
        temp.push(std::ffi::OsStr::from_bytes(keep));
        temp.push(format!(".{:08x}.tmp", random()));
        match openat(
            dir,
            temp.as_os_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        ) {
            Ok(fd) => return Ok((temp, fd)),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::EEXIST)
}

/// 32 bits nobody can guess from outside: the hasher's random keys.
fn random() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ipc-core-file-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn what_cannot_be_written_is_refused_before_the_work() {
        let dir = dir("refuse");
        std::fs::create_dir(dir.join("x.json")).unwrap();
        nix::unistd::mkfifo(&dir.join("f.json"), Mode::S_IRWXU).unwrap();
        let long = "a".repeat(300) + ".json";
        for (path, why) in [
            (dir.join("x.json"), "a directory"),
            (dir.join("f.json"), "a FIFO"),
            (dir.join(&long), "longer than"),
            (dir.join("no/such/dir/run.json"), "does not exist"),
        ] {
            let error = Destination::check(&path).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{error}");
            assert!(error.to_string().contains(why), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_existing_file_of_ours_is_replaced_whole_and_nothing_else_is_left() {
        let dir = dir("replace");
        let path = dir.join("run.json");
        std::fs::write(&path, "an old and longer content").unwrap();
        Destination::check(&path).unwrap().write(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["run.json"], "a temporary file was left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
