use std::process::ExitCode;

use clap::Parser;

/// Seed 000, choice 1: a child process squares [1, 2, 3, 4] into a shared
/// Array and stores the sum in a shared Value; parent and child both print
/// what they see in the shared memory.
///
/// Exit codes: 0 done, 1 a failure (the child died: `p1 was killed by
/// SIGKILL`; a full disk), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: ipc_core::cli::Common,
}

fn main() -> ExitCode {
    let args: Args = ipc_core::cli::parse();
    ipc_core::cli::run("exp7-shm", &args.common, exp7_shm::run)
}
