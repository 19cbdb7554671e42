//! Python's `multiprocessing`, measured in the same run by
//! `scripts/bench_python.py` (built into the binary, so that ipc-bench runs
//! from anywhere).

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_core::blocking::Deadline;
use ipc_core::signal;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::machine::Placement;
use crate::model::{Figures, Key, Measure, Mech, Section};

/// The script, as in the repository.
pub(crate) const SCRIPT: &str = include_str!("../../../scripts/bench_python.py");

/// What became of the Python measurements.
#[derive(Debug)]
pub(crate) enum PythonRun {
    /// Not run, and why (`--no-python`, no interpreter).
    Skipped(String),
    /// Run, but it failed; what it said.
    Failed(String),
    Done {
        /// `Python 3.11.7 (CPython)`.
        version: String,
        /// The median of each figure over the runs, and its spread.
        figures: Figures,
    },
}

impl PythonRun {
    pub(crate) fn figures(&self) -> Option<&Figures> {
        match self {
            PythonRun::Done { figures, .. } => Some(figures),
            _ => None,
        }
    }

    /// One line for the header of the table.
    pub(crate) fn describe(&self) -> String {
        match self {
            PythonRun::Done { version, .. } => {
                format!("{version}, multiprocessing with the fork start method")
            }
            PythonRun::Skipped(why) => format!("not measured: {why}"),
            PythonRun::Failed(why) => format!("failed: {why}"),
        }
    }
}

/// Runs the script with `interpreter`, the same duration, sizes and
/// placement, within a time limit, measuring `mechanisms` (the script's
/// names: `Queue`, `Pipe`, `Value`, `Semaphore`, `Event`, `Barrier`,
/// `PoolMap`, `PoolMapLarge`, `ManagerSet`, `ManagerGet`).
pub(crate) fn run(
    interpreter: &str,
    duration: Duration,
    sizes: &[usize],
    mechanisms: &[&str],
    placement: &Placement,
) -> PythonRun {
    let cpu = |c: Option<usize>| c.map_or("none".to_string(), |c| c.to_string());
    let list = |v: &[usize]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut command = Command::new(interpreter);
    command
        .arg("-c")
        .arg(SCRIPT)
        .arg("--duration")
        .arg(format!("{:.6}", duration.as_secs_f64()))
        .arg("--sizes")
        .arg(list(sizes))
        .arg("--ping-cpu")
        .arg(cpu(placement.ping))
        .arg("--pong-cpu")
        .arg(cpu(placement.pong))
        .arg("--worker-cpus")
        .arg(list(&placement.workers))
        .arg("--mechanisms")
        .arg(mechanisms.join(","))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a time-out ends its children too.
        .process_group(0);
    // Two runs per size and mechanism, two Value runs, four of the
    // synchronisation twins and six of the pool and manager (each at least
    // a whole map, and a pool or a manager to start), plus start-up.
    let expected = duration.mul_f64((sizes.len() * 4 + 12) as f64) + Duration::from_secs(3);
    let limit = Duration::from_secs(60) + expected * 4;
    match run_bounded(command, limit) {
        Err(Outcome::NotFound) => PythonRun::Skipped(format!("{interpreter} was not found")),
        Err(Outcome::Failed(why)) => PythonRun::Failed(why),
        Ok(stdout) => parse(&stdout).unwrap_or_else(PythonRun::Failed),
    }
}

enum Outcome {
    NotFound,
    Failed(String),
}

/// Runs `command`, collecting its output, killing its process group after
/// `limit` or on SIGINT/SIGTERM. Its standard output on success.
fn run_bounded(mut command: Command, limit: Duration) -> Result<Vec<u8>, Outcome> {
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Outcome::NotFound);
        }
        Err(error) => return Err(Outcome::Failed(format!("cannot start it: {error}"))),
    };
    let pgid = Pid::from_raw(child.id() as i32);
    let file = |fd: Option<OwnedFd>| fd.map(std::fs::File::from);
    let mut streams = [
        file(child.stdout.take().map(OwnedFd::from)),
        file(child.stderr.take().map(OwnedFd::from)),
    ];
    let mut output: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for stream in streams.iter().flatten() {
        let _ = fcntl(stream.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
    }
    let deadline = Deadline::after(limit);
    let mut why_stopped = None;
    while streams.iter().any(Option::is_some) {
        if deadline.has_passed() {
            why_stopped = Some(format!("no result within {} s", limit.as_secs()));
            break;
        }
        if signal::interrupted() {
            why_stopped = Some("interrupted".to_string());
            break;
        }
        let mut fds: Vec<PollFd> = streams
            .iter()
            .flatten()
            .map(|s| PollFd::new(s.as_fd(), PollFlags::POLLIN))
            .collect();
        let _ = poll(&mut fds, PollTimeout::from(50_u16));
        drop(fds);
        for (stream, out) in streams.iter_mut().zip(output.iter_mut()) {
            if let Some(s) = stream {
                let mut buf = [0_u8; 8192];
                match s.read(&mut buf) {
                    Ok(0) => *stream = None,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => *stream = None,
                }
            }
        }
    }
    if why_stopped.is_some() {
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    let status = child.wait();
    let stderr = String::from_utf8_lossy(&output[1]);
    let last_line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    if let Some(why) = why_stopped {
        return Err(Outcome::Failed(why));
    }
    match status {
        Ok(status) if status.success() => Ok(std::mem::take(&mut output[0])),
        Ok(status) => Err(Outcome::Failed(format!("{status}: {last_line}"))),
        Err(error) => Err(Outcome::Failed(format!("wait: {error}"))),
    }
}

/// Reads the script's JSON into figures.
fn parse(stdout: &[u8]) -> Result<PythonRun, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(stdout).map_err(|e| format!("its output is not JSON: {e}"))?;
    let text = |v: &serde_json::Value, field: &str| v[field].as_str().map(str::to_string);
    let number = |v: &serde_json::Value, field: &str| {
        v[field]
            .as_f64()
            .ok_or_else(|| format!("a figure without a number {field}: {v}"))
    };
    let version = format!(
        "Python {} ({})",
        text(&doc, "python").unwrap_or_default(),
        text(&doc, "implementation").unwrap_or_default()
    );
    let mut figures = Vec::new();
    for f in doc["figures"]
        .as_array()
        .ok_or("no figures in its output")?
    {
        let mech = f["mechanism"]
            .as_str()
            .and_then(Mech::from_script_name)
            .ok_or_else(|| format!("a figure of an unknown mechanism: {f}"))?;
        let section = f["metric"]
            .as_str()
            .and_then(Section::from_id)
            .ok_or_else(|| format!("a figure of an unknown metric: {f}"))?;
        let param = f["size"]
            .as_u64()
            .or_else(|| f["processes"].as_u64())
            .ok_or_else(|| format!("a figure without a size: {f}"))? as usize;
        let measure = match section {
            Section::RoundTrip => Measure::Latency {
                median_ns: number(f, "median_ns")?,
                p99_ns: number(f, "p99_ns")?,
                samples: number(f, "samples")? as u64,
            },
            Section::Throughput => Measure::Rate {
                per_s: number(f, "msgs_per_s")?,
                bytes_per_s: Some(number(f, "bytes_per_s")?),
                count: number(f, "messages")? as u64,
            },
            Section::Increments => Measure::Rate {
                per_s: number(f, "per_s")?,
                bytes_per_s: None,
                count: number(f, "increments")? as u64,
            },
            // An Event ping-pong is a round trip; the others are rates.
            Section::Sync if f.get("median_ns").is_some() => Measure::Latency {
                median_ns: number(f, "median_ns")?,
                p99_ns: number(f, "p99_ns")?,
                samples: number(f, "samples")? as u64,
            },
            Section::Sync | Section::Pool | Section::Scaling => Measure::Rate {
                per_s: number(f, "per_s")?,
                bytes_per_s: None,
                count: number(f, "count")? as u64,
            },
        };
        figures.push((
            Key {
                section,
                mech,
                param,
            },
            measure,
        ));
    }
    Ok(PythonRun::Done {
        version,
        figures: Figures::merge(vec![figures]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_json_becomes_figures() {
        let json = br#"{"python": "3.11.7", "implementation": "CPython", "start_method": "fork",
            "figures": [
              {"mechanism": "Queue", "metric": "round_trip", "size": 8, "median_ns": 50000, "p99_ns": 90000.5, "samples": 100},
              {"mechanism": "Pipe", "metric": "throughput", "size": 64, "msgs_per_s": 1000.0, "bytes_per_s": 64000.0, "messages": 500},
              {"mechanism": "Value", "metric": "increments", "processes": 5, "per_s": 300000.0, "increments": 9000},
              {"mechanism": "Semaphore", "metric": "sync", "processes": 4, "per_s": 2000000.0, "count": 800000},
              {"mechanism": "Event", "metric": "sync", "processes": 2, "median_ns": 15000, "p99_ns": 40000, "samples": 900},
              {"mechanism": "PoolMap", "metric": "pool", "processes": 4, "per_s": 250000.0, "count": 30000}
            ]}"#;
        let PythonRun::Done { version, figures } = parse(json).unwrap() else {
            panic!("not parsed")
        };
        // In the order of the keys: round trip, throughput, increments, sync.
        let figures: Vec<(Key, Measure)> = figures.map.into_iter().collect();
        assert_eq!(version, "Python 3.11.7 (CPython)");
        assert_eq!(figures.len(), 6);
        assert_eq!(
            figures[2].0,
            Key {
                section: Section::Increments,
                mech: Mech::PyValue,
                param: 5
            }
        );
        assert_eq!(figures[0].1.primary(), 50000.0);
        assert_eq!(
            figures[3],
            (
                Key {
                    section: Section::Sync,
                    mech: Mech::PySemaphore,
                    param: 4
                },
                Measure::Rate {
                    per_s: 2e6,
                    bytes_per_s: None,
                    count: 800000
                }
            )
        );
        assert!(matches!(
            figures[4].1,
            Measure::Latency {
                median_ns: 15000.0,
                ..
            }
        ));
        assert_eq!(
            figures[5],
            (
                Key {
                    section: Section::Pool,
                    mech: Mech::PyPoolMap,
                    param: 4
                },
                Measure::Rate {
                    per_s: 250000.0,
                    bytes_per_s: None,
                    count: 30000
                }
            )
        );
    }

    #[test]
    fn broken_output_is_a_failure_not_a_panic() {
        assert!(parse(b"Traceback").is_err());
        assert!(parse(br#"{"figures": [{"mechanism": "Queue"}]}"#).is_err());
    }

    #[test]
    fn a_missing_interpreter_is_skipped() {
        let placement = crate::machine::Placement::choose(
            crate::machine::Cpus::Any,
            &crate::machine::Machine::read().unwrap(),
        );
        let run = run(
            "/nonexistent/python3",
            Duration::from_millis(1),
            &[8],
            &["Queue"],
            &placement,
        );
        assert!(matches!(run, PythonRun::Skipped(_)), "{run:?}");
    }
}
