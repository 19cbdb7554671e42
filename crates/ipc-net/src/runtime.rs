//! The private async runtime behind the blocking API.
//!
//! `async-nats` is asynchronous; the experiments are plain blocking
//! programs, like the rest of ipc-lab. Every call of this crate runs its
//! future on one current-thread `tokio` runtime, private to the process
//! and created on first use. Until then the process has no runtime and no
//! extra thread, so it may still `fork` (ipc-core's `Process`); after it,
//! it must not fork without `exec` (std's `Command` is fine).
//!
//! Every wait here is bounded three ways: by its deadline, by SIGINT or
//! SIGTERM (the flag of `ipc_core::signal`), both looked at every
//! `ipc_core::blocking::POLL_INTERVAL`, the one interval of ipc-core's
//! blocking-call layer, and by a connection that stays down longer than
//! its grace.

use std::future::Future;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ipc_core::blocking::Deadline;
use tokio::runtime::Runtime;

use crate::error::{Error, Result};

/// How often a wait looks at the signal flag and the connection: the one
/// interval of ipc-core's blocking-call layer.
pub(crate) const SLICE: Duration = ipc_core::blocking::POLL_INTERVAL;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, created on first use.
pub(crate) fn runtime() -> Result<&'static Runtime> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    static CREATING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("creating the tokio runtime", e))?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

/// True once this process has created its runtime: from then on it must
/// not `fork` without `exec`.
pub fn started() -> bool {
    RUNTIME.get().is_some()
}

/// Why a wait ended before its future did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGINT or SIGTERM arrived.
    Signal,
    /// The deadline passed.
    Deadline,
    /// The connection stayed down for longer than its grace.
    Lost,
}

/// What a wait watches besides its future: a connection's state.
pub(crate) struct Watch<'a> {
    pub(crate) client: &'a async_nats::Client,
    /// Since when the connection has been down (kept by the connection's
    /// event callback, across waits).
    pub(crate) down_since: &'a Mutex<Option<Instant>>,
    pub(crate) grace: Duration,
}

/// Runs `future` to completion on the runtime, unless `limit` runs out,
/// a signal arrives or `watch`'s connection stays down for longer than its
/// grace.
pub(crate) fn drive<F: Future>(
    future: F,
    limit: Option<Duration>,
    watch: Option<Watch<'_>>,
) -> Result<std::result::Result<F::Output, Stop>> {
    let runtime = runtime()?;
    let deadline = Deadline::within(limit);
    Ok(runtime.block_on(async {
        let mut future = std::pin::pin!(future);
        loop {
            if ipc_core::signal::interrupted() {
                return Err(Stop::Signal);
            }
            let slice = deadline.slice();
            // The future is polled at least once, even with no time left:
            // a zero timeout takes what is ready.
            if let Ok(output) = tokio::time::timeout(slice, future.as_mut()).await {
                return Ok(output);
            }
            let now = Instant::now();
            if let Some(watch) = &watch {
                let connected =
                    watch.client.connection_state() == async_nats::connection::State::Connected;
                let since = *watch
                    .down_since
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if !connected && since.is_some_and(|since| now.duration_since(since) >= watch.grace)
                {
                    return Err(Stop::Lost);
                }
            }
            if deadline.has_passed() {
                return Err(Stop::Deadline);
            }
        }
    }))
}

/// Sleeps for `duration` (not scaled by `--fast`: it bounds a retry, it
/// is no pause for the eye), waking early on SIGINT or SIGTERM.
///
/// # Errors
/// [`Error::Core`] with `Interrupted` on a signal.
pub(crate) fn pause(duration: Duration) -> Result<()> {
    Ok(ipc_core::blocking::sleep(duration)?)
}
