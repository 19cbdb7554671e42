//! The roles for two terminals: `reader` and `writer`, each a separate
//! run of the program. Each creates the FIFO if it is missing (and then
//! removes it at the end) or uses the one that exists.

use std::path::PathBuf;

use ipc_cli::say;
use ipc_core::Result;
use ipc_core::fifo::Fifo;

use crate::{MESSAGES, default_path, interruptible, reader, writer};

/// The `reader` role: uses the FIFO at `path` (the default path without
/// it), creating it if it is missing and then removing it at the end.
///
/// # Errors
/// As [`Fifo::create_or_open`] (a path that is not a FIFO, or is a
/// symbolic link, is refused) and [`reader`].
pub fn run_reader(path: Option<PathBuf>, follow: bool) -> Result<()> {
    let fifo = create_or_use(path)?;
    let outcome = interruptible("Reader", || reader(fifo.path(), follow));
    remove_if_created(fifo)?;
    outcome
}

/// The `writer` role: as [`run_reader`], writing `messages` (seed 000's
/// [`MESSAGES`] if empty).
///
/// # Errors
/// As [`Fifo::create_or_open`] and [`writer`].
pub fn run_writer(path: Option<PathBuf>, messages: Vec<String>) -> Result<()> {
    let messages = if messages.is_empty() {
        MESSAGES.iter().map(|m| m.to_string()).collect()
    } else {
        messages
    };
    let fifo = create_or_use(path)?;
    let outcome = interruptible("Writer", || writer(fifo.path(), &messages));
    remove_if_created(fifo)?;
    outcome
}

fn create_or_use(path: Option<PathBuf>) -> Result<Fifo> {
    let path = match path {
        Some(path) => path,
        None => default_path()?,
    };
    let fifo = Fifo::create_or_open(&path)?;
    if fifo.is_owner() {
        say!("FIFO created: {} (mode 0600)", path.display())?;
    } else {
        say!(
            "Using the existing FIFO {} (its creator removes it)",
            path.display()
        )?;
    }
    Ok(fifo)
}

fn remove_if_created(mut fifo: Fifo) -> Result<()> {
    if fifo.is_owner() {
        let path = fifo.path().to_owned();
        fifo.remove()?;
        say!("FIFO removed: {}", path.display())?;
    }
    Ok(())
}
