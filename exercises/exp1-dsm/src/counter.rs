//! The counter's entry in the bucket around its update: opening it (and
//! writing 0 over a missing or deleted entry), reading a value that any
//! program may have written, resetting it, and the errors that name it.

use std::time::Instant;

use ipc_net::{Bucket, Connection, Error, Result};

use crate::Counter;
use crate::options::Place;

impl<'c> Counter<'c> {
    /// Opens the counter at `place` (creating the bucket, and the entry
    /// with 0, when missing).
    ///
    /// # Errors
    /// As [`Bucket::open`].
    pub fn open(nc: &'c Connection, place: &Place, cas: bool) -> Result<Self> {
        let bucket = Bucket::open(nc, &place.bucket, place.replicas)?;
        // Revision 0 means "no entry yet": a create that no two workers
        // can both win.
        if bucket.get(&place.counter)?.is_none()
            && bucket.update(&place.counter, b"0", 0)?.is_none()
            && bucket.get(&place.counter)?.is_none()
        {
            // A deleted entry has a revision of its own: write over it.
            bucket.put(&place.counter, b"0")?;
        }
        Ok(Counter {
            bucket,
            key: place.counter.clone(),
            cas,
        })
    }

    /// The current value and its revision.
    ///
    /// # Errors
    /// [`Error::BadMessage`] when the entry is gone or holds no number; as
    /// [`Bucket::get`].
    pub fn read(&self) -> Result<(u64, u64)> {
        let bad = |reason| self.bad(reason);
        let entry = self
            .bucket
            .get(&self.key)?
            .ok_or_else(|| bad("the counter has been deleted".into()))?;
        let text = String::from_utf8_lossy(&entry.value);
        let value = text
            .trim()
            .parse()
            .map_err(|_| bad(format!("{text:?} is not a counter value")))?;
        Ok((value, entry.revision))
    }

    /// What is wrong with the counter's value (anyone may write in the
    /// bucket): an error naming the counter.
    pub(crate) fn bad(&self, reason: String) -> Error {
        Error::BadMessage {
            subject: format!("{} in {}", self.key, self.bucket.name()),
            reason,
        }
    }

    /// Compare-and-set kept failing until the deadline: an error naming
    /// the counter, the conflicts and the time it took since `started`.
    pub(crate) fn gave_up(&self, conflicts: u64, started: Instant) -> Error {
        Error::Timeout {
            url: self.bucket.urls().to_string(),
            what: format!(
                "no compare-and-set of {} in {} succeeded ({conflicts} conflicts)",
                self.key,
                self.bucket.name()
            ),
            after: started.elapsed(),
        }
    }

    /// Sets the counter to 0.
    ///
    /// # Errors
    /// As [`Bucket::put`].
    pub fn reset(&self) -> Result<()> {
        self.bucket.put(&self.key, b"0").map(drop)
    }
}
