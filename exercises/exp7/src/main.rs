use std::process::ExitCode;

use clap::Parser;
use ipc_cli::Signals;

/// Seed 000's menu: reads one choice per line from stdin and runs
///   1  IPC using shared memory   (the code of exp7-shm)
///   2  IPC using a message queue (the code of exp7-queue)
///   3  IPC using pipes           (the code of exp7-pipe)
///   4  exit
/// Anything else prints "Invalid option" and exits with 2; the end of stdin
/// exits with 0. Exit codes: 0 done (choice 4 or the end of stdin), 1 a
/// failure (a process died, a full disk), 2 an invalid option or bad usage. The menu prompt is shown only when stdin is a terminal,
/// so a script gets nothing but the experiments' lines:
///
///   printf '1\n2\n3\n4\n' | exp7
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: ipc_cli::Common,
}

// Ctrl-C and SIGTERM end it at once, as they end the seed's program
// (no handler): its memory and pipes are anonymous.
fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    ipc_cli::run_with("exp7", Signals::Default, &args.common, exp7::run)
}
