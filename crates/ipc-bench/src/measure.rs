//! How every mechanism is measured, whatever carries the bytes.
//!
//! * **Round trip**: the parent (ping) sends a message, the forked partner
//!   (pong) sends it back; the parent reads the clock once per round trip
//!   for the whole duration. The first tenth of the samples is dropped as
//!   warm-up; the median and the 99th percentile of the rest are reported.
//! * **Throughput**: the partner sends for the whole duration as fast as
//!   it can, then ends the stream; the parent receives everything. Both
//!   start together at a gate in shared memory, and the parent's clock runs
//!   from the gate to the end of the stream.
//! * **Increments**: N partners increment one shared counter for the
//!   duration; the parent opens the gate, waits, and closes it.
//!
//! Nothing here runs on a count fixed in advance: each measurement lasts a
//! given time (at least a few messages), so one setting suits a pipe and a
//! spinning shared-memory flag alike.

use std::cell::Cell;
use std::time::{Duration, Instant};

use ipc_core::{Error, Process, RawArray, RawValue, Result, signal};
use nix::sys::signal::{SigEvent, SigevNotify, Signal};
use nix::sys::time::TimeSpec;
use nix::sys::timer::{Expiration, Timer, TimerSetTimeFlags};
use nix::time::ClockId;

use crate::machine::{Placement, current_cpu, pin};
use crate::model::Measure;

/// Every measurement has at least this many round trips or messages, so
/// that even the tiniest `--scale` reports a figure.
pub(crate) const MIN_COUNT: u64 = 5;

/// How long the parent waits for a partner to end after its part is done.
const JOIN_LIMIT: Duration = Duration::from_secs(10);

/// What every measurement needs to know.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// How long each measurement lasts.
    pub(crate) duration: Duration,
    pub(crate) placement: Placement,
    /// Two-process measurements that ended with both processes on one CPU,
    /// and on two (as seen at the end, for `--cpus any`).
    pub(crate) observed: Cell<(u32, u32)>,
}

impl Ctx {
    /// Forks the partner of a two-process measurement, pinned to the pong
    /// CPU, running `f`.
    pub(crate) fn partner(&self, name: &str, f: impl FnOnce() -> Result<()>) -> Result<Partner> {
        let cpu_seen = RawValue::<i64>::new(-1)?;
        let cpu = self.placement.pong;
        let process = Process::spawn(name, || -> Result<()> {
            pin(cpu)?;
            f()?;
            cpu_seen.set(current_cpu().map_or(-1, |c| c as i64));
            Ok(())
        })?;
        Ok(Partner { process, cpu_seen })
    }

    /// Forks `n` workers, the `i`th pinned to the placement's `i`th worker
    /// CPU, each running `f(i)` and then telling `gate` it is done.
    pub(crate) fn workers(
        &self,
        n: usize,
        gate: &Gate,
        f: impl Fn(usize) -> Result<()>,
    ) -> Result<Vec<Process>> {
        (0..n)
            .map(|i| {
                let cpu = self.placement.worker(i);
                let f = &f;
                Process::spawn(format!("worker{i}"), move || -> Result<()> {
                    let outcome = pin(cpu).and_then(|()| f(i));
                    gate.done.set(i, 1);
                    outcome
                })
            })
            .collect()
    }
}

/// The forked partner of a two-process measurement.
#[derive(Debug)]
pub(crate) struct Partner {
    process: Process,
    cpu_seen: RawValue<i64>,
}

impl Partner {
    /// Waits for the partner to end (bounded), and notes where it ran.
    pub(crate) fn finish(mut self, ctx: &Ctx) -> Result<()> {
        let mine = current_cpu();
        end(&mut self.process)?;
        if let (Some(mine), Ok(theirs)) = (mine, usize::try_from(self.cpu_seen.get())) {
            let (same, different) = ctx.observed.get();
            ctx.observed.set(if mine == theirs {
                (same + 1, different)
            } else {
                (same, different + 1)
            });
        }
        Ok(())
    }
}

/// Joins a child within [`JOIN_LIMIT`]; a failure is an error.
pub(crate) fn end(process: &mut Process) -> Result<()> {
    match process.join_timeout(JOIN_LIMIT)? {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(Error::ChildFailed {
            name: process.name().to_string(),
            status,
        }),
        None => {
            let _ = process.kill();
            Err(Error::Timeout)
        }
    }
}

/// Round trips: the median and 99th percentile of `samples` (nanoseconds),
/// after dropping the first tenth as warm-up.
pub(crate) fn latency(mut samples: Vec<u64>) -> Measure {
    let warm_up = samples.len() / 10;
    let kept = &mut samples[warm_up..];
    kept.sort_unstable();
    let n = kept.len();
    let at = |q: f64| kept[((q * n as f64).ceil() as usize).clamp(1, n) - 1] as f64;
    Measure::Latency {
        median_ns: if n % 2 == 1 {
            kept[n / 2] as f64
        } else {
            (kept[n / 2 - 1] + kept[n / 2]) as f64 / 2.0
        },
        p99_ns: at(0.99),
        samples: n as u64,
    }
}

/// The pong of a ping-pong: receives into `buf` with `recv` and sends
/// back what came with `send`, until an empty message, the parent's
/// "stop". Generic, so each side's calls are inlined as if written here.
pub(crate) fn echo(
    buf: &mut [u8],
    mut recv: impl FnMut(&mut [u8]) -> Result<usize>,
    mut send: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    loop {
        let n = recv(buf)?;
        if n == 0 {
            return Ok(());
        }
        send(&buf[..n])?;
    }
}

/// Runs `round_trip` again and again for `duration` (and at least
/// [`MIN_COUNT`] times), reading the clock once per round trip.
pub(crate) fn ping_loop(
    duration: Duration,
    mut round_trip: impl FnMut() -> Result<()>,
) -> Result<Measure> {
    let mut samples = Vec::with_capacity(1 << 16);
    let start = Instant::now();
    let mut last = start;
    loop {
        round_trip()?;
        let now = Instant::now();
        samples.push((now - last).as_nanos() as u64);
        last = now;
        if samples.len() as u64 >= MIN_COUNT && now - start >= duration {
            break;
        }
        if samples.len() % 1024 == 0 {
            signal::check()?;
        }
    }
    Ok(latency(samples))
}

/// What one read of the clock costs, in nanoseconds (the mean of 100 000
/// reads): every round trip includes one, floors too.
pub(crate) fn clock_read_ns() -> f64 {
    const READS: u32 = 100_000;
    let start = Instant::now();
    let mut last = start;
    for _ in 0..READS {
        last = std::hint::black_box(Instant::now());
    }
    (last - start).as_nanos() as f64 / f64::from(READS)
}

/// How many messages of `size` bytes to send between two looks at the
/// clock: about 64 KiB, at most 256 messages.
fn batch(size: usize) -> u64 {
    ((64 << 10) / size.max(1)).clamp(1, 256) as u64
}

/// The sending side of a throughput measurement: sends for `duration`
/// (and at least [`MIN_COUNT`] messages); returns how many it sent.
pub(crate) fn send_for(
    duration: Duration,
    size: usize,
    mut send: impl FnMut() -> Result<()>,
) -> Result<u64> {
    let batch = batch(size);
    let start = Instant::now();
    let mut sent = 0;
    loop {
        for _ in 0..batch {
            send()?;
        }
        sent += batch;
        if sent >= MIN_COUNT && start.elapsed() >= duration {
            return Ok(sent);
        }
        signal::check()?;
    }
}

/// The receiving side of a throughput measurement: opens `gate`, then
/// calls `recv` until it says the stream ended (`None`); `recv` returns the
/// bytes of each message or chunk it took. The rate is in messages of
/// `size` bytes.
pub(crate) fn receive_all(
    gate: &Gate,
    size: usize,
    mut recv: impl FnMut() -> Result<Option<usize>>,
) -> Result<Measure> {
    gate.wait_ready(1)?;
    let start = Instant::now();
    gate.open();
    let mut bytes = 0_u64;
    while let Some(n) = recv()? {
        bytes += n as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    let messages = bytes / size as u64;
    Ok(Measure::Rate {
        per_s: messages as f64 / seconds,
        bytes_per_s: Some(bytes as f64 / seconds),
        count: messages,
    })
}

/// A start line in shared memory: the partners say they are ready, the
/// parent opens it, and (for increments) closes it again and waits for the
/// workers to say they are done.
#[derive(Debug)]
pub(crate) struct Gate {
    ready: RawArray<u32>,
    open: RawValue<u32>,
    closed: RawValue<u32>,
    done: RawArray<u32>,
}

impl Gate {
    pub(crate) fn new(partners: usize) -> Result<Gate> {
        Ok(Gate {
            ready: RawArray::new(partners)?,
            open: RawValue::new(0)?,
            closed: RawValue::new(0)?,
            done: RawArray::new(partners)?,
        })
    }

    /// In partner `i`: says it is ready, and waits for the gate to open.
    pub(crate) fn arrive(&self, i: usize) -> Result<()> {
        self.ready.set(i, 1);
        wait_until(|| self.open.get() != 0)
    }

    /// In the parent: waits until `n` partners are ready (or done: a worker
    /// that failed before it arrived).
    fn wait_ready(&self, n: usize) -> Result<()> {
        wait_until(|| (0..n).all(|i| self.ready.get(i) != 0 || self.done.get(i) != 0))
    }

    fn open(&self) {
        self.open.set(1);
    }

    /// True once the parent has called time.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get() != 0
    }

    /// In the parent: waits for `n` workers, opens the gate, lets them run
    /// for `duration`, closes it, and waits for them to be done (a worker
    /// does [`MIN_COUNT`] rounds at least, even if it starts late); returns
    /// the seconds from the opening to the last worker done.
    pub(crate) fn run_for(&self, n: usize, duration: Duration) -> Result<f64> {
        self.wait_ready(n)?;
        let start = Instant::now();
        self.open();
        let until = start + duration;
        loop {
            signal::check()?;
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(20)));
        }
        self.closed.set(1);
        wait_until(|| (0..n).all(|i| self.done.get(i) != 0))?;
        Ok(start.elapsed().as_secs_f64())
    }
}

/// `processes` workers (pinned as [`Ctx::workers`] says) each call
/// `op(i)` again and again from the opening of a gate until the parent
/// closes it after the measurement's duration, and at least [`MIN_COUNT`]
/// times; returns how many calls they made in all, and the seconds from
/// the opening to the last worker done.
pub(crate) fn repeat_in_workers(
    ctx: &Ctx,
    processes: usize,
    op: impl Fn(usize) -> Result<()>,
) -> Result<(u64, f64)> {
    counted_in_workers(ctx, processes, |i, gate| {
        gate.arrive(i)?;
        let mut n = 0_u64;
        while n < MIN_COUNT || !gate.is_closed() {
            op(i)?;
            n += 1;
        }
        Ok(n)
    })
}

/// `processes` workers each run `work(i, gate)`, which waits for the
/// gate's opening and returns how many operations the worker made; the
/// parent opens the gate, and closes it after the run's duration. Returns
/// the operations of all the workers and the seconds from the opening to
/// the last worker done.
fn counted_in_workers(
    ctx: &Ctx,
    processes: usize,
    work: impl Fn(usize, &Gate) -> Result<u64>,
) -> Result<(u64, f64)> {
    let counts = RawArray::<u64>::new(processes)?;
    let gate = Gate::new(processes)?;
    let mut workers = ctx.workers(processes, &gate, |i| {
        counts.set(i, work(i, &gate)?);
        Ok(())
    })?;
    let seconds = gate.run_for(processes, ctx.duration);
    for worker in &mut workers {
        end(worker)?;
    }
    let seconds = seconds?;
    Ok(((0..processes).map(|i| counts.get(i)).sum(), seconds))
}

/// `parties` workers each call `wait` (a barrier's) round after round,
/// from the opening of a gate until the parent closes it; returns the
/// rounds completed and the seconds from the opening to the last worker
/// done.
///
/// Every party must stop after the same round, or the others would wait
/// for ever. So worker 0, at the end of the first round it finishes after
/// the gate closed (round `r`), names round `r + 1` the last: no party can
/// finish round `r + 1` before worker 0 arrives there, after its store,
/// so every party reads the name before it decides after round `r + 1`,
/// and any party that looks earlier sees that round `r` is not the last.
pub(crate) fn rounds_in_workers(
    ctx: &Ctx,
    parties: usize,
    wait: impl Fn() -> Result<()>,
) -> Result<(u64, f64)> {
    let last = RawValue::<u64>::new(0)?;
    let rounds = RawValue::<u64>::new(0)?;
    let gate = Gate::new(parties)?;
    let mut workers = ctx.workers(parties, &gate, |i| {
        gate.arrive(i)?;
        let mut round = 0_u64;
        loop {
            wait()?;
            round += 1;
            if i == 0 && last.get() == 0 && round >= MIN_COUNT && gate.is_closed() {
                last.set(round + 1);
            }
            let named = last.get();
            if named != 0 && round >= named {
                break;
            }
        }
        if i == 0 {
            rounds.set(round);
        }
        Ok(())
    })?;
    let seconds = gate.run_for(parties, ctx.duration);
    for worker in &mut workers {
        end(worker)?;
    }
    Ok((rounds.get(), seconds?))
}

/// A token passed round a ring of `processes` workers (at least 2), from
/// the opening of a gate until the parent closes it: worker `i` waits for
/// the token (`take(i)`) and hands it to the next (`give(i + 1)`, modulo
/// the ring); worker 0 starts it. Worker 0, on the first lap it completes
/// after the gate closed (and [`MIN_COUNT`] laps at least), raises a stop
/// flag and passes the token once more: each worker that takes it then
/// passes it on and stops, so nobody waits for a token that never comes.
/// Returns the hand-overs taken in all (the stop lap not counted) and the
/// seconds from the opening to the last worker done.
pub(crate) fn token_ring(
    ctx: &Ctx,
    processes: usize,
    take: impl Fn(usize) -> Result<()>,
    give: impl Fn(usize) -> Result<()>,
) -> Result<(u64, f64)> {
    assert!(processes >= 2, "a ring of one passes nothing");
    let stop = RawValue::<u32>::new(0)?;
    counted_in_workers(ctx, processes, |i, gate| {
        let next = (i + 1) % processes;
        gate.arrive(i)?;
        if i == 0 {
            give(next)?;
        }
        let mut n = 0_u64;
        loop {
            take(i)?;
            if stop.get() != 0 {
                give(next)?;
                break;
            }
            n += 1;
            if i == 0 && n >= MIN_COUNT && gate.is_closed() {
                stop.set(1);
                give(next)?;
                break;
            }
            give(next)?;
        }
        Ok(n)
    })
}

/// `producers` workers each call `put()` again and again from the opening
/// of a gate until the parent closes it (and [`MIN_COUNT`] times at
/// least); `consumers` more workers call `get()` until it says the stream
/// ended (`false`), which it does once the parent, after every producer
/// is done, has called `end()`. Returns the messages put, the messages
/// got, and the seconds from the opening to the last consumer done.
pub(crate) fn stream_in_workers(
    ctx: &Ctx,
    producers: usize,
    consumers: usize,
    put: impl Fn() -> Result<()>,
    get: impl Fn() -> Result<bool>,
    end_stream: impl FnOnce() -> Result<()>,
) -> Result<(u64, u64, f64)> {
    let mut end_stream = Some(end_stream);
    let n = producers + consumers;
    let counts = RawArray::<u64>::new(n)?;
    let gate = Gate::new(n)?;
    let mut workers = ctx.workers(n, &gate, |i| {
        gate.arrive(i)?;
        let mut count = 0_u64;
        if i < producers {
            while count < MIN_COUNT || !gate.is_closed() {
                put()?;
                count += 1;
            }
        } else {
            while get()? {
                count += 1;
            }
        }
        counts.set(i, count);
        Ok(())
    })?;
    let outcome = (|| -> Result<f64> {
        gate.wait_ready(n)?;
        let start = Instant::now();
        gate.open();
        let until = start + ctx.duration;
        while Instant::now() < until {
            signal::check()?;
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
        }
        gate.closed.set(1);
        wait_until(|| (0..producers).all(|i| gate.done.get(i) != 0))?;
        if let Some(end_stream) = end_stream.take() {
            end_stream()?;
        }
        wait_until(|| (producers..n).all(|i| gate.done.get(i) != 0))?;
        Ok(start.elapsed().as_secs_f64())
    })();
    // Interrupted or failed before the end: end the stream all the same,
    // so that the consumers stop.
    if let Some(end_stream) = end_stream.take() {
        let _ = end_stream();
    }
    for worker in &mut workers {
        end(worker)?;
    }
    let seconds = outcome?;
    let put: u64 = (0..producers).map(|i| counts.get(i)).sum();
    let got: u64 = (producers..n).map(|i| counts.get(i)).sum();
    Ok((put, got, seconds))
}

/// What every semaphore row does while it holds the unit, ipc-core's and
/// the floors' alike: a process-shared count of the holders, which two
/// holders at once would push past 1 (a few nanoseconds, the same in every
/// row, so that the rows do the same job).
#[derive(Debug)]
pub(crate) struct Holders {
    holders: RawValue<u32>,
    crowded: RawValue<u32>,
}

impl Holders {
    pub(crate) fn new() -> Result<Holders> {
        Ok(Holders {
            holders: RawValue::new(0)?,
            crowded: RawValue::new(0)?,
        })
    }

    /// Called by a holder of the semaphore's unit.
    pub(crate) fn inside(&self) {
        self.holders.set(self.holders.get() + 1);
        if self.holders.get() != 1 {
            self.crowded.set(1);
        }
        self.holders.set(self.holders.get() - 1);
    }

    /// True if two processes ever held it at once.
    pub(crate) fn crowded(&self) -> bool {
        self.crowded.get() != 0
    }
}

/// `count` operations in `seconds`, as a rate.
pub(crate) fn rate(count: u64, seconds: f64) -> Measure {
    Measure::Rate {
        per_s: count as f64 / seconds,
        bytes_per_s: None,
        count,
    }
}

/// Waits for `ready`, spinning briefly, then yielding the CPU; gives up
/// with [`Error::Interrupted`] after SIGINT or SIGTERM (the watchdog's
/// included).
fn wait_until(mut ready: impl FnMut() -> bool) -> Result<()> {
    let mut spins = 0_u32;
    while !ready() {
        back_off::<1000, 64>(&mut spins)?;
    }
    Ok(())
}

/// One more empty look of a wait on memory another process writes, the
/// `spins`-th: a spin for the first `SPINS`, a yield of the CPU after
/// (on one core the other side cannot run otherwise) and, every `CHECK`
/// looks, a look at the signal flag, [`Error::Interrupted`] after SIGINT
/// or SIGTERM. True when it looked, for the caller's own checks. The
/// bounds are constants, so each wait compiles as if written out.
#[inline]
pub(crate) fn back_off<const SPINS: u32, const CHECK: u32>(spins: &mut u32) -> Result<bool> {
    *spins = spins.wrapping_add(1);
    if *spins < SPINS {
        std::hint::spin_loop();
        return Ok(false);
    }
    std::thread::yield_now();
    if spins.is_multiple_of(CHECK) {
        signal::check()?;
        return Ok(true);
    }
    Ok(false)
}

/// A per-measurement time limit: when it runs out, the process gets
/// SIGTERM, which sets ipc-core's interrupt flag, so that every blocking
/// call in the bench returns [`Error::Interrupted`] and the measurement
/// ends with its objects removed, instead of hanging on a peer that died.
#[derive(Debug)]
pub(crate) struct Watchdog {
    _timer: Timer,
    started: Instant,
    limit: Duration,
}

impl Watchdog {
    pub(crate) fn arm(limit: Duration) -> Result<Watchdog> {
        let mut timer = Timer::new(
            ClockId::CLOCK_MONOTONIC,
            SigEvent::new(SigevNotify::SigevSignal {
                signal: Signal::SIGTERM,
                si_value: 0,
            }),
        )
        .map_err(|errno| Error::call("timer_create", errno))?;
        timer
            .set(
                Expiration::OneShot(TimeSpec::from_duration(limit)),
                TimerSetTimeFlags::empty(),
            )
            .map_err(|errno| Error::call("timer_settime", errno))?;
        Ok(Watchdog {
            _timer: timer,
            started: Instant::now(),
            limit,
        })
    }

    /// True if the limit has run out (so an interruption was its doing).
    pub(crate) fn fired(&self) -> bool {
        self.started.elapsed() >= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_is_dropped_and_percentiles_are_read_from_the_rest() {
        // 10 warm-up samples of 1 s, then 1..=90.
        let mut samples = vec![1_000_000_000; 10];
        samples.extend(1..=90);
        let Measure::Latency {
            median_ns,
            p99_ns,
            samples,
        } = latency(samples)
        else {
            panic!("not a latency")
        };
        assert_eq!(samples, 90);
        assert_eq!(median_ns, 45.5);
        assert_eq!(p99_ns, 90.0);
    }

    #[test]
    fn one_sample_is_its_own_median() {
        assert_eq!(latency(vec![7]).primary(), 7.0);
    }

    #[test]
    fn batches_are_about_64_kib() {
        assert_eq!(batch(8), 256);
        assert_eq!(batch(4096), 16);
        assert_eq!(batch(1 << 20), 1);
    }
}
