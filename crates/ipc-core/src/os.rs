//! Facts about the calling process that several layers need: how many
//! threads it has, when it started, whether a forked copy of it may be
//! made safely.

use std::hash::BuildHasher;
use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The number of threads of the calling process, from `/proc/self/task`.
pub(crate) fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| dir.count())
        .unwrap_or(1)
}

/// Flushes standard output and standard error, so that nothing written
/// before a `fork` is printed twice, and nothing is lost at `_exit`.
pub(crate) fn flush_stdio() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// The start time of process `pid`, in clock ticks since boot (field 22
/// of `/proc/PID/stat`, see `proc_pid_stat(5)`): with the pid, it names a
/// process uniquely, since a reused pid has a later start time.
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces:
    // count the fields after its closing parenthesis.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The command name of the calling process (`/proc/self/comm`).
pub(crate) fn command_name() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .map(|name| name.trim_end().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}

/// A random number drawn once per process (again in a forked child), so
/// that names made by processes of the same pid in different pid
/// namespaces differ.
pub(crate) fn process_token() -> u32 {
    static TOKEN: Mutex<Option<(u32, u32)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut token = TOKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match *token {
        Some((owner, value)) if owner == pid => value,
        _ => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |t| t.as_nanos());
            // RandomState's keys come from the operating system's random
            // source; the pid and the time keep forked children apart.
            let value =
                std::collections::hash_map::RandomState::new().hash_one((pid, nanos)) as u32;
            *token = Some((pid, value));
            value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_start_time_and_a_name() {
        let me = std::process::id() as i32;
        assert!(start_time(me).is_some());
        assert!(start_time(-1).is_none());
        assert!(!command_name().is_empty());
        assert!(thread_count() >= 1);
        assert_eq!(process_token(), process_token(), "stable within a process");
    }
}
