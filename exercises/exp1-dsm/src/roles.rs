//! The roles, as clap parses them and as the run without a role starts
//! them ([`run_with`]): one typed value renders its own command line
//! ([`ipc_net::cli::CommandLine`]), so that no flag is typed twice.

use std::time::Duration;

use ipc_cli::say;
use ipc_net::cli::CommandLine;
use ipc_net::{BucketName, Connection, Key, LocalRun, Result, RunId};

use crate::{Counter, DEFAULT_BUCKET, DEFAULT_COUNTER, DEFAULT_PASSES, DEFAULT_TIMEOUT};
use crate::{Place, WORKERS, Work, Worker, expected_total_of};

/// The counter every role works on, and how the workers update it: the
/// flags every role shares.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Shared {
    /// The key-value bucket that holds the counter
    #[arg(long, value_name = "NAME", global = true, default_value = DEFAULT_BUCKET)]
    pub bucket: BucketName,

    /// The counter's key in the bucket
    #[arg(long, value_name = "KEY", global = true, default_value = DEFAULT_COUNTER)]
    pub counter: Key,

    /// Copies of the bucket on the nodes of a cluster (1 to 5; the bucket
    /// is made by the first role that finds it missing)
    #[arg(long, value_name = "N", global = true, default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=5))]
    pub replicas: u8,

    /// Passes each worker makes; worker k adds k per pass, as k updates
    /// of +1, so the expected total is 15 x N
    #[arg(long, value_name = "N", global = true, default_value_t = DEFAULT_PASSES,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub iterations: u64,

    /// Read, add 1 and write blindly, without compare-and-set, and count
    /// the updates that get lost
    #[arg(long, global = true)]
    pub no_cas: bool,
}

impl Shared {
    /// Where the counter is.
    pub fn place(&self) -> Place {
        Place {
            bucket: self.bucket.clone(),
            counter: self.counter.clone(),
            replicas: self.replicas.into(),
        }
    }

    /// The flags of the counter at `place`, updated in `passes` passes by
    /// compare-and-set (`cas`) or blindly, as a role gets them.
    pub fn command_line(place: &Place, passes: u64, cas: bool) -> CommandLine {
        CommandLine::new().flags::<Shared>(|f| {
            f.value("bucket", Some(&place.bucket))
                .value("counter", Some(&place.counter))
                .value("replicas", Some(place.replicas))
                .value("iterations", Some(passes))
                .flag("no_cas", !cas);
        })
    }
}

/// A role of exp1-dsm.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Role {
    /// Join the counter and make --iterations passes of --per-pass
    /// updates of +1
    Worker(WorkerArgs),
    /// Print the counter's value and revision
    Show,
    /// Set the counter to 0
    Reset,
}

/// The `worker` role's flags: what one worker does, besides the flags
/// every role shares ([`Shared`]).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct WorkerArgs {
    /// Updates of +1 per pass (worker pK of the run makes K)
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub per_pass: u64,
    /// The name in the worker's last line
    #[arg(long, value_name = "NAME", default_value = "worker")]
    pub name: String,
    /// Print nothing at the end
    #[arg(long)]
    pub quiet: bool,
    /// Seconds the worker may take in all (exit code 1 after that)
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
}

impl Role {
    /// The command line of this role: its subcommand and its flags, to
    /// follow [`Shared::command_line`].
    pub fn command_line(&self) -> CommandLine {
        match self {
            Role::Worker(w) => CommandLine::new().subcommand::<Role>("worker", |f| {
                f.value("per_pass", Some(w.per_pass))
                    .value("name", Some(&w.name))
                    .flag("quiet", w.quiet)
                    .value("timeout", Some(w.timeout));
            }),
            Role::Show => CommandLine::new().subcommand::<Role>("show", |_| {}),
            Role::Reset => CommandLine::new().subcommand::<Role>("reset", |_| {}),
        }
    }

    /// True for the roles that update the counter (and so take
    /// `--no-cas`).
    pub fn updates(&self) -> bool {
        matches!(self, Role::Worker(_))
    }

    /// Runs this role here, against the NATS server of `nc`.
    ///
    /// # Errors
    /// As [`crate::worker`], [`Counter::read`] and [`Counter::reset`].
    pub fn run(self, nc: &Connection, shared: &Shared, run: Option<&RunId>) -> Result<()> {
        let place = shared.place();
        let cas = !shared.no_cas;
        match self {
            Role::Worker(w) => {
                let work = Work {
                    name: w.name,
                    passes: shared.iterations,
                    per_pass: w.per_pass,
                    cas,
                    timeout: Duration::from_secs(w.timeout),
                    quiet: w.quiet,
                };
                crate::worker(nc, &place, &work, run)
            }
            Role::Show => {
                let (value, revision) = Counter::open(nc, &place, cas)?.read()?;
                say!(
                    "{} in {}: {value} (revision {revision})",
                    place.counter,
                    place.bucket
                )?;
                Ok(())
            }
            Role::Reset => {
                Counter::open(nc, &place, cas)?.reset()?;
                say!("{} in {}: 0", place.counter, place.bucket)?;
                Ok(())
            }
        }
    }
}

/// The program's name for each role's lines on stderr.
pub fn program(role: Option<&Role>) -> &'static str {
    match role {
        None => "exp1-dsm",
        Some(Role::Worker(_)) => "exp1-dsm worker",
        Some(Role::Show) => "exp1-dsm show",
        Some(Role::Reset) => "exp1-dsm reset",
    }
}

/// Runs the experiment on this machine (as exp11-value's `run`): a private
/// server, the counter set to 0, five worker processes started together at
/// a gate, then the expected value, the final value and the updates lost.
///
/// # Errors
/// [`ipc_net::Error::BadArgument`] when the expected total overflows; a
/// worker that failed; `Interrupted`.
pub fn run(place: &Place, passes: u64, cas: bool) -> Result<()> {
    run_with(place, &WORKERS, passes, cas)
}

/// As [`run`], with `workers` (the first K of [`WORKERS`]: `--workers`).
///
/// # Errors
/// As [`run`].
pub fn run_with(place: &Place, workers: &[Worker], passes: u64, cas: bool) -> Result<()> {
    let expected = expected_total_of(workers, passes)?;
    let mut run = LocalRun::start()?;
    let nc = Connection::connect(run.urls())?;
    let counter = Counter::open(&nc, place, cas)?;
    counter.reset()?;

    let how = if cas {
        "updated by compare-and-set"
    } else {
        "updated by read, add, put (--no-cas)"
    };
    say!(
        "Shared counter {:?} in the NATS key-value bucket {}, {how}",
        place.counter.as_str(),
        place.bucket
    )?;
    say!("{} workers, {passes} passes each:", workers.len())?;
    for w in workers {
        let updates = if w.per_pass == 1 { "update" } else { "updates" };
        say!(
            "{} runs {}: {} {updates} of +1 per pass",
            w.name,
            w.target_name,
            w.per_pass
        )?;
    }

    let mut ready = run.ready_listener(&nc)?;
    for w in workers {
        let role = Role::Worker(WorkerArgs {
            per_pass: w.per_pass,
            name: w.name.to_owned(),
            quiet: true,
            timeout: DEFAULT_TIMEOUT.as_secs(),
        });
        let line = Shared::command_line(place, passes, cas).then(role.command_line());
        run.spawn(w.name, &line)?;
    }
    run.wait_ready(&mut ready, workers.len(), Duration::from_secs(30))?;
    // Every worker waits at the gate: let them all go at once.
    run.open_gate(&nc)?;
    run.wait_all(DEFAULT_TIMEOUT + Duration::from_secs(10))?;

    let (actual, _) = counter.read()?;
    say!("Expected value: {expected}")?;
    say!("Final value (in main program): {actual}")?;
    // Each update adds exactly 1: every unit missing is an update that
    // another worker overwrote.
    say!(
        "Lost updates: {}",
        i128::from(expected) - i128::from(actual)
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ipc_net::cli::RoleLine;

    use super::*;

    #[test]
    fn each_role_s_command_line_parses_back_to_it() {
        let shared = [
            Shared {
                bucket: "ipc-lab-dsm-test".parse().unwrap(),
                counter: "hits".parse().unwrap(),
                replicas: 3,
                iterations: 100_000,
                no_cas: true,
            },
            Shared {
                bucket: DEFAULT_BUCKET.parse().unwrap(),
                counter: DEFAULT_COUNTER.parse().unwrap(),
                replicas: 1,
                iterations: 1,
                no_cas: false,
            },
        ];
        let roles = [
            Role::Worker(WorkerArgs {
                per_pass: 5,
                name: "p5".into(),
                quiet: true,
                timeout: 120,
            }),
            Role::Worker(WorkerArgs {
                per_pass: 1000,
                name: "-p 1 --quiet".into(),
                quiet: false,
                timeout: 0,
            }),
            Role::Show,
            Role::Reset,
        ];
        for shared in &shared {
            for role in &roles {
                let line = Shared::command_line(&shared.place(), shared.iterations, !shared.no_cas)
                    .then(role.command_line());
                let parsed: RoleLine<Shared, Role> = line.parse_back().unwrap();
                assert_eq!((&parsed.shared, &parsed.role), (shared, role), "{line:?}");
            }
        }
    }
}
