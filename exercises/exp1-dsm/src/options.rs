//! What exp1-dsm's roles are told: where the counter is ([`Place`]) and
//! what one worker does ([`Work`]), with their defaults.

use std::time::Duration;

use ipc_net::{BucketName, Key};

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
