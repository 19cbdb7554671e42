//! How a run goes: the well-known name, how many clients and what they
//! send, how long the server works and how long a client waits
//! (`--name`, `--clients`, `--delay`, `--timeout`; `--numbers` is in
//! [`crate::extras`]), with their defaults.

use std::time::Duration;

use ipc_core::{IpcName, Result};

/// The well-known queue's name in the roles without `--name`:
/// `/ipc-lab-exp3-clientserver`.
pub const NAME: &str = "exp3-clientserver";

/// Clients in the default run unless `--clients` says otherwise.
pub const DEFAULT_CLIENTS: u32 = 3;

/// How long the server works on a request unless `--delay` says otherwise.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(200);

/// How long a client waits for a server that does not answer unless
/// `--timeout` says otherwise (see [`crate::recovery::Patience`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long the server works on each request (a pause, scaled by
    /// `--fast`).
    pub delay: Duration,
    /// How long a client waits for the server (to appear, to take its
    /// request, to answer) before it looks whether the server is still
    /// there: a server that is gone ends the wait, one that is alive but
    /// busy gets [`crate::recovery::BUSY_PATIENCE`] times longer.
    pub timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            delay: DEFAULT_DELAY,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The well-known queue of the roles without `--name`.
///
/// # Errors
/// None in practice: [`NAME`] is a valid name.
pub fn default_name() -> Result<IpcName> {
    IpcName::new(NAME)
}

/// The number client `n` sends unless told: `n + 5` (client 2 sends 7).
pub fn default_number(n: u32) -> i64 {
    i64::from(n) + 5
}

/// What the default run's clients send: `numbers` (`--numbers`), or `N + 5`
/// for each of `clients` clients.
pub fn numbers_of(numbers: Option<Vec<i64>>, clients: u32) -> Vec<i64> {
    numbers.unwrap_or_else(|| (1..=clients).map(default_number).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_and_numbers() {
        assert_eq!(default_name().unwrap().path(), "/ipc-lab-exp3-clientserver");
        assert_eq!(default_number(2), 7);
        assert_eq!(numbers_of(None, 3), [6, 7, 8]);
        assert_eq!(numbers_of(Some(vec![-4]), 3), [-4]);
    }
}
