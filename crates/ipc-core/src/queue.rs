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
//! // A producer puts three words and closes the queue; the parent takes
//! // them in order, then sees the end.
//! let q = Queue::<String>::new().unwrap();
//! let mut producer = Process::spawn("producer", || {
//!     for word in ["alpha", "beta", "gamma"] {
//!         q.put(word.to_owned())?;
//!     }
//!     q.close() // no more messages: consumers drain, then see the end
//! })
//! .unwrap();
//! let received: Vec<String> = q.iter().collect::<Result<_, Error>>().unwrap();
//! assert_eq!(received, ["alpha", "beta", "gamma"]);
//! assert!(matches!(q.get(), Err(Error::Disconnected)));
//! assert!(producer.join().unwrap().success());
//! ```
//!
//! Large messages can skip the encoding and its copies: [`Queue::claim`]
//! hands a producer the bytes of the next free slot of the ring, to fill
//! in place and [`commit`](Claim::commit); [`Queue::get_ref`] hands a
//! consumer the bytes of the front message where they lie, taken when the
//! [`Borrowed`] is dropped. Each byte is then written into shared memory
//! once, by the producer, and read once, by the consumer:
//!
//! ```
//! use ipc_core::Queue;
//! use ipc_core::message::Bytes;
//!
//! let q = Queue::<Bytes>::bounded(4, 1 << 16).unwrap();
//! let mut claim = q.claim().unwrap();
//! claim.bytes_mut()[..5].copy_from_slice(b"hello");
//! claim.commit(5).unwrap();
//! let msg = q.get_ref().unwrap();
//! assert_eq!(&msg[..], b"hello");
//! drop(msg); // taken here
//! assert!(q.is_empty());
//! ```
//!
//! # How it works
//!
//! One anonymous shared mapping (`mmap(2)`, `MAP_SHARED`) holds a
//! `Header` and then a ring of `capacity` slots. The header is a
//! `#[repr(C)]` struct of cache lines, each written by one side only:
//!
//! * the *put* line: a robust process-shared mutex
//!   (`pthread_mutexattr_setrobust(3)`) that producers hold to fill a slot,
//!   `tail` (the count of messages put so far) and the last `head` a
//!   producer saw;
//! * the *get* line: the consumers' robust mutex, `head` (the count of
//!   messages taken so far) and the last `tail` a consumer saw; a producer
//!   and a consumer never wait for each other's lock;
//! * the `closed` flag;
//! * two sequence words, `not_empty` and `not_full`, each with a count of
//!   the processes sleeping on it;
//! * the count of unfinished tasks of a [`crate::JoinableQueue`].
//!
//! Message `i` goes into slot `i % capacity` (the counts are 64-bit and
//! never wrap). Each slot starts on a cache line of its own with a
//! `SlotHeader`: the slot's sequence word `seq` and the message's length;
//! the message follows on the same line.
//!
//! A producer, holding the put mutex, writes the message into slot `tail`
//! and then **publishes it with a single store**: `seq = tail + 1`; then it
//! moves `tail` on. A consumer, holding the get mutex, finds message `head`
//! ready when its slot's `seq` reads `head + 1`, reads it, and then **takes
//! it with a single store**: `head + 1`. A process that dies at any moment
//! while holding a mutex therefore leaves the ring consistent: either its
//! store happened (the message was put, or taken) or it did not (nothing
//! changed). The next process to lock is told that the owner died
//! (`EOWNERDEAD`), marks the mutex consistent and carries on; a producer
//! that died between its store of `seq` and its store of `tail` is noticed
//! by the next process to take the put mutex (the slot at `tail` already
//! holds message `tail`), which moves `tail` on. A consumer killed by
//! SIGKILL loses no message it had not taken.
//!
//! The consumer learns of a new message from the slot itself, the line it
//! has to read anyway, and the producer learns of room from `head` only
//! when its last look says the ring is full: while the queue neither runs
//! dry nor fills up, one message costs one cache line from the producer's
//! core to the consumer's, and nothing back.
//!
//! A process that finds the queue empty (or full), looking without the lock
//! first and then under it, spins for a few microseconds ([`blocking::spin`])
//! watching the slot (or `head`; a producer waits, while it spins, for an
//! eighth of the ring to be free, so that it then writes a run of messages
//! without reading `head`), then counts itself as a sleeper, reads the sequence word,
//! looks at the ring once more and sleeps on the word with `FUTEX_WAIT`
//! (`futex(2)`). After each put (or get) the process looks at the count of
//! sleepers, and only if it is not zero increments the sequence word and
//! calls `FUTEX_WAKE`. So when nobody waits, a put or a get is a lock, a
//! copy, a store and an unlock: no system call at all.
//!
//! Sleeps last at most [`blocking::POLL_INTERVAL`] (100 ms) at a time, so
//! that a blocked call notices SIGINT or SIGTERM ([`crate::signal`]) promptly
//! and returns [`Error::Interrupted`], and so that a wake-up lost with a
//! process killed at the wrong moment costs one interval, not a hang.
//! Waiting for a mutex held by another process (a long [`Claim`], say) is
//! cut in the same slices.
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
use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{offset_of, size_of};
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::thread::LocalKey;
use std::time::Duration;

use crate::blocking::{self, Deadline};
use crate::error::{Error, Result, until_disconnected};
use crate::message::{self, Describe, Message};
use crate::shm::{SharedMemory, prefetch_for_write};
use crate::sync::futex::{self, Wake};
use crate::sync::{Acquired, Held, RobustMutex, Tasks};
use crate::trace;

/// How many messages [`Queue::new`] holds.
pub const DEFAULT_CAPACITY: usize = 1024;

/// The largest encoded message [`Queue::new`] accepts, in bytes.
pub const DEFAULT_MAX_MESSAGE: usize = 4096;

/// Thread-local buffers larger than this are given back after use.
const KEEP_BUFFER: usize = 1 << 20;

/// A cache line: what the header's fields and the slots are aligned to, so
/// that what one side writes never shares a line with what the other side
/// writes (false sharing: with 8-byte messages packed 24 bytes apart, that
/// fight halved the queue's throughput).
const LINE: usize = 64;

/// How many slots ahead a producer asks its CPU to fetch for writing
/// (`prefetchw`), so that the line is its own by the time it writes there.
const PREFETCH_AHEAD: u64 = 4;

/// The bytes of a `pthread_mutex_t`, set up by [`RobustMutex::init`].
#[repr(C, align(8))]
struct MutexBytes(UnsafeCell<[u8; RobustMutex::SIZE]>);

/// One side's line: its mutex, its count, the slot that count maps to,
/// and (for producers) the last count of the other side it saw.
#[repr(C, align(64))]
struct SideLine {
    mutex: MutexBytes,
    /// Put line: `tail`, messages put. Get line: `head`, messages taken.
    count: AtomicU64,
    /// `count % capacity`, the slot of message `count`, kept beside it so
    /// that a put or a get needs no division; recomputed by the next
    /// holder of the mutex if its holder died between the two stores.
    index: AtomicU64,
    /// Put line: the last `head` a producer saw, a hint never ahead of the
    /// real one, read from the consumers' line only when it says "full".
    /// Get line: unused.
    seen: AtomicU64,
}

/// A futex word that one side's sleepers wait on, and how many sleep.
#[repr(C, align(64))]
struct Waiters {
    seq: AtomicU32,
    sleepers: AtomicU32,
}

/// A flag on a line of its own.
#[repr(C, align(64))]
struct Flag(AtomicU32);

/// The start of the shared mapping. Zeroed memory (with the two mutexes
/// initialised) is an empty, open ring without sleepers.
#[repr(C)]
struct Header {
    /// Producers: the put mutex, `tail`, the last `head` seen.
    put: SideLine,
    /// Consumers: the get mutex, `head`, the last `tail` seen.
    get: SideLine,
    /// 1 once closed; written only under the put mutex.
    closed: Flag,
    /// Consumers sleep here until a put.
    not_empty: Waiters,
    /// Producers sleep here until a get.
    not_full: Waiters,
    /// The unfinished tasks of a [`crate::JoinableQueue`] (zero, unused,
    /// for a plain `Queue`).
    tasks: Tasks,
}

/// The start of every slot; the message follows it on the same line.
#[repr(C, align(8))]
struct SlotHeader {
    /// `i + 1` once message `i` is published in this slot; written only
    /// under the put mutex.
    seq: AtomicU64,
    /// The message's length in bytes.
    len: AtomicU32,
}

const HEADER: usize = size_of::<Header>();
const SLOT_HEADER: usize = size_of::<SlotHeader>();

// A side fits one line where `pthread_mutex_t` takes 40 bytes (x86-64
// glibc); where it takes more, two. Either way the lines never mix sides,
// and the slots start on a line.
#[cfg(all(target_arch = "x86_64", target_env = "gnu"))]
const _: () = assert!(size_of::<SideLine>() == LINE, "a side fits one line");
const _: () = assert!(size_of::<SideLine>().is_multiple_of(LINE));
const _: () = assert!(
    offset_of!(Header, get).is_multiple_of(LINE) && offset_of!(Header, closed).is_multiple_of(LINE)
);
const _: () = assert!(HEADER.is_multiple_of(LINE));
const _: () = assert!(SLOT_HEADER == 16);

thread_local! {
    static ENCODED: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
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
    /// The queue takes about `capacity * (max_message + 16)` bytes of shared
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
    /// (after [`crate::signal::install`]); [`Error::Message`] if the item cannot
    /// be encoded.
    pub fn put(&self, item: impl Borrow<T>) -> Result<()> {
        self.put_until(item.borrow(), Deadline::NEVER)
    }

    /// As [`Queue::put`], giving up with [`Error::Timeout`] after `timeout`
    /// (nothing is written then).
    ///
    /// # Errors
    /// As [`Queue::put`], plus [`Error::Timeout`].
    pub fn put_timeout(&self, item: impl Borrow<T>, timeout: Duration) -> Result<()> {
        self.put_until(item.borrow(), Deadline::after(timeout))
    }

    /// Puts `item` only if there is room right now: `Ok(true)` if it was
    /// put, `Ok(false)` if the queue was full (nothing was written).
    ///
    /// # Errors
    /// As [`Queue::put`], except that it never waits for room.
    pub fn try_put(&self, item: impl Borrow<T>) -> Result<bool> {
        with_buffer(&ENCODED, |bytes| {
            self.encode(item.borrow(), bytes)?;
            match self.ring.claim(Blocking::No)? {
                Some(claim) => {
                    trace::send(self.ring.trace_id, claim.tail, Describe(item.borrow()));
                    claim.write(bytes);
                    Ok(true)
                }
                None => Ok(false),
            }
        })
    }

    /// Takes the message at the front of the queue, waiting while it is
    /// empty.
    ///
    /// # Errors
    /// [`Error::Disconnected`] once the queue is closed and every message
    /// in it has been taken; [`Error::Interrupted`] when SIGINT or SIGTERM
    /// arrives while waiting (after [`crate::signal::install`]);
    /// [`Error::Message`] if the message does not decode as a `T` (it is
    /// taken all the same).
    pub fn get(&self) -> Result<T> {
        self.get_until(Deadline::NEVER)
    }

    /// As [`Queue::get`], giving up with [`Error::Timeout`] after
    /// `timeout`.
    ///
    /// # Errors
    /// As [`Queue::get`], plus [`Error::Timeout`].
    pub fn get_timeout(&self, timeout: Duration) -> Result<T> {
        self.get_until(Deadline::after(timeout))
    }

    /// As [`Queue::get`], decoding the message into `out` instead of into a
    /// new value: `out`'s memory (a `String`'s, a `Vec`'s, a
    /// [`Bytes`](message::Bytes)') is reused, so a consumer that takes
    /// message after message into one value allocates nothing per message
    /// ([`Message::decode_into`]).
    ///
    /// ```
    /// use ipc_core::Queue;
    ///
    /// let q = Queue::<String>::bounded(4, 64).unwrap();
    /// q.put("First".to_string()).unwrap();
    /// q.put("second".to_string()).unwrap();
    /// let mut word = String::new();
    /// q.get_into(&mut word).unwrap();
    /// assert_eq!(word, "First");
    /// q.get_into(&mut word).unwrap();
    /// assert_eq!(word, "second");
    /// ```
    ///
    /// # Errors
    /// As [`Queue::get`]; after an error `out` holds some valid value, not
    /// necessarily the one it held.
    pub fn get_into(&self, out: &mut T) -> Result<()> {
        let slot = self.ring.front(Blocking::Until(Deadline::NEVER))?;
        slot.expect("a blocking borrow").take_decoded_into(out)
    }

    /// Takes the front message if there is one right now: `Ok(None)` when
    /// the queue is empty (but not closed).
    ///
    /// # Errors
    /// As [`Queue::get`], except that it never waits for a message.
    pub fn try_get(&self) -> Result<Option<T>> {
        match self.ring.front(Blocking::No)? {
            Some(slot) => slot.take_decoded().map(Some),
            None => Ok(None),
        }
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

    fn put_until(&self, item: &T, deadline: Deadline) -> Result<()> {
        with_buffer(&ENCODED, |bytes| {
            self.encode(item, bytes)?;
            let claim = self.ring.claim(Blocking::Until(deadline))?;
            let claim = claim.expect("a blocking claim");
            // Before the message is published: its receive comes after.
            trace::send(self.ring.trace_id, claim.tail, Describe(item));
            claim.write(bytes);
            Ok(())
        })
    }

    fn get_until(&self, deadline: Deadline) -> Result<T> {
        let slot = self.ring.front(Blocking::Until(deadline))?;
        slot.expect("a blocking borrow").take_decoded()
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

    /// The count of unfinished tasks in the queue's shared header, which
    /// a [`crate::JoinableQueue`] keeps.
    pub(crate) fn tasks(&self) -> &Tasks {
        &self.ring.header().tasks
    }

    /// Claims the next free slot of the ring, waiting while the queue is
    /// full: the producer's half of the zero-copy path.
    ///
    /// Write the message into [`Claim::bytes_mut`] and publish it with
    /// [`Claim::commit`]; a claim dropped without a commit puts nothing.
    /// While a claim is held, other producers wait (consumers do not):
    /// fill it and commit without delay. A second `put` or `claim` on the
    /// same queue while this thread holds a claim waits for itself, until
    /// a signal or its deadline ends it. A process killed while it holds a
    /// claim has put nothing, and the next producer takes the slot over.
    ///
    /// What a claim commits is delivered as it is: for [`Queue::get`] to
    /// decode it, it must be the encoding of a `T` ([`crate::message`]).
    /// A `Queue<Bytes>`'s message is a `u32` count and the bytes;
    /// [`Queue::get_ref`] reads any message as bytes.
    ///
    /// ```
    /// use ipc_core::Queue;
    /// use ipc_core::message::Bytes;
    ///
    /// let q = Queue::<Bytes>::bounded(2, 64).unwrap();
    /// let mut claim = q.claim().unwrap();
    /// let buf = claim.bytes_mut();
    /// buf[..4].copy_from_slice(&3_u32.to_le_bytes());
    /// buf[4..7].copy_from_slice(b"abc");
    /// claim.commit(7).unwrap();
    /// assert_eq!(q.get().unwrap(), Bytes(b"abc".to_vec()));
    /// ```
    ///
    /// # Errors
    /// [`Error::Disconnected`] once the queue is closed;
    /// [`Error::Interrupted`] when SIGINT or SIGTERM arrives while waiting
    /// (after [`crate::signal::install`]); [`Error::Sys`] naming a
    /// `pthread_mutex*` call.
    pub fn claim(&self) -> Result<Claim<'_>> {
        self.ring
            .claim(Blocking::Until(Deadline::NEVER))
            .map(|claim| claim.expect("a blocking claim"))
    }

    /// As [`Queue::claim`], giving up with [`Error::Timeout`] after
    /// `timeout`.
    ///
    /// # Errors
    /// As [`Queue::claim`], plus [`Error::Timeout`].
    pub fn claim_timeout(&self, timeout: Duration) -> Result<Claim<'_>> {
        self.ring
            .claim(Blocking::Until(Deadline::after(timeout)))
            .map(|claim| claim.expect("a blocking claim"))
    }

    /// Claims a slot only if there is room right now (`Ok(None)` when the
    /// queue is full).
    ///
    /// # Errors
    /// As [`Queue::claim`], except that it never waits for room.
    pub fn try_claim(&self) -> Result<Option<Claim<'_>>> {
        self.ring.claim(Blocking::No)
    }

    /// Borrows the message at the front of the queue where it lies in the
    /// ring, waiting while the queue is empty: the consumer's half of the
    /// zero-copy path.
    ///
    /// The message is taken when the [`Borrowed`] is dropped (or
    /// [`Borrowed::decode`]d); [`Borrowed::leave`] leaves it at the front
    /// instead. While a message is borrowed, other consumers wait
    /// (producers do not), and so does a second `get` or `get_ref` on the
    /// same queue in this thread: drop or leave the first one before. A process killed while it holds one has taken
    /// nothing: the message goes to the next consumer.
    ///
    /// # Errors
    /// As [`Queue::get`]; a slot whose length is larger than
    /// [`Queue::max_message`] (only a process writing into the mapping by
    /// other means could cause that) is taken and reported as
    /// [`Error::Message`].
    pub fn get_ref(&self) -> Result<Borrowed<'_, T>> {
        self.ring
            .front(Blocking::Until(Deadline::NEVER))
            .map(|slot| Borrowed::new(slot.expect("a blocking borrow")))
    }

    /// As [`Queue::get_ref`], giving up with [`Error::Timeout`] after
    /// `timeout`.
    ///
    /// # Errors
    /// As [`Queue::get_ref`], plus [`Error::Timeout`].
    pub fn get_ref_timeout(&self, timeout: Duration) -> Result<Borrowed<'_, T>> {
        self.ring
            .front(Blocking::Until(Deadline::after(timeout)))
            .map(|slot| Borrowed::new(slot.expect("a blocking borrow")))
    }

    /// Borrows the front message if there is one right now (`Ok(None)`
    /// when the queue is empty but not closed).
    ///
    /// # Errors
    /// As [`Queue::get_ref`], except that it never waits for a message.
    pub fn try_get_ref(&self) -> Result<Option<Borrowed<'_, T>>> {
        Ok(self.ring.front(Blocking::No)?.map(Borrowed::new))
    }
}

/// A slot of a [`Queue`]'s ring, claimed by this producer
/// ([`Queue::claim`]): write the message into [`Claim::bytes_mut`], then
/// [`Claim::commit`] it. Dropped without a commit, it puts nothing.
///
/// It holds the queue's put lock, so it stays in the thread that claimed
/// it (it is not `Send`).
pub struct Claim<'q> {
    ring: &'q Ring,
    held: Held<'q>,
    tail: u64,
    /// `tail % capacity`.
    index: u64,
    slot: *mut u8,
}

impl fmt::Debug for Claim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("message", &self.tail)
            .field("room", &self.ring.max_message)
            .finish()
    }
}

impl Claim<'_> {
    /// The slot's bytes, [`Queue::max_message`] of them, for the message.
    /// They hold whatever was there before: write every byte you commit.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the slot has room for `max_message` bytes after its
        // header (`Ring::slot`). Slot `tail` is free (every consumer has
        // finished with the message that was there: `Ring::claim` saw head
        // > tail - capacity through an Acquire load), no consumer reads it
        // before it is published by `commit`, and no other producer writes
        // it while this claim holds the put mutex; `&mut self` makes this
        // the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.slot.add(SLOT_HEADER), self.ring.max_message) }
    }

    /// Publishes the first `len` bytes of [`Claim::bytes_mut`] as the next
    /// message, with one store; waiting consumers are woken.
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] when `len` is larger than
    /// [`Queue::max_message`] (nothing is put).
    pub fn commit(self, len: usize) -> Result<()> {
        if len > self.ring.max_message {
            return Err(Error::MessageTooLarge {
                size: len,
                limit: self.ring.max_message,
            });
        }
        trace::send(self.ring.trace_id, self.tail, format_args!("<{len} bytes>"));
        self.ring.commit(self, len);
        Ok(())
    }

    /// Copies `bytes` (at most `max_message`) into the slot and commits.
    #[inline]
    fn write(mut self, bytes: &[u8]) {
        self.bytes_mut()[..bytes.len()].copy_from_slice(bytes);
        self.ring.commit(self, bytes.len());
    }
}

/// The front message of a [`Queue`], borrowed where it lies in the ring
/// ([`Queue::get_ref`]): its bytes, as encoded.
///
/// The message is taken when this is dropped, with one store; or left at
/// the front with [`Borrowed::leave`]. It holds the queue's get lock, so
/// it stays in the thread that borrowed it (it is not `Send`).
pub struct Borrowed<'q, T> {
    slot: Option<Slot<'q>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Borrowed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Borrowed")
            .field("len", &self.len())
            .finish()
    }
}

impl<'q, T> Borrowed<'q, T> {
    fn new(slot: Slot<'q>) -> Self {
        Borrowed {
            slot: Some(slot),
            _type: PhantomData,
        }
    }

    /// The message's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.slot.as_ref().map_or(&[], Slot::bytes)
    }

    /// Leaves the message at the front of the queue, untaken: the next
    /// `get` (in any process) returns it again.
    pub fn leave(mut self) {
        // Dropping the slot without taking it releases the get lock only.
        drop(self.slot.take());
    }
}

impl<T: Message> Borrowed<'_, T> {
    /// Decodes the message as a `T`, and takes it (even if it does not
    /// decode, as [`Queue::get`] does).
    ///
    /// # Errors
    /// [`Error::Message`] if the bytes are not the encoding of a `T`.
    pub fn decode(mut self) -> Result<T> {
        self.slot.take().expect("a borrowed slot").take_decoded()
    }
}

impl<T> Deref for Borrowed<'_, T> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

impl<T> Drop for Borrowed<'_, T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let (trace_id, head, len) = (slot.ring.trace_id, slot.head, slot.len);
            slot.take();
            trace::recv(trace_id, head, format_args!("<{len} bytes>"));
        }
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
        until_disconnected(&mut self.done, || self.queue.get())
    }
}

impl<'a, T: Message> IntoIterator for &'a Queue<T> {
    type Item = Result<T>;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// Whether a claim or a borrow waits.
#[derive(Clone, Copy)]
enum Blocking {
    /// Never waits for room or a message (it may wait for the lock).
    No,
    /// Waits, until the deadline.
    Until(Deadline),
}

/// Which side of the ring a blocked call waits for.
#[derive(Clone, Copy)]
enum Side {
    /// A put waits for room: `not_full`, counted in its `sleepers`.
    Put,
    /// A get waits for a message: `not_empty`, counted in its `sleepers`.
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
    /// How many free slots a spinning put waits for: an eighth of the
    /// ring, 1 to 64.
    room: u64,
    /// The queue's id in the run's `--trace` timeline; a message's is its
    /// number in the ring (`tail` when put, `head` when taken).
    trace_id: u64,
}

/// The message at `head`, borrowed under the get mutex.
struct Slot<'q> {
    ring: &'q Ring,
    held: Held<'q>,
    head: u64,
    /// `head % capacity`.
    index: u64,
    data: *const u8,
    len: usize,
}

impl Slot<'_> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        // SAFETY: `data` holds `len <= max_message` bytes, written before
        // the message was published (its slot's `seq` read `head + 1`
        // through an Acquire load, in `Ring::borrow`); no producer writes
        // the slot again before `head` moves past it, and no other consumer
        // reads it while this slot holds the get mutex.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }

    /// Takes the message: the single store of `head + 1`.
    #[inline(always)]
    fn take(self) {
        let ring = self.ring;
        let get = &ring.header().get;
        // SeqCst: ordered before the load of the count of sleepers in
        // `notify` (see `Ring::wait`).
        get.count.store(self.head + 1, Ordering::SeqCst);
        get.index
            .store(ring.wrap(self.index + 1), Ordering::Relaxed);
        drop(self.held);
        ring.notify(Side::Put, 1);
    }

    /// Decodes the message into `out`, then takes it (decoded or not).
    #[inline]
    fn take_decoded_into<T: Message>(self, out: &mut T) -> Result<()> {
        let decoded = message::from_bytes_into(self.bytes(), out);
        let (trace_id, head) = (self.ring.trace_id, self.head);
        self.take();
        if decoded.is_ok() {
            trace::recv(trace_id, head, Describe(&*out));
        }
        decoded
    }

    /// Decodes the message, then takes it (decoded or not).
    #[inline]
    fn take_decoded<T: Message>(self) -> Result<T> {
        let decoded = message::from_bytes(self.bytes());
        let (trace_id, head) = (self.ring.trace_id, self.head);
        self.take();
        if let Ok(value) = &decoded {
            trace::recv(trace_id, head, Describe(value));
        }
        decoded
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
        let stride = (SLOT_HEADER + max_message).next_multiple_of(LINE);
        let len = stride
            .checked_mul(capacity)
            .and_then(|slots| slots.checked_add(HEADER))
            .filter(|&len| len <= isize::MAX as usize)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "a queue of {capacity} messages of {max_message} bytes does not fit in memory"
                ))
            })?;
        let memory = SharedMemory::anonymous(len)?;
        let header = memory.as_ptr().cast::<Header>();
        // SAFETY: the mapping is fresh, page-aligned (so aligned for
        // `Header`) and zeroed, at least HEADER bytes long; each mutex is
        // the `MutexBytes` of its own side, used for nothing else; the
        // mutexes are kept beside the mapping in this `Ring`, which
        // outlives them.
        let (put_mutex, get_mutex) = unsafe {
            (
                RobustMutex::init(UnsafeCell::raw_get(&raw const (*header).put.mutex.0).cast())?,
                RobustMutex::init(UnsafeCell::raw_get(&raw const (*header).get.mutex.0).cast())?,
            )
        };
        Ok(Ring {
            memory,
            put_mutex,
            get_mutex,
            capacity: capacity as u64,
            max_message,
            stride,
            room: (capacity as u64 / 8).clamp(1, 64),
            trace_id: trace::new_object("queue"),
        })
    }

    #[inline]
    fn header(&self) -> &Header {
        // SAFETY: the mapping starts with a `Header` (aligned: the mapping
        // is page-aligned), lives as long as `self`, and every field other
        // processes write is an atomic or, for the mutexes, in an
        // `UnsafeCell` touched only through the pthread calls.
        unsafe { &*self.memory.as_ptr().cast::<Header>() }
    }

    /// The slot of message number `index`: its header, and a pointer to
    /// the start of the slot (the message is `SLOT_HEADER` bytes further).
    fn slot(&self, index: u64) -> (&SlotHeader, *mut u8) {
        self.slot_at(index % self.capacity)
    }

    /// Slot number `at` of the ring (`at < capacity`).
    #[inline]
    fn slot_at(&self, at: u64) -> (&SlotHeader, *mut u8) {
        assert!(
            at < self.capacity,
            "slot {at} of a ring of {}",
            self.capacity
        );
        let offset = HEADER + at as usize * self.stride;
        // SAFETY: `at < capacity` (checked), and `new` sized the mapping
        // for `capacity` slots of `stride` bytes after the header; a slot
        // starts 64-aligned (HEADER and `stride` are multiples of 64), so
        // its `SlotHeader` is aligned; its fields are atomics.
        unsafe {
            let at = self.memory.as_ptr().add(offset);
            (&*at.cast::<SlotHeader>(), at)
        }
    }

    /// `at % capacity`, for an `at` that is usually below `capacity` or
    /// just past it: no division then.
    #[inline]
    fn wrap(&self, at: u64) -> u64 {
        if at < self.capacity {
            at
        } else if at - self.capacity < self.capacity {
            at - self.capacity
        } else {
            at % self.capacity
        }
    }

    /// Takes `side`'s mutex; a blocking call first waits while the ring
    /// looks full (a put) or empty (a get), so that it does not take the
    /// mutex only to find it must wait. The caller looks again under the
    /// mutex: another process may have come first.
    #[inline(always)]
    fn enter(&self, side: Side, blocking: Blocking) -> Result<Held<'_>> {
        let mutex = match side {
            Side::Put => &self.put_mutex,
            Side::Get => &self.get_mutex,
        };
        let deadline = match blocking {
            Blocking::No => Deadline::NEVER,
            Blocking::Until(deadline) => {
                if self.looks_blocked(side) {
                    self.wait(side, deadline)?;
                }
                deadline
            }
        };
        self.lock(mutex, deadline)
    }

    /// Takes `mutex`; after a holder's death, marks it consistent, which
    /// the ring always is (see the module documentation), once the put
    /// side's `tail` is caught up with a publication its dead holder made.
    /// The wait for a held mutex goes through the blocking-call layer
    /// (signals and the deadline noticed); a free one costs one
    /// `pthread_mutex_trylock`.
    #[inline]
    fn lock<'a>(&self, mutex: &'a RobustMutex, deadline: Deadline) -> Result<Held<'a>> {
        match mutex.try_lock_repaired() {
            Ok(Some(Acquired::Clean)) => Ok(Held::new(mutex)),
            other => self.lock_slowly(mutex, deadline, other),
        }
    }

    /// [`Ring::lock`] past a first try that did not take the mutex clean:
    /// a held mutex waited for, a dead holder's repaired, an error.
    #[cold]
    #[inline(never)]
    fn lock_slowly<'a>(
        &self,
        mutex: &'a RobustMutex,
        deadline: Deadline,
        tried: Result<Option<Acquired>>,
    ) -> Result<Held<'a>> {
        let acquired = match tried? {
            Some(acquired) => acquired,
            None => mutex.lock_until(deadline)?,
        };
        let held = Held::new(mutex);
        if let Acquired::OwnerDied = acquired {
            log::debug!(target: "queue", "a process died holding a queue lock; carrying on");
            let side = if std::ptr::eq(mutex, &self.put_mutex) {
                self.catch_up_tail();
                &self.header().put
            } else {
                &self.header().get
            };
            // The holder may have died between its store of the count and
            // its store of the index.
            let count = side.count.load(Ordering::Relaxed);
            side.index.store(count % self.capacity, Ordering::Relaxed);
            mutex.make_consistent()?;
        }
        Ok(held)
    }

    /// Under the put mutex, after its holder died: if that producer
    /// published message `tail` (its slot's `seq` reads `tail + 1`) and
    /// died before it moved `tail` on, moves it on. Only a death under
    /// the put mutex can leave `tail` behind, and the next process to
    /// take the mutex, whatever it does next, is told of that death.
    fn catch_up_tail(&self) {
        let count = &self.header().put.count;
        let tail = count.load(Ordering::Relaxed);
        if self.slot(tail).0.seq.load(Ordering::Relaxed) == tail + 1 {
            count.store(tail + 1, Ordering::Relaxed);
        }
    }

    /// Claims the slot at `tail` under the put mutex: `None` if the ring is
    /// full and `blocking` is [`Blocking::No`].
    #[inline]
    fn claim(&self, blocking: Blocking) -> Result<Option<Claim<'_>>> {
        let header = self.header();
        loop {
            let held = self.enter(Side::Put, blocking)?;
            // `closed` is set under this mutex: no put publishes after a
            // close.
            if header.closed.0.load(Ordering::Relaxed) != 0 {
                return Err(Error::Disconnected);
            }
            let tail = header.put.count.load(Ordering::Relaxed);
            // The last head a producer saw: never ahead of the real one,
            // and read from the consumers' line only when it says "full".
            if tail - header.put.seen.load(Ordering::Relaxed) >= self.capacity {
                // Acquire: the consumers' reads of the freed slots are done.
                let head = header.get.count.load(Ordering::Acquire);
                header.put.seen.store(head, Ordering::Relaxed);
                if tail - head >= self.capacity {
                    drop(held);
                    match blocking {
                        Blocking::No => return Ok(None),
                        Blocking::Until(deadline) => {
                            self.wait(Side::Put, deadline)?;
                            continue;
                        }
                    }
                }
            }
            let index = header.put.index.load(Ordering::Relaxed);
            debug_assert_eq!(index, tail % self.capacity);
            let (_, slot) = self.slot_at(index);
            return Ok(Some(Claim {
                ring: self,
                held,
                tail,
                index,
                slot,
            }));
        }
    }

    /// Publishes `len` bytes of `claim`'s slot: the single store of `seq`.
    #[inline]
    fn commit(&self, claim: Claim<'_>, len: usize) {
        debug_assert!(len <= self.max_message);
        let header = self.header();
        let tail = claim.tail;
        // SAFETY: `claim.slot` is the start of slot `tail` (`Ring::slot`,
        // called by `claim`): a `SlotHeader`, aligned, of atomics.
        let slot = unsafe { &*claim.slot.cast::<SlotHeader>() };
        slot.len.store(len as u32, Ordering::Relaxed);
        // The store that publishes the message (Release: the bytes written
        // before it are visible to whoever reads `tail + 1` here; SeqCst:
        // ordered before the load of the count of sleepers in `notify`).
        slot.seq.store(tail + 1, Ordering::SeqCst);
        header.put.count.store(tail + 1, Ordering::Relaxed);
        header
            .put
            .index
            .store(self.wrap(claim.index + 1), Ordering::Relaxed);
        // A slot a few messages ahead, if it is free already, fetched for
        // writing now, so that it is in this CPU's cache when its turn
        // comes, not in the consumer's.
        let ahead = tail + 1 + PREFETCH_AHEAD;
        if ahead - header.put.seen.load(Ordering::Relaxed) < self.capacity {
            prefetch_for_write(self.slot_at(self.wrap(claim.index + 1 + PREFETCH_AHEAD)).1);
        }
        drop(claim.held);
        self.notify(Side::Get, 1);
    }

    /// The message at `head`, borrowed under the get mutex: `None` if the
    /// ring is empty (but not closed) and `blocking` is [`Blocking::No`].
    #[inline]
    fn front(&self, blocking: Blocking) -> Result<Option<Slot<'_>>> {
        let header = self.header();
        loop {
            let held = self.enter(Side::Get, blocking)?;
            let head = header.get.count.load(Ordering::Relaxed);
            let index = header.get.index.load(Ordering::Relaxed);
            debug_assert_eq!(index, head % self.capacity);
            let (slot, at) = self.slot_at(index);
            // Acquire: the producer's writes of the message are visible.
            if slot.seq.load(Ordering::Acquire) != head + 1 {
                // `closed` first: once it reads 1, every put published
                // before the close is visible in its slot.
                let closed = header.closed.0.load(Ordering::Acquire) != 0;
                if slot.seq.load(Ordering::Acquire) != head + 1 {
                    drop(held);
                    match blocking {
                        _ if closed => return Err(Error::Disconnected),
                        Blocking::No => return Ok(None),
                        Blocking::Until(deadline) => {
                            self.wait(Side::Get, deadline)?;
                            continue;
                        }
                    }
                }
            }
            let len = slot.len.load(Ordering::Relaxed) as usize;
            let taken = Slot {
                ring: self,
                held,
                head,
                index,
                // SAFETY: the message starts SLOT_HEADER bytes into its
                // slot, which is `stride >= SLOT_HEADER + max_message`
                // bytes long (`Ring::slot`).
                data: unsafe { at.add(SLOT_HEADER) },
                len: len.min(self.max_message),
            };
            if len > self.max_message {
                // Only a process writing into the mapping by other means
                // could cause this; drop the slot rather than wedge the
                // queue.
                taken.take();
                return Err(Error::Message(format!(
                    "a queue slot claims {len} bytes, more than the limit of {}",
                    self.max_message
                )));
            }
            return Ok(Some(taken));
        }
    }

    /// A look without the lock: true when `side` would find the ring full
    /// (for a put) or empty (for a get) right now, so that a blocking call
    /// waits first instead of taking the lock only to find nothing to do:
    /// one lock round trip per message, not two, for a producer that keeps
    /// the queue full or a consumer that keeps it empty. Only a hint (the
    /// look under the lock decides).
    #[inline]
    fn looks_blocked(&self, side: Side) -> bool {
        let header = self.header();
        match side {
            Side::Put => {
                let tail = header.put.count.load(Ordering::Relaxed);
                tail.saturating_sub(header.put.seen.load(Ordering::Relaxed)) >= self.capacity
                    && tail.saturating_sub(header.get.count.load(Ordering::Acquire))
                        >= self.capacity
            }
            Side::Get => {
                // Without the lock, `index` may lag `head` for an instant
                // (another consumer between its two stores): a wrong hint
                // costs a look under the lock, or a wait that `ready` ends
                // at once.
                let head = header.get.count.load(Ordering::Relaxed);
                let index = header.get.index.load(Ordering::Relaxed);
                self.slot_at(self.wrap(index)).0.seq.load(Ordering::Acquire) != head + 1
            }
        }
    }

    /// True when a blocked call on `side` may go on: the queue is closed,
    /// or has room (for a put) or a message (for a get).
    fn ready(&self, side: Side) -> bool {
        self.ready_for(side, 1)
    }

    /// As [`Ring::ready`], but a put waits for `room` free slots.
    fn ready_for(&self, side: Side, room: u64) -> bool {
        let header = self.header();
        if header.closed.0.load(Ordering::SeqCst) != 0 {
            return true;
        }
        match side {
            Side::Put => {
                // head first: the tail read afterwards is at least as large.
                let head = header.get.count.load(Ordering::SeqCst);
                let tail = header.put.count.load(Ordering::SeqCst);
                tail.saturating_sub(head) + room <= self.capacity
            }
            Side::Get => {
                let head = header.get.count.load(Ordering::SeqCst);
                self.slot(head).0.seq.load(Ordering::SeqCst) == head + 1
            }
        }
    }

    /// The sequence word and the count of sleepers of one side.
    #[inline]
    fn side(&self, side: Side) -> &Waiters {
        match side {
            Side::Put => &self.header().not_full,
            Side::Get => &self.header().not_empty,
        }
    }

    /// After the ring changed for `side`'s benefit: if anybody sleeps there,
    /// moves the sequence word and wakes up to `count` sleepers.
    #[inline]
    fn notify(&self, side: Side, count: u32) {
        let waiters = self.side(side);
        if waiters.sleepers.load(Ordering::SeqCst) != 0 {
            waiters.seq.fetch_add(1, Ordering::SeqCst);
            // FUTEX_WAKE fails only for a bad address, which `side` cannot
            // give; a sleeper that missed the wake-up sees the change within
            // one blocking::POLL_INTERVAL anyway.
            let _ = futex::wake(&waiters.seq, count);
        }
    }

    /// Waits until `side` may go on ([`Ring::ready`]): spins for at most
    /// [`blocking::SPIN`] ([`blocking::spin`], the one spin of ipc-core),
    /// then sleeps with `FUTEX_WAIT` in slices of at most
    /// [`blocking::POLL_INTERVAL`] ([`blocking::wait`] notices signals and
    /// the deadline between them).
    ///
    /// A sleeper counts itself, then reads the sequence word, then looks at
    /// the ring; a notifier stores into the ring, then reads the count. All
    /// of these are SeqCst, so either the sleeper sees the change, or the
    /// notifier sees the sleeper and moves the word, which FUTEX_WAIT
    /// notices (`EAGAIN`) or is woken from.
    ///
    /// While it spins, a put waits for [`Ring::room`] free slots, not one:
    /// a producer that keeps the queue full then writes a run of messages
    /// with no look at `head` in between, instead of fighting the consumer
    /// for its line at every message. Past the spin it takes any room, so
    /// a consumer that frees one slot and stops is waited for no longer.
    fn wait(&self, side: Side, deadline: Deadline) -> Result<()> {
        let room = match side {
            Side::Put => self.room,
            Side::Get => 1,
        };
        if blocking::spin(deadline, || self.ready_for(side, room)) {
            return Ok(());
        }
        let waiters = self.side(side);
        blocking::wait(deadline, |slice| {
            if self.ready(side) {
                return Ok(Some(()));
            }
            if slice.is_zero() {
                return Ok(None);
            }
            waiters.sleepers.fetch_add(1, Ordering::SeqCst);
            let seen = waiters.seq.load(Ordering::SeqCst);
            let outcome = if self.ready(side) {
                Ok(Wake::Changed)
            } else {
                futex::wait(&waiters.seq, seen, slice)
            };
            waiters.sleepers.fetch_sub(1, Ordering::SeqCst);
            Ok(match outcome? {
                Wake::Woken | Wake::Changed => Some(()),
                Wake::TimedOut | Wake::Interrupted => None,
            })
        })
    }

    fn close(&self) -> Result<()> {
        {
            let _held = self.lock(&self.put_mutex, Deadline::NEVER)?;
            self.header().closed.0.store(1, Ordering::SeqCst);
        }
        self.notify(Side::Get, u32::MAX);
        self.notify(Side::Put, u32::MAX);
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.header().closed.0.load(Ordering::Acquire) != 0
    }

    fn len(&self) -> usize {
        let header = self.header();
        // head first: the tail read afterwards is at least as large.
        let head = header.get.count.load(Ordering::Acquire);
        let tail = header.put.count.load(Ordering::Acquire);
        tail.saturating_sub(head).min(self.capacity) as usize
    }
}

/// Runs `f` with this thread's buffer `key`, emptied, and keeps the buffer
/// for next time unless it grew large.
#[inline]
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
    use std::time::Instant;

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
    fn a_producer_that_died_between_its_two_stores_is_caught_up() {
        let q = Queue::<u32>::bounded(4, 4).unwrap();
        q.put(1).unwrap();
        // A thread that publishes message 1 the way `commit` does and ends
        // holding the put mutex before it moves `tail` on.
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(matches!(q.ring.put_mutex.lock_brief(), Ok(Acquired::Clean)));
                let (slot, at) = q.ring.slot(1);
                // SAFETY: test only: slot 1 is free, and this thread holds
                // the put mutex; 4 bytes fit in the slot.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        2_u32.to_le_bytes().as_ptr(),
                        at.add(SLOT_HEADER),
                        4,
                    );
                }
                slot.len.store(4, Ordering::Relaxed);
                slot.seq.store(2, Ordering::SeqCst);
            });
        });
        assert_eq!(q.len(), 1, "tail was left behind");
        // The next put finds the slot taken and moves tail on first.
        q.put(3).unwrap();
        assert_eq!(q.len(), 3);
        let got: Vec<u32> = (0..3).map(|_| q.get().unwrap()).collect();
        assert_eq!(got, [1, 2, 3]);
        assert!(q.is_empty());
    }

    #[test]
    fn claims_and_borrows_put_and_take_only_when_they_say_so() {
        let q = Queue::<Bytes>::bounded(2, 8).unwrap();
        // A claim dropped without a commit puts nothing.
        let mut claim = q.claim().unwrap();
        claim.bytes_mut()[..3].copy_from_slice(b"abc");
        drop(claim);
        assert!(q.is_empty());
        assert!(q.try_get_ref().unwrap().is_none());
        // Too long a commit is refused and puts nothing.
        let mut claim = q.try_claim().unwrap().expect("room");
        assert_eq!(claim.bytes_mut().len(), 8);
        assert!(matches!(
            claim.commit(9),
            Err(Error::MessageTooLarge { size: 9, limit: 8 })
        ));
        assert!(q.is_empty());
        for text in [&b"one"[..], b"two"] {
            let mut claim = q.claim_timeout(Duration::from_secs(5)).unwrap();
            claim.bytes_mut()[..3].copy_from_slice(text);
            claim.commit(3).unwrap();
        }
        assert!(q.try_claim().unwrap().is_none(), "full");
        assert!(matches!(
            q.claim_timeout(Duration::from_millis(10)),
            Err(Error::Timeout)
        ));
        // A message left is still at the front; a message dropped is taken.
        let front = q.get_ref().unwrap();
        assert_eq!(&front[..], b"one");
        front.leave();
        assert_eq!(q.len(), 2);
        assert_eq!(q.get_ref().unwrap().bytes(), b"one");
        assert_eq!(q.len(), 1);
        let last = q.get_ref_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(&*last, b"two");
        drop(last);
        assert!(matches!(
            q.get_ref_timeout(Duration::from_millis(10)),
            Err(Error::Timeout)
        ));
        // `decode` takes the message as a `T`; closed and drained ends.
        q.put(Bytes(b"xyz".to_vec())).unwrap();
        assert_eq!(
            q.get_ref().unwrap().decode().unwrap(),
            Bytes(b"xyz".to_vec())
        );
        q.close().unwrap();
        assert!(matches!(q.claim(), Err(Error::Disconnected)));
        assert!(matches!(q.get_ref(), Err(Error::Disconnected)));
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
        let (_, at) = q.ring.slot(0);
        // SAFETY: test only: slot 0 is published and nobody else uses the
        // queue; 4 bytes fit in a 16-byte message after the slot header.
        unsafe { std::ptr::copy_nonoverlapping([9_u8, 0, 0, 0].as_ptr(), at.add(SLOT_HEADER), 4) };
        assert!(matches!(q.get(), Err(Error::Message(_))));
        assert!(q.is_empty(), "the bad message was taken");
    }
}
