use std::process::ExitCode;

use clap::Parser;

/// Seed 000's menu: reads choices from standard input and runs
/// 1 shared memory (exp7-shm), 2 message queue (exp7-queue), 3 pipes
/// (exp7-pipe), 4 exit. Anything else prints "Invalid option" and exits
/// with 2; the end of the input exits with 0.
///
/// Example: printf '1\n2\n3\n4\n' | exp7
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: ipc_core::cli::Common,
}

fn main() -> ExitCode {
    let args = Args::parse();
    ipc_core::cli::run("exp7", &args.common, exp7::run)
}
