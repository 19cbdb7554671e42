use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, error::ErrorKind};
use exp1_dsm::{Counter, Place, Work};
use ipc_cli::say;
use ipc_net::{BucketName, Connection, Key, ServerUrls, cli::NetArgs};

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
/// worker failed), 2 bad usage (a bad URL, bucket name, key or count).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    net: NetArgs,

    /// The key-value bucket that holds the counter
    #[arg(long, value_name = "NAME", global = true, default_value = exp1_dsm::DEFAULT_BUCKET)]
    bucket: BucketName,

    /// The counter's key in the bucket
    #[arg(long, value_name = "KEY", global = true, default_value = exp1_dsm::DEFAULT_COUNTER)]
    counter: Key,

    /// Copies of the bucket on the nodes of a cluster (1 to 5; the bucket
    /// is made by the first role that finds it missing)
    #[arg(long, value_name = "N", global = true, default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=5))]
    replicas: u8,

    /// Passes each worker makes; worker k adds k per pass, as k updates
    /// of +1, so the expected total is 15 x N
    #[arg(long, value_name = "N", global = true, default_value_t = exp1_dsm::DEFAULT_PASSES,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    iterations: u64,

    /// How many workers the run without a role starts, from 1 to 5
    /// (default 5): p1 to pK run add_one to the K-th target, so the
    /// expected total is N x K(K+1)/2
    #[arg(long, value_name = "K", allow_hyphen_values = true,
          value_parser = ipc_cli::whole_number(exp1_dsm::extras::WORKERS, "workers", exp1_dsm::extras::WORKERS_NOTE))]
    workers: Option<u64>,

    /// Read, add 1 and write blindly, without compare-and-set, and count
    /// the updates that get lost
    #[arg(long, global = true)]
    no_cas: bool,

    #[command(subcommand)]
    role: Option<Role>,

    #[command(flatten)]
    common: ipc_cli::Common,
}

#[derive(Subcommand)]
enum Role {
    /// Join the counter and make --iterations passes of --per-pass
    /// updates of +1
    Worker {
        /// Updates of +1 per pass (worker pK of the run makes K)
        #[arg(long, value_name = "K", default_value_t = 1,
              value_parser = clap::value_parser!(u64).range(1..=1000))]
        per_pass: u64,
        /// The name in the worker's last line
        #[arg(long, value_name = "NAME", default_value = "worker")]
        name: String,
        /// Print nothing at the end
        #[arg(long)]
        quiet: bool,
        /// Seconds the worker may take in all (exit code 1 after that)
        #[arg(long, value_name = "SECONDS", default_value_t = 120)]
        timeout: u64,
    },
    /// Print the counter's value and revision
    Show,
    /// Set the counter to 0
    Reset,
}

fn main() -> ExitCode {
    let args: Args = ipc_cli::parse();
    let place = Place {
        bucket: args.bucket,
        counter: args.counter,
        replicas: args.replicas.into(),
    };
    let cas = !args.no_cas;
    let Some(role) = args.role else {
        // Within extras::WORKERS: at most the five targets.
        let count = args.workers.map_or(exp1_dsm::WORKERS.len(), |k| k as usize);
        return ipc_net::cli::run("exp1-dsm", &args.common, || {
            exp1_dsm::run_with(&place, &exp1_dsm::WORKERS[..count], args.iterations, cas)
        });
    };
    if matches!(role, Role::Show | Role::Reset) && args.no_cas {
        Args::command()
            .error(
                ErrorKind::ArgumentConflict,
                "--no-cas belongs to the workers",
            )
            .exit();
    }
    let urls = args
        .net
        .server
        .unwrap_or_else(|| ServerUrls::loopback(ipc_net::names::DEFAULT_PORT));
    let run = args.net.run;
    match role {
        Role::Worker {
            per_pass,
            name,
            quiet,
            timeout,
        } => ipc_net::cli::run("exp1-dsm worker", &args.common, || {
            let nc = Connection::connect(&urls)?;
            let work = Work {
                name,
                passes: args.iterations,
                per_pass,
                cas,
                timeout: Duration::from_secs(timeout),
                quiet,
            };
            exp1_dsm::worker(&nc, &place, &work, run.as_ref())
        }),
        Role::Show => ipc_net::cli::run("exp1-dsm show", &args.common, || {
            let nc = Connection::connect(&urls)?;
            let (value, revision) = Counter::open(&nc, &place, cas)?.read()?;
            say!(
                "{} in {}: {value} (revision {revision})",
                place.counter,
                place.bucket
            )?;
            Ok(())
        }),
        Role::Reset => ipc_net::cli::run("exp1-dsm reset", &args.common, || {
            let nc = Connection::connect(&urls)?;
            Counter::open(&nc, &place, cas)?.reset()?;
            say!("{} in {}: 0", place.counter, place.bucket)?;
            Ok(())
        }),
    }
}
