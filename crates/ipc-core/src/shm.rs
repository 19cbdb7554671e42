//! Shared memory: anonymous mappings and named POSIX segments.
//!
//! * [`SharedMemory::anonymous`] maps memory with `MAP_SHARED |
//!   MAP_ANONYMOUS` (`mmap(2)`). It has no name, so nothing can leak: it is
//!   shared with the children forked after it was made, and disappears with
//!   the last process that maps it.
//! * [`SharedMemory::create`] makes a named segment with `shm_open(3)`
//!   (`O_CREAT | O_EXCL`, then `fchmod(2)` to mode 0600 whatever the
//!   umask), sizes it with `ftruncate(2)` and
//!   reserves its memory with `posix_fallocate(3)`, so that a full
//!   `/dev/shm` is an error now rather than a SIGBUS later. Its creator
//!   unlinks it when dropped, and after a crash the run's tracker or the
//!   next program does ([`crate::owner`]); [`SharedMemory::open`] attaches
//!   to an existing one of the same user, mode 0600, checking its size.
//!
//! A named segment can be shrunk under its users by anybody who may write
//! it (`truncate -s 0 /dev/shm/ipc-lab-…`): touching a page past the new
//! end raises SIGBUS. A process that maps named segments handles SIGBUS:
//! a fault inside one of them ends the process with exit code 1 and a
//! message naming the segment (`/ipc-lab-x shrank under this process`);
//! the objects of its run are then removed by the run's tracker.
//!
//! The bytes are reached through [`SharedMemory::as_ptr`]: memory that
//! another process may write must be read and written with atomics or
//! volatile operations, which is what [`crate::Value`] and [`crate::Array`]
//! do.

use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::sys::stat::FileStat;
use nix::unistd::ftruncate;

use crate::error::{Error, Result};
use crate::mapping::Mapping;
use crate::name::IpcName;
use crate::owner::{Origin, Owner, SegmentObject};

/// A region of memory shared between processes.
///
/// Dropping it unmaps it; dropping the creator's handle of a named segment
/// also unlinks the name (only in the process that created it, never in a
/// forked child that inherited a copy of the handle).
#[derive(Debug)]
pub struct SharedMemory {
    /// The pages; unmapped before the owner below removes the name.
    mapping: Mapping,
    /// The name and who removes it; `None` for anonymous memory.
    named: Option<(IpcName, Owner)>,
}

impl SharedMemory {
    /// Maps `len` bytes of zeroed anonymous shared memory.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `len == 0`; [`Error::Sys`] naming
    /// `mmap`.
    ///
    /// # Examples
    /// ```
    /// let shm = ipc_core::SharedMemory::anonymous(4096).unwrap();
    /// assert_eq!(shm.len(), 4096);
    /// assert!(shm.name().is_none());
    /// ```
    pub fn anonymous(len: usize) -> Result<Self> {
        Ok(SharedMemory {
            mapping: Mapping::anonymous(nonzero(len)?)?,
            named: None,
        })
    }

    /// Creates the named segment `name` of `len` zeroed bytes, mode 0600.
    ///
    /// Fails if the name exists already (`O_EXCL`, which never follows a
    /// symbolic link planted at the name): an object of somebody else is
    /// never reused. The mode is set with `fchmod(2)` after the creation,
    /// so that a umask such as 0277 cannot narrow it to 0400 (0600 is
    /// already the most the umask could leave). The segment is unlinked
    /// when this handle is dropped in the process that created it, and
    /// after a crash by [`crate::owner`]'s tracker or sweep.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `len == 0`; [`Error::Sys`] naming
    /// `shm_open` (`File exists` when the name is taken), `fchmod`, `ftruncate`,
    /// `posix_fallocate` (`No space left on device` when `/dev/shm` is full)
    /// or `mmap`. After an error nothing is left behind.
    pub fn create(name: &IpcName, len: usize) -> Result<Self> {
        let size = nonzero(len)?;
        let (mapping, owner) = Owner::create::<SegmentObject, _>(name, &(), |fd, _| {
            size_and_map(fd, name, len, size)
        })?;
        Ok(SharedMemory::named(mapping, name, owner))
    }

    /// Attaches to the existing named segment `name`, mapping its first
    /// `len` bytes. The segment must belong to the calling user and be
    /// closed to others (mode 0600, see [`crate::owner::check_trusted`]);
    /// it is never unlinked by this handle.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `shm_open` (`No such file or directory` when it
    /// does not exist, see [`Error::is_not_found`]); [`Error::Untrusted`]
    /// for a segment of another user or with a wider mode;
    /// [`Error::TooSmall`] when the segment has fewer than `len` bytes
    /// (touching them would raise SIGBUS).
    pub fn open(name: &IpcName, len: usize) -> Result<Self> {
        let size = nonzero(len)?;
        let (fd, st, owner) = Owner::open::<SegmentObject>(name)?;
        let mapping = check_and_map(fd, &st, name, len, size)?;
        Ok(SharedMemory::named(mapping, name, owner))
    }

    /// Creates the named segment `name`, or attaches to it if it exists
    /// already (as [`SharedMemory::open`] does, with the same checks);
    /// [`SharedMemory::is_owner`] tells which happened.
    ///
    /// # Errors
    /// As [`SharedMemory::create`] and [`SharedMemory::open`].
    pub fn create_or_open(name: &IpcName, len: usize) -> Result<Self> {
        let size = nonzero(len)?;
        let (mapping, owner) =
            Owner::create_or_open::<SegmentObject, _>(name, &(), |fd, st, origin| match origin {
                Origin::Created => size_and_map(fd, name, len, size),
                Origin::Opened => check_and_map(fd, st, name, len, size),
            })?;
        Ok(SharedMemory::named(mapping, name, owner))
    }

    fn named(mapping: Mapping, name: &IpcName, owner: Owner) -> Self {
        crate::bus::watch(mapping.as_ptr() as usize, mapping.len(), name.as_str());
        SharedMemory {
            mapping,
            named: Some((name.clone(), owner)),
        }
    }

    /// The number of bytes mapped.
    pub fn len(&self) -> usize {
        self.mapping.len()
    }

    /// Always false: a mapping has at least one byte.
    pub fn is_empty(&self) -> bool {
        self.mapping.len() == 0
    }

    /// The segment's name; `None` for anonymous memory.
    pub fn name(&self) -> Option<&IpcName> {
        self.named.as_ref().map(|(name, _)| name)
    }

    /// True if this handle created the segment and will unlink it.
    pub fn is_owner(&self) -> bool {
        self.named
            .as_ref()
            .is_some_and(|(_, owner)| owner.is_owner())
    }

    /// True when the segment's name no longer leads to this mapping: its
    /// creator removed it (at its end), the run's tracker or `clean.sh` did
    /// after a crash, or another segment took the name. The mapping stays
    /// valid; only nobody can attach to it any more. Always false for
    /// anonymous memory. One `stat(2)`.
    ///
    /// ```
    /// use ipc_core::{IpcName, SharedMemory};
    /// let name = IpcName::unique("doc-removed").unwrap();
    /// let creator = SharedMemory::create(&name, 8).unwrap();
    /// let watcher = SharedMemory::open(&name, 8).unwrap();
    /// assert!(!watcher.is_removed());
    /// drop(creator); // the creator unlinks the name
    /// assert!(watcher.is_removed());
    /// ```
    pub fn is_removed(&self) -> bool {
        self.named
            .as_ref()
            .is_some_and(|(_, owner)| !owner.is_current())
    }

    /// The first byte of the mapping, page-aligned.
    ///
    /// The memory may change at any time under another process's writes:
    /// read and write it through atomics or volatile operations only.
    pub fn as_ptr(&self) -> *mut u8 {
        self.mapping.as_ptr()
    }

    /// Leaves the segment in place when the creator drops its handle.
    pub fn keep(&mut self) {
        if let Some((_, owner)) = &mut self.named {
            owner.keep();
        }
    }

    /// Removes the name now, instead of when the creator drops its handle.
    /// Processes that have it mapped keep their mapping.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `shm_unlink`. Does nothing for anonymous memory.
    pub fn remove(&mut self) -> Result<()> {
        match &mut self.named {
            Some((_, owner)) => owner.remove(),
            None => Ok(()),
        }
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        if self.named.is_some() {
            crate::bus::unwatch(self.mapping.as_ptr() as usize);
        }
        // Then the fields: the mapping is unmapped, and the owner unlinks
        // the name of a segment this process created.
    }
}

/// Sizes the new segment `fd` to `len` bytes and reserves them
/// (`posix_fallocate(3)`, so that a full `/dev/shm` is an error now rather
/// than a SIGBUS later), then maps them: what [`Owner::create`] finishes a
/// segment with (it removes the segment again if this fails).
fn size_and_map(fd: OwnedFd, name: &IpcName, len: usize, size: NonZeroUsize) -> Result<Mapping> {
    let path = name.path();
    let off = len as libc::off_t;
    ftruncate(&fd, off).map_err(|errno| Error::sys("ftruncate", &path, errno))?;
    match nix::fcntl::posix_fallocate(&fd, 0, off) {
        Ok(()) | Err(Errno::EOPNOTSUPP) => {}
        Err(errno) => return Err(Error::sys("posix_fallocate", &path, errno)),
    }
    Mapping::of_file(&fd, size, &path)
}

/// Maps the first `len` bytes of the existing segment `fd` of `st`,
/// refusing one too small (touching a page past its end raises SIGBUS).
fn check_and_map(
    fd: OwnedFd,
    st: &FileStat,
    name: &IpcName,
    len: usize,
    size: NonZeroUsize,
) -> Result<Mapping> {
    let path = name.path();
    let actual = st.st_size as usize;
    if actual < len {
        return Err(Error::TooSmall {
            object: path,
            needed: len,
            actual,
        });
    }
    Mapping::of_file(&fd, size, &path)
}

fn nonzero(len: usize) -> Result<NonZeroUsize> {
    NonZeroUsize::new(len)
        .ok_or_else(|| Error::InvalidArgument("a shared memory size must be at least 1".into()))
}

/// Asks the CPU to bring the cache line at `at` into its cache, ready to be
/// written (`prefetchw` on x86-64; nothing elsewhere), as a ring's producer
/// does for a slot it will fill soon. Only a hint: it changes no memory and
/// cannot fault, whatever `at` is.
#[inline]
pub fn prefetch_for_write(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that neither reads nor writes memory as
    // far as the program can tell, and does not fault on any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn in_dev_shm(name: &IpcName) -> bool {
        Path::new("/dev/shm").join(name.as_str()).exists()
    }

    #[test]
    fn zero_bytes_is_refused() {
        assert!(matches!(
            SharedMemory::anonymous(0),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn a_named_segment_lives_as_long_as_its_creator() {
        let name = IpcName::unique("shm-test").unwrap();
        let created = SharedMemory::create(&name, 16).unwrap();
        assert!(in_dev_shm(&name));
        let opened = SharedMemory::open(&name, 16).unwrap();
        assert_eq!(opened.len(), 16);
        drop(opened);
        assert!(in_dev_shm(&name), "only the creator unlinks");
        drop(created);
        assert!(!in_dev_shm(&name));
    }

    #[test]
    fn a_taken_name_is_an_error_that_names_it() {
        let name = IpcName::unique("taken").unwrap();
        let _first = SharedMemory::create(&name, 8).unwrap();
        let err = SharedMemory::create(&name, 8).unwrap_err();
        assert_eq!(err.to_string(), format!("shm_open /{name}: File exists"));
    }

    #[test]
    fn opening_too_much_or_nothing_fails() {
        let name = IpcName::unique("small").unwrap();
        let _seg = SharedMemory::create(&name, 4).unwrap();
        assert!(matches!(
            SharedMemory::open(&name, 8),
            Err(Error::TooSmall {
                needed: 8,
                actual: 4,
                ..
            })
        ));
        let missing = IpcName::unique("missing").unwrap();
        assert!(SharedMemory::open(&missing, 4).unwrap_err().is_not_found());
    }

    #[test]
    fn created_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let name = IpcName::unique("mode").unwrap();
        let _seg = SharedMemory::create(&name, 4).unwrap();
        let meta = std::fs::metadata(Path::new("/dev/shm").join(name.as_str())).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}
