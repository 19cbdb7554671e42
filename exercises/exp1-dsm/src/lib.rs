//! Seed 004's distributed shared memory: exp11-value's lesson across
//! machines.
//!
//! In `exp11-value` five processes update one `Value` in shared memory;
//! without its lock, updates are lost. Here the five workers are processes
//! that may run on different machines, and the number they share is an
//! entry of a NATS key-value bucket, kept by the NATS server (in files, on
//! each replica of a cluster). There is no lock to take across machines;
//! instead each entry has a *revision*, and an update can be made
//! conditional on it:
//!
//! * **compare-and-set** (the default): read the value and its revision,
//!   add 1, and write "value + 1, but only if the revision is still the one
//!   I read". If another worker wrote in between, the write is refused; the
//!   worker reads again and retries. No update is lost.
//! * **blind** (`--no-cas`): read, add 1, write whatever is there now. Two
//!   workers that read the same value both write value + 1: one update is
//!   lost, exactly as with exp11-value's `RawValue`.
//!
//! The option to start fewer workers (`--workers`) is in [`extras`]; the
//! roles, their flags and command lines, and the run that starts the
//! workers ([`roles::run`]) in [`roles`].

pub mod extras;
pub mod roles;

use std::time::{Duration, Instant};

use ipc_core::Deadline;

use ipc_cli::say;
use ipc_net::announce_ready;
use ipc_net::{Bucket, BucketName, Connection, Error, Gate, Key, Result, RunId};

/// The bucket the counter lives in unless `--bucket` says otherwise.
pub const DEFAULT_BUCKET: &str = "ipc-lab-exp1-dsm";

/// The counter's key unless `--counter` says otherwise.
pub const DEFAULT_COUNTER: &str = "counter";

/// Passes each worker makes unless `--iterations` says otherwise: every
/// update is two round trips to the server, so far fewer than
/// exp11-value's 100000.
pub const DEFAULT_PASSES: u64 = 20;

/// How long a worker may take in all unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the counter is: a bucket, a key, and how many copies the bucket
/// keeps.
#[derive(Debug, Clone)]
pub struct Place {
    /// The key-value bucket.
    pub bucket: BucketName,
    /// The counter's key in it.
    pub counter: Key,
    /// Copies of the bucket on the nodes of a cluster.
    pub replicas: usize,
}

/// The shared counter: one entry of a key-value bucket, holding a decimal
/// number.
#[derive(Debug)]
pub struct Counter<'c> {
    bucket: Bucket<'c>,
    key: Key,
    /// Compare-and-set on the revision, or blind writes (`--no-cas`).
    cas: bool,
}

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
    fn bad(&self, reason: String) -> Error {
        Error::BadMessage {
            subject: format!("{} in {}", self.key, self.bucket.name()),
            reason,
        }
    }

    /// Compare-and-set kept failing until the deadline: an error naming
    /// the counter, the conflicts and the time it took since `started`.
    fn gave_up(&self, conflicts: u64, started: Instant) -> Error {
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

    /// One update, `v = v + 1`: read the value, add 1, write the sum. With
    /// compare-and-set, a write refused because another worker wrote first
    /// is retried (until `deadline`); returns how many times.
    ///
    /// # Errors
    /// [`Error::Timeout`] when compare-and-set kept failing until the
    /// deadline; [`Error::BadMessage`] when the counter is full (another
    /// program wrote `u64::MAX`); as [`Counter::read`].
    pub fn increment(&self, deadline: Deadline) -> Result<u64> {
        let started = Instant::now();
        let mut conflicts = 0;
        loop {
            // STUDENT: read (v, revision); write v + 1 (checked_add: a full counter is an Err) blindly, or update at `revision` and retry
            let (v, revision) = self.read()?;
            let sum = v
                .checked_add(1)
                .ok_or_else(|| self.bad(format!("{v} + 1 does not fit in 64 bits")))?
                .to_string();
            if !self.cas {
                // A blind write: whatever was written since the read is
                // overwritten.
                self.bucket.put(&self.key, sum.as_bytes())?;
                return Ok(conflicts);
            }
            if self
                .bucket
                .update(&self.key, sum.as_bytes(), revision)?
                .is_some()
            {
                return Ok(conflicts);
            }
            // Another worker wrote after our read: read again.
            conflicts += 1;
            if deadline.has_passed() {
                return Err(self.gave_up(conflicts, started));
            }
            // END STUDENT
        }
    }
}

/// One of the five workers: its name, its target function's name, and how
/// many updates of +1 that function makes on each pass (as in exp11-value).
#[derive(Debug)]
pub struct Worker {
    /// The process name (`p1`).
    pub name: &'static str,
    /// The target function's name, for the printed plan.
    pub target_name: &'static str,
    /// Updates of +1 per pass.
    pub per_pass: u64,
}

/// The five workers: process k adds k per pass, as k updates of +1.
pub const WORKERS: [Worker; 5] = [
    Worker {
        name: "p1",
        target_name: "add_one",
        per_pass: 1,
    },
    Worker {
        name: "p2",
        target_name: "add_two",
        per_pass: 2,
    },
    Worker {
        name: "p3",
        target_name: "add_three",
        per_pass: 3,
    },
    Worker {
        name: "p4",
        target_name: "add_four",
        per_pass: 4,
    },
    Worker {
        name: "p5",
        target_name: "add_five",
        per_pass: 5,
    },
];

/// The value after every worker made `passes` passes: 15 × `passes`.
///
/// # Errors
/// [`Error::BadArgument`] when it does not fit in a `u64`.
pub fn expected_total(passes: u64) -> Result<u64> {
    expected_total_of(&WORKERS, passes)
}

/// The value after each of `workers` made `passes` passes.
///
/// # Errors
/// As [`expected_total`].
pub fn expected_total_of(workers: &[Worker], passes: u64) -> Result<u64> {
    let per_pass: u64 = workers.iter().map(|w| w.per_pass).sum();
    passes.checked_mul(per_pass).ok_or_else(|| {
        Error::BadArgument(format!(
            "--iterations {passes}: the expected total does not fit in a u64"
        ))
    })
}

/// A worker's target: `passes` passes of `per_pass` updates of +1.
/// Returns how many updates were retried after a conflict.
///
/// # Errors
/// As [`Counter::increment`].
pub fn add(counter: &Counter<'_>, passes: u64, per_pass: u64, deadline: Deadline) -> Result<u64> {
    let mut conflicts = 0;
    for _ in 0..passes {
        for _ in 0..per_pass {
            conflicts += counter.increment(deadline)?;
        }
    }
    Ok(conflicts)
}

/// What one worker process does.
#[derive(Debug, Clone)]
pub struct Work {
    /// Its name, for its last line (`p3`).
    pub name: String,
    /// Passes to make.
    pub passes: u64,
    /// Updates of +1 per pass.
    pub per_pass: u64,
    /// Compare-and-set, or blind writes.
    pub cas: bool,
    /// How long it may take in all.
    pub timeout: Duration,
    /// No line at the end.
    pub quiet: bool,
}

/// The worker role: joins the counter at `place`, waits at the run's gate
/// (if in a run), makes its updates, and (unless quiet) says how it went.
///
/// # Errors
/// As [`Counter::increment`]; a lost connection; `Interrupted`.
pub fn worker(nc: &Connection, place: &Place, work: &Work, run: Option<&RunId>) -> Result<()> {
    let counter = Counter::open(nc, place, work.cas)?;
    let mut gate = Gate::join(nc, run)?;
    announce_ready(nc, run, &work.name)?;
    gate.wait(Duration::from_secs(60))?;
    let deadline = Deadline::after(work.timeout);
    let conflicts = add(&counter, work.passes, work.per_pass, deadline)?;
    if !work.quiet {
        let updates = work.passes * work.per_pass;
        let how = if work.cas {
            format!("{conflicts} retried after a conflict")
        } else {
            "blind writes (--no-cas)".to_owned()
        };
        say!(
            "{}: {updates} updates of +1 on {} in {}, {how}; the counter is now {}",
            work.name,
            place.counter,
            place.bucket,
            counter.read()?.0
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_workers_add_fifteen_per_pass() {
        assert_eq!(expected_total(1).unwrap(), 15);
        assert_eq!(expected_total(DEFAULT_PASSES).unwrap(), 300);
        assert_eq!(
            expected_total(u64::MAX / 15 + 1).unwrap_err().exit_code(),
            2
        );
    }
}
