use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use exp7_pipe::Schedule;
use ipc_cli::Signals;

/// Seed 000, choice 3: IPC using pipes. A sender process sends "First",
/// "second", "third?" and "END" through a pipe (Python's Pipe(), a pair of
/// connected sockets); a receiver process prints every message until END.
///
/// By default the sender runs to its end before the receiver starts, so the
/// messages wait in the pipe and the output is the same on every run.
/// With --simplex, the seed's "two pipes" instead: one-way pipes (pipe(2)),
/// the first from the sender to the receiver, the second back for the
/// receiver's reply.
///
/// Exit codes: 0 done, 1 a failure (a process died: `p1 was killed by
/// SIGKILL`; the receiver gone: `the other end is gone`), 2 bad usage.
/// Ctrl-C or SIGTERM ends every process at once.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Start the sender and the receiver at the same time, as the seed
    /// does: each prints its own lines in order, but how the two interleave
    /// changes from run to run
    #[arg(long)]
    concurrent: bool,

    /// Close the receiving end before the sender starts: its first send
    /// fails with "the other end is gone" (EPIPE, not death by SIGPIPE) and
    /// the program exits with 1
    #[arg(long, conflicts_with = "concurrent")]
    no_receiver: bool,

    /// The seed's "two pipes", one each way, made with pipe(2) instead of
    /// one socket pair: the messages go to the receiver on the first, and
    /// the receiver answers "got END" on the second. Both processes run
    /// at once (the sender waits for the answer)
    #[arg(long, conflicts_with = "no_receiver")]
    simplex: bool,

    /// p1 waits SECONDS, from 0 to 60, before each message (a thousandth
    /// of that with --fast). With --concurrent, p2 meanwhile waits in
    /// recv(); Ctrl-C ends every process at once
    #[arg(long, value_name = "SECONDS", default_value_t = 0, allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(0..=60, "seconds", "p1 waits that long before each message"))]
    delay: u64,

    /// The messages p1 sends instead of the seed's First,second,third?,
    /// then END: 1 to 16 comma-separated messages of 1 to 64 bytes, none
    /// of them END
    #[arg(long, value_name = "TEXT,TEXT,...", allow_hyphen_values = true,
          value_parser = exp7_pipe::extras::messages)]
    messages: Option<ipc_cli::List<String>>,

    #[command(flatten)]
    common: ipc_cli::Common,
}

// Ctrl-C and SIGTERM end it at once, as they end the seed's program
// (no handler): its memory and pipes are anonymous.
fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let schedule = if args.no_receiver {
        Schedule::NoReceiver
    } else if args.concurrent {
        Schedule::Concurrent
    } else {
        Schedule::SenderFirst
    };
    let msgs: Vec<String> = match args.messages {
        // The receiver stops at END: it goes last, by itself.
        Some(messages) => messages.0.into_iter().chain(["END".into()]).collect(),
        None => exp7_pipe::MSGS.map(String::from).to_vec(),
    };
    let delay = Duration::from_secs(args.delay);
    ipc_cli::run_with("exp7-pipe", Signals::Default, &args.common, || {
        if args.simplex {
            exp7_pipe::run_simplex(&msgs, delay)
        } else {
            exp7_pipe::run_with(&msgs, schedule, delay)
        }
    })
}
