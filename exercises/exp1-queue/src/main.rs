use std::process::ExitCode;

use clap::Parser;

/// Seed 004: a sender process waits 2 seconds and puts "Hello, introduction
/// to distributed computing" on a shared Queue; a receiver process blocks
/// in get() until the message arrives and prints it; the parent waits for
/// both.
///
/// Ctrl-C or SIGTERM stops both. Exit codes: 0 done, 1 a failure or an
/// interruption (a process died: the parent stops the other one and names
/// it, `receiver was killed by SIGKILL`), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: ipc_core::cli::Common,
}

fn main() -> ExitCode {
    let args: Args = ipc_core::cli::parse();
    ipc_core::cli::run("exp1-queue", &args.common, exp1_queue::run_ipc)
}
