use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::builder::TypedValueParser;
use exp3_prodcons::Config;
use exp3_prodcons::options::{
    DEFAULT_CAPACITY, DEFAULT_CONSUMERS, DEFAULT_DELAY, DEFAULT_ITEMS, DEFAULT_PRODUCERS,
    DEFAULT_TIMEOUT,
};

/// Seed 001 theory, the producer–consumer problem: a bounded buffer.
///
/// Producers put numbered items into a ring of --capacity slots in shared
/// memory, consumers take them out; two counting semaphores (free slots,
/// filled slots) and a mutex keep them in step. Each event is one line
/// (`Producer 1 produced 103`, `Consumer 2 consumed 103`); the last line
/// counts what was produced, consumed, lost and duplicated. With
/// --no-sync the same processes share the same ring without the
/// semaphores and the mutex, and items get lost or taken twice. With
/// --condition one condition variable and its lock keep them in step
/// instead: producers wait while the ring is full, consumers while it is
/// empty.
///
/// Every wait is bounded by --timeout, so a dead process never hangs the
/// others. Ctrl-C or SIGTERM ends every process; the summary is printed.
///
/// Exit codes: 0 done (also after Ctrl-C, and with --no-sync whatever the
/// damage), 1 a failure (a process died or gave up waiting: the message
/// names it), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Slots in the ring
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CAPACITY,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000).try_map(NonZeroU32::try_from))]
    capacity: NonZeroU32,
    /// Producer processes
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PRODUCERS,
          value_parser = clap::value_parser!(u64).range(1..=16).try_map(nonzero_usize))]
    producers: NonZeroUsize,
    /// Consumer processes
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONSUMERS,
          value_parser = clap::value_parser!(u64).range(1..=16).try_map(nonzero_usize))]
    consumers: NonZeroUsize,
    /// Items in all, shared out among the producers (and the consumers)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ITEMS,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000).try_map(NonZeroU64::try_from))]
    items: NonZeroU64,
    /// Milliseconds to produce, and to consume, one item (0: none)
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_DELAY.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    delay: u64,
    /// Seconds a process waits for a slot, an item or the lock before it
    /// gives up
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// Guard the ring with one condition (and its lock) instead of the
    /// two semaphores and the mutex
    #[arg(long, conflicts_with = "no_sync")]
    condition: bool,
    /// Run without the semaphores and the mutex, and see the damage
    #[arg(long)]
    no_sync: bool,
    /// Print only the summary line (for large --items)
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    common: ipc_cli::Common,
}

/// A count of processes, which the range before it keeps from 0.
fn nonzero_usize(n: u64) -> Result<NonZeroUsize, std::num::TryFromIntError> {
    NonZeroUsize::try_from(usize::try_from(n)?)
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let config = Config {
        capacity: args.capacity,
        producers: args.producers,
        consumers: args.consumers,
        items: args.items,
        delay: Duration::from_millis(args.delay),
        timeout: Duration::from_secs(args.timeout),
        sync: !args.no_sync,
        condition: args.condition,
        quiet: args.quiet,
    };
    ipc_cli::run("exp3-prodcons", &args.common, || {
        exp3_prodcons::run(&config)
    })
}
