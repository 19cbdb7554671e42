//! The results as a table, CSV or JSON: each ipc-core figure beside its raw
//! floor and Python's, with the ratios, and the targets.

use std::fmt::Write as _;

use serde_json::{Value as Json, json};

use crate::machine::{Machine, Placement};
use crate::model::{Figures, Group, Measure, Mech, Section};
use crate::python::PythonRun;

/// How the run was set up, for the header.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) duration_s: f64,
    pub(crate) repeat: u32,
    pub(crate) quick: bool,
    pub(crate) pipe_size: usize,
    /// What one read of the clock costs (ns); each round trip has one.
    pub(crate) clock_read_ns: f64,
    /// Two-process measurements seen on one core, and on two.
    pub(crate) observed: (u32, u32),
}

/// Whether the NATS rows were measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NatsRun {
    /// A `nats-server` was found: the rows are measured.
    Measured,
    /// Not measured, and why (with the command that installs it, when it
    /// is missing).
    Skipped(String),
}

impl NatsRun {
    /// One line for the header of the table.
    pub(crate) fn describe(&self) -> String {
        match self {
            NatsRun::Measured => {
                "a private nats-server on 127.0.0.1 per measurement, in a child process".into()
            }
            NatsRun::Skipped(why) => format!("not measured: {why}"),
        }
    }
}

/// Everything a report shows.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) machine: Machine,
    pub(crate) placement: Placement,
    pub(crate) settings: Settings,
    pub(crate) python: PythonRun,
    pub(crate) nats: NatsRun,
    pub(crate) figures: Figures,
}

/// One line of a table: an ipc-core figure with its floor and Python's, or
/// a raw floor that stands alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) section: Section,
    pub(crate) mech: Mech,
    pub(crate) param: usize,
    pub(crate) measure: Measure,
    pub(crate) floor: Option<(Mech, Measure)>,
    pub(crate) python: Option<(Mech, Measure)>,
    /// For a peer or NATS: the ipc-core mechanism it stands beside.
    pub(crate) versus: Option<(Mech, Measure)>,
}

impl Row {
    pub(crate) fn times_floor(&self) -> Option<f64> {
        self.floor.map(|(_, f)| self.measure.times_floor(&f))
    }

    pub(crate) fn times_python(&self) -> Option<f64> {
        self.python.map(|(_, p)| self.measure.times_faster(&p))
    }

    /// For a peer: how many times faster its ipc-core counterpart is (more
    /// than 1: ipc-core is ahead).
    pub(crate) fn times_versus(&self) -> Option<f64> {
        self.versus.map(|(_, v)| v.times_faster(&self.measure))
    }
}

/// The mechanisms with rows of their own: ipc-core's, then the raw floors
/// no ipc-core mechanism is held to (the others are in the floor column),
/// then the peers, then NATS (Python's are in the Python column).
fn row_order() -> impl Iterator<Item = Mech> {
    let core = Mech::ALL.into_iter().filter(|m| m.group() == Group::Core);
    let alone = Mech::ALL
        .into_iter()
        .filter(|m| m.group() == Group::Raw && !m.is_a_floor());
    let peers = Mech::ALL.into_iter().filter(|m| m.group() == Group::Peer);
    let net = Mech::ALL.into_iter().filter(|m| m.group() == Group::Net);
    core.chain(alone).chain(peers).chain(net)
}

/// One of the targets, checked against this run.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) what: &'static str,
    /// `<= 1.15 × raw pipe`.
    pub(crate) bound: &'static str,
    /// The measured ratio (or GB/s), if both figures exist.
    pub(crate) value: Option<f64>,
    pub(crate) unit: &'static str,
    pub(crate) holds: Option<bool>,
}

impl Report {
    pub(crate) fn rows(&self, section: Section) -> Vec<Row> {
        let mut rows = Vec::new();
        for mech in row_order() {
            for (key, measure) in &self.figures.map {
                if key.section != section || key.mech != mech {
                    continue;
                }
                let with = |m: Option<Mech>| {
                    m.and_then(|m| self.figures.get(section, m, key.param).map(|f| (m, *f)))
                };
                rows.push(Row {
                    section,
                    mech,
                    param: key.param,
                    measure: *measure,
                    floor: with(mech.floor()),
                    python: with(mech.python()),
                    versus: with(mech.versus()),
                });
            }
        }
        rows
    }

    fn ratio(&self, section: Section, mech: Mech, param: usize, versus: Mech) -> Option<f64> {
        let a = self.figures.get(section, mech, param)?;
        let b = self.figures.get(section, versus, param)?;
        Some(if versus.group() == Group::Python {
            a.times_faster(b)
        } else {
            a.times_floor(b)
        })
    }

    /// The bytes per second of a throughput figure.
    fn bytes_per_s(&self, mech: Mech, size: usize) -> Option<f64> {
        match self.figures.get(Section::Throughput, mech, size) {
            Some(Measure::Rate {
                bytes_per_s: Some(b),
                ..
            }) => Some(*b),
            _ => None,
        }
    }

    /// The smallest "times faster" of ipc-core's counterpart over every
    /// peer measured (more than 1: ahead of all of them), and that peer.
    fn ahead_of_peers(&self, section: Section, size: usize) -> Option<(f64, Mech)> {
        Mech::ALL
            .into_iter()
            .filter(|m| m.group() == Group::Peer)
            .filter_map(|peer| {
                let core = self.figures.get(section, peer.versus()?, size)?;
                let theirs = self.figures.get(section, peer, size)?;
                Some((core.times_faster(theirs), peer))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
    }

    pub(crate) fn targets(&self) -> Vec<Target> {
        let at_most = |value: Option<f64>, bound: f64| value.map(|v| v <= bound);
        let at_least = |value: Option<f64>, bound: f64| value.map(|v| v >= bound);
        let pipe = self.ratio(Section::RoundTrip, Mech::Pipe, 8, Mech::RawPipe);
        let mq = self.ratio(Section::RoundTrip, Mech::Mqueue, 8, Mech::RawMq);
        let queue_py = self.ratio(Section::Throughput, Mech::Queue, 8, Mech::PyQueue);
        let queue_spin = self.ratio(Section::RoundTrip, Mech::Queue, 8, Mech::RawShmSpin);
        let value_py = self.ratio(Section::Increments, Mech::Value, 5, Mech::PyValue);
        let gbps = self.bytes_per_s(Mech::Pipe, 64 << 10).map(|b| b / 1e9);
        let large = |size: usize| {
            self.ratio(
                Section::Throughput,
                Mech::QueueZeroCopy,
                size,
                Mech::RawShmSpin,
            )
        };
        let peers_rate = self.ahead_of_peers(Section::Throughput, 8);
        let peers_trip = self.ahead_of_peers(Section::RoundTrip, 8);
        let mut targets = vec![
            Target {
                what: "pipe round trip, 8 B",
                bound: "<= 1.15 x raw pipe",
                value: pipe,
                unit: "x",
                holds: at_most(pipe, 1.15),
            },
            Target {
                what: "message queue round trip, 8 B",
                bound: "<= 1.15 x raw mq",
                value: mq,
                unit: "x",
                holds: at_most(mq, 1.15),
            },
            Target {
                what: "Queue 1 producer/1 consumer, 8 B msgs/s",
                bound: ">= 100 x Python Queue",
                value: queue_py,
                unit: "x",
                holds: at_least(queue_py, 100.0),
            },
            Target {
                what: "Queue round trip, 8 B",
                bound: "<= 4 x raw shm spin",
                value: queue_spin,
                unit: "x",
                holds: at_most(queue_spin, 4.0),
            },
            Target {
                what: "Queue 8 B msgs/s, ahead of every peer",
                bound: "> 1 x the slowest-beaten",
                value: peers_rate.map(|p| p.0),
                unit: "x",
                holds: peers_rate.map(|p| p.0 > 1.0),
            },
            Target {
                what: "Queue round trip 8 B, ahead of every peer",
                bound: "> 1 x the slowest-beaten",
                value: peers_trip.map(|p| p.0),
                unit: "x",
                holds: peers_trip.map(|p| p.0 > 1.0),
            },
        ];
        for (size, bound, limit) in [
            (4 << 10, "<= 2 x raw shm spin", 2.0),
            (64 << 10, "<= 2 x raw shm spin", 2.0),
            (1 << 20, "<= 1.5 x raw shm spin", 1.5),
        ] {
            targets.push(Target {
                what: match size {
                    4096 => "Queue claim/get_ref throughput, 4 KiB",
                    65536 => "Queue claim/get_ref throughput, 64 KiB",
                    _ => "Queue claim/get_ref throughput, 1 MiB",
                },
                bound,
                value: large(size),
                unit: "x",
                holds: at_most(large(size), limit),
            });
        }
        for (mech, python, processes, what) in [
            (
                Mech::Semaphore,
                Mech::PySemaphore,
                1,
                "Semaphore acquire+release, 1 process",
            ),
            (
                Mech::Semaphore,
                Mech::PySemaphore,
                4,
                "Semaphore acquire+release, 4 processes",
            ),
            (Mech::Event, Mech::PyEvent, 2, "Event ping-pong round trip"),
            (
                Mech::Barrier,
                Mech::PyBarrier,
                4,
                "Barrier rounds/s, 4 parties",
            ),
        ] {
            let value = self.ratio(Section::Sync, mech, processes, python);
            targets.push(Target {
                what,
                bound: match mech {
                    Mech::Semaphore => ">= 10 x Python Semaphore",
                    Mech::Event => ">= 10 x Python Event",
                    _ => ">= 10 x Python Barrier",
                },
                value,
                unit: "x",
                holds: at_least(value, 10.0),
            });
        }
        targets.extend([
            Target {
                what: "Value with lock, 5 processes, increments/s",
                bound: ">= 10 x Python Value",
                value: value_py,
                unit: "x",
                holds: at_least(value_py, 10.0),
            },
            Target {
                what: "pipe throughput, 64 KiB messages",
                bound: ">= 3 GB/s",
                value: gbps,
                unit: "GB/s",
                holds: at_least(gbps, 3.0),
            },
        ]);
        targets
    }

    fn header_lines(&self) -> Vec<(&'static str, String)> {
        let m = &self.machine;
        let mut lines = vec![
            (
                "machine",
                format!(
                    "{} CPUs, {}, {}{}",
                    m.cores,
                    m.cpu_model,
                    if m.virtual_machine {
                        "virtual machine (hypervisor flag)"
                    } else {
                        "no hypervisor flag"
                    },
                    m.clocksource
                        .as_ref()
                        .map(|c| format!(", clock source {c}"))
                        .unwrap_or_default()
                ),
            ),
            ("kernel", m.kernel.clone()),
            ("placement", self.placement.to_string()),
        ];
        if let Some(note) = &self.placement.note {
            lines.push(("note", note.clone()));
        }
        let (same, two) = self.settings.observed;
        if self.placement.ping.is_none() {
            lines.push((
                "observed",
                format!(
                    "at the end of the two-process measurements: one core {same} times, two cores {two} times"
                ),
            ));
        }
        lines.push((
            "run",
            format!(
                "{:.3} s per measurement{}{}, pipes of {}; load average at start {}; a clock read (one per round trip) takes {:.0} ns",
                self.settings.duration_s,
                if self.settings.quick {
                    " (--quick)"
                } else {
                    ""
                },
                if self.settings.repeat > 1 {
                    format!(", median of {} runs", self.settings.repeat)
                } else {
                    String::new()
                },
                size(self.settings.pipe_size),
                m.load_average.as_deref().unwrap_or("unknown"),
                self.settings.clock_read_ns
            ),
        ));
        lines.push(("python", self.python.describe()));
        lines.push(("nats", self.nats.describe()));
        lines
    }

    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "ipc-bench {}", env!("CARGO_PKG_VERSION"));
        for (label, text) in self.header_lines() {
            let _ = writeln!(out, "{label:<10}{text}");
        }
        for section in Section::ALL {
            let rows = self.rows(section);
            if rows.is_empty() {
                continue;
            }
            out.push('\n');
            let (title, columns) = match section {
                Section::RoundTrip => (
                    "Round trip: a message there and back between two processes (median, 99th percentile)",
                    ["size", "median", "p99", "median", "median"],
                ),
                Section::Throughput => (
                    "Throughput: one way, as fast as the sender can",
                    ["size", "msgs/s", "bytes/s", "msgs/s", "msgs/s"],
                ),
                Section::Increments => (
                    "Increments of one shared counter, per second, by all processes together",
                    ["procs", "incr/s", "", "incr/s", "incr/s"],
                ),
                Section::Sync => (
                    "Synchronisation: Semaphore(1) acquire+release pairs and Barrier rounds per second\n\
                     by all processes together; Event ping-pong round trip (median, 99th percentile)",
                    ["procs", "figure", "p99", "figure", "figure"],
                ),
            };
            let _ = writeln!(out, "{title}");
            let _ = writeln!(
                out,
                "{:<20} {:>7} {:>9} {:>10}  {:<19} {:>9} {:>7}  {:>9} {:>8}",
                "mechanism",
                columns[0],
                columns[1],
                columns[2],
                "floor",
                columns[3],
                "×floor",
                columns[4],
                "×Python"
            );
            let mut shown = None;
            for row in rows {
                let heading = match row.mech.group() {
                    Group::Peer => Some("peer crates"),
                    Group::Net => Some("past one machine"),
                    _ => None,
                };
                if heading.is_some() && heading != shown {
                    shown = heading;
                    let _ = writeln!(
                        out,
                        "{:<20} {:>7} {:>9} {:>10}  {:<19} {:>9} {:>9}",
                        heading.unwrap_or_default(),
                        columns[0],
                        columns[1],
                        columns[2],
                        "ipc-core",
                        columns[3],
                        "×ipc-core",
                    );
                }
                let (first, second) = cells(section, &row.measure);
                let param = if section.counts_processes() {
                    row.param.to_string()
                } else {
                    size(row.param)
                };
                // A peer's "floor" column holds its ipc-core counterpart.
                let (beside, times) = match row.versus {
                    Some(versus) => (Some(versus), row.times_versus()),
                    None => (row.floor, row.times_floor()),
                };
                let floor_name = beside.map_or("", |(m, _)| m.label());
                let floor_value = beside.map_or(String::new(), |(_, f)| cells(section, &f).0);
                let python = row
                    .python
                    .map_or(String::new(), |(_, p)| cells(section, &p).0);
                let _ = writeln!(
                    out,
                    "{:<20} {:>7} {:>9} {:>10}  {:<19} {:>9} {:>7}  {:>9} {:>8}",
                    row.mech.label(),
                    param,
                    first,
                    second,
                    floor_name,
                    floor_value,
                    ratio(times),
                    python,
                    ratio(row.times_python()),
                );
            }
        }
        out.push('\n');
        out.push_str(
            "×floor: ipc-core's round trip over the floor's, or the floor's rate over ipc-core's\n\
             (1.00 is the floor; higher is slower). ×Python: how many times faster than Python.\n\
             ×ipc-core: how many times faster the ipc-core counterpart is than the peer crate\n\
             or NATS (above 1: ipc-core is ahead).\n",
        );
        out.push_str("\nTargets (issues 5, 10 and 14), each a ratio from this run:\n");
        for t in self.targets() {
            let verdict = match t.holds {
                Some(true) => "holds",
                Some(false) => "MISSED",
                None => "n/a",
            };
            let value = t
                .value
                .map_or("not measured".to_string(), |v| format!("{v:.2} {}", t.unit));
            let _ = writeln!(out, "  {verdict:<7} {:<44} {:<22} {value}", t.what, t.bound);
        }
        out
    }

    pub(crate) fn csv(&self) -> String {
        let mut out = String::from(
            "section,mechanism,group,size_bytes,processes,value,unit,p99_ns,bytes_per_s,count,floor,floor_value,x_floor,python,python_value,x_python,versus,versus_value,x_versus\n",
        );
        let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        for section in Section::ALL {
            for row in self.rows(section) {
                let (value, unit, p99, bytes, count) = parts(section, row.mech, &row.measure);
                let (size, procs) = if section.counts_processes() {
                    (String::new(), row.param.to_string())
                } else {
                    (row.param.to_string(), String::new())
                };
                let _ = writeln!(
                    out,
                    "{},{},{},{size},{procs},{value:.6},{unit},{},{},{count},{},{},{},{},{},{},{},{},{}",
                    section.id(),
                    row.mech.id(),
                    row.mech.group().id(),
                    num(p99),
                    num(bytes),
                    row.floor.map_or("", |(m, _)| m.id()),
                    num(row.floor.map(|(_, f)| f.primary())),
                    num(row.times_floor()),
                    row.python.map_or("", |(m, _)| m.id()),
                    num(row.python.map(|(_, p)| p.primary())),
                    num(row.times_python()),
                    row.versus.map_or("", |(m, _)| m.id()),
                    num(row.versus.map(|(_, v)| v.primary())),
                    num(row.times_versus()),
                );
            }
        }
        out
    }

    pub(crate) fn json(&self) -> Json {
        let m = &self.machine;
        let figure = |section: Section, mech: Mech, param: usize, measure: &Measure| {
            let (value, unit, p99, bytes, count) = parts(section, mech, measure);
            json!({
                "section": section.id(),
                "mechanism": mech.id(),
                "label": mech.label(),
                "group": mech.group().id(),
                "size_bytes": (!section.counts_processes()).then_some(param),
                "processes": section.counts_processes().then_some(param),
                "value": value,
                "unit": unit,
                "p99_ns": p99,
                "bytes_per_s": bytes,
                "count": count,
            })
        };
        let figures: Vec<Json> = self
            .figures
            .map
            .iter()
            .map(|(k, m)| figure(k.section, k.mech, k.param, m))
            .collect();
        let rows: Vec<Json> = Section::ALL
            .into_iter()
            .flat_map(|s| self.rows(s))
            .map(|row| {
                let mut j = figure(row.section, row.mech, row.param, &row.measure);
                j["floor"] = json!(row.floor.map(|(m, _)| m.id()));
                j["floor_value"] = json!(row.floor.map(|(_, f)| f.primary()));
                j["x_floor"] = json!(row.times_floor());
                j["python"] = json!(row.python.map(|(m, _)| m.id()));
                j["python_value"] = json!(row.python.map(|(_, p)| p.primary()));
                j["x_python"] = json!(row.times_python());
                j["versus"] = json!(row.versus.map(|(m, _)| m.id()));
                j["versus_value"] = json!(row.versus.map(|(_, v)| v.primary()));
                j["x_versus"] = json!(row.times_versus());
                j
            })
            .collect();
        let targets: Vec<Json> = self
            .targets()
            .iter()
            .map(|t| {
                json!({
                    "target": t.what,
                    "bound": t.bound,
                    "value": t.value,
                    "unit": t.unit,
                    "holds": t.holds,
                })
            })
            .collect();
        let (same, two) = self.settings.observed;
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "machine": {
                "cpus": m.cores,
                "allowed_cpus": m.allowed,
                "cpu_model": m.cpu_model,
                "kernel": m.kernel,
                "virtual_machine": m.virtual_machine,
                "clocksource": m.clocksource,
                "load_average": m.load_average,
            },
            "placement": {
                "asked": self.placement.asked.id(),
                "used": self.placement.used.id(),
                "ping_cpu": self.placement.ping,
                "pong_cpu": self.placement.pong,
                "worker_cpus": self.placement.workers,
                "cores": match (self.placement.ping, self.placement.pong) {
                    (Some(a), Some(b)) if a == b => json!(1),
                    (Some(_), Some(_)) => json!(2),
                    _ => Json::Null,
                },
                "observed_one_core": same,
                "observed_two_cores": two,
                "note": self.placement.note,
            },
            "settings": {
                "duration_s": self.settings.duration_s,
                "repeat": self.settings.repeat,
                "quick": self.settings.quick,
                "pipe_size": self.settings.pipe_size,
                "clock_read_ns": self.settings.clock_read_ns,
            },
            "python": {
                "status": match &self.python {
                    PythonRun::Done { .. } => "done",
                    PythonRun::Skipped(_) => "skipped",
                    PythonRun::Failed(_) => "failed",
                },
                "detail": self.python.describe(),
            },
            "nats": {
                "status": match &self.nats {
                    NatsRun::Measured => "measured",
                    NatsRun::Skipped(_) => "skipped",
                },
                "detail": self.nats.describe(),
            },
            "figures": figures,
            "rows": rows,
            "targets": targets,
        })
    }
}

/// The value, its unit, the p99, the bytes per second and the count.
fn parts(
    section: Section,
    mech: Mech,
    m: &Measure,
) -> (f64, &'static str, Option<f64>, Option<f64>, u64) {
    match *m {
        Measure::Latency {
            median_ns,
            p99_ns,
            samples,
        } => (median_ns, "ns", Some(p99_ns), None, samples),
        Measure::Rate {
            per_s,
            bytes_per_s,
            count,
        } => (per_s, mech.rate_unit(section), None, bytes_per_s, count),
    }
}

/// The two cells of a figure in the table: median and p99, or rate and
/// bytes per second.
fn cells(section: Section, m: &Measure) -> (String, String) {
    match *m {
        Measure::Latency {
            median_ns, p99_ns, ..
        } => (time(median_ns), time(p99_ns)),
        Measure::Rate {
            per_s, bytes_per_s, ..
        } => (
            match section {
                // Rates of different things share the section: say "per second".
                Section::Sync => format!("{}/s", count(per_s)),
                _ => count(per_s),
            },
            match (section, bytes_per_s) {
                (Section::Throughput, Some(b)) => bytes_rate(b),
                _ => String::new(),
            },
        ),
    }
}

fn ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r >= 100.0 => format!("{r:.0}"),
        Some(r) if r >= 10.0 => format!("{r:.1}"),
        Some(r) => format!("{r:.2}"),
        None => String::new(),
    }
}

/// A duration in nanoseconds, three significant digits.
pub(crate) fn time(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", sig3(value))
}

/// A count per second with an SI prefix: `12.3 M`, `512`.
fn count(per_s: f64) -> String {
    match si(per_s) {
        (value, "") => sig3(value),
        (value, unit) => format!("{} {unit}", sig3(value)),
    }
}

/// Bytes per second, decimal: `3.21 GB/s`.
pub(crate) fn bytes_rate(b: f64) -> String {
    let (value, unit) = si(b);
    format!("{} {unit}B/s", sig3(value))
}

fn si(v: f64) -> (f64, &'static str) {
    if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    }
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A message size: `8 B`, `4 KiB`, `1 MiB`.
pub(crate) fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_naturally() {
        assert_eq!(time(850.0), "850 ns");
        assert_eq!(time(12_345.0), "12.3 µs");
        assert_eq!(time(1_500_000.0), "1.50 ms");
        assert_eq!(bytes_rate(3.21e9), "3.21 GB/s");
        assert_eq!(count(12_300_000.0), "12.3 M");
        assert_eq!(count(512.0), "512");
        assert_eq!(bytes_rate(512.0), "512 B/s");
        assert_eq!(size(8), "8 B");
        assert_eq!(size(4096), "4 KiB");
        assert_eq!(size(1 << 20), "1 MiB");
        assert_eq!(size(1000), "1000 B");
        assert_eq!(ratio(Some(1.034)), "1.03");
        assert_eq!(ratio(Some(41.26)), "41.3");
        assert_eq!(ratio(None), "");
    }
}
