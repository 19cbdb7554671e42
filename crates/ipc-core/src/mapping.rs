//! Memory mapped `MAP_SHARED`: the bytes of a shared-memory segment, and
//! the anonymous memory that the run's recorder ([`crate::trace`]) and
//! [`crate::SharedMemory::anonymous`] hand to the processes forked after
//! it was made.
//!
//! A [`Mapping`] owns its pages and unmaps them when dropped; it says
//! nothing about how the bytes are read (atomics, always: see
//! [`crate::plain`]). It sits below both of its users, so that the
//! recorder needs no segment, no name and no owner.

use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::ptr::NonNull;

use nix::sys::mman::{MapFlags, ProtFlags, mmap, mmap_anonymous, munmap};

use crate::error::{Error, Result};

/// Pages mapped shared, readable and writable, unmapped when dropped.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory reachable from any thread; the handle
// holds no thread-bound state, and accesses to the bytes go through atomics.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` only hands out the raw pointer.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of zeroed anonymous shared memory
    /// (`MAP_SHARED | MAP_ANONYMOUS`): inherited by the children forked
    /// afterwards, gone with the last process that maps it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap`.
    pub(crate) fn anonymous(len: NonZeroUsize) -> Result<Mapping> {
        // SAFETY: a new anonymous mapping at an address the kernel picks
        // cannot alias any existing Rust object.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(|errno| Error::call("mmap", errno))?;
        Ok(Mapping {
            ptr: ptr.cast(),
            len: len.get(),
        })
    }

    /// Maps the first `len` bytes of the file `fd` (a segment), named
    /// `object` in errors. The caller has checked that the file is at
    /// least that long: a page past its end raises SIGBUS.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap` and `object`.
    pub(crate) fn of_file(fd: impl AsFd, len: NonZeroUsize, object: &str) -> Result<Mapping> {
        // SAFETY: a new shared mapping of a file at an address the kernel
        // picks cannot alias any Rust object.
        let ptr = unsafe {
            mmap(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd,
                0,
            )
        }
        .map_err(|errno| Error::sys("mmap", object, errno))?;
        Ok(Mapping {
            ptr: ptr.cast(),
            len: len.get(),
        })
    }

    /// The first byte, page-aligned.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The number of bytes mapped.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `len` describe the mapping made in the
        // constructor, which nothing else unmaps; every view of it borrows
        // or owns this handle (or the handle that owns it), so none
        // outlives it.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}
