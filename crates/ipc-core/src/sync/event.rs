//! `Event`: a flag shared by processes that others can wait for, like
//! Python's `multiprocessing.Event`.
//!
//! # How it works
//!
//! One 32-bit word in shared memory: bit 0 is the flag, the other bits
//! count the times it was set. A waiter that finds the flag clear watches
//! the word for a few microseconds ([`crate::blocking::spin`]), then
//! sleeps on it with `FUTEX_WAIT` (`futex(2)`), in slices of at most
//! [`crate::blocking::POLL_INTERVAL`]; [`Event::set`] sets the flag, adds
//! one to the count and, if anybody sleeps, wakes every sleeper.
//!
//! Because a set also changes the count, a waiter that was waiting when
//! the event was set is released even if somebody clears it again before
//! the waiter runs: a `set()` immediately followed by `clear()` releases
//! every process that was waiting (Python's `threading.Event` behaves so;
//! `multiprocessing.Event` could miss such a pulse).
//!
//! # A process that dies
//!
//! An event has no owner. A process that dies before it sets the event
//! never sets it: its waiters wait until their deadline ([`Error::Timeout`]).
//! A process killed while waiting leaves nothing behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::blocking::Deadline;
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::name::IpcName;
use crate::sync::futex;
use crate::sync::region::{Atomics, Kind, Region};

#[repr(C)]
struct Body {
    /// Bit 0: the flag; bits 1..: how many times it was set (wrapping).
    word: AtomicU32,
    /// How many processes sleep (or are about to) on `word`.
    sleepers: AtomicU32,
}

// SAFETY: repr(C), atomics only.
unsafe impl Atomics for Body {}

const BODY: usize = std::mem::size_of::<Body>();
const FLAG: u32 = 1;

/// A flag shared by processes: [`set`](Event::set) it, and every process
/// waiting in [`wait`](Event::wait) goes on.
///
/// Made before forking, it is shared with the children;
/// [`Event::create`] and [`Event::open`] name it for unrelated processes.
/// Cloning gives another handle to the same event.
///
/// | Python | here |
/// | --- | --- |
/// | `Event()` | [`Event::new`] |
/// | `set()`, `clear()`, `is_set()` | [`Event::set`], [`Event::clear`], [`Event::is_set`] |
/// | `wait()` | [`Event::wait`] |
/// | `wait(timeout)` → `False` | [`Event::wait_timeout`] → [`Error::Timeout`] |
///
/// ```
/// use std::time::Duration;
/// use ipc_core::{Error, Event, Process};
///
/// let go = Event::new().unwrap();
/// assert!(matches!(go.wait_timeout(Duration::from_millis(10)), Err(Error::Timeout)));
/// let mut runners: Vec<Process> = (0..3)
///     .map(|i| Process::spawn(format!("runner {i}"), || go.wait_timeout(Duration::from_secs(10)))
///         .unwrap())
///     .collect();
/// go.set().unwrap();
/// for runner in &mut runners {
///     assert!(runner.join().unwrap().success(), "every waiter was released");
/// }
/// assert!(go.is_set());
/// go.clear();
/// assert!(!go.is_set());
/// ```
#[derive(Clone)]
pub struct Event {
    region: Arc<Region>,
}

impl Event {
    /// A new, clear event in anonymous shared memory.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap`.
    pub fn new() -> Result<Self> {
        let region = Region::anonymous(Kind::Event, BODY, |_| Ok(()))?;
        Ok(Event {
            region: Arc::new(region),
        })
    }

    /// A new, clear event in the named segment `name` (mode 0600), for
    /// [`Event::open`] in other processes. The segment is removed when the
    /// creator's last handle is dropped.
    ///
    /// ```
    /// use ipc_core::{Event, IpcName};
    ///
    /// let name = IpcName::unique("doc-event").unwrap();
    /// let event = Event::create(&name).unwrap();
    /// Event::open(&name).unwrap().set().unwrap();
    /// assert!(event.is_set());
    /// ```
    ///
    /// # Errors
    /// As [`crate::SharedMemory::create`] (`File exists`).
    pub fn create(name: &IpcName) -> Result<Self> {
        let region = Region::create(name, Kind::Event, BODY, |_| Ok(()))?;
        Ok(Event {
            region: Arc::new(region),
        })
    }

    /// Attaches to the event [`Event::create`] made under `name`.
    ///
    /// # Errors
    /// As [`crate::SharedMemory::open`]; [`Error::Untrusted`] when the
    /// segment is not an ipc-core `Event`.
    pub fn open(name: &IpcName) -> Result<Self> {
        Ok(Event {
            region: Arc::new(Region::open(name, Kind::Event)?),
        })
    }

    fn body(&self) -> &Body {
        self.region.atomics(0)
    }

    /// Sets the flag and releases every process waiting for it.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `futex` (only on a bug).
    pub fn set(&self) -> Result<()> {
        let body = self.body();
        let mut word = body.word.load(Ordering::Relaxed);
        loop {
            if word & FLAG != 0 {
                return Ok(());
            }
            let next = (word & !FLAG).wrapping_add(2) | FLAG;
            match body
                .word
                .compare_exchange_weak(word, next, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => word = now,
            }
        }
        if body.sleepers.load(Ordering::SeqCst) > 0 {
            futex::wake(&body.word, u32::MAX)?;
        }
        Ok(())
    }

    /// Clears the flag: later waits wait again.
    pub fn clear(&self) {
        self.body().word.fetch_and(!FLAG, Ordering::SeqCst);
    }

    /// True while the flag is set.
    pub fn is_set(&self) -> bool {
        self.body().word.load(Ordering::SeqCst) & FLAG != 0
    }

    /// Waits until the flag is set (at once if it is).
    ///
    /// # Errors
    /// [`Error::Interrupted`] when SIGINT or SIGTERM arrives while it waits
    /// (after [`crate::signal::install`]), noticed within
    /// [`crate::blocking::POLL_INTERVAL`].
    pub fn wait(&self) -> Result<()> {
        self.wait_until(Deadline::NEVER)
    }

    /// As [`Event::wait`], giving up after `timeout`.
    ///
    /// # Errors
    /// As [`Event::wait`], plus [`Error::Timeout`].
    pub fn wait_timeout(&self, timeout: Duration) -> Result<()> {
        self.wait_until(Deadline::after(timeout))
    }

    /// As [`Event::wait`], giving up at `deadline`.
    ///
    /// # Errors
    /// As [`Event::wait_timeout`].
    pub fn wait_until(&self, deadline: Deadline) -> Result<()> {
        let body = self.body();
        let start = body.word.load(Ordering::SeqCst);
        if start & FLAG != 0 {
            return Ok(());
        }
        // From a clear flag the word changes only when the event is set:
        // any change means it was set since we started.
        futex::wait_until_done(deadline, &body.word, start, &body.sleepers, || {
            body.word.load(Ordering::SeqCst) != start
        })
    }

    /// The segment's name, for an event made with `create` or `open`.
    pub fn name(&self) -> Option<&IpcName> {
        self.region.name()
    }
}

super::debug_by_accessors!(Event: name, is_set);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_pulse_releases_a_thread_that_was_waiting() {
        let event = Event::new().unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| event.wait_timeout(Duration::from_secs(30)));
            std::thread::sleep(Duration::from_millis(20));
            event.set().unwrap();
            event.clear();
            waiter.join().unwrap().unwrap();
        });
        assert!(!event.is_set());
        assert!(matches!(
            event.wait_timeout(Duration::from_millis(5)),
            Err(Error::Timeout)
        ));
    }

    #[test]
    fn setting_twice_is_harmless() {
        let event = Event::new().unwrap();
        event.set().unwrap();
        event.set().unwrap();
        assert!(event.is_set());
        event.wait().unwrap();
    }
}
