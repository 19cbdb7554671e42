//! The raw floors: each mechanism written directly on the system calls,
//! with nothing ipc-core adds (no framing, no write lock, no encoding, no
//! signal checks on the fast path), so that each ipc-core figure can be
//! held to what the kernel and the hardware allow.
//!
//! This is the one module of the bench, and the one place outside
//! ipc-core, with `unsafe` code: a floor has to be raw. Forking still goes
//! through `ipc_core::Process`.
//!
//! | floor | per message |
//! | --- | --- |
//! | pipe, socketpair | `write(2)`, `read(2)`; a stream is read in 1 MiB chunks |
//! | POSIX message queue | `mq_send(3)`, `mq_receive(3)` |
//! | shared memory, spinning | a copy into a mailbox or a ring slot and a release store; the other side spins on the word |
//! | shared memory, futex | the same, but a waiting side sleeps at once in `FUTEX_WAIT` and is woken with `FUTEX_WAKE` |
//! | robust mutex | `pthread_mutex_lock`, a load and a store, `pthread_mutex_unlock` |
//! | atomic add | one `lock xadd` |
//! | semaphore | `sem_wait(3)`, `sem_post(3)` on a process-shared `sem_t` |
//! | flag ping-pong | a word each way, the waiting side spinning on it (the shared-memory round trip with no message) |
//! | barrier | an atomic count of arrivals; the waiting parties sleep at once in `FUTEX_WAIT` on a round word |

use std::os::fd::{AsFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use ipc_core::sync::futex::{self, Wake};
use ipc_core::{Error, IpcName, Result, SharedMemory, signal};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::mqueue::{
    MQ_OFlag, MqAttr, MqdT, mq_attr_member_t, mq_open, mq_receive, mq_send, mq_unlink,
};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::sys::stat::Mode;

use crate::measure::{
    Ctx, Gate, ping_loop, rate, receive_all, repeat_in_workers, rounds_in_workers, send_for,
};
use crate::model::Measure;

/// The pipe size every pipe of the bench gets, raw or not (`F_SETPIPE_SZ`).
pub(crate) const PIPE_SIZE: usize = 1 << 20;

/// How much a stream's receiver asks for per `read(2)`.
const CHUNK: usize = 1 << 20;

/// A word value that no round trip reaches: "stop".
const STOP: u32 = u32::MAX;

/// A ring slot's length word that means "the stream ends here".
const END: u32 = u32::MAX;

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
        // time, publishing it with a release store and taking it with an
        // acquire load.
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
/// processes), at most 50 ms, so that the signal flag is seen. The call is
/// ipc-core's thin wrapper of the system call: the same `futex(2)`.
fn futex_wait(word: &AtomicU32, expected: u32) -> Result<()> {
    match futex::wait(word, expected, Duration::from_millis(50))? {
        Wake::Interrupted => signal::check(),
        Wake::Woken | Wake::Changed | Wake::TimedOut => Ok(()),
    }
}

/// Wakes one process sleeping on `word` (`FUTEX_WAKE`).
fn futex_wake(word: &AtomicU32) {
    let _ = futex::wake(word, 1);
}

/// Spins until `ready`; after a few thousand spins it yields the CPU at
/// every look (on one core the other side cannot run otherwise), and then
/// also looks at the signal flag.
fn spin_until(mut ready: impl FnMut() -> bool) -> Result<()> {
    let mut spins = 0_u32;
    while !ready() {
        spins = spins.wrapping_add(1);
        if spins < 2000 {
            std::hint::spin_loop();
        } else {
            nix::sched::sched_yield().map_err(|errno| Error::call("sched_yield", errno))?;
            if spins.is_multiple_of(256) {
                signal::check()?;
            }
        }
    }
    Ok(())
}

/// How a side that must wait for the other does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Spins on the word: no system call, but a CPU busy meanwhile.
    Spin,
    /// Sleeps in `FUTEX_WAIT` at once and is woken by `FUTEX_WAKE`.
    Futex,
}

impl Wait {
    /// Waits until `word` holds something `want` accepts; returns it.
    fn until(self, word: &AtomicU32, want: impl Fn(u32) -> bool) -> Result<u32> {
        let mut seen = word.load(Ordering::Acquire);
        match self {
            Wait::Spin => spin_until(|| {
                seen = word.load(Ordering::Acquire);
                want(seen)
            })?,
            Wait::Futex => {
                while !want(seen) {
                    futex_wait(word, seen)?;
                    seen = word.load(Ordering::Acquire);
                }
            }
        }
        Ok(seen)
    }

    /// Stores `value` into `word` for the other side (and wakes it).
    fn publish(self, word: &AtomicU32, value: u32) {
        word.store(value, Ordering::Release);
        if self == Wait::Futex {
            futex_wake(word);
        }
    }
}

// ---------------------------------------------------------------------------
// Shared memory: round trips through two mailboxes.

/// Where a mailbox's message starts: right after its sequence word, on the
/// same cache line, so that a message of up to 56 bytes
/// crosses between the cores as one line, the line the other side spins
/// on. (With the message on a line of its own, each direction moved two
/// lines one after the other: 111 ns for an 8-byte round trip on the AMD
/// machine where a bare C flag ping-pong took 65 to 70 ns.)
const MAILBOX_DATA: usize = 8;

/// Ping-pong through two mailboxes in shared memory, each a sequence word
/// and the message behind it, on a line of their own (the next mailbox
/// starts on a new line). Ping writes box A and publishes its number; pong
/// waits for it, copies it into box B and publishes the same number back.
pub(crate) fn shm_round_trip(ctx: &Ctx, size: usize, wait: Wait) -> Result<Measure> {
    let mailbox = (MAILBOX_DATA + size).next_multiple_of(64);
    let shm = Shm::new(2 * mailbox)?;
    let (a, b) = (0, mailbox);
    let partner = ctx.partner("pong", || {
        let mut buf = vec![0_u8; size];
        let mut seq = 1_u32;
        loop {
            if wait.until(shm.u32_at(a), |v| v == seq || v == STOP)? == STOP {
                return Ok(());
            }
            shm.read(a + MAILBOX_DATA, &mut buf);
            shm.write(b + MAILBOX_DATA, &buf);
            wait.publish(shm.u32_at(b), seq);
            seq += 1;
        }
    })?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size];
    let mut seq = 1_u32;
    let measured = ping_loop(ctx.duration, || {
        shm.write(a + MAILBOX_DATA, &msg);
        wait.publish(shm.u32_at(a), seq);
        wait.until(shm.u32_at(b), |v| v == seq)?;
        shm.read(b + MAILBOX_DATA, &mut buf);
        seq += 1;
        Ok(())
    });
    wait.publish(shm.u32_at(a), STOP);
    partner.finish(ctx)?;
    measured
}

// ---------------------------------------------------------------------------
// Shared memory: a one-producer, one-consumer ring.

/// The ring's header: the count of messages put (`TAIL`) and taken
/// (`HEAD`), each on its own line beside the flag that says its reader is
/// asleep; the slots follow.
const TAIL: usize = 0;
const GETTER_SLEEPS: usize = 64;
const HEAD: usize = 128;
const PUTTER_SLEEPS: usize = 192;
const SLOTS: usize = 256;

/// How many slots a ring (or a Queue) of `size`-byte messages gets: about
/// 8 MiB, between 8 and 1024 slots.
pub(crate) fn ring_capacity(size: usize) -> usize {
    ((8 << 20) / (size + 8)).clamp(8, 1024)
}

/// A single-producer, single-consumer ring of fixed-size slots, each a
/// length word (or [`END`]) and the message. Counts are 32-bit and wrap;
/// the capacity is far below 2^31.
struct Ring {
    shm: Shm,
    capacity: u32,
    stride: usize,
    wait: Wait,
}

impl Ring {
    fn new(size: usize, wait: Wait) -> Result<Ring> {
        let capacity = ring_capacity(size);
        let stride = (8 + size).next_multiple_of(64);
        Ok(Ring {
            shm: Shm::new(SLOTS + capacity * stride)?,
            capacity: capacity as u32,
            stride,
            wait,
        })
    }

    fn slot(&self, index: u32) -> usize {
        SLOTS + (index % self.capacity) as usize * self.stride
    }

    /// Waits until the word at `at` differs from `unchanged`. With futexes:
    /// says it sleeps in `sleeps`, looks once more (the other side stores
    /// its word, then reads `sleeps`; both SeqCst, so one of the two sees
    /// the other), then sleeps on the word.
    fn wait_change(&self, at: usize, sleeps: usize, unchanged: u32) -> Result<u32> {
        let word = self.shm.u32_at(at);
        match self.wait {
            Wait::Spin => Wait::Spin.until(word, |v| v != unchanged),
            Wait::Futex => loop {
                let now = word.load(Ordering::Acquire);
                if now != unchanged {
                    return Ok(now);
                }
                let flag = self.shm.u32_at(sleeps);
                flag.store(1, Ordering::SeqCst);
                let now = word.load(Ordering::SeqCst);
                if now == unchanged {
                    futex_wait(word, unchanged)?;
                }
                flag.store(0, Ordering::Relaxed);
            },
        }
    }

    /// Stores the word at `at`, then wakes the other side if it sleeps.
    fn advance(&self, at: usize, sleeps: usize, value: u32) {
        let word = self.shm.u32_at(at);
        word.store(value, Ordering::SeqCst);
        if self.wait == Wait::Futex && self.shm.u32_at(sleeps).load(Ordering::SeqCst) != 0 {
            futex_wake(word);
        }
    }

    /// The producer: puts `msg` for `duration`, then the end mark.
    fn produce(&self, ctx: &Ctx, msg: &[u8]) -> Result<()> {
        let mut tail = 0_u32;
        let mut head = 0_u32;
        let mut put = |len: u32, data: &[u8]| -> Result<()> {
            if tail.wrapping_sub(head) >= self.capacity {
                head = self.wait_change(HEAD, PUTTER_SLEEPS, head)?;
            }
            let slot = self.slot(tail);
            self.shm.u32_at(slot).store(len, Ordering::Relaxed);
            self.shm.write(slot + 8, data);
            tail = tail.wrapping_add(1);
            self.advance(TAIL, GETTER_SLEEPS, tail);
            Ok(())
        };
        send_for(ctx.duration, msg.len(), || put(msg.len() as u32, msg))?;
        put(END, &[])
    }

    /// The consumer: takes messages until the end mark; returns the bytes
    /// of each.
    fn consume(&self, buf: &mut [u8], head: &mut u32, tail: &mut u32) -> Result<Option<usize>> {
        if *head == *tail {
            *tail = self.wait_change(TAIL, GETTER_SLEEPS, *tail)?;
        }
        let slot = self.slot(*head);
        let len = self.shm.u32_at(slot).load(Ordering::Relaxed);
        if len == END {
            return Ok(None);
        }
        let len = len as usize;
        self.shm.read(slot + 8, &mut buf[..len]);
        *head = head.wrapping_add(1);
        self.advance(HEAD, PUTTER_SLEEPS, *head);
        Ok(Some(len))
    }
}

/// One-way throughput through a shared-memory ring.
pub(crate) fn shm_throughput(ctx: &Ctx, size: usize, wait: Wait) -> Result<Measure> {
    let ring = Ring::new(size, wait)?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("producer", || {
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        ring.produce(ctx, &msg)
    })?;
    let mut buf = vec![0_u8; size];
    let (mut head, mut tail) = (0, 0);
    let measured = receive_all(&gate, size, || ring.consume(&mut buf, &mut head, &mut tail));
    partner.finish(ctx)?;
    measured
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

/// Which kernel stream carries the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Pipe,
    Socketpair,
}

/// Ping-pong over two pipes, or one socket pair.
pub(crate) fn stream_round_trip(ctx: &Ctx, size: usize, kind: Stream) -> Result<Measure> {
    // (what ping writes, what pong reads, what pong writes, what ping reads)
    let (ping_w, pong_r, pong_w, ping_r) = match kind {
        Stream::Pipe => {
            let (there_r, there_w) = pipe()?;
            let (back_r, back_w) = pipe()?;
            (there_w, there_r, back_w, back_r)
        }
        Stream::Socketpair => {
            let (one, two) = stream_socketpair()?;
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
/// reads the stream in 1 MiB chunks.
pub(crate) fn stream_throughput(ctx: &Ctx, size: usize, kind: Stream) -> Result<Measure> {
    let (read, write) = match kind {
        Stream::Pipe => pipe()?,
        Stream::Socketpair => stream_socketpair()?,
    };
    let gate = Gate::new(1)?;
    let mut read_end = Some(read);
    let partner = ctx.partner("writer", || {
        drop(read_end.take());
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || write_all(&write, &msg))?;
        Ok(())
    })?;
    drop(write);
    let read = read_end.take().expect("the reading end");
    let mut buf = vec![0_u8; CHUNK];
    let measured = receive_all(&gate, size, || read_some(&read, &mut buf));
    drop(read);
    partner.finish(ctx)?;
    measured
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
pub(crate) fn increments(ctx: &Ctx, processes: usize, locked: bool) -> Result<Measure> {
    let shm = Shm::new(2 * COUNTER)?;
    let mutex = if locked {
        Some(init_mutex(&shm)?)
    } else {
        None
    };
    let counter = shm.u64_at(COUNTER);
    let (total, seconds) = repeat_in_workers(ctx, processes, |_| match mutex {
        Some(mutex) => {
            // SAFETY: `mutex` was initialised by `init_mutex` in memory
            // mapped for as long as `shm` lives, which is the whole
            // measurement in every process.
            let rc = unsafe { libc::pthread_mutex_lock(mutex) };
            if rc == libc::EOWNERDEAD {
                // SAFETY: as above; we hold it, and a counter of any
                // value is consistent.
                unsafe { libc::pthread_mutex_consistent(mutex) };
            } else if rc != 0 {
                return Err(Error::call("pthread_mutex_lock", Errno::from_raw(rc)));
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
// Synchronisation: a semaphore and a barrier.

/// Acquire+release pairs per second of a process-shared POSIX semaphore
/// (`sem_init(3)` with `pshared`, value 1) by `processes` processes:
/// `sem_wait(3)` then `sem_post(3)`, the C library's semaphore, which is
/// also what Python's `multiprocessing.Semaphore` is made of.
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
    let (total, seconds) = repeat_in_workers(ctx, processes, |_| {
        // SAFETY: `sem` was initialised above and stays mapped (see there).
        while unsafe { libc::sem_wait(sem) } != 0 {
            match Errno::last() {
                Errno::EINTR => signal::check()?,
                errno => return Err(Error::call("sem_wait", errno)),
            }
        }
        // SAFETY: as above; this process holds the unit it gives back.
        if unsafe { libc::sem_post(sem) } != 0 {
            return Err(Error::call("sem_post", Errno::last()));
        }
        Ok(())
    })?;
    // SAFETY: as above; every worker has ended, nobody uses it any more.
    unsafe { libc::sem_destroy(sem) };
    Ok(rate(total, seconds))
}

/// The words of a raw barrier: arrivals in this round, and the round.
const BARRIER_COUNT: usize = 0;
const BARRIER_ROUND: usize = 64;

/// Rounds per second of the plainest futex barrier, by `parties`
/// processes: each arrival adds one to a count; the last resets it and
/// moves the round word on with `FUTEX_WAKE` for everybody; the others
/// sleep at once on the round word with `FUTEX_WAIT` until it moves (no
/// spinning, no robustness: a dead party leaves the others waiting).
pub(crate) fn barrier_rounds(ctx: &Ctx, parties: usize) -> Result<Measure> {
    let shm = Shm::new(2 * 64)?;
    let count = shm.u32_at(BARRIER_COUNT);
    let round = shm.u32_at(BARRIER_ROUND);
    let (rounds, seconds) = rounds_in_workers(ctx, parties, || {
        let this = round.load(Ordering::Acquire);
        if count.fetch_add(1, Ordering::AcqRel) + 1 == parties as u32 {
            count.store(0, Ordering::Relaxed);
            round.store(this.wrapping_add(1), Ordering::Release);
            let _ = futex::wake(round, u32::MAX);
        } else {
            while round.load(Ordering::Acquire) == this {
                futex_wait(round, this)?;
            }
        }
        Ok(())
    })?;
    Ok(rate(rounds, seconds))
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
        let (mut head, mut tail) = (0_u32, 0_u32);
        let mut put = 0_u32;
        let mut buf = [0_u8; 16];
        for _round in 0..3 {
            for i in 0..ring.capacity {
                let slot = ring.slot(put);
                ring.shm.u32_at(slot).store(4, Ordering::Relaxed);
                ring.shm.write(slot + 8, &i.to_le_bytes());
                put += 1;
                ring.advance(TAIL, GETTER_SLEEPS, put);
            }
            for i in 0..ring.capacity {
                let got = ring.consume(&mut buf, &mut head, &mut tail).unwrap();
                assert_eq!(got, Some(4));
                assert_eq!(buf[..4], i.to_le_bytes());
            }
        }
        let slot = ring.slot(put);
        ring.shm.u32_at(slot).store(END, Ordering::Relaxed);
        ring.advance(TAIL, GETTER_SLEEPS, put + 1);
        assert_eq!(ring.consume(&mut buf, &mut head, &mut tail).unwrap(), None);
        assert_eq!(head, put);
    }
}
