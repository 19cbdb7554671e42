#!/usr/bin/env python3
"""Python multiprocessing measured the way ipc-bench measures ipc-lab.

Queue, Pipe and Value with get_lock(), in the same shapes as ipc-bench:
round trips (ping-pong between two processes: median and p99 per round
trip), one-way throughput (messages and bytes per second) for each message
size, and increments per second of one locked Value by 1 and 5 processes;
and the synchronisation twins: Semaphore(1) acquire+release pairs per
second by 1 and 4 processes, an Event ping-pong (two Events, two
processes), and Barrier(4) rounds per second; Pool(n).map tasks per second
by 2 and 4 workers (the squares of range(10000), and 8 sums of a 1 MiB
bytes each), and Manager().dict() set and get per second by one client.
Prints one JSON document on standard output.

ipc-bench runs it itself (with the same duration, sizes and CPU placement)
when python3 exists; by hand:

    python3 scripts/bench_python.py --duration 0.2 --sizes 8,4096
    python3 scripts/bench_python.py --mechanisms Semaphore,Event,Barrier
    python3 scripts/bench_python.py --mechanisms PoolMap,PoolMapLarge,ManagerSet,ManagerGet
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time

# At least this many round trips or messages per measurement, as in ipc-bench.
MIN_COUNT = 5

CTX = multiprocessing.get_context("fork")


def pin(cpu):
    """Pins the calling process to one CPU (nothing for None)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def latency(samples):
    """Median and p99 in nanoseconds, the first tenth dropped as warm-up."""
    kept = sorted(samples[len(samples) // 10:])
    n = len(kept)
    median = kept[n // 2] if n % 2 else (kept[n // 2 - 1] + kept[n // 2]) / 2
    p99 = kept[min(max(-(-99 * n // 100), 1), n) - 1]
    return {"median_ns": median, "p99_ns": p99, "samples": n}


def ping_loop(duration, round_trip):
    """Runs round_trip for `duration` seconds (and MIN_COUNT times at least),
    reading the clock once per round trip."""
    now = time.perf_counter_ns
    samples = []
    start = last = now()
    end = start + int(duration * 1e9)
    while True:
        round_trip()
        t = now()
        samples.append(t - last)
        last = t
        if t >= end and len(samples) >= MIN_COUNT:
            return latency(samples)


def start_pong(args, target, pong_args):
    """Starts the partner process target(*pong_args, cpu) on the pong CPU."""
    p = CTX.Process(target=target, args=(*pong_args, args.pong_cpu), name="pong")
    p.start()
    return p


def round_trips(args, pong, round_trip, stop):
    """ping_loop over round_trip while the process `pong` answers; then
    stop() asks it to end, and it is waited for."""
    result = ping_loop(args.duration, round_trip)
    stop()
    finish(pong)
    return result


def batch(size):
    return max(1, min(256, (64 << 10) // max(size, 1)))


def send_for(duration, size, send):
    """Sends for `duration` seconds, looking at the clock every batch."""
    n = batch(size)
    end = time.perf_counter() + duration
    sent = 0
    while True:
        for _ in range(n):
            send()
        sent += n
        if sent >= MIN_COUNT and time.perf_counter() >= end:
            return sent


def wait_ready(flags):
    while not all(flags):
        time.sleep(0.0005)


def receive_all(ready, go, size, recv):
    """Opens the gate and receives until recv() returns None; a rate in
    messages of `size` bytes."""
    wait_ready(ready)
    start = time.perf_counter()
    go.value = 1
    total = 0
    while True:
        n = recv()
        if n is None:
            break
        total += n
    seconds = time.perf_counter() - start
    messages = total // size
    return {
        "msgs_per_s": messages / seconds,
        "bytes_per_s": total / seconds,
        "messages": messages,
    }


def arrive(ready, go, i=0):
    ready[i] = 1
    while not go.value:
        pass


def finish(process):
    process.join(30)
    if process.exitcode != 0:
        if process.is_alive():
            process.kill()
            process.join()
        raise RuntimeError(f"{process.name} ended with {process.exitcode}")


def queue_capacity(size):
    """The same bound ipc-bench gives its Queue: about 8 MiB of slots."""
    return max(8, min(1024, (8 << 20) // (size + 8)))


# --- Queue -------------------------------------------------------------


def queue_pong(there, back, cpu):
    pin(cpu)
    while True:
        msg = there.get()
        if msg is None:
            return
        back.put(msg)


def queue_round_trip(args, size):
    there, back = CTX.Queue(4), CTX.Queue(4)
    p = start_pong(args, queue_pong, (there, back))
    msg = b"\x07" * size

    def round_trip():
        there.put(msg)
        back.get()

    return round_trips(args, p, round_trip, lambda: there.put(None))


def queue_producer(q, ready, go, size, duration, cpu):
    pin(cpu)
    msg = b"\x07" * size
    arrive(ready, go)
    send_for(duration, size, lambda: q.put(msg))
    q.put(None)


def queue_throughput(args, size):
    q = CTX.Queue(queue_capacity(size))
    ready, go = CTX.RawArray("i", 1), CTX.RawValue("i", 0)
    p = CTX.Process(
        target=queue_producer,
        args=(q, ready, go, size, args.duration, args.pong_cpu),
        name="producer",
    )
    p.start()

    def recv():
        msg = q.get()
        return None if msg is None else len(msg)

    result = receive_all(ready, go, size, recv)
    finish(p)
    return result


# --- Pipe --------------------------------------------------------------


def pipe_pong(ping, pong, cpu):
    ping.close()
    pin(cpu)
    while True:
        msg = pong.recv_bytes()
        if not msg:
            return
        pong.send_bytes(msg)


def pipe_round_trip(args, size):
    ping, pong = CTX.Pipe()
    p = start_pong(args, pipe_pong, (ping, pong))
    pong.close()
    msg = b"\x07" * size

    def round_trip():
        ping.send_bytes(msg)
        ping.recv_bytes()

    result = round_trips(args, p, round_trip, lambda: ping.send_bytes(b""))
    ping.close()
    return result


def pipe_writer(rx, tx, ready, go, size, duration, cpu):
    rx.close()
    pin(cpu)
    msg = b"\x07" * size
    arrive(ready, go)
    send_for(duration, size, lambda: tx.send_bytes(msg))
    tx.send_bytes(b"")


def pipe_throughput(args, size):
    rx, tx = CTX.Pipe()
    ready, go = CTX.RawArray("i", 1), CTX.RawValue("i", 0)
    p = CTX.Process(
        target=pipe_writer,
        args=(rx, tx, ready, go, size, args.duration, args.pong_cpu),
        name="writer",
    )
    p.start()
    tx.close()

    def recv():
        msg = rx.recv_bytes()
        return len(msg) or None

    result = receive_all(ready, go, size, recv)
    finish(p)
    rx.close()
    return result


# --- Value -------------------------------------------------------------


def value_loop(value, stop):
    """A counting worker's loop (see counting_worker): increments of
    `value` under its lock."""
    n = 0
    # A worker does MIN_COUNT increments at least, even if it starts late.
    while n < MIN_COUNT or not stop.value:
        with value.get_lock():
            value.value += 1
        n += 1
    return n


def value_increments(args, processes):
    value = CTX.Value("q", 0)
    total, seconds = count_for(args, processes, value_loop, value)
    if value.value != total:
        raise RuntimeError(f"the Value reads {value.value} after {total} increments")
    return {"per_s": total / seconds, "increments": total}


# --- Semaphore, Event, Barrier -----------------------------------------


def run_workers(args, processes, target, extra):
    """Starts `processes` workers running target(i, cpu, ready, go, stop,
    done, *extra), opens the gate, lets them run for the duration, closes
    it and waits for every one to be done; the seconds in between."""
    ready, done = CTX.RawArray("i", processes), CTX.RawArray("i", processes)
    go, stop = CTX.RawValue("i", 0), CTX.RawValue("i", 0)
    cpus = args.worker_cpus
    workers = [
        CTX.Process(
            target=target,
            args=(i, cpus[i % len(cpus)] if cpus else None, ready, go, stop, done, *extra),
            name=f"worker{i}",
        )
        for i in range(processes)
    ]
    for w in workers:
        w.start()
    wait_ready(ready)
    start = time.perf_counter()
    go.value = 1
    time.sleep(args.duration)
    stop.value = 1
    while not all(done[i] or w.exitcode is not None for i, w in enumerate(workers)):
        time.sleep(0.0001)
    seconds = time.perf_counter() - start
    for w in workers:
        finish(w)
    return seconds


def counting_worker(i, cpu, ready, go, stop, done, loop, obj, counts):
    """A worker of count_for: pinned, at the gate, then loop(obj, stop),
    the timed loop itself (MIN_COUNT operations at least, then until the
    stop), whose count it leaves in counts[i]."""
    pin(cpu)
    arrive(ready, go, i)
    counts[i] = loop(obj, stop)
    done[i] = 1


def count_for(args, processes, loop, obj):
    """Runs `processes` counting workers of loop on obj for the duration:
    the operations they did, and the seconds they had."""
    counts = CTX.RawArray("q", processes)
    seconds = run_workers(args, processes, counting_worker, (loop, obj, counts))
    return sum(counts), seconds


def semaphore_loop(sem, stop):
    """A counting worker's loop: an acquire and a release of `sem`."""
    n = 0
    while n < MIN_COUNT or not stop.value:
        sem.acquire()
        sem.release()
        n += 1
    return n


def semaphore_pairs(args, processes):
    sem = CTX.Semaphore(1)
    total, seconds = count_for(args, processes, semaphore_loop, sem)
    return {"per_s": total / seconds, "count": total}


def event_pong(there, back, stop, cpu):
    pin(cpu)
    while True:
        there.wait()
        there.clear()
        if stop.value:
            return
        back.set()


def event_round_trip(args, _processes):
    there, back = CTX.Event(), CTX.Event()
    stop = CTX.RawValue("i", 0)
    p = start_pong(args, event_pong, (there, back, stop))

    def round_trip():
        there.set()
        back.wait()
        back.clear()

    def end():
        stop.value = 1
        there.set()

    return round_trips(args, p, round_trip, end)


def barrier_worker(i, cpu, ready, go, stop, done, barrier, last, rounds):
    # Every party must stop after the same round: worker 0, at the end of
    # the first round it finishes after the stop (round r), names round
    # r + 1 the last, as ipc-bench does.
    pin(cpu)
    arrive(ready, go, i)
    n = 0
    while True:
        barrier.wait()
        n += 1
        if i == 0 and not last.value and n >= MIN_COUNT and stop.value:
            last.value = n + 1
        if last.value and n >= last.value:
            break
    if i == 0:
        rounds.value = n
    done[i] = 1


def barrier_rounds(args, parties):
    barrier = CTX.Barrier(parties)
    last, rounds = CTX.RawValue("q", 0), CTX.RawValue("q", 0)
    seconds = run_workers(args, parties, barrier_worker, (barrier, last, rounds))
    return {"per_s": rounds.value / seconds, "count": rounds.value}


# --- Pool, Manager -----------------------------------------------------

# As ipc-bench: 10 000 small tasks, or 8 tasks of 1 MiB each; 100 keys.
SMALL_TASKS = 10_000
LARGE_TASKS = 8
LARGE_BYTES = 1 << 20
KEYS = 100


def square(x):
    return x * x


def byte_sum(data):
    return sum(data)


def maps_for(duration, tasks, item_bytes, run_map):
    """Runs run_map (a map of `tasks` tasks) again and again for
    `duration`, at least once."""
    start = time.perf_counter()
    done = 0
    while True:
        run_map()
        done += tasks
        if time.perf_counter() - start >= duration:
            break
    seconds = time.perf_counter() - start
    result = {"per_s": done / seconds, "count": done}
    if item_bytes:
        result["bytes_per_s"] = done * item_bytes / seconds
    return result


def start_pool(args, workers):
    """A pool whose workers may run on every worker CPU, as ipc-bench's:
    forked while the parent may, the parent pinned back afterwards."""
    if args.worker_cpus:
        os.sched_setaffinity(0, set(args.worker_cpus))
    pool = CTX.Pool(workers)
    pin(args.ping_cpu)
    return pool


def pool_map(args, workers):
    last = square(SMALL_TASKS - 1)
    with start_pool(args, workers) as pool:

        def run_map():
            squares = pool.map(square, range(SMALL_TASKS))
            if len(squares) != SMALL_TASKS or squares[-1] != last:
                raise RuntimeError("Pool.map of squares gave a wrong result")

        result = maps_for(args.duration, SMALL_TASKS, 0, run_map)
        pool.close()
        pool.join()
    return result


def large_item():
    return bytes(i % 251 for i in range(LARGE_BYTES))


def pool_map_large(args, workers):
    item = large_item()
    total = byte_sum(item)
    with start_pool(args, workers) as pool:

        def run_map():
            # Each task its own 1 MiB object, as ipc-bench's items are.
            sums = pool.map(byte_sum, [bytes(item) for _ in range(LARGE_TASKS)])
            if sums != [total] * LARGE_TASKS:
                raise RuntimeError("Pool.map of 1 MiB sums gave a wrong result")

        result = maps_for(args.duration, LARGE_TASKS, LARGE_BYTES, run_map)
        pool.close()
        pool.join()
    return result


def ops_for(duration, op):
    """Calls op(k) for k over the keys in turn for `duration`, at least
    MIN_COUNT times; the operations per second."""
    start = time.perf_counter()
    done = 0
    while True:
        op(done % KEYS)
        done += 1
        if done >= MIN_COUNT and time.perf_counter() - start >= duration:
            break
    return {"per_s": done / (time.perf_counter() - start), "count": done}


def dict_ops(args, before, op, after):
    """A manager whose server runs on the pong CPU, as ipc-bench's; its
    dict d and the keys: before(d, keys), then op(d, keys, k) for the
    duration, then after(d, keys) says whether d is right."""
    keys = [f"key{k}" for k in range(KEYS)]
    pin(args.pong_cpu)
    manager = CTX.Manager()
    pin(args.ping_cpu)
    try:
        d = manager.dict()
        before(d, keys)
        result = ops_for(args.duration, lambda k: op(d, keys, k))
        if not after(d, keys):
            raise RuntimeError("Manager dict operations gave a wrong result")
    finally:
        manager.shutdown()
    return result


def manager_set(args, _clients):
    def op(d, keys, k):
        d[keys[k]] = k

    # The first operation set key 0 to 0, however short the run.
    return dict_ops(args, lambda d, keys: None, op, lambda d, keys: d.get(keys[0]) == 0)


def manager_get(args, _clients):
    def op(d, keys, k):
        if d.get(keys[k]) != k:
            raise RuntimeError("Manager dict get gave a wrong result")

    def before(d, keys):
        d.update({key: k for k, key in enumerate(keys)})

    return dict_ops(args, before, op, lambda d, keys: True)


# --- main --------------------------------------------------------------


def cpu(text):
    return None if text in ("", "none") else int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=0.4, help="seconds per measurement")
    parser.add_argument("--sizes", default="8,64,4096,65536,1048576", help="message sizes in bytes")
    parser.add_argument("--processes", default="1,5", help="Value workers to measure with")
    parser.add_argument("--ping-cpu", type=cpu, default=None, help="CPU of the parent (ping)")
    parser.add_argument("--pong-cpu", type=cpu, default=None, help="CPU of the partner (pong)")
    parser.add_argument("--worker-cpus", default="", help="CPUs the workers take in turn")
    parser.add_argument(
        "--mechanisms",
        default="Queue,Pipe,Value,Semaphore,Event,Barrier,PoolMap,PoolMapLarge,ManagerSet,ManagerGet",
        help="what to measure, comma-separated",
    )
    args = parser.parse_args()
    chosen = set(m for m in args.mechanisms.split(",") if m)
    args.worker_cpus = [int(c) for c in args.worker_cpus.split(",") if c]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.ping_cpu is None and args.pong_cpu is None and not args.worker_cpus:
        # Not pinned: undo any pinning inherited from the caller.
        try:
            os.sched_setaffinity(0, range(os.cpu_count() or 1))
        except OSError:
            pass
    pin(args.ping_cpu)

    figures = []
    for size in sizes:
        for mechanism, measure in (("Queue", queue_round_trip), ("Pipe", pipe_round_trip)):
            if mechanism in chosen:
                figures.append({"mechanism": mechanism, "metric": "round_trip", "size": size, **measure(args, size)})
    for size in sizes:
        for mechanism, measure in (("Queue", queue_throughput), ("Pipe", pipe_throughput)):
            if mechanism in chosen:
                figures.append({"mechanism": mechanism, "metric": "throughput", "size": size, **measure(args, size)})
    if "Value" in chosen:
        for processes in (int(p) for p in args.processes.split(",") if p):
            figures.append(
                {"mechanism": "Value", "metric": "increments", "processes": processes,
                 **value_increments(args, processes)}
            )
    # The synchronisation twins, the pool and the manager, with as many
    # processes (workers, clients) as ipc-bench's.
    for mechanism, metric, measure, processes in (
        ("Semaphore", "sync", semaphore_pairs, 1),
        ("Semaphore", "sync", semaphore_pairs, 4),
        ("Event", "sync", event_round_trip, 2),
        ("Barrier", "sync", barrier_rounds, 4),
        ("PoolMap", "pool", pool_map, 2),
        ("PoolMapLarge", "pool", pool_map_large, 2),
        ("PoolMap", "pool", pool_map, 4),
        ("PoolMapLarge", "pool", pool_map_large, 4),
        ("ManagerSet", "pool", manager_set, 1),
        ("ManagerGet", "pool", manager_get, 1),
    ):
        if mechanism in chosen:
            figures.append({"mechanism": mechanism, "metric": metric, "processes": processes,
                            **measure(args, processes)})
    json.dump(
        {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "start_method": "fork",
            "figures": figures,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
