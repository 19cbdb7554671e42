//! Waiting on a 32-bit word in shared memory: `futex(2)`.
//!
//! A futex is the kernel's half of a blocking primitive: the user-space half
//! (here, the [`crate::Queue`]) checks its condition with atomics and only
//! asks the kernel to sleep ([`wait`]) when the condition is false, or to
//! wake sleepers ([`wake`]) when it knows somebody sleeps. `FUTEX_WAIT`
//! sleeps only if the word still holds the value the caller last saw, so a
//! change made between the caller's check and its call is never missed.
//!
//! The futexes are *shared* (no `FUTEX_PRIVATE_FLAG`): the kernel keys them
//! by the physical page, so that processes mapping the same shared memory at
//! different addresses wait on the same word.
//!
//! ```
//! use std::sync::atomic::AtomicU32;
//! use std::time::Duration;
//! use ipc_core::sync::futex::{self, Wake};
//!
//! let word = AtomicU32::new(1);
//! // The word is not 0 any more: no sleep at all.
//! assert_eq!(futex::wait(&word, 0, Duration::from_secs(10)).unwrap(), Wake::Changed);
//! assert_eq!(futex::wake(&word, 1).unwrap(), 0, "nobody sleeps");
//! ```

use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::errno::Errno;

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};

/// How a [`wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Woken by [`wake`], or spuriously: look at the condition again.
    Woken,
    /// The word no longer held the expected value (`EAGAIN`): it changed
    /// before the call could sleep.
    Changed,
    /// The timeout ran out (`ETIMEDOUT`).
    TimedOut,
    /// A signal handler ran (`EINTR`).
    Interrupted,
}

/// Sleeps while `*word == expected`, for at most `timeout` (`FUTEX_WAIT`).
///
/// # Errors
/// [`Error::Sys`] naming `futex` for anything but the outcomes of [`Wake`]
/// (`EFAULT`, `EINVAL`, `ENOSYS`), which would be bugs.
pub fn wait(word: &AtomicU32, expected: u32, timeout: Duration) -> Result<Wake> {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a valid, aligned 32-bit word for the duration of the
    // call (a reference); FUTEX_WAIT only reads it. `ts` is a live local the
    // kernel reads as a relative timeout; the last two arguments are ignored
    // by FUTEX_WAIT.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            ptr::null::<u32>(),
            0_u32,
        )
    };
    if rc == 0 {
        return Ok(Wake::Woken);
    }
    match Errno::last() {
        Errno::EAGAIN => Ok(Wake::Changed),
        Errno::ETIMEDOUT => Ok(Wake::TimedOut),
        Errno::EINTR => Ok(Wake::Interrupted),
        errno => Err(Error::call("futex", errno)),
    }
}

/// Waits until `done()` holds, or `deadline`: spins a moment
/// ([`blocking::spin`]), then sleeps on `word` while it holds `expected`,
/// a slice at a time ([`blocking::wait`]), counted in `sleepers` while it
/// sleeps, so that whoever makes `done()` hold changes `word` and, seeing
/// a sleeper, calls [`wake`]. `done()` must hold whenever `word` no
/// longer holds `expected`.
///
/// # Errors
/// As [`blocking::wait`]: [`Error::Timeout`], [`Error::Interrupted`];
/// [`Error::Sys`] naming `futex` (only on a bug).
pub(crate) fn wait_until_done(
    deadline: Deadline,
    word: &AtomicU32,
    expected: u32,
    sleepers: &AtomicU32,
    done: impl Fn() -> bool,
) -> Result<()> {
    // The other side, running on another CPU, usually comes within the
    // spin, sparing both a sleep and a wake-up; the first look of
    // `blocking::wait` sees it.
    blocking::spin(deadline, &done);
    blocking::wait(deadline, |slice| {
        if done() {
            return Ok(Some(()));
        }
        if slice.is_zero() {
            return Ok(None);
        }
        sleepers.fetch_add(1, Ordering::SeqCst);
        let slept = wait(word, expected, slice);
        sleepers.fetch_sub(1, Ordering::SeqCst);
        slept?;
        Ok(done().then_some(()))
    })
}

/// Wakes at most `count` processes sleeping in [`wait`] on `word`
/// (`FUTEX_WAKE`); returns how many were woken.
///
/// # Errors
/// [`Error::Sys`] naming `futex` (only on a bug, such as a bad address).
pub fn wake(word: &AtomicU32, count: u32) -> Result<usize> {
    let count = count.min(i32::MAX as u32) as libc::c_int;
    // SAFETY: `word` is a valid, aligned 32-bit word (a reference);
    // FUTEX_WAKE does not even read it, it only uses its address as the key.
    // The remaining arguments are ignored by FUTEX_WAKE.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            count,
            ptr::null::<libc::timespec>(),
            ptr::null::<u32>(),
            0_u32,
        )
    };
    if rc < 0 {
        Err(Error::call("futex", Errno::last()))
    } else {
        Ok(rc as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_changed_word_does_not_sleep() {
        let word = AtomicU32::new(1);
        assert_eq!(
            wait(&word, 0, Duration::from_secs(10)).unwrap(),
            Wake::Changed
        );
    }

    #[test]
    fn an_unchanged_word_sleeps_until_the_timeout() {
        let word = AtomicU32::new(7);
        let start = Instant::now();
        let mut outcome = wait(&word, 7, Duration::from_millis(20)).unwrap();
        // A spurious wake-up is allowed; sleep again for what is left.
        while outcome == Wake::Woken && start.elapsed() < Duration::from_millis(20) {
            outcome = wait(&word, 7, Duration::from_millis(20)).unwrap();
        }
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn wake_reaches_a_sleeping_thread() {
        let word = AtomicU32::new(0);
        std::thread::scope(|s| {
            let sleeper = s.spawn(|| {
                while word.load(Ordering::SeqCst) == 0 {
                    let _ = wait(&word, 0, Duration::from_secs(30)).unwrap();
                }
            });
            std::thread::sleep(Duration::from_millis(10));
            word.store(1, Ordering::SeqCst);
            wake(&word, u32::MAX).unwrap();
            sleeper.join().unwrap();
        });
        assert_eq!(wake(&word, 1).unwrap(), 0, "nobody sleeps any more");
    }
}
