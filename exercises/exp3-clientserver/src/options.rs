//! How a run goes: the well-known name, what a client sends unless told,
//! how long the server works and how long a client waits (`--name`,
//! `--delay`, `--timeout`; `--clients` and `--numbers` are
//! [`ipc_cli::Clients`]), with their defaults.

use std::time::Duration;

use ipc_core::{IpcName, Result};

/// The well-known queue's name in the roles without `--name`:
/// `/ipc-lab-exp3-clientserver`.
pub const NAME: &str = "exp3-clientserver";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_and_numbers() {
        assert_eq!(default_name().unwrap().path(), "/ipc-lab-exp3-clientserver");
        assert_eq!(default_number(2), 7);
    }
}
