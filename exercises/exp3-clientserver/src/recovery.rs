//! What keeps the server and its clients honest with each other when one
//! of them does not play its part: a client tells a server that is gone
//! from one that is alive but busy ([`Patience`]), a server whose name is
//! taken says who has it and what to do ([`taken`]). Not part of the
//! seed's theory.

use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use ipc_core::mqueue::MessageQueue;
use ipc_core::owner::{self, Kind, ObjectName};
use ipc_core::{Error, IpcName, OnFailure, Process, Result, join_all_ok, join_all_with};
use nix::errno::Errno;

use crate::options::NAME;
use crate::protocol::bare;

/// How many times `--timeout` a client waits for a server that is alive
/// but busy (answering the clients before it) before it gives up: 30 s by
/// default, enough for 64 clients at the server's 200 ms a request.
pub const BUSY_PATIENCE: u32 = 6;

/// What a client waits for once the server's queue is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Room in the server's queue for the request.
    Send,
    /// The answer on the client's reply queue.
    Answer,
}

/// Client `n`'s waits on the server `server`. Each wait lasts `timeout`;
/// then the client looks whether the server is still there. A server
/// that is gone (its queue removed, or its run dead) ends the wait with a
/// message that says so; one that is alive is waited for again, up to
/// [`BUSY_PATIENCE`] times in all, then named as alive but busy. Every
/// message goes to stderr before the error ([`Error::Timeout`]).
#[derive(Debug, Clone, Copy)]
pub struct Patience<'a> {
    server: &'a IpcName,
    n: u32,
    timeout: Duration,
}

impl<'a> Patience<'a> {
    /// Client `n`'s patience with `server`, `timeout` at a time.
    pub fn new(server: &'a IpcName, n: u32, timeout: Duration) -> Self {
        Patience { server, n, timeout }
    }

    /// Opens the server's queue, waiting up to `timeout` for a server to
    /// create it.
    ///
    /// # Errors
    /// [`Error::Timeout`] when no server came, saying which command starts
    /// one; as [`MessageQueue::open`] (a queue of another user).
    pub fn open(&self) -> Result<MessageQueue> {
        let deadline = Deadline::after(self.timeout);
        let opened = blocking::poll(
            deadline,
            blocking::STEP_INTERVAL,
            || match MessageQueue::open(self.server) {
                Ok(queue) => Ok(Some(queue)),
                Err(error) if error.is_not_found() => Ok(None),
                Err(error) => Err(error),
            },
        );
        if let Err(Error::Timeout) = opened {
            ipc_cli::say_err!(
                "Client {}: no server at {} within {:?} (start `{}` first)",
                self.n,
                self.server.path(),
                self.timeout,
                server_command(self.server)
            );
        }
        opened
    }

    /// Waits for `step`: `attempt` is called with the time it may block
    /// (`mq_timedsend`, `mq_timedreceive`) until it stops timing out.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the server is gone, or stayed busy for
    /// [`BUSY_PATIENCE`] times `timeout`; the error of `attempt`.
    pub fn wait<T>(&self, step: Step, mut attempt: impl FnMut(Duration) -> Result<T>) -> Result<T> {
        let what = match step {
            Step::Send => format!("room in the server's queue {}", self.server.path()),
            Step::Answer => format!("answer from the server at {}", self.server.path()),
        };
        for round in 1..=BUSY_PATIENCE {
            match attempt(self.timeout) {
                Err(Error::Timeout) => {}
                other => return other,
            }
            let waited = self.timeout.saturating_mul(round);
            if let Some(why) = gone(self.server) {
                ipc_cli::say_err!(
                    "Client {}: no {what} within {waited:?}: the server is gone ({why})",
                    self.n
                );
                return Err(Error::Timeout);
            }
        }
        let waited = self.timeout.saturating_mul(BUSY_PATIENCE);
        ipc_cli::say_err!(
            "Client {}: no {what} within {waited:?}: the server is alive but busy \
             (its queue is there and its run lives; a longer --timeout waits longer)",
            self.n
        );
        Err(Error::Timeout)
    }
}

/// Why the server `server` is gone, if it is: its queue has been removed
/// (it stopped, or its run removed it after it was killed), or the run
/// that made it is dead. `None` while it may be alive (the queue is there,
/// and no dead run lists it; in the default run, the run is the client's
/// own, and its parent removes the queue of a server that died).
pub fn gone(server: &IpcName) -> Option<String> {
    match MessageQueue::exists(server) {
        Ok(false) => Some(format!("its queue {} has been removed", server.path())),
        Ok(true) => {
            let dead = owner::leases()
                .unwrap_or_default()
                .into_iter()
                .any(|lease| {
                    !lease.alive
                        && lease
                            .objects
                            .iter()
                            .any(|o| is_queue(&o.name, o.kind, server))
                });
            dead.then(|| {
                "its run has ended; the next ipc-lab program to start, or `scripts/clean.sh`, \
                 removes its queue"
                    .to_owned()
            })
        }
        Err(_) => None,
    }
}

fn is_queue(name: &ObjectName, kind: Kind, queue: &IpcName) -> bool {
    kind == Kind::MessageQueue && *name == ObjectName::from(queue)
}

/// The command that starts a server on `server`.
fn server_command(server: &IpcName) -> String {
    match bare(server) {
        NAME => format!("{NAME} server"),
        other => format!("{NAME} server --name {other}"),
    }
}

/// The error of creating the server's queue `name`; when the name is
/// taken (`EEXIST`), it first says on stderr who has it and what to do:
/// stop the live run that has it, remove a leftover with
/// `scripts/clean.sh`, or choose another `--name` when the queue belongs
/// to another user.
pub fn taken(name: &IpcName, error: Error) -> Error {
    if error.errno() == Some(Errno::EEXIST) {
        ipc_cli::say_err!("Server: {} exists: {}", name.path(), who_has(name));
    }
    error
}

/// Who has the queue `name`, and what to do about it.
fn who_has(name: &IpcName) -> String {
    if let Err(error) = MessageQueue::open(name) {
        return match error {
            Error::Untrusted { reason, .. } => {
                format!("it {reason}; choose another --name")
            }
            Error::Sys {
                errno: Errno::EACCES,
                ..
            } => "it belongs to another user (mq_open: Permission denied); choose another --name"
                .to_owned(),
            other => format!("it cannot be opened ({other})"),
        };
    }
    let leases = owner::leases().unwrap_or_default();
    let holder = leases.iter().find(|lease| {
        lease
            .objects
            .iter()
            .any(|o| is_queue(&o.name, o.kind, name))
    });
    match holder {
        Some(lease) if lease.alive => {
            let field = |key: &str| {
                lease
                    .header
                    .split(' ')
                    .find_map(|word| word.strip_prefix(key))
                    .unwrap_or("?")
            };
            let (pid, program) = (field("pid="), field("program="));
            // The kernel keeps the first 15 bytes of a program's name.
            if !program.is_empty() && NAME.starts_with(program) {
                format!(
                    "another server is running on it (pid {pid}): stop it (Ctrl-C in its \
                     terminal, or `kill {pid}`), or choose another --name"
                )
            } else {
                format!(
                    "a running {program} (pid {pid}) has it: end it (`kill {pid}`), or choose \
                     another --name"
                )
            }
        }
        Some(_) => "a killed run left it: `scripts/clean.sh` removes it".to_owned(),
        None => {
            let path = std::path::Path::new(owner::MQUEUE_DIR).join(name.as_str());
            let held = owner::strays()
                .into_iter()
                .any(|s| s.path == path && s.in_use);
            let clean = format!("`scripts/clean.sh {}` removes it", name.as_str());
            if held {
                format!(
                    "no ipc-lab run lists it, and a process holds it open: once that process \
                     has ended, {clean}"
                )
            } else {
                format!("no ipc-lab run lists it and no process holds it open: {clean}")
            }
        }
    }
}

/// Tells the server `name` to stop serving (the default run's parent, once
/// every client has ended).
///
/// # Errors
/// As [`MessageQueue::open`] and [`MessageQueue::send_timeout`].
pub fn stop_server(name: &IpcName) -> Result<()> {
    let queue = MessageQueue::open(name)?;
    let stop = crate::protocol::Request::Stop.to_text();
    queue.send_timeout(stop.as_bytes(), 0, Duration::from_secs(1))
}

/// The default run's parent, once it has forked the server (first) and
/// the clients of the server `name`: waits for all of them, and makes sure
/// that a dead process does not hang the others and that no queue
/// outlives the run.
///
/// # Errors
/// [`Error::ChildFailed`] naming the first process a signal killed or, if
/// none, the first that failed.
pub fn supervise(name: &IpcName, children: &mut [Process]) -> Result<()> {
    let replies = children[1..]
        .iter()
        .map(|c| crate::protocol::reply_name(name, c.pid().as_raw().unsigned_abs()))
        .collect::<Result<Vec<_>>>()?;
    let mut removed = vec![false; children.len()];
    let mut stopped = false;
    join_all_with(children, OnFailure::LetOthersRun, |children| {
        let (server, clients) = children.split_at(1);
        // A process that died: remove its queue now. The server's answer
        // to a dead client then fails (and is logged) instead of filling
        // a queue nobody reads; the clients of a dead server see it gone.
        for (i, child) in children.iter().enumerate() {
            if !removed[i] && child.exit_status().is_some_and(|s| !s.success()) {
                let _ = MessageQueue::remove_existing(if i == 0 { name } else { &replies[i - 1] });
                removed[i] = true;
            }
        }
        // Every client has ended: the server may stop.
        if !stopped
            && server[0].exit_status().is_none()
            && clients.iter().all(|c| c.exit_status().is_some())
        {
            stopped = true;
            let _ = stop_server(name);
        }
    })?;
    // Whatever ended the run (a process killed with SIGKILL cannot remove
    // its own queue), no queue outlives it.
    for reply in &replies {
        let _ = MessageQueue::remove_existing(reply);
    }
    let _ = MessageQueue::remove_existing(name);
    join_all_ok(children)
}
