//! A private directory of the run: mode 0700, named with ipc-lab's
//! prefix in the temporary directory, held by an [`Owner`] like every
//! named object (removed by its maker, or after a crash by the run's
//! tracker or the next program). A private server's store and the traces
//! of a run's programs live in one; what is inside cannot be planted by
//! another user, whatever its names.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{Mode, lstat};
use nix::unistd::{geteuid, mkdir};

use crate::error::{Error, Result};
use crate::name::IpcName;
use crate::owner::{DirectoryObject, Kind, ObjectName, Owner, check_trusted};

/// A private directory of this process (mode 0700, named with ipc-lab's
/// prefix in the temporary directory), removed with everything in it when
/// dropped in the process that made it, and after a crash by the run's
/// tracker or the next program, as every named object of ipc-core: the
/// server's store, log and ports file.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
    owner: Owner,
}

impl PrivateDir {
    /// Creates `ipc-lab-TAG-PID-TOKEN-N` in `std::env::temp_dir()`.
    ///
    /// # Errors
    /// As [`Owner::create`] of a [`DirectoryObject`].
    pub fn create(tag: &str) -> Result<PrivateDir> {
        let path = std::env::temp_dir().join(IpcName::led_by(tag)?.as_str());
        let ((), owner) = Owner::create::<DirectoryObject, _>(&path, &(), |(), _| Ok(()))?;
        Ok(PrivateDir { path, owner })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the directory and everything in it now.
    ///
    /// # Errors
    /// As [`Owner::remove`].
    pub fn remove(&mut self) -> Result<()> {
        self.owner.remove()
    }
}

/// The directory where a user's programs meet under names they agree on
/// (exp3-fifo's two-terminal roles), when the user has no
/// `$XDG_RUNTIME_DIR`: `/tmp/ipc-lab-user-UID`, mode 0700, made if it is
/// missing. A fixed name in `/tmp` would be shared by every user, and the
/// first to make it would block the others; this one is each user's own.
/// It is kept (another program of the user may be using it), as
/// `$XDG_RUNTIME_DIR` is.
///
/// ```
/// let dir = ipc_core::owner::user_dir().unwrap();
/// let uid = nix::unistd::geteuid();
/// assert_eq!(dir, std::path::Path::new(&format!("/tmp/ipc-lab-user-{uid}")));
/// assert_eq!(ipc_core::owner::user_dir().unwrap(), dir, "found again");
/// ```
///
/// # Errors
/// [`Error::Untrusted`] when the name is taken by another user's
/// directory, a link, a file, or a directory others may open (its message
/// says what to do); [`Error::Sys`] naming `mkdir` or `lstat`.
pub fn user_dir() -> Result<PathBuf> {
    let path = PathBuf::from(format!("/tmp/ipc-lab-user-{}", geteuid()));
    match mkdir(&path, Mode::S_IRWXU) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(errno) => return Err(Error::sys("mkdir", path.display().to_string(), errno)),
    }
    let st =
        lstat(&path).map_err(|errno| Error::sys("lstat", path.display().to_string(), errno))?;
    check_trusted(Kind::Directory, &ObjectName::Path(path.clone()), &st).map_err(|error| {
        match error {
            Error::Untrusted { object, reason } => Error::Untrusted {
                object,
                reason: format!(
                    "{reason}; set XDG_RUNTIME_DIR to a directory of yours (mode 0700), or give a path"
                ),
            },
            other => other,
        }
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_directory_is_ours_and_goes_with_its_maker() {
        let mut dir = PrivateDir::create("doc").unwrap();
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let path = dir.path().to_owned();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("ipc-lab-doc-"), "{name}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        dir.remove().unwrap();
        assert!(!path.exists());
        let dir = PrivateDir::create("doc").unwrap();
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }
}
