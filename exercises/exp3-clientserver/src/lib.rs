//! Seed 001 theory: "applications using IPC are categorized as clients
//! and servers … Client requests data and the Server responds to client
//! requests", over message queues.
//!
//! The server creates a POSIX message queue under a name every client
//! knows (the *well-known* queue). Each client creates a queue of its own
//! for the answer (its *reply queue*), sends a request naming it to the
//! server's queue, and waits on its reply queue; the server takes the
//! requests one by one and sends each answer to the queue the request
//! names. Here a client sends a number and receives its square:
//!
//! ```text
//! client 2                     server
//!   create /ipc-lab-PID-…-reply
//!   send "square 2 7 …-reply" ──▶ /ipc-lab-exp3-clientserver
//!                                 receive, compute 7 × 7
//!   receive ◀──────────────────── send "49" to …-reply
//! ```
//!
//! [`server`] and [`client`] are the two roles; [`run`] forks a server and
//! a few clients; [`protocol`] is the text of the messages; the option to
//! choose what the clients send (`--numbers`) is in [`extras`].

pub mod extras;
pub mod protocol;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::blocking::{self, Deadline};
use ipc_core::mqueue::{Limits, MessageQueue};
use ipc_core::{
    Error, IpcName, OnFailure, Process, Result, join_all_ok, join_all_with, pace, signal,
};

use protocol::{REPLY_SIZE, REQUEST_SIZE, Request};

/// The well-known queue's name in the roles without `--name`:
/// `/ipc-lab-exp3-clientserver`.
pub const NAME: &str = "exp3-clientserver";

/// Clients in the default run unless `--clients` says otherwise.
pub const DEFAULT_CLIENTS: u32 = 3;

/// How long the server works on a request unless `--delay` says otherwise.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(200);

/// How long a client waits for the server unless `--timeout` says
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The server queue's capacity, if the system allows it
/// (`/proc/sys/fs/mqueue/msg_max`, 10 by default).
pub const SERVER_CAPACITY: usize = 10;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long the server works on each request (a pause, scaled by
    /// `--fast`).
    pub delay: Duration,
    /// How long a client waits for the server (to appear, to take its
    /// request, to answer) before it gives up.
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

/// The server: creates the well-known queue `name` (mode 0600), answers
/// requests one by one until a `stop` request, SIGINT or SIGTERM, prints
/// `Server answered N requests` and removes the queue. With `announce`
/// (the `server` role) it first says where it listens.
///
/// A request whose answer cannot be delivered (its client is gone, with
/// its reply queue) is logged and skipped: one client never stops the
/// server.
///
/// # Errors
/// As [`MessageQueue::create`] (`File exists` when another server uses the
/// name, or a killed one left it behind).
pub fn server(name: &IpcName, config: &Config, announce: bool) -> Result<()> {
    let capacity = Limits::read()?.msg_max.min(SERVER_CAPACITY);
    let queue = MessageQueue::create(name, capacity, REQUEST_SIZE).inspect_err(|_| {
        if MessageQueue::exists(name).unwrap_or(false) {
            ipc_cli::say_err!(
                "Server: {} exists: another server is running, or a killed one left it \
                 (scripts/clean.sh {NAME} removes it)",
                name.path()
            );
        }
    })?;
    if announce {
        say!(
            "Server (pid {}) listening on {} (mode 0600); Ctrl-C to stop",
            std::process::id(),
            name.path()
        )?;
    }
    let mut answered = 0_u64;
    let served = serve(&queue, name, config, &mut answered);
    let served = signal::end_on_interrupt(served, |by| say!("Server: interrupted by {by}"));
    let requests = if answered == 1 { "request" } else { "requests" };
    say!("Server answered {answered} {requests}")?;
    served
}

fn serve(queue: &MessageQueue, name: &IpcName, config: &Config, answered: &mut u64) -> Result<()> {
    let mut buf = vec![0; queue.msgsize()];
    loop {
        // STUDENT: receive a request, parse it; `stop` ends, a square is answered after the delay
        let (len, _priority) = queue.receive(&mut buf)?;
        match Request::parse(&buf[..len], name) {
            Ok(Request::Stop) => return Ok(()),
            Ok(Request::Square {
                client,
                number,
                reply,
            }) => {
                pace::sleep(config.delay)?; // the work
                match answer(&reply, number) {
                    Ok(()) => *answered += 1,
                    Err(error) => {
                        say!("Server: no answer to client {client}: {error} (the client is gone)")?
                    }
                }
            }
            Err(why) => say!("Server: a request ignored: {why}")?,
        }
        // END STUDENT
    }
}

/// Sends the square of `number` to the queue `reply`, then removes that
/// queue's name: the client reads the answer through the descriptor it
/// holds, and a client killed while it waited leaves nothing behind.
fn answer(reply: &IpcName, number: i64) -> Result<()> {
    let queue = MessageQueue::open(reply)?;
    queue.send_timeout(protocol::answer(number).as_bytes(), 0, Duration::ZERO)?;
    let _ = MessageQueue::remove_existing(reply);
    Ok(())
}

/// Client `n`: creates its reply queue, sends `number` to the server's
/// queue `server`, waits for the answer and prints
/// `Client 2 sent 7, received 49`. With `announce` (the `client` role) it
/// first says what it is about to do. Its reply queue is removed on every
/// ending.
///
/// # Errors
/// [`Error::Timeout`] when the server's queue does not exist, stays full,
/// or no answer comes within [`Config::timeout`] (explained on stderr
/// first); [`Error::Interrupted`] after SIGINT or SIGTERM.
pub fn client(
    server: &IpcName,
    n: u32,
    number: i64,
    config: &Config,
    announce: bool,
) -> Result<()> {
    let reply_name = protocol::reply_name(server, std::process::id())?;
    let reply = MessageQueue::create(&reply_name, 1, REPLY_SIZE)?;
    if announce {
        say!(
            "Client {n} (pid {}) sends {number} to {}, for an answer in {}",
            std::process::id(),
            server.path(),
            reply_name.path()
        )?;
    }
    let deadline = Deadline::after(config.timeout);
    let left = || deadline.remaining().unwrap_or(Duration::MAX);
    // STUDENT: open the server's queue, send a Request::Square, wait on `reply`, print
    let queue = gave_up(open_server(server, deadline), || {
        format!(
            "Client {n}: no server at {} within {:?} (start `exp3-clientserver server` first)",
            server.path(),
            config.timeout
        )
    })?;
    let request = Request::Square {
        client: n,
        number,
        reply: reply_name,
    };
    gave_up(
        queue.send_timeout(request.to_text().as_bytes(), 0, left()),
        || {
            format!(
                "Client {n}: the server's queue {} stayed full for {:?} (is the server gone?)",
                server.path(),
                config.timeout
            )
        },
    )?;
    let mut buf = vec![0; reply.msgsize()];
    let (len, _) = gave_up(reply.receive_timeout(&mut buf, left()), || {
        format!(
            "Client {n}: no answer from the server at {} within {:?} (is it gone?)",
            server.path(),
            config.timeout
        )
    })?;
    let answer = String::from_utf8_lossy(&buf[..len]);
    say!("Client {n} sent {number}, received {answer}")?;
    // END STUDENT
    Ok(())
}

/// Opens the server's queue, waiting until `deadline` for a server to
/// create it.
fn open_server(server: &IpcName, deadline: Deadline) -> Result<MessageQueue> {
    blocking::wait(deadline, |slice| match MessageQueue::open(server) {
        Ok(queue) => Ok(Some(queue)),
        Err(error) if error.is_not_found() => {
            std::thread::sleep(slice.min(Duration::from_millis(10)));
            Ok(None)
        }
        Err(error) => Err(error),
    })
}

/// A client's wait's outcome; on a timeout, explains it on stderr first.
fn gave_up<T>(outcome: Result<T>, explain: impl FnOnce() -> String) -> Result<T> {
    if let Err(Error::Timeout) = outcome {
        ipc_cli::say_err!("{}", explain());
    }
    outcome
}

/// Tells the server `name` to stop serving (the default run's parent, once
/// every client has ended).
fn stop_server(name: &IpcName) -> Result<()> {
    let queue = MessageQueue::open(name)?;
    queue.send_timeout(
        Request::Stop.to_text().as_bytes(),
        0,
        Duration::from_secs(1),
    )
}

/// The default run: forks the server and `clients` clients (client `n`
/// sends `n + 5`) on the well-known queue `name` (a fresh one without it),
/// waits for all of them, and makes sure no queue outlives the run.
///
/// # Errors
/// [`Error::ChildFailed`] naming the first process a signal killed or, if
/// none, the first that failed.
pub fn run(name: Option<IpcName>, clients: u32, config: &Config) -> Result<()> {
    let numbers: Vec<i64> = (1..=clients).map(default_number).collect();
    run_with(name, &numbers, config)
}

/// As [`run`], with a client per number of `numbers` (`--numbers`,
/// checked by [`extras::numbers`]): client `n` sends `numbers[n - 1]`.
///
/// # Errors
/// As [`run`].
pub fn run_with(name: Option<IpcName>, numbers: &[i64], config: &Config) -> Result<()> {
    let name = match name {
        Some(name) => name,
        None => IpcName::unique(NAME)?,
    };
    let mut children = vec![Process::spawn("server", || server(&name, config, false))?];
    for (n, &number) in (1..).zip(numbers) {
        children.push(Process::spawn(format!("client {n}"), || {
            interruptible("Client", n, || client(&name, n, number, config, false))
        })?);
    }
    let replies = children[1..]
        .iter()
        .map(|c| protocol::reply_name(&name, c.pid().as_raw() as u32))
        .collect::<Result<Vec<_>>>()?;
    let mut removed = vec![false; replies.len()];
    let mut stopped = false;
    join_all_with(&mut children, OnFailure::LetOthersRun, |children| {
        let (server, clients) = children.split_at(1);
        // A client that died: remove its reply queue now. The server's
        // answer to it then fails (and is logged) instead of filling a
        // queue nobody reads.
        for (i, child) in clients.iter().enumerate() {
            if !removed[i] && child.exit_status().is_some_and(|s| !s.success()) {
                let _ = MessageQueue::remove_existing(&replies[i]);
                removed[i] = true;
            }
        }
        // Every client has ended: the server may stop.
        if !stopped
            && server[0].exit_status().is_none()
            && clients.iter().all(|c| c.exit_status().is_some())
        {
            stopped = true;
            let _ = stop_server(&name);
        }
    })?;
    // Whatever ended the run (a process killed with SIGKILL cannot remove
    // its own queue), no queue outlives it.
    for reply in &replies {
        let _ = MessageQueue::remove_existing(reply);
    }
    let _ = MessageQueue::remove_existing(&name);
    join_all_ok(&mut children)
}

/// The `server` role: [`server`] on `name` (the default name without it),
/// until Ctrl-C.
///
/// # Errors
/// As [`server`].
pub fn run_server(name: Option<IpcName>, config: &Config) -> Result<()> {
    let name = match name {
        Some(name) => name,
        None => default_name()?,
    };
    server(&name, config, true)
}

/// The `client N` role: [`client`] against the server `name` (the default
/// name without it), sending `number` (`N + 5` without it).
///
/// # Errors
/// As [`client`].
pub fn run_client(
    name: Option<IpcName>,
    n: u32,
    number: Option<i64>,
    config: &Config,
) -> Result<()> {
    let name = match name {
        Some(name) => name,
        None => default_name()?,
    };
    let number = number.unwrap_or_else(|| default_number(n));
    interruptible("Client", n, || client(&name, n, number, config, true))
}

/// Runs a role, turning SIGINT/SIGTERM into a last line and a normal end.
fn interruptible(role: &str, n: u32, part: impl FnOnce() -> Result<()>) -> Result<()> {
    signal::end_on_interrupt(part(), |by| say!("{role} {n}: interrupted by {by}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_and_numbers() {
        assert_eq!(default_name().unwrap().path(), "/ipc-lab-exp3-clientserver");
        assert_eq!(default_number(2), 7);
    }

    #[test]
    fn a_client_without_a_server_gives_up_and_removes_its_queue() {
        let server = IpcName::unique("exp3-clientserver-nobody").unwrap();
        let config = Config {
            delay: Duration::ZERO,
            timeout: Duration::from_millis(50),
        };
        let error = client(&server, 1, 6, &config, false).unwrap_err();
        assert!(matches!(error, Error::Timeout), "{error}");
        let reply = protocol::reply_name(&server, std::process::id()).unwrap();
        assert!(!MessageQueue::exists(&reply).unwrap());
    }
}
