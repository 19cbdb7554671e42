//! Python's own `multiprocessing.connection.Client` (from the project's
//! `.venv`, or `python3`) as a client of the Rust server role, over TCP
//! and a Unix socket: answered on numbers chosen now, a request that is
//! none answered `error: …`, and a wrong authkey refused on both sides.
//! The server role is the student's loop; Python is started with
//! `std::process::Command` (nothing forks inside the test harness), and
//! every wait is bounded.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ipc_testkit::evidence::Inputs;
use ipc_testkit::squares;
use ipc_testkit::{Run, SIGNAL_DEADLINE, Sig, TempDir, run_command};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-sockets");

const WAIT: Duration = Duration::from_secs(30);

/// Connects to `argv[1]` (`HOST:PORT` or a path) with the authkey
/// `argv[2]`, sends each further argument as one message's bytes and
/// prints each answer (`AuthenticationError: …` and exit 3 for a key the
/// server refuses).
const PYTHON: &str = r#"
import sys
from multiprocessing.connection import Client, AuthenticationError

address = sys.argv[1]
if not address.startswith('/'):
    host, _, port = address.rpartition(':')
    address = (host, int(port))
try:
    with Client(address, authkey=sys.argv[2].encode()) as conn:
        for request in sys.argv[3:]:
            conn.send_bytes(request.encode())
            print(conn.recv_bytes().decode('ascii', 'backslashreplace'), flush=True)
except AuthenticationError as e:
    print('AuthenticationError:', e, flush=True)
    sys.exit(3)
"#;

/// The project's Python: `.venv/bin/python` at the workspace's root, or
/// `python3`.
fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn python_client(address: &str, key: &str, requests: &[String]) -> Run {
    let mut command = Command::new(python());
    command.args(["-c", PYTHON, address, key]).args(requests);
    // A missing Python fails here, naming it ("cannot start …").
    run_command(command, None, WAIT)
}

/// Python asks the server at `listen` (server role arguments) for the
/// squares of numbers chosen now, sends it a request that is none, and
/// then tries a wrong key.
fn python_is_answered(listen: &[&str]) {
    let mut inputs = Inputs::new();
    let numbers = inputs.numbers("numbers", 1..=4, -3_037_000_499..=3_037_000_499);
    let mut args = listen.to_vec();
    args.extend(["--authkey", "py-k3y", "--fast"]);
    let (serving, address) = squares::start_server_role(BIN, &args);
    let mut requests: Vec<String> = (1..)
        .zip(&numbers)
        .map(|(n, x)| format!("square {n} {x}"))
        .collect();
    requests.push("hello\u{1b}[2J".into());
    let asked = python_client(&address, "py-k3y", &requests);
    let mut expected: Vec<String> = numbers.iter().map(|x| (x * x).to_string()).collect();
    expected
        .push("error: 'hello\\x1b[2J' is not a request (expected: square CLIENT NUMBER)".into());
    asked.assert_code(0);
    assert_eq!(
        asked.stdout_lines(),
        expected,
        "{inputs}: Python's answers\n{asked}"
    );
    let refused = python_client(&address, "not-the-key", &["square 1 2".into()]);
    assert_eq!(refused.code(), Some(3), "{refused}");
    assert!(
        refused.stdout.starts_with("AuthenticationError:"),
        "{refused}"
    );
    serving.signal(Sig::SIGINT);
    let run = serving.finish(SIGNAL_DEADLINE);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_contains(&[
            "Server: a request refused: 'hello\\x1b[2J' is not a request",
            "Server: a client refused: ",
            &format!("Server answered {} request", numbers.len()),
        ]);
    assert!(!run.stdout.contains('\u{1b}'), "unescaped\n{run}");
}

#[test]
fn a_python_client_is_answered_by_the_server_role_over_tcp() {
    python_is_answered(&["--listen", "127.0.0.1:0"]);
}

#[test]
fn a_python_client_is_answered_by_the_server_role_over_a_unix_socket() {
    let dir = TempDir::new("exp1-sockets-python");
    let path = dir.join("py.sock");
    python_is_answered(&["--unix", path.to_str().unwrap()]);
}
