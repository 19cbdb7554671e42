//! A pool of worker processes that run functions on items: Python's
//! `multiprocessing.Pool`.
//!
//! [`Pool::new`] forks its workers once. A task cannot be a closure made
//! after that fork (the worker's memory is a copy taken at the fork, and a
//! closure's captures are not messages), so a task is a plain function
//! pointer, `fn(A) -> R` ([`Pool::map`]) or `fn(A) -> Result<R, E>`
//! ([`Pool::try_map`]), whose argument and result are [`Message`]s. A
//! closure that captures nothing is such a function.
//!
//! ```
//! use ipc_core::Pool;
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! let pool = Pool::new(2).unwrap();                           // with Pool(2) as pool:
//! let squares = pool.map(square, 1..=4_u64).unwrap();        //     pool.map(square, range(1, 5))
//! assert_eq!(squares, [1, 4, 9, 16]);
//! let later = pool.apply_async(square, 7_u64).unwrap();      //     r = pool.apply_async(square, (7,))
//! assert_eq!(later.get().unwrap(), 49);                      //     r.get()
//! pool.close().unwrap();                                     // pool.close()
//! pool.join().unwrap();                                      // pool.join()
//! ```
//!
//! | Python | here |
//! | --- | --- |
//! | `Pool(processes)` | [`Pool::new`], [`Pool::with_max_message`] |
//! | `map(f, items, chunksize)` | [`Pool::map`], [`Pool::map_chunked`], [`Pool::try_map`] |
//! | `starmap(f, pairs)` | [`Pool::starmap`] (pairs) |
//! | `imap(f, items)`, `imap_unordered(f, items)` | [`Pool::imap`], [`Pool::imap_unordered`] |
//! | `apply(f, (x,))`, `apply_async(f, (x,))` | [`Pool::apply`], [`Pool::apply_async`], [`Pool::try_apply_async`] |
//! | `AsyncResult.get(timeout)`, `.ready()` | [`AsyncResult::get`], [`AsyncResult::get_timeout`], [`AsyncResult::ready`] |
//! | `close()`, `join()`, `terminate()` | [`Pool::close`], [`Pool::join`], [`Pool::terminate`] |
//! | an exception raised by `f` | [`Error::TaskFailed`] naming the item's index |
//!
//! # How it works
//!
//! Each worker has an inbox of its own, a [`Queue`] of tasks; all of them
//! put their reports on one result queue. A task is a *chunk*: the
//! encoded arguments of consecutive items, the index of the first, and
//! two code addresses: the function, and a *trampoline* instantiated for
//! its types, which decodes the arguments, calls the function on each
//! (catching a panic: that item fails, the others do not), and encodes
//! one outcome per item. A worker reports that it has *started* a chunk
//! before calling the function, and then its outcomes.
//!
//! The parent gives each worker at most [`WINDOW`] chunks at a time and
//! keeps the rest, so it knows which chunks every worker holds. Work moves
//! on while the parent waits on the pool (a `map`, an iterator's `next`,
//! [`AsyncResult::get`], [`Pool::join`]): Python's pool has threads that do
//! this in the background, and a process that forks must not have any.
//! While it waits, the parent looks every [`blocking::JOIN_INTERVAL`] for a
//! worker that died (killed by a signal, or ended by its function): the
//! chunk it had started fails with [`Error::TaskFailed`] saying how the
//! worker ended (the function may have run, and is not run twice), the
//! chunks it had not started go to other workers, and a new worker takes
//! its place. No wait is unbounded by accident: each takes a deadline, and
//! one with nothing left to wait for ends at once.
//!
//! Under `--trace` ([`crate::trace`]), each result is a message on the
//! pool's `pool results` channel: sent by the worker that computed it (as
//! Python prints it: `49`), received by the process that takes it from
//! the pool. The queues' own messages are encoded chunks (`<12 bytes>`).
//!
//! # Invariant: code addresses across the fork
//!
//! A function pointer sent to a worker is a number: the address of the
//! code in the parent. It is valid in the worker because the worker is a
//! `fork(2)` of the parent that never calls `exec`: the same binary, mapped
//! at the same addresses, with the same libraries loaded. The parent makes
//! both addresses of a task from typed pointers (`f as usize` for a `fn(A)
//! -> R`, and the trampoline `call::<A, R>` built for the same `A` and
//! `R`); the worker turns them back into exactly those types. Only the
//! pool's own processes can write to its queues (anonymous shared memory
//! inherited at the fork). A function in a library loaded after
//! [`Pool::new`] (`dlopen(3)`) would not be mapped in the workers: do not
//! hand one to a pool.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::os::fd::OwnedFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use nix::unistd::{Pid, getpid};

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result};
use crate::message::{self, Bytes, Describe, Message};
use crate::process::Process;
use crate::queue::Queue;
use crate::trace;

/// How many chunks a worker holds at most: one it runs and one ready to
/// run when it is done, so that it does not wait for the parent between
/// two.
pub const WINDOW: usize = 2;

/// The largest encoded task or report [`Pool::new`] accepts, in bytes: a
/// chunk's arguments, or its results.
pub const DEFAULT_MAX_MESSAGE: usize = 64 << 10;

/// What a task adds to its encoded arguments: its header.
const TASK_OVERHEAD: usize = 64;

/// How long a worker asked to end has before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A task: (job, index of its first item), (trampoline, function), the
/// encoded `Vec` of arguments.
type Task = ((u64, u64), (usize, usize), Bytes);

/// A worker's report: (its pid, what), (job, first index), the body
/// (the encoded outcomes, or why the chunk failed).
type Report = ((i32, u8), (u64, u64), Bytes);

/// The report of a worker about to call the function on a chunk.
const STARTED: u8 = 0;
/// The report of a chunk's outcomes, one per item.
const DONE: u8 = 1;
/// The report of a chunk whose outcomes could not be sent.
const FAILED: u8 = 2;

/// What a worker runs on a chunk: the function's address, the encoded
/// arguments and where its results go in the timeline in, the encoded
/// outcomes (`Vec<(Option<R>, String)>`) or why none could be made out.
type Trampoline = fn(usize, &[u8], Traced) -> std::result::Result<Vec<u8>, String>;

/// Where a chunk's results are recorded in a `--trace` timeline: the
/// pool's `pool results` channel, and the chunk's job and first index,
/// which make each result's message id.
#[derive(Clone, Copy)]
struct Traced {
    channel: u64,
    job: u64,
    first: u64,
}

impl Traced {
    /// The message id of item `index` of the job (unique in the pool
    /// below 2^32 items per job).
    fn message(self, index: u64) -> u64 {
        (self.job << 32) ^ index
    }
}

/// A pool of worker processes (see the [module documentation](self)).
///
/// Dropping a pool that was not joined terminates it: its workers get
/// SIGTERM, then SIGKILL a second later, and are reaped; none is left
/// behind.
pub struct Pool {
    inner: RefCell<Inner>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.try_borrow() {
            Ok(inner) => f
                .debug_struct("Pool")
                .field("workers", &inner.workers.len())
                .field("state", &inner.state)
                .field("waiting", &inner.backlog.len())
                .finish(),
            Err(_) => f.write_str("Pool { .. }"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Closed,
    Terminated,
    Joined,
}

/// A chunk handed to a worker, or waiting for one.
struct Chunk {
    task: Task,
    count: usize,
    /// True once its worker reported that it started it.
    started: bool,
}

impl Chunk {
    fn job(&self) -> u64 {
        self.task.0.0
    }

    fn first(&self) -> u64 {
        self.task.0.1
    }
}

struct Worker {
    process: Process,
    inbox: Queue<Task>,
    /// The chunks given to it and not reported done, in the order given.
    held: VecDeque<Chunk>,
}

/// A chunk's outcomes as they arrived: the encoded outcomes, or why the
/// whole chunk failed.
struct Arrival {
    traced: Traced,
    first: u64,
    count: usize,
    body: std::result::Result<Vec<u8>, String>,
}

struct Inner {
    workers: Vec<Worker>,
    results: Queue<Report>,
    backlog: VecDeque<Chunk>,
    /// The outcomes not yet taken, by job; a job not in the map was given
    /// up by its caller, and its outcomes are dropped as they arrive.
    arrived: HashMap<u64, VecDeque<Arrival>>,
    next_job: u64,
    /// Workers forked so far, to name the next (`ForkPoolWorker-N`).
    forked: usize,
    max_message: usize,
    state: State,
    /// The process that made the pool: only it may stop the workers.
    parent: Pid,
    /// The `pool results` channel of the timeline.
    trace_id: u64,
}

impl Pool {
    /// A pool of `processes` workers, forked now, taking tasks and results
    /// of up to [`DEFAULT_MAX_MESSAGE`] bytes.
    ///
    /// # Errors
    /// As [`Pool::with_max_message`].
    pub fn new(processes: usize) -> Result<Pool> {
        Pool::with_max_message(processes, DEFAULT_MAX_MESSAGE)
    }

    /// A pool of `processes` workers whose chunks of arguments, and of
    /// results, take up to `max_message` encoded bytes each.
    ///
    /// ```
    /// use ipc_core::{Error, Pool};
    ///
    /// let pool = Pool::with_max_message(1, 256).unwrap();
    /// let words = vec!["x".repeat(300)];
    /// let too_large = pool.map(|w: String| w.len(), words);
    /// assert!(matches!(too_large, Err(Error::MessageTooLarge { .. })), "{too_large:?}");
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for 0 processes or a `max_message` the
    /// queues refuse; [`Error::MultiThreaded`] or [`Error::Sys`] as
    /// [`Process::spawn`] (the workers already forked are stopped).
    pub fn with_max_message(processes: usize, max_message: usize) -> Result<Pool> {
        if processes == 0 {
            return Err(Error::InvalidArgument(
                "Pool::new: the number of processes must be at least 1".into(),
            ));
        }
        let capacity = processes
            .checked_mul(2 * WINDOW)
            .and_then(|n| n.checked_add(2))
            .ok_or_else(|| Error::InvalidArgument(format!("Pool::new: {processes} processes")))?;
        let mut inner = Inner {
            workers: Vec::with_capacity(processes),
            results: Queue::bounded(capacity, max_message)?,
            backlog: VecDeque::new(),
            arrived: HashMap::new(),
            next_job: 0,
            forked: 0,
            max_message,
            state: State::Open,
            parent: getpid(),
            trace_id: trace::new_object("pool results"),
        };
        for _ in 0..processes {
            // On an error `inner` is dropped, and the workers with it.
            let worker = inner.fork_worker()?;
            inner.workers.push(worker);
        }
        Ok(Pool {
            inner: RefCell::new(inner),
        })
    }

    /// `f` on every item, the results in the items' order (Python's
    /// `pool.map(f, items)`), the items sent in chunks of Python's default
    /// size (a quarter of an even share per worker, at least 1).
    ///
    /// # Errors
    /// [`Error::TaskFailed`] for the first item (by index) whose call
    /// panicked or whose worker died (the other items are still run; the
    /// pool goes on); [`Error::MessageTooLarge`] for a chunk of arguments
    /// or of results larger than the pool takes; [`Error::InvalidArgument`]
    /// once the pool is closed; [`Error::Interrupted`] after SIGINT or
    /// SIGTERM.
    pub fn map<A: Message, R: Message>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>> {
        self.map_all("Pool::map", call::<A, R>, f as usize, items, None)
    }

    /// As [`Pool::map`], sending the items `chunksize` at a time (Python's
    /// `chunksize`): fewer, larger messages. A failing item fails alone,
    /// not its chunk.
    ///
    /// ```
    /// use ipc_core::Pool;
    ///
    /// let pool = Pool::new(2).unwrap();
    /// let lengths = pool.map_chunked(|s: String| s.len(), ["a", "bb", "ccc"].map(String::from), 2);
    /// assert_eq!(lengths.unwrap(), [1, 2, 3]);
    /// ```
    ///
    /// # Errors
    /// As [`Pool::map`]; [`Error::InvalidArgument`] for a `chunksize` of 0.
    pub fn map_chunked<A: Message, R: Message>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<Vec<R>> {
        self.map_all(
            "Pool::map",
            call::<A, R>,
            f as usize,
            items,
            Some(chunksize),
        )
    }

    /// As [`Pool::map`] for a function that can fail: an item whose
    /// function returns `Err(e)` is [`Error::TaskFailed`] with `e` as its
    /// message.
    ///
    /// ```
    /// use ipc_core::{Error, Pool};
    ///
    /// fn parse(s: String) -> Result<i64, std::num::ParseIntError> {
    ///     s.parse()
    /// }
    ///
    /// let pool = Pool::new(2).unwrap();
    /// let words = ["1", "two", "3"].map(String::from);
    /// let error = pool.try_map(parse, words).unwrap_err();
    /// assert!(matches!(error, Error::TaskFailed { index: 1, .. }), "{error}");
    /// assert_eq!(error.to_string(), "task 1 failed: invalid digit found in string");
    /// assert_eq!(pool.try_map(parse, ["4".to_string()]).unwrap(), [4], "the pool goes on");
    /// ```
    ///
    /// # Errors
    /// As [`Pool::map`].
    pub fn try_map<A: Message, R: Message, E: fmt::Display>(
        &self,
        f: fn(A) -> std::result::Result<R, E>,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>> {
        let call = call_fallible::<A, R, E>;
        self.map_all("Pool::try_map", call, f as usize, items, None)
    }

    /// `f(a, b)` on every pair, in order (Python's `pool.starmap(f,
    /// pairs)`).
    ///
    /// ```
    /// use ipc_core::Pool;
    ///
    /// let pool = Pool::new(2).unwrap();
    /// let powers = pool.starmap(|b: u64, e: u32| b.pow(e), [(2, 3), (3, 2)]).unwrap();
    /// assert_eq!(powers, [8, 9]);
    /// ```
    ///
    /// # Errors
    /// As [`Pool::map`].
    pub fn starmap<A: Message, B: Message, R: Message>(
        &self,
        f: fn(A, B) -> R,
        items: impl IntoIterator<Item = (A, B)>,
    ) -> Result<Vec<R>> {
        let call = call_pair::<A, B, R>;
        self.map_all("Pool::starmap", call, f as usize, items, None)
    }

    /// `f` on every item, the results in the items' order as an iterator
    /// (Python's `pool.imap(f, items)`): each comes as soon as it and those
    /// before it are done. An item that failed is an `Err`
    /// ([`Error::TaskFailed`]) and the iterator goes on.
    ///
    /// ```
    /// use ipc_core::Pool;
    ///
    /// let pool = Pool::new(2).unwrap();
    /// let mut halves = pool.imap(|x: i32| 10 / x, [5, 0, 2]).unwrap();
    /// assert_eq!(halves.next().unwrap().unwrap(), 2);
    /// let error = halves.next().unwrap().unwrap_err();
    /// assert!(error.to_string().starts_with("task 1 failed: panicked"), "{error}");
    /// assert_eq!(halves.next().unwrap().unwrap(), 5);
    /// assert!(halves.next().is_none());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] once the pool is closed;
    /// [`Error::MessageTooLarge`] for an item larger than the pool takes.
    /// The iterator's items: as [`Pool::map`].
    pub fn imap<A: Message, R: Message>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Results<'_, R>> {
        self.iterate("Pool::imap", f, items, true)
    }

    /// As [`Pool::imap`], the results in the order they are done (Python's
    /// `pool.imap_unordered(f, items)`).
    ///
    /// ```
    /// use ipc_core::Pool;
    ///
    /// let pool = Pool::new(3).unwrap();
    /// let mut cubes: Vec<u64> = pool
    ///     .imap_unordered(|x: u64| x * x * x, 1..=5)
    ///     .unwrap()
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// cubes.sort();
    /// assert_eq!(cubes, [1, 8, 27, 64, 125]);
    /// ```
    ///
    /// # Errors
    /// As [`Pool::imap`].
    pub fn imap_unordered<A: Message, R: Message>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Results<'_, R>> {
        self.iterate("Pool::imap_unordered", f, items, false)
    }

    /// `f(arg)` in a worker, waited for (Python's `pool.apply(f, (arg,))`).
    ///
    /// # Errors
    /// As [`AsyncResult::get`].
    pub fn apply<A: Message, R: Message>(&self, f: fn(A) -> R, arg: A) -> Result<R> {
        self.apply_async(f, arg)?.get()
    }

    /// Starts `f(arg)` in a worker and returns at once (Python's
    /// `pool.apply_async(f, (arg,))`); [`AsyncResult::get`] waits for the
    /// result.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] once the pool is closed;
    /// [`Error::MessageTooLarge`] for an argument larger than the pool
    /// takes.
    pub fn apply_async<A: Message, R: Message>(
        &self,
        f: fn(A) -> R,
        arg: A,
    ) -> Result<AsyncResult<'_, R>> {
        let job = self.submit("Pool::apply_async", call::<A, R>, f as usize, [arg], 1)?;
        Ok(AsyncResult::new(job))
    }

    /// As [`Pool::apply_async`] for a function that can fail: its `Err(e)`
    /// is [`Error::TaskFailed`] (index 0) with `e` as its message.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ipc_core::{Error, Pool};
    ///
    /// fn checked_half(x: u32) -> Result<u32, String> {
    ///     if x % 2 == 0 { Ok(x / 2) } else { Err(format!("{x} is odd")) }
    /// }
    ///
    /// let pool = Pool::new(1).unwrap();
    /// let odd = pool.try_apply_async(checked_half, 7).unwrap();
    /// let error = odd.get_timeout(Duration::from_secs(10)).unwrap_err();
    /// assert_eq!(error.to_string(), "task 0 failed: 7 is odd");
    /// assert_eq!(pool.try_apply_async(checked_half, 8).unwrap().get().unwrap(), 4);
    /// ```
    ///
    /// # Errors
    /// As [`Pool::apply_async`].
    pub fn try_apply_async<A: Message, R: Message, E: fmt::Display>(
        &self,
        f: fn(A) -> std::result::Result<R, E>,
        arg: A,
    ) -> Result<AsyncResult<'_, R>> {
        let job = self.submit(
            "Pool::try_apply_async",
            call_fallible::<A, R, E>,
            f as usize,
            [arg],
            1,
        )?;
        Ok(AsyncResult::new(job))
    }

    /// Takes no more tasks (Python's `pool.close()`); the tasks given so
    /// far are still run. Then [`Pool::join`].
    ///
    /// # Errors
    /// None today; a `Result` as Python's may raise.
    pub fn close(&self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        if inner.state == State::Open {
            inner.state = State::Closed;
        }
        Ok(())
    }

    /// Waits until every task given is done and the workers have ended
    /// (Python's `pool.join()`), after [`Pool::close`] or
    /// [`Pool::terminate`]. Results not yet taken can still be taken.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] while the pool is open (Python's
    /// `ValueError`); [`Error::Interrupted`] after SIGINT or SIGTERM;
    /// [`Error::Sys`] naming `waitpid` or a queue's call.
    pub fn join(&self) -> Result<()> {
        self.inner.borrow_mut().join(Deadline::NEVER)
    }

    /// As [`Pool::join`], giving up with [`Error::Timeout`] after
    /// `timeout` (the pool is then as it was: join again, or terminate).
    ///
    /// # Errors
    /// As [`Pool::join`], plus [`Error::Timeout`].
    pub fn join_timeout(&self, timeout: Duration) -> Result<()> {
        self.inner.borrow_mut().join(Deadline::after(timeout))
    }

    /// Stops the workers at once (Python's `pool.terminate()`): SIGTERM,
    /// SIGKILL a second later for those still running, all reaped. Every
    /// task not done yet fails with [`Error::TaskFailed`].
    ///
    /// ```
    /// use ipc_core::{Error, Pool};
    ///
    /// let pool = Pool::new(1).unwrap();
    /// let never = pool.apply_async(|x: u64| -> u64 { loop { std::hint::black_box(x); } }, 1).unwrap();
    /// pool.terminate().unwrap();
    /// let error = never.get().unwrap_err();
    /// assert_eq!(error.to_string(), "task 0 failed: the pool was terminated");
    /// assert!(matches!(pool.map(|x: u64| x, [1]), Err(Error::InvalidArgument(_))));
    /// ```
    ///
    /// # Errors
    /// [`Error::Sys`] naming `waitpid`.
    pub fn terminate(&self) -> Result<()> {
        self.inner.borrow_mut().terminate()
    }

    /// The process ids of the workers now running, in their slots' order:
    /// what a test kills, or watches in `/proc`.
    pub fn pids(&self) -> Vec<Pid> {
        let inner = self.inner.borrow();
        inner.workers.iter().map(|w| w.process.pid()).collect()
    }

    /// A sentinel of every worker now running ([`Process::sentinel`]):
    /// ready once that worker has ended, for [`crate::ready::wait`].
    ///
    /// # Errors
    /// As [`Process::sentinel`].
    pub fn sentinels(&self) -> Result<Vec<OwnedFd>> {
        let inner = self.inner.borrow();
        inner.workers.iter().map(|w| w.process.sentinel()).collect()
    }

    /// The results of `f` on `items`, one item at a time, `ordered` or as
    /// they come.
    fn iterate<A: Message, R: Message>(
        &self,
        call_name: &'static str,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
        ordered: bool,
    ) -> Result<Results<'_, R>> {
        let job = self.submit(call_name, call::<A, R>, f as usize, items, 1)?;
        Ok(Results::new(job, ordered))
    }

    /// Every item's result in order, the items sent `chunksize` at a
    /// time (`None`: [`Pool::default_chunksize`]).
    fn map_all<A: Message, R: Message>(
        &self,
        call: &'static str,
        trampoline: Trampoline,
        func: usize,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>> {
        let items: Vec<A> = items.into_iter().collect();
        let chunksize = chunksize.unwrap_or_else(|| self.default_chunksize(items.len()));
        let job = self.submit(call, trampoline, func, items, chunksize)?;
        Results::new(job, true).collect()
    }

    /// Python's default chunk size for `len` items: `len / (4 * workers)`,
    /// rounded up, at least 1.
    fn default_chunksize(&self, len: usize) -> usize {
        let workers = self.inner.borrow().workers.len().max(1);
        len.div_ceil(workers.saturating_mul(4)).max(1)
    }

    /// Encodes `items` in chunks of `chunksize` as a new job and queues
    /// them.
    fn submit<A: Message>(
        &self,
        call: &'static str,
        trampoline: Trampoline,
        func: usize,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<Job<'_>> {
        if chunksize == 0 {
            return Err(Error::InvalidArgument(format!(
                "{call}: the chunk size must be at least 1"
            )));
        }
        let mut inner = self.inner.borrow_mut();
        if inner.state != State::Open {
            return Err(Error::InvalidArgument(format!(
                "{call}: the pool is not running (closed or terminated)"
            )));
        }
        let job = inner.next_job;
        let mut chunks = Vec::new();
        let mut items = items.into_iter().peekable();
        let mut first = 0_u64;
        while items.peek().is_some() {
            let chunk: Vec<A> = items.by_ref().take(chunksize).collect();
            let args = message::to_bytes(&chunk)?;
            let size = args.len() + TASK_OVERHEAD;
            if size > inner.max_message {
                return Err(Error::MessageTooLarge {
                    size,
                    limit: inner.max_message,
                });
            }
            chunks.push(Chunk {
                task: ((job, first), (trampoline as usize, func), Bytes(args)),
                count: chunk.len(),
                started: false,
            });
            first += chunk.len() as u64;
        }
        inner.next_job += 1;
        inner.arrived.insert(job, VecDeque::new());
        inner.backlog.extend(chunks);
        inner.dispatch()?;
        Ok(Job {
            pool: self,
            id: job,
            count: first,
            received: 0,
        })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        if inner.parent != getpid() || inner.state == State::Joined {
            return;
        }
        let _ = inner.terminate();
    }
}

impl Inner {
    /// Forks a worker with a new inbox.
    fn fork_worker(&mut self) -> Result<Worker> {
        let inbox = Queue::<Task>::bounded(WINDOW, self.max_message)?;
        self.forked += 1;
        let name = format!("ForkPoolWorker-{}", self.forked);
        let process = Process::spawn(name, {
            let inbox = inbox.clone();
            let results = self.results.clone();
            let channel = self.trace_id;
            move || work(&inbox, &results, channel)
        })?;
        Ok(Worker {
            process,
            inbox,
            held: VecDeque::new(),
        })
    }

    /// Gives waiting chunks to the workers with room, the least busy
    /// first.
    fn dispatch(&mut self) -> Result<()> {
        while !self.backlog.is_empty() {
            let Some(worker) = self
                .workers
                .iter_mut()
                .filter(|w| w.held.len() < WINDOW)
                .min_by_key(|w| w.held.len())
            else {
                return Ok(());
            };
            let Some(chunk) = self.backlog.pop_front() else {
                return Ok(());
            };
            match worker.inbox.try_put(&chunk.task) {
                Ok(true) => worker.held.push_back(chunk),
                Ok(false) => {
                    // Its inbox is full though it holds less than a window:
                    // a worker that died with chunks in it. Try later.
                    self.backlog.push_front(chunk);
                    return Ok(());
                }
                Err(error) => {
                    self.backlog.push_front(chunk);
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// True while a chunk is waiting or held by a worker.
    fn busy(&self) -> bool {
        !self.backlog.is_empty() || self.workers.iter().any(|w| !w.held.is_empty())
    }

    /// Moves the work on once: gives waiting chunks to workers, then waits
    /// until `deadline` for a report or a worker's end, and takes every
    /// report there is.
    ///
    /// # Errors
    /// [`Error::Timeout`] at the deadline; [`Error::Disconnected`] when
    /// nothing is waiting or running (nothing will ever arrive);
    /// [`Error::Interrupted`]; a queue's or `waitpid`'s error.
    fn pump(&mut self, deadline: Deadline) -> Result<()> {
        self.dispatch()?;
        if !self.busy() {
            return Err(Error::Disconnected);
        }
        let first = blocking::wait(deadline, |slice| {
            match self.results.get_timeout(slice.min(blocking::JOIN_INTERVAL)) {
                Ok(report) => Ok(Some(Some(report))),
                Err(Error::Timeout) => Ok(self.reap()?.then_some(None)),
                Err(error) => Err(error),
            }
        })?;
        if let Some(report) = first {
            self.take(report);
        }
        self.drain()?;
        self.reap()?;
        self.dispatch()
    }

    /// Takes every report there is now.
    fn drain(&mut self) -> Result<()> {
        while let Some(report) = self.results.try_get()? {
            self.take(report);
        }
        Ok(())
    }

    /// Books a worker's report.
    fn take(&mut self, ((pid, what), (job, first), body): Report) {
        let Some(worker) = self
            .workers
            .iter_mut()
            .find(|w| w.process.pid().as_raw() == pid)
        else {
            log::warn!("pool: a report from pid {pid}, no worker of this pool");
            return;
        };
        let Some(at) = worker
            .held
            .iter()
            .position(|c| c.job() == job && c.first() == first)
        else {
            log::warn!("pool: a report of job {job} item {first}, not held by pid {pid}");
            return;
        };
        if what == STARTED {
            worker.held[at].started = true;
            return;
        }
        let Some(chunk) = worker.held.remove(at) else {
            return;
        };
        let body = if what == DONE {
            Ok(body.0)
        } else {
            Err(String::from_utf8_lossy(&body.0).into_owned())
        };
        self.arrive(&chunk, body);
    }

    fn arrive(&mut self, chunk: &Chunk, body: std::result::Result<Vec<u8>, String>) {
        if let Some(queue) = self.arrived.get_mut(&chunk.job()) {
            queue.push_back(Arrival {
                traced: Traced {
                    channel: self.trace_id,
                    job: chunk.job(),
                    first: chunk.first(),
                },
                first: chunk.first(),
                count: chunk.count,
                body,
            });
        }
    }

    /// Finds workers that have ended: the chunk each had started fails,
    /// the others wait for another worker, and a new worker takes its
    /// place (unless the pool is terminated). True if any had ended.
    fn reap(&mut self) -> Result<bool> {
        let mut any = false;
        for slot in 0..self.workers.len() {
            let Some(status) = self.workers[slot].process.try_join()? else {
                continue;
            };
            any = true;
            // What it reported before it ended is in the queue: book it
            // first.
            self.drain()?;
            let how = format!(
                "its worker {} (pid {}) {status}",
                self.workers[slot].process.name(),
                self.workers[slot].process.pid()
            );
            let held = std::mem::take(&mut self.workers[slot].held);
            for chunk in held.into_iter().rev() {
                if chunk.started {
                    self.arrive(&chunk, Err(how.clone()));
                } else {
                    self.backlog.push_front(Chunk {
                        started: false,
                        ..chunk
                    });
                }
            }
            if self.state == State::Open || self.state == State::Closed {
                let worker = self.fork_worker()?;
                log::info!(
                    "pool: {how}; {} (pid {}) takes its place",
                    worker.process.name(),
                    worker.process.pid()
                );
                self.workers[slot] = worker;
            }
        }
        Ok(any)
    }

    fn join(&mut self, deadline: Deadline) -> Result<()> {
        match self.state {
            State::Open => {
                return Err(Error::InvalidArgument(
                    "Pool::join: the pool is still open (close or terminate it first)".into(),
                ));
            }
            State::Joined => return Ok(()),
            State::Closed | State::Terminated => {}
        }
        while self.state == State::Closed && self.busy() {
            self.pump(deadline)?;
        }
        for worker in &self.workers {
            worker.inbox.close()?;
        }
        for worker in &mut self.workers {
            let process = &mut worker.process;
            blocking::poll(deadline, blocking::JOIN_INTERVAL, || process.try_join())?;
        }
        self.state = State::Joined;
        Ok(())
    }

    fn terminate(&mut self) -> Result<()> {
        if self.state == State::Joined {
            return Ok(());
        }
        self.state = State::Terminated;
        for worker in &self.workers {
            let _ = worker.inbox.close();
            let _ = worker.process.terminate();
        }
        let grace = Deadline::after(STOP_GRACE);
        for worker in &mut self.workers {
            let process = &mut worker.process;
            let ended = blocking::poll_until(grace, blocking::JOIN_INTERVAL, || {
                process.try_join().ok().flatten()
            });
            if ended.is_none() {
                let _ = process.kill();
                process.join()?;
            }
        }
        let mut unfinished: Vec<Chunk> = self.backlog.drain(..).collect();
        for worker in &mut self.workers {
            unfinished.extend(worker.held.drain(..));
        }
        for chunk in unfinished {
            self.arrive(&chunk, Err("the pool was terminated".into()));
        }
        self.state = State::Joined;
        Ok(())
    }
}

/// A job's place in the pool: its id, how many items it has, and how
/// many have arrived. Dropped, the job's outcomes yet to come are thrown
/// away.
struct Job<'p> {
    pool: &'p Pool,
    id: u64,
    count: u64,
    received: u64,
}

impl Job<'_> {
    /// The next chunk of outcomes, waiting until `deadline`; `None` once
    /// every item has arrived.
    fn next(&mut self, deadline: Deadline) -> Result<Option<Arrival>> {
        if self.received >= self.count {
            return Ok(None);
        }
        let mut inner = self.pool.inner.borrow_mut();
        loop {
            if let Some(arrival) = inner
                .arrived
                .get_mut(&self.id)
                .and_then(VecDeque::pop_front)
            {
                self.received += arrival.count as u64;
                return Ok(Some(arrival));
            }
            match inner.pump(deadline) {
                Ok(()) => {}
                // Nothing runs, yet this job misses items: they were lost.
                Err(Error::Disconnected) => {
                    return Err(Error::TaskFailed {
                        index: usize::try_from(self.received).unwrap_or(usize::MAX),
                        message: "the pool lost it".into(),
                    });
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.pool.inner.try_borrow_mut() {
            inner.arrived.remove(&self.id);
        }
    }
}

/// The outcomes of one arrival as `(index, result)`.
fn unpack<R: Message>(arrival: Arrival) -> Vec<(u64, Result<R>)> {
    let indices = arrival.first..arrival.first + arrival.count as u64;
    let failed = |why: &str| -> Vec<(u64, Result<R>)> {
        indices
            .clone()
            .map(|index| (index, Err(task_failed(index, why.to_owned()))))
            .collect()
    };
    let body = match arrival.body {
        Ok(body) => body,
        Err(why) => return failed(&why),
    };
    match message::from_bytes::<Vec<(Option<R>, String)>>(&body) {
        Ok(outcomes) if outcomes.len() == arrival.count => indices
            .clone()
            .zip(outcomes)
            .map(|(index, (value, why))| {
                if let Some(value) = &value {
                    let msg = arrival.traced.message(index);
                    trace::recv(arrival.traced.channel, msg, Describe(value));
                }
                (index, value.ok_or_else(|| task_failed(index, why)))
            })
            .collect(),
        Ok(outcomes) => failed(&format!(
            "{} outcomes came back for a chunk of {}",
            outcomes.len(),
            arrival.count
        )),
        Err(error) => failed(&format!("its result does not decode: {error}")),
    }
}

fn task_failed(index: u64, message: String) -> Error {
    Error::TaskFailed {
        index: usize::try_from(index).unwrap_or(usize::MAX),
        message,
    }
}

/// The results of [`Pool::imap`] (in order) or [`Pool::imap_unordered`]
/// (as they come), one `Result` per item.
///
/// Each `next` waits as long as it takes; the pool's own failures (an
/// interrupted wait, a failed system call) are an `Err` that ends the
/// iteration. Dropped before the end, the results still to come are
/// thrown away as they arrive.
pub struct Results<'p, R> {
    job: Job<'p>,
    ordered: bool,
    /// The index the ordered iterator gives next.
    next: u64,
    /// Outcomes that arrived, by index.
    waiting: BTreeMap<u64, Result<R>>,
    ended: bool,
}

impl<R> fmt::Debug for Results<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Results")
            .field("job", &self.job.id)
            .field("ordered", &self.ordered)
            .field("items", &self.job.count)
            .field("next", &self.next)
            .finish()
    }
}

impl<'p, R: Message> Results<'p, R> {
    fn new(job: Job<'p>, ordered: bool) -> Self {
        Results {
            job,
            ordered,
            next: 0,
            waiting: BTreeMap::new(),
            ended: false,
        }
    }

    /// The next outcome ready to give, if any.
    fn ready(&mut self) -> Option<Result<R>> {
        let index = if self.ordered {
            self.next
        } else {
            *self.waiting.keys().next()?
        };
        let outcome = self.waiting.remove(&index)?;
        self.next += 1;
        Some(outcome)
    }
}

impl<R: Message> Iterator for Results<'_, R> {
    type Item = Result<R>;

    fn next(&mut self) -> Option<Result<R>> {
        if self.ended {
            return None;
        }
        loop {
            if let Some(outcome) = self.ready() {
                return Some(outcome);
            }
            match self.job.next(Deadline::NEVER) {
                Ok(Some(arrival)) => self.waiting.extend(unpack(arrival)),
                Ok(None) => {
                    self.ended = true;
                    return None;
                }
                Err(error) => {
                    self.ended = true;
                    return Some(Err(error));
                }
            }
        }
    }
}

/// The result of [`Pool::apply_async`], to [`get`](AsyncResult::get)
/// later (Python's `AsyncResult`).
pub struct AsyncResult<'p, R> {
    job: Job<'p>,
    value: Option<Result<R>>,
    _type: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for AsyncResult<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("job", &self.job.id)
            .field("arrived", &self.value.is_some())
            .finish()
    }
}

impl<'p, R: Message> AsyncResult<'p, R> {
    fn new(job: Job<'p>) -> Self {
        AsyncResult {
            job,
            value: None,
            _type: PhantomData,
        }
    }

    /// Waits for the result (Python's `get()`).
    ///
    /// # Errors
    /// [`Error::TaskFailed`] when the function panicked or returned an
    /// error, or its worker died; [`Error::Interrupted`] after SIGINT or
    /// SIGTERM; [`Error::Sys`] as the pool's queues and `waitpid`.
    pub fn get(self) -> Result<R> {
        self.get_by(Deadline::NEVER)
    }

    /// As [`AsyncResult::get`], giving up with [`Error::Timeout`] after
    /// `timeout` (Python's `get(timeout)`, `multiprocessing.TimeoutError`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ipc_core::{Error, Pool};
    ///
    /// let pool = Pool::new(1).unwrap();
    /// let never = pool.apply_async(|x: u64| -> u64 { loop { std::hint::black_box(x); } }, 1).unwrap();
    /// let late = never.get_timeout(Duration::from_millis(50));
    /// assert!(matches!(late, Err(Error::Timeout)), "{late:?}");
    /// // Dropping the pool stops the worker that still runs it.
    /// ```
    ///
    /// # Errors
    /// As [`AsyncResult::get`], plus [`Error::Timeout`].
    pub fn get_timeout(self, timeout: Duration) -> Result<R> {
        self.get_by(Deadline::after(timeout))
    }

    /// Waits up to `timeout` for the result without taking it (Python's
    /// `wait(timeout)`, which raises no `TimeoutError`: here
    /// [`Error::Timeout`] says the result is not there yet, and the
    /// `AsyncResult` can be waited on again).
    ///
    /// # Errors
    /// As [`AsyncResult::get_timeout`], except that a failed task is no
    /// error here (its [`get`](AsyncResult::get) gives it).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<()> {
        self.fetch(Deadline::after(timeout))
    }

    /// True once the result (or the task's failure) is there (Python's
    /// `ready()`); it moves the pool's work on without waiting.
    ///
    /// # Errors
    /// As [`AsyncResult::get`], except that a failed task is no error
    /// here.
    pub fn ready(&mut self) -> Result<bool> {
        match self.fetch(Deadline::after(Duration::ZERO)) {
            Ok(()) => Ok(true),
            Err(Error::Timeout) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn get_by(mut self, deadline: Deadline) -> Result<R> {
        self.fetch(deadline)?;
        self.value.take().unwrap_or_else(|| {
            Err(Error::TaskFailed {
                index: 0,
                message: "the pool lost it".into(),
            })
        })
    }

    fn fetch(&mut self, deadline: Deadline) -> Result<()> {
        if self.value.is_some() {
            return Ok(());
        }
        let outcome = match self.job.next(deadline)? {
            Some(arrival) => unpack(arrival).pop().map(|(_, outcome)| outcome),
            None => None,
        };
        self.value = Some(outcome.unwrap_or_else(|| {
            Err(Error::TaskFailed {
                index: 0,
                message: "the pool lost it".into(),
            })
        }));
        Ok(())
    }
}

// ---- the workers' side ----

/// A worker's life: take a task from its inbox, report that it starts,
/// run it, report the outcomes; end when the inbox is closed.
fn work(inbox: &Queue<Task>, results: &Queue<Report>, channel: u64) -> Result<()> {
    catch_panic_messages();
    let me = getpid().as_raw();
    loop {
        let ((job, first), (trampoline, func), args) = match inbox.get() {
            Ok(task) => task,
            Err(Error::Disconnected) => return Ok(()),
            Err(error) => return Err(error),
        };
        results.put(((me, STARTED), (job, first), Bytes(Vec::new())))?;
        // SAFETY: `trampoline` was made by `Pool::submit` in the parent as
        // `t as usize` from a `Trampoline` `t` (only the pool's own
        // processes write to its queues, anonymous shared memory
        // inherited at the fork); this process is a fork of that parent
        // without `exec`, so the same code is mapped at the same address
        // (see the module's "Invariant").
        let trampoline = unsafe { std::mem::transmute::<usize, Trampoline>(trampoline) };
        let traced = Traced {
            channel,
            job,
            first,
        };
        let (what, body) = match trampoline(func, &args.0, traced) {
            Ok(outcomes) => (DONE, outcomes),
            Err(why) => (FAILED, why.into_bytes()),
        };
        match results.put(((me, what), (job, first), Bytes(body))) {
            Err(Error::MessageTooLarge { size, limit }) => {
                let why = format!(
                    "its results take {size} bytes, more than the pool's limit of {limit} (Pool::with_max_message)"
                );
                results.put(((me, FAILED), (job, first), Bytes(why.into_bytes())))?;
            }
            other => other?,
        }
    }
}

thread_local! {
    /// The message and place of the last panic in this worker.
    static PANICKED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic in a task is that task's failure, sent to the parent: the
/// worker keeps its message and place (`panicked at src/main.rs:3:
/// boom`) instead of printing it.
fn catch_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let text = crate::process::describe_panic(info);
        PANICKED.with(|p| *p.borrow_mut() = Some(text));
    }));
}

/// Decodes a chunk's arguments and runs `call` on each, a panic failing
/// that item alone; the encoded outcomes, or why there are none. Each
/// result is recorded as sent on the pool's `pool results` channel.
fn run_items<A: Message, R: Message>(
    args: &[u8],
    traced: Traced,
    mut call: impl FnMut(A) -> std::result::Result<R, String>,
) -> std::result::Result<Vec<u8>, String> {
    let items: Vec<A> =
        message::from_bytes(args).map_err(|e| format!("its arguments do not decode: {e}"))?;
    let outcomes: Vec<(Option<R>, String)> = (traced.first..)
        .zip(items)
        .map(
            |(index, item)| match catch_unwind(AssertUnwindSafe(|| call(item))) {
                Ok(Ok(value)) => {
                    trace::send(traced.channel, traced.message(index), Describe(&value));
                    (Some(value), String::new())
                }
                Ok(Err(why)) => (None, why),
                Err(_) => {
                    let why = PANICKED.with(|p| p.borrow_mut().take());
                    (None, why.unwrap_or_else(|| "panicked".into()))
                }
            },
        )
        .collect();
    message::to_bytes(&outcomes).map_err(|e| format!("its results do not encode: {e}"))
}

/// The trampoline of a `fn(A) -> R`.
fn call<A: Message, R: Message>(
    func: usize,
    args: &[u8],
    traced: Traced,
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: `func` was made by the parent as `f as usize` from a
    // `fn(A) -> R` `f`, and sent with this very trampoline, instantiated
    // for the same `A` and `R`; a fork without `exec` maps the same code
    // at the same address (see the module's "Invariant").
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> R>(func) };
    run_items(args, traced, |a| Ok(f(a)))
}

/// The trampoline of a `fn(A) -> Result<R, E>`.
fn call_fallible<A: Message, R: Message, E: fmt::Display>(
    func: usize,
    args: &[u8],
    traced: Traced,
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: as in `call`, for a `fn(A) -> Result<R, E>` sent with this
    // trampoline instantiated for the same `A`, `R` and `E`.
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> std::result::Result<R, E>>(func) };
    run_items(args, traced, |a| f(a).map_err(|e| e.to_string()))
}

/// The trampoline of a `fn(A, B) -> R`, on pairs.
fn call_pair<A: Message, B: Message, R: Message>(
    func: usize,
    args: &[u8],
    traced: Traced,
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: as in `call`, for a `fn(A, B) -> R` sent with this
    // trampoline instantiated for the same `A`, `B` and `R`.
    let f = unsafe { std::mem::transmute::<usize, fn(A, B) -> R>(func) };
    run_items(args, traced, |(a, b): (A, B)| Ok(f(a, b)))
}
