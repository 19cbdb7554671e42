//! # ipc-bench
//!
//! Every ipc-lab mechanism measured side by side, in one run:
//!
//! * **round trip**: ping-pong between two processes forked with
//!   [`ipc_core::Process`], median and 99th percentile;
//! * **throughput**: one way, messages and bytes per second;
//! * **increments**: one shared counter bumped by 1 and 5 processes;
//! * **synchronisation**: `Semaphore` acquire+release pairs by 1 and 4
//!   processes, an `Event` ping-pong, `Barrier` rounds of 4 parties;
//! * **pool and manager**: `Pool.map` tasks per second by 2 and 4 workers
//!   (10 000 squares; 8 sums of a 1 MiB `Bytes`), each beside the same map
//!   in one process, and `Manager` dict set and get per second by one
//!   client, beside a raw dict server on a socket pair;
//! * **scaling** (`--scaling`): the `Queue` with 1+1 to 8+8 producers and
//!   consumers, the `Value` by 1 to 16 processes, a `Barrier` of 2 to 16
//!   parties, an `Event` ring and a `Semaphore` by 2 to 16 processes,
//!
//! for 8 B, 64 B, 4 KiB, 64 KiB and 1 MiB messages (where the mechanism
//! takes them); and, past one machine, NATS request–reply and publish
//! through a private `nats-server` on loopback (when one is installed:
//! `scripts/install-nats.sh`). Each ipc-core figure stands beside its **raw floor**, the
//! fastest way the bench knows to do the same job with the same copies and
//! the same rule for waiting, written directly on the system calls and the
//! atomics (module `raw`, the bench's only `unsafe` code); a row more than
//! 10 % faster than its floor is marked "floor suspect" and fails the
//! targets. Beside them stand **Python's** `multiprocessing` where Python
//! has the same thing (`scripts/bench_python.py`, run in the same process
//! tree when `python3` exists).
//!
//! `cargo run --release -p ipc-bench` prints the table; `--quick` takes
//! under 20 s; `--repeat N` gives each figure its spread over N runs;
//! `--format csv|json` for scripts; `--plot FILE` draws an SVG;
//! `--cpus same|different|any` chooses where the two processes run;
//! `--check` fails on a missed target. See `docs/performance.md` for a run
//! and what it teaches.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use ipc_core::{Error, Result, signal};

mod families;
mod ipc;
mod machine;
mod measure;
mod model;
mod net;
#[cfg(feature = "peers")]
mod peers;
mod plan;
mod plot;
mod pool;
mod python;
#[allow(unsafe_code)]
mod raw;
mod report;

pub use machine::Cpus;

use machine::{Machine, Placement, pin};
use measure::{Ctx, Watchdog};
use model::{Figures, Key, Measure, Mech, Section};
use plan::{Job, Plan};
use report::{NatsRun, Report, Settings};

/// The message sizes measured unless `--sizes` says otherwise.
pub const DEFAULT_SIZES: [usize; 5] = [8, 64, 4 << 10, 64 << 10, 1 << 20];

/// How long one measurement lasts, before `--scale`.
const FULL: Duration = Duration::from_millis(400);
const QUICK: Duration = Duration::from_millis(60);

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One line per row of the table, with every ratio.
    Csv,
    /// Everything: the machine, every figure, the rows and the targets.
    Json,
}

/// What to measure and how to report it.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Short measurements (60 ms each instead of 400 ms): the whole run,
    /// Python included, takes under 20 s in a release build
    #[arg(long)]
    pub quick: bool,

    /// Multiply the duration of every measurement by this factor (a tiny
    /// one, such as 0.01, still gives every mechanism a figure: at least 5
    /// round trips or messages each)
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub scale: f64,

    /// Repeat the whole run N times and report the median of each figure,
    /// with its spread over the runs (min–max); the targets use the medians
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=50))]
    pub repeat: u32,

    /// Also measure how the cost grows with the processes: the Queue with
    /// 1, 2, 4 and 8 producers and as many consumers (8-byte messages),
    /// the Value with its lock by 1 to 16 processes, the Barrier with 2 to
    /// 16 parties, an Event ring and a Semaphore(1) by 2 to 16 processes,
    /// each beside its floor (a curve of rate against processes in
    /// --plot's SVG)
    #[arg(long)]
    pub scaling: bool,

    /// Exit with status 1 when a target measured in this run is missed
    /// (a ratio above its bound, or below 0.9: a floor suspect)
    #[arg(long)]
    pub check: bool,

    /// How to print the results
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also write an SVG: round trip and throughput by message size, and
    /// with --scaling, each family's rate by number of processes; every
    /// point with its spread over --repeat (min–max)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Where the two processes run: pinned to one CPU, to two different
    /// CPUs (ping on the first allowed CPU, pong on the second), or
    /// wherever the scheduler puts them
    #[arg(long, value_enum, default_value_t = Cpus::Different)]
    pub cpus: Cpus,

    /// Message sizes in bytes, comma-separated; k and M mean KiB and MiB
    /// (default: 8,64,4k,64k,1M)
    #[arg(long, value_delimiter = ',', value_parser = parse_size, value_name = "SIZES")]
    pub sizes: Vec<usize>,

    /// Measure only these mechanisms, comma-separated, by the names of the
    /// CSV: pipe, fifo, duplex, mqueue, queue, queue-zero-copy, value,
    /// semaphore, event, barrier, connection-tcp, connection-unix,
    /// pool-map, pool-map-large, manager-set, manager-get, raw-pipe,
    /// raw-socketpair, raw-mq, raw-shm-spin, raw-shm-futex, raw-mutex,
    /// raw-atomic, raw-sem, raw-sem-spin, raw-flag-spin, raw-barrier,
    /// raw-barrier-spin, raw-tcp, raw-seq-map, raw-seq-map-large,
    /// raw-dict-server, ipc-channel, interprocess, iceoryx2, nats,
    /// python-queue, python-pipe, python-value, python-semaphore,
    /// python-event, python-barrier, python-pool-map,
    /// python-pool-map-large, python-manager-set, python-manager-get
    /// (Python runs only if one of its own is named, and measures only
    /// those named)
    #[arg(long, value_delimiter = ',', value_parser = parse_mech, value_name = "NAMES")]
    pub only: Vec<String>,

    /// The Python interpreter that runs scripts/bench_python.py
    #[arg(long, default_value = "python3", value_name = "PATH")]
    pub python: String,

    /// Do not measure Python
    #[arg(long)]
    pub no_python: bool,
}

/// The largest message size `--sizes` accepts.
const MAX_SIZE: usize = 4 << 20;

fn parse_size(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => t.split_at(at),
        None => (t, ""),
    };
    let factor = match unit.trim() {
        "" | "B" => 1,
        "k" | "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        other => return Err(format!("unknown unit {other:?} (use k or M)")),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size in bytes"))?;
    match n.checked_mul(factor) {
        Some(bytes) if (1..=MAX_SIZE).contains(&bytes) => Ok(bytes),
        _ => Err(format!("a message size must be 1 B to 4 MiB, not {text}")),
    }
}

fn parse_mech(text: &str) -> std::result::Result<String, String> {
    match Mech::ALL.into_iter().find(|m| m.id() == text.trim()) {
        Some(m) => Ok(m.id().to_string()),
        None => Err(format!(
            "no mechanism called {text:?}; the names are {}",
            Mech::ALL.map(Mech::id).join(", ")
        )),
    }
}

/// What a progress line and an error message call a measurement.
fn describe(key: Key) -> String {
    match key.section {
        Section::RoundTrip => {
            format!(
                "{} round trip, {}",
                key.mech.label(),
                report::size(key.param)
            )
        }
        Section::Throughput => {
            format!(
                "{} throughput, {}",
                key.mech.label(),
                report::size(key.param)
            )
        }
        Section::Increments => format!(
            "{} increments, {} process{}",
            key.mech.label(),
            key.param,
            if key.param == 1 { "" } else { "es" }
        ),
        Section::Sync => format!(
            "{}, {} process{}",
            key.mech.label(),
            key.param,
            if key.param == 1 { "" } else { "es" }
        ),
        Section::Pool => format!(
            "{}, {} {}",
            key.mech.label(),
            key.param,
            report::pool_unit(key.mech, key.param)
        ),
        Section::Scaling => format!(
            "{} scaling, {} process{}",
            key.mech.label(),
            key.param,
            if key.param == 1 { "" } else { "es" }
        ),
    }
}

/// The largest message a POSIX message queue takes here (0 if none).
fn mq_msgsize_max() -> usize {
    ipc_core::mqueue::Limits::read().map_or(0, |l| l.msgsize_max)
}

/// Runs every measurement and prints the report. `fast` (the common
/// `--fast` flag) means `--quick`.
pub fn run(options: &Options, fast: bool) -> Result<()> {
    if !(options.scale.is_finite() && options.scale > 0.0 && options.scale <= 100.0) {
        return Err(Error::InvalidArgument(format!(
            "--scale must be above 0 and at most 100, not {}",
            options.scale
        )));
    }
    signal::install()?;
    let quick = options.quick || fast;
    let duration = (if quick { QUICK } else { FULL }).mul_f64(options.scale);
    let sizes = if options.sizes.is_empty() {
        DEFAULT_SIZES.to_vec()
    } else {
        let mut sizes = options.sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    };
    let machine = Machine::read()?;
    let placement = Placement::choose(options.cpus, &machine);
    pin(placement.ping)?;
    let ctx = Ctx {
        duration,
        placement: placement.clone(),
        observed: Default::default(),
    };
    let selected = |m: Mech| options.only.is_empty() || options.only.iter().any(|id| id == m.id());
    // NATS needs a nats-server: without one, its rows are skipped, and the
    // report says why and how to install it.
    let nats = if selected(Mech::Nats) {
        match net::missing() {
            None => NatsRun::Measured,
            Some(why) => NatsRun::Skipped(why),
        }
    } else {
        NatsRun::Skipped("not chosen with --only".into())
    };
    let plan = Plan {
        sizes: &sizes,
        mq_msgsize_max: mq_msgsize_max(),
        nats: nats == NatsRun::Measured,
        scaling: options.scaling,
    };
    let jobs: Vec<Job> = families::all(&plan)
        .into_iter()
        .filter(|job| selected(job.key.mech))
        .collect();
    let progress = Progress::new(jobs.len() * options.repeat as usize);
    let mut runs = Vec::new();
    for _ in 0..options.repeat {
        let mut run = Vec::new();
        for job in &jobs {
            progress.step(&describe(job.key));
            run.push((job.key, measure(&ctx, job)?));
        }
        runs.push(run);
    }
    let python = if options.no_python {
        python::PythonRun::Skipped("--no-python".into())
    } else {
        let chosen: Vec<&str> = Mech::ALL
            .into_iter()
            .filter(|&m| selected(m))
            .filter_map(|m| m.info().script_name)
            .collect();
        if chosen.is_empty() {
            python::PythonRun::Skipped("not chosen with --only".into())
        } else {
            progress.step("Python multiprocessing");
            measure_python(options, duration, &sizes, &chosen, &placement)
        }
    };
    progress.done();
    signal::check()?;
    let mut report = build(selected, &machine, &placement, &ctx, quick, runs, python);
    report.nats = nats;
    print_report(options, &report)?;
    let missed: Vec<String> = report
        .targets()
        .into_iter()
        .filter(|t| t.holds == Some(false))
        .map(|t| t.what)
        .collect();
    if options.check && !missed.is_empty() {
        return Err(Error::Message(format!(
            "{} target{} missed: {}",
            missed.len(),
            if missed.len() == 1 { "" } else { "s" },
            missed.join("; ")
        )));
    }
    Ok(())
}

/// Runs the Python script `--repeat` times; the median of each figure, or
/// the first failure.
fn measure_python(
    options: &Options,
    duration: Duration,
    sizes: &[usize],
    mechanisms: &[&str],
    placement: &Placement,
) -> python::PythonRun {
    let mut runs = Vec::new();
    let mut version = String::new();
    for _ in 0..options.repeat {
        match python::run(&options.python, duration, sizes, mechanisms, placement) {
            python::PythonRun::Done {
                version: v,
                figures,
            } => {
                version = v;
                runs.push(figures.map.into_iter().collect());
            }
            other => return other,
        }
    }
    python::PythonRun::Done {
        version,
        figures: Figures::merge(runs),
    }
}

fn build(
    selected: impl Fn(Mech) -> bool,
    machine: &Machine,
    placement: &Placement,
    ctx: &Ctx,
    quick: bool,
    runs: Vec<Vec<(Key, Measure)>>,
    python: python::PythonRun,
) -> Report {
    let repeat = runs.len() as u32;
    let mut figures = Figures::merge(runs);
    if let Some(theirs) = python.figures() {
        for (key, measure) in &theirs.map {
            if selected(key.mech)
                && let Some(spread) = theirs.spread(key)
            {
                figures.insert(*key, *measure, spread);
            }
        }
    }
    Report {
        machine: machine.clone(),
        placement: placement.clone(),
        settings: Settings {
            duration_s: ctx.duration.as_secs_f64(),
            repeat: repeat.max(1),
            quick,
            pipe_size: raw::PIPE_SIZE,
            clock_read_ns: measure::clock_read_ns(),
            observed: ctx.observed.get(),
            load_at_end: machine::load_average(),
        },
        python,
        nats: NatsRun::Skipped(String::new()),
        figures,
    }
}

fn print_report(options: &Options, report: &Report) -> Result<()> {
    let text = match options.format {
        Format::Table => report.table(),
        Format::Csv => report.csv(),
        Format::Json => format!("{:#}\n", report.json()),
    };
    print!("{text}");
    if let Some(path) = &options.plot {
        // Without following a link planted at the name.
        ipc_core::file::Destination::check(path)?.write(plot::svg(report).as_bytes())?;
    }
    Ok(())
}

/// Runs one measurement under a watchdog, saying which one failed.
fn measure(ctx: &Ctx, job: &Job) -> Result<Measure> {
    let limit = Duration::from_secs(30) + ctx.duration * 20;
    let watchdog = Watchdog::arm(limit)?;
    let outcome = (job.run)(ctx, job.key.param);
    let fired = watchdog.fired();
    drop(watchdog);
    outcome.map_err(|error| match error {
        Error::Interrupted if fired => {
            log::error!(target: "ipc-bench", "{} did not finish within {} s", describe(job.key), limit.as_secs());
            Error::Timeout
        }
        // Ctrl-C: nothing failed.
        Error::Interrupted => error,
        error => {
            log::error!(target: "ipc-bench", "{} failed", describe(job.key));
            error
        }
    })
}

/// A progress line on standard error, when it is a terminal.
struct Progress {
    total: usize,
    done: std::cell::Cell<usize>,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: std::cell::Cell::new(0),
            shown: std::io::stderr().is_terminal(),
        }
    }

    fn step(&self, what: &str) {
        let n = self.done.get() + 1;
        self.done.set(n);
        if self.shown {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[K[{}/{}] {what}", n.min(self.total), self.total);
            let _ = err.flush();
        }
    }

    fn done(&self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_of_only_names_every_mechanism_in_order() {
        let command = <Options as clap::Args>::augment_args(clap::Command::new("ipc-bench"));
        let only = command
            .get_arguments()
            .find(|a| a.get_id() == "only")
            .and_then(|a| a.get_long_help().or(a.get_help()))
            .expect("--only has a help text")
            .to_string();
        let listed: Vec<&str> = only
            .split_once("CSV: ")
            .and_then(|(_, rest)| rest.split_once(" ("))
            .map(|(names, _)| names.split(", ").map(str::trim).collect())
            .unwrap_or_default();
        assert_eq!(listed, Mech::ALL.map(Mech::id), "{only}");
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("8"), Ok(8));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("5M").is_err());
        assert!(parse_size("3x").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn every_mechanism_is_measured_and_mq_only_where_it_fits() {
        let jobs = families::all(&Plan {
            sizes: &DEFAULT_SIZES,
            mq_msgsize_max: 8192,
            nats: true,
            scaling: true,
        });
        for mech in Mech::ALL {
            if mech.group() == model::Group::Python
                || (mech.group() == model::Group::Peer && !cfg!(feature = "peers"))
            {
                continue;
            }
            assert!(jobs.iter().any(|j| j.key.mech == mech), "{mech:?}");
        }
        assert!(
            !jobs
                .iter()
                .any(|j| j.key.mech == Mech::Mqueue && j.key.param > 8192)
        );
        // Each floor comes right before what is held to it.
        let at = |m| jobs.iter().position(|j| j.key.mech == m).unwrap();
        assert!(at(Mech::RawPipe) < at(Mech::Pipe));
        assert!(at(Mech::RawMq) + 1 == at(Mech::Mqueue));
        assert!(at(Mech::RawShmSpin) < at(Mech::Queue));
        assert!(at(Mech::RawSemSpin) + 1 == at(Mech::Semaphore));
        assert!(at(Mech::RawFlag) + 1 == at(Mech::Event));
        assert!(at(Mech::RawBarrierSpin) + 1 == at(Mech::Barrier));
        assert!(at(Mech::RawSeqMap) + 1 == at(Mech::PoolMap));
        assert!(at(Mech::RawSeqMapLarge) + 1 == at(Mech::PoolMapLarge));
        assert!(at(Mech::RawDictServer) < at(Mech::ManagerSet));
        // The pool by 2 and 4 workers, the manager by one client.
        let pool = |m: Mech| -> Vec<usize> {
            jobs.iter()
                .filter(|j| j.key.section == Section::Pool && j.key.mech == m)
                .map(|j| j.key.param)
                .collect()
        };
        assert_eq!(pool(Mech::PoolMap), [2, 4]);
        assert_eq!(pool(Mech::RawSeqMapLarge), [2, 4]);
        assert_eq!(pool(Mech::ManagerGet), [1]);
        // Every scaling curve, at its numbers of processes.
        let scaling = |m: Mech| -> Vec<usize> {
            jobs.iter()
                .filter(|j| j.key.section == Section::Scaling && j.key.mech == m)
                .map(|j| j.key.param)
                .collect()
        };
        assert_eq!(scaling(Mech::Queue), [2, 4, 8, 16]);
        assert_eq!(scaling(Mech::Value), [1, 2, 4, 8, 16]);
        assert_eq!(scaling(Mech::Barrier), [2, 4, 8, 16]);
        assert_eq!(scaling(Mech::Event), [2, 4, 8, 16]);
        assert_eq!(scaling(Mech::Semaphore), [2, 4, 8, 16]);
        // NATS only where a server takes the message, and only with one.
        assert!(
            !jobs
                .iter()
                .any(|j| j.key.mech == Mech::Nats && j.key.param > net::MAX_PAYLOAD)
        );
        let without = families::all(&Plan {
            sizes: &DEFAULT_SIZES,
            mq_msgsize_max: 8192,
            nats: false,
            scaling: false,
        });
        assert!(!without.iter().any(|j| j.key.section == Section::Scaling));
        assert!(!without.iter().any(|j| j.key.mech == Mech::Nats));
        // Every job is measured once.
        let mut keys: Vec<_> = jobs.iter().map(|j| j.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), jobs.len());
    }
}
