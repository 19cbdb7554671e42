//! Multi-process scenarios for `process`, `sync` and `value`.
//!
//! A `harness = false` target: a plain single-threaded program, so it may
//! fork (see `ipc_testkit::scenarios`). Every wait is bounded.

use std::time::Duration;

use ipc_core::blocking::{self, Deadline};
use ipc_core::{
    Array, Error, IpcName, Lock, LockError, Process, RawValue, SharedMemory, Value, join_all,
    join_all_ok, pace, signal,
};
use ipc_testkit::{children_of, zombies_of};
use nix::sys::signal::Signal;
use nix::unistd::getpid;

#[path = "support/holder.rs"]
mod holder;
use holder::{hold_until_killed, sleep_until_killed};

/// Waits until `done()` holds, failing after ten seconds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let held = blocking::poll_until(
        Deadline::after(Duration::from_secs(10)),
        blocking::MOMENT,
        || done().then_some(()),
    );
    assert!(held.is_some(), "timed out waiting for {what}");
}

/// A child that takes `v`'s lock, writes 41, says so, and waits to die.
fn spawn_holder(v: &Value<i32>, holding: &RawValue<u32>) -> Process {
    Process::spawn("holder", || -> i32 {
        let guard = v.lock().expect("the first lock is clean");
        guard.set(41);
        hold_until_killed(holding)
    })
    .unwrap()
}

fn a_killed_holder_is_reported_not_waited_for() {
    let v = Value::new(0_i32).unwrap();
    let holding = RawValue::new(0_u32).unwrap();
    let mut holder = spawn_holder(&v, &holding);
    wait_until("the holder to take the lock", || holding.get() == 1);
    holder.kill().unwrap();
    assert_eq!(holder.join().unwrap().signal(), Some(Signal::SIGKILL));

    // Bounded: a robust lock must not make us wait for a dead owner.
    match v.lock_timeout(Duration::from_secs(1)) {
        Err(LockError::OwnerDied(guard)) => {
            assert_eq!(guard.get(), 41, "the dead holder's write is visible");
            guard.set(0);
            guard.make_consistent().unwrap();
        }
        other => panic!("expected OwnerDied, got {:?}", other.map(|g| g.get())),
    }
    // Repaired: later locks are clean.
    assert_eq!(v.update(|x| x + 1).unwrap(), 1);
    assert!(v.lock_timeout(Duration::from_secs(1)).is_ok());
}

fn a_waiter_wakes_when_the_holder_dies() {
    let v = Value::new(0_i32).unwrap();
    let holding = RawValue::new(0_u32).unwrap();
    let mut holder = spawn_holder(&v, &holding);
    wait_until("the holder to take the lock", || holding.get() == 1);
    let victim = holder.pid();
    let waiter = getpid();
    // Kill the holder once this process is asleep in lock(): seen in
    // /proc, in futex(2), not assumed after a sleep.
    let mut killer = Process::spawn("killer", || {
        ipc_testkit::wait_in_syscall(waiter, nix::libc::SYS_futex, Duration::from_secs(10));
        nix::sys::signal::kill(victim, Signal::SIGKILL).map_err(|e| e.to_string())
    })
    .unwrap();
    match v.lock_timeout(Duration::from_secs(10)) {
        Err(LockError::OwnerDied(guard)) => guard.make_consistent().unwrap(),
        other => panic!("expected OwnerDied, got {:?}", other.map(|g| g.get())),
    }
    assert!(killer.join().unwrap().success());
    assert_eq!(holder.join().unwrap().code(), -9);
}

fn a_lock_never_repaired_is_an_error_not_a_hang() {
    let lock = Lock::new().unwrap();
    let holding = RawValue::new(0_u32).unwrap();
    let mut holder = Process::spawn("holder", || -> i32 {
        let _guard = lock.lock().unwrap();
        hold_until_killed(&holding)
    })
    .unwrap();
    wait_until("the holder to take the lock", || holding.get() == 1);
    holder.kill().unwrap();
    holder.join().unwrap();

    let guard = lock.lock().expect_err("the owner died").into_guard();
    assert!(guard.is_some());
    drop(guard); // unlocked without make_consistent()
    for _ in 0..3 {
        match lock.lock_timeout(Duration::from_secs(1)) {
            Err(LockError::Failed(Error::NotRecoverable)) => {}
            other => panic!("expected NotRecoverable, got {other:?}"),
        }
    }
    assert_eq!(
        Error::from(lock.lock().unwrap_err()).to_string(),
        "lock: not recoverable (its owner died and the state was never made consistent)"
    );
}

fn a_panicking_child_exits_with_101_and_the_parent_memory_is_intact() {
    let v = Value::new(7_i32).unwrap();
    let list = Array::<i32>::from_slice(&[1, 2, 3, 4]).unwrap();
    let mut children = vec![
        Process::spawn("calm", || v.update(|x| x + 1).map(drop)).unwrap(),
        Process::spawn("boom", || -> i32 {
            list.set(0, 10).unwrap();
            // Fail only after the calm child's update: a failed child makes
            // join_all stop its siblings.
            wait_until("the calm child's update", || v.get().unwrap() == 8);
            panic!("deliberate panic in a child (expected in this test's output)")
        })
        .unwrap(),
    ];
    // The parent names the child that failed, and how.
    let err = join_all_ok(&mut children).unwrap_err();
    assert_eq!(err.to_string(), "boom exited with code 101");
    assert!(
        matches!(&err, Error::ChildFailed { name, status }
            if name == "boom" && status.code() == ipc_core::process::PANIC_EXIT_CODE),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), 1);
    assert_eq!(children[0].exit_status().map(|s| s.code()), Some(0));
    // The parent's shared memory is intact: what the children wrote before
    // ending is there, nothing else changed, and no lock is left held.
    assert_eq!(v.get().unwrap(), 8);
    assert_eq!(list.to_list().unwrap().to_string(), "[10, 2, 3, 4]");
    assert!(
        v.lock_timeout(Duration::from_secs(1)).is_ok(),
        "lock released"
    );
    assert!(list.lock().is_ok());

    // One child alone, joined with join_ok: the same report.
    let mut child = Process::spawn("p1", || -> i32 { panic!("deliberate, again") }).unwrap();
    let err = child.join_ok().unwrap_err();
    assert_eq!(err.to_string(), "p1 exited with code 101");
}

fn an_error_returned_by_a_child_exits_with_1() {
    let mut child = Process::spawn("failing", || Err::<(), _>("no luck")).unwrap();
    assert_eq!(child.join().unwrap().code(), 1);
    assert_eq!(child.join().unwrap().code(), 1, "joining twice is fine");
}

fn any_timeout_is_a_bound_even_one_the_clock_cannot_hold() {
    // Duration::MAX is past what an Instant can hold: waiting so long is
    // waiting for ever, never a panic adding it to the clock.
    let mut quick = Process::spawn("quick", || ()).unwrap();
    let status = quick.join_timeout(Duration::MAX).unwrap();
    assert_eq!(status.map(|s| s.code()), Some(0));
    let mut slow = Process::spawn("slow", || std::thread::sleep(Duration::from_secs(5))).unwrap();
    assert_eq!(slow.join_timeout(Duration::ZERO).unwrap(), None);
    assert_eq!(slow.join_timeout(Duration::from_millis(5)).unwrap(), None);
    slow.kill().unwrap();
    assert_eq!(
        slow.join_timeout(Duration::MAX).unwrap().map(|s| s.code()),
        Some(-9)
    );
}

fn dropping_an_unjoined_child_leaves_no_zombie() {
    let child = Process::spawn("sleeper", || -> i32 { sleep_until_killed() }).unwrap();
    let pid = child.pid();
    assert!(children_of(getpid()).contains(&pid));
    drop(child);
    assert!(!children_of(getpid()).contains(&pid), "still a child");
    assert_eq!(zombies_of(getpid()), Vec::<String>::new());
}

fn the_signal_flag_follows_sigterm() {
    signal::install().unwrap();
    signal::clear();
    assert!(!signal::interrupted());
    assert!(signal::check().is_ok());
    nix::sys::signal::raise(Signal::SIGTERM).unwrap();
    assert_eq!(signal::pending(), Some(Signal::SIGTERM));
    assert!(matches!(signal::check(), Err(Error::Interrupted)));
    assert!(matches!(
        pace::sleep(Duration::from_secs(60)),
        Err(Error::Interrupted)
    ));
    signal::clear();
    assert_eq!(signal::pending(), None);
    signal::uninstall().unwrap();
}

fn join_all_passes_sigterm_on_to_the_children() {
    signal::install().unwrap();
    let finished = RawValue::new(0_u32).unwrap();
    let mut children: Vec<Process> = (0..2)
        .map(|i| {
            Process::spawn(format!("worker{i}"), || {
                while pace::sleep(Duration::from_secs(1)).is_ok() {}
                // Interrupted: end in order, as an experiment would.
                finished.set(finished.get() + 1);
                0
            })
            .unwrap()
        })
        .collect();
    // Only this process gets the signal, as with `kill PARENT`.
    nix::sys::signal::raise(Signal::SIGTERM).unwrap();
    let statuses = join_all(&mut children).unwrap();
    signal::clear();
    signal::uninstall().unwrap();
    assert!(statuses.iter().all(|s| s.success()), "{statuses:?}");
    assert!(finished.get() >= 1);
    assert_eq!(zombies_of(getpid()), Vec::<String>::new());
}

/// 1 000 children, each creating a named segment and ending in one of
/// three ways (exit 0, exit 1, a panic): no zombie, no descriptor and no
/// segment left.
fn many_spawn_join_cycles_keep_descriptors_and_leave_no_zombie() {
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let shm_before = ipc_testkit::shm_objects();
    let before = fds();
    for i in 0..1000 {
        let mut child = Process::spawn("short", move || -> Result<i32, Error> {
            let _segment = SharedMemory::create(&IpcName::unique("cycle")?, 64)?;
            match i % 3 {
                0 => Ok(0),
                1 => Ok(1), // a failure, without a message
                _ => {
                    // 333 deliberate panics: the child's own hook (one
                    // line each) would fill the output.
                    std::panic::set_hook(Box::new(|_| {}));
                    panic!("a panic, on purpose")
                }
            }
        })
        .unwrap();
        let expected = [0, 1, ipc_core::process::PANIC_EXIT_CODE][i % 3];
        assert_eq!(child.join().unwrap().code(), expected, "child {i}");
    }
    assert_eq!(fds(), before, "a descriptor leaked per child");
    assert_eq!(zombies_of(getpid()), Vec::<String>::new());
    // Only the children's segments: other programs on the machine (tests
    // of other crates, a student's run) may create theirs meanwhile.
    let new: Vec<String> = ipc_testkit::shm_objects()
        .difference(&shm_before)
        .filter(|name| name.ends_with("-cycle"))
        .cloned()
        .collect();
    assert_eq!(new, Vec::<String>::new(), "left in /dev/shm");
}

/// Set in the environment of this program's own re-run by
/// `a_child_panic_prints_one_line_even_with_rust_backtrace`.
const PANIC_ROLE: &str = "IPC_LAB_SCENARIO_PANICKING_CHILD";

/// The re-run's part: a child that panics, joined; the child's exit code
/// becomes this program's.
fn panicking_child_role() -> ! {
    let mut child = Process::spawn("boom", || -> i32 {
        panic!("deliberate panic, expected by the test")
    })
    .unwrap();
    let status = child.join().unwrap();
    std::process::exit(status.code())
}

/// A deliberate panic in a lab must not read like a crash of the kit: many
/// machines set RUST_BACKTRACE=1, and a child's panic printed a whole
/// backtrace there. This program runs itself again (a fresh process, so
/// the environment and the panic hook are the child's own), with
/// RUST_BACKTRACE=1, and reads what the panicking child printed.
fn a_child_panic_prints_one_line_even_with_rust_backtrace() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .env(PANIC_ROLE, "1")
        .env("RUST_BACKTRACE", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(ipc_core::process::PANIC_EXIT_CODE),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, no backtrace:\n{stderr}");
    assert!(
        lines[0].starts_with("boom: panicked at ")
            && lines[0].ends_with(": deliberate panic, expected by the test"),
        "{stderr}"
    );
}

fn main() {
    let scenarios = ipc_testkit::scenarios![
        any_timeout_is_a_bound_even_one_the_clock_cannot_hold,
        a_killed_holder_is_reported_not_waited_for,
        a_waiter_wakes_when_the_holder_dies,
        a_lock_never_repaired_is_an_error_not_a_hang,
        a_panicking_child_exits_with_101_and_the_parent_memory_is_intact,
        an_error_returned_by_a_child_exits_with_1,
        dropping_an_unjoined_child_leaves_no_zombie,
        the_signal_flag_follows_sigterm,
        join_all_passes_sigterm_on_to_the_children,
        a_child_panic_prints_one_line_even_with_rust_backtrace,
        many_spawn_join_cycles_keep_descriptors_and_leave_no_zombie,
    ];
    ipc_testkit::scenarios::main_or_role(PANIC_ROLE, panicking_child_role, &scenarios);
}
