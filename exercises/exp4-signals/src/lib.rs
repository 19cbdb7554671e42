//! Seed 004 theory ("real-time systems: using signals … for process
//! synchronization") on seed 001's program: exp3-polling's writer and
//! reader, with the reader notified instead of polling.
//!
//! The parent starts two processes that share an array of `-1`s. The
//! writer stores the values one slot after the other, pausing for five
//! seconds after the sixth, and after each store queues SIGRTMIN to the
//! reader with the slot's number ("data ready in slot 3"). The reader
//! never looks at an empty slot: it sleeps in `sigtimedwait(2)` until a
//! notice comes, then reads the slot it names.
//!
//! Then the writer sends a burst: 1000 SIGUSR1, then 1000 SIGRTMIN+1, each
//! numbered, while the reader is busy (it takes nothing until the writer's
//! last signal, SIGRTMIN+2, says how many it sent). A standard signal is
//! one bit of the reader's pending set: one SIGUSR1 arrives. Real-time
//! signals queue: all 1000 arrive, in order, each with its number.
//!
//! Ctrl-C or SIGTERM stops both processes at their next wait: each prints
//! `Interrupted`, the parent `Interrupted by SIGINT`, and the program ends
//! with 0.
//!
//! This file follows the seed; the options (`--values`, `--signals`,
//! `--timings`) and the helpers are in [`extras`], the two-terminal roles
//! in [`roles`].

pub mod extras;
pub mod roles;

use std::time::Duration;

use extras::{Inboxes, Options};
use ipc_cli::say;
use ipc_core::signal::{self, Inbox, Notifier, Signo};
use ipc_core::{Process, RawArray, Result, join_all_ok, pace};
use nix::unistd::Pid;

/// The value that marks a slot the writer has not filled yet.
pub const EMPTY: i32 = -1;

/// The values the seed's writer stores, one per slot of the shared array.
pub const VALUES: [i32; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// The writer pauses after every this many slots it filled.
pub const PAUSE_AFTER: usize = 6;

/// How long the writer pauses (`--fast` divides it by 1000).
pub const WRITER_PAUSE: Duration = Duration::from_secs(5);

/// The longest the reader waits for a notice (not scaled by `--fast`).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// How many signals of each kind the burst sends (`--signals`).
pub const BURST: u32 = 1000;

/// "Data ready in slot N": SIGRTMIN, a real-time signal, so that notices
/// sent before the reader takes the first one all stay queued.
pub fn data_ready() -> Result<Signo> {
    Signo::realtime(0)
}

/// The real-time signal of the burst: SIGRTMIN+1.
pub fn queued() -> Result<Signo> {
    Signo::realtime(1)
}

/// The writer's last signal, with the number it sent of each: SIGRTMIN+2.
pub fn done() -> Result<Signo> {
    Signo::realtime(2)
}

/// The writer: stores `values` one slot after the other, pausing after
/// every sixth, and tells the reader about each slot.
fn writer(shared: &RawArray<i32>, values: &[i32], reader: &Notifier) -> Result<()> {
    say!("writer: Pid: {}", std::process::id())?;
    // STUDENT: log `Writing v`, store the i-th value in slot i-1, then tell the reader (reader.send with the slot); after every PAUSE_AFTER-th, log and sleep WRITER_PAUSE
    for (i, &value) in (1..).zip(values) {
        say!("writer: Writing {value}")?;
        shared.set(i - 1, value);
        reader.send((i - 1) as i32)?;
        if i % PAUSE_AFTER == 0 {
            say!("writer: Intentionally sleeping for 5 seconds")?;
            pace::sleep(WRITER_PAUSE)?;
        }
    }
    // END STUDENT
    say!("writer: Finished writing")?;
    Ok(())
}

/// The reader: for each slot, sleeps until a notice names a slot, then
/// reads that slot. It never looks at a slot before.
fn reader(shared: &RawArray<i32>, data_ready: &mut Inbox) -> Result<()> {
    say!("reader: Pid: {}", std::process::id())?;
    // STUDENT: for each slot: wait at most PATIENCE for the next notice of `data_ready` (Inbox::wait), read the slot it names (extras::slot), log `Read: v`
    for _ in 0..shared.len() {
        let notice = data_ready.wait(PATIENCE)?;
        let line = shared.get(extras::slot(&notice, shared.len())?);
        say!("reader: Read: {line}")?;
    }
    // END STUDENT
    say!("reader: Finished reading")?;
    Ok(())
}

/// The writer's burst: `count` SIGUSR1, then `count` SIGRTMIN+1, numbered
/// 1 to `count`, as fast as it can; then SIGRTMIN+2 with `count`.
fn burst(reader: Pid, count: i32) -> Result<()> {
    say!("writer: Sending {count} SIGUSR1, then {count} SIGRTMIN+1, numbered 1 to {count}")?;
    // STUDENT: send SIGUSR1 `count` times, then queued() `count` times, with 1, 2, … (Notifier::send); then done() with `count`
    let standard = Notifier::new(reader, Signo::SIGUSR1);
    for number in 1..=count {
        standard.send(number)?;
    }
    let real_time = Notifier::new(reader, queued()?);
    for number in 1..=count {
        real_time.send(number)?;
    }
    Notifier::new(reader, done()?).send(count)?;
    // END STUDENT
    Ok(())
}

/// The reader's side of the burst: busy until the writer is done (the
/// burst waits, pending, meanwhile), then it takes what is pending of
/// each signal and says what arrived.
fn count_burst(inboxes: &mut Inboxes) -> Result<()> {
    let last = inboxes.done.wait(PATIENCE)?;
    let sent = last.value().unwrap_or(0);
    extras::report(Signo::SIGUSR1, sent, &extras::drain(&mut inboxes.standard)?)?;
    extras::report(queued()?, sent, &extras::drain(&mut inboxes.queued)?)
}

/// The writer's role: the values, then the burst.
pub(crate) fn writer_role(
    shared: &RawArray<i32>,
    values: &[i32],
    to: Pid,
    count: u32,
) -> Result<()> {
    writer(shared, values, &Notifier::new(to, data_ready()?))?;
    burst(to, count as i32)?;
    say!("writer: Finished sending")
}

/// The reader's role: the values (timed with `--timings`), then the burst.
pub(crate) fn reader_role(
    shared: &RawArray<i32>,
    inboxes: &mut Inboxes,
    timings: bool,
) -> Result<()> {
    let usage = extras::Usage::now();
    reader(shared, &mut inboxes.data_ready)?;
    if timings {
        usage.print(shared.len())?;
    }
    count_burst(inboxes)
}

/// Runs the experiment: the parent, the writer and the reader.
///
/// # Errors
/// A failed system call (`mmap`, `fork`, `sigqueue`, `waitpid`), or
/// [`ipc_core::Error::ChildFailed`] when a process ends with a non-zero
/// status.
pub fn run(options: &Options) -> Result<()> {
    say!("parent: Pid: {}", std::process::id())?;
    let arr = RawArray::<i32>::from_slice(&vec![EMPTY; options.values.len()])?;
    // Blocked before the reader exists: a notice that comes before it
    // waits for it, pending, instead of ending it.
    let mut inboxes = Inboxes::block()?;
    let reader = Process::spawn("reader", || {
        extras::stop_on_signal("reader", reader_role(&arr, &mut inboxes, options.timings))
    })?;
    let to = reader.pid();
    let writer = Process::spawn("writer", || {
        extras::stop_on_signal(
            "writer",
            writer_role(&arr, &options.values, to, options.signals),
        )
    })?;
    let joined = join_all_ok(&mut [reader, writer]);
    if let Some(by) = signal::pending() {
        say!("parent: Interrupted by {by}")?;
    }
    joined
}
