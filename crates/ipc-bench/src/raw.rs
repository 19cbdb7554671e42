//! The raw floors: each mechanism written directly on the system calls
//! and the atomics, with nothing ipc-core adds (no framing, no robust
//! locks, no encoding, no signal checks on the fast path), so that each
//! ipc-core figure can be held to the fastest way this bench knows to do
//! the same job on this machine with the same guarantees that matter for
//! the measurement: the same copies, and the same rule for waiting (where
//! ipc-core spins before it sleeps, so does its floor).
//!
//! This is the one module of the bench, and the one place outside
//! ipc-core, with `unsafe` code: a floor has to be raw. Every block says
//! why it is sound, and memory another process writes is read and written
//! through atomics (or copied under a protocol that hands it to one process
//! at a time). Forking still goes through `ipc_core::Process`.
//!
//! | floor | per message | floor of |
//! | --- | --- | --- |
//! | pipe, socketpair | `write(2)`, `read(2)`; a stream is read in 1 MiB chunks | pipe, FIFO, duplex, `Connection` over a Unix socket |
//! | TCP on loopback | on a connected pair of TCP sockets on `127.0.0.1` (`TCP_NODELAY`, as ipc-core's): a round trip as above; a stream in `Connection`'s frames, a length and the message in one `sendmsg(2)`, read with `recv(2)` a frame at a time (why: see [`send_frame`]'s section) | `Connection` over TCP |
//! | POSIX message queue | `mq_send(3)`, `mq_receive(3)` | message queue |
//! | shared memory, spinning | a ring (a stream) or two 4-slot rings (a round trip) with the `Queue`'s layout and copies: a copy in and one store that publishes; a copy out (or straight on into the other ring) and one store that takes; spin, then sleep, by ipc-core's rule | `Queue`, both paths |
//! | many-to-many ring | Vyukov's bounded MPMC queue on the atomics, waiting by ipc-core's rule | `Queue` with N producers and N consumers (`--scaling`) |
//! | shared memory, futex | the ring, but a waiting side sleeps at once in `FUTEX_WAIT` | (a reference) |
//! | robust mutex | a try (`pthread_mutex_timedlock` with a past deadline), a spin, then `pthread_mutex_lock`; a load and a store; `pthread_mutex_unlock` | `Value` |
//! | atomic add | one `lock xadd` | (a reference) |
//! | semaphore, spinning | ipc-core's algorithm on the atomics: a compare-and-swap, a spin, a futex | `Semaphore` |
//! | `sem_t` | `sem_wait(3)`, `sem_post(3)` on a process-shared `sem_t` (sleeps at once) | (a reference: Python's) |
//! | flag ping-pong, flag ring | a word each way (or round a ring), spin, then sleep | `Event` |
//! | barrier, spinning | an atomic count of arrivals and a round word; spin, then sleep | `Barrier` |
//! | barrier, futex | the same, sleeping at once | (a reference) |

use std::io::IoSlice;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use ipc_core::blocking::Deadline;
use ipc_core::shm::prefetch_for_write;
use ipc_core::sync::futex::{self, Wake};
use ipc_core::{Error, IpcName, Result, SharedMemory, signal};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::mqueue::{
    MQ_OFlag, MqAttr, MqdT, mq_attr_member_t, mq_open, mq_receive, mq_send, mq_unlink,
};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, recv, sendmsg, socketpair};
use nix::sys::stat::Mode;

use crate::measure::{
    Ctx, Gate, Holders, ping_loop, rate, receive_all, repeat_in_workers, rounds_in_workers,
    send_for, stream_in_workers, token_ring,
};
use crate::model::Measure;

/// The pipe size every pipe of the bench gets, raw or not (`F_SETPIPE_SZ`).
pub(crate) const PIPE_SIZE: usize = 1 << 20;

/// How much a stream's receiver asks for per `read(2)`.
const CHUNK: usize = 1 << 20;

// ---------------------------------------------------------------------------
// Shared memory and futexes.

/// An anonymous shared mapping (`mmap(2)`, `MAP_SHARED | MAP_ANONYMOUS`),
/// inherited by the children forked after it: ipc-core's, which is the
/// same system call; what the floors measure is the accesses below.
struct Shm {
    memory: SharedMemory,
}

impl Shm {
    fn new(len: usize) -> Result<Shm> {
        Ok(Shm {
            memory: SharedMemory::anonymous(len.max(1))?,
        })
    }

    fn u32_at(&self, at: usize) -> &AtomicU32 {
        assert!(at.is_multiple_of(4) && at + 4 <= self.memory.len());
        // SAFETY: in bounds and 4-aligned (checked; the mapping is page
        // aligned); the mapping lives as long as `self`, and every process
        // touches this word only through atomics.
        unsafe { AtomicU32::from_ptr(self.memory.as_ptr().add(at).cast()) }
    }

    fn u64_at(&self, at: usize) -> &AtomicU64 {
        assert!(at.is_multiple_of(8) && at + 8 <= self.memory.len());
        // SAFETY: as in `u32_at`, 8-aligned.
        unsafe { AtomicU64::from_ptr(self.memory.as_ptr().add(at).cast()) }
    }

    /// Copies `src` to offset `at`. The caller's protocol gives it the
    /// bytes alone: no other process reads or writes them meanwhile.
    fn write(&self, at: usize, src: &[u8]) {
        assert!(at + src.len() <= self.memory.len());
        // SAFETY: in bounds (checked); `src` is a separate local buffer;
        // the protocols below hand a mailbox or slot to one process at a
        // time, publishing it with a release (or SeqCst) store and taking
        // it with an acquire load.
        unsafe { ptr::copy_nonoverlapping(src.as_ptr(), self.memory.as_ptr().add(at), src.len()) }
    }

    /// Copies the bytes at offset `at` into `dst`, under the same protocol
    /// as [`Shm::write`].
    fn read(&self, at: usize, dst: &mut [u8]) {
        assert!(at + dst.len() <= self.memory.len());
        // SAFETY: as in `write`, the other way round.
        unsafe {
            ptr::copy_nonoverlapping(self.memory.as_ptr().add(at), dst.as_mut_ptr(), dst.len())
        }
    }

    fn at(&self, at: usize) -> *mut u8 {
        assert!(at < self.memory.len());
        // SAFETY: in bounds (checked).
        unsafe { self.memory.as_ptr().add(at) }
    }
}

/// Sleeps while `*word == expected` (`FUTEX_WAIT`, shared between
/// processes), at most 50 ms, so that the signal flag is seen; says how it
/// ended. The call is ipc-core's thin wrapper of the system call: the same
/// `futex(2)`.
fn futex_wait(word: &AtomicU32, expected: u32) -> Result<Wake> {
    match futex::wait(word, expected, Duration::from_millis(50))? {
        Wake::Interrupted => signal::check().map(|()| Wake::Interrupted),
        wake => Ok(wake),
    }
}

/// How long a waiting side spins before it sleeps: ipc-core's
/// `blocking::SPIN`.
const SPIN: Duration = Duration::from_micros(20);

/// Looks between two yields of the CPU while spinning: ipc-core's
/// `SPIN_LOOKS` (crates/ipc-core/src/blocking.rs).
const SPIN_LOOKS: u32 = 16;

/// The spin of ipc-core's blocking calls (`blocking::spin`), written out
/// here so that a floor waits by the same rule: `SPIN_LOOKS` looks a
/// `pause` apart, then a look at the clock and a `sched_yield(2)` every
/// `SPIN_LOOKS` looks, for at most [`SPIN`]. True once `ready`. (Calling
/// `blocking::spin` instead was tried; whether it slows the raw-shm-spin
/// floor could not be settled on a loaded machine, so the floor keeps its
/// own copy.)
fn spin(mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..SPIN_LOOKS {
        if ready() {
            return true;
        }
        std::hint::spin_loop();
    }
    let until = Deadline::after(SPIN);
    let mut looks = 0_u32;
    loop {
        if ready() {
            return true;
        }
        looks = looks.wrapping_add(1);
        if looks.is_multiple_of(SPIN_LOOKS) {
            if until.has_passed() {
                return false;
            }
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// How a side that must wait for the other does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// ipc-core's rule: spins for up to [`SPIN`] (yielding the CPU every
    /// few looks), then sleeps in `FUTEX_WAIT`; the other side calls
    /// `FUTEX_WAKE` only when somebody sleeps.
    Spin,
    /// Sleeps in `FUTEX_WAIT` at once and is woken by `FUTEX_WAKE`.
    Futex,
}

/// A futex word's sleepers: where a waiter counts itself before it sleeps
/// on `word`, and what the other side looks at after the store that makes
/// the waiter ready. Both sides' accesses are SeqCst: either the waiter's
/// last look sees the store, or the storer sees the waiter counted and
/// calls `FUTEX_WAKE` (and `FUTEX_WAIT` refuses to sleep on a word that
/// has moved).
#[derive(Clone, Copy)]
struct Sleepers<'a> {
    word: &'a AtomicU32,
    count: &'a AtomicU32,
}

impl Sleepers<'_> {
    /// Waits until `ready()`, by `wait`'s rule.
    fn wait(self, wait: Wait, mut ready: impl FnMut() -> bool) -> Result<()> {
        if ready() || (wait == Wait::Spin && spin(&mut ready)) {
            return Ok(());
        }
        loop {
            self.count.fetch_add(1, Ordering::SeqCst);
            let seen = self.word.load(Ordering::SeqCst);
            let slept = if ready() {
                Ok(Wake::Changed)
            } else {
                futex_wait(self.word, seen)
            };
            self.count.fetch_sub(1, Ordering::SeqCst);
            slept?;
            if ready() {
                return Ok(());
            }
        }
    }

    /// After a SeqCst store to `word` (or to what `ready` looks at):
    /// wakes up to `n` sleepers, if there are any.
    fn wake(self, n: u32) {
        if self.count.load(Ordering::SeqCst) != 0 {
            let _ = futex::wake(self.word, n);
        }
    }
}

// ---------------------------------------------------------------------------
// Shared memory: a one-producer, one-consumer ring.

/// The ring's header, a line each: the count of messages taken (`HEAD`,
/// written by the consumer), and the count of processes asleep waiting
/// for room and for a message. The slots follow.
const HEAD: usize = 0;
const PUTTER_SLEEPS: usize = 64;
const GETTER_SLEEPS: usize = 128;
const SLOTS: usize = 192;

/// Where a slot's message starts: after its sequence word and its length,
/// on the same line, so that a message of up to 56 bytes crosses between
/// the cores as one line, the line the other side waits on. (With the
/// message on a line of its own, each direction moved two lines one after
/// the other: 111 ns for an 8-byte round trip on the AMD machine where a
/// bare C flag ping-pong took 65 to 70 ns.)
const SLOT_DATA: usize = 8;

/// A slot's length word that means "the stream ends here".
const END: u32 = u32::MAX;

/// How many slots ahead the producer fetches a slot for writing, as the
/// `Queue` does (`PREFETCH_AHEAD` in crates/ipc-core/src/queue.rs).
const PREFETCH_AHEAD: u32 = 4;

/// How many slots a ring (or a Queue) of `size`-byte messages gets: about
/// 8 MiB, between 8 and 1024 slots.
pub(crate) fn ring_capacity(size: usize) -> usize {
    ((8 << 20) / (size + 8)).clamp(8, 1024)
}

/// A single-producer, single-consumer ring of fixed-size slots: the
/// `Queue`'s algorithm without its locks, its encoding or its checks, on
/// the same layout (a slot per line or lines, its sequence word, its
/// length and the message together).
///
/// * The producer writes the message into slot `tail` and publishes it
///   with **one store** in that slot, `seq = tail + 1`: the consumer
///   learns of it from the line it has to read anyway. It reads the
///   consumer's `HEAD` only when its last look says the ring is full, and
///   then, while it spins, waits for an eighth of the ring (1 to 64
///   slots) to be free, so that it writes a run of messages without
///   pulling `HEAD`'s line across at every one. It fetches the slot a few
///   messages ahead for writing (`prefetchw`).
/// * The consumer copies the message out and takes it with **one store**,
///   `HEAD = head + 1`.
/// * Both wait by [`Wait`]'s rule and wake the other only if it sleeps.
///
/// Counts are 32-bit and wrap; the capacity is far below 2^31.
struct Ring {
    shm: Shm,
    capacity: u32,
    stride: usize,
    /// The free slots a spinning producer waits for.
    room: u32,
    wait: Wait,
}

/// The producer's own counts.
#[derive(Debug, Default)]
struct Producer {
    tail: u32,
    /// The last `HEAD` seen: never ahead of the real one.
    seen: u32,
}

/// The consumer's own count.
#[derive(Debug, Default)]
struct Consumer {
    head: u32,
}

impl Ring {
    fn new(size: usize, wait: Wait) -> Result<Ring> {
        Ring::with_capacity(size, ring_capacity(size), wait)
    }

    fn with_capacity(size: usize, capacity: usize, wait: Wait) -> Result<Ring> {
        let stride = (SLOT_DATA + size).next_multiple_of(64);
        Ok(Ring {
            shm: Shm::new(SLOTS + capacity * stride)?,
            capacity: capacity as u32,
            stride,
            room: (capacity as u32 / 8).clamp(1, 64),
            wait,
        })
    }

    fn slot(&self, count: u32) -> usize {
        SLOTS + (count % self.capacity) as usize * self.stride
    }

    fn sleepers(&self, word: usize, count: usize) -> Sleepers<'_> {
        Sleepers {
            word: self.shm.u32_at(word),
            count: self.shm.u32_at(count),
        }
    }

    /// Puts one message (or the end mark, `len == END`).
    fn put(&self, p: &mut Producer, len: u32, data: &[u8]) -> Result<()> {
        let slot = self.claim(p)?;
        self.shm.write(slot + SLOT_DATA, data);
        self.publish(p, slot, len);
        Ok(())
    }

    /// Waits for room for message `tail`; returns its slot.
    fn claim(&self, p: &mut Producer) -> Result<usize> {
        if p.tail.wrapping_sub(p.seen) >= self.capacity {
            let head = self.shm.u32_at(HEAD);
            p.seen = head.load(Ordering::Acquire);
            if p.tail.wrapping_sub(p.seen) >= self.capacity {
                let free = |room: u32| {
                    self.capacity - p.tail.wrapping_sub(head.load(Ordering::Acquire)) >= room
                };
                // While it spins, a run's worth of room; then any room.
                if !(self.wait == Wait::Spin && spin(|| free(self.room))) {
                    self.sleepers(HEAD, PUTTER_SLEEPS)
                        .wait(Wait::Futex, || free(1))?;
                }
                p.seen = head.load(Ordering::Acquire);
            }
        }
        Ok(self.slot(p.tail))
    }

    /// Publishes the message written into `slot` (message `tail`), of
    /// `len` bytes, with one store; wakes the consumer if it sleeps.
    fn publish(&self, p: &mut Producer, slot: usize, len: u32) {
        self.shm.u32_at(slot + 4).store(len, Ordering::Relaxed);
        // The store that publishes the message (Release for the bytes,
        // SeqCst against the load of the sleepers just below).
        let seq = self.shm.u32_at(slot);
        seq.store(p.tail.wrapping_add(1), Ordering::SeqCst);
        p.tail = p.tail.wrapping_add(1);
        let ahead = p.tail.wrapping_add(PREFETCH_AHEAD);
        if ahead.wrapping_sub(p.seen) < self.capacity {
            prefetch_for_write(self.shm.at(self.slot(ahead)));
        }
        self.sleepers(slot, GETTER_SLEEPS).wake(1);
    }

    /// Takes one message into `buf`; `None` at the end mark.
    fn get(&self, c: &mut Consumer, buf: &mut [u8]) -> Result<Option<usize>> {
        let (slot, len) = self.front(c)?;
        if len == END {
            return Ok(None);
        }
        let len = len as usize;
        self.shm.read(slot + SLOT_DATA, &mut buf[..len]);
        self.take(c);
        Ok(Some(len))
    }

    /// Passes the next message on into ring `to` with one copy, from this
    /// ring's slot straight into `to`'s; false (the end mark passed on) at
    /// the end.
    fn pass(&self, c: &mut Consumer, to: &Ring, p: &mut Producer) -> Result<bool> {
        let (from, len) = self.front(c)?;
        let into = to.claim(p)?;
        if len != END {
            let len = len as usize;
            assert!(
                len <= to.stride - SLOT_DATA,
                "a slot of the other ring takes it"
            );
            // SAFETY: `from` is this ring's front slot, published to this
            // process and not taken yet; `into` is `to`'s claimed slot,
            // free and not yet published: the protocol gives this process
            // both alone. Both hold `len` bytes after SLOT_DATA (checked
            // for `to`; this ring's producer wrote at most its stride).
            // They lie in two different mappings, so they do not overlap.
            unsafe {
                ptr::copy_nonoverlapping(
                    self.shm.at(from + SLOT_DATA),
                    to.shm.at(into + SLOT_DATA),
                    len,
                );
            }
        }
        to.publish(p, into, len);
        self.take(c);
        Ok(len != END)
    }

    /// Waits for message `head`; its slot and length word.
    fn front(&self, c: &Consumer) -> Result<(usize, u32)> {
        let slot = self.slot(c.head);
        let want = c.head.wrapping_add(1);
        let seq = self.sleepers(slot, GETTER_SLEEPS);
        seq.wait(self.wait, || seq.word.load(Ordering::Acquire) == want)?;
        Ok((slot, self.shm.u32_at(slot + 4).load(Ordering::Relaxed)))
    }

    /// Takes message `head` with one store; wakes the producer if it
    /// sleeps.
    fn take(&self, c: &mut Consumer) {
        c.head = c.head.wrapping_add(1);
        // SeqCst against the load of the sleepers just below.
        self.shm.u32_at(HEAD).store(c.head, Ordering::SeqCst);
        self.sleepers(HEAD, PUTTER_SLEEPS).wake(1);
    }
}

/// How many slots each ring of a round trip has: as many as the `Queue`'s
/// round-trip rows give theirs (`Queue::bounded(4, ..)` in `ipc.rs`).
pub(crate) const ROUND_TRIP_SLOTS: usize = 4;

/// Ping-pong through two rings of [`ROUND_TRIP_SLOTS`] slots, one each
/// way, with the `Queue`'s zero-copy copies: ping copies its message into
/// a slot of the first ring; pong copies it from there straight into a
/// slot of the second ([`Ring::pass`]: one copy, as the `Queue`'s pong
/// does from the borrowed message into the claimed slot); ping copies the
/// answer out. An 8-byte message and its sequence word share one line,
/// the line the other side waits on; each side waits by `wait`'s rule and
/// wakes the other only if it sleeps. (Two mailboxes used over and over,
/// the floor before this one, took 20 µs for a 64 KiB round trip where the
/// `Queue`'s rings took 13.5 µs.)
pub(crate) fn shm_round_trip(ctx: &Ctx, size: usize, wait: Wait) -> Result<Measure> {
    let there = Ring::with_capacity(size, ROUND_TRIP_SLOTS, wait)?;
    let back = Ring::with_capacity(size, ROUND_TRIP_SLOTS, wait)?;
    let partner = ctx.partner("pong", || {
        let (mut c, mut p) = (Consumer::default(), Producer::default());
        while there.pass(&mut c, &back, &mut p)? {}
        Ok(())
    })?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size];
    let (mut p, mut c) = (Producer::default(), Consumer::default());
    let measured = ping_loop(ctx.duration, || {
        there.put(&mut p, size as u32, &msg)?;
        back.get(&mut c, &mut buf).map(drop)
    });
    there.put(&mut p, END, &[])?;
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through a shared-memory ring: one copy in, one copy
/// out, as the `Queue`'s `claim`/`get_ref` path.
pub(crate) fn shm_throughput(ctx: &Ctx, size: usize, wait: Wait) -> Result<Measure> {
    let ring = Ring::new(size, wait)?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("producer", || {
        let msg = vec![7_u8; size];
        let mut p = Producer::default();
        gate.arrive(0)?;
        send_for(ctx.duration, size, || ring.put(&mut p, size as u32, &msg))?;
        ring.put(&mut p, END, &[])
    })?;
    let mut buf = vec![0_u8; size];
    let mut c = Consumer::default();
    let measured = receive_all(&gate, size, || ring.get(&mut c, &mut buf));
    partner.finish(ctx)?;
    measured
}

// ---------------------------------------------------------------------------
// Shared memory: many producers, many consumers.

/// The words of the many-to-many ring's header, a line each: the count of
/// messages claimed by producers, of messages claimed by consumers, the
/// `closed` flag, and the futex words (with their sleepers) that
/// consumers and producers sleep on.
const MPMC_PUT: usize = 0;
const MPMC_GET: usize = 64;
const MPMC_CLOSED: usize = 128;
const MPMC_NOT_EMPTY: usize = 192;
const MPMC_NOT_FULL: usize = 256;
const MPMC_SLOTS: usize = 320;

/// A bounded ring for any number of producers and consumers, on the
/// atomics: Dmitry Vyukov's bounded MPMC queue (each slot's sequence word
/// says whose turn it is; a producer or a consumer claims a position with
/// a compare-and-swap of its side's count, then fills or empties the slot
/// and hands it on with one store), with ipc-core's waiting rule on top
/// (spin, then sleep on a side's futex word, woken only when somebody
/// sleeps). The fastest many-to-many queue this bench knows; the `Queue`'s
/// floor on the scaling curve. What it does not keep: a process killed
/// between its claim and its store leaves a hole that stops every
/// consumer, where the `Queue`'s robust locks let the others go on.
struct Mpmc {
    shm: Shm,
    capacity: u64,
    stride: usize,
}

impl Mpmc {
    fn new(size: usize) -> Result<Mpmc> {
        let capacity = ring_capacity(size);
        let stride = (16 + size).next_multiple_of(64);
        let ring = Mpmc {
            shm: Shm::new(MPMC_SLOTS + capacity * stride)?,
            capacity: capacity as u64,
            stride,
        };
        for i in 0..capacity {
            ring.seq(i as u64).store(i as u64, Ordering::Relaxed);
        }
        Ok(ring)
    }

    fn slot(&self, pos: u64) -> usize {
        MPMC_SLOTS + (pos % self.capacity) as usize * self.stride
    }

    fn seq(&self, pos: u64) -> &AtomicU64 {
        self.shm.u64_at(self.slot(pos))
    }

    fn side(&self, at: usize) -> Sleepers<'_> {
        Sleepers {
            word: self.shm.u32_at(at),
            count: self.shm.u32_at(at + 4),
        }
    }

    /// After the store that hands a slot on: moves the side's word and
    /// wakes a sleeper, if any sleeps.
    fn notify(&self, at: usize) {
        let side = self.side(at);
        if side.count.load(Ordering::SeqCst) != 0 {
            side.word.fetch_add(1, Ordering::SeqCst);
            let _ = futex::wake(side.word, 1);
        }
    }

    fn put(&self, data: &[u8]) -> Result<()> {
        let count = self.shm.u64_at(MPMC_PUT);
        let pos = loop {
            let pos = count.load(Ordering::Relaxed);
            let seq = self.seq(pos).load(Ordering::Acquire);
            if seq == pos {
                if count
                    .compare_exchange_weak(pos, pos + 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    break pos;
                }
            } else if seq < pos {
                // Full: wait until the consumers hand this slot back.
                let slot = self.seq(pos);
                self.side(MPMC_NOT_FULL)
                    .wait(Wait::Spin, || slot.load(Ordering::Acquire) >= pos)?;
            }
        };
        let slot = self.slot(pos);
        self.shm
            .u32_at(slot + 8)
            .store(data.len() as u32, Ordering::Relaxed);
        self.shm.write(slot + 16, data);
        self.seq(pos).store(pos + 1, Ordering::SeqCst);
        self.notify(MPMC_NOT_EMPTY);
        Ok(())
    }

    /// Takes a message into `buf`; `None` once the ring is closed and
    /// empty.
    fn get(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        let count = self.shm.u64_at(MPMC_GET);
        let closed = self.shm.u32_at(MPMC_CLOSED);
        let pos = loop {
            let pos = count.load(Ordering::Relaxed);
            let seq = self.seq(pos).load(Ordering::Acquire);
            if seq == pos + 1 {
                if count
                    .compare_exchange_weak(pos, pos + 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    break pos;
                }
            } else if seq < pos + 1 {
                // Empty: wait for this slot, or the close (after which
                // every message put is visible, so one more look decides).
                let slot = self.seq(pos);
                let here = || slot.load(Ordering::Acquire) > pos;
                self.side(MPMC_NOT_EMPTY)
                    .wait(Wait::Spin, || here() || closed.load(Ordering::SeqCst) != 0)?;
                if !here() && count.load(Ordering::SeqCst) == pos {
                    return Ok(None);
                }
            }
        };
        let slot = self.slot(pos);
        let len = self.shm.u32_at(slot + 8).load(Ordering::Relaxed) as usize;
        self.shm.read(slot + 16, &mut buf[..len]);
        self.seq(pos).store(pos + self.capacity, Ordering::SeqCst);
        self.notify(MPMC_NOT_FULL);
        Ok(Some(len))
    }

    /// Ends the stream: consumers drain it, then get `None`.
    fn close(&self) {
        self.shm.u32_at(MPMC_CLOSED).store(1, Ordering::SeqCst);
        let side = self.side(MPMC_NOT_EMPTY);
        side.word.fetch_add(1, Ordering::SeqCst);
        let _ = futex::wake(side.word, u32::MAX);
    }
}

/// 8-byte messages per second through the many-to-many ring by
/// `processes / 2` producers and as many consumers, as the `Queue`'s
/// scaling curve; checks that every message put was got, once.
pub(crate) fn mpmc_scaling(ctx: &Ctx, processes: usize) -> Result<Measure> {
    const SIZE: usize = 8;
    let producers = (processes / 2).max(1);
    let consumers = (processes - producers).max(1);
    let ring = Mpmc::new(SIZE)?;
    let msg = [7_u8; SIZE];
    let (put, got, seconds) = stream_in_workers(
        ctx,
        producers,
        consumers,
        || ring.put(&msg),
        || {
            let mut buf = [0_u8; SIZE];
            Ok(ring.get(&mut buf)?.is_some())
        },
        || {
            ring.close();
            Ok(())
        },
    )?;
    if put != got {
        log::error!(target: "ipc-bench", "{put} messages put, {got} got");
        return Err(Error::Message(
            "the raw MPMC ring lost or doubled messages".into(),
        ));
    }
    Ok(rate(got, seconds))
}

// ---------------------------------------------------------------------------
// Pipes and socket pairs.

/// `write(2)` until all of `bytes` is written; EINTR is retried unless the
/// signal flag is set.
fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => signal::check()?,
            Err(errno) => return Err(Error::call("write", errno)),
        }
    }
    Ok(())
}

/// `read(2)` into all of `buf`; false if the stream ended first.
fn read_exact(fd: &OwnedFd, buf: &mut [u8]) -> Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fd, &mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(Errno::EINTR) => signal::check()?,
            Err(errno) => return Err(Error::call("read", errno)),
        }
    }
    Ok(true)
}

/// One `read(2)` of whatever is there, up to `buf.len()`; `None` at the end.
fn read_some(fd: &OwnedFd, buf: &mut [u8]) -> Result<Option<usize>> {
    loop {
        match nix::unistd::read(fd, buf) {
            Ok(0) => return Ok(None),
            Ok(n) => return Ok(Some(n)),
            Err(Errno::EINTR) => signal::check()?,
            Err(errno) => return Err(Error::call("read", errno)),
        }
    }
}

/// A pipe (`pipe2(2)`) raised to [`PIPE_SIZE`]: the reading end, then the
/// writing end.
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let (read, write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|errno| Error::call("pipe2", errno))?;
    set_pipe_size(&write)?;
    Ok((read, write))
}

/// Raises a pipe (or FIFO) to [`PIPE_SIZE`] bytes (`F_SETPIPE_SZ`).
pub(crate) fn set_pipe_size(fd: &impl AsFd) -> Result<()> {
    fcntl(fd.as_fd(), FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as libc::c_int))
        .map(drop)
        .map_err(|errno| Error::call("fcntl F_SETPIPE_SZ", errno))
}

fn stream_socketpair() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|errno| Error::call("socketpair", errno))
}

/// A connected pair of TCP sockets on loopback: a listener on
/// `127.0.0.1` (a port the kernel chooses), a `connect(2)` and an
/// `accept(2)` (both done at once on loopback), then the listener closed.
/// Nagle's delay is off, as ipc-core's `Connection` has it.
fn tcp_pair() -> Result<(OwnedFd, OwnedFd)> {
    let io = |call: &'static str| {
        move |e: std::io::Error| Error::call(call, Errno::from_raw(e.raw_os_error().unwrap_or(0)))
    };
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("bind"))?;
    let address = listener.local_addr().map_err(io("getsockname"))?;
    let one = TcpStream::connect(address).map_err(io("connect"))?;
    let (two, _) = listener.accept().map_err(io("accept"))?;
    for end in [&one, &two] {
        end.set_nodelay(true)
            .map_err(io("setsockopt TCP_NODELAY"))?;
    }
    Ok((one.into(), two.into()))
}

/// Which kernel stream carries the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Pipe,
    Socketpair,
    /// A TCP connection on loopback.
    Tcp,
}

/// Ping-pong over two pipes, or one socket pair, or one TCP connection.
pub(crate) fn stream_round_trip(ctx: &Ctx, size: usize, kind: Stream) -> Result<Measure> {
    // (what ping writes, what pong reads, what pong writes, what ping reads)
    let (ping_w, pong_r, pong_w, ping_r) = match kind {
        Stream::Pipe => {
            let (there_r, there_w) = pipe()?;
            let (back_r, back_w) = pipe()?;
            (there_w, there_r, back_w, back_r)
        }
        Stream::Socketpair | Stream::Tcp => {
            let (one, two) = if kind == Stream::Tcp {
                tcp_pair()?
            } else {
                stream_socketpair()?
            };
            let (one2, two2) = (dup(&one)?, dup(&two)?);
            (one, two, two2, one2)
        }
    };
    let mut ends = Some((ping_w, ping_r));
    let partner = ctx.partner("pong", || {
        // The parent's ends, closed here so that its close ends the stream.
        drop(ends.take());
        let mut buf = vec![0_u8; size];
        while read_exact(&pong_r, &mut buf)? {
            write_all(&pong_w, &buf)?;
        }
        Ok(())
    })?;
    drop((pong_r, pong_w));
    let (ping_w, ping_r) = ends.take().expect("the parent's ends");
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size];
    let measured = ping_loop(ctx.duration, || {
        write_all(&ping_w, &msg)?;
        if !read_exact(&ping_r, &mut buf)? {
            return Err(Error::Disconnected);
        }
        Ok(())
    });
    // The last descriptors of the parent's end: pong reads the end of the
    // stream and returns.
    drop((ping_w, ping_r));
    partner.finish(ctx)?;
    measured
}

fn dup(fd: &OwnedFd) -> Result<OwnedFd> {
    fd.try_clone()
        .map_err(|e| Error::call("dup", Errno::from_raw(e.raw_os_error().unwrap_or(0))))
}

/// One-way throughput: the partner writes `size`-byte messages, the parent
/// reads the stream in 1 MiB chunks; over TCP, in frames instead (see
/// [`send_frame`]).
pub(crate) fn stream_throughput(ctx: &Ctx, size: usize, kind: Stream) -> Result<Measure> {
    let (read, write) = match kind {
        Stream::Pipe => pipe()?,
        Stream::Socketpair => stream_socketpair()?,
        Stream::Tcp => tcp_pair()?,
    };
    let framed = kind == Stream::Tcp;
    let gate = Gate::new(1)?;
    let mut read_end = Some(read);
    let partner = ctx.partner("writer", || {
        drop(read_end.take());
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || {
            if framed {
                send_frame(&write, &msg)
            } else {
                write_all(&write, &msg)
            }
        })?;
        Ok(())
    })?;
    drop(write);
    let read = read_end.take().expect("the reading end");
    let mut buf = vec![0_u8; if framed { size } else { CHUNK }];
    let measured = receive_all(&gate, size, || {
        if framed {
            recv_frame(&read, &mut buf)
        } else {
            read_some(&read, &mut buf)
        }
    });
    drop(read);
    partner.finish(ctx)?;
    measured
}

// ---------------------------------------------------------------------------
// Frames on a TCP stream.
//
// Over TCP on loopback, how the reader reads decides how the writer's
// bytes travel. A reader that drains the socket with one large `read(2)`
// keeps the receive window open, so each small write leaves at once as a
// segment of its own and wakes the reader; a reader that takes one frame
// at a time lets unsent bytes gather behind a full window, where the
// kernel packs the next writes into the segment still waiting. The second
// moved 2.25 M 8-byte messages per second in the full run of
// docs/performance.md where the first moved 0.58 M (and 64 KiB messages
// 1.3 times faster). So the TCP floor does what ipc-core's `Connection`
// does, on the system calls and nothing else: a 4-byte length and the
// message in one `sendmsg(2)`, and the length, then the message, each
// read with `recv(2)` that does not wait, with `poll(2)` when nothing is
// there.

/// Sends `msg` as one frame, a 4-byte big-endian length and the bytes,
/// in one `sendmsg(2)` (`MSG_DONTWAIT`, `poll(2)` while the socket buffer
/// is full).
fn send_frame(fd: &OwnedFd, msg: &[u8]) -> Result<()> {
    let len = u32::try_from(msg.len()).expect("a frame under 4 GiB");
    let head = len.to_be_bytes();
    let mut iov = [IoSlice::new(&head), IoSlice::new(msg)];
    let mut iov: &mut [IoSlice<'_>] = &mut iov;
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    while !iov.is_empty() {
        match sendmsg::<()>(fd.as_raw_fd(), iov, &[], flags, None) {
            Ok(n) => IoSlice::advance_slices(&mut iov, n),
            Err(Errno::EAGAIN) => wait_for(fd, PollFlags::POLLOUT)?,
            Err(Errno::EINTR) => signal::check()?,
            Err(errno) => return Err(Error::call("sendmsg", errno)),
        }
    }
    Ok(())
}

/// Receives one frame (see [`send_frame`]) into `buf`: its length, then
/// its bytes; `None` at the end of the stream.
fn recv_frame(fd: &OwnedFd, buf: &mut [u8]) -> Result<Option<usize>> {
    let mut head = [0_u8; 4];
    if !recv_exact(fd, &mut head)? {
        return Ok(None);
    }
    let len = u32::from_be_bytes(head) as usize;
    if len > buf.len() {
        return Err(Error::Message(format!(
            "raw TCP: a frame of {len} bytes announced, more than the {} sent",
            buf.len()
        )));
    }
    if !recv_exact(fd, &mut buf[..len])? {
        return Err(Error::Disconnected);
    }
    Ok(Some(len))
}

/// The most one `recv(2)` of a frame asks for, as `Connection`'s first
/// read of a message (its `READ_CHUNK`): a 1 MiB frame read whole in one
/// call sends the window update only once the whole copy is done, and
/// the writer stalls meanwhile (1 MiB frames: 0.91 x `Connection` read
/// whole, 1.02 to 1.08 x read 64 KiB at a time, medians of 5 and 7 runs).
const TCP_READ: usize = 64 << 10;

/// `recv(2)` with `MSG_DONTWAIT` until `buf` is full, at most
/// [`TCP_READ`] bytes a call, `poll(2)` when nothing is there; false if
/// the stream ended first.
fn recv_exact(fd: &OwnedFd, buf: &mut [u8]) -> Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        let end = buf.len().min(got + TCP_READ);
        match recv(fd.as_raw_fd(), &mut buf[got..end], MsgFlags::MSG_DONTWAIT) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(Errno::EAGAIN) => wait_for(fd, PollFlags::POLLIN)?,
            Err(Errno::EINTR) => signal::check()?,
            Err(errno) => return Err(Error::call("recv", errno)),
        }
    }
    Ok(true)
}

/// Sleeps in `poll(2)` until `fd` is ready for `events`.
fn wait_for(fd: &OwnedFd, events: PollFlags) -> Result<()> {
    match poll(&mut [PollFd::new(fd.as_fd(), events)], PollTimeout::NONE) {
        Ok(_) => Ok(()),
        Err(Errno::EINTR) => signal::check(),
        Err(errno) => Err(Error::call("poll", errno)),
    }
}

// ---------------------------------------------------------------------------
// POSIX message queues.

/// A queue for `size`-byte messages, unlinked at once: the descriptors
/// (inherited by the partner) keep it alive, and nothing is left behind.
fn mq(tag: &str, size: usize) -> Result<MqdT> {
    let name = IpcName::unique(tag)?;
    let path = name.path();
    let capacity = std::fs::read_to_string(ipc_core::mqueue::MSG_MAX_FILE)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(10);
    let attr = MqAttr::new(
        0,
        capacity as mq_attr_member_t,
        size.max(1) as mq_attr_member_t,
        0,
    );
    let mqd = mq_open(
        path.as_str(),
        MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR | MQ_OFlag::O_CLOEXEC,
        Mode::S_IRUSR | Mode::S_IWUSR,
        Some(&attr),
    )
    .map_err(|errno| Error::sys("mq_open", &path, errno))?;
    mq_unlink(path.as_str()).map_err(|errno| Error::sys("mq_unlink", &path, errno))?;
    Ok(mqd)
}

fn mq_put(mqd: &MqdT, msg: &[u8]) -> Result<()> {
    loop {
        match mq_send(mqd, msg, 0) {
            Ok(()) => return Ok(()),
            Err(Errno::EINTR) => signal::check()?,
            Err(errno) => return Err(Error::call("mq_send", errno)),
        }
    }
}

fn mq_take(mqd: &MqdT, buf: &mut [u8]) -> Result<usize> {
    let mut priority = 0;
    loop {
        match mq_receive(mqd, buf, &mut priority) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => signal::check()?,
            Err(errno) => return Err(Error::call("mq_receive", errno)),
        }
    }
}

/// Ping-pong over two message queues; an empty message says "stop".
pub(crate) fn mq_round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let there = mq("bench-raw-there", size)?;
    let back = mq("bench-raw-back", size)?;
    let partner = ctx.partner("pong", || {
        let mut buf = vec![0_u8; size.max(1)];
        loop {
            let n = mq_take(&there, &mut buf)?;
            if n == 0 {
                return Ok(());
            }
            mq_put(&back, &buf[..n])?;
        }
    })?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size.max(1)];
    let measured = ping_loop(ctx.duration, || {
        mq_put(&there, &msg)?;
        mq_take(&back, &mut buf).map(drop)
    });
    mq_put(&there, &[])?;
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through one message queue; an empty message ends it.
pub(crate) fn mq_throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let q = mq("bench-raw-stream", size)?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("sender", || {
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || mq_put(&q, &msg))?;
        mq_put(&q, &[])
    })?;
    let mut buf = vec![0_u8; size.max(1)];
    let measured = receive_all(&gate, size, || {
        let n = mq_take(&q, &mut buf)?;
        Ok((n > 0).then_some(n))
    });
    partner.finish(ctx)?;
    measured
}

// ---------------------------------------------------------------------------
// One shared counter.

/// Where the counter lives, after the mutex.
const COUNTER: usize = 64;
const _: () = assert!(std::mem::size_of::<libc::pthread_mutex_t>() <= COUNTER);

/// A robust, process-shared `pthread_mutex_t` at the start of `shm`.
fn init_mutex(shm: &Shm) -> Result<*mut libc::pthread_mutex_t> {
    let mutex = shm.at(0).cast::<libc::pthread_mutex_t>();
    let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    // SAFETY: `attr` is a local initialised by the first call and destroyed
    // by the last; `mutex` points to zeroed, aligned shared memory that no
    // process uses as a mutex yet, and that outlives every use below.
    let rc = unsafe {
        let a = attr.as_mut_ptr();
        let mut rc = libc::pthread_mutexattr_init(a);
        if rc == 0 {
            rc = libc::pthread_mutexattr_setpshared(a, libc::PTHREAD_PROCESS_SHARED);
            if rc == 0 {
                rc = libc::pthread_mutexattr_setrobust(a, libc::PTHREAD_MUTEX_ROBUST);
            }
            if rc == 0 {
                rc = libc::pthread_mutex_init(mutex, a);
            }
            libc::pthread_mutexattr_destroy(a);
        }
        rc
    };
    match rc {
        0 => Ok(mutex),
        rc => Err(Error::call("pthread_mutex_init", Errno::from_raw(rc))),
    }
}

/// Increments per second of one counter in shared memory by `processes`
/// processes: under a raw robust mutex, or with an atomic add.
///
/// The robust mutex is the `Value`'s floor: a robust, process-shared
/// `pthread_mutex_t` (the same glibc object as the `Value`'s lock), taken
/// the fastest way this bench knows for a lock held a few nanoseconds at
/// a time: one try; if the mutex is held, ipc-core's spin (a look at its
/// lock word, then a try, between pauses and yields); only then
/// `pthread_mutex_lock`, which sleeps in the kernel. Sleeping at once (a
/// bare `pthread_mutex_lock`) lost to the `Value`'s own lock with five
/// processes on two CPUs. A try is `pthread_mutex_timedlock(3)` with a
/// deadline long past, as the `Value`'s: with 2 to 16 processes
/// contending, `pthread_mutex_trylock(3)` on this robust mutex made the
/// floor less than half as fast (7.5 to 8.6 M increments per second
/// against 17 to 22 M, 2-core machine), and every `Value` row "floor
/// suspect".
pub(crate) fn increments(ctx: &Ctx, processes: usize, locked: bool) -> Result<Measure> {
    let shm = Shm::new(2 * COUNTER)?;
    let mutex = if locked {
        Some(init_mutex(&shm)?)
    } else {
        None
    };
    // glibc's `pthread_mutex_t` starts with its lock word (`__lock`: the
    // owner's thread id, 0 when free): a hint for the spin, never trusted
    // (the try decides).
    let lock_word = shm.u32_at(0);
    let counter = shm.u64_at(COUNTER);
    let (total, seconds) = repeat_in_workers(ctx, processes, |_| match mutex {
        Some(mutex) => {
            let try_lock = || -> Result<bool> {
                let epoch = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // SAFETY: `mutex` was initialised by `init_mutex` in memory
                // mapped for as long as `shm` lives, which is the whole
                // measurement in every process.
                match unsafe { libc::pthread_mutex_timedlock(mutex, &epoch) } {
                    0 => Ok(true),
                    libc::ETIMEDOUT => Ok(false),
                    libc::EOWNERDEAD => {
                        // SAFETY: as above; we hold it, and a counter of
                        // any value is consistent.
                        unsafe { libc::pthread_mutex_consistent(mutex) };
                        Ok(true)
                    }
                    rc => Err(Error::call("pthread_mutex_trylock", Errno::from_raw(rc))),
                }
            };
            let mut failed = None;
            let held = try_lock()?
                || spin(|| {
                    lock_word.load(Ordering::Relaxed) == 0
                        && try_lock().unwrap_or_else(|error| {
                            failed = Some(error);
                            true
                        })
                });
            if let Some(error) = failed {
                return Err(error);
            }
            if !held {
                // SAFETY: as in `try_lock`.
                let rc = unsafe { libc::pthread_mutex_lock(mutex) };
                if rc == libc::EOWNERDEAD {
                    // SAFETY: as above.
                    unsafe { libc::pthread_mutex_consistent(mutex) };
                } else if rc != 0 {
                    return Err(Error::call("pthread_mutex_lock", Errno::from_raw(rc)));
                }
            }
            counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            // SAFETY: as above; this process holds the mutex.
            unsafe { libc::pthread_mutex_unlock(mutex) };
            Ok(())
        }
        None => {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    })?;
    let value = counter.load(Ordering::SeqCst);
    if value != total {
        log::error!(target: "ipc-bench", "the counter reads {value} after {total} increments");
        return Err(Error::Message("a shared counter lost updates".into()));
    }
    Ok(rate(total, seconds))
}

// ---------------------------------------------------------------------------
// Synchronisation: semaphores, barriers, a token passed round a ring.

/// Acquire+release pairs per second of a process-shared POSIX semaphore
/// (`sem_init(3)` with `pshared`, value 1) by `processes` processes:
/// `sem_wait(3)` then `sem_post(3)`, the C library's semaphore, which is
/// also what Python's `multiprocessing.Semaphore` is made of. A reference,
/// not the `Semaphore`'s floor: glibc's `sem_wait` sleeps in the kernel
/// as soon as the value is 0, where ipc-core's spins first (see
/// [`spin_semaphore_pairs`]).
pub(crate) fn semaphore_pairs(ctx: &Ctx, processes: usize) -> Result<Measure> {
    const _: () = assert!(std::mem::size_of::<libc::sem_t>() <= 64);
    let shm = Shm::new(64)?;
    let sem = shm.at(0).cast::<libc::sem_t>();
    // SAFETY: `sem` points to zeroed, aligned shared memory that no process
    // uses as a semaphore yet and that outlives every use below (the
    // workers end before `shm` is dropped).
    if unsafe { libc::sem_init(sem, 1, 1) } != 0 {
        return Err(Error::call("sem_init", Errno::last()));
    }
    let holders = Holders::new()?;
    let (total, seconds) = repeat_in_workers(ctx, processes, |_| {
        // SAFETY: `sem` was initialised above and stays mapped (see there).
        while unsafe { libc::sem_wait(sem) } != 0 {
            match Errno::last() {
                Errno::EINTR => signal::check()?,
                errno => return Err(Error::call("sem_wait", errno)),
            }
        }
        holders.inside();
        // SAFETY: as above; this process holds the unit it gives back.
        if unsafe { libc::sem_post(sem) } != 0 {
            return Err(Error::call("sem_post", Errno::last()));
        }
        Ok(())
    })?;
    // SAFETY: as above; every worker has ended, nobody uses it any more.
    unsafe { libc::sem_destroy(sem) };
    if holders.crowded() {
        return Err(Error::Message("a raw sem_t let two processes in".into()));
    }
    Ok(rate(total, seconds))
}

/// The words of a spinning semaphore, on one line: the value (the futex
/// word) and how many processes sleep on it.
const SEM_COUNT: usize = 0;
const SEM_SLEEPERS: usize = 4;

/// Acquire+release pairs per second of a semaphore of value 1 written
/// directly on the atomics, by `processes` processes: the `Semaphore`'s
/// floor.
///
/// ipc-core's own algorithm (`Counter::acquire_until` and `release` in
/// crates/ipc-core/src/sync/semaphore.rs) is the best this bench knows:
/// glibc's `sem_t` ([`semaphore_pairs`]) sleeps at once where this spins,
/// and loses to it as soon as processes contend. So the floor is that
/// algorithm as C would write it, without the region's header, the bound
/// of a `BoundedSemaphore`, deadlines or signal checks on the fast path:
/// a unit is taken with a compare-and-swap of the value; a process that
/// finds 0 spins by ipc-core's rule, then counts itself a sleeper and
/// sleeps on the value with `FUTEX_WAIT`; a release adds one with an
/// atomic add and, only if somebody sleeps, wakes one and counts it out
/// (so that later releases do not wake it again before it has run).
pub(crate) fn spin_semaphore_pairs(ctx: &Ctx, processes: usize) -> Result<Measure> {
    let shm = Shm::new(64)?;
    let count = shm.u32_at(SEM_COUNT);
    let sleepers = shm.u32_at(SEM_SLEEPERS);
    count.store(1, Ordering::SeqCst);
    let take = || {
        let mut value = count.load(Ordering::Relaxed);
        while value > 0 {
            match count.compare_exchange_weak(value, value - 1, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => value = now,
            }
        }
        false
    };
    let holders = Holders::new()?;
    let (total, seconds) = repeat_in_workers(ctx, processes, |_| {
        if !(take() || spin(take)) {
            // ipc-core's order: a try after the spin, then, before each
            // sleep, another (a unit released meanwhile is taken without
            // a sleep and a wake-up).
            while !take() {
                sleepers.fetch_add(1, Ordering::SeqCst);
                let slept = futex_wait(count, 0);
                if !matches!(slept, Ok(Wake::Woken)) {
                    sleepers.fetch_sub(1, Ordering::SeqCst);
                }
                slept?;
            }
        }
        holders.inside();
        count.fetch_add(1, Ordering::SeqCst);
        if sleepers.load(Ordering::SeqCst) > 0 && count.load(Ordering::SeqCst) > 0 {
            let woken = futex::wake(count, 1)?;
            if woken > 0 {
                sleepers.fetch_sub(woken as u32, Ordering::SeqCst);
            }
        }
        Ok(())
    })?;
    if count.load(Ordering::SeqCst) != 1 || holders.crowded() {
        return Err(Error::Message("a raw semaphore lost a unit".into()));
    }
    Ok(rate(total, seconds))
}

/// The words of a raw barrier: arrivals in this round on a line of their
/// own; the round (the futex word) and its sleepers on the next.
const BARRIER_COUNT: usize = 0;
const BARRIER_ROUND: usize = 64;
const BARRIER_SLEEPERS: usize = 68;

/// Rounds per second of the plainest futex barrier, by `parties`
/// processes: each arrival adds one to a count; the last resets it and
/// moves the round word on with `FUTEX_WAKE` for everybody; the others
/// sleep at once on the round word with `FUTEX_WAIT` until it moves (no
/// spinning, no robustness: a dead party leaves the others waiting). A
/// reference, not the `Barrier`'s floor: see [`spin_barrier_rounds`].
pub(crate) fn barrier_rounds(ctx: &Ctx, parties: usize) -> Result<Measure> {
    raw_barrier_rounds(ctx, parties, Wait::Futex)
}

/// Rounds per second of a barrier written directly on the atomics, by
/// `parties` processes: the `Barrier`'s floor.
///
/// The same count and round word as [`barrier_rounds`], waited for by
/// ipc-core's rule, as its `Barrier::wait` does: a party that is not the
/// last spins (ipc-core's spin, which yields the CPU every few looks, so
/// that a party still to arrive on this CPU can run), then counts itself a
/// sleeper and sleeps on the round word; the last party wakes the round
/// word only if somebody sleeps. What it leaves out is what ipc-core adds
/// for its guarantees: the robust mutex around the count (a dead party is
/// noticed, a broken round is reported), the per-party slots and the
/// outcome history.
pub(crate) fn spin_barrier_rounds(ctx: &Ctx, parties: usize) -> Result<Measure> {
    raw_barrier_rounds(ctx, parties, Wait::Spin)
}

fn raw_barrier_rounds(ctx: &Ctx, parties: usize, wait: Wait) -> Result<Measure> {
    let shm = Shm::new(2 * 64)?;
    let count = shm.u32_at(BARRIER_COUNT);
    let round = Sleepers {
        word: shm.u32_at(BARRIER_ROUND),
        count: shm.u32_at(BARRIER_SLEEPERS),
    };
    let (rounds, seconds) = rounds_in_workers(ctx, parties, || {
        let this = round.word.load(Ordering::Acquire);
        if count.fetch_add(1, Ordering::AcqRel) + 1 == parties as u32 {
            count.store(0, Ordering::Relaxed);
            round.word.store(this.wrapping_add(1), Ordering::SeqCst);
            round.wake(u32::MAX);
            Ok(())
        } else {
            round.wait(wait, || round.word.load(Ordering::Acquire) != this)
        }
    })?;
    Ok(rate(rounds, seconds))
}

/// The round trip of a flag each way, the `Event` ping-pong's floor: two
/// words on lines of their own (and their sleepers on a third). Ping
/// stores the round's number into the first and waits for it in the
/// second; pong waits for it in the first and stores it into the second.
/// Each waits by ipc-core's rule and wakes the other only if it sleeps.
/// A number that counts up, instead of a flag set and cleared, spares
/// each side the store that clears it.
pub(crate) fn flag_round_trip(ctx: &Ctx, _processes: usize) -> Result<Measure> {
    const STOP: u32 = u32::MAX;
    let shm = Shm::new(3 * 64)?;
    let there = Sleepers {
        word: shm.u32_at(0),
        count: shm.u32_at(128),
    };
    let back = Sleepers {
        word: shm.u32_at(64),
        count: shm.u32_at(132),
    };
    let partner = ctx.partner("pong", || {
        let mut round = 1_u32;
        loop {
            let mut seen = 0;
            there.wait(Wait::Spin, || {
                seen = there.word.load(Ordering::Acquire);
                seen == round || seen == STOP
            })?;
            if seen == STOP {
                return Ok(());
            }
            back.word.store(round, Ordering::SeqCst);
            back.wake(1);
            round += 1;
        }
    })?;
    let mut round = 1_u32;
    let measured = ping_loop(ctx.duration, || {
        there.word.store(round, Ordering::SeqCst);
        there.wake(1);
        back.wait(Wait::Spin, || back.word.load(Ordering::Acquire) == round)?;
        round += 1;
        Ok(())
    });
    there.word.store(STOP, Ordering::SeqCst);
    there.wake(1);
    partner.finish(ctx)?;
    measured
}

/// Hand-overs per second of a token passed round a ring of `processes`
/// processes, each waiting for a flag of its own (a word on a line of its
/// own) by ipc-core's rule, clearing it and setting the next process's
/// flag (waking it only if it sleeps): the floor of the `Event` ring of
/// the scaling curves, as the flag ping-pong is of the `Event` ping-pong.
pub(crate) fn flag_ring(ctx: &Ctx, processes: usize) -> Result<Measure> {
    let shm = Shm::new(processes * 64)?;
    let flag = |i: usize| Sleepers {
        word: shm.u32_at(i * 64),
        count: shm.u32_at(i * 64 + 4),
    };
    let (passes, seconds) = token_ring(
        ctx,
        processes,
        |i| {
            let mine = flag(i);
            mine.wait(Wait::Spin, || mine.word.load(Ordering::Acquire) != 0)?;
            mine.word.store(0, Ordering::Relaxed);
            Ok(())
        },
        |i| {
            let next = flag(i);
            next.word.store(1, Ordering::SeqCst);
            next.wake(1);
            Ok(())
        },
    )?;
    Ok(rate(passes, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_hold_about_8_mib() {
        assert_eq!(ring_capacity(8), 1024);
        assert_eq!(ring_capacity(64 << 10), 127);
        assert_eq!(ring_capacity(1 << 20), 8);
    }

    #[test]
    fn a_ring_carries_messages_then_the_end_in_one_process() {
        let ring = Ring::new(16, Wait::Futex).unwrap();
        let (mut p, mut c) = (Producer::default(), Consumer::default());
        let mut buf = [0_u8; 16];
        for _round in 0..3 {
            for i in 0..ring.capacity {
                ring.put(&mut p, 4, &i.to_le_bytes()).unwrap();
            }
            for i in 0..ring.capacity {
                assert_eq!(ring.get(&mut c, &mut buf).unwrap(), Some(4));
                assert_eq!(buf[..4], i.to_le_bytes());
            }
        }
        ring.put(&mut p, END, &[]).unwrap();
        assert_eq!(ring.get(&mut c, &mut buf).unwrap(), None);
        assert_eq!(c.head, p.tail - 1);
    }

    /// Two threads (the test harness must not fork) stream through a
    /// small ring, each side waiting for the other by both rules: every
    /// message arrives, in order, past many laps and sleeps.
    #[test]
    fn a_ring_streams_between_two_threads_by_both_rules() {
        for wait in [Wait::Spin, Wait::Futex] {
            let ring = Ring::new(16, wait).unwrap();
            assert_eq!(ring.capacity, 1024);
            let count = 20_000_u32;
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut p = Producer::default();
                    for i in 0..count {
                        ring.put(&mut p, 4, &i.to_le_bytes()).unwrap();
                    }
                    ring.put(&mut p, END, &[]).unwrap();
                });
                let mut c = Consumer::default();
                let mut buf = vec![0_u8; 16];
                let mut next = 0_u32;
                while let Some(n) = ring.get(&mut c, &mut buf).unwrap() {
                    assert_eq!(n, 4);
                    assert_eq!(buf[..4], next.to_le_bytes(), "{wait:?}");
                    next += 1;
                }
                assert_eq!(next, count, "{wait:?}");
            });
        }
    }

    /// Two producers and two consumers (threads) through a small
    /// many-to-many ring: every message arrives once, then the end.
    #[test]
    fn the_mpmc_ring_delivers_every_message_once() {
        let ring = Mpmc::new(16).unwrap();
        let per_producer = 20_000_u32;
        let seen = std::sync::Mutex::new(vec![0_u8; 2 * per_producer as usize]);
        std::thread::scope(|s| {
            let producers: Vec<_> = (0..2_u32)
                .map(|p| {
                    let ring = &ring;
                    s.spawn(move || {
                        for i in 0..per_producer {
                            ring.put(&(p * per_producer + i).to_le_bytes()).unwrap();
                        }
                    })
                })
                .collect();
            for _ in 0..2 {
                s.spawn(|| {
                    let mut buf = [0_u8; 16];
                    while let Some(n) = ring.get(&mut buf).unwrap() {
                        assert_eq!(n, 4);
                        let i = u32::from_le_bytes(buf[..4].try_into().unwrap());
                        seen.lock().unwrap()[i as usize] += 1;
                    }
                });
            }
            for p in producers {
                p.join().unwrap();
            }
            ring.close();
        });
        assert!(seen.into_inner().unwrap().iter().all(|&n| n == 1));
    }

    #[test]
    fn a_spin_ends_once_ready_or_after_its_bound() {
        let start = std::time::Instant::now();
        assert!(!spin(|| false));
        assert!(start.elapsed() >= SPIN);
        let mut looks = 0;
        assert!(spin(|| {
            looks += 1;
            looks == 40
        }));
        assert_eq!(looks, 40);
    }
}
