//! What is measured and what a measurement gives: the mechanisms, the
//! three kinds of figure, and the ratios between them.

use std::collections::BTreeMap;

/// Who wrote the code under measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// ipc-core, the library under test.
    Core,
    /// The same mechanism written directly on the system calls.
    Raw,
    /// Another Rust crate a user could pick instead of ipc-core.
    Peer,
    /// Past one machine: a message broker (NATS) on loopback, beside the
    /// local mechanism it would replace.
    Net,
    /// Python's `multiprocessing`.
    Python,
}

impl Group {
    pub(crate) fn id(self) -> &'static str {
        match self {
            Group::Core => "ipc-core",
            Group::Raw => "raw",
            Group::Peer => "peer",
            Group::Net => "net",
            Group::Python => "python",
        }
    }
}

/// What the bench knows about a mechanism: one line of [`Mech::info`].
#[derive(Debug)]
pub(crate) struct Info {
    /// A stable name for `--only`, CSV, JSON and the smoke test.
    pub(crate) id: &'static str,
    /// The name in the table and the plot.
    pub(crate) label: &'static str,
    pub(crate) group: Group,
    /// For ipc-core: the raw floor it is held to.
    pub(crate) floor: Option<Mech>,
    /// For ipc-core: Python's counterpart.
    pub(crate) python: Option<Mech>,
    /// For a peer or NATS: the ipc-core mechanism it stands beside.
    pub(crate) versus: Option<Mech>,
    /// For Python: the mechanism's name in `bench_python.py`'s JSON.
    pub(crate) script_name: Option<&'static str>,
    /// Its colour in the plot.
    pub(crate) colour: &'static str,
}

const fn info(id: &'static str, label: &'static str, group: Group, colour: &'static str) -> Info {
    Info {
        id,
        label,
        group,
        floor: None,
        python: None,
        versus: None,
        script_name: None,
        colour,
    }
}

const fn core(
    id: &'static str,
    label: &'static str,
    floor: Mech,
    python: Option<Mech>,
    colour: &'static str,
) -> Info {
    Info {
        floor: Some(floor),
        python,
        ..info(id, label, Group::Core, colour)
    }
}

const fn peer(id: &'static str, label: &'static str, versus: Mech, colour: &'static str) -> Info {
    Info {
        versus: Some(versus),
        ..info(id, label, Group::Peer, colour)
    }
}

const fn net(id: &'static str, label: &'static str, versus: Mech, colour: &'static str) -> Info {
    Info {
        versus: Some(versus),
        ..info(id, label, Group::Net, colour)
    }
}

const fn python(
    id: &'static str,
    label: &'static str,
    script_name: &'static str,
    colour: &'static str,
) -> Info {
    Info {
        script_name: Some(script_name),
        ..info(id, label, Group::Python, colour)
    }
}

/// Declares [`Mech`], [`Mech::ALL`] and [`Mech::info`] from one table,
/// `Variant => its Info,` a mechanism, in the order the tables show them:
/// each mechanism is named once, with everything about it, instead of in
/// an enum, a list and a match that must agree. In the rows, `Raw` is
/// [`Group::Raw`] and the other mechanisms go by their variant's name.
macro_rules! mechanisms {
    ($($mech:ident => $info:expr,)*) => {
        /// Every mechanism the bench knows, in the order the tables show them.
        ///
        /// To add one: its row in the `mechanisms!` table (the variant, its
        /// place in [`Mech::ALL`] and its [`Mech::info`] at once), a function
        /// that measures it, and a line in its family's `jobs` (see
        /// `crates/ipc-bench/README.md`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum Mech {
            $($mech,)*
        }

        impl Mech {
            pub(crate) const ALL: [Mech; [$(Mech::$mech),*].len()] = [$(Mech::$mech),*];

            /// Everything about a mechanism, in one place.
            pub(crate) fn info(self) -> &'static Info {
                use Group::Raw;
                use Mech::*;
                match self {
                    $($mech => &const { $info },)*
                }
            }
        }
    };
}

mechanisms! {
    Pipe => core("pipe", "pipe (simplex)", RawPipe, None, "#0072b2"),
    Fifo => core("fifo", "FIFO", RawPipe, None, "#009e73"),
    Duplex => core("duplex", "duplex (socketpair)", RawSocketpair, Some(PyPipe), "#d55e00"),
    Mqueue => core("mqueue", "message queue", RawMq, None, "#7f3c8d"),
    Queue => core("queue", "Queue", RawShmSpin, Some(PyQueue), "#000000"),
    QueueZeroCopy => core("queue-zero-copy", "Queue claim/get_ref", RawShmSpin, None, "#555555"),
    Value => core("value", "Value + lock", RawMutex, Some(PyValue), "#666666"),
    Semaphore => core("semaphore", "Semaphore acq+rel", RawSemSpin, Some(PySemaphore), "#0072b2"),
    Event => core("event", "Event ping-pong", RawFlag, Some(PyEvent), "#009e73"),
    Barrier => core("barrier", "Barrier round", RawBarrierSpin, Some(PyBarrier), "#d55e00"),
    ConnectionTcp => core("connection-tcp", "Connection TCP", RawTcp, None, "#cc6677"),
    ConnectionUnix => core("connection-unix", "Connection Unix", RawSocketpair, None, "#882255"),
    PoolMap => core("pool-map", "Pool.map 10k squares", RawSeqMap, Some(PyPoolMap), "#0072b2"),
    PoolMapLarge =>
        core("pool-map-large", "Pool.map 8 x 1 MiB", RawSeqMapLarge, Some(PyPoolMapLarge), "#009e73"),
    ManagerSet =>
        core("manager-set", "Manager dict set", RawDictServer, Some(PyManagerSet), "#d55e00"),
    ManagerGet =>
        core("manager-get", "Manager dict get", RawDictServer, Some(PyManagerGet), "#cc79a7"),
    RawPipe => info("raw-pipe", "raw pipe", Raw, "#56b4e9"),
    RawSocketpair => info("raw-socketpair", "raw socketpair", Raw, "#e69f00"),
    RawMq => info("raw-mq", "raw mq", Raw, "#a5aa99"),
    RawShmSpin => info("raw-shm-spin", "raw shm ring spin", Raw, "#e41a1c"),
    RawShmFutex => info("raw-shm-futex", "raw shm ring futex", Raw, "#8c564b"),
    RawMutex => info("raw-mutex", "raw robust mutex", Raw, "#666666"),
    RawAtomic => info("raw-atomic", "raw atomic add", Raw, "#666666"),
    RawSem => info("raw-sem", "raw sem_t", Raw, "#56b4e9"),
    RawSemSpin => info("raw-sem-spin", "raw sem spin", Raw, "#e41a1c"),
    RawFlag => info("raw-flag-spin", "raw flag spin", Raw, "#e41a1c"),
    RawBarrier => info("raw-barrier", "raw futex barrier", Raw, "#e69f00"),
    RawBarrierSpin => info("raw-barrier-spin", "raw spin barrier", Raw, "#e41a1c"),
    RawTcp => info("raw-tcp", "raw TCP", Raw, "#ddcc77"),
    RawSeqMap => info("raw-seq-map", "raw seq. map", Raw, "#56b4e9"),
    RawSeqMapLarge => info("raw-seq-map-large", "raw seq. 1 MiB map", Raw, "#e69f00"),
    RawDictServer => info("raw-dict-server", "raw dict server", Raw, "#e41a1c"),
    IpcChannel => peer("ipc-channel", "ipc-channel", Queue, "#1f77b4"),
    Interprocess => peer("interprocess", "interprocess socket", Queue, "#2ca02c"),
    Iceoryx2 => peer("iceoryx2", "iceoryx2 pub/sub", QueueZeroCopy, "#9467bd"),
    Nats => net("nats", "NATS (loopback)", Duplex, "#bcbd22"),
    PyQueue => python("python-queue", "Python Queue", "Queue", "#17becf"),
    PyPipe => python("python-pipe", "Python Pipe", "Pipe", "#cc79a7"),
    PyValue => python("python-value", "Python Value", "Value", "#666666"),
    PySemaphore => python("python-semaphore", "Python Semaphore", "Semaphore", "#56b4e9"),
    PyEvent => python("python-event", "Python Event", "Event", "#009e73"),
    PyBarrier => python("python-barrier", "Python Barrier", "Barrier", "#e69f00"),
    PyPoolMap => python("python-pool-map", "Python Pool.map", "PoolMap", "#17becf"),
    PyPoolMapLarge =>
        python("python-pool-map-large", "Python Pool.map large", "PoolMapLarge", "#9467bd"),
    PyManagerSet => python("python-manager-set", "Python Manager set", "ManagerSet", "#8c564b"),
    PyManagerGet => python("python-manager-get", "Python Manager get", "ManagerGet", "#bcbd22"),
}

impl Mech {
    pub(crate) fn id(self) -> &'static str {
        self.info().id
    }

    pub(crate) fn label(self) -> &'static str {
        self.info().label
    }

    pub(crate) fn group(self) -> Group {
        self.info().group
    }

    /// The raw floor an ipc-core mechanism is held to.
    pub(crate) fn floor(self) -> Option<Mech> {
        self.info().floor
    }

    /// Python's counterpart of an ipc-core mechanism.
    pub(crate) fn python(self) -> Option<Mech> {
        self.info().python
    }

    /// The ipc-core mechanism a peer (or NATS) stands beside.
    pub(crate) fn versus(self) -> Option<Mech> {
        self.info().versus
    }

    /// What a rate of this mechanism counts per second in `section`.
    pub(crate) fn rate_unit(self, section: Section) -> &'static str {
        let barrier = matches!(
            self,
            Mech::Barrier | Mech::RawBarrier | Mech::RawBarrierSpin | Mech::PyBarrier
        );
        let pool = matches!(
            self,
            Mech::PoolMap
                | Mech::PoolMapLarge
                | Mech::RawSeqMap
                | Mech::RawSeqMapLarge
                | Mech::PyPoolMap
                | Mech::PyPoolMapLarge
        );
        match (section, self) {
            (Section::Increments, _) => "increments/s",
            (Section::Pool, _) if pool => "tasks/s",
            (Section::Pool, _) => "ops/s",
            (Section::Sync | Section::Scaling, _) if barrier => "rounds/s",
            (Section::Scaling, Mech::Value | Mech::RawMutex | Mech::RawAtomic) => "increments/s",
            (Section::Scaling, Mech::Event | Mech::RawFlag) => "passes/s",
            (Section::Scaling, Mech::Queue | Mech::QueueZeroCopy | Mech::RawShmSpin) => "msgs/s",
            (Section::Sync | Section::Scaling, _) => "pairs/s",
            _ => "msgs/s",
        }
    }

    /// The Python mechanism `bench_python.py` calls `name`.
    pub(crate) fn from_script_name(name: &str) -> Option<Mech> {
        Mech::ALL
            .into_iter()
            .find(|m| m.info().script_name == Some(name))
    }
}

/// The kinds of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Section {
    /// Ping-pong: one message there and back, per round trip.
    RoundTrip,
    /// One way, as fast as the sender can: messages and bytes per second.
    Throughput,
    /// Increments per second of one shared counter by N processes.
    Increments,
    /// The synchronisation twins, by N processes: Semaphore acquire+release
    /// pairs and Barrier rounds per second, and the round trip of an Event
    /// ping-pong.
    Sync,
    /// A pool of workers and a manager: `Pool.map` tasks per second by N
    /// workers (many small tasks, or a few large ones), and `Manager`
    /// dict operations per second by one client.
    Pool,
    /// How the cost grows with the processes (`--scaling`): a rate of each
    /// family (the Queue's messages by N/2 producers and N/2 consumers,
    /// the Value's increments, Barrier rounds, Event hand-overs round a
    /// ring, Semaphore pairs) by N processes.
    Scaling,
}

impl Section {
    pub(crate) const ALL: [Section; 6] = [
        Section::RoundTrip,
        Section::Throughput,
        Section::Increments,
        Section::Sync,
        Section::Pool,
        Section::Scaling,
    ];

    pub(crate) fn id(self) -> &'static str {
        match self {
            Section::RoundTrip => "round_trip",
            Section::Throughput => "throughput",
            Section::Increments => "increments",
            Section::Sync => "sync",
            Section::Scaling => "scaling",
            Section::Pool => "pool",
        }
    }

    /// True where the parameter is a number of processes, not a message
    /// size.
    pub(crate) fn counts_processes(self) -> bool {
        matches!(
            self,
            Section::Increments | Section::Sync | Section::Scaling | Section::Pool
        )
    }

    pub(crate) fn from_id(id: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// What one measurement gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Measure {
    /// Round trips: the median and 99th percentile, in nanoseconds.
    Latency {
        median_ns: f64,
        p99_ns: f64,
        samples: u64,
    },
    /// Messages (or increments) per second, and bytes per second where
    /// messages have a size.
    Rate {
        per_s: f64,
        bytes_per_s: Option<f64>,
        count: u64,
    },
}

impl Measure {
    /// The figure the tables lead with: the median round trip, or the rate.
    pub(crate) fn primary(&self) -> f64 {
        match *self {
            Measure::Latency { median_ns, .. } => median_ns,
            Measure::Rate { per_s, .. } => per_s,
        }
    }

    /// How many times `floor`'s cost this is: more than 1 is slower than
    /// the floor.
    pub(crate) fn times_floor(&self, floor: &Measure) -> f64 {
        match (self, floor) {
            (Measure::Latency { median_ns, .. }, Measure::Latency { median_ns: f, .. }) => {
                median_ns / f
            }
            (Measure::Rate { per_s, .. }, Measure::Rate { per_s: f, .. }) => f / per_s,
            _ => f64::NAN,
        }
    }

    /// How many times faster than `other` this is: more than 1 is faster.
    pub(crate) fn times_faster(&self, other: &Measure) -> f64 {
        1.0 / self.times_floor(other)
    }

    /// The median over repeated measurements of the same thing.
    pub(crate) fn median_of(all: &[Measure]) -> Measure {
        match all[0] {
            Measure::Latency { .. } => {
                let mut medians = Vec::new();
                let mut p99s = Vec::new();
                let mut samples = 0;
                for m in all {
                    if let Measure::Latency {
                        median_ns,
                        p99_ns,
                        samples: n,
                    } = *m
                    {
                        medians.push(median_ns);
                        p99s.push(p99_ns);
                        samples += n;
                    }
                }
                Measure::Latency {
                    median_ns: median(&mut medians),
                    p99_ns: median(&mut p99s),
                    samples,
                }
            }
            Measure::Rate { .. } => {
                let mut rates = Vec::new();
                let mut bytes = Vec::new();
                let mut count = 0;
                for m in all {
                    if let Measure::Rate {
                        per_s,
                        bytes_per_s,
                        count: n,
                    } = *m
                    {
                        rates.push(per_s);
                        bytes.extend(bytes_per_s);
                        count += n;
                    }
                }
                Measure::Rate {
                    per_s: median(&mut rates),
                    bytes_per_s: (!bytes.is_empty()).then(|| median(&mut bytes)),
                    count,
                }
            }
        }
    }
}

/// The median of a non-empty list (the mean of the middle two for an even
/// count).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Which figure: the mechanism, the kind, and the message size (or, for
/// increments, the number of processes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub(crate) section: Section,
    pub(crate) mech: Mech,
    pub(crate) param: usize,
}

/// How far a figure moved over the repeats of a run (`--repeat`): the
/// smallest and the largest of its values (the median round trip of each
/// run, or its rate), beside the median the tables lead with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spread {
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// How many runs measured it.
    pub(crate) runs: u32,
}

impl Spread {
    /// The spread of one run: the figure itself.
    pub(crate) fn single(measure: &Measure) -> Spread {
        Spread {
            min: measure.primary(),
            max: measure.primary(),
            runs: 1,
        }
    }

    fn of(all: &[Measure]) -> Spread {
        let values = all.iter().map(Measure::primary);
        Spread {
            min: values.clone().fold(f64::INFINITY, f64::min),
            max: values.fold(f64::NEG_INFINITY, f64::max),
            runs: all.len() as u32,
        }
    }
}

/// Every figure of a run, by key: the median over the repeats, and its
/// spread.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub(crate) map: BTreeMap<Key, Measure>,
    pub(crate) spread: BTreeMap<Key, Spread>,
}

impl Figures {
    pub(crate) fn get(&self, section: Section, mech: Mech, param: usize) -> Option<&Measure> {
        self.map.get(&Key {
            section,
            mech,
            param,
        })
    }

    /// The spread of a figure over the repeats (that of one run if it was
    /// measured once).
    pub(crate) fn spread(&self, key: &Key) -> Option<Spread> {
        let measure = self.map.get(key)?;
        Some(
            self.spread
                .get(key)
                .copied()
                .unwrap_or_else(|| Spread::single(measure)),
        )
    }

    /// Adds a figure measured once (or merged elsewhere) with its spread.
    pub(crate) fn insert(&mut self, key: Key, measure: Measure, spread: Spread) {
        self.map.insert(key, measure);
        self.spread.insert(key, spread);
    }

    /// Merges repeated runs: each figure becomes the median of its
    /// repeats, with their spread.
    pub(crate) fn merge(runs: Vec<Vec<(Key, Measure)>>) -> Figures {
        let mut all: BTreeMap<Key, Vec<Measure>> = BTreeMap::new();
        for run in runs {
            for (key, measure) in run {
                all.entry(key).or_default().push(measure);
            }
        }
        let mut figures = Figures::default();
        for (key, list) in all {
            figures.insert(key, Measure::median_of(&list), Spread::of(&list));
        }
        figures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_read_the_same_way_for_times_and_rates() {
        let slow = Measure::Latency {
            median_ns: 30.0,
            p99_ns: 40.0,
            samples: 1,
        };
        let fast = Measure::Latency {
            median_ns: 10.0,
            p99_ns: 20.0,
            samples: 1,
        };
        assert_eq!(slow.times_floor(&fast), 3.0);
        assert_eq!(fast.times_faster(&slow), 3.0);
        let low = Measure::Rate {
            per_s: 100.0,
            bytes_per_s: None,
            count: 1,
        };
        let high = Measure::Rate {
            per_s: 400.0,
            bytes_per_s: None,
            count: 1,
        };
        assert_eq!(low.times_floor(&high), 4.0);
        assert_eq!(high.times_faster(&low), 4.0);
    }

    #[test]
    fn repeats_merge_into_medians() {
        let key = Key {
            section: Section::Throughput,
            mech: Mech::Pipe,
            param: 8,
        };
        let rate = |per_s| Measure::Rate {
            per_s,
            bytes_per_s: Some(per_s * 8.0),
            count: 10,
        };
        let figures = Figures::merge(vec![
            vec![(key, rate(5.0))],
            vec![(key, rate(1.0))],
            vec![(key, rate(3.0))],
        ]);
        assert_eq!(
            figures.get(Section::Throughput, Mech::Pipe, 8),
            Some(&Measure::Rate {
                per_s: 3.0,
                bytes_per_s: Some(24.0),
                count: 30
            })
        );
        assert_eq!(
            figures.spread(&key),
            Some(Spread {
                min: 1.0,
                max: 5.0,
                runs: 3
            })
        );
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn ids_are_unique_and_found_again() {
        let mut ids: Vec<_> = Mech::ALL.iter().map(|m| m.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Mech::ALL.len());
        for s in Section::ALL {
            assert_eq!(Section::from_id(s.id()), Some(s));
        }
        for m in Mech::ALL {
            let info = m.info();
            assert_eq!(info.floor.is_some(), info.group == Group::Core, "{m:?}");
            assert_eq!(
                info.versus.is_some(),
                matches!(info.group, Group::Peer | Group::Net),
                "{m:?}"
            );
            assert_eq!(
                info.script_name.is_some(),
                info.group == Group::Python,
                "{m:?}"
            );
            if let Some(v) = info.versus {
                assert_eq!(v.group(), Group::Core, "{m:?}");
            }
        }
        assert_eq!(Mech::from_script_name("Queue"), Some(Mech::PyQueue));
    }
}
