//! The results as a table, CSV or JSON: each ipc-core figure beside its raw
//! floor and Python's, with the ratios, and the targets.

use std::fmt::Write as _;

use serde_json::{Value as Json, json};

use crate::machine::{Machine, Placement};
use crate::model::{Figures, Group, Key, Measure, Mech, Section};
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
    /// The load averages when the measurements ended (those at the start
    /// are the machine's).
    pub(crate) load_at_end: Option<String>,
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

    /// The key of `mech`'s figure beside this row.
    pub(crate) fn key_of(&self, mech: Mech) -> Key {
        Key {
            section: self.section,
            mech,
            param: self.param,
        }
    }

    /// True when ipc-core beats its floor by more than [`SUSPECT`] allows.
    pub(crate) fn floor_suspect(&self) -> bool {
        self.times_floor().is_some_and(|r| r < SUSPECT)
    }

    /// What the row is, in a line: `Queue throughput, 4 KiB`.
    pub(crate) fn name(&self) -> String {
        let what = match self.section {
            Section::RoundTrip => "round trip",
            Section::Throughput => "throughput",
            Section::Increments => "increments",
            Section::Sync => "",
            Section::Scaling => "scaling",
            Section::Pool => "",
        };
        let param = param_cell(self.section, self.mech, self.param);
        let unit = if self.section == Section::Pool {
            format!(" {}", pool_unit(self.mech, self.param))
        } else if self.section.counts_processes() {
            if self.param == 1 {
                " process".to_string()
            } else {
                " processes".to_string()
            }
        } else {
            String::new()
        };
        if what.is_empty() {
            format!("{}, {param}{unit}", self.mech.label())
        } else {
            format!("{} {what}, {param}{unit}", self.mech.label())
        }
    }
}

/// What the parameter of a pool and manager row counts: the pool's
/// workers, or the manager's clients.
pub(crate) fn pool_unit(mech: Mech, param: usize) -> &'static str {
    let one = param == 1;
    match mech.rate_unit(Section::Pool) {
        "tasks/s" if one => "worker",
        "tasks/s" => "workers",
        _ if one => "client",
        _ => "clients",
    }
}

/// How a row's parameter reads: a size, a number of processes, or, for the
/// Queue's scaling curve, producers + consumers.
pub(crate) fn param_cell(section: Section, mech: Mech, param: usize) -> String {
    match section {
        Section::Scaling if mech == Mech::Queue => {
            let producers = (param / 2).max(1);
            format!("{producers}+{}", param.saturating_sub(producers).max(1))
        }
        s if s.counts_processes() => param.to_string(),
        _ => size(param),
    }
}

/// The mechanisms with rows of their own: ipc-core's, then the raw floors
/// (a floor's figure is in the floor column of the ipc-core row held to
/// it, and gets a row of its own only where there is no such row: see
/// [`Report::rows`]), then the peers, then NATS (Python's are in the
/// Python column).
fn row_order() -> impl Iterator<Item = Mech> {
    let core = Mech::ALL.into_iter().filter(|m| m.group() == Group::Core);
    let alone = Mech::ALL.into_iter().filter(|m| m.group() == Group::Raw);
    let peers = Mech::ALL.into_iter().filter(|m| m.group() == Group::Peer);
    let net = Mech::ALL.into_iter().filter(|m| m.group() == Group::Net);
    core.chain(alone).chain(peers).chain(net)
}

/// Below this many times its floor's cost, an ipc-core row is marked
/// "floor suspect": ipc-core does the same job faster than the floor, so
/// the floor is not the fastest way known to do it, and the run's targets
/// fail on it.
pub(crate) const SUSPECT: f64 = 0.9;

/// One of the issues' targets, checked against this run.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) what: String,
    /// `<= 1.15 x raw pipe`.
    pub(crate) bound: String,
    /// The measured ratio (or GB/s), if both figures exist.
    pub(crate) value: Option<f64>,
    pub(crate) unit: &'static str,
    /// Whether it holds; `None` when not measured.
    pub(crate) holds: Option<bool>,
    /// What else the reader should know: the suspect floors, the closest
    /// peer.
    pub(crate) note: Option<String>,
}

impl Report {
    pub(crate) fn rows(&self, section: Section) -> Vec<Row> {
        let mut rows = Vec::new();
        for mech in row_order() {
            for (key, measure) in &self.figures.map {
                if key.section != section || key.mech != mech {
                    continue;
                }
                // A floor already shown beside an ipc-core figure.
                let beside_core = Mech::ALL.into_iter().any(|m| {
                    m.floor() == Some(mech) && self.figures.get(section, m, key.param).is_some()
                });
                if mech.group() == Group::Raw && beside_core {
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

    /// Every ipc-core row below [`SUSPECT`] times its floor's cost: a
    /// floor that is not the fastest way known to do the same job.
    pub(crate) fn suspects(&self) -> Vec<Row> {
        Section::ALL
            .into_iter()
            .flat_map(|s| self.rows(s))
            .filter(|row| row.floor_suspect())
            .collect()
    }

    /// The rate of `mech` with `processes` in the scaling curves over its
    /// rate with `base` processes (1: it keeps its rate).
    fn kept(&self, mech: Mech, processes: usize, base: usize) -> Option<f64> {
        let at = |n| {
            self.figures
                .get(Section::Scaling, mech, n)
                .map(Measure::primary)
        };
        Some(at(processes)? / at(base)?)
    }

    pub(crate) fn targets(&self) -> Vec<Target> {
        let at_least = |value: Option<f64>, bound: f64| value.map(|v| v >= bound);
        let mut targets = Vec::new();
        // Held to a floor: at most the bound, and not below SUSPECT (a
        // floor that ipc-core beats by more than that is wrong).
        let mut floor = |what: &str, section: Section, mech: Mech, param: usize, bound: f64| {
            let floor = mech.floor().expect("an ipc-core mechanism");
            let value = self.ratio(section, mech, param, floor);
            targets.push(Target {
                what: what.to_string(),
                bound: format!("<= {bound} x {}", floor.label()),
                value,
                unit: "x",
                holds: value.map(|v| (SUSPECT..=bound).contains(&v)),
                note: value
                    .filter(|&v| v < SUSPECT)
                    .map(|_| "floor suspect".to_string()),
            });
        };
        use Section::{Increments, RoundTrip, Sync, Throughput};
        floor("pipe round trip, 8 B", RoundTrip, Mech::Pipe, 8, 1.15);
        floor(
            "message queue round trip, 8 B",
            RoundTrip,
            Mech::Mqueue,
            8,
            1.15,
        );
        floor(
            "pipe (simplex) throughput, 4 KiB",
            Throughput,
            Mech::Pipe,
            4096,
            1.3,
        );
        floor(
            "message queue throughput, 4 KiB",
            Throughput,
            Mech::Mqueue,
            4096,
            1.3,
        );
        floor("duplex throughput, 8 B", Throughput, Mech::Duplex, 8, 1.2);
        floor(
            "Queue put/get throughput, 8 B",
            Throughput,
            Mech::Queue,
            8,
            1.3,
        );
        floor("Queue round trip, 8 B", RoundTrip, Mech::Queue, 8, 4.0);
        for (bytes, bound) in [(4 << 10, 2.0), (64 << 10, 2.0), (1 << 20, 1.5)] {
            let what = format!("Queue claim/get_ref throughput, {}", size(bytes));
            floor(&what, Throughput, Mech::QueueZeroCopy, bytes, bound);
        }
        floor(
            "Value with lock, 1 process",
            Increments,
            Mech::Value,
            1,
            1.2,
        );
        floor(
            "Value with lock, 5 processes",
            Increments,
            Mech::Value,
            5,
            1.3,
        );
        floor(
            "Semaphore acquire+release, 1 process",
            Sync,
            Mech::Semaphore,
            1,
            1.3,
        );
        // Against Python, in the same run.
        for (what, section, mech, param) in [
            ("Queue put/get throughput, 8 B", Throughput, Mech::Queue, 8),
            ("Event ping-pong round trip", Sync, Mech::Event, 2),
            ("Barrier rounds/s, 4 parties", Sync, Mech::Barrier, 4),
            ("Value with lock, 5 processes", Increments, Mech::Value, 5),
        ] {
            let python = mech.python().expect("a Python twin");
            let value = self.ratio(section, mech, param, python);
            let bound = if mech == Mech::Queue { 100.0 } else { 10.0 };
            targets.push(Target {
                what: what.to_string(),
                bound: format!(">= {bound} x {}", python.label()),
                value,
                unit: "x",
                holds: at_least(value, bound),
                note: None,
            });
        }
        // The peers stay behind.
        for (section, what) in [
            (Throughput, "Queue 8 B msgs/s, ahead of every peer"),
            (RoundTrip, "Queue round trip 8 B, ahead of every peer"),
        ] {
            let closest = self.ahead_of_peers(section, 8);
            targets.push(Target {
                what: what.to_string(),
                bound: "> 1 x the closest peer".to_string(),
                value: closest.map(|p| p.0),
                unit: "x",
                holds: closest.map(|p| p.0 > 1.0),
                note: closest.map(|p| format!("closest: {}", p.1.label())),
            });
        }
        let gbps = self.bytes_per_s(Mech::Pipe, 64 << 10).map(|b| b / 1e9);
        targets.push(Target {
            what: "pipe throughput, 64 KiB messages".to_string(),
            bound: ">= 3 GB/s".to_string(),
            value: gbps,
            unit: "GB/s",
            holds: at_least(gbps, 3.0),
            note: None,
        });
        // No floor suspect anywhere: the smallest ratio of the run.
        let suspects = self.suspects();
        let lowest = Section::ALL
            .into_iter()
            .flat_map(|s| self.rows(s))
            .filter_map(|row| row.times_floor())
            .filter(|r| r.is_finite())
            .min_by(f64::total_cmp);
        targets.push(Target {
            what: "every ipc-core row against its floor".to_string(),
            bound: format!(">= {SUSPECT} x floor"),
            value: lowest,
            unit: "x",
            holds: lowest.map(|_| suspects.is_empty()),
            note: (!suspects.is_empty()).then(|| {
                let names: Vec<String> = suspects.iter().map(Row::name).collect();
                format!("floor suspect: {}", names.join(", "))
            }),
        });
        // Spinning must not collapse when processes outnumber CPUs.
        for (what, mech, processes, base, bound) in [
            ("Queue, 8 producers + 8 consumers", Mech::Queue, 16, 2, 0.5),
            ("Barrier, 16 parties", Mech::Barrier, 16, 4, 0.25),
        ] {
            let value = self.kept(mech, processes, base);
            targets.push(Target {
                what: what.to_string(),
                bound: format!(
                    ">= {bound} x its rate with {}",
                    if mech == Mech::Queue {
                        "1+1".to_string()
                    } else {
                        format!("{base}")
                    }
                ),
                value,
                unit: "x",
                holds: at_least(value, bound),
                note: None,
            });
        }
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
                "{:.3} s per measurement{}{}, pipes of {}; load average at start {}, at end {}; a clock read (one per round trip) takes {:.0} ns",
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
                self.settings.load_at_end.as_deref().unwrap_or("unknown"),
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
        // The spread columns, only when there is a spread to show.
        let spread = self.settings.repeat > 1;
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
                Section::Pool => (
                    "Pool and Manager: Pool.map tasks per second by 2 and 4 workers (10 000 squares of u64;\n\
                     8 sums of a 1 MiB Bytes), floor: the same map sequentially in one process (seq.); Manager dict\n\
                     set and get per second by one client, floor: a HashMap in a process asked over a socket pair",
                    ["procs", "rate", "", "rate", "rate"],
                ),
                Section::Scaling => (
                    "Scaling: each family's rate by all processes together, against the processes\n\
                     (Queue: producers+consumers, 8 B messages; Value + lock: increments; Barrier: rounds;\n\
                     Event: hand-overs of a token round a ring of Events; Semaphore(1): acquire+release pairs)",
                    ["procs", "rate", "", "rate", "rate"],
                ),
            };
            let _ = writeln!(out, "{title}");
            // One line of the table: the cells, then a note at its end.
            let line = |out: &mut String, cells: [&str; 12], note: &str| {
                let _ = write!(
                    out,
                    "{:<20} {:>7} {:>9} {:>10}",
                    cells[0], cells[1], cells[2], cells[3]
                );
                if spread {
                    let _ = write!(out, " {:>10}", cells[4]);
                }
                let _ = write!(out, "  {:<19} {:>9}", cells[5], cells[6]);
                if spread {
                    let _ = write!(out, " {:>10}", cells[7]);
                }
                let _ = write!(out, " {:>9}  {:>9}", cells[8], cells[9]);
                if spread {
                    let _ = write!(out, " {:>10}", cells[10]);
                }
                let _ = write!(out, " {:>8}", cells[11]);
                let _ = if note.is_empty() {
                    writeln!(out)
                } else {
                    writeln!(out, "  {note}")
                };
            };
            line(
                &mut out,
                [
                    "mechanism",
                    columns[0],
                    columns[1],
                    columns[2],
                    "spread",
                    "floor",
                    columns[3],
                    "spread",
                    "×floor",
                    columns[4],
                    "spread",
                    "×Python",
                ],
                "",
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
                    line(
                        &mut out,
                        [
                            heading.unwrap_or_default(),
                            columns[0],
                            columns[1],
                            columns[2],
                            "spread",
                            "ipc-core",
                            columns[3],
                            "spread",
                            "×ipc-core",
                            "",
                            "",
                            "",
                        ],
                        "",
                    );
                }
                let (first, second) = cells(section, &row.measure);
                let param = param_cell(section, row.mech, row.param);
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
                let spread_of = |m: Option<Mech>| {
                    m.map_or(String::new(), |m| self.spread_cell(section, m, row.param))
                };
                line(
                    &mut out,
                    [
                        row.mech.label(),
                        &param,
                        &first,
                        &second,
                        &spread_of(Some(row.mech)),
                        floor_name,
                        &floor_value,
                        &spread_of(beside.map(|(m, _)| m)),
                        &ratio(times),
                        &python,
                        &spread_of(row.python.map(|(m, _)| m)),
                        &ratio(row.times_python()),
                    ],
                    if row.floor_suspect() {
                        "floor suspect"
                    } else {
                        ""
                    },
                );
            }
        }
        out.push('\n');
        out.push_str(
            "×floor: ipc-core's round trip over the floor's, or the floor's rate over ipc-core's\n\
             (1.00 is the floor; higher is slower; below 0.90, \"floor suspect\": the floor is not\n\
             the fastest way known to do the same job). ×Python: how many times faster than Python.\n\
             ×ipc-core: how many times faster the ipc-core counterpart is than the peer crate\n\
             or NATS (above 1: ipc-core is ahead).\n",
        );
        if spread {
            let _ = writeln!(
                out,
                "spread: the lowest and the highest of the {} runs, against their median (the figure shown).",
                self.settings.repeat
            );
        }
        out.push_str("\nTargets (issues 5, 10, 14 and 24), each from this run (medians):\n");
        for t in self.targets() {
            let verdict = match t.holds {
                Some(true) => "holds",
                Some(false) => "MISSED",
                None => "n/a",
            };
            let value = t
                .value
                .map_or("not measured".to_string(), |v| format!("{v:.2} {}", t.unit));
            let note = t.note.map(|n| format!("  ({n})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {verdict:<7} {:<42} {:<30} {value}{note}",
                t.what, t.bound
            );
        }
        out
    }

    /// A figure's spread over the runs, against its median: `-4/+6%`
    /// (empty for a figure measured once).
    fn spread_cell(&self, section: Section, mech: Mech, param: usize) -> String {
        let key = Key {
            section,
            mech,
            param,
        };
        match (
            self.figures.get(section, mech, param),
            self.figures.spread(&key),
        ) {
            (Some(m), Some(s)) if s.runs > 1 && m.primary() > 0.0 => {
                let median = m.primary();
                format!(
                    "{:+.0}/{:+.0}%",
                    (s.min / median - 1.0) * 100.0,
                    (s.max / median - 1.0) * 100.0
                )
            }
            _ => String::new(),
        }
    }

    pub(crate) fn csv(&self) -> String {
        let mut out = String::from(
            "section,mechanism,group,size_bytes,processes,value,unit,p99_ns,bytes_per_s,count,floor,floor_value,x_floor,python,python_value,x_python,versus,versus_value,x_versus,runs,value_min,value_max,floor_min,floor_max,python_min,python_max,versus_min,versus_max,floor_suspect\n",
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
                let spread = |m: Option<(Mech, Measure)>| {
                    let s = m.and_then(|(m, _)| self.figures.spread(&row.key_of(m)));
                    (num(s.map(|s| s.min)), num(s.map(|s| s.max)))
                };
                let own = self.figures.spread(&row.key_of(row.mech));
                let (floor_min, floor_max) = spread(row.floor);
                let (python_min, python_max) = spread(row.python);
                let (versus_min, versus_max) = spread(row.versus);
                let _ = writeln!(
                    out,
                    "{},{},{},{size},{procs},{value:.6},{unit},{},{},{count},{},{},{},{},{},{},{},{},{},{},{},{},{floor_min},{floor_max},{python_min},{python_max},{versus_min},{versus_max},{}",
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
                    own.map_or(1, |s| s.runs),
                    num(own.map(|s| s.min)),
                    num(own.map(|s| s.max)),
                    row.floor_suspect(),
                );
            }
        }
        out
    }

    pub(crate) fn json(&self) -> Json {
        let m = &self.machine;
        let figure = |section: Section, mech: Mech, param: usize, measure: &Measure| {
            let (value, unit, p99, bytes, count) = parts(section, mech, measure);
            let spread = self.figures.spread(&Key {
                section,
                mech,
                param,
            });
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
                "runs": spread.map_or(1, |s| s.runs),
                "min": spread.map(|s| s.min),
                "max": spread.map(|s| s.max),
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
                for (name, beside) in [
                    ("floor", row.floor),
                    ("python", row.python),
                    ("versus", row.versus),
                ] {
                    let spread = beside.and_then(|(m, _)| self.figures.spread(&row.key_of(m)));
                    j[format!("{name}_min")] = json!(spread.map(|s| s.min));
                    j[format!("{name}_max")] = json!(spread.map(|s| s.max));
                }
                j["floor_suspect"] = json!(row.floor_suspect());
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
                    "note": t.note,
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
                "load_average_at_end": self.settings.load_at_end,
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
                Section::Sync | Section::Pool => format!("{}/s", count(per_s)),
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

/// `v` scaled to an SI prefix: `(12.3, "M")`.
pub(crate) fn si(v: f64) -> (f64, &'static str) {
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

/// Three significant digits at most: `123`, `12.3`, `1.23`.
pub(crate) fn sig3(v: f64) -> String {
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
impl Report {
    /// A report of `figures` from a made-up 2-CPU machine, run 3 times.
    pub(crate) fn for_tests(figures: Figures) -> Report {
        let machine = Machine {
            cores: 2,
            allowed: vec![0, 1],
            kernel: "Linux test".into(),
            cpu_model: "test CPU".into(),
            virtual_machine: false,
            clocksource: None,
            load_average: None,
        };
        Report {
            placement: Placement::choose(crate::Cpus::Different, &machine),
            machine,
            settings: Settings {
                duration_s: 0.1,
                repeat: 3,
                quick: true,
                pipe_size: 1 << 20,
                clock_read_ns: 20.0,
                observed: (0, 0),
                load_at_end: None,
            },
            python: PythonRun::Skipped("test".into()),
            nats: NatsRun::Skipped("test".into()),
            figures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_s: f64) -> Measure {
        Measure::Rate {
            per_s,
            bytes_per_s: None,
            count: 1,
        }
    }

    fn key(section: Section, mech: Mech, param: usize) -> Key {
        Key {
            section,
            mech,
            param,
        }
    }

    fn target<'a>(targets: &'a [Target], what: &str, bound: &str) -> &'a Target {
        targets
            .iter()
            .find(|t| t.what == what && t.bound.starts_with(bound))
            .unwrap_or_else(|| panic!("no target {what} {bound}"))
    }

    #[test]
    fn a_row_far_ahead_of_its_floor_is_suspect_and_fails_the_targets() {
        use Section::{Increments, Sync};
        let figures = Figures::merge(vec![vec![
            // Value: at its floor with 1 process, 2 x faster with 5.
            (key(Increments, Mech::RawMutex, 1), rate(50e6)),
            (key(Increments, Mech::Value, 1), rate(48e6)),
            (key(Increments, Mech::RawMutex, 5), rate(10e6)),
            (key(Increments, Mech::Value, 5), rate(20e6)),
            // Semaphore: 1.5 x its floor's cost.
            (key(Sync, Mech::RawSemSpin, 1), rate(30e6)),
            (key(Sync, Mech::Semaphore, 1), rate(20e6)),
        ]]);
        let report = Report::for_tests(figures);
        let suspects: Vec<String> = report.suspects().iter().map(Row::name).collect();
        assert_eq!(suspects, ["Value + lock increments, 5 processes"]);
        let targets = report.targets();
        let one = target(&targets, "Value with lock, 1 process", "<=");
        assert_eq!(one.holds, Some(true));
        let five = target(&targets, "Value with lock, 5 processes", "<=");
        assert_eq!(
            (five.holds, five.note.as_deref()),
            (Some(false), Some("floor suspect"))
        );
        let sem = target(&targets, "Semaphore acquire+release, 1 process", "<=");
        assert_eq!(sem.holds, Some(false), "above its bound");
        let all = target(&targets, "every ipc-core row against its floor", ">=");
        assert_eq!(all.holds, Some(false));
        assert_eq!(all.value, Some(0.5));
        assert!(
            all.note
                .as_deref()
                .is_some_and(|n| n.contains("5 processes"))
        );
        // Not measured: neither holds nor missed.
        let pipe = target(&targets, "pipe round trip, 8 B", "<=");
        assert_eq!(pipe.holds, None);
        let table = report.table();
        let line = table
            .lines()
            .find(|l| l.starts_with("Value + lock") && l.contains(" 5 "))
            .expect("the row");
        assert!(line.ends_with("floor suspect"), "{line}");
        assert!(table.contains("MISSED"), "{table}");
        assert!(report.csv().lines().any(|l| l.ends_with(",true")));
        assert_eq!(report.json()["rows"][1]["floor_suspect"], true);
    }

    #[test]
    fn scaling_targets_compare_a_curve_with_itself() {
        let figures = Figures::merge(vec![vec![
            (key(Section::Scaling, Mech::Queue, 2), rate(10e6)),
            (key(Section::Scaling, Mech::Queue, 16), rate(6e6)),
            (key(Section::Scaling, Mech::Barrier, 4), rate(400e3)),
            (key(Section::Scaling, Mech::Barrier, 16), rate(80e3)),
        ]]);
        let report = Report::for_tests(figures);
        let targets = report.targets();
        let queue = target(&targets, "Queue, 8 producers + 8 consumers", ">=");
        assert_eq!((queue.value, queue.holds), (Some(0.6), Some(true)));
        let barrier = target(&targets, "Barrier, 16 parties", ">=");
        assert_eq!((barrier.value, barrier.holds), (Some(0.2), Some(false)));
        assert!(report.table().contains("8+8"), "{}", report.table());
    }

    #[test]
    fn spreads_read_against_the_median() {
        let k = key(Section::Increments, Mech::RawAtomic, 1);
        let report = Report::for_tests(Figures::merge(vec![
            vec![(k, rate(90.0))],
            vec![(k, rate(100.0))],
            vec![(k, rate(130.0))],
        ]));
        assert_eq!(report.spread_cell(k.section, k.mech, k.param), "-10/+30%");
        let json = report.json();
        assert_eq!(json["figures"][0]["min"], 90.0);
        assert_eq!(json["figures"][0]["max"], 130.0);
        assert_eq!(json["figures"][0]["runs"], 3);
    }

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
