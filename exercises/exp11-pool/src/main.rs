use std::process::ExitCode;

use clap::Parser;
use exp11_pool::extras;
use ipc_cli::Common;

/// Seed 002's squares, at scale: a Pool of worker processes squares a list
/// of numbers with Pool.map (each worker recording its pid per number in a
/// Manager dict) and with imap_unordered (results as they come, sorted
/// before printing); the main program prints both lists and how many
/// distinct workers the dict names.
///
/// --fail K makes the task of the number K fail on purpose: Pool.map
/// raises its error in the main program, which prints it and goes on.
///
/// Exit codes: 0 done (also when a task failed on purpose), 1 a failure
/// (a worker or the manager could not start, Ctrl-C), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The numbers to square, comma-separated (default 1,2,...,10): 1 to
    /// 100 whole numbers from -1000000 to 1000000
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, value_parser = extras::numbers)]
    numbers: Option<ipc_cli::List<i64>>,

    /// Worker processes in the pool, from 1 to 16 (default 4)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = workers())]
    workers: Option<u64>,

    /// Make the task of the number K fail on purpose (nothing fails when
    /// K is not among the numbers)
    #[arg(long, value_name = "K", allow_hyphen_values = true, value_parser = extras::fail)]
    fail: Option<i64>,

    /// Print, for every number, the pid of the worker that squared it
    #[arg(long)]
    who: bool,

    #[command(flatten)]
    common: Common,
}

/// What `--workers` accepts, said in words when it is refused.
fn workers() -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    ipc_cli::whole_number(extras::WORKERS, "workers", extras::WORKERS_NOTE)
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    ipc_cli::run("exp11-pool", &args.common, || {
        let numbers = ipc_cli::List::or_seed(args.numbers.clone(), &exp11_pool::DEFAULT_NUMBERS);
        // Within WORKERS: at most 16.
        let workers = args
            .workers
            .map_or(exp11_pool::DEFAULT_WORKERS, |n| n as usize);
        exp11_pool::run(&numbers, workers, args.fail, args.who)
    })
}
