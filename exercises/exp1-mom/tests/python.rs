//! Python interop: the official Python client (`nats-py`, installed into
//! the project's `.venv` by `scripts/install-nats.sh` when missing) and the
//! Rust roles exchange seed 004's message through a real `nats-server`,
//! both ways.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ipc_net::NatsServer;
use ipc_testkit::{DEFAULT_TIMEOUT, Run, nats, run_command};

const BIN: &str = env!("CARGO_BIN_EXE_exp1-mom");
const HERE: &str = env!("CARGO_MANIFEST_DIR");

const SENT: &str = "sender is sending: Hello, introduction to distributed computing";
const RECEIVED: &str = "Receiver received: Hello, introduction to distributed computing";

fn workspace() -> PathBuf {
    Path::new(HERE).join("../..")
}

/// The venv's Python with nats-py importable, installing it if needed.
fn python() -> PathBuf {
    let python = workspace().join(".venv/bin/python");
    let has_client = || ipc_testkit::python_imports(&python, "nats");
    if !has_client() {
        let script = workspace().join("scripts/install-nats.sh");
        let mut install = Command::new("bash");
        install.arg(&script);
        let run = run_command(install, None, Duration::from_secs(300));
        run.assert_code(0);
        assert!(
            has_client(),
            "nats-py still missing after {}",
            script.display()
        );
    }
    python
}

fn script(name: &str, server: &NatsServer, extra: &[&str]) -> Command {
    let mut command = Command::new(python());
    command
        .arg(Path::new(HERE).join("python").join(name))
        .arg("--server")
        .arg(server.urls().to_string())
        .args(extra);
    command
}

fn finish(command: Command) -> Run {
    run_command(command, None, DEFAULT_TIMEOUT)
}

#[test]
fn a_python_sender_reaches_the_rust_receiver() {
    let server = NatsServer::start().unwrap();
    // The Rust receiver listens first (it makes the stream and the
    // consumer), then Python stores the message.
    let receiver =
        support::start_listening(server.urls(), &["--fast", "receive", "--timeout", "30"]);
    finish(script("send.py", &server, &[])).assert_prints(&[SENT]);
    receiver
        .finish(Duration::from_secs(30))
        .assert_prints(&[RECEIVED]);
}

#[test]
fn a_message_the_rust_sender_stored_is_taken_by_python() {
    let server = NatsServer::start().unwrap();
    finish(nats::role(BIN, server.urls(), &["--fast", "send"])).assert_prints(&[SENT]);
    finish(script("receive.py", &server, &["--timeout", "10"])).assert_prints(&[RECEIVED]);
    // Taken once: the stream is empty now, for Python and for Rust.
    let again = finish(nats::role(
        BIN,
        server.urls(),
        &["--fast", "receive", "--timeout", "0.5"],
    ));
    again
        .assert_code(1)
        .assert_stderr_contains(&["no message arrived"]);
}

#[test]
fn core_nats_works_between_the_languages_too() {
    let server = NatsServer::start().unwrap();
    let receiver = support::start_listening(
        server.urls(),
        &["--fast", "--core", "receive", "--timeout", "30"],
    );
    finish(script("send.py", &server, &["--core"])).assert_prints(&[SENT]);
    receiver
        .finish(Duration::from_secs(30))
        .assert_prints(&[RECEIVED]);
}
