//! Seed 000, choice 2: IPC using a message queue.
//!
//! Process `p1` puts the square of each number of the list on a shared
//! [`Queue`]; process `p2` takes them off and prints them. `p1` closes the
//! queue when it has put the last square, and `p2` reads until the queue is
//! closed and drained: it never stops early because the queue happens to be
//! empty for a moment (the seed's `while not q.empty()` race).
//!
//! This file follows the seed; the option to square another list
//! (`--numbers`) is [`ipc_cli::Mylist`].

use std::time::Duration;

use ipc_cli::{output, say};
use ipc_core::{OnFailure, Process, Queue, Result, join_all_ok, join_all_with, pace};

/// The list the seed squares.
pub const MYLIST: [i32; 4] = [1, 2, 3, 4];

/// When `p2` starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Start {
    /// As the seed: start `p1`, wait for it, then start `p2`.
    #[default]
    InTurn,
    /// Start `p2` first and `p1` right after, so that `p2` waits in `get`
    /// for each square as it comes.
    Together,
}

/// `p1`'s target (the seed's `square_list2`): put the square of each
/// number, waiting `delay` before each, then close the queue, since
/// nothing more will come.
fn square_list2(mylist: &[i32], q: &Queue<i32>, delay: Duration) -> Result<()> {
    // STUDENT: put the square of each number on `q` (sleep `delay` before each), then close it
    for num in mylist {
        pace::sleep(delay)?;
        q.put(num * num)?;
    }
    q.close()
    // END STUDENT
}

/// `p2`'s target (the seed's `print_queue`): print every element until the
/// queue is closed and drained.
fn print_queue(q: &Queue<i32>) -> Result<()> {
    say!("Queue elements:")?;
    // STUDENT: print each element of `q` until it is closed and empty (`for item in q`)
    // Iterating gets each element in turn, waiting while the queue is
    // empty, and ends once it is closed and empty.
    for item in q {
        say!("{}", item?)?;
    }
    // END STUDENT
    say!("Queue is now empty!")?;
    Ok(())
}

/// Runs the experiment as the seed does, printing its lines.
///
/// # Errors
/// A failed system call, or [`ipc_core::Error::ChildFailed`] when `p1` or `p2` fails.
pub fn run() -> Result<()> {
    run_with(&MYLIST, Start::InTurn, Duration::ZERO)
}

/// Runs the experiment on `mylist` (the seed's [`MYLIST`], or
/// `--numbers`), starting `p2` as `start` says, with `p1` waiting
/// `delay` before each square ([`pace::sleep`]: `--fast` shortens it 1000
/// times); the lines printed are the same either way. With
/// [`Start::Together`], `p2` meanwhile waits in `get`.
///
/// No signal handler is installed: SIGINT or SIGTERM ends a process at
/// once, which is right for processes that own nothing with a name (the
/// queue's anonymous memory goes with the last process that maps it);
/// children whose parent is killed get SIGTERM ([`Process::spawn`]).
///
/// # Errors
/// As [`run`].
pub fn run_with(mylist: &[i32], start: Start, delay: Duration) -> Result<()> {
    say!("The following Array is going to simulate the shared memory")?;
    for item in mylist {
        output::part(format_args!("{item} "))?; // print(i, end=" ")
    }
    say!()?;

    // creating a Queue in shared memory, before forking
    let q = Queue::<i32>::new()?;
    if start == Start::Together {
        return run_together(mylist, &q, delay);
    }

    // running process p1 to square the list
    let mut p1 = Process::spawn("p1", || square_list2(mylist, &q, delay))?;
    let p1_done = p1.join_ok();
    // p1 has ended: if it died before closing the queue, close it here, so
    // that p2 sees the end instead of waiting forever. (Closing twice is
    // harmless.)
    q.close()?;

    // running process p2 to get the queue elements
    let mut p2 = Process::spawn("p2", || print_queue(&q))?;
    let p2_done = p2.join_ok();
    p1_done.and(p2_done)
}

/// [`Start::Together`]: `p2` waits in `get` while `p1` puts. Both are
/// joined at once, so that the death of either ends the run: a dead `p1`
/// has its queue closed for it (`p2` then sees the end), a dead `p2`
/// has `p1` stopped instead of left squaring for nobody.
fn run_together(mylist: &[i32], q: &Queue<i32>, delay: Duration) -> Result<()> {
    let p2 = Process::spawn("p2", || print_queue(q))?;
    let p1 = Process::spawn("p1", || square_list2(mylist, q, delay))?;
    let mut both = [p1, p2];
    join_all_with(&mut both, OnFailure::StopOthers, |both| {
        if both[0].exit_status().is_some() {
            let _ = q.close();
        }
    })?;
    join_all_ok(&mut both)
}
