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
//! Beside the workers and their update: where the counter is and what a
//! worker is told in [`options`]; opening, reading and resetting the
//! counter, and the errors that name it, in `counter.rs` (methods of
//! [`Counter`]); the option to start fewer workers (`--workers`) and the
//! expected total in [`extras`]; the roles, their flags and command lines,
//! and the run that starts the workers ([`roles::run`]) in [`roles`].

mod counter;
pub mod extras;
pub mod options;
pub mod roles;

use std::time::{Duration, Instant};

pub use extras::{expected_total, expected_total_of};
use ipc_cli::say;
use ipc_core::Deadline;
use ipc_net::{Bucket, Connection, Gate, Key, Result, RunId, announce_ready};
pub use options::{DEFAULT_BUCKET, DEFAULT_COUNTER, DEFAULT_PASSES, DEFAULT_TIMEOUT, Place, Work};

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
    /// One update, `v = v + 1`: read the value, add 1, write the sum. With
    /// compare-and-set, a write refused because another worker wrote first
    /// is retried (until `deadline`); returns how many times.
    ///
    /// # Errors
    /// [`ipc_net::Error::Timeout`] when compare-and-set kept failing until
    /// the deadline; [`ipc_net::Error::BadMessage`] when the counter is full
    /// (another program wrote `u64::MAX`); as [`Counter::read`].
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
