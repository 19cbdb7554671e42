use std::process::ExitCode;

use clap::Parser;
use exp4_counter::{Segment, extras};
use ipc_core::IpcName;

/// Seed 003: a counter in named shared memory. Process 1 increments it
/// every 5 seconds ("Process-1: Counter incremented to N"); process 2
/// prints its square every second ("Process-2: Square of counter value N
/// is M"). Ctrl-C, SIGTERM or --ticks ends both; the segment is then
/// unlinked. Without --ticks, the run lasts until Ctrl-C, as the seed's,
/// or 12 ticks with --fast (for scripts).
///
/// The counter is an unsigned 32-bit little-endian integer at offset 0 of
/// /dev/shm/ipc-lab-NAME. Exit codes: 0 done (also after Ctrl-C), 1 a
/// failure (a taken name, a process that died, the watched run ended), 2
/// bad usage (a bad name,
/// nothing to attach to).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Create the segment as ipc-lab-NAME (it must not exist yet), so that
    /// another program can attach to it [default: a fresh unique name]
    #[arg(long, value_name = "NAME", conflicts_with = "attach")]
    name: Option<IpcName>,
    /// Attach to the segment of a running `exp4-counter --name NAME` and
    /// print the squares of its counter (process 2 only; never unlinks it;
    /// stops, exit code 1, when that run ends and removes it)
    #[arg(long, value_name = "NAME")]
    attach: Option<IpcName>,
    /// Stop after N ticks, a whole number, 0 or more. A tick is 1 second
    /// (1 ms with --fast): process 2 prints once a tick, process 1
    /// increments every 5 ticks [default: run until Ctrl-C or SIGTERM; 12
    /// ticks with --fast]
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(0..=u64::MAX, "ticks", "a tick is 1 second, 1 ms with --fast"))]
    ticks: Option<u64>,
    #[command(flatten)]
    common: ipc_cli::Common,
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let segment = Segment::from_flags(args.name, args.attach);
    let limit = extras::limit(args.ticks, args.common.fast);
    ipc_cli::run("exp4-counter", &args.common, || {
        exp4_counter::run(segment, limit)
    })
}
