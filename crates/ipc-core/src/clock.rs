//! Sleeps that honour `--fast` and notice Ctrl-C.
//!
//! The lab programs pause for seconds so that a student can watch them. A
//! grading script does not want to wait: [`set_fast`] scales every
//! [`sleep`] by 1/1000, so that the programs print the same lines with the
//! same rhythm, only a thousand times sooner.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::signal;

/// How much `--fast` shortens every sleep.
pub const FAST_FACTOR: u32 = 1000;

/// The longest a sleep goes without looking at the signal flag.
const SLICE: Duration = Duration::from_millis(50);

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

/// `duration` as [`sleep`] would wait it: divided by [`FAST_FACTOR`] in
/// fast mode.
pub fn scaled(duration: Duration) -> Duration {
    if is_fast() {
        duration / FAST_FACTOR
    } else {
        duration
    }
}

/// Sleeps for `duration` (scaled, see [`scaled`]), waking early when
/// SIGINT or SIGTERM arrives.
///
/// # Errors
/// [`crate::Error::Interrupted`] when the signal flag is set before or
/// during the sleep; it is noticed within 50 ms.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// ipc_core::clock::set_fast(true);
/// let start = Instant::now();
/// ipc_core::clock::sleep(Duration::from_secs(2)).unwrap();
/// assert!(start.elapsed() < Duration::from_secs(1));
/// ```
pub fn sleep(duration: Duration) -> Result<()> {
    let deadline = Instant::now() + scaled(duration);
    loop {
        signal::check()?;
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        // nanosleep(2) is cut short by a signal; the slice bounds the
        // delay when the signal lands just before the call.
        std::thread::sleep((deadline - now).min(SLICE));
    }
}
