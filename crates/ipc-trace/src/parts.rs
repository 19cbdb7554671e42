//! The traces of the programs a run starts (not forks): each writes its
//! own, which the run's trace takes in when it is written
//! ([`crate::write()`]): one picture of every role.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The environment variable that names a program's process in its trace
/// (its role, given by the program that started it).
pub const NAME_VAR: &str = "IPC_LAB_TRACE_NAME";

/// The files of the traces that programs started by this one write, to be
/// merged when this one's trace is written.
static PARTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn lock_parts() -> MutexGuard<'static, Vec<PathBuf>> {
    PARTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// For a program this one starts with `std::process::Command` (not a
/// fork: a separate log), while tracing: the `--trace` file the program
/// should write, a JSON file in the temporary directory that
/// [`crate::write()`] merges into this run's trace and then removes. Give the
/// program the environment variable [`NAME_VAR`] set to `role` too, to
/// name its lane. `None` while tracing is off.
pub fn part_for(role: &str) -> Option<PathBuf> {
    if !ipc_core::trace::is_on() {
        return None;
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let safe: String = role
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = std::env::temp_dir().join(format!(
        "ipc-lab-trace-{}-{n}-{safe}.json",
        std::process::id()
    ));
    lock_parts().push(path.clone());
    Some(path)
}

/// The parts named so far, forgotten here: the caller merges and removes
/// them.
pub(crate) fn take() -> Vec<PathBuf> {
    std::mem::take(&mut *lock_parts())
}
