//! The pace of a lab run: the pauses the seeds make, and `--fast`.
//!
//! The lab programs pause for seconds so that a student can watch them
//! (`time.sleep(5)` in the seeds). A grading script does not want to wait:
//! [`set_fast`] scales every [`sleep`] by 1/[`FAST_FACTOR`], so that the
//! programs print the same lines in the same order, only a thousand times
//! sooner. A pause notices Ctrl-C and SIGTERM (see [`crate::blocking`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::blocking;
use crate::error::Result;
use crate::trace;

/// How much `--fast` shortens every pause.
pub const FAST_FACTOR: u32 = 1000;

static FAST: AtomicBool = AtomicBool::new(false);

/// Turns fast mode on or off for this process and the children it forks
/// afterwards.
pub fn set_fast(fast: bool) {
    FAST.store(fast, Ordering::Relaxed);
}

/// True when fast mode is on.
pub fn is_fast() -> bool {
    FAST.load(Ordering::Relaxed)
}

/// `duration` as [`sleep`] waits it: divided by [`FAST_FACTOR`] in fast
/// mode.
pub fn scaled(duration: Duration) -> Duration {
    if is_fast() {
        duration / FAST_FACTOR
    } else {
        duration
    }
}

/// Sleeps for `duration` (scaled, see [`scaled`]), waking early when
/// SIGINT or SIGTERM arrives: the seeds' `time.sleep`.
///
/// # Errors
/// [`crate::Error::Interrupted`] when the signal flag is set before or
/// during the pause; it is noticed within [`blocking::POLL_INTERVAL`].
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// ipc_core::pace::set_fast(true);
/// let start = Instant::now();
/// ipc_core::pace::sleep(Duration::from_secs(2)).unwrap();
/// assert!(start.elapsed() < Duration::from_secs(1));
/// ```
pub fn sleep(duration: Duration) -> Result<()> {
    let duration = scaled(duration);
    trace::sleep_begin(duration);
    let slept = blocking::sleep(duration);
    trace::sleep_end();
    slept
}
