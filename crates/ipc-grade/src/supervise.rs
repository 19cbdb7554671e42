//! The supervisor of one run inside its namespaces: `ipc-grade
//! supervise`, started by [`crate::isolation`] as the first process (PID 1)
//! of a fresh PID namespace.
//!
//! It is the grader's own program, so it is trusted; everything it starts
//! is not. In order, it:
//!
//! 1. (when the grader runs as root) mounts a `sysfs` that shows only the
//!    run's own network namespace (`/sys/class/net` holds `lo`), sets
//!    `RLIMIT_NPROC`, and becomes the run's unprivileged user, which drops
//!    every capability;
//! 2. makes itself not dumpable (`PR_SET_DUMPABLE`, see `prctl(2)`), so
//!    that no process of the run can trace it or open its descriptors,
//!    and, being PID 1 of its namespace, it receives no signal from them
//!    that it has not asked for (`pid_namespaces(7)`): the code it runs
//!    can neither stop nor fool it;
//! 3. starts the command with standard streams of its own, and reaps every
//!    process of the namespace as they end;
//! 4. stops the run on its time limit or on too many processes (a fork
//!    bomb), or, once the command has ended, when the processes it left
//!    behind have not ended within the grace period: `kill(-1, SIGKILL)`
//!    from PID 1 reaches every other process of the namespace;
//! 5. looks at what the run left: IPC objects in the namespace's own
//!    `/dev/shm` and `/dev/mqueue`, FIFOs and `ipc-lab-*` entries in the
//!    scratch directory, and anything written to `/tmp` outside the
//!    scratch directory;
//! 6. prints one JSON document, a [`Supervised`], on its standard output,
//!    which only the grader reads.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::sandbox::{Trouble, reader};

/// What the supervisor is asked to do (its command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The unprivileged user (and group) to become, when started as root.
    pub uid: Option<u32>,
    /// Mount a sysfs of the run's network namespace on `/sys`.
    pub sysfs: bool,
    /// How long the run may take.
    pub timeout: Duration,
    /// How long processes may outlive the command.
    pub grace: Duration,
    /// How many processes the run may have at once.
    pub max_processes: usize,
    /// The run's scratch directory (`TMPDIR`), created here.
    pub scratch: PathBuf,
    /// The directory to run in.
    pub cwd: PathBuf,
    /// The program and its arguments.
    pub command: Vec<OsString>,
}

impl Request {
    /// The request as `ipc-grade supervise` arguments.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["supervise".into()];
        if let Some(uid) = self.uid {
            args.push(format!("--uid={uid}").into());
        }
        if self.sysfs {
            args.push("--sysfs".into());
        }
        args.push(format!("--timeout-ms={}", self.timeout.as_millis()).into());
        args.push(format!("--grace-ms={}", self.grace.as_millis()).into());
        args.push(format!("--max-processes={}", self.max_processes).into());
        let mut path = |flag: &str, value: &Path| {
            let mut arg = OsString::from(format!("--{flag}="));
            arg.push(value);
            args.push(arg);
        };
        path("scratch", &self.scratch);
        path("cwd", &self.cwd);
        args.push("--".into());
        args.extend(self.command.iter().cloned());
        args
    }

    /// Reads [`Request::to_args`]'s arguments (after `supervise`).
    ///
    /// # Errors
    /// A message naming the argument at fault.
    pub fn from_args(args: &[OsString]) -> Result<Request, String> {
        let mut request = Request {
            uid: None,
            sysfs: false,
            timeout: Duration::from_secs(120),
            grace: Duration::from_secs(5),
            max_processes: 256,
            scratch: PathBuf::new(),
            cwd: PathBuf::from("/"),
            command: Vec::new(),
        };
        let mut rest = args.iter();
        for arg in rest.by_ref() {
            let text = arg.to_string_lossy();
            if text == "--" {
                break;
            }
            let (flag, value) = text.split_once('=').unwrap_or((&text, ""));
            let number = || -> Result<u64, String> {
                value
                    .parse()
                    .map_err(|_| format!("{flag}: not a number: {value}"))
            };
            match flag {
                "--uid" => request.uid = Some(number()? as u32),
                "--sysfs" => request.sysfs = true,
                "--timeout-ms" => request.timeout = Duration::from_millis(number()?),
                "--grace-ms" => request.grace = Duration::from_millis(number()?),
                "--max-processes" => request.max_processes = number()? as usize,
                "--scratch" => request.scratch = value.into(),
                "--cwd" => request.cwd = value.into(),
                _ => return Err(format!("unknown argument {text}")),
            }
        }
        request.command = rest.cloned().collect();
        if request.command.is_empty() {
            return Err("no command to run (after --)".into());
        }
        Ok(request)
    }
}

/// What the supervisor reports (its standard output, as JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Supervised {
    /// The command's exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    /// Its standard output (at most [`OUTPUT_CAP`](crate::sandbox::OUTPUT_CAP) bytes).
    pub stdout: String,
    /// Its standard error (at most [`OUTPUT_CAP`](crate::sandbox::OUTPUT_CAP) bytes).
    pub stderr: String,
    /// What fails the run whatever its status.
    pub troubles: Vec<Trouble>,
    /// Set when the supervisor itself could not do its job.
    pub error: Option<String>,
}

/// Runs `request` and prints its [`Supervised`] report; returns the exit
/// code of `ipc-grade supervise` (0 once the report is printed).
pub fn main(request: &Request) -> i32 {
    let report = supervise(request).unwrap_or_else(|error| Supervised {
        error: Some(error),
        ..Supervised::default()
    });
    match serde_json::to_string(&report) {
        Ok(json) => {
            println!("{json}");
            0
        }
        Err(_) => 1,
    }
}

fn supervise(request: &Request) -> Result<Supervised, String> {
    if request.sysfs {
        use nix::mount::{MsFlags, mount};
        mount(
            Some("sysfs"),
            "/sys",
            Some("sysfs"),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
        .map_err(|e| format!("mount sysfs on /sys: {e}"))?;
    }
    if let Some(uid) = request.uid {
        become_user(uid, request.max_processes)?;
    }
    nix::sys::prctl::set_dumpable(false).map_err(|e| format!("prctl PR_SET_DUMPABLE: {e}"))?;
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("prctl PR_SET_NO_NEW_PRIVS: {e}"))?;
    fs::create_dir_all(&request.scratch)
        .map_err(|e| format!("creating {}: {e}", request.scratch.display()))?;
    // What /tmp holds before the run (the mount points of the tree and of
    // what the run may read) is not the run's doing.
    let before: BTreeSet<PathBuf> = entries(Path::new("/tmp")).into_iter().collect();

    // The readers start before the command: once it runs, a fork bomb
    // may hold every process this user may have, threads included.
    let (out_read, out_write) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let (err_read, err_write) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let stdout = reader(Some(out_read));
    let stderr = reader(Some(err_read));
    let mut command = Command::new(&request.command[0]);
    command
        .args(&request.command[1..])
        .current_dir(&request.cwd)
        .stdin(Stdio::null())
        .stdout(out_write)
        .stderr(err_write);
    let child = command
        .spawn()
        .map_err(|e| format!("starting {}: {e}", Path::new(&request.command[0]).display()))?;
    // The write ends go with `command`, so the readers see the end of
    // the streams once the run's processes are gone.
    drop(command);
    let main = Pid::from_raw(child.id() as i32);
    // The child is reaped by waitpid(-1) below, never by `child`.
    drop(child);

    let mut report = Supervised::default();
    let deadline = Deadline::after(request.timeout);
    let mut grace: Option<Deadline> = None;
    loop {
        // Counted before reaping: a bomb's short-lived processes count
        // too. The kernel stops it at RLIMIT_NPROC, a little above the
        // limit: reaching the limit is the sign.
        let all = processes(true).len();
        reap(main, &mut report);
        let others = processes(false);
        let ended = report.code.is_some() || report.signal.is_some();
        if all >= request.max_processes {
            report
                .troubles
                .push(Trouble::ForkBomb(request.max_processes));
            break;
        }
        if deadline.has_passed() {
            report.troubles.push(Trouble::TimedOut(request.timeout));
            break;
        }
        if ended {
            if others.is_empty() {
                break;
            }
            let until = *grace.get_or_insert_with(|| Deadline::after(request.grace));
            if until.has_passed() {
                let left = others.iter().map(|p| describe(*p)).collect();
                report.troubles.push(Trouble::LeftRunning(left));
                break;
            }
        }
        std::thread::sleep(blocking::WATCH_INTERVAL);
    }
    kill_all(main, &mut report);
    report.stdout = finish(stdout);
    report.stderr = finish(stderr);
    let left = leftovers(&request.scratch);
    if !left.is_empty() {
        report.troubles.push(Trouble::LeftBehind(left, true));
    }
    let outside = outside_scratch(&before);
    if !outside.is_empty() {
        report.troubles.push(Trouble::WroteOutside(outside));
    }
    Ok(report)
}

/// Sets `RLIMIT_NPROC`, then becomes `uid` (group `uid` too, and no other
/// group); the capabilities go with the root user ids.
fn become_user(uid: u32, max_processes: usize) -> Result<(), String> {
    use nix::sys::resource::{Resource, setrlimit};
    use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};
    let limit = max_processes as u64 + 16;
    setrlimit(Resource::RLIMIT_NPROC, limit, limit)
        .map_err(|e| format!("setrlimit RLIMIT_NPROC: {e}"))?;
    let gid = Gid::from_raw(uid);
    setgroups(&[gid]).map_err(|e| format!("setgroups: {e}"))?;
    setresgid(gid, gid, gid).map_err(|e| format!("setresgid {uid}: {e}"))?;
    let uid = Uid::from_raw(uid);
    setresuid(uid, uid, uid).map_err(|e| format!("setresuid {uid}: {e}"))?;
    Ok(())
}

/// Reaps every ended process of the namespace; notes the command's status.
fn reap(main: Pid, report: &mut Supervised) {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => {
                if pid == main {
                    report.code = Some(code);
                }
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) => {
                if pid == main {
                    report.signal = Some(signal as i32);
                }
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The other processes of the namespace (its `/proc` is its own), with
/// or without the zombies not reaped yet.
fn processes(zombies: bool) -> Vec<Pid> {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me && (zombies || !is_zombie(pid)))
        .map(Pid::from_raw)
        .collect()
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rfind(')')
            .and_then(|close| stat[close + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X")
    })
}

/// `pid (command)`.
fn describe(pid: Pid) -> String {
    let command = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    format!("{pid} ({})", command.trim())
}

/// Kills every other process of the namespace until none is left, and
/// reaps them.
fn kill_all(main: Pid, report: &mut Supervised) {
    let deadline = Deadline::after(Duration::from_secs(10));
    loop {
        reap(main, report);
        if processes(false).is_empty() || deadline.has_passed() {
            return;
        }
        // From PID 1: every process of the namespace but this one.
        let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
        std::thread::sleep(blocking::KILL_INTERVAL);
    }
}

/// The IPC objects the run left: everything in the namespace's own
/// `/dev/shm` and `/dev/mqueue`, and the FIFOs and `ipc-lab-*` entries of
/// the scratch directory, as `kind path`.
fn leftovers(scratch: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (kind, dir) in [("shm", "/dev/shm"), ("mq", "/dev/mqueue")] {
        for path in entries(Path::new(dir)) {
            found.push(format!("{kind} {}", path.display()));
        }
    }
    for path in entries(scratch) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let fifo = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_fifo());
        if fifo {
            found.push(format!("fifo {}", path.display()));
        } else if name.is_some_and(|n| n.starts_with("ipc-lab-")) {
            found.push(format!("file {}", path.display()));
        }
    }
    found
}

/// What the run wrote in `/tmp` outside its scratch directory: the
/// entries that were not there `before` it.
fn outside_scratch(before: &BTreeSet<PathBuf>) -> Vec<String> {
    entries(Path::new("/tmp"))
        .into_iter()
        .filter(|p| !before.contains(p))
        .map(|p| p.display().to_string())
        .collect()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

/// What a [`reader`](crate::sandbox) collected: every process that could write is gone,
/// so it has ended (or ends at once).
fn finish(handle: Option<JoinHandle<Vec<u8>>>) -> String {
    handle
        .and_then(|h| h.join().ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_goes_through_its_command_line() {
        let request = Request {
            uid: Some(61003),
            sysfs: true,
            timeout: Duration::from_millis(1500),
            grace: Duration::from_secs(5),
            max_processes: 64,
            scratch: "/tmp/scratch".into(),
            cwd: "/tmp/ipc-lab-grade/ws/exercises/exp7-shm".into(),
            command: vec!["/bin/echo".into(), "--uid=1".into(), "a b".into()],
        };
        let args = request.to_args();
        assert_eq!(args[0], "supervise");
        assert_eq!(Request::from_args(&args[1..]).unwrap(), request);
        let error = Request::from_args(&["--uid=x".into(), "--".into(), "y".into()]).unwrap_err();
        assert!(error.contains("--uid: not a number"), "{error}");
        let error = Request::from_args(&["--".into()]).unwrap_err();
        assert!(error.contains("no command"), "{error}");
    }
}
