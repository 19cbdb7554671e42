//! Multi-process scenarios for `fifo` and `mqueue`: a queue outliving the
//! process that filled it, and blocked calls that SIGTERM interrupts while
//! any other signal's `EINTR` is retried.
//!
//! `harness = false`: a single-threaded program, so that it may fork.
#![allow(unsafe_code)]

use std::mem::ManuallyDrop;
use std::time::Duration;

use ipc_core::fifo::{Fifo, FifoReader, FifoWriter, unique_path};
use ipc_core::mqueue::MessageQueue;
use ipc_core::{Error, IpcName, Process, Result, signal};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// The exit code of a child whose blocked call returned `Interrupted`.
const INTERRUPTED: i32 = 7;

/// The exit code of a child that saw what it should.
const SAW_IT: i32 = 8;

/// How long a child may take to reach its blocking call.
const REACH: Duration = Duration::from_secs(10);

/// Waits until `child` is asleep (in its blocking call: it makes no other),
/// known from `/proc` instead of assumed after a sleep.
fn asleep(child: &Process) {
    ipc_testkit::wait_blocked(&[child.pid()], REACH);
}

extern "C" fn ignore(_: libc::c_int) {}

/// Handlers for SIGINT/SIGTERM (the flag) and SIGUSR1 (does nothing), all
/// without SA_RESTART, installed before forking so children inherit them.
fn install_handlers() {
    signal::install().unwrap();
    let action = SigAction::new(
        SigHandler::Handler(ignore),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: `ignore` does nothing, which is async-signal-safe.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.unwrap();
}

fn interrupted_code(outcome: Result<()>) -> i32 {
    match outcome {
        Err(Error::Interrupted) => INTERRUPTED,
        Err(other) => {
            eprintln!("unexpected error: {other}");
            1
        }
        Ok(()) => 0,
    }
}

fn a_queue_outlives_the_process_that_filled_it() {
    let name = IpcName::unique("scenario-outlive").unwrap();
    let mut child = Process::spawn("creator", || -> Result<()> {
        let mut q = MessageQueue::create(&name, 4, 32)?;
        q.send(b"low", 1)?;
        q.send(b"high", 7)?;
        q.keep();
        Ok(())
    })
    .unwrap();
    assert!(child.join().unwrap().success());
    let q = MessageQueue::open(&name).unwrap();
    assert_eq!(q.attributes().unwrap().curmsgs, 2);
    assert_eq!(q.receive_bytes().unwrap(), (b"high".to_vec(), 7));
    assert_eq!(q.receive_bytes().unwrap(), (b"low".to_vec(), 1));
    MessageQueue::open(&name).unwrap().remove().unwrap();
    assert!(!MessageQueue::exists(&name).unwrap());
}

fn a_creator_child_unlinks_its_queue_when_it_ends() {
    let name = IpcName::unique("scenario-creator").unwrap();
    let mut child = Process::spawn("creator", || -> Result<()> {
        let q = MessageQueue::create(&name, 1, 8)?;
        q.send(b"gone", 0)
    })
    .unwrap();
    assert!(child.join().unwrap().success());
    assert!(!MessageQueue::exists(&name).unwrap());
}

fn sigterm_interrupts_a_blocked_receive_and_other_signals_do_not() {
    install_handlers();
    let name = IpcName::unique("scenario-mq-signal").unwrap();
    let q = MessageQueue::create(&name, 2, 16).unwrap();
    for timed in [false, true] {
        // SIGUSR1 interrupts the call with EINTR: retried, so the child
        // still gets the message sent afterwards.
        let mut child = Process::spawn("receiver", || -> Result<i32> {
            let q = MessageQueue::open(&name)?;
            let mut buf = [0; 16];
            let (len, prio) = if timed {
                q.receive_timeout(&mut buf, Duration::from_secs(100))?
            } else {
                q.receive(&mut buf)?
            };
            Ok(if (&buf[..len], prio) == (&b"after"[..], 3) {
                0
            } else {
                2
            })
        })
        .unwrap();
        asleep(&child);
        child.signal(Signal::SIGUSR1).unwrap();
        asleep(&child);
        q.send(b"after", 3).unwrap();
        assert_eq!(child.join().unwrap().code(), 0, "timed: {timed}");

        // SIGTERM ends the wait with Error::Interrupted.
        let mut child = Process::spawn("receiver", || {
            let q = MessageQueue::open(&name).unwrap();
            let mut buf = [0; 16];
            interrupted_code(if timed {
                q.receive_timeout(&mut buf, Duration::from_secs(100))
                    .map(drop)
            } else {
                q.receive(&mut buf).map(drop)
            })
        })
        .unwrap();
        asleep(&child);
        child.terminate().unwrap();
        assert_eq!(child.join().unwrap().code(), INTERRUPTED, "timed: {timed}");
    }

    // A sender blocked on a full queue, likewise.
    q.send(b"1", 0).unwrap();
    q.send(b"2", 0).unwrap();
    let mut child = Process::spawn("sender", || {
        let q = MessageQueue::open(&name).unwrap();
        interrupted_code(q.send(b"3", 0))
    })
    .unwrap();
    asleep(&child);
    child.terminate().unwrap();
    assert_eq!(child.join().unwrap().code(), INTERRUPTED);
    assert_eq!(q.attributes().unwrap().curmsgs, 2);
    drop(q);
    assert!(!MessageQueue::exists(&name).unwrap());
}

fn sigterm_interrupts_a_fifo_open_and_read_and_other_signals_do_not() {
    install_handlers();
    let fifo = Fifo::create(unique_path("scenario-fifo").unwrap()).unwrap();

    // Blocked in open(2): no writer comes.
    let mut child = Process::spawn("reader", || {
        interrupted_code(FifoReader::open(fifo.path()).map(drop))
    })
    .unwrap();
    asleep(&child);
    child.terminate().unwrap();
    assert_eq!(child.join().unwrap().code(), INTERRUPTED);

    // Blocked in read(2): SIGUSR1 is retried, then a line arrives, then
    // SIGTERM ends the next read.
    let mut child = Process::spawn("reader", || -> Result<i32> {
        let mut reader = FifoReader::open(fifo.path())?;
        if reader.read_line()?.as_deref() != Some("after SIGUSR1") {
            return Ok(2);
        }
        Ok(interrupted_code(reader.read_line().map(drop)))
    })
    .unwrap();
    let mut writer = FifoWriter::open(fifo.path()).unwrap();
    asleep(&child);
    child.signal(Signal::SIGUSR1).unwrap();
    asleep(&child);
    writer.write_line("after SIGUSR1").unwrap();
    asleep(&child);
    child.terminate().unwrap();
    assert_eq!(child.join().unwrap().code(), INTERRUPTED);

    // The reader is gone: writing is an error, not death by SIGPIPE.
    assert!(matches!(
        writer.write_line("lost"),
        Err(Error::Disconnected)
    ));
    let path = fifo.path().to_owned();
    drop(fifo);
    assert!(!path.exists());
}

/// A child waiting in `open` for a peer that died before opening (here:
/// that never comes) is let through by `release_waiters`, called while
/// joining as `exp3-fifo` does: the reader reads the end of file, the
/// writer is told the other end is gone. Both are released even though
/// the release may come before they reach `open`.
fn a_child_waiting_for_a_dead_peer_is_released() {
    let fifo = Fifo::create(unique_path("scenario-release").unwrap()).unwrap();
    let mut children = vec![
        Process::spawn("reader", || -> Result<i32> {
            let mut reader = FifoReader::open(fifo.path())?;
            Ok(match reader.read_line()? {
                None => SAW_IT,
                Some(line) => panic!("read {line:?}"),
            })
        })
        .unwrap(),
    ];
    let statuses = ipc_core::join_all_with(&mut children, ipc_core::OnFailure::StopOthers, |_| {
        fifo.release_waiters().unwrap();
    })
    .unwrap();
    assert_eq!(statuses[0].code(), SAW_IT);

    let mut children = vec![
        Process::spawn("writer", || -> Result<i32> {
            let mut writer = FifoWriter::open(fifo.path())?;
            // The first line may land in the pipe before the release's reader
            // closes; one of the two writes finds no reader.
            for _ in 0..2 {
                if let Err(Error::Disconnected) = writer.write_line("nobody reads this") {
                    return Ok(SAW_IT);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(1)
        })
        .unwrap(),
    ];
    let statuses = ipc_core::join_all_with(&mut children, ipc_core::OnFailure::StopOthers, |_| {
        fifo.release_waiters().unwrap();
    })
    .unwrap();
    assert_eq!(statuses[0].code(), SAW_IT);
}

fn a_child_dropping_the_creators_handle_removes_nothing() {
    // `move` gives the child the creator's handles themselves; the parent's
    // copies are kept from being dropped (ManuallyDrop), so only the
    // child's drop runs, and it must leave both objects alone.
    let path = unique_path("scenario-fifo-owner").unwrap();
    let name = IpcName::unique("scenario-mq-owner").unwrap();
    let fifo = ManuallyDrop::new(Fifo::create(&path).unwrap());
    let queue = ManuallyDrop::new(MessageQueue::create(&name, 1, 8).unwrap());
    let mut child = Process::spawn("child", move || {
        drop(ManuallyDrop::into_inner(fifo));
        drop(ManuallyDrop::into_inner(queue));
    })
    .unwrap();
    assert!(child.join().unwrap().success());
    assert!(path.exists(), "the FIFO belongs to the parent");
    assert!(MessageQueue::exists(&name).unwrap(), "so does the queue");
    Fifo::open(&path).unwrap().remove().unwrap();
    MessageQueue::open(&name).unwrap().remove().unwrap();
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        a_queue_outlives_the_process_that_filled_it,
        a_creator_child_unlinks_its_queue_when_it_ends,
        sigterm_interrupts_a_blocked_receive_and_other_signals_do_not,
        sigterm_interrupts_a_fifo_open_and_read_and_other_signals_do_not,
        a_child_waiting_for_a_dead_peer_is_released,
        a_child_dropping_the_creators_handle_removes_nothing,
    ]);
}
