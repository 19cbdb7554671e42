use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ipc_net::{Connection, ServerUrls, Subject, cli::NetArgs};

/// Seed 004 theory, remote procedure call: a server offers seed 000's
/// procedures (square_list, sum_of_squares) over NATS request-reply, and a
/// client calls them through a typed stub as if they were local functions,
/// printing "Result(from server): [1, 4, 9, 16]" and "Sum of squares(from
/// server): 30".
///
/// Without a role, all on this machine: a private nats-server is started,
/// then the server and the client as two processes of this program, then
/// everything is stopped. With a role, that role alone runs here and talks
/// to the others through the server given with --server (default
/// nats://127.0.0.1:4222), on this machine or another:
///   exp1-rpc --server nats://HOST:4222 server     (on one machine)
///   exp1-rpc --server nats://HOST:4222 client     (on another)
///
/// Exit codes: 0 done (a server also after Ctrl-C), 1 a failure (no server
/// answered within the timeout, no NATS server at the URL, it went away, a
/// remote error), 2 bad usage (a bad URL, subject or number).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    net: NetArgs,

    /// The subject the procedures are served on
    #[arg(long, value_name = "SUBJECT", global = true, default_value = exp1_rpc::DEFAULT_SUBJECT)]
    subject: Subject,

    /// The list the run without a role has squared and summed instead of
    /// the seed's 1,2,3,4: 1 to 16 comma-separated whole numbers from
    /// -1000000 to 1000000 (3,8,5)
    #[arg(long, value_name = "N,N,...", allow_hyphen_values = true,
          value_parser = exp1_rpc::extras::numbers)]
    numbers: Option<exp1_rpc::extras::Numbers>,

    #[command(subcommand)]
    role: Option<Role>,

    #[command(flatten)]
    common: ipc_cli::Common,
}

#[derive(Subcommand)]
enum Role {
    /// Serve square_list and sum_of_squares until Ctrl-C (several servers
    /// share the calls)
    Server {
        /// End after answering N calls
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        requests: Option<u64>,
        /// Do not print the calls served
        #[arg(long)]
        quiet: bool,
    },
    /// Call both procedures on a list and print the results
    Client {
        /// Seconds to wait for a server to answer each call (exit code 1
        /// after that)
        #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = ipc_cli::seconds(3600.0))]
        timeout: f64,
        /// The list to square [default: 1 2 3 4]
        #[arg(value_name = "NUMBER", allow_negative_numbers = true)]
        mylist: Vec<i64>,
    },
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let subject = args.subject;
    let Some(role) = args.role else {
        let mylist = args
            .numbers
            .map_or_else(|| exp1_rpc::MYLIST.to_vec(), |numbers| numbers.0);
        return ipc_net::cli::run("exp1-rpc", &args.common, || {
            exp1_rpc::run_rpc(&subject, &mylist)
        });
    };
    let urls = args
        .net
        .server
        .unwrap_or_else(|| ServerUrls::loopback(ipc_net::names::DEFAULT_PORT));
    let run = args.net.run;
    match role {
        Role::Server { requests, quiet } => {
            ipc_net::cli::run("exp1-rpc server", &args.common, || {
                let nc = Connection::connect(&urls)?;
                exp1_rpc::server(&nc, &subject, requests, quiet, run.as_ref())
            })
        }
        Role::Client { timeout, mylist } => {
            ipc_net::cli::run("exp1-rpc client", &args.common, || {
                let mylist = if mylist.is_empty() {
                    exp1_rpc::MYLIST.to_vec()
                } else {
                    mylist
                };
                let nc = Connection::connect(&urls)?;
                exp1_rpc::client(&nc, &subject, &mylist, Duration::from_secs_f64(timeout))
            })
        }
    }
}
