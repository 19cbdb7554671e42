//! How a run goes: the sizes, the pauses and the bounds of every wait
//! (`--capacity`, `--producers`, `--consumers`, `--items`, `--delay`,
//! `--timeout`, `--condition`, `--no-sync`, `--quiet`), with their defaults. The sizes
//! are never 0: clap refuses it, and the types keep it so.

use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::time::Duration;

/// Slots in the ring unless `--capacity` says otherwise.
pub const DEFAULT_CAPACITY: NonZeroU32 = NonZeroU32::new(5).unwrap();
/// Producer processes unless `--producers` says otherwise.
pub const DEFAULT_PRODUCERS: NonZeroUsize = NonZeroUsize::new(2).unwrap();
/// Consumer processes unless `--consumers` says otherwise.
pub const DEFAULT_CONSUMERS: NonZeroUsize = NonZeroUsize::new(2).unwrap();
/// Items in all unless `--items` says otherwise.
pub const DEFAULT_ITEMS: NonZeroU64 = NonZeroU64::new(20).unwrap();
/// How long producing or consuming one item takes, unless `--delay`.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(100);
/// How long a process waits for a slot, an item or the lock before it
/// gives up, unless `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Config {
    /// Slots in the ring.
    pub capacity: NonZeroU32,
    /// Producer processes.
    pub producers: NonZeroUsize,
    /// Consumer processes.
    pub consumers: NonZeroUsize,
    /// Items in all.
    pub items: NonZeroU64,
    /// How long producing or consuming one item takes (a pause, scaled by
    /// `--fast`).
    pub delay: Duration,
    /// How long a wait may last before the process gives up: every wait
    /// is bounded, so that a dead process never hangs the others.
    pub timeout: Duration,
    /// With the semaphores and the mutex (false: `--no-sync`).
    pub sync: bool,
    /// With one condition and its lock instead of the semaphores and the
    /// mutex (`--condition`; only when [`Config::sync`]).
    pub condition: bool,
    /// Print only the summary line.
    pub quiet: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capacity: DEFAULT_CAPACITY,
            producers: DEFAULT_PRODUCERS,
            consumers: DEFAULT_CONSUMERS,
            items: DEFAULT_ITEMS,
            delay: DEFAULT_DELAY,
            timeout: DEFAULT_TIMEOUT,
            sync: true,
            condition: false,
            quiet: false,
        }
    }
}
