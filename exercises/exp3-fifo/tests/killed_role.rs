//! A role SIGKILLed while it waits in `open()`: the run's tracker removes
//! the FIFO the role created, with nobody running `scripts/clean.sh`.
//!
//! In a file of its own, so that no other test of this binary starts a
//! program after the kill: such a program's sweep would also remove the
//! dead role's FIFO, and the test would no longer show that the tracker
//! does it alone.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{Running, Sig, TempDir, eventually, wait_blocked};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-fifo");
const WAIT: Duration = Duration::from_secs(30);

/// Starts `role` on a fresh FIFO path, waits until it blocks in `open()`,
/// SIGKILLs it and checks that its FIFO goes without anybody's help.
fn a_role_killed_in_open_leaves_no_fifo(role: &str) {
    let dir = TempDir::new(&format!("killed-{role}"));
    let fifo = dir.join("ipc-lab-killed");
    let mut command = Command::new(BIN);
    command.args([role, "--path", fifo.to_str().unwrap()]);
    let mut waiting = Running::start(command, false);
    waiting.wait_for_lines(1, WAIT, |l| l.contains("waiting for a"));
    wait_blocked(&[waiting.pid()], WAIT);
    assert!(fifo.exists(), "the {role} created {}", fifo.display());

    waiting.signal(Sig::SIGKILL);
    let killed = waiting.finish(WAIT);
    assert_eq!(
        killed.status.signal(),
        Some(Sig::SIGKILL as i32),
        "{killed}"
    );
    assert!(
        eventually(WAIT, || !fifo.exists()),
        "{} outlived its SIGKILLed {role}\n{killed}",
        fifo.display()
    );
}

#[test]
fn a_reader_role_killed_in_open_leaves_no_fifo() {
    a_role_killed_in_open_leaves_no_fifo("reader");
}

#[test]
fn a_writer_role_killed_in_open_leaves_no_fifo() {
    a_role_killed_in_open_leaves_no_fifo("writer");
}
