use std::process::ExitCode;

use clap::{Parser, Subcommand};
use exp4_signals::extras::{Options, SIGNALS, SIGNALS_NOTE};

/// Seed 004 theory on seed 001's program: a writer fills a shared array of
/// ten -1s with 1..10, pausing 5 seconds after the sixth value, and after
/// each value queues SIGRTMIN ("data ready in slot N") to a reader that
/// sleeps in sigtimedwait(2) until told, instead of polling. Then the
/// writer sends 1000 SIGUSR1 and 1000 SIGRTMIN+1 while the reader is busy:
/// one SIGUSR1 arrives (standard signals do not queue), every SIGRTMIN+1
/// arrives in order with its number (real-time signals queue).
///
/// Without a role, the parent forks both. With a role, run `reader` in one
/// terminal and `writer PID` in another. Ctrl-C or SIGTERM stops both
/// processes at their next wait; the program then exits with 0. Exit
/// codes: 0 done (or stopped by a signal), 1 a failure (a process died:
/// `writer was killed by SIGKILL`), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The values the writer stores instead of the seed's 1 to 10, a slot
    /// each: 1 to 30 comma-separated whole numbers from 0 to 999999
    /// (42,7,19)
    #[arg(long, value_name = "N,N,...", allow_hyphen_values = true,
          value_parser = exp4_signals::extras::values)]
    values: Option<ipc_cli::List<i32>>,

    /// How many SIGUSR1 and how many SIGRTMIN+1 the burst sends, from 1 to
    /// 5000 (default 1000)
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(SIGNALS, "signals", SIGNALS_NOTE))]
    signals: Option<u64>,

    /// The reader also prints the CPU time and the wake-ups its reads took
    #[arg(long, global = true)]
    timings: bool,

    #[command(flatten)]
    roles: ipc_cli::Roles<Role>,
}

#[derive(Subcommand)]
enum Role {
    /// Block the signals, make the array /dev/shm/ipc-lab-exp4-signals-PID,
    /// print the pid, then read what a writer notifies
    Reader,
    /// Fill the array of the reader PID, notifying it, then send the burst
    Writer {
        /// The reader's pid, as it printed it
        #[arg(value_parser = clap::value_parser!(i32).range(1..))]
        pid: i32,
    },
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let mut options = Options {
        timings: args.timings,
        ..Options::default()
    };
    if let Some(values) = args.values {
        options.values = values.0;
    }
    if let Some(signals) = args.signals {
        // Within SIGNALS: fits a u32.
        options.signals = signals as u32;
    }
    let ipc_cli::Roles { role, common } = args.roles;
    ipc_cli::run("exp4-signals", &common, || match role {
        None => exp4_signals::run(&options),
        Some(Role::Reader) => exp4_signals::roles::run_reader(options.timings),
        Some(Role::Writer { pid }) => exp4_signals::roles::run_writer(pid),
    })
}
