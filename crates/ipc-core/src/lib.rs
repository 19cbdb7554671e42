//! # ipc-core
//!
//! The one library behind every ipc-lab experiment: Python's
//! `multiprocessing` ported to real Linux IPC, one module per mechanism.
//!
//! | module | what | Python twin |
//! | --- | --- | --- |
//! | [`process`] | fork a child that runs a closure; join, terminate | `Process` |
//! | [`command`] | programs started with `std::process::Command` that die with their parent | `subprocess` |
//! | [`shm`] | anonymous and named (`shm_open(3)`) shared memory | `shared_memory.SharedMemory` |
//! | [`value`], [`array`](mod@array) | numbers in shared memory, locked or raw | `Value`, `Array`, `RawValue`, `RawArray` |
//! | [`sync`] | process-shared locks, semaphores, events, conditions, barriers | `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`, `Barrier` |
//! | [`owner`] | who creates and removes a named object; crash clean-up (a tracker, the next program's sweep) | `resource_tracker` |
//! | [`message`] | typed values as bytes, decoding that never panics; structs and enums through serde ([`message::structs::Serde`]) | pickling |
//! | [`fifo`] | named pipes (`mkfifo(3)`), mode 0600, removed by their creator | — |
//! | [`file`](mod@file) | files for people (a trace, a report) checked before the work and written without following a link | — |
//! | [`mqueue`] | POSIX message queues with priorities, limits from `/proc/sys/fs/mqueue` | — |
//! | [`pipe`] | framed typed messages over `pipe(2)` (simplex) and `socketpair(2)` (duplex) | `Pipe` |
//! | [`connection`] | `Listener` and `Client` over TCP and Unix sockets, in Python's wire format with its authkey handshake | `multiprocessing.connection` |
//! | [`queue`] | a bounded multi-producer, multi-consumer queue in shared memory | `Queue` |
//! | [`joinable`] | a queue whose consumers mark tasks done, and that a process can join | `JoinableQueue` |
//! | [`signal`], [`pace`], [`blocking`] | Ctrl-C and SIGTERM as a flag; sleeps that honour `--fast`; the one layer every wait, deadline and poll goes through | `KeyboardInterrupt` |
//! | [`manager`] | a server process keeping a dict and a list that other processes reach through proxies | `Manager`, the proxies of `manager.dict()` and `manager.list()` |
//! | [`pool`] | worker processes forked once that run functions on items, in order or as they come | `Pool`, `AsyncResult` |
//! | [`ready`] | wait for the first of several pipes, connections, queues and processes to be ready (`poll(2)`) | `multiprocessing.connection.wait` |
//! | [`name`] | validated `ipc-lab-…` names | |
//! | [`trace`] | the run's recorder: a shared-memory event log every process appends to (`ipc-trace` draws and merges it) | |
//! | [`error`] | one error type that names the failed call and object | exceptions |
//!
//! What programs share (the common flags, the runner, logging, `say!`)
//! is `ipc-cli`'s; the timeline's pictures are `ipc-trace`'s.
//!
//! ```
//! use ipc_core::{Array, Process, Value};
//!
//! // A child writes the first powers of two into a shared Array and
//! // keeps the largest in a shared Value; the parent, after join, sees both.
//! let powers = Array::<u32>::new(5).unwrap();
//! let largest = Value::new(0_u32).unwrap();
//! let mut child = Process::spawn("child", || {
//!     for k in 0..powers.len() {
//!         powers.set(k, 1 << k)?;
//!     }
//!     largest.set(powers.get(powers.len() - 1)?)
//! })
//! .unwrap();
//! assert!(child.join().unwrap().success());
//! assert_eq!(powers.to_list().unwrap().to_string(), "[1, 2, 4, 8, 16]");
//! assert_eq!(largest.get().unwrap(), 16);
//! ```
//!
//! # Layers
//!
//! Read bottom up; a module uses only its own row and the rows below,
//! never a row above (a mechanism knows nothing of the processes that use
//! it, the recorder nothing of the mechanisms that write to it). Every
//! module is in the table, and a test (`tests/layers.rs`) reads each
//! one's `crate::` paths and fails on an arrow up the table, or on a
//! cycle between modules.
//!
//! | layer | modules | what it gives the layers above |
//! | --- | --- | --- |
//! | 7. process pools and managers | [`pool`], [`manager`] | `Pool`: workers forked once, tasks as function pointers over queues, a dead worker replaced; `Manager`: a server process keeping a dict and a list |
//! | 6. processes and data | [`process`], [`command`], `plain`, [`value`], [`array`](mod@array), [`queue`], [`joinable`] | `Process`, children that die with their parent, `Value`, `Array`, `Queue`, `JoinableQueue` |
//! | 5. mechanisms | [`shm`], `bus`, [`sync`], [`message`], [`pipe`], [`connection`], [`fifo`], [`mqueue`] | one module per kernel mechanism (`bus`: a named segment truncated under a process is a message, not a crash) |
//! | 4. ownership | [`owner`], [`name`] | validated names; who creates and removes a named object, crash clean-up, trust checks |
//! | 3. blocking | [`blocking`], [`signal`], [`pace`], [`ready`] | EINTR, Ctrl-C, deadlines, polls and their intervals, `--fast`; waiting on several descriptors at once |
//! | 2. the process and its timeline | `os`, `mapping`, [`file`](mod@file), [`trace`] | facts about the calling process, anonymous shared pages, files for people written without following a link, the recorder every layer above writes to |
//! | 1. errors | [`error`] | one `Error` naming the failed call and object; a leaf |
//!
//! `unsafe` code lives only in this crate, each block with the invariant it
//! relies on; the experiments contain none.

#![warn(missing_docs)]

pub mod array;
pub mod blocking;
#[allow(unsafe_code)]
mod bus;
#[allow(unsafe_code)]
pub mod command;
pub mod connection;
pub mod error;
pub mod fifo;
pub mod file;
pub mod joinable;
pub mod manager;
#[allow(unsafe_code)]
mod mapping;
pub mod message;
#[allow(unsafe_code)]
pub mod mqueue;
pub mod name;
mod os;
#[allow(unsafe_code)]
pub mod owner;
pub mod pace;
pub mod pipe;
#[allow(unsafe_code)]
mod plain;
#[allow(unsafe_code)]
pub mod pool;
#[allow(unsafe_code)]
pub mod process;
#[allow(unsafe_code)]
pub mod queue;
pub mod ready;
#[allow(unsafe_code)]
pub mod shm;
#[allow(unsafe_code)]
pub mod signal;
#[allow(unsafe_code)]
pub mod sync;
#[allow(unsafe_code)]
pub mod trace;
#[allow(unsafe_code)]
pub mod value;

pub use array::{Array, ArrayGuard, RawArray};
pub use blocking::Deadline;
pub use connection::{Client, Listener};
pub use error::{Error, Result};
pub use fifo::{Fifo, FifoReader, FifoWriter};
pub use joinable::JoinableQueue;
pub use manager::{Manager, Proxy};
pub use message::Message;
pub use mqueue::MessageQueue;
pub use name::IpcName;
pub use owner::Owner;
pub use pipe::Connection;
pub use plain::{Plain, PyList};
pub use pool::{AsyncResult, Pool};
pub use process::{ExitStatus, OnFailure, Process, join_all, join_all_ok, join_all_with};
pub use queue::Queue;
pub use ready::Waitable;
pub use shm::SharedMemory;
pub use sync::{
    Barrier, BoundedSemaphore, Condition, ConditionGuard, Event, Lock, LockError, LockGuard, RLock,
    RLockGuard, Semaphore,
};
pub use value::{RawValue, Value, ValueGuard};
