//! The two roles alone, each in a terminal of its own or on a machine of
//! its own: `exp1-sockets server` and `exp1-sockets client N`.

use ipc_cli::say;
use ipc_core::Result;
use ipc_core::connection::Address;

use crate::options::{Config, default_number};
use crate::{client, extras, server, support};

/// The `server` role: listens on `address` with `key` (a fresh one,
/// printed, without it) and serves until Ctrl-C.
///
/// # Errors
/// As [`ipc_core::connection::Listener::bind`] and [`server`].
pub fn run_server(address: Address, key: Option<String>, config: &Config) -> Result<()> {
    let fresh = key.is_none();
    let key = key.unwrap_or_else(extras::fresh_key);
    let mut listener = support::listen(address, key.as_bytes(), config.timeout)?;
    let how = if config.fork {
        "a process per client"
    } else {
        "one client at a time"
    };
    let (pid, at) = (std::process::id(), listener.address());
    say!("Server (pid {pid}) listening on {at} ({how}); Ctrl-C to stop")?;
    if fresh {
        say!("Server: clients connect with --authkey {key}")?;
    }
    server(&mut listener, config, None)
}

/// The `client N` role: [`client`] of the server at `address`, sending
/// `number` (`N + 5` without it).
///
/// # Errors
/// As [`client`], explained first.
pub fn run_client(
    address: &Address,
    key: &str,
    n: u32,
    number: Option<i64>,
    config: &Config,
) -> Result<()> {
    let number = number.unwrap_or_else(|| default_number(n));
    let pid = std::process::id();
    say!("Client {n} (pid {pid}) connects to {address} and sends {number}")?;
    let asked = client(address, key.as_bytes(), n, number, config);
    support::asked(n, address, config.timeout, asked)
}
