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
    /// The message the sender sends instead of the seed's: 1 to 160
    /// bytes of printable text
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true,
          value_parser = exp1_queue::extras::message)]
    message: Option<String>,

    #[command(flatten)]
    common: ipc_cli::Common,
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let message = args.message.as_deref().unwrap_or(exp1_queue::MESSAGE);
    ipc_cli::run("exp1-queue", &args.common, || {
        exp1_queue::run_ipc_with(message)
    })
}
