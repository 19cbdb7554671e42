//! The traces of the programs a run starts (not forks): each writes its
//! own, which the run's trace takes in when it is written
//! ([`crate::write()`]): one picture of every role.
//!
//! They are written in a private directory of the run
//! (`ipc_core::owner::PrivateDir`: mode 0700, an unpredictable name,
//! removed with the run even after a SIGKILL), never at a predictable name
//! in a shared directory where another user could plant a link.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use ipc_core::owner::PrivateDir;

/// The environment variable that names a program's process in its trace
/// (its role, given by the program that started it).
pub const NAME_VAR: &str = "IPC_LAB_TRACE_NAME";

/// The files of the traces that programs started by this one write, to be
/// merged when this one's trace is written, and the directory they are in.
static PARTS: Mutex<Parts> = Mutex::new(Parts {
    files: Vec::new(),
    dir: None,
});

/// The parts named so far and their directory.
#[derive(Debug)]
pub(crate) struct Parts {
    /// The files, in the order named.
    pub files: Vec<PathBuf>,
    /// Their private directory, made with the first.
    pub dir: Option<PrivateDir>,
}

fn lock_parts() -> MutexGuard<'static, Parts> {
    PARTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// For a program this one starts with `std::process::Command` (not a
/// fork: a separate log), while tracing: the `--trace` file the program
/// should write, a JSON file in the run's private directory that
/// [`crate::write()`] merges into this run's trace and then removes with
/// the directory. Give the program the environment variable [`NAME_VAR`]
/// set to `role` too, to name its lane. `None` while tracing is off.
///
/// # Errors
/// The private directory cannot be made (as
/// `ipc_core::owner::PrivateDir::create`).
pub fn part_for(role: &str) -> ipc_core::Result<Option<PathBuf>> {
    if !ipc_core::trace::is_on() {
        return Ok(None);
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let safe: String = role
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut parts = lock_parts();
    if parts.dir.is_none() {
        parts.dir = Some(PrivateDir::create("trace")?);
    }
    let dir = parts
        .dir
        .as_ref()
        .map(|d| d.path().to_owned())
        .unwrap_or_default();
    let path = dir.join(format!("{n}-{safe}.json"));
    parts.files.push(path.clone());
    Ok(Some(path))
}

/// The parts named so far and their directory, forgotten here: the caller
/// merges them and removes the directory.
pub(crate) fn take() -> Parts {
    let mut parts = lock_parts();
    Parts {
        files: std::mem::take(&mut parts.files),
        dir: parts.dir.take(),
    }
}
