use std::process::ExitCode;

use clap::Parser;
use ipc_cli::List;

/// Seed 001: a writer process fills a shared Array of ten -1s with 1..10,
/// pausing 5 seconds after the sixth value, while a reader process polls
/// the array, retrying every second while a slot is still -1.
///
/// Every line is a log record on stderr, `INFO:<process>:<message>`, as
/// Python's logging prints it (RUST_LOG=warn silences them). Ctrl-C or
/// SIGTERM stops both processes at their next sleep; the program then
/// exits with 0. If one process dies, the other is stopped and the parent
/// names it (`process1 was killed by SIGKILL`). Exit codes: 0 done (or
/// stopped by a signal), 1 a failure, 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The values the writer stores instead of the seed's 1 to 10, a slot
    /// each: 1 to 30 comma-separated whole numbers from 0 to 999999
    /// (42,7,19)
    #[arg(long, value_name = "N,N,...", allow_hyphen_values = true,
          value_parser = exp3_polling::extras::values)]
    values: Option<List<i32>>,

    #[command(flatten)]
    common: ipc_cli::Common,
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let values = List::or_seed(args.values, &exp3_polling::VALUES);
    ipc_cli::run("exp3-polling", &args.common, || {
        exp3_polling::run_with(&values)
    })
}
