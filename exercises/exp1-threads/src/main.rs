use std::process::ExitCode;

use clap::Parser;
use exp1_threads::extras::{Options, UPDATES, UPDATES_NOTE, WORKERS, WORKERS_NOTE};

/// Seed 004 theory (multi-threaded programs) on seed 002's exercise: one
/// counter updated by 4 processes, then by 4 threads, 200000 times each.
/// Processes forked with an ordinary variable each update their own copy
/// (the parent still reads 0); they share a Value<u64> mapped shared,
/// with its lock. Threads share their process's memory: a Mutex<u64>, an
/// AtomicU64 with fetch_add. The totals are exact.
///
/// With --no-lock the processes use a RawValue without a lock and the
/// threads an atomic's load then store: both lose updates, and the lines
/// say how many. --timings adds what starting a process or a thread, and
/// one update, cost.
///
/// Ctrl-C or SIGTERM stops the workers at their next update; the run says
/// so. Exit codes: 0 done (also after Ctrl-C), 1 a failure (a process
/// died: `p3 was killed by SIGKILL`), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// How many processes, then how many threads, update the counter: 1 to
    /// 8 (default 4)
    #[arg(long, value_name = "K", allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(WORKERS, "workers", WORKERS_NOTE))]
    workers: Option<u64>,

    /// Updates of +1 each worker makes: 1 to 1000000 (default 200000)
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(UPDATES, "updates", UPDATES_NOTE))]
    updates: Option<u64>,

    /// A RawValue for the processes and an atomic's load then store for the
    /// threads, without any lock: updates are lost
    #[arg(long)]
    no_lock: bool,

    /// Also print what starting and joining a process or a thread, and one
    /// update of each counter, cost
    #[arg(long)]
    timings: bool,

    #[command(flatten)]
    common: ipc_cli::Common,
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let defaults = Options::default();
    let options = Options {
        workers: args.workers.unwrap_or(defaults.workers),
        updates: args.updates.unwrap_or(defaults.updates),
        lock: !args.no_lock,
        timings: args.timings,
    };
    ipc_cli::run("exp1-threads", &args.common, || exp1_threads::run(&options))
}
