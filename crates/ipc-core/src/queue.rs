//! `Queue<T>`: a bounded multi-producer, multi-consumer queue of typed
//! messages in shared memory, like Python's `multiprocessing.Queue`.
//!
//! Make the queue before forking; every child then reaches it through the
//! handle it inherits (a borrow or a clone). Any number of processes may
//! [`put`](Queue::put) and [`get`](Queue::get) at once; every message is
//! delivered exactly once.
//!
//! ```
//! use ipc_core::{Error, Process, Queue};
//!
//! // Seed 000, choice 2: p1 puts the squares, the parent takes them.
//! let q = Queue::<i32>::new().unwrap();
//! let mut p1 = Process::spawn("p1", || {
//!     for num in [1, 2, 3, 4] {
//!         q.put(num * num)?;
//!     }
//!     q.close() // no more messages: consumers drain, then see the end
//! })
//! .unwrap();
//! let received: Vec<i32> = q.iter().collect::<Result<_, Error>>().unwrap();
//! assert_eq!(received, [1, 4, 9, 16]);
//! assert!(matches!(q.get(), Err(Error::Disconnected)));
//! assert!(p1.join().unwrap().success());
//! ```
//!
//! # How it works
//!
//! One anonymous shared mapping (`mmap(2)`, `MAP_SHARED`) holds a header and
//! a ring of `capacity` fixed-size slots. Each slot holds one message,
//! encoded with [`crate::message`], behind its length. The header holds:
//!
//! * `tail` and `head`, 64-bit counts of the messages put and taken so far
//!   (they never wrap; slot `i % capacity` holds message `i`);
//! * two robust process-shared mutexes (`pthread_mutexattr_setrobust(3)`):
//!   the *put* mutex, which producers hold to fill the slot at `tail`, and
//!   the *get* mutex, which consumers hold to empty the slot at `head`. A
//!   producer and a consumer never wait for each other's lock;
//! * the `closed` flag;
//! * two sequence words, `not_empty` and `not_full`, each with a count of
//!   the processes sleeping on it.
//!
//! `put` copies the message into the slot at `tail` and then publishes it
//! with a single store of `tail + 1`; `get` copies the message at `head` out
//! and then takes it with a single store of `head + 1`. A process that dies
//! at any moment while holding a mutex therefore leaves the ring
//! consistent: either its store happened (the message was put, or taken) or
//! it did not (nothing changed). The next process to lock is told that the
//! owner died (`EOWNERDEAD`), marks the mutex consistent and carries on; a
//! consumer killed by SIGKILL loses no message it had not taken.
//!
//! Each slot starts on a cache line of its own, so that the producer
//! filling one slot and the consumer emptying the previous one never write
//! the same line.
//!
//! A process that finds the queue empty (or full), looking without the lock
//! first and then under it, spins for a few
//! microseconds watching `tail` (or `head`), then counts itself as a
//! sleeper, reads the sequence word, looks at the ring once more and sleeps
//! on the word with `FUTEX_WAIT` (`futex(2)`). After each put (or get) the
//! process looks at the count of sleepers, and only if it is not zero
//! increments the sequence word and calls `FUTEX_WAKE`. So when nobody
//! waits, a put or a get is a lock, a copy, a store and an unlock: no
//! system call at all.
//!
//! Sleeps last at most 50 ms at a time, so that a blocked call notices
//! SIGINT or SIGTERM ([`crate::signal`]) promptly and returns
//! [`Error::Interrupted`], and so that a wake-up lost with a process killed
//! at the wrong moment costs 50 ms, not a hang.
//!
//! # The end of the queue
//!
//! [`Queue::close`] closes the queue for every process. Messages already in
//! it are still delivered; once they are drained, `get` and its variants
//! return [`Error::Disconnected`] (and [`Queue::iter`] ends), and any `put`
//! after the close returns [`Error::Disconnected`] too. With several
//! producers, close the queue once all of them are done (for instance in
//! the parent, after joining them). Unlike the seed's `while not
//! q.empty()`, reading until the end cannot stop before a producer has put
//! its last message.

use std::borrow::Borrow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::thread::LocalKey;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::message::{self, Message};
use crate::shm::SharedMemory;
use crate::signal;
use crate::sync::futex::{self, Wake};
use crate::sync::{Acquired, RobustMutex};

/// How many messages [`Queue::new`] holds.
pub const DEFAULT_CAPACITY: usize = 1024;

/// The largest encoded message [`Queue::new`] accepts, in bytes.
pub const DEFAULT_MAX_MESSAGE: usize = 4096;

/// How long a blocked call spins before it sleeps in the kernel.
const SPIN: Duration = Duration::from_micros(20);

/// The longest a blocked call sleeps without looking at the signal flag.
const SLICE: Duration = Duration::from_millis(50);

/// Thread-local buffers larger than this are given back after use.
const KEEP_BUFFER: usize = 1 << 20;

// The header, one cache line (64 bytes) each: the producers' mutex and the
// last `head` they saw, the consumers' mutex and the last `tail` they saw,
// then `tail`, `head` and `closed`, then each side's sequence word and count
// of sleepers. Lines written by one side only stay in that side's cache.
const PUT_MUTEX_AT: usize = 0;
const SEEN_HEAD_AT: usize = 64;
const GET_MUTEX_AT: usize = 128;
const SEEN_TAIL_AT: usize = 192;
const TAIL_AT: usize = 256;
const HEAD_AT: usize = 320;
const CLOSED_AT: usize = 384;
const NOT_EMPTY_AT: usize = 448;
const GETTERS_AT: usize = 452;
const NOT_FULL_AT: usize = 512;
const PUTTERS_AT: usize = 516;
const SLOTS_AT: usize = 576;
/// Each slot starts with the message's length as a `u32`, padded to 8.
const SLOT_HEADER: usize = 8;
/// Each slot starts on a cache line of its own, so that a producer filling
/// one slot and a consumer emptying the one before it do not fight over a
/// line (false sharing): with 8-byte messages packed 24 bytes apart, that
/// fight halved the queue's throughput.
const SLOT_ALIGN: usize = 64;

const _: () = assert!(RobustMutex::SIZE <= 64);
const _: () = assert!(SLOTS_AT % SLOT_ALIGN == 0);

thread_local! {
    static ENCODED: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    static RECEIVED: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A bounded queue of `T` messages shared by processes.
///
/// See the [module documentation](self) for how it works. Cloning gives
/// another handle to the same queue.
///
/// | Python | here |
/// | --- | --- |
/// | `Queue(maxsize)` | [`Queue::new`], [`Queue::bounded`] |
/// | `put(obj)`, `put(obj, timeout=t)` | [`Queue::put`], [`Queue::put_timeout`] |
/// | `put_nowait(obj)` | [`Queue::try_put`] |
/// | `get()`, `get(timeout=t)` | [`Queue::get`], [`Queue::get_timeout`] |
/// | `get_nowait()` | [`Queue::try_get`] |
/// | `qsize()`, `empty()`, `full()` | [`Queue::len`], [`Queue::is_empty`], [`Queue::is_full`] |
/// | `close()` | [`Queue::close`] (for every process, see above) |
pub struct Queue<T> {
    ring: Arc<Ring>,
    _type: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            ring: Arc::clone(&self.ring),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("capacity", &self.ring.capacity)
            .field("max_message", &self.ring.max_message)
            .field("len", &self.ring.len())
            .field("closed", &self.ring.is_closed())
            .finish()
    }
}

impl<T: Message> Queue<T> {
    /// A queue of [`DEFAULT_CAPACITY`] messages of up to
    /// [`DEFAULT_MAX_MESSAGE`] bytes each.
    ///
    /// # Errors
    /// [`Error::Sys`] naming `mmap` or a `pthread_mutex*` call.
    pub fn new() -> Result<Self> {
        Self::bounded(DEFAULT_CAPACITY, DEFAULT_MAX_MESSAGE)
    }

    /// A queue of `capacity` messages of up to `max_message` bytes each,
    /// encoded (a `u64` takes 8 bytes, a `String` 4 plus its length; see
    /// [`crate::message`]).
    ///
    /// The queue takes about `capacity * (max_message + 8)` bytes of shared
    /// memory, each slot rounded up to a whole cache line (64 bytes).
    ///
    /// ```
    /// let q = ipc_core::Queue::<u64>::bounded(2, 8).unwrap();
    /// assert!(q.try_put(1).unwrap() && q.try_put(2).unwrap());
    /// assert!(!q.try_put(3).unwrap(), "full: nothing was put");
    /// assert_eq!(q.len(), 2);
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a capacity or a size of 0, a
    /// `max_message` above [`message::DEFAULT_LIMIT`], or a total size that
    /// does not fit in memory; [`Error::Sys`] as [`Queue::new`].
    pub fn bounded(capacity: usize, max_message: usize) -> Result<Self> {
        Ok(Queue {
            ring: Arc::new(Ring::new(capacity, max_message)?),
            _type: PhantomData,
        })
    }

    /// Puts `item` at the end of the queue, waiting while the queue is full.
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] when the encoded item is larger than
    /// [`Queue::max_message`] (nothing is written);
    /// [`Error::Disconnected`] once the queue is closed;
    /// [`Error::Interrupted`] when SIGINT or SIGTERM arrives while waiting
    /// (after [`signal::install`]); [`Error::Message`] if the item cannot
    /// be encoded.
    pub fn put(&self, item: impl Borrow<T>) -> Result<()> {
        self.put_until(item.borrow(), None)
    }

    /// As [`Queue::put`], giving up with [`Error::Timeout`] after `timeout`
    /// (nothing is written then).
    ///
    /// # Errors
    /// As [`Queue::put`], plus [`Error::Timeout`].
    pub fn put_timeout(&self, item: impl Borrow<T>, timeout: Duration) -> Result<()> {
        self.put_until(item.borrow(), Some(deadline(timeout)))
    }

    /// Puts `item` only if there is room right now: `Ok(true)` if it was
    /// put, `Ok(false)` if the queue was full (nothing was written).
    ///
    /// # Errors
    /// As [`Queue::put`], except that it never waits for room.
    pub fn try_put(&self, item: impl Borrow<T>) -> Result<bool> {
        with_buffer(&ENCODED, |bytes| {
            self.encode(item.borrow(), bytes)?;
            match self.ring.push(bytes)? {
                Attempt::Done => Ok(true),
                Attempt::Blocked => Ok(false),
                Attempt::Closed => Err(Error::Disconnected),
            }
        })
    }

    /// Takes the message at the front of the queue, waiting while it is
    /// empty.
    ///
    /// # Errors
    /// [`Error::Disconnected`] once the queue is closed and every message
    /// in it has been taken; [`Error::Interrupted`] when SIGINT or SIGTERM
    /// arrives while waiting (after [`signal::install`]);
    /// [`Error::Message`] if the message does not decode as a `T` (it is
    /// taken all the same).
    pub fn get(&self) -> Result<T> {
        self.get_until(None)
    }

    /// As [`Queue::get`], giving up with [`Error::Timeout`] after
    /// `timeout`.
    ///
    /// # Errors
    /// As [`Queue::get`], plus [`Error::Timeout`].
    pub fn get_timeout(&self, timeout: Duration) -> Result<T> {
        self.get_until(Some(deadline(timeout)))
    }

    /// Takes the front message if there is one right now: `Ok(None)` when
    /// the queue is empty (but not closed).
    ///
    /// # Errors
    /// As [`Queue::get`], except that it never waits for a message.
    pub fn try_get(&self) -> Result<Option<T>> {
        with_buffer(&RECEIVED, |bytes| match self.ring.pop(bytes)? {
            Attempt::Done => message::from_bytes(bytes).map(Some),
            Attempt::Blocked => Ok(None),
            Attempt::Closed => Err(Error::Disconnected),
        })
    }

    /// An iterator that [`get`](Queue::get)s messages until the queue is
    /// closed and drained.
    ///
    /// It yields `Err` for a failed `get` (and then ends), never
    /// [`Error::Disconnected`]: that is the end.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            queue: self,
            done: false,
        }
    }

    fn encode(&self, item: &T, bytes: &mut Vec<u8>) -> Result<()> {
        item.encode(bytes)?;
        if bytes.len() > self.ring.max_message {
            return Err(Error::MessageTooLarge {
                size: bytes.len(),
                limit: self.ring.max_message,
            });
        }
        Ok(())
    }

    fn put_until(&self, item: &T, deadline: Option<Instant>) -> Result<()> {
        with_buffer(&ENCODED, |bytes| {
            self.encode(item, bytes)?;
            loop {
                if self.ring.looks_blocked(Side::Put) {
                    self.ring.wait(Side::Put, deadline)?;
                }
                match self.ring.push(bytes)? {
                    Attempt::Done => return Ok(()),
                    Attempt::Closed => return Err(Error::Disconnected),
                    Attempt::Blocked => self.ring.wait(Side::Put, deadline)?,
                }
            }
        })
    }

    fn get_until(&self, deadline: Option<Instant>) -> Result<T> {
        with_buffer(&RECEIVED, |bytes| {
            loop {
                if self.ring.looks_blocked(Side::Get) {
                    self.ring.wait(Side::Get, deadline)?;
                }
                match self.ring.pop(bytes)? {
                    Attempt::Done => return message::from_bytes(bytes),
                    Attempt::Closed => return Err(Error::Disconnected),
                    Attempt::Blocked => self.ring.wait(Side::Get, deadline)?,
                }
            }
        })
    }
}

impl<T> Queue<T> {
    /// Closes the queue for every process that shares it.
    ///
    /// Messages already queued are still delivered; after them, `get`
    /// returns [`Error::Disconnected`]. A `put` after the close returns
    /// [`Error::Disconnected`]. Every process waiting in `put` or `get` is
    /// woken. Closing twice is harmless.
    ///
    /// # Errors
    /// [`Error::Sys`] naming a `pthread_mutex*` call.
    pub fn close(&self) -> Result<()> {
        self.ring.close()
    }

    /// True once [`Queue::close`] has been called by any process.
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }

    /// The number of messages in the queue at this instant (Python's
    /// `qsize()`).
    ///
    /// Other processes may change it at any moment: deciding to `get`
    /// because it is not 0 is the race the seed's `while not q.empty()`
    /// has. Use [`Queue::try_get`], [`Queue::get_timeout`] or
    /// [`Queue::close`] instead.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// True when the queue holds no message at this instant (see
    /// [`Queue::len`] for why this is only a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the queue holds [`Queue::capacity`] messages at this
    /// instant (a snapshot, as [`Queue::len`]).
    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity()
    }

    /// How many messages the queue holds at most.
    pub fn capacity(&self) -> usize {
        self.ring.capacity as usize
    }

    /// The largest encoded message the queue accepts, in bytes.
    pub fn max_message(&self) -> usize {
        self.ring.max_message
    }
}

/// The messages of a [`Queue`], taken until it is closed and drained (see
/// [`Queue::iter`]).
#[derive(Debug)]
pub struct Iter<'a, T> {
    queue: &'a Queue<T>,
    done: bool,
}

impl<T: Message> Iterator for Iter<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.done {
            return None;
        }
        match self.queue.get() {
            Ok(item) => Some(Ok(item)),
            Err(Error::Disconnected) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl<'a, T: Message> IntoIterator for &'a Queue<T> {
    type Item = Result<T>;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// The outcome of one attempt at the ring, under its lock.
enum Attempt {
    /// The message was put (or taken).
    Done,
    /// The ring was full (or empty).
    Blocked,
    /// The queue is closed (and, for a get, drained).
    Closed,
}

/// Which side of the ring a blocked call waits for.
#[derive(Clone, Copy)]
enum Side {
    /// A put waits for room: `not_full`, counted in `putters`.
    Put,
    /// A get waits for a message: `not_empty`, counted in `getters`.
    Get,
}

/// The shared mapping and what every handle knows about it.
#[derive(Debug)]
struct Ring {
    memory: SharedMemory,
    put_mutex: RobustMutex,
    get_mutex: RobustMutex,
    capacity: u64,
    max_message: usize,
    stride: usize,
}

/// Holds a mutex of the ring until dropped.
struct Held<'a>(&'a RobustMutex);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}

impl Ring {
    fn new(capacity: usize, max_message: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::InvalidArgument(
                "a queue's capacity must be at least 1".into(),
            ));
        }
        if max_message == 0 || max_message > message::DEFAULT_LIMIT {
            return Err(Error::InvalidArgument(format!(
                "a queue's message size must be 1 to {} bytes, not {max_message}",
                message::DEFAULT_LIMIT
            )));
        }
        let stride = (SLOT_HEADER + max_message).next_multiple_of(SLOT_ALIGN);
        let len = stride
            .checked_mul(capacity)
            .and_then(|slots| slots.checked_add(SLOTS_AT))
            .filter(|&len| len <= isize::MAX as usize)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "a queue of {capacity} messages of {max_message} bytes does not fit in memory"
                ))
            })?;
        let memory = SharedMemory::anonymous(len)?;
        // SAFETY: the mapping is fresh, page-aligned and zeroed, more than
        // SLOTS_AT bytes long; each mutex gets its own 64-byte line (enough,
        // checked above), used for nothing else; the mutexes are kept beside
        // the mapping in this `Ring`, which outlives them.
        let (put_mutex, get_mutex) = unsafe {
            (
                RobustMutex::init(memory.as_ptr().add(PUT_MUTEX_AT))?,
                RobustMutex::init(memory.as_ptr().add(GET_MUTEX_AT))?,
            )
        };
        // Zeroed memory is an empty, open ring without sleepers.
        Ok(Ring {
            memory,
            put_mutex,
            get_mutex,
            capacity: capacity as u64,
            max_message,
            stride,
        })
    }

    fn word32(&self, at: usize) -> &AtomicU32 {
        debug_assert!(at % 4 == 0 && at + 4 <= SLOTS_AT);
        // SAFETY: `at` is one of the header's u32 offsets: 4-aligned in a
        // page-aligned mapping at least SLOTS_AT bytes long, which lives as
        // long as `self`; every process accesses it only atomically.
        unsafe { AtomicU32::from_ptr(self.memory.as_ptr().add(at).cast()) }
    }

    fn word64(&self, at: usize) -> &AtomicU64 {
        debug_assert!(at % 8 == 0 && at + 8 <= SLOTS_AT);
        // SAFETY: as in `word32`, for the header's 8-aligned u64 offsets.
        unsafe { AtomicU64::from_ptr(self.memory.as_ptr().add(at).cast()) }
    }

    /// Messages put so far; written only under the put mutex.
    fn tail(&self) -> &AtomicU64 {
        self.word64(TAIL_AT)
    }

    /// Messages taken so far; written only under the get mutex.
    fn head(&self) -> &AtomicU64 {
        self.word64(HEAD_AT)
    }

    /// 1 once closed; written only under the put mutex.
    fn closed(&self) -> &AtomicU32 {
        self.word32(CLOSED_AT)
    }

    /// The sequence word and the count of sleepers of one side.
    fn side(&self, side: Side) -> (&AtomicU32, &AtomicU32) {
        match side {
            Side::Put => (self.word32(NOT_FULL_AT), self.word32(PUTTERS_AT)),
            Side::Get => (self.word32(NOT_EMPTY_AT), self.word32(GETTERS_AT)),
        }
    }

    /// The slot of message number `index`: its length word and its bytes.
    fn slot(&self, index: u64) -> (&AtomicU32, *mut u8) {
        let offset = SLOTS_AT + (index % self.capacity) as usize * self.stride;
        // SAFETY: `index % capacity < capacity`, and `new` sized the mapping
        // for `capacity` slots of `stride` bytes after SLOTS_AT; a slot
        // starts 64-aligned (SLOTS_AT and `stride` are multiples of 64).
        let at = unsafe { self.memory.as_ptr().add(offset) };
        // SAFETY: the slot's first 4 bytes are its length word, aligned,
        // accessed only atomically; `at + SLOT_HEADER` stays in the slot.
        unsafe { (AtomicU32::from_ptr(at.cast()), at.add(SLOT_HEADER)) }
    }

    /// Takes `mutex`; after a holder's death, marks it consistent, which
    /// the ring always is (see the module documentation).
    fn lock<'a>(&self, mutex: &'a RobustMutex) -> Result<Held<'a>> {
        let acquired = mutex.lock_brief()?;
        let held = Held(mutex);
        if let Acquired::OwnerDied = acquired {
            log::debug!(target: "queue", "a process died holding a queue lock; carrying on");
            mutex.make_consistent()?;
        }
        Ok(held)
    }

    /// Copies `bytes` (already checked against `max_message`) into the slot
    /// at `tail` and publishes it.
    fn push(&self, bytes: &[u8]) -> Result<Attempt> {
        debug_assert!(bytes.len() <= self.max_message);
        let held = self.lock(&self.put_mutex)?;
        // `closed` is set under this mutex: no put publishes after a close.
        if self.closed().load(Ordering::Relaxed) != 0 {
            return Ok(Attempt::Closed);
        }
        let tail = self.tail().load(Ordering::Relaxed);
        // The last head a producer saw: never ahead of the real one, and
        // read from the consumers' line only when it says "full".
        let seen_head = self.word64(SEEN_HEAD_AT);
        if tail - seen_head.load(Ordering::Relaxed) >= self.capacity {
            // Acquire: the consumers' reads of the freed slots are done.
            let head = self.head().load(Ordering::Acquire);
            seen_head.store(head, Ordering::Relaxed);
            if tail - head >= self.capacity {
                return Ok(Attempt::Blocked);
            }
        }
        let (length, data) = self.slot(tail);
        length.store(bytes.len() as u32, Ordering::Relaxed);
        // SAFETY: `data` has room for `max_message >= bytes.len()` bytes
        // (`slot`). Slot `tail` is free (tail - head < capacity): every
        // consumer has finished reading it (the Acquire load of `head`), no
        // consumer reads it before it is published below, and only the
        // holder of the put mutex, which we are, writes it.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
        // The single store that publishes the message (SeqCst: ordered
        // before the load of the count of sleepers in `notify`).
        self.tail().store(tail + 1, Ordering::SeqCst);
        drop(held);
        self.notify(Side::Get, 1);
        Ok(Attempt::Done)
    }

    /// Copies the message at `head` into `bytes` and takes it.
    fn pop(&self, bytes: &mut Vec<u8>) -> Result<Attempt> {
        let held = self.lock(&self.get_mutex)?;
        let head = self.head().load(Ordering::Relaxed);
        // The last tail a consumer saw, as in `push`.
        let seen_tail = self.word64(SEEN_TAIL_AT);
        if head == seen_tail.load(Ordering::Relaxed) {
            // `closed` first: once it reads 1, every put published before
            // the close is visible in `tail`.
            let closed = self.closed().load(Ordering::Acquire) != 0;
            // Acquire: the producer's writes of the slots are visible.
            let tail = self.tail().load(Ordering::Acquire);
            seen_tail.store(tail, Ordering::Relaxed);
            if head == tail {
                return Ok(if closed {
                    Attempt::Closed
                } else {
                    Attempt::Blocked
                });
            }
        }
        let (length, data) = self.slot(head);
        let len = length.load(Ordering::Relaxed) as usize;
        if len > self.max_message {
            // Only a process writing into the mapping by other means could
            // cause this; drop the slot rather than wedge the queue.
            self.head().store(head + 1, Ordering::SeqCst);
            drop(held);
            self.notify(Side::Put, 1);
            return Err(Error::Message(format!(
                "a queue slot claims {len} bytes, more than the limit of {}",
                self.max_message
            )));
        }
        bytes.clear();
        // SAFETY: `data` holds `len <= max_message` bytes, written before
        // the message was published (head < tail, seen through an Acquire
        // load of `tail`, here or by the consumer that stored `seen_tail`
        // under this mutex); no producer writes the slot again before
        // `head` moves past it, and no other consumer reads it while we
        // hold the get mutex.
        bytes.extend_from_slice(unsafe { std::slice::from_raw_parts(data, len) });
        // The single store that takes the message (SeqCst, as in `push`).
        self.head().store(head + 1, Ordering::SeqCst);
        drop(held);
        self.notify(Side::Put, 1);
        Ok(Attempt::Done)
    }

    /// A look without the lock: true when `side` would find the ring full
    /// (for a put) or empty (for a get) right now, so that a blocking call
    /// waits first instead of taking the lock only to find nothing to do:
    /// one lock round trip per message, not two, for a producer that keeps
    /// the queue full or a consumer that keeps it empty. Only a hint (the
    /// look under the lock decides); it reads the other side's counter only
    /// when this side's last look at it says "full" (or "empty").
    fn looks_blocked(&self, side: Side) -> bool {
        match side {
            Side::Put => {
                let tail = self.tail().load(Ordering::Relaxed);
                let seen_head = self.word64(SEEN_HEAD_AT).load(Ordering::Relaxed);
                tail.saturating_sub(seen_head) >= self.capacity
                    && tail.saturating_sub(self.head().load(Ordering::Acquire)) >= self.capacity
            }
            Side::Get => {
                let head = self.head().load(Ordering::Relaxed);
                head == self.word64(SEEN_TAIL_AT).load(Ordering::Relaxed)
                    && head >= self.tail().load(Ordering::Acquire)
            }
        }
    }

    /// True when a blocked call on `side` may go on: the queue is closed,
    /// or has room (for a put) or a message (for a get).
    fn ready(&self, side: Side) -> bool {
        if self.closed().load(Ordering::SeqCst) != 0 {
            return true;
        }
        // head first: the tail read afterwards is at least as large.
        let head = self.head().load(Ordering::SeqCst);
        let tail = self.tail().load(Ordering::SeqCst);
        match side {
            Side::Put => tail - head < self.capacity,
            Side::Get => tail > head,
        }
    }

    /// After the ring changed for `side`'s benefit: if anybody sleeps there,
    /// moves the sequence word and wakes up to `count` sleepers.
    fn notify(&self, side: Side, count: u32) {
        let (seq, sleepers) = self.side(side);
        if sleepers.load(Ordering::SeqCst) != 0 {
            seq.fetch_add(1, Ordering::SeqCst);
            // FUTEX_WAKE fails only for a bad address, which `side` cannot
            // give; a sleeper that missed the wake-up sees the change within
            // one SLICE anyway.
            let _ = futex::wake(seq, count);
        }
    }

    /// Waits until `side` may go on ([`Ring::ready`]): spins for [`SPIN`],
    /// then sleeps with `FUTEX_WAIT` in slices of [`SLICE`].
    ///
    /// A sleeper counts itself, then reads the sequence word, then looks at
    /// the ring; a notifier stores into the ring, then reads the count. All
    /// of these are SeqCst, so either the sleeper sees the change, or the
    /// notifier sees the sleeper and moves the word, which FUTEX_WAIT
    /// notices (`EAGAIN`) or is woken from.
    fn wait(&self, side: Side, deadline: Option<Instant>) -> Result<()> {
        let start = Instant::now();
        let spin_until = match deadline {
            Some(deadline) => deadline.min(start + SPIN),
            None => start + SPIN,
        };
        let mut spins = 0_u32;
        while !self.ready(side) {
            spins = spins.wrapping_add(1);
            if spins % 64 == 0 && Instant::now() >= spin_until {
                break;
            }
            std::hint::spin_loop();
        }
        let (seq, sleepers) = self.side(side);
        loop {
            if self.ready(side) {
                return Ok(());
            }
            if signal::interrupted() {
                return Err(Error::Interrupted);
            }
            let slice = match deadline {
                None => SLICE,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Timeout);
                    }
                    left.min(SLICE)
                }
            };
            sleepers.fetch_add(1, Ordering::SeqCst);
            let seen = seq.load(Ordering::SeqCst);
            let outcome = if self.ready(side) {
                Ok(Wake::Changed)
            } else {
                futex::wait(seq, seen, slice)
            };
            sleepers.fetch_sub(1, Ordering::SeqCst);
            match outcome? {
                Wake::Woken | Wake::Changed => return Ok(()),
                Wake::TimedOut | Wake::Interrupted => {}
            }
        }
    }

    fn close(&self) -> Result<()> {
        {
            let _held = self.lock(&self.put_mutex)?;
            self.closed().store(1, Ordering::SeqCst);
        }
        self.notify(Side::Get, u32::MAX);
        self.notify(Side::Put, u32::MAX);
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.closed().load(Ordering::Acquire) != 0
    }

    fn len(&self) -> usize {
        // head first: the tail read afterwards is at least as large.
        let head = self.head().load(Ordering::Acquire);
        let tail = self.tail().load(Ordering::Acquire);
        tail.saturating_sub(head).min(self.capacity) as usize
    }
}

fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Runs `f` with this thread's buffer `key`, emptied, and keeps the buffer
/// for next time unless it grew large.
fn with_buffer<R>(key: &'static LocalKey<Cell<Vec<u8>>>, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buffer = key.take();
    buffer.clear();
    let result = f(&mut buffer);
    if buffer.capacity() <= KEEP_BUFFER {
        key.set(buffer);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Bytes;

    #[test]
    fn first_in_first_out() {
        let q = Queue::<String>::bounded(4, 64).unwrap();
        for word in ["First", "second", "third?"] {
            q.put(word.to_string()).unwrap();
        }
        assert_eq!(q.len(), 3);
        assert_eq!(q.get().unwrap(), "First");
        assert_eq!(q.get().unwrap(), "second");
        assert_eq!(q.try_get().unwrap().as_deref(), Some("third?"));
        assert_eq!(q.try_get().unwrap(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn wraps_around_the_ring_many_times() {
        let q = Queue::<u64>::bounded(3, 8).unwrap();
        let mut taken = 0;
        for round in 0..1000_u64 {
            for i in 0..(round % 3 + 1) {
                q.put(round * 10 + i).unwrap();
            }
            for i in 0..(round % 3 + 1) {
                assert_eq!(q.get().unwrap(), round * 10 + i);
                taken += 1;
            }
        }
        assert_eq!(taken, (0..1000).map(|round| round % 3 + 1).sum::<i32>());
        assert!(q.is_empty());
    }

    #[test]
    fn try_put_on_a_full_queue_writes_nothing() {
        let q = Queue::<i32>::bounded(2, 4).unwrap();
        assert!(q.try_put(1).unwrap());
        assert!(q.try_put(2).unwrap());
        assert!(q.is_full());
        assert!(!q.try_put(3).unwrap());
        assert_eq!(q.get().unwrap(), 1);
        assert_eq!(q.get().unwrap(), 2);
        assert_eq!(q.try_get().unwrap(), None);
    }

    #[test]
    fn timeouts_wait_at_least_the_bound() {
        let q = Queue::<i32>::bounded(1, 4).unwrap();
        let bound = Duration::from_millis(30);
        let start = Instant::now();
        assert!(matches!(q.get_timeout(bound), Err(Error::Timeout)));
        assert!(start.elapsed() >= bound);
        q.put(7).unwrap();
        let start = Instant::now();
        assert!(matches!(q.put_timeout(8, bound), Err(Error::Timeout)));
        assert!(start.elapsed() >= bound);
        assert_eq!(q.get_timeout(bound).unwrap(), 7);
        assert!(matches!(q.get_timeout(Duration::ZERO), Err(Error::Timeout)));
    }

    #[test]
    fn a_message_too_large_is_refused_before_anything_is_written() {
        let q = Queue::<Bytes>::bounded(2, 16).unwrap();
        q.put(Bytes(vec![1; 12])).unwrap();
        let err = q.put(Bytes(vec![2; 13])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::MessageTooLarge {
                    size: 17,
                    limit: 16
                }
            ),
            "{err}"
        );
        assert!(matches!(
            q.try_put(Bytes(vec![2; 100])),
            Err(Error::MessageTooLarge { .. })
        ));
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().unwrap(), Bytes(vec![1; 12]));
        assert!(q.is_empty());
    }

    #[test]
    fn close_drains_then_ends() {
        let q = Queue::<u8>::bounded(4, 1).unwrap();
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.close().unwrap();
        q.close().unwrap();
        assert!(q.is_closed());
        assert!(matches!(q.put(3), Err(Error::Disconnected)));
        assert!(matches!(q.try_put(3), Err(Error::Disconnected)));
        assert_eq!(q.iter().map(Result::unwrap).collect::<Vec<_>>(), [1, 2]);
        assert!(matches!(q.get(), Err(Error::Disconnected)));
        assert!(matches!(q.try_get(), Err(Error::Disconnected)));
        assert!(matches!(
            q.get_timeout(Duration::from_secs(5)),
            Err(Error::Disconnected)
        ));
    }

    #[test]
    fn a_blocked_get_is_woken_by_a_put_from_another_thread() {
        let q = Queue::<u32>::bounded(1, 4).unwrap();
        std::thread::scope(|s| {
            let consumer = s.spawn(|| (0..1000).map(|_| q.get().unwrap()).sum::<u32>());
            for i in 0..1000 {
                q.put(i).unwrap();
            }
            assert_eq!(consumer.join().unwrap(), (0..1000).sum::<u32>());
        });
    }

    #[test]
    fn close_wakes_a_blocked_get() {
        let q = Queue::<u32>::bounded(1, 4).unwrap();
        std::thread::scope(|s| {
            let consumer = s.spawn(|| q.get());
            std::thread::sleep(Duration::from_millis(20));
            q.close().unwrap();
            assert!(matches!(consumer.join().unwrap(), Err(Error::Disconnected)));
        });
    }

    #[test]
    fn a_lock_holder_that_died_leaves_the_queue_usable() {
        let q = Queue::<u32>::bounded(4, 4).unwrap();
        q.put(1).unwrap();
        // A thread that ends holding both mutexes: robust mutexes are
        // released by the kernel when their owner (thread or process) ends,
        // and the next locker is told (EOWNERDEAD).
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(matches!(q.ring.put_mutex.lock_brief(), Ok(Acquired::Clean)));
                assert!(matches!(q.ring.get_mutex.lock_brief(), Ok(Acquired::Clean)));
            });
        });
        q.put(2).unwrap();
        assert_eq!(q.get().unwrap(), 1);
        assert_eq!(q.get().unwrap(), 2);
        // Made consistent: later locks are clean again.
        assert!(matches!(q.ring.get_mutex.try_lock(), Ok(Acquired::Clean)));
        q.ring.get_mutex.unlock();
    }

    #[test]
    fn bad_sizes_are_invalid_arguments() {
        for (capacity, size) in [(0, 8), (1, 0), (1, message::DEFAULT_LIMIT + 1)] {
            let err = Queue::<u8>::bounded(capacity, size).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
            assert_eq!(err.exit_code(), 2);
        }
        assert!(matches!(
            Queue::<u8>::bounded(usize::MAX / 2, 1024),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn garbage_in_a_slot_is_an_error_not_a_panic() {
        let q = Queue::<String>::bounded(2, 16).unwrap();
        q.put(String::from("ok")).unwrap();
        // Corrupt the string's length prefix inside the slot.
        let (_, data) = q.ring.slot(0);
        // SAFETY: test only: slot 0 is published and nobody else uses the
        // queue; 4 bytes fit in a 16-byte slot.
        unsafe { std::ptr::copy_nonoverlapping([9_u8, 0, 0, 0].as_ptr(), data, 4) };
        assert!(matches!(q.get(), Err(Error::Message(_))));
        assert!(q.is_empty(), "the bad message was taken");
    }
}
