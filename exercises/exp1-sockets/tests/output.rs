//! Runs the real `exp1-sockets` binary: the default lines (over TCP, a
//! Unix socket, with a forking server), many clients, the two roles in
//! separate processes, a wrong authkey, an address nobody listens on, a
//! client and the server killed with SIGKILL (in the default run and as
//! roles), signals, a full disk, a closed standard output, bad input, the
//! framing demonstration and the handout; and that no socket file is left.

use std::cell::RefCell;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{
    Pid, Run, Running, SIGNAL_DEADLINE, Sig, TempDir, run, run_into_full_disk, wait_blocked,
    wait_in_syscall,
};
use ipc_testkit::{contract, squares};
use nix::libc::SYS_clock_nanosleep;

const BIN: &str = env!("CARGO_BIN_EXE_exp1-sockets");

const WAIT: Duration = Duration::from_secs(30);

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    command
}

/// Waits for the first line of `running` that starts with `prefix`, and
/// returns it.
fn line_starting(running: &mut Running, prefix: &str) -> String {
    let found = RefCell::new(None);
    running.wait_for_lines(1, WAIT, |line| {
        let hit = line.starts_with(prefix);
        if hit && found.borrow().is_none() {
            *found.borrow_mut() = Some(line.to_owned());
        }
        hit
    });
    found.into_inner().unwrap_or_default()
}

#[test]
fn the_default_run_prints_each_client_then_the_server() {
    squares::assert_default_run(&run(BIN, &[]), 3);
}

#[test]
fn fast_prints_the_same_lines() {
    squares::assert_default_run(&run(BIN, &["--fast"]), 3);
}

#[test]
fn a_forking_server_prints_the_same_lines() {
    squares::assert_default_run(&run(BIN, &["--fast", "--fork"]), 3);
}

#[test]
fn ten_clients_are_all_answered() {
    squares::assert_default_run(&run(BIN, &["--fast", "--clients", "10"]), 10);
}

#[test]
fn a_unix_socket_serves_the_same_and_leaves_no_file() {
    let dir = TempDir::new("exp1-sockets-unix");
    let path = dir.join("server.sock");
    let run = run(BIN, &["--fast", "--unix", path.to_str().unwrap()]);
    squares::assert_default_run(&run, 3);
    assert!(!path.exists(), "{} is left\n{run}", path.display());
}

#[test]
fn the_roles_serve_and_ask_from_separate_processes() {
    let (serving, address) = squares::start_server_role(
        BIN,
        &["--listen", "127.0.0.1:0", "--authkey", "k3y", "--fast"],
    );
    let client = |args: &[&str]| {
        let mut all = vec!["client"];
        all.extend_from_slice(args);
        all.extend(["--connect", &address, "--authkey", "k3y"]);
        run(BIN, &all)
    };
    // A second server on the same address is refused, saying why.
    let (first, run) = squares::assert_roles_serve_and_ask(
        serving,
        client,
        || run(BIN, &["server", "--listen", &address, "--authkey", "k3y"]),
        &["Address already in use", "another server listens there"],
    );
    assert_eq!(
        first.stdout_lines(),
        [
            &*format!(
                "Client 2 (pid {}) connects to {address} and sends 7",
                first_pid(&first)
            ),
            "Client 2 sent 7, received 49"
        ],
        "{first}"
    );
    assert_eq!(run.stderr, "", "{run}");
}

/// Stops the server role `serving` with `signal` and checks that it ended
/// with exit code 0, having said every one of `lines`; returns the run.
fn stop_server(serving: Running, signal: Sig, lines: &[&str]) -> Run {
    serving.signal(signal);
    let run = serving.finish(SIGNAL_DEADLINE);
    run.assert_code(0).assert_stdout_contains(lines);
    run
}

/// The pid a role's first line gives.
fn first_pid(run: &Run) -> String {
    run.stdout
        .split("(pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_server_without_a_key_makes_one_and_says_it() {
    let dir = TempDir::new("exp1-sockets-key");
    let path = dir.join("s.sock");
    let (mut serving, address) =
        squares::start_server_role(BIN, &["--unix", path.to_str().unwrap(), "--fast"]);
    assert_eq!(address, path.display().to_string());
    let said = line_starting(&mut serving, "Server: clients connect with --authkey ");
    let key = said.rsplit(' ').next().unwrap().to_owned();
    assert!(
        key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "{said:?}"
    );
    let asked = run(BIN, &["client", "1", "--unix", &address, "--authkey", &key]);
    squares::assert_answered(&asked, "Client 1 sent 6, received 36");
    let run = stop_server(serving, Sig::SIGTERM, &["Server answered 1 request"]);
    assert!(!path.exists(), "{} is left\n{run}", path.display());
}

/// Runs client 1 against the server at `address` with `authkey`, and
/// panics unless it failed with exit code 1, no panic, and `said` on
/// stderr. Returns the run.
#[track_caller]
fn client_1_fails(address: &str, authkey: &str, said: &[&str]) -> Run {
    let failed = run(
        BIN,
        &["client", "1", "--connect", address, "--authkey", authkey],
    );
    failed
        .assert_code(1)
        .assert_no_panic()
        .assert_stderr_contains(said);
    failed
}

#[test]
fn a_wrong_authkey_is_refused_with_exit_1_and_a_clear_message() {
    let (serving, address) =
        squares::start_server_role(BIN, &["--listen", "127.0.0.1:0", "--authkey", "right"]);
    let refused = client_1_fails(
        &address,
        "wrong",
        &[
            &format!("Client 1: the server at {address} did not let this client in"),
            "exp1-sockets: authentication failed:",
            "refused our answer to its challenge: the authkeys differ",
        ],
    );
    assert!(!refused.stdout.contains("received"), "{refused}");
    // The server said so, and goes on serving those who know the key.
    let welcome = run(
        BIN,
        &["client", "1", "--connect", &address, "--authkey", "right"],
    );
    welcome.assert_code(0);
    stop_server(
        serving,
        Sig::SIGINT,
        &[
            "Server: a client refused: the peer 127.0.0.1:",
            "answered our challenge with a wrong HMAC-sha256: the authkeys differ",
            "Server answered 1 request",
        ],
    );
}

#[test]
fn an_address_nobody_listens_on_is_named() {
    // A port that was free a moment ago: nobody listens there.
    let address = format!("127.0.0.1:{}", ipc_testkit::nats::unused_port());
    client_1_fails(
        &address,
        "k",
        &[
            &format!("Client 1: could not reach a server at {address}"),
            &format!("exp1-sockets: connect {address}: Connection refused"),
        ],
    );
    let dir = TempDir::new("exp1-sockets-nobody");
    let path = dir.join("nobody.sock");
    let path = path.to_str().unwrap();
    run(BIN, &["client", "1", "--unix", path, "--authkey", "k"])
        .assert_code(1)
        .assert_stderr_contains(&[&format!(
            "exp1-sockets: connect {path}: No such file or directory"
        )]);
}

/// The default run over a Unix socket in a directory of its own, with the
/// server taking 800 ms per request; its parent's children once started.
fn slow_unix_run(dir: &TempDir, timeout: &str) -> (Running, Vec<Pid>) {
    let path = dir.join("server.sock");
    let running = Running::start(
        command(&[
            "--delay",
            "800",
            "--timeout",
            timeout,
            "--unix",
            path.to_str().unwrap(),
        ]),
        false,
    );
    let children = running.wait_for_children(4, WAIT);
    (running, children)
}

#[test]
fn a_client_killed_while_waiting_does_not_stop_the_server() {
    let dir = TempDir::new("exp1-sockets-client-killed");
    let (running, children) = slow_unix_run(&dir, "20");
    let victim = children[3];
    // Client 3 has connected and waits: for the handshake (the server is
    // busy with another client) or for its answer.
    wait_blocked(&[victim], WAIT);
    nix::sys::signal::kill(victim, Sig::SIGKILL).unwrap();
    let run = running.finish(WAIT);
    // The server dropped the dead client with a line (it may also have
    // been killed before it connected), and answered the others.
    let log = squares::assert_served_on_without_client_3(&run, BIN);
    assert!(
        log.iter()
            .all(|l| l.starts_with("Server: dropped the client at @")
                || l.starts_with("Server: a client refused: ")),
        "{run}"
    );
    assert!(!dir.join("server.sock").exists(), "{run}");
}

#[test]
fn a_killed_server_makes_every_client_give_up_in_time() {
    let dir = TempDir::new("exp1-sockets-server-killed");
    let (running, children) = slow_unix_run(&dir, "2");
    wait_blocked(&children[1..], WAIT);
    let killed = std::time::Instant::now();
    nix::sys::signal::kill(children[0], Sig::SIGKILL).unwrap();
    let run = running.finish(WAIT);
    let took = killed.elapsed();
    // A client being served sees the connection closed; one waiting for
    // the handshake gives up after --timeout.
    squares::assert_clients_gave_up(&run, BIN, took, &children, |n, line| {
        line.starts_with(&format!("Client {n}: the server at "))
            || line.starts_with(&format!("Client {n}: no answer from the server at "))
    });
    assert!(!dir.join("server.sock").exists(), "{run}");
}

#[test]
fn a_client_role_killed_mid_request_is_dropped_and_the_server_goes_on() {
    let dir = TempDir::new("exp1-sockets-role-killed");
    let path = dir.join("s.sock");
    let path = path.to_str().unwrap();
    let (serving, _) =
        squares::start_server_role(BIN, &["--unix", path, "--authkey", "k", "--delay", "1000"]);
    let mut asking = Running::start(
        command(&["client", "1", "--unix", path, "--authkey", "k"]),
        false,
    );
    line_starting(&mut asking, "Client 1 (pid ");
    // The server works on the request for a second (asleep in its delay,
    // known from /proc): the handshake is done, the client waits for its
    // answer. (The client alone cannot tell: it reads in the handshake
    // too.)
    wait_in_syscall(serving.pid(), SYS_clock_nanosleep, WAIT);
    asking.signal(Sig::SIGKILL);
    let killed = asking.finish(WAIT);
    assert_eq!(killed.status.code(), None, "killed\n{killed}");
    let mut serving = serving;
    line_starting(&mut serving, "Server: dropped the client at @");
    let welcome = run(BIN, &["client", "2", "--unix", path, "--authkey", "k"]);
    welcome.assert_code(0);
    stop_server(
        serving,
        Sig::SIGTERM,
        &[
            ": the other end is gone",
            "Server: interrupted by SIGTERM",
            "Server answered 1 request",
        ],
    );
}

#[test]
fn a_killed_server_roles_socket_is_replaced_by_the_next_server() {
    let dir = TempDir::new("exp1-sockets-stale");
    let path = dir.join("s.sock");
    let path = path.to_str().unwrap();
    let (serving, _) = squares::start_server_role(BIN, &["--unix", path, "--authkey", "k"]);
    serving.signal(Sig::SIGKILL);
    let killed = serving.finish(WAIT);
    assert_eq!(killed.status.code(), None, "{killed}");
    // SIGKILL left the file; nobody listens on it any more.
    assert!(std::path::Path::new(path).exists());
    let (serving, _) =
        squares::start_server_role(BIN, &["--unix", path, "--authkey", "k", "--fast"]);
    run(BIN, &["client", "4", "--unix", path, "--authkey", "k"]).assert_code(0);
    stop_server(serving, Sig::SIGINT, &["Server answered 1 request"]);
    assert!(!std::path::Path::new(path).exists());
}

#[test]
fn ctrl_c_ends_a_waiting_client() {
    let (serving, address) = squares::start_server_role(
        BIN,
        &[
            "--listen",
            "127.0.0.1:0",
            "--authkey",
            "k",
            "--delay",
            "20000",
        ],
    );
    let mut asking = Running::start(
        command(&["client", "3", "--connect", &address, "--authkey", "k"]),
        false,
    );
    line_starting(&mut asking, "Client 3 (pid ");
    wait_blocked(&[asking.pid()], WAIT);
    squares::assert_client_interrupted(asking);
    serving.signal(Sig::SIGINT);
    serving.finish(SIGNAL_DEADLINE).assert_code(0);
}

#[test]
fn sigterm_to_the_parent_ends_the_default_run() {
    squares::assert_sigterm_ends_the_default_run(command(&["--delay", "2000"]));
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    run_into_full_disk(BIN, &["--fast"]).assert_full_disk_reported();
}

#[test]
fn a_closed_stdout_ends_every_process_quietly() {
    // The program's own exit status, not head's.
    let run = contract::assert_closed_stdout_ends_quietly(BIN, &["--fast"], b"");
    let lines = run.stdout_lines();
    assert!(
        lines.len() == 1 && squares::client_lines(3).iter().any(|l| l == lines[0]),
        "{run}"
    );
}

#[test]
fn bad_input_exits_with_2_and_no_panic() {
    let cases: [(&[&str], &str); 14] = [
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--clients", "0"], "--clients"),
        (&["client", "1"], "--authkey"),
        (&["client", "0", "--authkey", "k"], "0"),
        (
            &["client", "1", "--authkey", "k", "--number", "3037000500"],
            "3037000500",
        ),
        (&["client", "1", "--authkey", ""], "expected 1 to 256 bytes"),
        (
            &["client", "1", "--authkey", "k", "--connect", "lab-pc:6000"],
            "host names are not looked up",
        ),
        (
            &["client", "1", "--authkey", "k", "--connect", "127.0.0.1:0"],
            "expected HOST:PORT",
        ),
        (&["server", "--listen", "6000"], "expected IP:PORT"),
        (
            &["server", "--listen", "127.0.0.1:0", "--unix", "/tmp/x"],
            "cannot be used with",
        ),
        (&["--unix", ""], "expected a path"),
        (&["server", "--clients", "2"], "--clients"),
        (&["--fork", "server"], "--fork belongs to the default run"),
        (&["framing", "--delay", "5"], "--delay"),
    ];
    contract::assert_refused(|args| run(BIN, args), &cases);
    squares::assert_bad_numbers_refused(BIN);
}

#[test]
fn help_explains_the_roles_and_the_exit_codes() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &[
            "stream sockets",
            "authkey",
            "server",
            "client",
            "framing",
            "--clients",
            "--numbers",
            "--unix",
            "--fork",
            "--timeout",
            "--fast",
        ],
    );
    run(BIN, &["server", "--help"])
        .assert_code(0)
        .assert_stdout_contains(&["--listen", "--authkey", "--fork", "0.0.0.0:6000"]);
    run(BIN, &["client", "--help"])
        .assert_code(0)
        .assert_stdout_contains(&["--connect", "--authkey", "--number"]);
}

#[test]
fn framing_shows_requests_run_together_without_frames() {
    run(BIN, &["framing"]).assert_prints(&[
        "Without frames, the writer writes 3 requests of 10 bytes: 'square 1 6', 'square 2 7', 'square 3 8'",
        "A read of up to 8 bytes gets 'square 1'",
        "The next read, of up to 64 bytes, gets ' 6square 2 7square 3 8'",
        "With frames, each request goes after its length in 4 bytes: 00 00 00 0a 'square 1 6'",
        "3 receives get 'square 1 6', 'square 2 7', 'square 3 8'",
    ]);
}

#[test]
fn the_handout_shows_a_real_run() {
    let manifest_dir = env!("CARGO_MANIFEST_DIR");
    let readme = squares::assert_handout_shows_a_real_run(manifest_dir, "exp1-sockets", BIN);
    // The framing demonstration, as the handout shows it.
    let framing = run(BIN, &["framing"]);
    for line in framing.stdout_lines() {
        assert!(
            readme.contains(line),
            "the handout lacks {line:?}\n{framing}"
        );
    }
}
