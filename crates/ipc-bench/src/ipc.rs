//! The ipc-core mechanisms, measured through their public API only, the way
//! an experiment uses them, in the same shapes as their raw floors.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ipc_core::blocking::Deadline;
use ipc_core::connection::{Address, Client, Listener};
use ipc_core::message::Bytes;
use ipc_core::mqueue::MessageQueue;
use ipc_core::pipe::{self, Builder, Connection, Receiver, Sender};
use ipc_core::{Barrier, Error, Event, IpcName, Queue, RawValue, Result, Semaphore, Value, fifo};

use crate::measure::{
    Ctx, Gate, Holders, echo, ping_loop, rate, receive_all, repeat_in_workers, rounds_in_workers,
    send_for, stream_in_workers, token_ring,
};
use crate::model::Measure;
use crate::raw::{PIPE_SIZE, ring_capacity, set_pipe_size};

/// A builder whose frames take `size`-byte payloads, on pipes raised to the
/// same size as the raw floor's.
fn builder(size: usize) -> Builder {
    Builder::new().limit(size.max(pipe::HEADER_LEN) + 64)
}

/// The receiving side of a stream of frames: a simplex pipe's
/// [`Receiver`], a duplex [`Connection`] or a side's [`Simplex`] pair.
trait FrameReader {
    fn recv_bytes_into(&mut self, buf: &mut Vec<u8>) -> Result<usize>;
    /// Closes the receiving side (the whole end of a `Connection`).
    fn close(&mut self);
}

/// The sending side of a stream of frames: a simplex pipe's [`Sender`], a
/// duplex [`Connection`] or a side's [`Simplex`] pair.
trait FrameWriter {
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()>;
    /// Closes the sending side (the whole end of a `Connection`).
    fn close(&mut self);
}

/// `impl FrameReader` (`reader`) or `impl FrameWriter` (`writer`) for
/// `$t`, each method calling the method of the same name on the value
/// itself (its inherent method) or on its field `$field` (`via rx`): the
/// five impls differ only in type, side and field.
macro_rules! frames {
    ($t:ty: reader $(via $field:ident)?) => {
        impl FrameReader for $t {
            fn recv_bytes_into(&mut self, buf: &mut Vec<u8>) -> Result<usize> {
                self$(.$field)?.recv_bytes_into(buf)
            }
            fn close(&mut self) {
                self$(.$field)?.close();
            }
        }
    };
    ($t:ty: writer $(via $field:ident)?) => {
        impl FrameWriter for $t {
            fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
                self$(.$field)?.send_bytes(bytes)
            }
            fn close(&mut self) {
                self$(.$field)?.close();
            }
        }
    };
}

frames!(Receiver<Bytes>: reader);
frames!(Sender<Bytes>: writer);
frames!(Connection<Bytes>: reader);
frames!(Connection<Bytes>: writer);
frames!(Simplex: reader via rx);
frames!(Simplex: writer via tx);

/// A side's two simplex pipes: it receives on `rx` and sends on `tx`.
struct Simplex {
    rx: Receiver<Bytes>,
    tx: Sender<Bytes>,
}

/// Closes both sides of `end`.
fn close_both<F: FrameReader + FrameWriter>(end: &mut F) {
    FrameReader::close(end);
    FrameWriter::close(end);
}

/// What a receive got, or `None` at the end of the stream.
fn until_end<T>(received: Result<T>) -> Result<Option<T>> {
    match received {
        Ok(got) => Ok(Some(got)),
        Err(Error::Disconnected) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Ping-pong over two simplex pipes (`send_bytes`, `recv_bytes_into`).
pub(crate) fn pipe_round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (there_rx, there_tx) = builder(size).pipe_size(PIPE_SIZE).simplex::<Bytes>()?;
    let (back_rx, back_tx) = builder(size).pipe_size(PIPE_SIZE).simplex::<Bytes>()?;
    let ping = Simplex {
        rx: back_rx,
        tx: there_tx,
    };
    let pong = Simplex {
        rx: there_rx,
        tx: back_tx,
    };
    frames_round_trip(ctx, size, ping, pong)
}

/// Ping-pong over one duplex connection (`socketpair(2)`).
pub(crate) fn duplex_round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (ping, pong) = builder(size).duplex::<Bytes, Bytes>()?;
    frames_round_trip(ctx, size, ping, pong)
}

/// Ping-pong of `size`-byte frames: the parent sends on `ping`, the
/// partner sends each frame back on `pong`.
fn frames_round_trip<F: FrameReader + FrameWriter>(
    ctx: &Ctx,
    size: usize,
    mut ping: F,
    mut pong: F,
) -> Result<Measure> {
    let partner = ctx.partner("pong", || {
        close_both(&mut ping);
        let mut buf = Vec::new();
        while until_end(pong.recv_bytes_into(&mut buf))?.is_some() {
            pong.send_bytes(&buf)?;
        }
        Ok(())
    })?;
    close_both(&mut pong);
    let msg = vec![7_u8; size];
    let mut buf = Vec::new();
    let measured = ping_loop(ctx.duration, || {
        ping.send_bytes(&msg)?;
        ping.recv_bytes_into(&mut buf).map(drop)
    });
    FrameWriter::close(&mut ping);
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through one simplex pipe.
pub(crate) fn pipe_throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (rx, tx) = builder(size).pipe_size(PIPE_SIZE).simplex::<Bytes>()?;
    frames_throughput(ctx, size, rx, tx)
}

/// One-way throughput through a duplex connection.
pub(crate) fn duplex_throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let (rx, tx) = builder(size).duplex::<Bytes, Bytes>()?;
    frames_throughput(ctx, size, rx, tx)
}

/// One-way throughput of `size`-byte frames: the partner sends on `tx` for
/// the run's duration, the parent receives on `rx` to the end.
fn frames_throughput(
    ctx: &Ctx,
    size: usize,
    mut rx: impl FrameReader,
    mut tx: impl FrameWriter,
) -> Result<Measure> {
    let gate = Gate::new(1)?;
    let partner = ctx.partner("writer", || {
        rx.close();
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || tx.send_bytes(&msg))?;
        Ok(())
    })?;
    tx.close();
    let mut buf = Vec::new();
    let measured = receive_all(&gate, size, || until_end(rx.recv_bytes_into(&mut buf)));
    partner.finish(ctx)?;
    measured
}

/// Ping-pong over two FIFOs (`mkfifo(3)`), raised to the raw pipe's size;
/// each side reads exactly one message's bytes.
pub(crate) fn fifo_round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let there = fifo::Fifo::create(fifo::unique_path("bench-there")?)?;
    let back = fifo::Fifo::create(fifo::unique_path("bench-back")?)?;
    let partner = ctx.partner("pong", || {
        // Opens in the parent's order, so that neither waits for ever.
        let mut rx = fifo::FifoReader::open(there.path())?;
        let mut tx = fifo::FifoWriter::open(back.path())?;
        let mut buf = vec![0_u8; size];
        while read_exact(&mut rx, &mut buf)? {
            tx.write_all(&buf)?;
        }
        Ok(())
    })?;
    let mut tx = there.open_write()?;
    let mut rx = back.open_read()?;
    set_pipe_size(&tx)?;
    set_pipe_size(&rx)?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size];
    let measured = ping_loop(ctx.duration, || {
        tx.write_all(&msg)?;
        if read_exact(&mut rx, &mut buf)? {
            Ok(())
        } else {
            Err(Error::Disconnected)
        }
    });
    drop(tx);
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through a FIFO, read in 1 MiB chunks.
pub(crate) fn fifo_throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let path = fifo::Fifo::create(fifo::unique_path("bench-stream")?)?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("writer", || {
        let mut tx = fifo::FifoWriter::open(path.path())?;
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || tx.write_all(&msg))?;
        Ok(())
    })?;
    let mut rx = path.open_read()?;
    set_pipe_size(&rx)?;
    let mut buf = vec![0_u8; 1 << 20];
    let measured = receive_all(&gate, size, || {
        let n = rx.read(&mut buf)?;
        Ok((n > 0).then_some(n))
    });
    partner.finish(ctx)?;
    measured
}

/// Reads exactly `buf.len()` bytes; false at the end of the stream.
fn read_exact(rx: &mut fifo::FifoReader, buf: &mut [u8]) -> Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match rx.read(&mut buf[got..])? {
            0 => return Ok(false),
            n => got += n,
        }
    }
    Ok(true)
}

/// The capacity the raw mq floor gets too: the system's `msg_max`.
fn mq_capacity() -> Result<usize> {
    Ok(ipc_core::mqueue::Limits::read()?.msg_max)
}

/// Ping-pong over two message queues; an empty message says "stop".
pub(crate) fn mqueue_round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let capacity = mq_capacity()?;
    let there = MessageQueue::create(&IpcName::unique("bench-there")?, capacity, size.max(1))?;
    let back = MessageQueue::create(&IpcName::unique("bench-back")?, capacity, size.max(1))?;
    let partner = ctx.partner("pong", || {
        echo(
            &mut vec![0_u8; size.max(1)],
            |buf| Ok(there.receive(buf)?.0),
            |msg| back.send(msg, 0),
        )
    })?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size.max(1)];
    let measured = ping_loop(ctx.duration, || {
        there.send(&msg, 0)?;
        back.receive(&mut buf).map(drop)
    });
    there.send(&[], 0)?;
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through one message queue.
pub(crate) fn mqueue_throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let q = MessageQueue::create(
        &IpcName::unique("bench-stream")?,
        mq_capacity()?,
        size.max(1),
    )?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("sender", || {
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || q.send(&msg, 0))?;
        q.send(&[], 0)
    })?;
    let mut buf = vec![0_u8; size.max(1)];
    let measured = receive_all(&gate, size, || {
        let (n, _) = q.receive(&mut buf)?;
        Ok((n > 0).then_some(n))
    });
    partner.finish(ctx)?;
    measured
}

/// The encoded size of a `Bytes` of `size` bytes: its count, then the bytes.
fn encoded(size: usize) -> usize {
    size + 4
}

/// Ping-pong over two Queues (one each way), both sides running.
pub(crate) fn queue_round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let there = Queue::<Bytes>::bounded(4, encoded(size))?;
    let back = Queue::<Bytes>::bounded(4, encoded(size))?;
    let partner = ctx.partner("pong", || {
        let mut msg = Bytes::default();
        while until_end(there.get_into(&mut msg))?.is_some() {
            back.put(&msg)?;
        }
        Ok(())
    })?;
    let msg = Bytes(vec![7_u8; size]);
    let mut answer = Bytes::default();
    let measured = ping_loop(ctx.duration, || {
        there.put(&msg)?;
        back.get_into(&mut answer)
    });
    there.close()?;
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through a Queue: one producer, one consumer.
pub(crate) fn queue_throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let q = Queue::<Bytes>::bounded(ring_capacity(size), encoded(size))?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("producer", || {
        let msg = Bytes(vec![7_u8; size]);
        gate.arrive(0)?;
        send_for(ctx.duration, size, || q.put(&msg))?;
        q.close()
    })?;
    // Into one buffer, as the floor's receiver copies into its own.
    let mut msg = Bytes::default();
    let measured = receive_all(&gate, size, || {
        until_end(q.get_into(&mut msg)).map(|got| got.map(|()| msg.0.len()))
    });
    partner.finish(ctx)?;
    measured
}

/// Ping-pong over two Queues through the zero-copy path: ping writes
/// its message into a claimed slot and commits it; pong borrows it with
/// `get_ref` and copies it straight into a slot claimed on the way back;
/// ping borrows the answer and copies it out, as the raw floor does.
pub(crate) fn queue_zero_copy_round_trip(ctx: &Ctx, size: usize) -> Result<Measure> {
    let there = Queue::<Bytes>::bounded(4, size)?;
    let back = Queue::<Bytes>::bounded(4, size)?;
    let partner = ctx.partner("pong", || {
        loop {
            let msg = match there.get_ref() {
                Ok(msg) => msg,
                Err(Error::Disconnected) => return Ok(()),
                Err(error) => return Err(error),
            };
            let mut claim = back.claim()?;
            claim.bytes_mut()[..msg.len()].copy_from_slice(&msg);
            claim.commit(msg.len())?;
        }
    })?;
    let msg = vec![7_u8; size];
    let mut buf = vec![0_u8; size];
    let measured = ping_loop(ctx.duration, || {
        let mut claim = there.claim()?;
        claim.bytes_mut()[..size].copy_from_slice(&msg);
        claim.commit(size)?;
        let answer = back.get_ref()?;
        buf[..answer.len()].copy_from_slice(&answer);
        Ok(())
    });
    there.close()?;
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through a Queue's zero-copy path: the producer
/// writes each message into a claimed slot and commits it, the consumer
/// borrows it and copies it out (the raw floor's one copy in, one out).
pub(crate) fn queue_zero_copy_throughput(ctx: &Ctx, size: usize) -> Result<Measure> {
    let q = Queue::<Bytes>::bounded(ring_capacity(size), size)?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("producer", || {
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || {
            let mut claim = q.claim()?;
            claim.bytes_mut()[..size].copy_from_slice(&msg);
            claim.commit(size)
        })?;
        q.close()
    })?;
    let mut buf = vec![0_u8; size];
    let measured = receive_all(&gate, size, || match q.get_ref() {
        Ok(msg) => {
            buf[..msg.len()].copy_from_slice(&msg);
            Ok(Some(msg.len()))
        }
        Err(Error::Disconnected) => Ok(None),
        Err(error) => Err(error),
    });
    partner.finish(ctx)?;
    measured
}

/// Increments per second of one `Value` by `processes` processes, each
/// `update(|x| x + 1)` taking its lock.
pub(crate) fn value_increments(ctx: &Ctx, processes: usize) -> Result<Measure> {
    let value = Value::new(0_u64)?;
    let (total, seconds) =
        repeat_in_workers(ctx, processes, |_| value.update(|x| x + 1).map(drop))?;
    let got = value.get()?;
    if got != total {
        log::error!(target: "ipc-bench", "the Value reads {got} after {total} increments");
        return Err(Error::Message("a locked Value lost updates".into()));
    }
    Ok(rate(total, seconds))
}

/// Acquire+release pairs per second of one `Semaphore(1)` by `processes`
/// processes, each `acquire()` then `release()`, again and again; a
/// process-shared count of the holders checks that there is never more
/// than one.
pub(crate) fn semaphore_pairs(ctx: &Ctx, processes: usize) -> Result<Measure> {
    let sem = Semaphore::new(1)?;
    let holders = Holders::new()?;
    let (total, seconds) = repeat_in_workers(ctx, processes, |_| {
        sem.acquire()?;
        holders.inside();
        sem.release()
    })?;
    if holders.crowded() || sem.value() != 1 {
        return Err(Error::Message(
            "a Semaphore(1) let two processes in at once".into(),
        ));
    }
    Ok(rate(total, seconds))
}

/// Ping-pong through two `Event`s: ping sets the first and waits for the
/// second; pong waits for the first, clears it and sets the second, which
/// ping clears before the next round trip.
pub(crate) fn event_round_trip(ctx: &Ctx, _processes: usize) -> Result<Measure> {
    let there = Event::new()?;
    let back = Event::new()?;
    let stop = RawValue::<u32>::new(0)?;
    let partner = ctx.partner("pong", || {
        loop {
            there.wait()?;
            there.clear();
            if stop.get() != 0 {
                return Ok(());
            }
            back.set()?;
        }
    })?;
    let measured = ping_loop(ctx.duration, || {
        there.set()?;
        back.wait()?;
        back.clear();
        Ok(())
    });
    stop.set(1);
    there.set()?;
    partner.finish(ctx)?;
    measured
}

/// Rounds per second of a `Barrier` of `parties` processes, each waiting
/// at it round after round.
pub(crate) fn barrier_rounds(ctx: &Ctx, parties: usize) -> Result<Measure> {
    let barrier = Barrier::new(parties as u32)?;
    let (rounds, seconds) = rounds_in_workers(ctx, parties, || barrier.wait().map(drop))?;
    Ok(rate(rounds, seconds))
}

/// 8-byte messages per second through one `Queue` by `processes / 2`
/// producers and as many consumers (`put` and `get`), all consumers
/// together; checks that every message put was got, once.
pub(crate) fn queue_scaling(ctx: &Ctx, processes: usize) -> Result<Measure> {
    const SIZE: usize = 8;
    let producers = (processes / 2).max(1);
    let consumers = (processes - producers).max(1);
    let q = Queue::<Bytes>::bounded(ring_capacity(SIZE), encoded(SIZE))?;
    let msg = Bytes(vec![7_u8; SIZE]);
    let buf = RefCell::new(Bytes::default());
    let (put, got, seconds) = stream_in_workers(
        ctx,
        producers,
        consumers,
        || q.put(&msg),
        // Each consumer (a process of its own) into one buffer.
        || until_end(q.get_into(&mut buf.borrow_mut())).map(|got| got.is_some()),
        || q.close(),
    )?;
    if put != got {
        log::error!(target: "ipc-bench", "{put} messages put, {got} got");
        return Err(Error::Message("a Queue lost or doubled messages".into()));
    }
    Ok(rate(got, seconds))
}

/// Hand-overs per second of a token passed round a ring of `processes`
/// processes through one `Event` each: a process waits for its own,
/// clears it and sets the next one's.
pub(crate) fn event_ring(ctx: &Ctx, processes: usize) -> Result<Measure> {
    let events = (0..processes)
        .map(|_| Event::new())
        .collect::<Result<Vec<Event>>>()?;
    let (passes, seconds) = token_ring(
        ctx,
        processes,
        |i| {
            events[i].wait()?;
            events[i].clear();
            Ok(())
        },
        |i| events[i].set(),
    )?;
    Ok(rate(passes, seconds))
}

/// Where a `Connection` row's listener listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// TCP on `127.0.0.1`, a port the kernel chooses.
    Tcp,
    /// A Unix socket under a Linux abstract name: no file to leave behind.
    Unix,
}

/// How long the parent waits for its partner to connect.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// A listener of `transport` (no authkey: the handshake is paid once per
/// connection, not per message), and its address.
fn connection_listener(transport: Transport) -> Result<(Listener, Address)> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let address = match transport {
        Transport::Tcp => Address::from("127.0.0.1:0"),
        Transport::Unix => Address::from(
            format!(
                "@ipc-lab-{}-{}-bench-connection",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            )
            .as_str(),
        ),
    };
    let listener = Listener::bind(address)?;
    let address = listener.address().clone();
    Ok((listener, address))
}

/// Ping-pong over one connection (`multiprocessing.connection`'s frames:
/// `send_bytes`, `recv_bytes_into`): the partner connects with a `Client`,
/// the parent accepts.
pub(crate) fn connection_round_trip(
    ctx: &Ctx,
    size: usize,
    transport: Transport,
) -> Result<Measure> {
    let (mut listener, address) = connection_listener(transport)?;
    let partner = ctx.partner("pong", || {
        let mut conn = Client::new(&address).connect()?;
        let mut buf = Vec::new();
        while until_end(conn.recv_bytes_into(&mut buf, usize::MAX))?.is_some() {
            conn.send_bytes(&buf)?;
        }
        Ok(())
    })?;
    let mut conn = listener.accept_until(Deadline::after(CONNECT_LIMIT))?;
    drop(listener);
    let msg = vec![7_u8; size];
    let mut buf = Vec::new();
    let measured = ping_loop(ctx.duration, || {
        conn.send_bytes(&msg)?;
        conn.recv_bytes_into(&mut buf, usize::MAX).map(drop)
    });
    // The end of the stream ends the partner's loop.
    drop(conn);
    partner.finish(ctx)?;
    measured
}

/// One-way throughput through one connection: the partner connects and
/// sends `size`-byte messages, the parent accepts and receives them.
pub(crate) fn connection_throughput(
    ctx: &Ctx,
    size: usize,
    transport: Transport,
) -> Result<Measure> {
    let (mut listener, address) = connection_listener(transport)?;
    let gate = Gate::new(1)?;
    let partner = ctx.partner("writer", || {
        let mut conn = Client::new(&address).connect()?;
        let msg = vec![7_u8; size];
        gate.arrive(0)?;
        send_for(ctx.duration, size, || conn.send_bytes(&msg))?;
        Ok(())
    })?;
    let mut conn = listener.accept_until(Deadline::after(CONNECT_LIMIT))?;
    drop(listener);
    let mut buf = Vec::new();
    let measured = receive_all(&gate, size, || {
        until_end(conn.recv_bytes_into(&mut buf, usize::MAX))
    });
    partner.finish(ctx)?;
    measured
}
