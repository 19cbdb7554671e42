//! For the tests of the NATS experiments (`exp1-mom`, `exp1-rpc`,
//! `exp1-dsm`): a role's command line, a role started and awaited until
//! it says it listens, which processes are `nats-server`, and which
//! private server directories a run left behind.
//!
//! A test gives the program a temporary directory of its own
//! (`TMPDIR=<TempDir>`), so that [`server_dirs`] sees only that run's
//! `ipc-lab-nats-…` directories, not those of tests running beside it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use crate::{DEFAULT_TIMEOUT, Pid, Run, Running, TempDir, run_command};

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

/// The private servers' directories (`ipc-lab-nats-…`) in `dir`, sorted.
pub fn server_dirs(dir: &Path) -> Vec<String> {
    crate::entries_starting_with(dir, DIR_PREFIX)
        .into_iter()
        .collect()
}

/// Panics, printing `run`, unless `dir` (the `TMPDIR` that `run` was
/// given) holds no private server's directory: every server the run
/// started removed its files.
#[track_caller]
pub fn assert_no_server_dir(dir: &Path, run: &Run) {
    let left = server_dirs(dir);
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}\n{run}",
        dir.display()
    );
}

/// Runs `bin` with `args` and a temporary directory of its own (`TMPDIR`),
/// bounded by [`DEFAULT_TIMEOUT`], and panics (printing the run) if it left a
/// private server's directory there.
#[track_caller]
pub fn run_leaving_no_server_dir(bin: &str, args: &[&str]) -> Run {
    let tmp = TempDir::new("nats-run");
    let mut command = Command::new(bin);
    command.args(args).env("TMPDIR", tmp.path());
    let run = run_command(command, None, DEFAULT_TIMEOUT);
    assert_no_server_dir(tmp.path(), &run);
    run
}

/// `program --server <server> args…`: a role of a NATS experiment, run
/// against the server (or servers) at `server` (`nats://…`, as
/// ipc-net's `ServerUrls` print).
pub fn role(program: &str, server: impl std::fmt::Display, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.arg("--server").arg(server.to_string()).args(args);
    command
}

/// How long [`start_announced`] waits for a role to say it listens.
pub const ANNOUNCED_WITHIN: Duration = Duration::from_secs(30);

/// Starts the role `program --server <server> --run <run> args…` and
/// returns once it said it listens: `ready`, given how long it may still
/// wait, returns `Some` once the role's message arrived on the run's ready
/// subject (a subscription the caller made with ipc-net before the start,
/// so the message cannot be missed). Panics at once, naming the command
/// and with everything it printed, if the role ends first, and after
/// [`ANNOUNCED_WITHIN`] without the message.
#[track_caller]
pub fn start_announced<T>(
    program: &str,
    server: impl std::fmt::Display,
    run: impl std::fmt::Display,
    args: &[&str],
    ready: impl FnMut(Duration) -> Option<T>,
) -> Running {
    let run = run.to_string();
    let mut all = vec!["--run", run.as_str()];
    all.extend_from_slice(args);
    let running = Running::start(role(program, server, &all), false);
    let what = format!("{all:?} to say it listens");
    running.wait_while_running(ANNOUNCED_WITHIN, &what, ready);
    running
}

/// A loopback port nobody listens on (it was free a moment ago): where a
/// test points a client that must fail to connect.
pub fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// A three-node cluster started with `scripts/nats-cluster.sh` on free
/// loopback ports, its files in a temporary directory of its own; stopped
/// (`nats-cluster.sh stop`) when dropped, also when a test panics.
#[derive(Debug)]
pub struct Cluster {
    script: PathBuf,
    dir: TempDir,
    base: u16,
}

impl Cluster {
    /// Starts the cluster with the script at `script`; panics with the
    /// script's output if it fails.
    #[track_caller]
    pub fn start(script: impl Into<PathBuf>) -> Cluster {
        let cluster = Cluster {
            script: script.into(),
            dir: TempDir::new("cluster"),
            base: free_base(),
        };
        cluster.script(&["start"]).assert_code(0);
        cluster
    }

    /// Runs the script with `args` (`status`, `kill 2`) for this cluster.
    pub fn script(&self, args: &[&str]) -> Run {
        let mut command = Command::new("bash");
        command
            .arg(&self.script)
            .args(args)
            .env("IPC_LAB_NATS_CLUSTER_DIR", self.files())
            .env("IPC_LAB_NATS_CLUSTER_PORT", self.base.to_string());
        run_command(command, None, DEFAULT_TIMEOUT)
    }

    /// The directory of the nodes' stores, logs and pid files.
    pub fn files(&self) -> PathBuf {
        self.dir.join("cluster")
    }

    /// The last `lines` lines of each node's log, each line prefixed with
    /// its node (`n2: …`): for the message of a test that failed.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut tails = String::new();
        for n in 1..=3 {
            let log = std::fs::read_to_string(self.files().join(format!("n{n}.log")))
                .unwrap_or_else(|e| format!("(no log: {e})\n"));
            let all: Vec<&str> = log.lines().collect();
            for line in &all[all.len().saturating_sub(lines)..] {
                tails.push_str(&format!("n{n}: {line}\n"));
            }
        }
        tails
    }

    /// The client URL of node `n` (1 to 3): `nats://127.0.0.1:PORT`.
    pub fn url(&self, n: u16) -> String {
        assert!((1..=3).contains(&n), "node {n}");
        format!("nats://127.0.0.1:{}", self.base + n - 1)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let run = self.script(&["stop"]);
        if !std::thread::panicking() {
            run.assert_code(0);
            assert!(!self.files().exists(), "{run}");
        }
    }
}

/// A base port whose nine ports (clients, routes, monitoring: base+0..2,
/// base+100..102, base+200..202) are free, different for each call, as
/// tests run side by side.
fn free_base() -> u16 {
    static CALLS: AtomicU16 = AtomicU16::new(0);
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let first = (std::process::id() % 97) as u16 * 3 + call * 7;
    (0..50)
        .map(|i| 20_000 + ((first + i * 13) % 400) * 100)
        .find(|&base| {
            (0..3).all(|n| free(base + n) && free(base + 100 + n) && free(base + 200 + n))
        })
        .expect("nine free loopback ports")
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

    #[test]
    fn an_unused_port_refuses_connections() {
        let port = unused_port();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    #[should_panic(expected = "left behind")]
    fn a_server_dir_left_in_tmpdir_fails_the_run() {
        // A "program" that leaves a directory with the prefix in its TMPDIR.
        run_leaving_no_server_dir("sh", &["-c", "mkdir \"$TMPDIR/ipc-lab-nats-9-9\""]);
    }
}
