use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Seed 001 theory, FIFO: a named pipe between two unrelated processes.
///
/// Without a role, creates a FIFO (mode 0600), forks a writer that sends
/// "First", "second", "third?" one line a second and a reader that prints
/// them, then removes the FIFO. With a role, run `reader` in one terminal
/// and `writer` in another (or `echo hi > FIFO` / `cat FIFO` from a shell):
/// each creates the FIFO if it is missing and removes it if it did.
/// Ctrl-C or SIGTERM ends a waiting role, FIFO removed.
///
/// Exit codes: 0 done (also after Ctrl-C), 1 a failure (the reader went
/// away, a taken path), 2 bad usage (a path that is not a FIFO or is a
/// symbolic link).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The FIFO's path [default: a fresh ipc-lab-PID-N-exp3-fifo without a
    /// role, ipc-lab-exp3-fifo with one, in $XDG_RUNTIME_DIR or
    /// /tmp/ipc-lab-user-UID]
    #[arg(long, value_name = "PATH", global = true)]
    path: Option<PathBuf>,
    /// The lines the default run's writer sends instead of First, second,
    /// third?: 1 to 16 comma-separated messages of 1 to 64 bytes of
    /// printable text
    #[arg(long, value_name = "TEXT,TEXT,...", allow_hyphen_values = true,
          value_parser = exp3_fifo::extras::messages)]
    messages: Option<ipc_cli::List<String>>,
    #[command(flatten)]
    roles: ipc_cli::Roles<Role>,
}

#[derive(Subcommand)]
enum Role {
    /// Open the FIFO for reading (waits for a writer) and print each line
    /// received, until every writer has closed it
    Reader {
        /// After the end of file, wait for the next writer (until Ctrl-C)
        #[arg(long)]
        follow: bool,
    },
    /// Open the FIFO for writing (waits for a reader) and send messages,
    /// one line a second
    Writer {
        /// The messages to send, 1 to 16, each 1 to 64 bytes of printable
        /// text [default: First second third?]
        #[arg(value_name = "TEXT", num_args = 0..=16,
              value_parser = exp3_fifo::extras::message)]
        messages: Vec<String>,
    },
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    ipc_cli::run("exp3-fifo", &args.roles.common, || match args.roles.role {
        None => match args.messages {
            Some(messages) => exp3_fifo::run_with(args.path, &messages.0),
            None => exp3_fifo::run(args.path),
        },
        Some(Role::Reader { follow }) => exp3_fifo::run_reader(args.path, follow),
        Some(Role::Writer { messages }) => exp3_fifo::run_writer(args.path, messages),
    })
}
