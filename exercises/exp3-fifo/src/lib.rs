//! Seed 001, theory "II) FIFO": a named pipe between two unrelated
//! processes.
//!
//! A FIFO is a pipe with a name in the file system. The writer opens the
//! path for writing, the reader for reading; neither is the other's parent,
//! they only share the path. Each open blocks until the other side opens
//! too; the reader sees end of file once the writer has closed it.
//!
//! Who creates and removes the FIFO:
//! * the default run (no role) creates a fresh FIFO, forks a writer and a
//!   reader, and removes the FIFO after both have ended;
//! * the `reader` and `writer` roles, for two terminals, both create the
//!   FIFO if it is missing, or use the existing one; whichever created it
//!   removes it when it is done. A shell's `mkfifo` FIFO is used and left
//!   in place.
//!
//! This file is the seed's part: the writer, the reader and the default
//! run that forks them. The roles for two terminals are in [`roles`]; the
//! option to send other messages (`--messages`) is in [`extras`].

pub mod extras;
pub mod roles;

use std::path::{Path, PathBuf};
use std::time::Duration;

use ipc_cli::say;
use ipc_core::fifo::{self, Fifo, FifoReader, FifoWriter};
use ipc_core::{
    Error, IpcName, OnFailure, Process, Result, join_all_ok, join_all_with, pace, signal,
};

/// The messages the writer sends, one line each (seed 000's pipe messages;
/// no `END`: closing the FIFO is the end).
pub const MESSAGES: [&str; 3] = ["First", "second", "third?"];

/// The writer's pause between two messages, so that they can be watched
/// arriving one by one (1 ms with `--fast`).
pub const PAUSE: Duration = Duration::from_secs(1);

/// The FIFO's name in the two-terminal roles.
pub const NAME: &str = "exp3-fifo";

/// The FIFO the roles use without `--path`: `ipc-lab-exp3-fifo` in
/// `$XDG_RUNTIME_DIR`, or in the user's own `/tmp/ipc-lab-user-UID`
/// ([`fifo::default_dir`]).
///
/// # Errors
/// As [`fifo::default_dir`]: that directory is another user's, or others
/// may open it.
pub fn default_path() -> Result<PathBuf> {
    fifo::default_path(&IpcName::new(NAME)?)
}

/// The reader: opens `path` (waiting for a writer) and prints every line
/// until end of file; with `follow`, then waits for the next writer.
///
/// # Errors
/// As [`FifoReader::open`] and [`FifoReader::read_line`];
/// [`Error::Interrupted`] after SIGINT/SIGTERM.
pub fn reader(path: &Path, follow: bool) -> Result<()> {
    let pid = std::process::id();
    loop {
        say!(
            "Reader (pid {pid}): waiting for a writer to open {}",
            path.display()
        )?;
        // STUDENT: open `path` for reading, print `Reader received: …` for each line
        let mut fifo = FifoReader::open(path)?;
        while let Some(line) = fifo.read_line()? {
            say!("Reader received: {line}")?;
        }
        // END STUDENT
        // A writer stopped by the same SIGTERM (its parent died) closes the
        // FIFO: that end of file is the signal's doing, and says so.
        signal::check()?;
        say!("Reader: end of file, every writer has closed the FIFO")?;
        if !follow {
            return Ok(());
        }
    }
}

/// The writer: opens `path` (waiting for a reader) and writes each message
/// as a line, pausing [`PAUSE`] between two.
///
/// # Errors
/// As [`FifoWriter::open`]; [`Error::Disconnected`] when the reader has
/// gone; [`Error::Interrupted`] after SIGINT/SIGTERM.
pub fn writer(path: &Path, messages: &[String]) -> Result<()> {
    say!(
        "Writer (pid {}): waiting for a reader to open {}",
        std::process::id(),
        path.display()
    )?;
    // STUDENT: open `path` for writing; write each message as a line, PAUSE between two
    let mut fifo = FifoWriter::open(path)?;
    for (i, message) in messages.iter().enumerate() {
        if i > 0 {
            pace::sleep(PAUSE)?;
        }
        if let Err(error) = fifo.write_line(message) {
            if matches!(error, Error::Disconnected) {
                say!("Writer: the reader has closed the FIFO; {message:?} was not sent")?;
            }
            return Err(error);
        }
        say!("Writer sent: {message}")?;
    }
    // END STUDENT
    say!("Writer: done, closing the FIFO")?;
    Ok(())
}

/// The default run: creates a FIFO at `path` (a fresh one in
/// [`fifo::default_dir`] without it), forks a writer and a reader, waits
/// for both and removes the FIFO.
///
/// # Errors
/// As [`Fifo::create`] (an existing `path` is refused);
/// [`Error::ChildFailed`] when the writer or the reader fails.
pub fn run(path: Option<PathBuf>) -> Result<()> {
    let messages: Vec<String> = MESSAGES.iter().map(|m| m.to_string()).collect();
    run_with(path, &messages)
}

/// As [`run`], the writer sending `messages` (`--messages`, checked by
/// [`extras::messages`]) instead of [`MESSAGES`].
///
/// # Errors
/// As [`run`].
pub fn run_with(path: Option<PathBuf>, messages: &[String]) -> Result<()> {
    let path = match path {
        Some(path) => path,
        None => fifo::unique_path(NAME)?,
    };
    let mut fifo = Fifo::create(&path)?;
    say!("FIFO created: {} (mode 0600)", path.display())?;
    let mut children = [
        Process::spawn("writer", || {
            interruptible("Writer", || writer(fifo.path(), messages))
        })?,
        Process::spawn("reader", || {
            interruptible("Reader", || reader(fifo.path(), false))
        })?,
    ];
    // A child that ends before opening the FIFO (killed, or stopped by a
    // closed standard output) would leave the other waiting for it in
    // open() for ever: once one has ended, let the other through.
    join_all_with(&mut children, OnFailure::StopOthers, |children| {
        if children.iter().any(|c| c.exit_status().is_some()) {
            let _ = fifo.release_waiters();
        }
    })?;
    let joined = join_all_ok(&mut children);
    fifo.remove()?;
    say!("FIFO removed: {}", path.display())?;
    joined
}

pub use roles::{run_reader, run_writer};

/// Runs a role, turning SIGINT/SIGTERM into a last line and a normal end.
pub(crate) fn interruptible(who: &str, role: impl FnOnce() -> Result<()>) -> Result<()> {
    signal::end_on_interrupt(role(), |by| say!("{who}: interrupted by {by}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_path_carries_the_prefix() {
        let path = default_path().unwrap();
        assert!(path.ends_with("ipc-lab-exp3-fifo"), "{}", path.display());
        assert!(path.is_absolute());
    }

    #[test]
    fn the_messages_are_the_seed_pipe_messages_without_end() {
        assert_eq!(MESSAGES, ["First", "second", "third?"]);
    }
}
