use std::process::ExitCode;

use clap::{CommandFactory, Parser, error::ErrorKind};
use exp1_dsm::roles::{self, Role, Shared};
use ipc_net::cli::NetRoles;

/// Seed 004 theory, distributed shared memory: five workers (p1 ... p5,
/// running add_one ... add_five as in exp11-value) increment one counter
/// kept in a NATS key-value bucket; the run prints the expected and the
/// final value. By default every update is a compare-and-set on the
/// entry's revision, retried on conflict, and no update is lost; with
/// --no-cas a worker reads, adds and writes blindly, and the run prints
/// how many updates were lost.
///
/// Without a role, all on this machine: a private nats-server is started,
/// the counter set to 0, the five workers started together as processes of
/// this program, then everything is stopped. With a role, it runs here
/// against the server given with --server (default nats://127.0.0.1:4222),
/// on this machine or another:
///   exp1-dsm --server nats://HOST:4222 worker --per-pass 3   (on any machine)
///   exp1-dsm --server nats://HOST:4222 show
///
/// Exit codes: 0 done, 1 a failure (no server at the URL, it went away, a
/// worker failed), 2 bad usage (a bad URL, bucket name, key or count,
/// --server without a role).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    shared: Shared,

    /// How many workers the run without a role starts, from 1 to 5
    /// (default 5): p1 to pK run add_one to the K-th target, so the
    /// expected total is N x K(K+1)/2
    #[arg(long, value_name = "K", allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(exp1_dsm::extras::WORKERS, "workers", exp1_dsm::extras::WORKERS_NOTE))]
    workers: Option<u64>,

    #[command(flatten)]
    roles: NetRoles<Role>,
}

fn main() -> ExitCode {
    let args: Args = ipc_net::cli::parse();
    if args.roles.role.as_ref().is_some_and(|role| !role.updates()) && args.shared.no_cas {
        Args::command()
            .error(
                ErrorKind::ArgumentConflict,
                "--no-cas belongs to the workers",
            )
            .exit();
    }
    let program = roles::program(args.roles.role.as_ref());
    let shared = &args.shared;
    let whole = || {
        // Within extras::WORKERS: at most the five targets.
        let count = args.workers.map_or(exp1_dsm::WORKERS.len(), |k| k as usize);
        let workers = &exp1_dsm::WORKERS[..count];
        roles::run_with(&shared.place(), workers, shared.iterations, !shared.no_cas)
    };
    args.roles.run(program, whole, |role, server, run| {
        role.run(server, shared, run)
    })
}
