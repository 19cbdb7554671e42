//! A private directory of the run: mode 0700, named with ipc-lab's
//! prefix in the temporary directory, held by an [`Owner`] like every
//! named object (removed by its maker, or after a crash by the run's
//! tracker or the next program). A private server's store and the traces
//! of a run's programs live in one; what is inside cannot be planted by
//! another user, whatever its names.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::name::IpcName;
use crate::owner::{DirectoryObject, Owner};

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
