//! What the server and the clients need around the lab's own logic (in
//! `lib.rs`), none of it the lesson: a listener with its settings, the
//! default run's end (its server stopped and woken once every client has
//! ended), a bound on the forking server's processes,
//! and the words a role ends with when something went wrong.

use std::time::Duration;

use ipc_cli::{say, say_err};
use ipc_core::connection::{Address, Client, Connection, Listener};
use ipc_core::{Error, Event, OnFailure, Process, Result, join_all_ok, join_all_with, signal};
use nix::errno::Errno;

use crate::protocol::LIMIT;

/// How long the default run's parent waits for the server to take its
/// wake-up call (the server is idle then: every client has ended).
const WAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// Listens on `address` (a Unix socket's file made with mode 0600), with
/// `key` as the authkey every client must prove it knows, each allowed
/// `timeout` for the handshake and [`LIMIT`] bytes per message.
///
/// # Errors
/// As [`Listener::bind`] (`bind 127.0.0.1:6000: Address already in use`:
/// explained on stderr first).
pub fn listen(address: Address, key: &[u8], timeout: Duration) -> Result<Listener> {
    let shown = address.to_string();
    let listener = Listener::bind(address).inspect_err(|error| {
        if error.errno() == Some(Errno::EADDRINUSE) {
            say_err!(
                "Server: {shown} is taken: another server listens there (choose another \
                 address, or port 0 for any free one)"
            );
        }
    })?;
    Ok(listener
        .authkey(key)
        .handshake_timeout(timeout)
        .limit(LIMIT))
}

/// Wakes a server waiting in `accept` with a connection that asks
/// nothing, so that it sees it was told to stop (the default run's
/// parent, once every client has ended). A server already gone is no
/// failure.
pub fn wake(address: &Address, key: &[u8]) {
    // A failure means the server ended by itself (a signal, a failure):
    // its own exit status says why, and the parent reports that.
    let _ = Client::new(address)
        .authkey(key)
        .timeout(WAKE_TIMEOUT)
        .connect();
}

/// Joins the default run's `children`, the server first and its clients
/// after it; once every client has ended while the server still runs,
/// tells the server to stop (sets `stop`, then [`wake`]s it at `address`
/// with `key`).
///
/// # Errors
/// [`Error::ChildFailed`] naming the first process a signal killed or, if
/// none, the first that failed.
pub fn join_stopping_the_server(
    children: &mut [Process],
    stop: &Event,
    address: &Address,
    key: &[u8],
) -> Result<()> {
    let mut stopped = false;
    join_all_with(children, OnFailure::LetOthersRun, |children| {
        let (server, clients) = children.split_at(1);
        if !stopped
            && server[0].exit_status().is_none()
            && clients.iter().all(|c| c.exit_status().is_some())
        {
            stopped = true;
            let _ = stop.set();
            wake(address, key);
        }
    })?;
    join_all_ok(children)
}

/// Reaps the forked handlers that have ended, then, while `max` still
/// run, waits for the oldest: a forking server serves `max` clients at
/// once, at most (each handler is bounded by its connection's timeout).
///
/// # Errors
/// As [`Process::join`] ([`Error::Interrupted`] after Ctrl-C).
pub fn make_room(handlers: &mut Vec<Process>, max: usize) -> Result<()> {
    handlers.retain_mut(|handler| !matches!(handler.try_join(), Ok(Some(_))));
    while handlers.len() >= max {
        handlers[0].join()?;
        handlers.remove(0);
    }
    Ok(())
}

/// True for an error that ends the server itself (Ctrl-C, an output that
/// cannot be written), not only the connection of one client.
pub fn ends_the_server(error: &Error) -> bool {
    matches!(
        error,
        Error::Interrupted | Error::Output { .. } | Error::OutputClosed
    )
}

/// `the client at 127.0.0.1:41234`, or `an unnamed client` (a Python
/// client of a Unix socket).
pub fn client_at(conn: &Connection) -> String {
    conn.peer_address()
        .map_or("an unnamed client".into(), |peer| {
            format!("the client at {peer}")
        })
}

/// What client `n` of the server at `address` ends with, after `outcome`:
/// a failure is first explained on stderr in a student's words (the
/// runner then prints the error itself, naming the call), and Ctrl-C is a
/// last line and a normal end.
///
/// # Errors
/// `outcome`'s error, unless it was [`Error::Interrupted`].
pub fn asked(n: u32, address: &Address, timeout: Duration, outcome: Result<()>) -> Result<()> {
    // Ctrl-C reaches the server too: a connection it closed on its way out
    // (even in the middle of the handshake) is part of the interruption,
    // not a failure of this client's.
    let outcome = match outcome {
        Err(_) if signal::interrupted() => Err(Error::Interrupted),
        other => other,
    };
    let why = match &outcome {
        Err(Error::Timeout) => Some(format!(
            "no answer from the server at {address} within {timeout:?} (is it busy with other \
             clients, or gone?)"
        )),
        Err(Error::Disconnected) => Some(format!(
            "the server at {address} closed the connection before it answered (is it gone?)"
        )),
        Err(Error::Sys {
            call: "connect", ..
        }) => Some(format!(
            "could not reach a server at {address} (start `exp1-sockets server` there first, \
             and check the address)"
        )),
        // A wrong key, or a handshake that never came (a busy or dead
        // server): the error below says which.
        Err(Error::Authentication(_)) => Some(format!(
            "the server at {address} did not let this client in (do both have the same \
             --authkey? is the server busy, or gone?)"
        )),
        _ => None,
    };
    if let Some(why) = why {
        say_err!("Client {n}: {why}");
    }
    signal::end_on_interrupt(outcome, |by| say!("Client {n}: interrupted by {by}"))
}
