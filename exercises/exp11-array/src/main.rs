use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ipc_cli::{Common, Signals};

/// Seed 002, Exercise 2: draws 10 random numbers in 0..=10; process p1
/// squares the first five and process p2 the last five into one shared
/// Array, at the same time; the parent prints the numbers and the squares
/// as Python lists.
///
/// Every run prints its seed; --seed N repeats a run exactly.
///
/// Exit codes: 0 done, 1 a failure (a process died: `p1 was killed by
/// SIGKILL`; a full disk), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Seed of the random numbers, a whole number from 0 to 2^64 - 1
    /// (default: a fresh one, printed)
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(0..=u64::MAX, "", "a seed that a run printed"))]
    seed: Option<u64>,

    #[command(flatten)]
    common: Common,
}

#[derive(Subcommand)]
enum Command {
    /// Seed 002, Example 2: a child squares the shared Array 0..10 in place
    /// and the parent prints it
    Example,
}

// Ctrl-C and SIGTERM end it at once, as they end the seed's program
// (no handler): its memory and pipes are anonymous.
fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    match args.command {
        Some(Command::Example) => ipc_cli::run_with(
            "exp11-array",
            Signals::Default,
            &args.common,
            exp11_array::example,
        ),
        None => ipc_cli::run_with("exp11-array", Signals::Default, &args.common, || {
            exp11_array::run(args.seed)
        }),
    }
}
