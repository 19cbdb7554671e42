//! A client tells a busy server from a dead one, and a server whose name
//! is taken says who has it with a command that does what it says.
//!
//! * 30 clients against one server, at its 200 ms a request and the
//!   default 5 s timeout: every client gets its answer.
//! * A server alive but busy past the client's patience is named as
//!   alive and busy; a server killed (by its run's tracker, or with its
//!   tracker too) is named as gone.
//! * A taken name: a live server's pid that `kill` stops, a leftover that
//!   `scripts/clean.sh` removes, another user's queue that nothing here
//!   may remove.

use std::process::Command;
use std::time::{Duration, Instant};

use exp3_clientserver::protocol::bare;
use ipc_core::IpcName;
use ipc_core::mqueue::MessageQueue;
use ipc_testkit::{
    CLEAN_SH, Pid, Run, Running, SIGNAL_DEADLINE, Sig, TRACKER, clean_sh_unavailable, command_of,
    eventually, every_child_of, one_at_a_time, run, run_command, running_as_root, signal_pid,
    skip_unless, survivors, wait_blocked,
};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-clientserver");
const WAIT: Duration = Duration::from_secs(60);

/// A well-known queue of this test alone; removed when dropped if still
/// there.
struct Name(IpcName);

impl Name {
    fn new(tag: &str) -> Name {
        Name(IpcName::new(&format!("csliving-{}-{tag}", std::process::id())).unwrap())
    }

    /// As the user types it, after `--name`.
    fn typed(&self) -> &str {
        bare(&self.0)
    }

    fn exists(&self) -> bool {
        MessageQueue::exists(&self.0).unwrap()
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = MessageQueue::remove_existing(&self.0);
    }
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    command
}

/// `exp3-clientserver server --name NAME ARGS…`, once it listens.
fn serving(name: &Name, args: &[&str]) -> Running {
    let mut command = command(&["server", "--name", name.typed()]);
    command.args(args);
    let mut running = Running::start(command, false);
    running.wait_for_lines(1, WAIT, |l| l.starts_with("Server (pid "));
    running
}

/// `client 1 --timeout SECS --name NAME`, once it waits for its answer.
fn waiting_client(name: &Name, timeout: &str) -> Running {
    let mut asking = Running::start(
        command(&["client", "1", "--timeout", timeout, "--name", name.typed()]),
        false,
    );
    asking.wait_for_lines(1, WAIT, |l| l.starts_with("Client 1 (pid "));
    wait_blocked(&[asking.pid()], WAIT);
    asking
}

#[test]
fn thirty_clients_at_the_default_timeout_are_all_answered() {
    let _serial = one_at_a_time();
    let name = Name::new("thirty");
    let start = Instant::now();
    let run = run(BIN, &["--clients", "30", "--name", name.typed()]);
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stderr, "", "{run}");
    let mut lines = run.stdout_lines();
    assert_eq!(lines.pop(), Some("Server answered 30 requests"), "{run}");
    lines.sort_unstable();
    let mut expected: Vec<String> = (1..=30_i64)
        .map(|k| format!("Client {k} sent {}, received {}", k + 5, (k + 5) * (k + 5)))
        .collect();
    expected.sort_unstable();
    assert_eq!(lines, expected, "{run}");
    // 30 requests at 200 ms: past the clients' 5 s, they waited on.
    assert!(start.elapsed() > Duration::from_secs(5), "{run}");
    assert!(!name.exists());
}

#[test]
fn a_server_alive_but_busy_is_named_as_busy() {
    let _serial = one_at_a_time();
    let name = Name::new("busy");
    let server = serving(&name, &["--delay", "60000"]);
    let start = Instant::now();
    let asked = waiting_client(&name, "1").finish(WAIT);
    let took = start.elapsed();
    asked
        .assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[&format!(
            "Client 1: no answer from the server at /{} within 6s: the server is alive but busy",
            name.0
        )]);
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(20),
        "{took:?}"
    );
    server.signal(Sig::SIGINT);
    server
        .finish(SIGNAL_DEADLINE)
        .assert_code(0)
        .assert_no_panic();
}

/// The run's tracker among the processes `parent` started.
fn tracker_of(parent: Pid) -> Option<Pid> {
    every_child_of(parent)
        .into_iter()
        .find(|&pid| command_of(pid).as_deref() == Some(TRACKER))
}

/// Kills the server of `name` with SIGKILL (and first its run's tracker,
/// with `tracker`), while a client with a 1 s timeout waits for its
/// answer, and panics unless the client failed at its first look saying
/// the server is gone and `why` (what the message says after `gone (`).
/// Returns the client's run.
#[track_caller]
fn client_of_a_killed_server(name: &Name, tracker: bool, why: &str) -> Run {
    let server = serving(name, &["--delay", "20000"]);
    let asking = waiting_client(name, "1");
    let tracker = tracker.then(|| {
        let tracker = tracker_of(server.pid()).expect("a run with a queue has a tracker");
        signal_pid(tracker, Sig::SIGKILL);
        tracker
    });
    server.signal(Sig::SIGKILL);
    let killed = server.finish(WAIT);
    assert_eq!(killed.code(), None, "killed\n{killed}");
    // Once its parent, the server, has gone, the tracker is reaped.
    let trackers: Vec<Pid> = tracker.into_iter().collect();
    assert!(eventually(WAIT, || survivors(&trackers).is_empty()));
    let start = Instant::now();
    let asked = asking.finish(WAIT);
    // Named dead at its first look, a timeout after it started waiting,
    // not after the patience a busy server gets.
    assert!(start.elapsed() < Duration::from_secs(4), "{asked}");
    asked.assert_code(1).assert_no_panic();
    asked.assert_stderr_contains(&[&format!(
        "Client 1: no answer from the server at /{} within 1s: the server is gone ({why}",
        name.0
    )]);
    asked
}

#[test]
fn a_killed_server_is_named_as_gone() {
    let _serial = one_at_a_time();
    let name = Name::new("killed");
    let removed = format!("its queue /{} has been removed)", name.0);
    client_of_a_killed_server(&name, false, &removed);
    assert!(!name.exists());
}

#[test]
fn a_server_killed_with_its_tracker_is_named_as_gone_and_clean_sh_removes_its_queue() {
    let _serial = one_at_a_time();
    let name = Name::new("killed-all");
    let ended = "its run has ended; the next ipc-lab program to start, or `scripts/clean.sh`, \
                 removes its queue)";
    let asked = client_of_a_killed_server(&name, true, ended);
    // No other program of this test ran meanwhile (one test at a time):
    // nobody was left to remove it.
    assert!(name.exists(), "{asked}");
    match clean_sh_unavailable() {
        Some(why) => println!("skipped, the part of clean.sh: {why}"),
        None => {
            let cleaned = run(CLEAN_SH, &[]);
            cleaned.assert_code(0);
            assert!(!name.exists(), "{cleaned}");
        }
    }
}

#[test]
fn a_name_taken_by_a_live_server_names_its_pid_and_kill_frees_it() {
    let _serial = one_at_a_time();
    let name = Name::new("taken-live");
    let first = serving(&name, &["--fast"]);
    let pid = first.pid();
    let second = run(BIN, &["server", "--name", name.typed()]);
    second
        .assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[
            "File exists",
            &format!("another server is running on it (pid {pid})"),
            &format!("`kill {pid}`"),
        ]);
    // What the hint says: `kill PID` stops it, and frees the name.
    run_command(
        {
            let mut kill = Command::new("kill");
            kill.arg(pid.to_string());
            kill
        },
        None,
        WAIT,
    )
    .assert_code(0);
    first.finish(SIGNAL_DEADLINE).assert_code(0);
    let mut again = Running::start(
        command(&["server", "--fast", "--name", name.typed()]),
        false,
    );
    again.wait_for_lines(1, WAIT, |l| l.starts_with("Server (pid "));
    again.signal(Sig::SIGTERM);
    again.finish(SIGNAL_DEADLINE).assert_code(0);
}

#[test]
fn a_leftover_name_is_removed_by_the_clean_sh_the_hint_names() {
    let _serial = one_at_a_time();
    let name = Name::new("taken-left");
    // Kept on purpose, as a sender's queue for a later receiver: no run
    // lists it, and nobody holds it open.
    let mut left = MessageQueue::create(&name.0, 2, 64).unwrap();
    left.keep();
    drop(left);
    let refused = run(BIN, &["server", "--name", name.typed()]);
    let command = format!("`scripts/clean.sh {}` removes it", name.0.as_str());
    refused
        .assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&["File exists", "no process holds it open", &command]);
    match clean_sh_unavailable() {
        Some(why) => println!("skipped, the part of clean.sh: {why}"),
        None => {
            let cleaned = run(CLEAN_SH, &[name.0.as_str()]);
            cleaned.assert_code(0);
            assert!(!name.exists(), "{cleaned}");
        }
    }
}

#[test]
fn a_name_taken_by_another_user_is_said_so_and_left_alone() {
    let _serial = one_at_a_time();
    skip_unless!(
        running_as_root(),
        "only root can make a queue of another user here"
    );
    let name = Name::new("taken-other");
    let mut theirs = MessageQueue::create(&name.0, 2, 64).unwrap();
    theirs.keep();
    drop(theirs);
    let file = format!("/dev/mqueue/{}", name.0.as_str());
    skip_unless!(
        std::os::unix::fs::chown(&file, Some(65534), Some(65534)).is_ok(),
        "{file} cannot be given to uid 65534 (is /dev/mqueue mounted?)"
    );
    let refused = run(BIN, &["server", "--name", name.typed()]);
    refused
        .assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[
            "File exists",
            "belongs to uid 65534, not to you; choose another --name",
        ]);
    assert!(!refused.stderr.contains("clean.sh"), "{refused}");
    assert!(name.exists());
    std::fs::remove_file(&file).unwrap();
}
