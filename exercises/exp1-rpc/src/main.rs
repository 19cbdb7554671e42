use std::process::ExitCode;

use clap::Parser;
use exp1_rpc::roles::{self, Role, Service};
use ipc_net::cli::NetRoles;

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
/// remote error), 2 bad usage (a bad URL, subject or number, --server
/// without a role).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: Service,

    /// The list the run without a role has squared and summed instead of
    /// the seed's 1,2,3,4: 1 to 16 comma-separated whole numbers from
    /// -1000000 to 1000000 (3,8,5)
    #[arg(long, value_name = "N,N,...", allow_hyphen_values = true,
          value_parser = exp1_rpc::extras::numbers)]
    numbers: Option<ipc_cli::List<i64>>,

    #[command(flatten)]
    roles: NetRoles<Role>,
}

fn main() -> ExitCode {
    let args: Args = ipc_net::cli::parse();
    let program = roles::program(args.roles.role.as_ref());
    let service = &args.service;
    let whole = || {
        let mylist = ipc_cli::List::or_seed(args.numbers, &exp1_rpc::MYLIST);
        roles::run_rpc(service, &mylist)
    };
    args.roles.run(program, whole, |role, server, run| {
        role.run(server, service, run)
    })
}
