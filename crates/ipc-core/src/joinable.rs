//! `JoinableQueue<T>`: a [`Queue`] that also counts unfinished tasks, like
//! Python's `multiprocessing.JoinableQueue`.
//!
//! Every [`put`](JoinableQueue::put) counts a task; a consumer that has
//! finished with what it got calls [`task_done`](JoinableQueue::task_done);
//! [`join`](JoinableQueue::join) waits until every task put so far is done.
//! The count lives in the queue's own shared memory (a cache line of its
//! header), read and written with atomics; `join` sleeps on a futex
//! (`futex(2)`) through [`crate::blocking`], as every wait of ipc-core
//! does.
//!
//! ```
//! use std::time::Duration;
//! use ipc_core::{Error, JoinableQueue, Process, Value, join_all_ok};
//!
//! let q = JoinableQueue::<u64>::new().unwrap();           // q = JoinableQueue()
//! let total = Value::new(0_u64).unwrap();
//! let mut workers: Vec<Process> = (0..2)
//!     .map(|i| {
//!         Process::spawn(format!("worker {i}"), || {
//!             for item in q.iter() {                       // while True: item = q.get()
//!                 let item = item?;
//!                 total.update(|sum| sum + item * item)?;  //     work on item
//!                 q.task_done()?;                          //     q.task_done()
//!             }
//!             Ok::<_, Error>(())
//!         })
//!         .unwrap()
//!     })
//!     .collect();
//! for item in 1..=10 {
//!     q.put(item).unwrap();                               // q.put(item)
//! }
//! q.join_timeout(Duration::from_secs(30)).unwrap();       // q.join()
//! assert_eq!(q.unfinished_tasks(), 0);
//! assert_eq!(total.get().unwrap(), 385, "every task was done before join returned");
//! q.close().unwrap(); // the workers' loops end (Python's daemon workers die instead)
//! join_all_ok(&mut workers).unwrap();
//! assert!(matches!(q.task_done(), Err(Error::TaskDoneTooManyTimes)));
//! ```
//!
//! # A process that dies holding a task
//!
//! A task counts from its `put` until somebody calls `task_done`, and no
//! one can tell whose task it is: a consumer killed after it got a message
//! and before its `task_done` leaves the count one too high for good (so
//! does a producer killed between counting its task and putting the
//! message). [`JoinableQueue::join`] then waits for ever, as Python's
//! does; [`JoinableQueue::join_timeout`] gives up with [`Error::Timeout`]
//! instead, and [`JoinableQueue::unfinished_tasks`] says how many are
//! missing. Bound the join, or join the consumers first
//! ([`crate::join_all_ok`] names the one that died). SIGINT or SIGTERM
//! ends a waiting `join` with [`Error::Interrupted`].

use std::borrow::Borrow;
use std::fmt;
use std::time::Duration;

use crate::blocking::Deadline;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::queue::{Iter, Queue};

/// A [`Queue`] whose puts count tasks that consumers mark done, and that
/// a process can join (see the [module documentation](self)). Cloning
/// gives another handle to the same queue.
///
/// | Python | here |
/// | --- | --- |
/// | `JoinableQueue(maxsize)` | [`JoinableQueue::new`], [`JoinableQueue::bounded`] |
/// | `put(obj)`, `put(obj, timeout=t)`, `put_nowait(obj)` | [`put`](JoinableQueue::put), [`put_timeout`](JoinableQueue::put_timeout), [`try_put`](JoinableQueue::try_put) |
/// | `get()`, `get(timeout=t)`, `get_nowait()` | [`get`](JoinableQueue::get), [`get_timeout`](JoinableQueue::get_timeout), [`try_get`](JoinableQueue::try_get) |
/// | `task_done()` | [`task_done`](JoinableQueue::task_done) (`ValueError` → [`Error::TaskDoneTooManyTimes`]) |
/// | `join()` | [`join`](JoinableQueue::join), [`join_timeout`](JoinableQueue::join_timeout) |
/// | `qsize()`, `empty()`, `close()` | [`len`](JoinableQueue::len), [`is_empty`](JoinableQueue::is_empty), [`close`](JoinableQueue::close) |
pub struct JoinableQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> Self {
        JoinableQueue {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinableQueue")
            .field("queue", &self.queue)
            .field("unfinished_tasks", &self.unfinished_tasks())
            .finish()
    }
}

impl<T: Message> JoinableQueue<T> {
    /// A joinable queue of the sizes [`Queue::new`] takes.
    ///
    /// # Errors
    /// As [`Queue::new`].
    pub fn new() -> Result<Self> {
        Ok(JoinableQueue {
            queue: Queue::new()?,
        })
    }

    /// A joinable queue of `capacity` messages of up to `max_message`
    /// bytes each.
    ///
    /// # Errors
    /// As [`Queue::bounded`].
    pub fn bounded(capacity: usize, max_message: usize) -> Result<Self> {
        Ok(JoinableQueue {
            queue: Queue::bounded(capacity, max_message)?,
        })
    }

    /// Counts a task and puts `item`, waiting while the queue is full
    /// ([`Queue::put`]). The task is counted before the message can be
    /// taken, so a consumer's `task_done` always finds it; if the put
    /// fails, it is not counted.
    ///
    /// # Errors
    /// As [`Queue::put`]; [`Error::InvalidArgument`] when `u64::MAX` tasks
    /// are unfinished.
    pub fn put(&self, item: impl Borrow<T>) -> Result<()> {
        self.counted(|queue| queue.put(item).map(|()| true))
            .map(drop)
    }

    /// As [`JoinableQueue::put`], giving up after `timeout` (the task is
    /// not counted then).
    ///
    /// # Errors
    /// As [`Queue::put_timeout`].
    pub fn put_timeout(&self, item: impl Borrow<T>, timeout: Duration) -> Result<()> {
        self.counted(|queue| queue.put_timeout(item, timeout).map(|()| true))
            .map(drop)
    }

    /// Counts a task and puts `item` only if there is room right now:
    /// `Ok(false)` (nothing counted) when the queue is full.
    ///
    /// # Errors
    /// As [`Queue::try_put`].
    pub fn try_put(&self, item: impl Borrow<T>) -> Result<bool> {
        self.counted(|queue| queue.try_put(item))
    }

    /// Takes the front message, waiting while the queue is empty; call
    /// [`JoinableQueue::task_done`] once done with it.
    ///
    /// # Errors
    /// As [`Queue::get`].
    pub fn get(&self) -> Result<T> {
        self.queue.get()
    }

    /// As [`JoinableQueue::get`], giving up after `timeout`.
    ///
    /// # Errors
    /// As [`Queue::get_timeout`].
    pub fn get_timeout(&self, timeout: Duration) -> Result<T> {
        self.queue.get_timeout(timeout)
    }

    /// Takes the front message if there is one right now.
    ///
    /// # Errors
    /// As [`Queue::try_get`].
    pub fn try_get(&self) -> Result<Option<T>> {
        self.queue.try_get()
    }

    /// The messages until the queue is closed and drained
    /// ([`Queue::iter`]); each one is a task to mark done.
    pub fn iter(&self) -> Iter<'_, T> {
        self.queue.iter()
    }

    /// Counts a task, then runs `put`; takes the task back if `put` failed
    /// or put nothing (`Ok(false)`).
    fn counted(&self, put: impl FnOnce(&Queue<T>) -> Result<bool>) -> Result<bool> {
        let tasks = self.queue.tasks();
        tasks.add()?;
        let outcome = put(&self.queue);
        if !matches!(outcome, Ok(true)) {
            // Ours to take back: were it gone (a stray task_done of
            // another process took it), the count is at zero, as it
            // should be.
            match tasks.done() {
                Ok(()) | Err(Error::TaskDoneTooManyTimes) => {}
                Err(error) => return Err(error),
            }
        }
        outcome
    }
}

impl<T> JoinableQueue<T> {
    /// Marks one task done (Python's `task_done()`): call it once for each
    /// message got, when its work is finished. The last one releases every
    /// process waiting in [`JoinableQueue::join`].
    ///
    /// # Errors
    /// [`Error::TaskDoneTooManyTimes`] when no task is unfinished: called
    /// more times than messages were put (the count stays zero, it never
    /// wraps); [`Error::Sys`] naming `futex` (only on a bug).
    pub fn task_done(&self) -> Result<()> {
        self.queue.tasks().done()
    }

    /// Waits until every task put so far is done (Python's `join()`), at
    /// once if none is unfinished. Waits for ever if a consumer died
    /// holding a task (see the module): prefer
    /// [`JoinableQueue::join_timeout`] where one might.
    ///
    /// # Errors
    /// [`Error::Interrupted`] when SIGINT or SIGTERM arrives while it
    /// waits (after [`crate::signal::install`]).
    pub fn join(&self) -> Result<()> {
        self.join_until(Deadline::NEVER)
    }

    /// As [`JoinableQueue::join`], giving up after `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ipc_core::{Error, JoinableQueue};
    ///
    /// let q = JoinableQueue::<String>::new().unwrap();
    /// q.put("a task nobody does".to_string()).unwrap();
    /// let waited = q.join_timeout(Duration::from_millis(20));
    /// assert!(matches!(waited, Err(Error::Timeout)));
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    ///
    /// # Errors
    /// As [`JoinableQueue::join`], plus [`Error::Timeout`].
    pub fn join_timeout(&self, timeout: Duration) -> Result<()> {
        self.join_until(Deadline::after(timeout))
    }

    /// As [`JoinableQueue::join`], giving up at `deadline`.
    ///
    /// # Errors
    /// As [`JoinableQueue::join_timeout`].
    pub fn join_until(&self, deadline: Deadline) -> Result<()> {
        self.queue.tasks().join(deadline)
    }

    /// How many tasks were put and not yet marked done, at this instant.
    pub fn unfinished_tasks(&self) -> u64 {
        self.queue.tasks().unfinished()
    }

    /// Closes the queue for every process ([`Queue::close`]): consumers
    /// drain it, then see the end. Unfinished tasks stay unfinished.
    ///
    /// # Errors
    /// As [`Queue::close`].
    pub fn close(&self) -> Result<()> {
        self.queue.close()
    }

    /// The number of messages in the queue at this instant (a snapshot:
    /// see [`Queue::len`]); the unfinished tasks include those got and not
    /// yet done.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when the queue holds no message at this instant.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
