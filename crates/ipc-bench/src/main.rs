use std::process::ExitCode;

use clap::Parser;

/// Measures every ipc-lab mechanism side by side: round-trip latency
/// (ping-pong between two processes, median and p99) and one-way
/// throughput for 8 B to 1 MiB messages, increments per second of a
/// locked Value, the synchronisation twins (Semaphore pairs per second, an
/// Event ping-pong, Barrier rounds), Pool.map tasks per second (many small
/// tasks and a few 1 MiB ones, by 2 and 4 workers) and Manager dict set and
/// get per second and, with --scaling, how each family's
/// rate changes from 1 to 16 processes. Each ipc-core figure stands beside
/// its raw floor (the same job with the same copies and the same way of
/// waiting, written directly on the system calls and atomics; a row more
/// than 10% faster than its floor is marked "floor suspect"), the Rust
/// crates a user would pick instead (ipc-channel, interprocess, iceoryx2)
/// and, where Python has the same thing, Python multiprocessing from the
/// same run; NATS on loopback (when nats-server is installed) stands
/// beside the socket pair. With --repeat, every figure is a median with
/// its spread (min–max). (`--fast`, which every ipc-lab program takes,
/// means `--quick` here.)
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    options: ipc_bench::Options,
    #[command(flatten)]
    common: ipc_cli::Common,
}

fn main() -> ExitCode {
    let args = Args::parse();
    ipc_cli::run("ipc-bench", &args.common, || {
        ipc_bench::run(&args.options, args.common.fast)
    })
}
