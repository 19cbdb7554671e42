//! For the tests of the NATS experiments (`exp1-mom`, `exp1-rpc`,
//! `exp1-dsm`): which processes are `nats-server`, and which private
//! server directories a run left behind.
//!
//! A test gives the program a temporary directory of its own
//! (`TMPDIR=<TempDir>`), so that [`server_dirs`] sees only that run's
//! `ipc-lab-nats-…` directories, not those of tests running beside it.

use std::path::Path;

use crate::Pid;

/// The prefix of a private `nats-server`'s temporary directory.
pub const DIR_PREFIX: &str = "ipc-lab-nats-";

/// The command name of `pid` (`/proc/PID/comm`), `None` once it is gone.
pub fn command_name(pid: Pid) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|name| name.trim_end().to_owned())
}

/// Those of `pids` that are `nats-server` processes.
pub fn nats_servers(pids: &[Pid]) -> Vec<Pid> {
    pids.iter()
        .copied()
        .filter(|&pid| command_name(pid).as_deref() == Some("nats-server"))
        .collect()
}

/// The private servers' directories (`ipc-lab-nats-…`) in `dir`.
pub fn server_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(DIR_PREFIX))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_directories_are_found() {
        let me = Pid::from_raw(std::process::id() as i32);
        assert!(command_name(me).is_some());
        assert!(nats_servers(&[me]).is_empty());
        let dir = crate::TempDir::new("nats");
        std::fs::create_dir(dir.join("ipc-lab-nats-1-0")).unwrap();
        std::fs::create_dir(dir.join("other")).unwrap();
        assert_eq!(server_dirs(dir.path()), ["ipc-lab-nats-1-0"]);
    }
}
