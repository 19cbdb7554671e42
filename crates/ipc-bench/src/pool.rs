//! A pool of workers and a manager (issue 23), through ipc-core's public
//! API, beside the same work done without them:
//!
//! * **`Pool.map` of many small tasks**: the squares of 10 000 `u64`s
//!   ([`SMALL_TASKS`]), in chunks of Python's default size, by 2 and 4
//!   workers; the floor is the same map in one process, which is the
//!   work itself without any IPC (`raw-seq-map`).
//! * **`Pool.map` of a few large tasks**: 8 tasks ([`LARGE_TASKS`]) each
//!   summing the bytes of a 1 MiB `Bytes` ([`LARGE_BYTES`]), each item a
//!   fresh copy as `map` consumes it; the floor is the same 8 copies and
//!   sums in one process (`raw-seq-map-large`).
//! * **`Manager` dict set and get**: one client's `d[k] = v` and `d.get(k)`
//!   over 100 keys, one round trip to the manager's process each; the floor
//!   is a forked process holding a `HashMap`, asked by fixed-size requests
//!   and replies over a socket pair, one at a time (`raw-dict-server`).
//!
//! A figure is a rate: tasks per second (a map's items, counted when its
//! results are back) and operations per second. Each measurement runs
//! whole maps, or operations, for the duration, and at least one map or
//! [`MIN_COUNT`] operations. The pool's workers may run on every worker
//! CPU of the placement (not only on the parent's), as a user's pool
//! does; the manager's server runs on the pong CPU, as a partner does.

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use ipc_core::message::Bytes;
use ipc_core::{Error, Manager, Pool, Result, signal};

use crate::machine::{pin, pin_set};
use crate::measure::{Ctx, MIN_COUNT, rate};
use crate::model::Measure;

/// The items of a map of many small tasks.
pub(crate) const SMALL_TASKS: u64 = 10_000;

/// The items of a map of a few large tasks.
pub(crate) const LARGE_TASKS: usize = 8;

/// The bytes of each large task's item.
pub(crate) const LARGE_BYTES: usize = 1 << 20;

/// The keys a manager's client sets and gets, in turn.
const KEYS: usize = 100;

/// How long a pool's workers, or the floor's server, have to end once
/// asked, and how long the floor waits for an answer.
const LIMIT: Duration = Duration::from_secs(10);

/// A small task: the square of `x`.
fn square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

/// A large task: the sum of the bytes.
fn byte_sum(data: Bytes) -> u64 {
    data.0.iter().map(|&b| u64::from(b)).sum()
}

/// The item of every large task: bytes that are not all the same.
fn large_item() -> Bytes {
    Bytes((0..LARGE_BYTES).map(|i| (i % 251) as u8).collect())
}

/// Runs `map` (which does `tasks` tasks) again and again for `duration`,
/// at least once; the tasks per second, and the bytes of their items per
/// second when they have `item_bytes` each.
fn maps_for(
    duration: Duration,
    tasks: u64,
    item_bytes: Option<usize>,
    mut map: impl FnMut() -> Result<()>,
) -> Result<Measure> {
    let start = Instant::now();
    let mut done = 0_u64;
    loop {
        map()?;
        done += tasks;
        signal::check()?;
        if start.elapsed() >= duration {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut measure = rate(done, seconds);
    if let (Measure::Rate { bytes_per_s, .. }, Some(bytes)) = (&mut measure, item_bytes) {
        *bytes_per_s = Some(done as f64 * bytes as f64 / seconds);
    }
    Ok(measure)
}

/// Runs `op` again and again for `duration`, at least [`MIN_COUNT`]
/// times; the operations per second.
fn ops_for(duration: Duration, mut op: impl FnMut(usize) -> Result<()>) -> Result<Measure> {
    let start = Instant::now();
    let mut done = 0_u64;
    loop {
        op(done as usize % KEYS)?;
        done += 1;
        if done.is_multiple_of(64) {
            signal::check()?;
        }
        if done >= MIN_COUNT && start.elapsed() >= duration {
            break;
        }
    }
    Ok(rate(done, start.elapsed().as_secs_f64()))
}

/// A wrong result: the measurement fails rather than report it.
fn wrong(what: &str) -> Error {
    Error::Message(format!("{what} gave a wrong result"))
}

/// A pool of `workers`, forked while the parent may run on every worker
/// CPU (so that they may too), the parent pinned back afterwards.
fn start_pool(ctx: &Ctx, workers: usize, max_message: usize) -> Result<Pool> {
    pin_set(&ctx.placement.workers)?;
    let pool = Pool::with_max_message(workers, max_message);
    pin(ctx.placement.ping)?;
    pool
}

/// Closes the pool and waits for its workers, bounded.
fn stop_pool(pool: Pool) -> Result<()> {
    pool.close()?;
    pool.join_timeout(LIMIT)
}

/// `Pool.map` of [`SMALL_TASKS`] squares by `workers` workers.
pub(crate) fn pool_map(ctx: &Ctx, workers: usize) -> Result<Measure> {
    let pool = start_pool(ctx, workers, ipc_core::pool::DEFAULT_MAX_MESSAGE)?;
    let last = square(SMALL_TASKS - 1);
    let measured = maps_for(ctx.duration, SMALL_TASKS, None, || {
        let squares = pool.map(square, 0..SMALL_TASKS)?;
        match squares.last() {
            Some(&x) if x == last && squares.len() as u64 == SMALL_TASKS => Ok(()),
            _ => Err(wrong("Pool.map of squares")),
        }
    });
    stop_pool(pool)?;
    measured
}

/// The floor of [`pool_map`]: the same squares in one process.
pub(crate) fn sequential_map(ctx: &Ctx, _workers: usize) -> Result<Measure> {
    maps_for(ctx.duration, SMALL_TASKS, None, || {
        let squares: Vec<u64> = (0..black_box(SMALL_TASKS)).map(square).collect();
        black_box(squares);
        Ok(())
    })
}

/// `Pool.map` of [`LARGE_TASKS`] sums of [`LARGE_BYTES`] each by
/// `workers` workers (a chunk of one item each, as Python's default
/// chunk size gives for so few items).
pub(crate) fn pool_map_large(ctx: &Ctx, workers: usize) -> Result<Measure> {
    let pool = start_pool(ctx, workers, LARGE_BYTES + (64 << 10))?;
    let item = large_item();
    let sum = byte_sum(item.clone());
    let measured = maps_for(ctx.duration, LARGE_TASKS as u64, Some(LARGE_BYTES), || {
        let sums = pool.map(byte_sum, (0..LARGE_TASKS).map(|_| item.clone()))?;
        if sums.len() == LARGE_TASKS && sums.iter().all(|&s| s == sum) {
            Ok(())
        } else {
            Err(wrong("Pool.map of 1 MiB sums"))
        }
    });
    stop_pool(pool)?;
    measured
}

/// The floor of [`pool_map_large`]: the same copies and sums in one
/// process.
pub(crate) fn sequential_map_large(ctx: &Ctx, _workers: usize) -> Result<Measure> {
    let item = large_item();
    maps_for(ctx.duration, LARGE_TASKS as u64, Some(LARGE_BYTES), || {
        let sums: Vec<u64> = (0..LARGE_TASKS)
            .map(|_| byte_sum(black_box(&item).clone()))
            .collect();
        black_box(sums);
        Ok(())
    })
}

/// A manager of `u64`s whose server runs on the pong CPU, the parent
/// pinned back afterwards.
fn start_manager(ctx: &Ctx) -> Result<Manager<u64>> {
    pin(ctx.placement.pong)?;
    let manager = Manager::start();
    pin(ctx.placement.ping)?;
    manager
}

fn keys() -> Vec<String> {
    (0..KEYS).map(|k| format!("key{k}")).collect()
}

/// `d[k] = v` by one client, over [`KEYS`] keys in turn.
pub(crate) fn manager_set(ctx: &Ctx, _clients: usize) -> Result<Measure> {
    let manager = start_manager(ctx)?;
    let keys = keys();
    let mut dict = manager.connect()?;
    let measured = ops_for(ctx.duration, |k| dict.set(&keys[k], k as u64));
    // The first operation set key 0 to 0 (however short the run).
    let kept = measured.is_err() || dict.get(&keys[0])? == Some(0);
    manager.shutdown()?;
    if !kept {
        return Err(wrong("Manager dict set"));
    }
    measured
}

/// `d.get(k)` by one client, over [`KEYS`] keys set before.
pub(crate) fn manager_get(ctx: &Ctx, _clients: usize) -> Result<Measure> {
    let manager = start_manager(ctx)?;
    let keys = keys();
    let mut dict = manager.connect()?;
    dict.update(keys.iter().cloned().zip(0..))?;
    let measured = ops_for(ctx.duration, |k| match dict.get(&keys[k])? {
        Some(v) if v == k as u64 => Ok(()),
        _ => Err(wrong("Manager dict get")),
    });
    manager.shutdown()?;
    measured
}

/// A request to the floor's server: an operation, a key, a value.
const REQUEST: usize = 17;
const SET: u8 = 0;
const GET: u8 = 1;

/// An I/O error of the floor's socket pair as ipc-core's error.
fn io(call: &'static str, error: &std::io::Error) -> Error {
    match error.raw_os_error() {
        Some(code) => Error::sys(call, "raw dict server", nix::errno::Errno::from_raw(code)),
        None => Error::Message(format!("raw dict server: {call}: {error}")),
    }
}

/// The floor of the manager's rows: a forked process holds a `HashMap`
/// and answers fixed-size requests over a socket pair, one at a time;
/// the client sets and gets [`KEYS`] keys alternately, one round trip
/// each (no framing, encoding or authentication: the same process
/// boundary and the same one-request-at-a-time server).
pub(crate) fn dict_server(ctx: &Ctx, _clients: usize) -> Result<Measure> {
    let (client, mut server) = UnixStream::pair().map_err(|e| io("socketpair", &e))?;
    for end in [&client, &server] {
        end.set_read_timeout(Some(LIMIT))
            .map_err(|e| io("setsockopt", &e))?;
    }
    // The child's copy of the client's end is closed at once, so that the
    // server sees the end of the requests when the parent's closes.
    let mut client = Some(client);
    let partner = ctx.partner("dict server", || {
        drop(client.take());
        let mut dict = std::collections::HashMap::<u64, u64>::new();
        let mut request = [0_u8; REQUEST];
        loop {
            match server.read_exact(&mut request) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(io("read", &e)),
            }
            let word = |at: usize| {
                let mut bytes = [0_u8; 8];
                bytes.copy_from_slice(&request[at..at + 8]);
                u64::from_le_bytes(bytes)
            };
            let (key, value) = (word(1), word(9));
            let answer = match request[0] {
                SET => {
                    dict.insert(key, value);
                    value
                }
                _ => dict.get(&key).copied().unwrap_or(u64::MAX),
            };
            server
                .write_all(&answer.to_le_bytes())
                .map_err(|e| io("write", &e))?;
        }
    })?;
    drop(server);
    let Some(mut client) = client else {
        return Err(Error::Message("raw dict server: no client end".into()));
    };
    let mut ask = |op: u8, k: usize| -> Result<u64> {
        let mut request = [0_u8; REQUEST];
        request[0] = op;
        request[1..9].copy_from_slice(&(k as u64).to_le_bytes());
        request[9..].copy_from_slice(&(k as u64).to_le_bytes());
        client.write_all(&request).map_err(|e| io("write", &e))?;
        let mut reply = [0_u8; 8];
        client.read_exact(&mut reply).map_err(|e| io("read", &e))?;
        Ok(u64::from_le_bytes(reply))
    };
    // Every key set first, as for the manager's gets.
    let measured = (0..KEYS)
        .try_for_each(|k| ask(SET, k).map(drop))
        .and_then(|()| {
            let mut rounds = 0_u64;
            ops_for(ctx.duration, |k| {
                let op = if rounds.is_multiple_of(2) { SET } else { GET };
                rounds += 1;
                if ask(op, k)? == k as u64 {
                    Ok(())
                } else {
                    Err(wrong("the raw dict server"))
                }
            })
        });
    drop(client);
    partner.finish(ctx)?;
    measured
}
