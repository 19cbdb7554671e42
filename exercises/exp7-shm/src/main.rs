use std::process::ExitCode;

use clap::Parser;
use ipc_cli::Signals;

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
    mylist: ipc_cli::Mylist,

    #[command(flatten)]
    common: ipc_cli::Common,
}

// Ctrl-C and SIGTERM end it at once, as they end the seed's program
// (no handler): its memory and pipes are anonymous.
fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let mylist = args.mylist.or_seed(&exp7_shm::MYLIST);
    ipc_cli::run_with("exp7-shm", Signals::Default, &args.common, || {
        exp7_shm::run_with(&mylist)
    })
}
