//! Multi-process scenarios for the notifications of `signal`: `Notifier`
//! (sigqueue) and `Inbox` (sigtimedwait).
//!
//! A `harness = false` target: a plain single-threaded program, so it may
//! fork, and a signal sent to it has only one thread to go to (see
//! `ipc_testkit::scenarios`). Every wait is bounded.

use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use ipc_core::signal::{self, Inbox, Notice, Notifier, Signo};
use ipc_core::trace::{self, code};
use ipc_core::{Error, Process, RawArray};
use nix::sys::signal::{Signal, kill};
use nix::unistd::getpid;

/// How long a scenario waits for a notification that must come.
const PATIENCE: Duration = Duration::from_secs(10);

fn rt(n: u32) -> Signo {
    Signo::realtime(n).unwrap()
}

/// The next notification of `inbox`, within [`PATIENCE`].
fn next(inbox: &mut Inbox) -> Result<Notice, Error> {
    inbox.wait(PATIENCE)
}

/// The voluntary context switches of the calling process so far: each
/// time it slept and was woken.
fn wakeups() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

fn a_notification_crosses_a_fork_with_its_value_and_sender() {
    let ready = rt(0);
    let mut inbox = Inbox::block(&[ready]).unwrap();
    let parent = getpid();
    let mut child = Process::spawn("reader", || -> Result<i32, Error> {
        let notice = next(&mut inbox)?;
        assert_eq!(notice.signal(), ready);
        assert_eq!(notice.sender(), Some(parent));
        Ok(notice.value().unwrap_or(-1))
    })
    .unwrap();
    Notifier::new(child.pid(), ready).send(42).unwrap();
    assert_eq!(child.join().unwrap().code(), 42);
}

/// The child's report: how many of each it took, and their values.
fn standard_signals_coalesce_and_real_time_ones_queue_in_order() {
    const SENT: usize = 200;
    let (usr1, queued, done) = (Signo::SIGUSR1, rt(1), rt(2));
    let mut standard = Inbox::block(&[usr1]).unwrap();
    let mut real_time = Inbox::block(&[queued]).unwrap();
    let mut end = Inbox::block(&[done]).unwrap();
    // [standard taken, its first value, real-time taken, in order (1/0)]
    let report = RawArray::<i32>::new(4).unwrap();
    let mut child = Process::spawn("busy", || -> Result<(), Error> {
        // Busy until the sender says it is done: everything else waits.
        let last = next(&mut end)?;
        assert_eq!(last.value(), Some(SENT as i32));
        let mut values = Vec::new();
        while let Some(notice) = standard.try_next()? {
            values.push(notice.value().unwrap_or(-1));
        }
        report.set(0, values.len() as i32);
        report.set(1, values.first().copied().unwrap_or(-1));
        let mut values = Vec::new();
        while let Some(notice) = real_time.try_next()? {
            values.push(notice.value().unwrap_or(-1));
        }
        report.set(2, values.len() as i32);
        let in_order = values.iter().copied().eq(1..=SENT as i32);
        report.set(3, i32::from(in_order));
        Ok(())
    })
    .unwrap();
    let (to_usr1, to_queued) = (
        Notifier::new(child.pid(), usr1),
        Notifier::new(child.pid(), queued),
    );
    for k in 1..=SENT as i32 {
        to_usr1.send(k).unwrap();
    }
    for k in 1..=SENT as i32 {
        to_queued.send(k).unwrap();
    }
    Notifier::new(child.pid(), done).send(SENT as i32).unwrap();
    child.join_ok().unwrap();
    assert_eq!(
        report.to_list().to_string(),
        format!("[1, 1, {SENT}, 1]"),
        "one SIGUSR1 (the first sent), every SIGRTMIN+1 in order"
    );
}

fn a_wait_for_a_notification_ends_at_its_deadline() {
    let mut inbox = Inbox::block(&[rt(3)]).unwrap();
    let deadline = Deadline::after(Duration::from_millis(50));
    let got = blocking::wait(deadline, |slice| inbox.next_within(slice));
    assert!(matches!(got, Err(Error::Timeout)), "{got:?}");
    assert!(deadline.has_passed());
    assert_eq!(inbox.try_next().unwrap(), None);
    let got = inbox.wait(Duration::from_millis(50));
    assert!(matches!(got, Err(Error::Timeout)), "{got:?}");
}

/// A wait is one sleep, with or without Ctrl-C caught: the waiter does
/// not wake every POLL_INTERVAL to look at the flag.
fn a_long_wait_is_one_sleep_not_a_poll() {
    signal::install().unwrap();
    let mut inbox = Inbox::block(&[rt(7)]).unwrap();
    let before = wakeups();
    let got = inbox.wait(blocking::POLL_INTERVAL * 10);
    let woken = wakeups() - before;
    assert!(matches!(got, Err(Error::Timeout)), "{got:?}");
    assert!(woken <= 3, "woken {woken} times in a wait of ten intervals");
    signal::uninstall().unwrap();
}

fn sigterm_before_the_wait_ends_it_but_a_pending_notice_comes_first() {
    signal::install().unwrap();
    signal::clear();
    let ready = rt(8);
    let mut inbox = Inbox::block(&[ready]).unwrap();
    Notifier::new(getpid(), ready).send(5).unwrap();
    nix::sys::signal::raise(Signal::SIGTERM).unwrap();
    assert!(signal::interrupted(), "the handler ran");
    let first = inbox.wait(PATIENCE).unwrap();
    assert_eq!(first.value(), Some(5), "a pending notice is taken even now");
    let got = inbox.wait(PATIENCE);
    assert!(matches!(got, Err(Error::Interrupted)), "{got:?}");
    signal::clear();
    signal::uninstall().unwrap();
}

fn sigterm_interrupts_a_wait_for_a_notification() {
    signal::install().unwrap();
    signal::clear();
    let mut inbox = Inbox::block(&[rt(4)]).unwrap();
    let parent = getpid();
    let mut child = Process::spawn("stopper", move || {
        kill(parent, Signal::SIGTERM).map_err(|e| e.to_string())
    })
    .unwrap();
    // Whether SIGTERM lands before the wait or during it, the wait ends.
    let got = blocking::wait(Deadline::after(PATIENCE), |slice| inbox.next_within(slice));
    assert!(matches!(got, Err(Error::Interrupted)), "{got:?}");
    assert!(child.join().unwrap().success());
    signal::clear();
    signal::uninstall().unwrap();
}

fn a_signal_sent_without_a_value_arrives_without_one() {
    let mut inbox = Inbox::block(&[Signo::SIGUSR2]).unwrap();
    let parent = getpid();
    let mut child = Process::spawn("plain", || -> Result<i32, Error> {
        let notice = next(&mut inbox)?;
        assert_eq!(notice.value(), None, "kill(2) carries no value");
        assert_eq!(notice.sender(), Some(parent));
        Ok(7)
    })
    .unwrap();
    kill(child.pid(), Signal::SIGUSR2).unwrap();
    assert_eq!(child.join().unwrap().code(), 7);
}

fn a_notification_to_an_ended_process_names_the_call() {
    let mut child = Process::spawn("gone", || 0).unwrap();
    let pid = child.pid();
    child.join().unwrap();
    let error = Notifier::new(pid, rt(0)).send(1).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("sigqueue SIGRTMIN to pid {pid}: No such process")
    );
}

/// A Ctrl-C reaches the whole group: the receiver may stop on it before
/// the sender's next notice. That notice ends the sender's part as
/// interrupted, not as a failed call; without the interrupt it is one.
fn a_notification_to_a_receiver_gone_on_an_interrupt_is_interrupted() {
    signal::install().unwrap();
    signal::clear();
    let mut child = Process::spawn("gone", || 0).unwrap();
    let pid = child.pid();
    child.join().unwrap();
    kill(getpid(), Signal::SIGINT).unwrap();
    assert!(signal::interrupted(), "SIGINT was taken by the handler");
    let got = Notifier::new(pid, rt(0)).send(1);
    assert!(matches!(got, Err(Error::Interrupted)), "{got:?}");
    signal::clear();
    signal::uninstall().unwrap();
}

fn a_traced_notification_is_a_send_and_its_receive() {
    let log = trace::start("signals", 1024).unwrap();
    let ready = rt(5);
    let mut inbox = Inbox::block(&[ready]).unwrap();
    let mut child = Process::spawn("reader", || -> Result<(), Error> {
        next(&mut inbox).map(drop)
    })
    .unwrap();
    let to = Notifier::new(child.pid(), ready);
    to.send(3).unwrap();
    child.join_ok().unwrap();
    let records = log.read().records;
    trace::stop();
    let send = records
        .iter()
        .find(|r| r.kind == code::SEND)
        .expect("a send");
    let recv = records
        .iter()
        .find(|r| r.kind == code::RECV)
        .expect("a recv");
    assert_eq!(
        (send.a, send.b),
        (recv.a, recv.b),
        "the same channel and id"
    );
    assert_ne!(send.b, 0);
    assert_eq!((send.text.as_str(), recv.text.as_str()), ("3", "3"));
    assert!(send.t_ns <= recv.t_ns);
    assert_eq!(recv.pid, child.pid().as_raw());
    let label = records
        .iter()
        .find(|r| r.kind == code::NAME && r.a == send.a)
        .map(|r| r.text.clone());
    assert_eq!(label, Some(format!("SIGRTMIN+5 to pid {}", child.pid())));
}

fn main() {
    ipc_testkit::scenarios::main(&ipc_testkit::scenarios![
        a_notification_crosses_a_fork_with_its_value_and_sender,
        standard_signals_coalesce_and_real_time_ones_queue_in_order,
        a_wait_for_a_notification_ends_at_its_deadline,
        a_long_wait_is_one_sleep_not_a_poll,
        sigterm_before_the_wait_ends_it_but_a_pending_notice_comes_first,
        sigterm_interrupts_a_wait_for_a_notification,
        a_signal_sent_without_a_value_arrives_without_one,
        a_notification_to_an_ended_process_names_the_call,
        a_notification_to_a_receiver_gone_on_an_interrupt_is_interrupted,
        a_traced_notification_is_a_send_and_its_receive,
    ]);
}
