//! `scripts/clean.sh` and a reader waiting in `open()`: the FIFO belongs to
//! a live run, so it stays, and the reader and a writer still meet.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{CLEAN_SH, Running, TempDir, clean_sh_unavailable, run, wait_blocked};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-fifo");
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn clean_sh_keeps_the_fifo_of_a_reader_waiting_in_open() {
    if let Some(why) = clean_sh_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let dir = TempDir::new("clean-waiting");
    let fifo = dir.join("ipc-lab-waiting");
    let p = fifo.to_str().unwrap();
    let mut command = Command::new(BIN);
    command.args(["reader", "--path", p]);
    let mut reader = Running::start(command, false);
    reader.wait_for_lines(1, WAIT, |l| l.starts_with("Reader (pid "));
    wait_blocked(&[reader.pid()], WAIT);

    let cleaned = run(CLEAN_SH, &["ipc-lab-waiting"]);
    cleaned
        .assert_code(0)
        .assert_stdout_contains(&[&format!("in use, kept: FIFO {p} (its run is alive")]);
    assert!(Path::new(p).exists(), "{cleaned}");

    // Still the very FIFO the reader waits on: a writer meets it.
    let writer = run(BIN, &["writer", "--fast", "--path", p, "after clean.sh"]);
    writer.assert_code(0);
    // The writer has closed it: the reader ends by itself once it has
    // read everything (a signal now could come before its read).
    let read = reader.finish(WAIT);
    read.assert_code(0).assert_stdout_contains(&[
        "Reader received: after clean.sh",
        "Reader: end of file, every writer has closed the FIFO",
    ]);
    assert!(!Path::new(p).exists(), "its creator removed it\n{read}");
}
