//! What `/proc` says about processes: children, zombies, survivors, and
//! bounded waits for them to block, end or vanish.

use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use nix::unistd::Pid;

/// The signals `pid` ignores (`SigIgn` in `/proc/PID/status`); empty if
/// it is gone.
pub fn ignored_signals(pid: Pid) -> Vec<nix::sys::signal::Signal> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    (1..64)
        .filter(|n| mask & (1 << (n - 1)) != 0)
        .filter_map(|n| nix::sys::signal::Signal::try_from(n).ok())
        .collect()
}

/// Processes whose parent is `parent` and that are zombies (ended but not
/// reaped), as `pid:command`.
pub fn zombies_of(parent: Pid) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let Some(stat) = Stat::read(&entry.path()) else {
            continue;
        };
        if stat.state == "Z" && stat.parent == parent.as_raw().to_string() {
            found.push(stat.shown);
        }
    }
    found
}

/// What a test needs of `/proc/PID/stat`.
struct Stat {
    /// `pid:command`, as the helpers show a process.
    shown: String,
    /// The state letter: `S`, `R`, `Z`, …
    state: String,
    /// The parent's pid, as written there.
    parent: String,
}

impl Stat {
    /// The stat of the process whose `/proc` directory is `dir`; `None`
    /// once it is gone.
    fn read(dir: &std::path::Path) -> Option<Stat> {
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let (head, tail) = stat.rsplit_once(')')?;
        let mut fields = tail.split_whitespace();
        Some(Stat {
            shown: head.replace(" (", ":"),
            state: fields.next()?.to_owned(),
            parent: fields.next()?.to_owned(),
        })
    }

    /// The stat of `pid`; `None` once it is gone.
    fn of(pid: &Pid) -> Option<Stat> {
        Stat::read(std::path::Path::new(&format!("/proc/{pid}")))
    }
}

/// The command name of the tracker a run with named objects forks
/// (`ipc_core::owner`): not one of the experiment's processes.
pub const TRACKER: &str = "ipc-lab-tracker";

/// The processes of an experiment forked by `parent`, as pids: every child
/// but the run's tracker ([`TRACKER`]), which watches the run from a
/// session of its own and ends after it.
pub fn children_of(parent: Pid) -> Vec<Pid> {
    every_child_of(parent)
        .into_iter()
        .filter(|&pid| command_of(pid).as_deref() != Some(TRACKER))
        .collect()
}

/// Every process whose parent is `parent`, the tracker included.
pub fn every_child_of(parent: Pid) -> Vec<Pid> {
    let path = format!("/proc/{parent}/task/{parent}/children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .map(Pid::from_raw)
        .collect()
}

/// Those of `pids` that still exist, running or as zombies, as
/// `pid:command`: empty once every one of them has ended and been reaped.
///
/// Record a program's [`children_of`] while it runs; after it has ended,
/// `survivors` of them shows a child that outlived it or was never reaped.
pub fn survivors(pids: &[Pid]) -> Vec<String> {
    pids.iter()
        .filter_map(Stat::of)
        .map(|stat| stat.shown)
        .collect()
}

/// Those of `pids` that still run, as `pid:command`: a process that has
/// ended but is not reaped yet (a zombie) no longer runs.
pub fn still_running(pids: &[Pid]) -> Vec<String> {
    pids.iter()
        .filter_map(Stat::of)
        .filter(|stat| stat.state != "Z" && stat.state != "X")
        .map(|stat| stat.shown)
        .collect()
}

/// Waits up to `timeout` until every one of `pids` is blocked, asleep in
/// the kernel (state `S` in `/proc/PID/stat`: waiting in `read`, `futex`,
/// `nanosleep`, …), so that a signal sent next finds them waiting; panics
/// after `timeout`, naming each one's state.
#[track_caller]
pub fn wait_blocked(pids: &[Pid], timeout: Duration) {
    let state = |pid: &Pid| state_of(*pid);
    let states = || -> Vec<String> { pids.iter().map(|p| format!("{p}:{}", state(p))).collect() };
    let blocked = blocking::poll_until(Deadline::after(timeout), blocking::STEP_INTERVAL, || {
        if pids.iter().all(|pid| state(pid) == "S") {
            return Some(());
        }
        // One that has ended (a zombie, or reaped) never blocks again.
        if pids
            .iter()
            .any(|pid| matches!(state(pid).as_str(), "Z" | "X" | "gone"))
        {
            panic!("ended before they all blocked: {:?}", states());
        }
        None
    });
    if blocked.is_none() {
        panic!("not all blocked after {timeout:?}: {:?}", states());
    }
}

/// Waits up to `timeout` until `pid` is asleep inside the system call
/// `call` (a `libc::SYS_*` number, read from `/proc/PID/syscall`, see
/// `proc_pid_syscall(5)`): the moment a test wants, "the client waits for
/// its answer", known instead of assumed after a sleep. Panics after
/// `timeout`, or when `pid` has ended, naming what it was doing.
#[track_caller]
pub fn wait_in_syscall(pid: Pid, call: nix::libc::c_long, timeout: Duration) {
    let doing = || {
        std::fs::read_to_string(format!("/proc/{pid}/syscall"))
            .map(|text| text.split_whitespace().next().unwrap_or("").to_owned())
            .unwrap_or_else(|_| "gone".into())
    };
    let inside = blocking::poll_until(Deadline::after(timeout), blocking::STEP_INTERVAL, || {
        let now = doing();
        if now == "gone" || matches!(state_of(pid).as_str(), "Z" | "X" | "gone") {
            panic!("{pid} ended before it waited in system call {call}");
        }
        (now == call.to_string() && state_of(pid) == "S").then_some(())
    });
    if inside.is_none() {
        panic!(
            "{pid} not asleep in system call {call} after {timeout:?}: in {} (state {})",
            doing(),
            state_of(pid)
        );
    }
}

/// The state letter of `pid` in `/proc/PID/stat` (`S`, `R`, `Z`, …), or
/// `gone`.
fn state_of(pid: Pid) -> String {
    Stat::of(&pid).map_or_else(|| "gone".into(), |stat| stat.state)
}

/// Waits up to `timeout` until none of `pids` runs any more (see
/// [`still_running`]); returns those that still do then.
pub fn wait_ended(pids: &[Pid], timeout: Duration) -> Vec<String> {
    wait_for_empty(|| still_running(pids), timeout)
}

/// Waits up to `timeout` until none of `pids` exists, not even as a
/// zombie (see [`survivors`]); returns those that still do then.
pub fn wait_gone(pids: &[Pid], timeout: Duration) -> Vec<String> {
    wait_for_empty(|| survivors(pids), timeout)
}

fn wait_for_empty(left: impl Fn() -> Vec<String>, timeout: Duration) -> Vec<String> {
    let deadline = Deadline::after(timeout);
    blocking::poll_until(deadline, blocking::STEP_INTERVAL, || {
        let now = left();
        (now.is_empty() || deadline.has_passed()).then_some(now)
    })
    .unwrap_or_else(left)
}

/// Sends `signal` to the process `pid`, if it still exists.
pub fn signal_pid(pid: Pid, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(pid, signal);
}

/// The command name of process `pid` (`/proc/PID/comm`), if it exists.
pub fn command_of(pid: Pid) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|comm| comm.trim_end().to_owned())
}

/// True when the tests run as root: some need it (making an object of
/// another user with `chown`) and say they were skipped otherwise.
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// True when the message queue file system is mounted on `/dev/mqueue`,
/// where a queue can be seen, given to another user or found left over
/// (`mq_overview(7)`); `mq_open(3)` works without it.
pub fn mqueue_mounted() -> bool {
    std::fs::read_to_string("/proc/mounts").is_ok_and(|m| m.contains(" /dev/mqueue mqueue "))
}

/// Ends the calling test early, as skipped, unless `$needs` holds: it
/// prints `skipped: ` and the reason, then returns. For a test that needs
/// what a machine may lack (root, a mounted `/dev/mqueue`, nats-server),
/// so that every such test says the same line when it did not run.
///
/// ```
/// fn check(tool_here: bool, ran: &mut bool) {
///     ipc_testkit::skip_unless!(tool_here, "the tool {} is not installed", "x");
///     *ran = true;
/// }
/// let mut ran = false;
/// check(false, &mut ran);
/// assert!(!ran, "skipped");
/// check(true, &mut ran);
/// assert!(ran);
/// ```
#[macro_export]
macro_rules! skip_unless {
    ($needs:expr, $($why:tt)+) => {
        if !$needs {
            println!("skipped: {}", format_args!($($why)+));
            return;
        }
    };
}

/// Polls `done` every [`blocking::STEP_INTERVAL`] for up to `timeout`;
/// true as soon as it holds, false if it never did. For what another
/// process does in its own time (a tracker removing a dead run's objects).
pub fn eventually(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    blocking::poll_until(Deadline::after(timeout), blocking::STEP_INTERVAL, || {
        done().then_some(())
    })
    .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use std::process::{Child, Command};
    use std::time::Instant;

    /// `program args` started as a child of the test, with its pid.
    fn spawn(program: &str, args: &[&str]) -> (Child, Pid) {
        let child = Command::new(program).args(args).spawn().unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        (child, pid)
    }

    /// Kills `child` and reaps it.
    fn end(mut child: Child) {
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn ignored_signals_are_read_from_proc() {
        let (child, pid) = spawn("sh", &["-c", "trap '' QUIT; exec sleep 30"]);
        let ignores_quit = || ignored_signals(pid).contains(&nix::sys::signal::Signal::SIGQUIT);
        let seen = eventually(Duration::from_secs(10), ignores_quit);
        end(child);
        assert!(seen, "sleep does not ignore SIGQUIT");
        assert!(!ignored_signals(Pid::this()).contains(&nix::sys::signal::Signal::SIGKILL));
    }

    #[test]
    fn survivors_are_the_processes_that_still_exist() {
        let (child, pid) = spawn("sleep", &["30"]);
        assert_eq!(survivors(&[pid]), [format!("{pid}:sleep")]);
        let outcome = std::panic::catch_unwind(|| {
            run("true", &[]).assert_all_ended(&[pid]);
        });
        crate::panicked_saying(outcome, &format!("still there: [\"{pid}:sleep\"]"));
        end(child);
        assert!(survivors(&[pid]).is_empty());
        run("true", &[]).assert_all_ended(&[pid]);
    }

    #[test]
    fn a_zombie_has_ended_but_is_not_gone() {
        let (mut child, pid) = spawn("true", &[]);
        assert_eq!(
            wait_ended(&[pid], Duration::from_secs(10)),
            Vec::<String>::new()
        );
        assert_eq!(survivors(&[pid]), [format!("{pid}:true")], "a zombie");
        child.wait().unwrap();
        assert!(wait_gone(&[pid], Duration::ZERO).is_empty());
    }

    #[test]
    fn a_sleeping_process_is_blocked() {
        let (child, pid) = spawn("sleep", &["30"]);
        wait_blocked(&[pid], Duration::from_secs(10));
        end(child);
        // Ended: it never blocks again, and the wait says so at once.
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| wait_blocked(&[pid], Duration::from_secs(60)));
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert_eq!(
            message,
            format!("ended before they all blocked: [\"{pid}:gone\"]")
        );
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_busy_process_is_not_blocked() {
        let (child, pid) = spawn("sh", &["-c", "while :; do :; done"]);
        let outcome = std::panic::catch_unwind(|| wait_blocked(&[pid], Duration::from_millis(50)));
        end(child);
        crate::panicked_saying(outcome, "not all blocked after 50ms: [\"");
    }

    #[test]
    fn a_running_process_is_still_running() {
        let (child, pid) = spawn("sleep", &["30"]);
        assert_eq!(
            wait_ended(&[pid], Duration::from_millis(50)),
            [format!("{pid}:sleep")]
        );
        end(child);
    }
}
