//! How a run goes: how many clients and what they send, how long the
//! server works and how long either side waits (`--clients`, `--delay`,
//! `--timeout`, `--fork`; `--numbers` and the addresses are in
//! [`crate::extras`]), with their defaults.

use std::time::Duration;

/// How long the server works on a request unless `--delay` says otherwise.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(200);

/// How long a client waits for the server, and the server for a client,
/// unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How many clients a forking server serves at once, at most.
pub const MAX_HANDLERS: usize = 16;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long the server works on each request (a pause, scaled by
    /// `--fast`).
    pub delay: Duration,
    /// How long a client waits for the server (to connect, to answer),
    /// and the server for a client (its handshake, its next request).
    pub timeout: Duration,
    /// Fork a process per client instead of serving one after another.
    pub fork: bool,
}

/// The number client `n` sends unless told: `n + 5` (client 2 sends 7).
pub fn default_number(n: u32) -> i64 {
    i64::from(n) + 5
}
