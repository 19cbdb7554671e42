use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ipc_cli::Common;

/// Seed 002, Exercise 1: five processes, each with its own target function
/// (add_one ... add_five), update one shared Value<u64> many times; the
/// parent prints the expected and the final value, which are equal because
/// every update (load, add 1, store) happens under the Value's lock.
///
/// With --no-lock the value is a RawValue without a lock: updates from
/// different processes interleave, some are overwritten, and the parent
/// prints how many were lost.
///
/// Ctrl-C or SIGTERM stops every process at its next update; the parent
/// says so instead of printing the totals. Exit codes: 0 done (also after
/// Ctrl-C), 1 a failure (a process died), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Passes each process makes, from 1 to 5000000 (default 100000);
    /// process k adds k per pass, as k updates of +1, so the expected total
    /// is 15 x N with the five processes
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = passes())]
    iterations: Option<u64>,

    /// How many processes run, from 1 to 5 (default 5): p1 to pK run
    /// add_one to the K-th target, so the expected total is N x K(K+1)/2
    #[arg(long, value_name = "K", allow_hyphen_values = true, value_parser = processes())]
    processes: Option<u64>,

    /// Use a RawValue without a lock and count the updates that get lost
    #[arg(long)]
    no_lock: bool,

    #[command(flatten)]
    common: Common,
}

#[derive(Subcommand)]
enum Command {
    /// Seed 002, Example 1: a child sets a shared Value<f64> to 2.678 and
    /// the parent prints it
    Example,
}

/// What `--iterations` accepts, said in words when it is refused.
fn passes() -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    let range = exp11_value::extras::PASSES;
    ipc_cli::whole_number(range, "passes", exp11_value::extras::PASSES_NOTE)
}

/// What `--processes` accepts, said in words when it is refused.
fn processes() -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    let range = exp11_value::extras::PROCESSES;
    ipc_cli::whole_number(range, "processes", exp11_value::extras::PROCESSES_NOTE)
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    match args.command {
        Some(Command::Example) => ipc_cli::run("exp11-value", &args.common, exp11_value::example),
        None => ipc_cli::run("exp11-value", &args.common, || {
            let passes = args.iterations.unwrap_or(exp11_value::DEFAULT_PASSES);
            // Within PROCESSES: at most the five targets.
            let count = args
                .processes
                .map_or(exp11_value::TARGETS.len(), |k| k as usize);
            exp11_value::run(&exp11_value::TARGETS[..count], passes, !args.no_lock)
        }),
    }
}
