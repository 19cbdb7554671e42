//! The memory every synchronisation twin lives in: one mapping, anonymous
//! or named, with a header that says what it holds.
//!
//! A region is a [`SharedMemory`] whose first [`HEADER`] bytes say which
//! kind of object the rest (the *body*) holds, how long the mapping is, and
//! whether the creator has finished setting it up:
//!
//! | offset | field | |
//! | --- | --- | --- |
//! | 0 | `ready` (`u32`) | [`READY`] once the body is initialised, 0 before |
//! | 4 | `kind` (`u32`) | a [`Kind`] |
//! | 8 | `len` (`u64`) | the length of the whole mapping |
//! | 64 | the body | |
//!
//! Anonymous regions ([`Region::anonymous`]) reach the children forked
//! after they were made. Named ones ([`Region::create`], [`Region::open`])
//! are a thin layer over [`SharedMemory::create`] and
//! [`SharedMemory::open`]: the creator initialises the body, then publishes
//! `ready` with a release store and wakes anybody waiting for it; an opener
//! waits (at most [`READY_WAIT`]) until it sees `ready`, so it never uses a
//! mutex that is still being initialised.

use std::mem::{align_of, size_of};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::name::IpcName;
use crate::shm::SharedMemory;
use crate::sync::futex;

/// Bytes before the body: one cache line.
pub(crate) const HEADER: usize = 64;

/// The value of `ready` once the body is set up ("ipcs").
pub(crate) const READY: u32 = 0x6970_6373;

/// How long [`Region::open`] waits for a creator to finish setting a
/// region up.
pub(crate) const READY_WAIT: Duration = Duration::from_secs(1);

/// Bytes reserved for one `pthread_mutex_t` in a body: a cache line.
pub(crate) const MUTEX_SLOT: usize = 64;
const _: () = assert!(crate::sync::RobustMutex::SIZE <= MUTEX_SLOT);

/// What a region holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Kind {
    Lock = 1,
    RLock = 2,
    Semaphore = 3,
    BoundedSemaphore = 4,
    Event = 5,
    Condition = 6,
    Barrier = 7,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Lock,
        Kind::RLock,
        Kind::Semaphore,
        Kind::BoundedSemaphore,
        Kind::Event,
        Kind::Condition,
        Kind::Barrier,
    ];

    /// The type's name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Lock => "Lock",
            Kind::RLock => "RLock",
            Kind::Semaphore => "Semaphore",
            Kind::BoundedSemaphore => "BoundedSemaphore",
            Kind::Event => "Event",
            Kind::Condition => "Condition",
            Kind::Barrier => "Barrier",
        }
    }

    fn from_u32(value: u32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| *kind as u32 == value)
    }
}

/// A `#[repr(C)]` struct made only of atomics, which may therefore be
/// viewed in shared memory that other processes write.
///
/// # Safety
/// Implementors are `#[repr(C)]`, contain only atomic integers (valid for
/// every bit pattern, zero included), and have no `Drop`.
pub(crate) unsafe trait Atomics: Sized {}

#[repr(C)]
struct Header {
    ready: AtomicU32,
    kind: AtomicU32,
    len: AtomicU64,
}

// SAFETY: repr(C), atomics only.
unsafe impl Atomics for Header {}

/// One mapping holding one synchronisation object (see the module).
#[derive(Debug)]
pub(crate) struct Region {
    memory: SharedMemory,
}

impl Region {
    /// Anonymous memory for a `kind` with a body of `body` bytes, set up by
    /// `init` (which sees the body zeroed).
    pub(crate) fn anonymous(
        kind: Kind,
        body: usize,
        init: impl FnOnce(&Region) -> Result<()>,
    ) -> Result<Region> {
        let region = Region {
            memory: SharedMemory::anonymous(HEADER + body)?,
        };
        region.set_up(kind, init)?;
        Ok(region)
    }

    /// The named segment `name` (mode 0600, created with `O_EXCL`) for a
    /// `kind`, set up by `init`. Unlinked when the creator's last handle is
    /// dropped (see [`SharedMemory::create`]); on an error, at once.
    pub(crate) fn create(
        name: &IpcName,
        kind: Kind,
        body: usize,
        init: impl FnOnce(&Region) -> Result<()>,
    ) -> Result<Region> {
        let region = Region {
            memory: SharedMemory::create(name, HEADER + body)?,
        };
        region.set_up(kind, init)?;
        Ok(region)
    }

    fn set_up(&self, kind: Kind, init: impl FnOnce(&Region) -> Result<()>) -> Result<()> {
        let header = self.header();
        header.kind.store(kind as u32, Ordering::Relaxed);
        header
            .len
            .store(self.memory.len() as u64, Ordering::Relaxed);
        init(self)?;
        // Everything init wrote happens before an opener's acquire load of
        // `ready`.
        header.ready.store(READY, Ordering::Release);
        futex::wake(&header.ready, u32::MAX)?;
        Ok(())
    }

    /// Attaches to the existing named `kind` called `name`.
    ///
    /// Waits at most [`READY_WAIT`] for its creator to finish setting it
    /// up.
    ///
    /// # Errors
    /// As [`SharedMemory::open`] (`No such file or directory`, see
    /// [`Error::is_not_found`]); [`Error::Untrusted`] when the segment is
    /// not an ipc-core object of this kind, or was never set up.
    pub(crate) fn open(name: &IpcName, kind: Kind) -> Result<Region> {
        let deadline = Deadline::after(READY_WAIT);
        let not_ready = || Error::Untrusted {
            object: name.path(),
            reason: format!(
                "was not set up as an ipc-core {} within {READY_WAIT:?} (its creator died \
                 setting it up, or it is something else)",
                kind.name()
            ),
        };
        // A creator sizes the segment just after creating it: until then it
        // is too small to hold even the header.
        let first = blocking::wait(deadline, |slice| match SharedMemory::open(name, HEADER) {
            Ok(memory) => Ok(Some(memory)),
            Err(Error::TooSmall { .. }) => {
                std::thread::sleep(slice.min(blocking::MOMENT));
                Ok(None)
            }
            Err(error) => Err(error),
        })
        .map_err(|error| match error {
            Error::Timeout => not_ready(),
            other => other,
        })?;
        let peek = Region { memory: first };
        let header = peek.header();
        blocking::wait(deadline, |slice| {
            match header.ready.load(Ordering::Acquire) {
                READY => return Ok(Some(())),
                0 => {}
                _ => {
                    return Err(Error::Untrusted {
                        object: name.path(),
                        reason: "is not an ipc-core synchronisation object".into(),
                    });
                }
            }
            if !slice.is_zero() {
                futex::wait(&header.ready, 0, slice)?;
            }
            Ok(None)
        })
        .map_err(|error| match error {
            Error::Timeout => not_ready(),
            other => other,
        })?;
        let found = header.kind.load(Ordering::Relaxed);
        if found != kind as u32 {
            let what = Kind::from_u32(found).map_or("something else", Kind::name);
            return Err(Error::Untrusted {
                object: name.path(),
                reason: format!("is an ipc-core {what}, not a {}", kind.name()),
            });
        }
        let len = usize::try_from(header.len.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        if len < HEADER {
            return Err(Error::Untrusted {
                object: name.path(),
                reason: format!("says it is {len} bytes long, less than its header"),
            });
        }
        drop(peek);
        Ok(Region {
            memory: SharedMemory::open(name, len)?,
        })
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping is at least HEADER bytes long (checked by
        // SharedMemory::open, or made so by anonymous/create), page-aligned,
        // and lives as long as `self`; Header is made of atomics.
        unsafe { &*self.memory.as_ptr().cast::<Header>() }
    }

    /// The length of the body.
    pub(crate) fn body_len(&self) -> usize {
        self.memory.len() - HEADER
    }

    /// The address of byte `offset` of the body.
    ///
    /// # Panics
    /// If `offset` is outside the body (a bug of the caller).
    pub(crate) fn ptr(&self, offset: usize) -> *mut u8 {
        assert!(offset < self.body_len(), "offset {offset} outside the body");
        // SAFETY: HEADER + offset is inside the mapping (checked above).
        unsafe { self.memory.as_ptr().add(HEADER + offset) }
    }

    /// The `T` at byte `offset` of the body.
    ///
    /// # Panics
    /// If it does not fit in the body or is misaligned (a bug of the
    /// caller).
    pub(crate) fn atomics<T: Atomics>(&self, offset: usize) -> &T {
        assert!(
            offset + size_of::<T>() <= self.body_len(),
            "{} bytes at {offset} do not fit in a body of {}",
            size_of::<T>(),
            self.body_len()
        );
        let at = self.ptr(offset);
        assert_eq!(at as usize % align_of::<T>(), 0, "misaligned");
        // SAFETY: in bounds and aligned (checked above); the mapping lives
        // as long as `self`; `T` is made of atomics, valid for every bit
        // pattern another process may leave there.
        unsafe { &*at.cast::<T>() }
    }

    /// The segment's name, for a named region.
    pub(crate) fn name(&self) -> Option<&IpcName> {
        self.memory.name()
    }
}

/// A number that tells one synchronisation object from another within a
/// thread's bookkeeping (`RLock` owners, `Barrier` members): written into
/// the body once, at creation, so that every mapping of the object, in
/// any process, sees the same one.
pub(crate) fn fresh_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let pid = u64::from(std::process::id());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Distinct within a process (n); across processes the pid and the
    // clock keep two creators apart.
    (pid << 40) ^ (nanos << 16) ^ n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    struct Two {
        a: AtomicU32,
        b: AtomicU32,
    }
    // SAFETY: repr(C), atomics only.
    unsafe impl Atomics for Two {}

    #[test]
    fn a_named_region_is_found_by_kind_and_refused_as_another() {
        let name = IpcName::unique("region").unwrap();
        let made = Region::create(&name, Kind::Event, 8, |r| {
            r.atomics::<Two>(0).b.store(7, Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
        let opened = Region::open(&name, Kind::Event).unwrap();
        assert_eq!(opened.atomics::<Two>(0).b.load(Ordering::Relaxed), 7);
        assert_eq!(opened.body_len(), made.body_len());
        let err = Region::open(&name, Kind::Barrier).unwrap_err();
        assert!(
            err.to_string()
                .contains("is an ipc-core Event, not a Barrier"),
            "{err}"
        );
        assert_eq!(made.name(), Some(&name));
    }

    #[test]
    fn a_foreign_segment_is_not_used() {
        let name = IpcName::unique("region-foreign").unwrap();
        let foreign = SharedMemory::create(&name, 128).unwrap();
        // SAFETY: the fresh mapping is 128 bytes long.
        unsafe { foreign.as_ptr().cast::<u32>().write_volatile(0xdead_beef) };
        let err = Region::open(&name, Kind::Lock).unwrap_err();
        assert!(matches!(err, Error::Untrusted { .. }), "{err}");
        assert!(
            Region::open(&IpcName::unique("region-missing").unwrap(), Kind::Lock)
                .unwrap_err()
                .is_not_found()
        );
    }

    #[test]
    fn a_segment_never_set_up_times_out_as_untrusted() {
        let name = IpcName::unique("region-unready").unwrap();
        let _zeroed = SharedMemory::create(&name, 128).unwrap();
        let err = Region::open(&name, Kind::Semaphore).unwrap_err();
        assert!(err.to_string().contains("was not set up"), "{err}");
    }

    #[test]
    fn ids_differ() {
        assert_ne!(fresh_id(), fresh_id());
    }
}
