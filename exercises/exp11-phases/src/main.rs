use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use exp11_phases::Config;
use exp11_phases::extras::{NUMBERS, PHASES, UNIT};
use ipc_cli::{Common, List, Signals};

/// Seed 002's exercises, in phases: one worker process per number of a
/// ring, all at once over one shared Array. In each phase, worker k sums
/// its cell and its two neighbours' (around the ring) of the phase before;
/// a Barrier keeps every worker out of a phase until all have finished the
/// one before. The parent prints every phase, the sums computed one phase
/// after the other, and whether the workers found them. With --no-barrier
/// the workers do not wait for each other, and a fast worker reads a slow
/// neighbour's cell before it was written.
///
/// Exit codes: 0 done (also with --no-barrier, whatever the sums), 1 a
/// failure (a worker died or gave up waiting at the barrier: `worker 3 was
/// killed by SIGKILL`), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The numbers, one worker each: a comma-separated list of 2 to 16
    /// whole numbers from -1000 to 1000 (default 3,1,4,1,5,9,2,6)
    #[arg(long, value_name = "LIST", allow_hyphen_values = true,
          value_parser = numbers)]
    numbers: Option<List<i64>>,
    /// How many phases
    #[arg(long, value_name = "N", default_value_t = PHASES as u64,
          value_parser = clap::value_parser!(u64).range(1..=10))]
    phases: u64,
    /// A worker's time unit in milliseconds: worker k of n works n - k
    /// units a phase (0: no pause)
    #[arg(long, value_name = "MS", default_value_t = UNIT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    delay: u64,
    /// Run without the barrier between phases, and see the damage
    #[arg(long)]
    no_barrier: bool,
    #[command(flatten)]
    common: Common,
}

/// Parses `--numbers`: 2 to 16 whole numbers from -1000 to 1000.
fn numbers(text: &str) -> Result<List<i64>, String> {
    ipc_cli::whole_numbers(2..=16, -1000_i64..=1000, "one worker each")(text)
}

// Ctrl-C and SIGTERM end it at once, as they end the seed's programs (no
// handler): its Array and its Barrier are anonymous shared memory.
fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let config = Config {
        numbers: List::or_seed(args.numbers, &NUMBERS),
        phases: args.phases as usize,
        unit: Duration::from_millis(args.delay),
        barrier: !args.no_barrier,
    };
    ipc_cli::run_with("exp11-phases", Signals::Default, &args.common, || {
        exp11_phases::run(&config)
    })
}
