use std::process::ExitCode;

use clap::Parser;
use ipc_cli::{List, Signals};

/// Seed 000, choice 1: a child process squares [1, 2, 3, 4] into a shared
/// Array and stores the sum in a shared Value; parent and child both print
/// what they see in the shared memory.
///
/// Exit codes: 0 done, 1 a failure (the child died: `p1 was killed by
/// SIGKILL`; a full disk), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The list p1 squares instead of the seed's 1,2,3,4: 1 to 16
    /// comma-separated whole numbers from -10000 to 10000 (3,8,5)
    #[arg(long, value_name = "N,N,...", allow_hyphen_values = true,
          value_parser = exp7_shm::extras::numbers)]
    numbers: Option<List<i32>>,

    #[command(flatten)]
    common: ipc_cli::Common,
}

// Ctrl-C and SIGTERM end it at once, as they end the seed's program
// (no handler): its memory and pipes are anonymous.
fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let mylist = List::or_seed(args.numbers, &exp7_shm::MYLIST);
    ipc_cli::run_with("exp7-shm", Signals::Default, &args.common, || {
        exp7_shm::run_with(&mylist)
    })
}
