use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_cli::Signals;

/// Seed 000, choice 2: process p1 puts the squares of [1, 2, 3, 4] on a
/// shared Queue and closes it; process p2 prints every element until the
/// queue is closed and drained.
///
/// Exit codes: 0 done, 1 a failure (a process died: `p1 was killed by
/// SIGKILL`), 2 bad usage. Ctrl-C or SIGTERM ends every process at once.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Start p2 before p1 instead of after it, so that p2 waits in get()
    /// for each square (the output is the same)
    #[arg(long)]
    together: bool,

    /// p1 waits SECONDS, from 0 to 60, before each square (a thousandth
    /// of that with --fast). With --together, p2 meanwhile waits in get();
    /// Ctrl-C ends every process at once
    #[arg(long, value_name = "SECONDS", default_value_t = 0, allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(0..=60, "seconds", "p1 waits that long before each square"))]
    delay: u64,

    #[command(flatten)]
    mylist: ipc_cli::Mylist,

    #[command(flatten)]
    common: ipc_cli::Common,
}

// Ctrl-C and SIGTERM end it at once, as they end the seed's program
// (no handler): its memory and pipes are anonymous.
fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let start = if args.together {
        exp7_queue::Start::Together
    } else {
        exp7_queue::Start::InTurn
    };
    let mylist = args.mylist.or_seed(&exp7_queue::MYLIST);
    ipc_cli::run_with("exp7-queue", Signals::Default, &args.common, || {
        exp7_queue::run_with(&mylist, start, Duration::from_secs(args.delay))
    })
}
