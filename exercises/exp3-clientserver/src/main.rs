use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use exp3_clientserver::protocol::MAX_NUMBER;
use exp3_clientserver::{Config, options, roles};
use ipc_core::IpcName;

/// Seed 001 theory, clients and servers: a server answers clients over
/// POSIX message queues.
///
/// The server creates a well-known message queue; each client creates a
/// reply queue of its own, sends a number and the reply queue's name to
/// the server's queue, and receives the square. Without a role: a server
/// and --clients clients forked (`Client 2 sent 7, received 49` each, then
/// `Server answered 3 requests`). With a role, for two terminals: `server`
/// (serves until Ctrl-C) and `client N`. A client that dies does not stop
/// the server; a client whose server is gone gives up after --timeout.
/// Every queue is removed on every ending (but SIGKILL of a role).
///
/// Exit codes: 0 done (also after Ctrl-C), 1 a failure (a process died, a
/// client got no answer in time, a taken queue name: the message says
/// which), 2 bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's well-known queue, /ipc-lab-NAME [default: a fresh
    /// ipc-lab-PID-N-exp3-clientserver without a role, ipc-lab-exp3-clientserver
    /// with one]
    #[arg(long, value_name = "NAME", global = true)]
    name: Option<IpcName>,
    #[command(flatten)]
    clients: ipc_cli::Clients,
    /// Milliseconds the server works on each request (scaled by --fast)
    #[arg(long, value_name = "MS", global = true,
          default_value_t = exp3_clientserver::options::DEFAULT_DELAY.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    delay: u64,
    /// Seconds a client waits for the server before it gives up
    #[arg(long, value_name = "SECS", global = true,
          default_value_t = exp3_clientserver::options::DEFAULT_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    #[command(flatten)]
    roles: ipc_cli::Roles<Role>,
}

#[derive(Subcommand)]
enum Role {
    /// Create the well-known queue and answer requests until Ctrl-C
    Server,
    /// Send one number to the server and print its square
    Client {
        /// The client's number (it sends N + 5 unless --number says
        /// otherwise)
        #[arg(value_parser = clap::value_parser!(u32).range(1..))]
        n: u32,
        /// The number to square
        #[arg(long, allow_hyphen_values = true,
              value_parser = clap::value_parser!(i64).range(-MAX_NUMBER..=MAX_NUMBER))]
        number: Option<i64>,
    },
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let config = Config {
        delay: Duration::from_millis(args.delay),
        timeout: Duration::from_secs(args.timeout),
    };
    let ipc_cli::Roles { role, common } = args.roles;
    ipc_cli::run("exp3-clientserver", &common, || match role {
        None => {
            let numbers = args.clients.numbers(options::default_number);
            exp3_clientserver::run(args.name, &numbers, &config)
        }
        Some(Role::Server) => roles::run_server(args.name, &config),
        Some(Role::Client { n, number }) => roles::run_client(args.name, n, number, &config),
    })
}
