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
//! a few clients. Beside this file: the messages ([`protocol`]), the
//! options ([`options`]), the roles for two
//! terminals ([`roles`]), and what keeps a run going when a process does
//! not play its part ([`recovery`]).

pub mod options;
pub mod protocol;
pub mod recovery;
pub mod roles;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::mqueue::{Limits, MessageQueue};
use ipc_core::{IpcName, Process, Result, pace, signal};

pub use options::{Config, NAME};
use protocol::{REPLY_SIZE, REQUEST_SIZE, Reply, Request, Square};
use recovery::{Patience, Step};

/// The server queue's capacity, if the system allows it
/// (`/proc/sys/fs/mqueue/msg_max`, 10 by default).
pub const SERVER_CAPACITY: usize = 10;

/// The server: creates the well-known queue `name` (mode 0600), answers
/// requests one by one until a `stop` request, SIGINT or SIGTERM, prints
/// `Server answered N requests` and removes the queue. With `announce`
/// (the `server` role) it first says where it listens.
///
/// # Errors
/// As [`MessageQueue::create`] (`File exists` when the name is taken:
/// [`recovery::taken`] says by whom).
pub fn server(name: &IpcName, config: &Config, announce: bool) -> Result<()> {
    let capacity = Limits::read()?.msg_max.min(SERVER_CAPACITY);
    let queue = MessageQueue::create(name, capacity, REQUEST_SIZE)
        .map_err(|error| recovery::taken(name, error))?;
    if announce {
        let pid = std::process::id();
        say!(
            "Server (pid {pid}) listening on {} (mode 0600); Ctrl-C to stop",
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

/// The server's loop. A request whose answer cannot be delivered (its
/// client is gone, with its reply queue) is logged and skipped: one client
/// never stops the server.
fn serve(queue: &MessageQueue, name: &IpcName, config: &Config, answered: &mut u64) -> Result<()> {
    let mut buf = vec![0; queue.msgsize()];
    loop {
        // STUDENT: receive a request and parse it; `stop` ends, a square is answered after the delay
        let (len, _priority) = queue.receive(&mut buf)?;
        match Request::parse(&buf[..len], name) {
            Ok(Request::Stop) => return Ok(()),
            Ok(Request::Square(asked)) => {
                pace::sleep(config.delay)?; // the work
                match answer(&asked) {
                    Ok(()) => *answered += 1,
                    Err(e) => say!(
                        "Server: no answer to client {}: {e} (the client is gone)",
                        asked.client
                    )?,
                }
            }
            Err(why) => say!("Server: a request ignored: {why}")?,
        }
        // END STUDENT
    }
}

/// Sends the answer to `asked` to its reply queue, then removes that
/// queue's name: the client reads the answer through the descriptor it
/// holds, and a client killed while it waited leaves nothing behind.
fn answer(asked: &Square) -> Result<()> {
    let queue = MessageQueue::open(&asked.reply)?;
    queue.send_timeout(
        Reply::to(asked.number).to_text().as_bytes(),
        0,
        Duration::ZERO,
    )?;
    let _ = MessageQueue::remove_existing(&asked.reply);
    Ok(())
}

/// Client `n`: creates its reply queue, sends `number` to the server's
/// queue `server`, waits for the answer and prints
/// `Client 2 sent 7, received 49`. With `announce` (the `client` role) it
/// first says what it is about to do. Its reply queue is removed on every
/// ending.
///
/// # Errors
/// `Timeout` when no server comes, or it is gone, or stays busy (as
/// [`Patience`] says on stderr); `Message` for an answer refused or
/// malformed; `Interrupted` after SIGINT or SIGTERM.
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
        let (pid, at) = (std::process::id(), server.path());
        say!(
            "Client {n} (pid {pid}) sends {number} to {at}, for an answer in {}",
            reply_name.path()
        )?;
    }
    let patience = Patience::new(server, n, config.timeout);
    // STUDENT: open the server's queue, send it a Square request, wait on `reply` for the answer, print it
    let queue = patience.open()?;
    let request = Request::Square(Square {
        client: n,
        number,
        reply: reply_name,
    });
    patience.wait(Step::Send, |t| {
        queue.send_timeout(request.to_text().as_bytes(), 0, t)
    })?;
    let mut buf = vec![0; reply.msgsize()];
    let (len, _) = patience.wait(Step::Answer, |t| reply.receive_timeout(&mut buf, t))?;
    let square = protocol::square_in(&buf[..len])?;
    say!("Client {n} sent {number}, received {square}")?;
    // END STUDENT
    Ok(())
}

/// The default run: forks the server and a client per number of
/// `numbers` (client `n` sends `numbers[n - 1]`) on the well-known queue
/// `name` (a fresh one without it), and waits for all of them
/// ([`recovery::supervise`]).
///
/// # Errors
/// `ChildFailed` naming the first process a signal killed or, if none,
/// the first that failed.
pub fn run(name: Option<IpcName>, numbers: &[i64], config: &Config) -> Result<()> {
    let name = name.map_or_else(|| IpcName::unique(NAME), Ok)?;
    let mut children = vec![Process::spawn("server", || server(&name, config, false))?];
    for (n, &number) in (1..).zip(numbers) {
        children.push(Process::spawn(format!("client {n}"), || {
            roles::interruptible(n, || client(&name, n, number, config, false))
        })?);
    }
    recovery::supervise(&name, &mut children)
}
