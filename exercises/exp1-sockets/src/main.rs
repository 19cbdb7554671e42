use std::process::ExitCode;
use std::time::Duration;

use clap::{Args as ClapArgs, Parser, Subcommand};
use exp1_sockets::extras::{self, Authkey};
use exp1_sockets::options::{self, Config};
use exp1_sockets::protocol::MAX_NUMBER;
use ipc_core::connection::Address;

/// Seed 004 theory, sockets: a server answers its clients over TCP or Unix
/// stream sockets, in Python's multiprocessing.connection format and with
/// its authkey handshake.
///
/// Without a role: a server and --clients clients forked, on 127.0.0.1 (a
/// port the kernel chooses) or on --unix PATH, with a fresh authkey handed
/// to the clients; client N sends N + 5 (`Client 2 sent 7, received 49`
/// each, then `Server answered 3 requests`), as exp3-clientserver prints
/// over message queues. The server serves one client after another, or
/// forks a process per client with --fork. With a role, for two terminals
/// or two machines: `server` (serves until Ctrl-C; --listen 0.0.0.0:6000
/// for other machines) and `client N` (--connect HOST:PORT, --authkey KEY).
/// `framing` shows why a stream of bytes needs frames.
///
/// Exit codes: 0 done (also after Ctrl-C), 1 a failure (a process died, a
/// client got no answer within --timeout, nobody listens at the address,
/// the authkeys differ, the address is taken: the message says which), 2
/// bad usage.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    clients: ipc_cli::Clients,
    #[command(flatten)]
    serving: Serving,
    /// A Unix socket at PATH instead of TCP on 127.0.0.1 (@NAME: an
    /// abstract one, which leaves no file)
    #[arg(long, value_name = "PATH", value_parser = extras::unix_address)]
    unix: Option<Address>,
    /// Seconds a client waits for the server (to connect, to answer), and
    /// the server for a client
    #[arg(long, value_name = "SECS", global = true,
          default_value_t = options::DEFAULT_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    #[command(flatten)]
    roles: ipc_cli::Roles<Role>,
}

/// How the server serves: the default run's and the `server` role's.
#[derive(ClapArgs)]
struct Serving {
    /// Fork a process per client instead of serving one after another
    #[arg(long)]
    fork: bool,
    /// Milliseconds the server works on each request (scaled by --fast)
    #[arg(long, value_name = "MS",
          default_value_t = options::DEFAULT_DELAY.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    delay: u64,
}

#[derive(Subcommand)]
enum Role {
    /// Listen and answer clients until Ctrl-C
    Server {
        /// The address to listen on: IP:PORT (0.0.0.0:6000 for other
        /// machines too; port 0: any free one) [default: 127.0.0.1:6000]
        #[arg(long, value_name = "IP:PORT", conflicts_with = "unix",
              value_parser = extras::listen_address)]
        listen: Option<Address>,
        /// A Unix socket at PATH instead of TCP (@NAME: an abstract one)
        #[arg(long, value_name = "PATH", value_parser = extras::unix_address)]
        unix: Option<Address>,
        /// The key clients must prove they know [default: a fresh one,
        /// printed]
        #[arg(long, value_name = "KEY", value_parser = extras::authkey)]
        authkey: Option<Authkey>,
        #[command(flatten)]
        serving: Serving,
    },
    /// Connect to the server, send one number and print its square
    Client {
        /// The client's number (it sends N + 5 unless --number says
        /// otherwise)
        #[arg(value_parser = clap::value_parser!(u32).range(1..))]
        n: u32,
        /// The server's address: HOST:PORT, HOST an IP address or
        /// localhost [default: 127.0.0.1:6000]
        #[arg(long, value_name = "HOST:PORT", conflicts_with = "unix",
              value_parser = extras::connect_address)]
        connect: Option<Address>,
        /// The server's Unix socket, instead of TCP
        #[arg(long, value_name = "PATH", value_parser = extras::unix_address)]
        unix: Option<Address>,
        /// The key the server was given (or printed)
        #[arg(long, value_name = "KEY", required = true, value_parser = extras::authkey)]
        authkey: Option<Authkey>,
        /// The number to square
        #[arg(long, allow_hyphen_values = true,
              value_parser = clap::value_parser!(i64).range(-MAX_NUMBER..=MAX_NUMBER))]
        number: Option<i64>,
    },
    /// Show why a stream of bytes needs frames: three writes read back
    /// run together, then three framed messages received one by one
    Framing,
}

/// Where the roles meet unless told: 127.0.0.1:6000.
fn default_address() -> Address {
    Address::Tcp(([127, 0, 0, 1], extras::DEFAULT_PORT).into())
}

fn config(serving: &Serving, timeout: u64) -> Config {
    Config {
        delay: Duration::from_millis(serving.delay),
        timeout: Duration::from_secs(timeout),
        fork: serving.fork,
    }
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let common = &args.roles.common;
    match args.roles.role {
        None => {
            let config = config(&args.serving, args.timeout);
            let address = args
                .unix
                .unwrap_or_else(|| Address::Tcp(([127, 0, 0, 1], 0).into()));
            let numbers = args.clients.numbers(options::default_number);
            ipc_cli::run("exp1-sockets", common, || {
                exp1_sockets::run(address, &numbers, &config)
            })
        }
        Some(Role::Server {
            listen,
            unix,
            authkey,
            serving,
        }) => {
            let config = config(&serving, args.timeout);
            let address = unix.or(listen).unwrap_or_else(default_address);
            ipc_cli::run("exp1-sockets", common, || {
                exp1_sockets::roles::run_server(address, authkey.map(|k| k.0), &config)
            })
        }
        Some(Role::Client {
            n,
            connect,
            unix,
            authkey,
            number,
        }) => {
            let config = config(&args.serving, args.timeout);
            let address = unix.or(connect).unwrap_or_else(default_address);
            let key = authkey.map(|k| k.0).unwrap_or_default();
            ipc_cli::run("exp1-sockets", common, || {
                exp1_sockets::roles::run_client(&address, &key, n, number, &config)
            })
        }
        Some(Role::Framing) => ipc_cli::run("exp1-sockets", common, exp1_sockets::framing::run),
    }
}
