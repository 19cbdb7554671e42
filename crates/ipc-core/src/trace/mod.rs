//! The run's timeline, recorded: a log in anonymous shared memory that
//! every process of a run appends to.
//!
//! The lessons of the labs are about order: who wrote before who read,
//! which process waited, when a lock was held. [`start`] makes a log in
//! anonymous shared memory *before the first fork*, so that every process
//! of the run appends to the same log; the mechanisms record what they do
//! through the small functions of this module ([`send`], [`recv`],
//! [`lock_acquired`], [`sleep_begin`], [`print()`], …). This module is the
//! recorder only, low in the crate (every mechanism writes to it): the
//! events are read back as raw [`Record`]s ([`Log::read`]), and `ipc-trace`
//! turns them into a picture (an SVG sequence diagram), a Chrome trace for
//! Perfetto, and merges the traces of several programs or machines.
//!
//! ```
//! use ipc_core::{Process, trace};
//! use ipc_core::trace::code;
//!
//! let log = trace::start("demo", 1024).unwrap();
//! let channel = trace::new_object("pipe");
//! // Process::spawn records the child's start and exit, join its join.
//! let mut child = Process::spawn("child", || trace::send(channel, 1, "hello")).unwrap();
//! child.join().unwrap();
//! trace::recv(channel, 1, "hello");
//! trace::exit(0);
//! let mut records = log.read().records;
//! records.retain(|r| r.kind != code::NAME);
//! records.sort_by_key(|r| r.t_ns);
//! let kinds: Vec<u32> = records.iter().map(|r| r.kind).collect();
//! use code::{EXIT, JOIN, RECV, SEND, SPAWN};
//! assert_eq!(kinds, [SPAWN, SPAWN, SEND, EXIT, JOIN, RECV, EXIT]);
//! trace::stop();
//! ```
//!
//! # Cost
//!
//! While no log is on, every recording function is one relaxed load and a
//! return (under 2 ns). While one is on, an event costs one `fetch_add`, a
//! clock read (`clock_gettime(CLOCK_MONOTONIC)` through the vDSO, no system
//! call) and about forty relaxed stores, with no lock and no allocation:
//! about 0.2 µs of CPU measured, most of it the first touch of each page of
//! the log (one page fault per 16 events); an event that finds the log full
//! costs a few tens of nanoseconds. That is small beside the system calls
//! the mechanisms make. Recording is async-signal-safe: a signal handler
//! may call it.
//!
//! # Ordering rules for the callers
//!
//! Timestamps come from one clock that all processes share, so the picture
//! is causally right as long as every event is recorded on the right side
//! of the operation it describes:
//!
//! * [`send`] *before* the data is handed to the kernel or the queue, and
//!   [`recv`] *after* it has been taken: a receive then never appears
//!   before its send;
//! * [`lock_acquired`] *after* the lock is held, [`lock_released`] *before*
//!   it is let go: the next holder's acquire then comes after the release
//!   (and so for a semaphore's [`sem_acquired`] and [`sem_released`]);
//! * [`write()`] *before* the store and [`read`] *after* the load: a read
//!   that saw a value then never appears before the write that stored it;
//! * [`child_started`] first thing in a child, [`exit`] last thing before
//!   `_exit` (or before the first process writes the log).
//!
//! # Where the hooks go
//!
//! | when | call | where |
//! | --- | --- | --- |
//! | the run starts (`--trace FILE` given) | [`start`]`(program, DEFAULT_CAPACITY)` (`ipc-cli`'s runner, once `ipc-trace` has accepted the file's name) | the first process, before anything forks and before the IPC objects are made |
//! | a child starts | [`child_started_at`]`(name, forked_at)` with the parent's [`fork_time`] (or [`child_started`]`(name)`) | first thing in the child after `fork` |
//! | a process ends | [`exit`]`(code)` | a child: just before `_exit`; the first process: when its body returned, before writing |
//! | a child is reaped | [`joined`]`(pid, name, status)` | the parent, after `waitpid` gave the status |
//! | a channel or lock is made | [`new_object`]`(label)` (or [`named_object`]`(name)` for a named one); keep the id in the object | where it is made, before the fork |
//! | a message goes out / comes in | [`send`] before handing it over, [`recv`] after taking it | the mechanism's send and receive |
//! | a lock is busy | [`lock_wait`] when a first `try_lock` failed, before blocking | the lock |
//! | a lock is taken / let go | [`lock_acquired`] after taking it, [`lock_released`] before letting it go | the lock and its guard's `Drop` |
//! | shared data is made | [`new_data_object`]`(label, guard)` (the id of the lock that guards it, or 0); a named segment uses [`named_object`] | `Value`, `Array` and their raw twins, where their memory is made |
//! | shared data is read / written | [`read`] after the load ([`read_all`] for a whole array), [`write()`] before the store | the data's every access (its guard's too) |
//! | a semaphore is busy / taken / given back | [`sem_wait`] when a first try found no unit, [`sem_acquired`] after taking one, [`sem_released`] before giving it back | the semaphore |
//! | a sleep | [`sleep_begin`]`(scaled)` and [`sleep_end`] | around the sleep |
//! | a signal arrives | [`signal`]`(signo)` | the signal handler (async-signal-safe) |
//! | a line is printed | [`print()`]`(line)`; `ipc-cli`'s `say!` calls it | the experiment's output |
//! | the run ends | [`Log::read`], written to FILE by `ipc-trace` | the first process, after joining its children |
//!
//! # Overflow
//!
//! The log has a fixed capacity. An event that finds it full is counted
//! and dropped, never an error: [`Log::dropped`] says how many were lost,
//! and so does the written trace.

pub mod code;
mod log;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use crate::error::Result;

pub use log::{Contents, MAX_CAPACITY, NAME_BYTES, Record, TEXT_BYTES};
use log::{LogMemory, NAME_WORDS, pack_name};

/// A capacity that holds a student's `--fast` run many times over
/// (65 536 events; 16 MiB of address space, of which only the pages
/// written are ever backed by memory).
pub const DEFAULT_CAPACITY: usize = 1 << 16;

/// On while a log is installed: the one load of the fast path.
static ON: AtomicBool = AtomicBool::new(false);
/// The installed log. Every pointer stored here comes from
/// `Arc::into_raw` and is never given back, so it stays valid until the
/// process ends, even after [`stop`] (another thread may be recording).
static CURRENT: AtomicPtr<LogMemory> = AtomicPtr::new(std::ptr::null_mut());
/// This process's pid and its parent's, kept up to date across `fork` by
/// an atfork handler, so that recording makes no `getpid` system call.
static PID: AtomicI32 = AtomicI32::new(0);
static PARENT: AtomicI32 = AtomicI32::new(0);
/// This process's name, packed (see [`set_process_name`]).
static NAME: [AtomicU64; NAME_WORDS] = [const { AtomicU64::new(0) }; NAME_WORDS];
/// Object ids handed out while no log is on.
static LOCAL_OBJECTS: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

/// A log that the processes of a run append to.
///
/// Cloning gives another handle to the same log. The memory of a log that
/// was installed ([`start`]) stays mapped until the process ends.
#[derive(Debug, Clone)]
pub struct Log {
    memory: Arc<LogMemory>,
    label: String,
}

impl Log {
    /// The number of events the log can hold.
    pub fn capacity(&self) -> usize {
        self.memory.capacity()
    }

    /// Events recorded so far (at most the capacity).
    pub fn len(&self) -> usize {
        self.memory.claimed()
    }

    /// True before the first event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events that found the log full and were not recorded.
    pub fn dropped(&self) -> u64 {
        self.memory.dropped()
    }

    /// The name the log was started with (the program's).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Reads every record published so far, in the order the slots were
    /// claimed (sort them by [`Record::t_ns`] for time order); `ipc-trace`
    /// makes a trace of them.
    pub fn read(&self) -> Contents {
        self.memory.read()
    }
}

/// Starts recording: makes a log of `capacity` events, installs it as the
/// current log of this process (and of the children it forks afterwards),
/// names this process `name` and records its [`code::SPAWN`].
///
/// Call it in the run's first process, before it forks anything. A second
/// call replaces the current log with a new one.
///
/// # Errors
/// [`crate::Error::InvalidArgument`] for a capacity of 0 or above
/// [`MAX_CAPACITY`]; [`crate::Error::Sys`] naming `mmap`.
pub fn start(name: &str, capacity: usize) -> Result<Log> {
    let memory = LogMemory::new(capacity)?;
    ATFORK.call_once(|| {
        // SAFETY: `after_fork_in_child` only calls getpid(2) and stores to
        // atomics, which is allowed in a child after fork (it is
        // async-signal-safe); it does not unwind.
        let _ = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    });
    PID.store(nix::unistd::getpid().as_raw(), Ordering::Relaxed);
    PARENT.store(nix::unistd::getppid().as_raw(), Ordering::Relaxed);
    set_process_name(name);
    let raw = Arc::into_raw(Arc::clone(&memory)).cast_mut();
    CURRENT.store(raw, Ordering::Release);
    ON.store(true, Ordering::Release);
    let log = Log {
        memory,
        label: name.to_owned(),
    };
    record(
        code::SPAWN,
        PARENT.load(Ordering::Relaxed) as u64,
        0,
        0,
        &"",
    );
    Ok(log)
}

/// Stops recording in this process (its children forked afterwards
/// inherit the stop). The log's memory stays mapped.
pub fn stop() {
    ON.store(false, Ordering::Relaxed);
}

/// True while a log is recording in this process: one relaxed load.
#[inline]
pub fn is_on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The log this process records into, if any.
pub fn current() -> Option<Log> {
    let memory = installed()?;
    // SAFETY: the pointer came from `Arc::into_raw` in `start`, and that
    // reference is never released, so the count is at least 1; this adds
    // one for the new handle.
    let memory = unsafe {
        let raw: *const LogMemory = memory;
        Arc::increment_strong_count(raw);
        Arc::from_raw(raw)
    };
    Some(Log {
        memory,
        label: process_name(),
    })
}

extern "C" fn after_fork_in_child() {
    PARENT.store(PID.load(Ordering::Relaxed), Ordering::Relaxed);
    PID.store(nix::unistd::getpid().as_raw(), Ordering::Relaxed);
}

#[inline]
fn installed() -> Option<&'static LogMemory> {
    if !ON.load(Ordering::Relaxed) {
        return None;
    }
    let raw = CURRENT.load(Ordering::Acquire);
    // SAFETY: a non-null pointer in CURRENT came from `Arc::into_raw` and
    // is never released (see CURRENT): it is valid until the process ends.
    unsafe { raw.as_ref() }
}

#[inline]
fn record(kind: u32, a: u64, b: u64, c: i64, text: &dyn fmt::Display) {
    if let Some(log) = installed() {
        append(log, None, kind, a, b, c, text);
    }
}

fn append(
    log: &LogMemory,
    t_ns: Option<u64>,
    kind: u32,
    a: u64,
    b: u64,
    c: i64,
    text: &dyn fmt::Display,
) {
    let name: [u64; NAME_WORDS] = std::array::from_fn(|i| NAME[i].load(Ordering::Relaxed));
    log.append(
        t_ns,
        kind,
        PID.load(Ordering::Relaxed),
        &name,
        a,
        b,
        c,
        text,
    );
}

/// Names this process in the events it records from now on (cut to
/// [`NAME_BYTES`] bytes). A forked child keeps its parent's name until it
/// calls this or [`child_started`].
pub fn set_process_name(name: &str) {
    for (word, value) in NAME.iter().zip(pack_name(name)) {
        word.store(value, Ordering::Relaxed);
    }
}

fn process_name() -> String {
    let bytes: Vec<u8> = NAME
        .iter()
        .flat_map(|w| w.load(Ordering::Relaxed).to_le_bytes())
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Hook for a forked child, first thing after `fork`: names the process
/// and records its [`code::SPAWN`] (its parent is the process that forked
/// it), dated now. [`crate::Process::spawn`] dates it at the fork instead
/// ([`child_started_at`]).
pub fn child_started(name: &str) {
    child_started_at(name, None);
}

/// The time a parent reads just before it forks, for the child's
/// [`child_started_at`]; `None` while tracing is off.
pub fn fork_time() -> Option<u64> {
    installed().map(LogMemory::now_ns)
}

/// [`child_started`] with the spawn dated `forked_at` ([`fork_time`], read
/// by the parent just before the fork): the child exists from the fork
/// on, so its spawn then comes before whatever its parent did after
/// forking (starting or joining another child), however late the child
/// itself first runs.
pub fn child_started_at(name: &str, forked_at: Option<u64>) {
    set_process_name(name);
    if let Some(log) = installed() {
        append(
            log,
            forked_at,
            code::SPAWN,
            PARENT.load(Ordering::Relaxed) as u64,
            0,
            0,
            &"",
        );
    }
}

/// Hook for the end of a process: records its [`code::EXIT`] with the
/// exit code. A child calls it just before `_exit`; the first process
/// calls it before writing the log.
pub fn exit(status: i32) {
    record(code::EXIT, 0, 0, i64::from(status), &"");
}

/// Hook for a parent that reaped a child: records a [`code::JOIN`] with the
/// child's pid, name and status (`-SIGNAL` when a signal killed it, as
/// [`crate::ExitStatus::code`]).
pub fn joined(child: i32, name: &str, status: i32) {
    record(code::JOIN, child as u64, 0, i64::from(status), &name);
}

/// Hook for a message sent on `channel` with id `msg`; `text` is the
/// message as a person would read it (cut to [`TEXT_BYTES`] bytes,
/// formatted only when tracing is on: pass `format_args!`).
///
/// Call it *before* handing the message over. The receiver must record the
/// same `(channel, msg)`: a queue's slot sequence number, a per-end counter
/// on a channel with one writer and one reader, or an id carried with the
/// message ([`next_message_id`]).
#[inline]
pub fn send(channel: u64, msg: u64, text: impl fmt::Display) {
    record(code::SEND, channel, msg, 0, &text);
}

/// Hook for a message received on `channel`: call it *after* the message
/// was taken. See [`send`].
#[inline]
pub fn recv(channel: u64, msg: u64, text: impl fmt::Display) {
    record(code::RECV, channel, msg, 0, &text);
}

/// [`send`] for a channel that does not carry ids with its messages (a
/// pipe, a FIFO, a message queue): the message is numbered by a counter of
/// the channel shared by the run's processes, and [`recv_next`] numbers the
/// receives alike, so that the n-th receive pairs with the n-th send.
/// Nothing is counted while tracing is off.
pub fn send_next(channel: u64, text: impl fmt::Display) {
    numbered(code::SEND, channel, None, &text);
}

/// The receiving side of [`send_next`]: call it *after* taking the message.
pub fn recv_next(channel: u64, text: impl fmt::Display) {
    numbered(code::RECV, channel, None, &text);
}

/// [`send_next`] for a channel that does not deliver in the order sent (a
/// POSIX message queue delivers by priority): messages are numbered per
/// content, `key` (their bytes), so that the n-th receive of a content
/// pairs with the n-th send of the same content.
pub fn send_keyed(channel: u64, key: &[u8], text: impl fmt::Display) {
    numbered(code::SEND, channel, Some(key), &text);
}

/// The receiving side of [`send_keyed`]: call it *after* taking the
/// message.
pub fn recv_keyed(channel: u64, key: &[u8], text: impl fmt::Display) {
    numbered(code::RECV, channel, Some(key), &text);
}

/// Records a send or receive on `channel` numbered by the channel's
/// counter of that side, or with a `key`, by the counter of that content
/// (the id is then the content's hash with the number in its low bits).
/// Nothing is hashed or counted while tracing is off.
///
/// A sender reads the clock *before* it takes its number, a receiver
/// *after*: so the n-th receive comes after the n-th send in the trace,
/// however many processes send and receive. (When the n-th receiver takes
/// its number, n messages have been received, so n sent, so numbers 1 to
/// n taken, and their senders' times read, before.)
fn numbered(kind: u32, channel: u64, key: Option<&[u8]>, text: &dyn fmt::Display) {
    let Some(log) = installed() else {
        return;
    };
    let (side, sent_at) = if kind == code::SEND {
        (0, Some(log.now_ns()))
    } else {
        (1, None)
    };
    let msg = match key.map(fnv1a) {
        None => log.next_in_channel(channel, side),
        Some(hash) => {
            let n = log.next_in_channel(channel ^ hash, side);
            (hash & !0xf_ffff) | (n & 0xf_ffff)
        }
    };
    append(log, sent_at, kind, channel, msg, 0, text);
}

/// A message id made from a name the message carries anyway (a NATS
/// message id, say): the same on every machine, so that traces recorded
/// apart pair its receive with its send. Records nothing.
pub fn id_of(name: &str) -> u64 {
    fnv1a(name.as_bytes()) >> 1
}

/// FNV-1a: a short, stable hash of `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Records `kind` with its fields, if a log is on: the slow path of the
/// hooks that are inlined where shared data is touched, kept out of line
/// so that those callers pay one relaxed load while tracing is off.
#[cold]
#[inline(never)]
fn record_slow(kind: u32, a: u64, b: u64, c: i64, text: &dyn fmt::Display) {
    record(kind, a, b, c, text);
}

/// A fresh id for shared data (a `Value`, an `Array`, their raw twins),
/// named `label` (`value`, `array`, `raw value`, `raw array`), guarded by
/// the lock whose id is `guard` (0 for none): the trace then tells which
/// lock protects which object (the [`code::NAME`] record of the object
/// carries the lock's id in [`Record::b`]). As [`new_object`] otherwise.
///
/// ```
/// use ipc_core::trace::{self, code};
/// use ipc_core::Array;
///
/// let log = trace::start("demo", 64).unwrap();
/// let squares = Array::<i32>::new(2).unwrap();
/// squares.set(1, 4).unwrap();
/// let records = log.read().records;
/// let named = |id: u64| records.iter().find(|r| r.kind == code::NAME && r.a == id).unwrap();
/// let written = records.iter().find(|r| r.kind == code::WRITE).unwrap();
/// assert_eq!((named(written.a).text.as_str(), written.b, written.text.as_str()), ("array", 1, "4"));
/// let lock = named(written.a).b;
/// assert_eq!(named(lock).text, "lock");
/// trace::stop();
/// ```
pub fn new_data_object(label: impl fmt::Display, guard: u64) -> u64 {
    match installed() {
        Some(log) => {
            let id = log.next_object();
            record(code::NAME, id, guard, 0, &label);
            id
        }
        None => (1 << 62) | (LOCAL_OBJECTS.fetch_add(1, Ordering::Relaxed) + 1),
    }
}

/// Hook for a read of element `index` of shared data `object` that gave
/// `value`: call it *after* the load. `value` is formatted only while
/// tracing is on; while it is off, this is one relaxed load.
#[inline]
pub fn read(object: u64, index: u64, value: impl fmt::Display) {
    if ON.load(Ordering::Relaxed) {
        record_slow(code::READ, object, index, 0, &value);
    }
}

/// Hook for a read of every element of `object` at once (an array's
/// `to_list`), `list` being what was read: call it *after* the loads.
#[inline]
pub fn read_all(object: u64, list: impl fmt::Display) {
    if ON.load(Ordering::Relaxed) {
        record_slow(code::READ, object, 0, code::EVERY_ELEMENT, &list);
    }
}

/// Hook for a write of `value` to element `index` of shared data
/// `object`: call it *before* the store.
#[inline]
pub fn write(object: u64, index: u64, value: impl fmt::Display) {
    if ON.load(Ordering::Relaxed) {
        record_slow(code::WRITE, object, index, 0, &value);
    }
}

/// Hook for a process that found no unit in `semaphore` and will wait.
#[inline]
pub fn sem_wait(semaphore: u64) {
    if ON.load(Ordering::Relaxed) {
        record_slow(code::SEM_WAIT, semaphore, 0, 0, &"");
    }
}

/// Hook for a process that took a unit of `semaphore`, leaving `left`:
/// call it *after* taking it.
#[inline]
pub fn sem_acquired(semaphore: u64, left: u32) {
    if ON.load(Ordering::Relaxed) {
        record_slow(code::SEM_ACQUIRE, semaphore, 0, 0, &left);
    }
}

/// Hook for a process about to give a unit back to `semaphore`: call it
/// *before* the unit is visible to others.
#[inline]
pub fn sem_released(semaphore: u64) {
    if ON.load(Ordering::Relaxed) {
        record_slow(code::SEM_RELEASE, semaphore, 0, 0, &"");
    }
}

/// Hook for a process that starts waiting for `lock`: call it when a
/// first `try_lock` found the lock busy, before blocking, so that the
/// picture shows a wait only where there was one (a wait recorded before
/// every acquire is correct too, but clutters the picture).
pub fn lock_wait(lock: u64) {
    record(code::LOCK_WAIT, lock, 0, 0, &"");
}

/// Hook for a process that now holds `lock`: call it *after* acquiring.
pub fn lock_acquired(lock: u64) {
    record(code::LOCK_ACQUIRE, lock, 0, 0, &"");
}

/// Hook for a process about to let `lock` go: call it *before* releasing.
pub fn lock_released(lock: u64) {
    record(code::LOCK_RELEASE, lock, 0, 0, &"");
}

/// Hook for the start of a sleep of `requested` (after `--fast` scaling).
pub fn sleep_begin(requested: Duration) {
    let ns = u64::try_from(requested.as_nanos()).unwrap_or(u64::MAX);
    record(code::SLEEP_BEGIN, 0, ns, 0, &"");
}

/// Hook for the end of a sleep (also when a signal cut it short).
pub fn sleep_end() {
    record(code::SLEEP_END, 0, 0, 0, &"");
}

/// Hook for a signal received (async-signal-safe: a signal handler may
/// call it).
pub fn signal(signal: i32) {
    record(code::SIGNAL, 0, 0, i64::from(signal), &"");
}

/// Hook for a line the experiment printed (without its newline).
pub fn print(line: impl fmt::Display) {
    record(code::PRINT, 0, 0, 0, &line);
}

/// A free-form mark on the process's lane (`read 7`, `wrote 8`).
pub fn mark(text: impl fmt::Display) {
    record(code::MARK, 0, 0, 0, &text);
}

/// A fresh id for a channel or lock made by this run, named `label` in
/// the pictures (`pipe`, `queue`, `lock`). Call it where the object is
/// made, before the fork, and keep the id in the object: parent and
/// children then record the same id.
///
/// Ids are handed out even while tracing is off (they are then only
/// unique within the process), so a mechanism can always call it.
pub fn new_object(label: impl fmt::Display) -> u64 {
    match installed() {
        Some(log) => {
            let id = log.next_object();
            record(code::NAME, id, 0, 0, &label);
            id
        }
        None => (1 << 62) | (LOCAL_OBJECTS.fetch_add(1, Ordering::Relaxed) + 1),
    }
}

/// The id of a named object (a FIFO path, a message queue name, a NATS
/// subject): the same in every process and on every machine, so that
/// traces recorded apart can be paired. Records the name while tracing.
///
/// ```
/// use ipc_core::trace::named_object;
/// assert_eq!(named_object("/ipc-lab-q"), named_object("/ipc-lab-q"));
/// assert_ne!(named_object("/ipc-lab-q"), named_object("/ipc-lab-r"));
/// ```
pub fn named_object(name: &str) -> u64 {
    // The top bit set: it never meets `new_object`'s ids.
    let id = fnv1a(name.as_bytes()) | NAMED;
    record(code::NAME, id, 0, 0, &name);
    id
}

/// The bit that marks the id of a named object.
const NAMED: u64 = 1 << 63;

/// True for the id of a named object ([`named_object`]): the same in every
/// process and on every machine, so that traces recorded apart pair its
/// messages; any other id is one run's own.
///
/// ```
/// use ipc_core::trace::{is_named, named_object, new_object};
/// assert!(is_named(named_object("/ipc-lab-q")));
/// assert!(!is_named(new_object("pipe")));
/// ```
pub fn is_named(id: u64) -> bool {
    id & NAMED != 0
}

/// A fresh message id for a mechanism that carries the id with the
/// message; 0 while tracing is off.
pub fn next_message_id() -> u64 {
    installed().map_or(0, LogMemory::next_message)
}
