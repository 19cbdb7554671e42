use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};
use ipc_core::cli::{self, Common};

/// Seed 002, Exercise 2: draws 10 random numbers in 0..=10; process p1
/// squares the first five and process p2 the last five into one shared
/// Array, at the same time; the parent prints the numbers and the squares
/// as Python lists.
///
/// Every run prints its seed; --seed N repeats a run exactly.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Seed of the random numbers (default: a fresh one, printed)
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    #[command(flatten)]
    common: Common,
}

#[derive(Subcommand)]
enum Command {
    /// Seed 002, Example 2: a child squares the shared Array 0..10 in place
    /// and the parent prints it
    Example {
        #[command(flatten)]
        common: Common,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Example { common }) => {
            if args.seed.is_some() {
                Args::command()
                    .error(
                        ErrorKind::ArgumentConflict,
                        "--seed belongs to the default run, not to `example`",
                    )
                    .exit();
            }
            let fast = args.common.fast || common.fast;
            cli::run("exp11-array", &Common { fast }, exp11_array::example)
        }
        None => cli::run("exp11-array", &args.common, || exp11_array::run(args.seed)),
    }
}
