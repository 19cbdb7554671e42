//! Seed 004 theory: "Client-Server Applications: Clients may communicate
//! with servers using sockets, RPCs, or message queues", and
//! "Distributed Systems: Different nodes in a distributed system might use
//! sockets".
//!
//! exp3-clientserver's server and clients, over stream sockets instead of
//! message queues. The server listens on an address every client knows (a
//! TCP port, or a Unix socket's path); a client connects, and the two get
//! a connection of their own that goes both ways, so no reply queue is
//! needed. Both prove they know the run's authkey, then the client sends a
//! number and receives its square:
//!
//! ```text
//! client 2                                server
//!                                          Listener::bind("127.0.0.1:0")
//!   Client::new(address).connect() ─────▶  accept (and the authkey handshake)
//!   send "square 2 7" ──────────────────▶  recv, compute 7 × 7
//!   recv ◀───────────────────────────────  send "49"
//!   close ──────────────────────────────▶  recv: the end of the stream
//! ```
//!
//! The server takes its clients one after another, or forks a process for
//! each (`--fork`). [`run`] forks a server and its clients; [`roles`]
//! runs one of them alone, in a terminal of its own or on another machine;
//! [`protocol`] is the messages' text; [`support`] what they need around
//! the lesson; [`options`] how a run goes; [`extras`] the command line's
//! values; [`framing`] shows why a stream of bytes needs frames.

#![warn(missing_docs)]

pub mod extras;
pub mod framing;
pub mod options;
pub mod protocol;
pub mod roles;
pub mod support;

use ipc_cli::say;
use ipc_core::blocking::Deadline;
use ipc_core::connection::{Address, Client, Connection, Listener};
use ipc_core::{Error, Event, OnFailure, Process, Result, Value, join_all_with, pace, signal};

use options::{Config, MAX_HANDLERS};
use protocol::{Reply, Request};

/// The server: accepts clients on `listener`, serving each in turn, or
/// each in a process forked for it (`handler 1`, `handler 2`, … with
/// [`Config::fork`]), until `stop` is set (the default run's parent, once
/// every client has ended) or SIGINT/SIGTERM; then prints `Server
/// answered N requests`. A client that fails the handshake, misbehaves or
/// goes away is dropped with a line; the server goes on.
///
/// # Errors
/// [`Error::Sys`] naming `accept` or `fork`; a failed print.
pub fn server(listener: &mut Listener, config: &Config, stop: Option<&Event>) -> Result<()> {
    // Shared memory: each forked handler adds its own answers.
    let answered = Value::new(0_u64)?;
    let mut handlers = Vec::new();
    let served = serve(listener, config, stop, &answered, &mut handlers);
    let joined = join_all_with(&mut handlers, OnFailure::LetOthersRun, |_| {});
    let served = served.and(joined.map(drop));
    let served = signal::end_on_interrupt(served, |by| say!("Server: interrupted by {by}"));
    let n = answered.get()?;
    say!(
        "Server answered {n} request{}",
        if n == 1 { "" } else { "s" }
    )?;
    served
}

fn serve(
    listener: &mut Listener,
    config: &Config,
    stop: Option<&Event>,
    answered: &Value<u64>,
    handlers: &mut Vec<Process>,
) -> Result<()> {
    let mut accepted = 0_u64;
    loop {
        let mut conn = match listener.accept() {
            Ok(conn) => conn,
            Err(Error::Authentication(why)) => {
                say!("Server: a client refused: {why}")?;
                continue;
            }
            Err(error) => return Err(error),
        };
        if stop.is_some_and(Event::is_set) {
            return Ok(());
        }
        conn.set_timeout(Some(config.timeout));
        accepted = accepted.saturating_add(1);
        if config.fork {
            support::make_room(handlers, MAX_HANDLERS)?;
            handlers.push(Process::spawn(format!("handler {accepted}"), || {
                signal::end_on_interrupt(serve_one(&mut conn, config, answered), |_| Ok(()))
            })?);
        } else {
            serve_one(&mut conn, config, answered)?;
        }
    }
}

/// Serves one client and counts its answers; a client that misbehaves or
/// goes away is dropped with a line.
fn serve_one(conn: &mut Connection, config: &Config, answered: &Value<u64>) -> Result<()> {
    match serve_client(conn, config) {
        Ok(count) => answered.update(|n| n.saturating_add(count)).map(drop),
        Err(error) if support::ends_the_server(&error) => Err(error),
        Err(error) => say!("Server: dropped {}: {error}", support::client_at(conn)),
    }
}

/// Answers one client's requests, each after [`Config::delay`] (the
/// work), until it closes its end of the connection; returns how many
/// squares it sent. A request that is none is answered `error: …` and
/// printed.
///
/// # Errors
/// As [`Connection::recv`] and [`Connection::send`]: no request within
/// the connection's timeout, a client gone in the middle, a message
/// above [`protocol::LIMIT`].
fn serve_client(conn: &mut Connection, config: &Config) -> Result<u64> {
    let mut answered = 0;
    loop {
        // STUDENT: receive a Request (the end of the stream ends the loop), send its answer after the delay, count the squares
        let request: Request = match conn.recv() {
            Ok(request) => request,
            Err(Error::Disconnected) => return Ok(answered),
            Err(error) => return Err(error),
        };
        pace::sleep(config.delay)?; // the work
        let reply = request.answer();
        if let Reply::Refused(why) = &reply {
            say!("Server: a request refused: {why}")?;
        } else {
            answered += 1;
        }
        conn.send(&reply)?;
        // END STUDENT
    }
}

/// Client `n`: connects to the server at `address` proving it knows
/// `key`, asks for the square of `number`, and prints `Client 2 sent 7,
/// received 49`; all within [`Config::timeout`].
///
/// # Errors
/// As [`Client::connect_until`] (`connect 127.0.0.1:6000: Connection
/// refused`, [`Error::Authentication`] for another key),
/// [`Connection::send`] and [`Connection::recv`] ([`Error::Timeout`],
/// [`Error::Disconnected`], the server's refusal).
pub fn client(address: &Address, key: &[u8], n: u32, number: i64, config: &Config) -> Result<()> {
    let deadline = Deadline::after(config.timeout);
    // STUDENT: connect with the authkey by the deadline, send a Request::Square, receive the Reply, print it
    let mut conn = Client::new(address).authkey(key).connect_until(deadline)?;
    conn.set_timeout(deadline.remaining());
    conn.send(&Request::Square { client: n, number })?;
    let reply: Reply = conn.recv()?;
    say!("Client {n} sent {number}, received {reply}")?;
    // END STUDENT
    Ok(())
}

/// The default run: listens on `address` (`127.0.0.1:0`: a port the
/// kernel chooses) with a fresh authkey, forks the server and a client
/// per number of `numbers` (client `n` sends `numbers[n - 1]`), each
/// given the address and the key, and stops the server once every client
/// has ended.
///
/// # Errors
/// As [`Listener::bind`]; [`Error::ChildFailed`] naming the first process
/// a signal killed or, if none, the first that failed.
pub fn run(address: Address, numbers: &[i64], config: &Config) -> Result<()> {
    let key = extras::fresh_key();
    let mut listener = support::listen(address, key.as_bytes(), config.timeout)?;
    let address = listener.address().clone();
    let stop = Event::new()?;
    let mut children = vec![Process::spawn("server", || {
        server(&mut listener, config, Some(&stop))
    })?];
    for (n, &number) in (1..).zip(numbers) {
        let (address, key) = (&address, key.as_bytes());
        children.push(Process::spawn(format!("client {n}"), move || {
            let asked = client(address, key, n, number, config);
            support::asked(n, address, config.timeout, asked)
        })?);
    }
    // Once every client has ended, the server is told to stop.
    support::join_stopping_the_server(&mut children, &stop, &address, key.as_bytes())
}
