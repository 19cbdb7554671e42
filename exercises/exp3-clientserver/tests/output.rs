//! Runs the real `exp3-clientserver` binary: the default lines, ten
//! clients, the two roles in separate processes, a client and the server
//! killed with SIGKILL, a client without a server, signals, bad input, the
//! handout; and after each, that no queue is left in /dev/mqueue.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ipc_testkit::{
    Pid, Run, Running, SIGNAL_DEADLINE, Sig, eventually, mqueue_mounted, run, skip_unless,
    wait_in_syscall,
};
use ipc_testkit::{contract, squares};
use nix::libc::SYS_mq_timedreceive;

const BIN: &str = env!("CARGO_BIN_EXE_exp3-clientserver");

const WAIT: Duration = Duration::from_secs(30);

/// A well-known queue name of this test alone, and the check that no
/// queue of it (its own, its clients' reply queues) is left.
struct Server(String);

impl Server {
    fn new(tag: &str) -> Server {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Server(format!("ipc-lab-cstest-{}-{n}-{tag}", std::process::id()))
    }

    /// The name without the prefix, as it appears in the reply queues.
    fn bare(&self) -> &str {
        self.0.strip_prefix("ipc-lab-").unwrap()
    }

    /// The queues of this server and its clients in /dev/mqueue.
    fn queues(&self) -> Vec<String> {
        ipc_testkit::prefixed_entries("/dev/mqueue")
            .into_iter()
            .filter(|q| q.contains(self.bare()))
            .collect()
    }

    #[track_caller]
    fn assert_nothing_left(&self, run: &Run) {
        if !mqueue_mounted() {
            println!("/dev/mqueue is not mounted: not checking for leftovers");
            return;
        }
        let left = self.queues();
        assert!(left.is_empty(), "left in /dev/mqueue: {left:?}\n{run}");
    }
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    command
}

#[test]
fn the_default_run_prints_each_client_then_the_server() {
    let running = Running::start(command(&[]), false);
    let pid = running.pid();
    let run = running.finish(WAIT);
    squares::assert_default_run(&run, 3);
    // Its queues are named after the parent's pid: none is left.
    let left: Vec<String> = ipc_testkit::prefixed_entries("/dev/mqueue")
        .into_iter()
        .filter(|q| q.contains(&format!("-{pid}-")))
        .collect();
    assert!(left.is_empty(), "{left:?}\n{run}");
}

#[test]
fn fast_prints_the_same_lines() {
    let server = Server::new("fast");
    let run = run(BIN, &["--fast", "--name", &server.0]);
    squares::assert_default_run(&run, 3);
    server.assert_nothing_left(&run);
}

#[test]
fn ten_clients_are_all_answered() {
    let server = Server::new("ten");
    let run = run(BIN, &["--fast", "--clients", "10", "--name", &server.0]);
    squares::assert_default_run(&run, 10);
    server.assert_nothing_left(&run);
}

/// Waits until `path` exists, made by `pid`; panics after [`WAIT`], or at
/// once if `pid` has ended (it will never make it).
#[track_caller]
fn wait_for_path(path: &str, pid: Pid) {
    let made = eventually(WAIT, || {
        assert!(
            !ipc_testkit::still_running(&[pid]).is_empty(),
            "{pid} ended without making {path}"
        );
        Path::new(path).exists()
    });
    assert!(made, "no {path}");
}

/// The pid of the client `victim` (its spawn order: the server first, then
/// client 1, 2, …) once its reply queue exists and it has had the time to
/// send its request and start waiting for the answer.
fn waiting_client(running: &Running, server: &Server, clients: usize, victim: usize) -> Pid {
    let children = running.wait_for_children(clients + 1, WAIT);
    let pid = children[victim];
    let reply = format!("/dev/mqueue/ipc-lab-{pid}-{}-reply", server.bare());
    wait_for_path(&reply, pid);
    // The server answers after its 800 ms: the client waits in its receive.
    wait_in_syscall(pid, SYS_mq_timedreceive, WAIT);
    pid
}

#[test]
fn a_client_killed_while_waiting_does_not_stop_the_server() {
    skip_unless!(
        mqueue_mounted(),
        "/dev/mqueue is not mounted, the victim's queue cannot be watched"
    );
    let server = Server::new("client-killed");
    let running = Running::start(
        command(&["--delay", "800", "--timeout", "20", "--name", &server.0]),
        false,
    );
    let victim = waiting_client(&running, &server, 3, 3);
    nix::sys::signal::kill(victim, Sig::SIGKILL).unwrap();
    let run = running.finish(WAIT);
    // The server logged the answer it could not deliver, and went on.
    let log = squares::assert_served_on_without_client_3(&run, BIN);
    assert_eq!(log.len(), 1, "{run}");
    assert!(
        log[0].starts_with("Server: no answer to client 3: mq_open /ipc-lab-")
            && log[0].ends_with("No such file or directory (the client is gone)"),
        "{run}"
    );
    server.assert_nothing_left(&run);
}

#[test]
fn a_killed_server_makes_every_client_give_up_in_time() {
    let server = Server::new("server-killed");
    let running = Running::start(
        command(&["--delay", "800", "--timeout", "2", "--name", &server.0]),
        false,
    );
    let children = running.wait_for_children(4, WAIT);
    let queue = format!("/dev/mqueue/{}", server.0);
    if mqueue_mounted() {
        wait_for_path(&queue, children[0]);
    }
    let killed = Instant::now();
    nix::sys::signal::kill(children[0], Sig::SIGKILL).unwrap();
    let run = running.finish(WAIT);
    let took = killed.elapsed();
    // A client gives up either waiting for the answer, or, once the dead
    // server's run has removed its queue, finding no server at all.
    squares::assert_clients_gave_up(&run, BIN, took, &children, |n, line| {
        line.starts_with(&format!("Client {n}: no "))
            && line.contains(&format!("/{} within 2s", server.0))
    });
    server.assert_nothing_left(&run);
}

#[test]
fn the_roles_serve_and_ask_from_separate_processes() {
    let server = Server::new("roles");
    let mut serving = Running::start(command(&["server", "--fast", "--name", &server.0]), false);
    serving.wait_for_lines(1, WAIT, |l| l.starts_with("Server (pid "));
    let client = |args: &[&str]| {
        let mut all = vec!["client"];
        all.extend_from_slice(args);
        all.extend(["--name", &server.0]);
        run(BIN, &all)
    };
    // A second server on the same name is refused.
    let (_, run) = squares::assert_roles_serve_and_ask(
        serving,
        client,
        || run(BIN, &["server", "--name", &server.0]),
        &["File exists", "another server is running"],
    );
    server.assert_nothing_left(&run);
}

#[test]
fn a_client_role_killed_while_waiting_leaves_no_queue() {
    let server = Server::new("role-killed");
    let mut serving = Running::start(
        command(&["server", "--delay", "1000", "--name", &server.0]),
        false,
    );
    serving.wait_for_lines(1, WAIT, |l| l.starts_with("Server (pid "));
    let mut asking = Running::start(command(&["client", "1", "--name", &server.0]), false);
    asking.wait_for_lines(1, WAIT, |l| l.starts_with("Client 1 (pid "));
    wait_in_syscall(asking.pid(), SYS_mq_timedreceive, WAIT);
    asking.signal(Sig::SIGKILL);
    let killed = asking.finish(WAIT);
    assert_eq!(killed.status.code(), None, "killed\n{killed}");
    // The dead client's run removes its reply queue (its tracker, once
    // the client is gone): the server, a second later, finds no one to
    // answer, says so, and goes on.
    let only_the_server = || server.queues().iter().all(|q| q == &server.0);
    assert!(eventually(WAIT, only_the_server), "{:?}", server.queues());
    serving.wait_for_lines(1, WAIT, |l| l.starts_with("Server: no answer to client 1:"));
    serving.signal(Sig::SIGTERM);
    let run = serving.finish(SIGNAL_DEADLINE);
    run.assert_code(0);
    run.assert_stdout_contains(&[
        "(the client is gone)",
        "Server: interrupted by SIGTERM",
        "Server answered 0 requests",
    ]);
    server.assert_nothing_left(&run);
}

#[test]
fn a_client_without_a_server_gives_up_with_a_clear_message() {
    let server = Server::new("nobody");
    let start = Instant::now();
    let run = run(BIN, &["client", "1", "--timeout", "1", "--name", &server.0]);
    let took = start.elapsed();
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(&[
            &format!("Client 1: no server at /{} within 1s", server.0),
            &format!(
                "start `exp3-clientserver server --name {}` first",
                server.bare()
            ),
        ]);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
    server.assert_nothing_left(&run);
}

#[test]
fn ctrl_c_ends_a_waiting_client_and_removes_its_queue() {
    let server = Server::new("client-sigint");
    let mut asking = Running::start(command(&["client", "3", "--name", &server.0]), false);
    asking.wait_for_lines(1, WAIT, |l| l.starts_with("Client 3 (pid "));
    let run = squares::assert_client_interrupted(asking);
    server.assert_nothing_left(&run);
}

#[test]
fn sigterm_to_the_parent_ends_the_default_run_and_removes_every_queue() {
    let server = Server::new("sigterm");
    let default_run = command(&["--delay", "2000", "--name", &server.0]);
    let run = squares::assert_sigterm_ends_the_default_run(default_run);
    server.assert_nothing_left(&run);
}

#[test]
fn bad_input_exits_with_2_and_no_panic() {
    let cases: [(&[&str], &str); 7] = [
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--clients", "0"], "--clients"),
        (&["client"], "<N>"),
        (&["client", "0"], "0"),
        (&["client", "1", "--number", "3037000500"], "3037000500"),
        (&["--name", "a/b"], "contains '/'"),
        (&["server", "--clients", "2"], "--clients"),
    ];
    contract::assert_refused(|args| run(BIN, args), &cases);
    // Every wrong list of numbers, and numbers with --clients or a role.
    squares::assert_bad_numbers_refused(BIN);
    run(BIN, &["--numbers", "4", "server"])
        .assert_bad_usage("--numbers belongs to the default run");
}

#[test]
fn help_explains_the_roles_and_the_exit_codes() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "message queue",
            "server",
            "client",
            "--clients",
            "--numbers",
            "--timeout",
            "--name",
            "--fast",
        ],
    );
}

#[test]
fn the_handout_shows_a_real_run() {
    squares::assert_handout_shows_a_real_run(env!("CARGO_MANIFEST_DIR"), "exp3-clientserver", BIN);
}
