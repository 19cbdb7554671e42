//! Seed 004: inter-process communication through a queue.
//!
//! The sender waits two seconds, then puts one message on a shared
//! [`Queue`]; the receiver, started at the same time, blocks in `get` until
//! the message arrives; the parent waits for both.
//!
//! This file follows the seed; the option to send another message
//! (`--message`) is in [`extras`].

pub mod extras;

use std::time::Duration;

use ipc_cli::say;
use ipc_core::{
    Error, OnFailure, Process, Queue, Result, join_all_ok, join_all_with, pace, signal,
};

/// The message the sender sends.
pub const MESSAGE: &str = "Hello, introduction to distributed computing";

/// How long the sender waits before sending (`--fast` divides it by 1000).
pub const DELAY: Duration = Duration::from_secs(2);

/// The sender's target: wait, announce, put `message` ([`MESSAGE`], or
/// `--message`).
fn sender(q: &Queue<String>, message: &str) -> Result<()> {
    pace::sleep(DELAY)?;
    let message = String::from(message);
    say!("sender is sending: {message}")?;
    // STUDENT: put `message` on `q` (the receiver waits for it in get)
    q.put(&message)
    // END STUDENT
}

/// The receiver's target: block until a message arrives, print it.
fn receiver(q: &Queue<String>) -> Result<()> {
    // STUDENT: wait for a message on `q` (get blocks) and print `Receiver received: …`
    let message = q.get()?;
    say!("Receiver received: {message}")?;
    // END STUDENT
    Ok(())
}

/// Runs the experiment (the seed's `run_ipc`), printing its lines.
///
/// Ctrl-C or SIGTERM ends both children (the sender's sleep and the
/// receiver's `get` are interrupted) and the run fails with
/// [`Error::Interrupted`].
///
/// # Errors
/// A failed system call, [`Error::Interrupted`], or [`Error::ChildFailed`]
/// naming the sender or the receiver when one of them fails (the other is
/// then stopped).
pub fn run_ipc() -> Result<()> {
    run_ipc_with(MESSAGE)
}

/// As [`run_ipc`], the sender sending `message` (`--message`, checked by
/// [`extras::message`]).
///
/// # Errors
/// As [`run_ipc`].
pub fn run_ipc_with(message: &str) -> Result<()> {
    let q = Queue::<String>::new()?;

    let sender_process = Process::spawn("sender", || sender(&q, message))?;
    let receiver_process = Process::spawn("receiver", || receiver(&q))?;

    // Waits for both; passes a Ctrl-C or SIGTERM on to them, and stops the
    // other one if either dies.
    let mut both = [sender_process, receiver_process];
    join_all_with(&mut both, OnFailure::StopOthers, |both| {
        // The sender has ended: nothing more will be sent. If it failed
        // before putting its message, the receiver now sees the end
        // instead of waiting forever.
        if both[0].exit_status().is_some() {
            let _ = q.close();
        }
    })?;
    let joined = join_all_ok(&mut both);

    if signal::interrupted() {
        return Err(Error::Interrupted);
    }
    joined?;
    say!("IPC between processes completed.")?;
    Ok(())
}
