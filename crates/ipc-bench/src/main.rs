use std::process::ExitCode;

use clap::Parser;

/// Measures every ipc-lab mechanism side by side: round-trip latency
/// (ping-pong between two processes, median and p99) and one-way
/// throughput for 8 B to 1 MiB messages, and increments per second of a
/// locked Value. Each ipc-core figure stands beside its raw floor (the same
/// mechanism written directly on the system calls) and, where Python has
/// the same thing, beside Python multiprocessing from the same run.
/// (`--fast`, which every ipc-lab program takes, means `--quick` here.)
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    options: ipc_bench::Options,
    #[command(flatten)]
    common: ipc_core::cli::Common,
}

fn main() -> ExitCode {
    let args = Args::parse();
    ipc_core::cli::run("ipc-bench", &args.common, || {
        ipc_bench::run(&args.options, args.common.fast)
    })
}
