//! The two roles for two terminals (`server`, `client N`), on the default
//! well-known queue unless `--name` says otherwise, and the end of a
//! role after Ctrl-C.

use ipc_cli::say;
use ipc_core::{IpcName, Result, signal};

use crate::options::{Config, default_name, default_number};

/// The `server` role: [`crate::server`] on `name` (the default name
/// without it), until Ctrl-C.
///
/// # Errors
/// As [`crate::server`].
pub fn run_server(name: Option<IpcName>, config: &Config) -> Result<()> {
    let name = name.map_or_else(default_name, Ok)?;
    crate::server(&name, config, true)
}

/// The `client N` role: [`crate::client`] against the server `name` (the
/// default name without it), sending `number` (`N + 5` without it).
///
/// # Errors
/// As [`crate::client`].
pub fn run_client(
    name: Option<IpcName>,
    n: u32,
    number: Option<i64>,
    config: &Config,
) -> Result<()> {
    let name = name.map_or_else(default_name, Ok)?;
    let number = number.unwrap_or_else(|| default_number(n));
    interruptible(n, || crate::client(&name, n, number, config, true))
}

/// Runs client `n`, turning SIGINT/SIGTERM into a last line and a normal
/// end.
///
/// # Errors
/// The client's error, but `Interrupted`.
pub fn interruptible(n: u32, client: impl FnOnce() -> Result<()>) -> Result<()> {
    signal::end_on_interrupt(client(), |by| say!("Client {n}: interrupted by {by}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ipc_core::Error;
    use ipc_core::mqueue::MessageQueue;

    use super::*;

    #[test]
    fn a_client_without_a_server_gives_up_and_removes_its_queue() {
        let server = IpcName::unique("exp3-clientserver-nobody").unwrap();
        let config = Config {
            delay: Duration::ZERO,
            timeout: Duration::from_millis(50),
        };
        let error = crate::client(&server, 1, 6, &config, false).unwrap_err();
        assert!(matches!(error, Error::Timeout), "{error}");
        let reply = crate::protocol::reply_name(&server, std::process::id()).unwrap();
        assert!(!MessageQueue::exists(&reply).unwrap());
    }
}
