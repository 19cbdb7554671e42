//! Seed 000, choice 3: IPC using pipes.
//!
//! Python's `multiprocessing.Pipe()` gives two connected ends; here it is
//! [`ipc_core::pipe::duplex`], a `socketpair(2)` carrying one framed
//! message per `send`. Process `p1` (the sender) sends the seed's four
//! messages on one end; process `p2` (the receiver) prints what arrives on
//! the other end until the message `END`.
//!
//! The seed's algorithm says "create two pipes": [`run_simplex`]
//! (`--simplex`) makes them, one each way, with `pipe(2)`
//! ([`ipc_core::pipe::simplex`], Python's `Pipe(duplex=False)`): the
//! messages go from `p1` to `p2` on the first, and `p2` answers on the
//! second.
//!
//! This file follows the seed; the ends the seed's functions take, and
//! `--delay`, are in [`ends`], the option to send other messages
//! (`--messages`) in [`extras`].

pub mod ends;
pub mod extras;

use std::time::Duration;

use ends::{Paced, RecvEnd, SendEnd};
use ipc_cli::say;
use ipc_core::pipe;
use ipc_core::{Process, Result, join_all_ok};

/// The messages the seed sends; the last one tells the receiver to stop.
pub const MSGS: [&str; 4] = ["First", "second", "third?", "END"];

/// What `p2` answers on the second pipe of [`run_simplex`] once it has
/// read `END`.
pub const REPLY: &str = "got END";

/// How the two processes are started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Schedule {
    /// The sender runs to its end, then the receiver starts: the messages
    /// wait in the pipe meanwhile, and the output is the same every run.
    #[default]
    SenderFirst,
    /// Both at once, as the seed starts them: each process prints its own
    /// lines in order, but how the two interleave changes from run to run.
    Concurrent,
    /// The receiving end is closed before the sender starts: the first
    /// send fails with [`ipc_core::Error::Disconnected`] (`EPIPE`), and so does the
    /// run.
    NoReceiver,
}

/// The sender's target: send every message, printing each after it went
/// (the seed's `sender`).
fn sender(conn: &mut impl SendEnd, msgs: &[String]) -> Result<()> {
    // STUDENT: send each message on `conn`, printing `Sent the message: …` after it; then close `conn`
    for msg in msgs {
        conn.send(msg)?;
        say!("Sent the message: {msg}")?;
    }
    conn.close();
    // END STUDENT
    Ok(())
}

/// The receiver's target: print every message until `END` (the seed's
/// `receiver`).
fn receiver(conn: &mut impl RecvEnd) -> Result<()> {
    // STUDENT: receive messages from `conn`, printing `Received the message: …`, until `END`
    loop {
        let msg = conn.recv()?;
        if msg == "END" {
            break;
        }
        say!("Received the message: {msg}")?;
    }
    // END STUDENT
    Ok(())
}

/// Runs the experiment: `p1` sends [`MSGS`], `p2` prints them.
///
/// # Errors
/// [`ipc_core::Error::ChildFailed`] when a process fails (with
/// [`Schedule::NoReceiver`], the sender always does); [`ipc_core::Error::Sys`] when
/// the connection or a process cannot be made.
pub fn run(schedule: Schedule) -> Result<()> {
    // messages to be sent
    let msgs = MSGS.map(String::from);
    run_with(&msgs, schedule, Duration::ZERO)
}

/// As [`run`], `p1` sending `msgs` (the last one `END`: the seed's
/// [`MSGS`], or `--messages` and `END`), waiting `delay` before each message
/// ([`Paced`]: `--fast` shortens it 1000 times). With
/// [`Schedule::Concurrent`], `p2` meanwhile waits in `recv`.
///
/// No signal handler is installed: SIGINT or SIGTERM ends a process at
/// once, which is right for processes that own nothing with a name (the
/// kernel frees the socket pair); children whose parent is killed get
/// SIGTERM ([`Process::spawn`]).
///
/// # Errors
/// As [`run`].
pub fn run_with(msgs: &[String], schedule: Schedule, delay: Duration) -> Result<()> {
    // creating a pipe
    let (mut parent_conn, mut child_conn) = pipe::duplex::<String>()?;
    if schedule == Schedule::NoReceiver {
        child_conn.close();
    }

    // the sender gets one end; it closes its copy of the other
    let mut p1 = Process::spawn("p1", || {
        child_conn.close();
        sender(&mut Paced::new(&mut parent_conn, delay), msgs)
    })?;
    // only p1 sends: with the parent's copy closed, p2 sees the end of the
    // stream if p1 dies before sending END, instead of waiting forever
    parent_conn.close();

    match schedule {
        Schedule::NoReceiver => p1.join_ok(),
        Schedule::SenderFirst => {
            p1.join_ok()?;
            let mut p2 = Process::spawn("p2", || receiver(&mut child_conn))?;
            child_conn.close();
            p2.join_ok()
        }
        Schedule::Concurrent => {
            let p2 = Process::spawn("p2", || receiver(&mut child_conn))?;
            child_conn.close();
            let mut both = [p1, p2];
            join_all_ok(&mut both)
        }
    }
}

/// `--simplex`: the seed's "two pipes", one each way (`pipe(2)`). `p1`
/// sends `msgs` (as [`run_with`]) on the first and waits for the answer
/// on the second; `p2` prints them until `END`, then answers [`REPLY`].
/// Both run at once: `p1` must still be there to read the answer. A
/// process that dies closes its ends, so the other sees the end of its
/// stream instead of waiting for ever.
///
/// # Errors
/// [`ipc_core::Error::ChildFailed`] when a process fails;
/// [`ipc_core::Error::Sys`] when a pipe or a process cannot be made.
pub fn run_simplex(msgs: &[String], delay: Duration) -> Result<()> {
    // two pipes, the reading end first: p1 to p2, and p2 to p1
    let (mut p2_reads, mut p1_writes) = pipe::simplex::<String>()?;
    let (mut p1_reads, mut p2_writes) = pipe::simplex::<String>()?;

    // each process closes the ends that are the other's
    let p1 = Process::spawn("p1", || -> Result<()> {
        p2_reads.close();
        p2_writes.close();
        sender(&mut Paced::new(&mut p1_writes, delay), msgs)?;
        let reply = p1_reads.recv()?;
        say!("Received the reply: {reply}")
    })?;
    let p2 = Process::spawn("p2", || -> Result<()> {
        p1_writes.close();
        p1_reads.close();
        receiver(&mut p2_reads)?;
        p2_writes.send(&REPLY.to_owned())
    })?;
    // the parent uses none of the four ends
    p2_reads.close();
    p1_writes.close();
    p1_reads.close();
    p2_writes.close();
    join_all_ok(&mut [p1, p2])
}
