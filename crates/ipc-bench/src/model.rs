//! What is measured and what a measurement gives: the mechanisms, the
//! three kinds of figure, and the ratios between them.

use std::collections::BTreeMap;

/// Every mechanism the bench knows, in the order the tables show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Mech {
    Pipe,
    Fifo,
    Duplex,
    Mqueue,
    Queue,
    Value,
    RawPipe,
    RawSocketpair,
    RawMq,
    RawShmSpin,
    RawShmFutex,
    RawMutex,
    RawAtomic,
    PyQueue,
    PyPipe,
    PyValue,
}

/// Who wrote the code under measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// ipc-core, the library under test.
    Core,
    /// The same mechanism written directly on the system calls.
    Raw,
    /// Python's `multiprocessing`.
    Python,
}

impl Group {
    pub(crate) fn id(self) -> &'static str {
        match self {
            Group::Core => "ipc-core",
            Group::Raw => "raw",
            Group::Python => "python",
        }
    }
}

impl Mech {
    pub(crate) const ALL: [Mech; 16] = [
        Mech::Pipe,
        Mech::Fifo,
        Mech::Duplex,
        Mech::Mqueue,
        Mech::Queue,
        Mech::Value,
        Mech::RawPipe,
        Mech::RawSocketpair,
        Mech::RawMq,
        Mech::RawShmSpin,
        Mech::RawShmFutex,
        Mech::RawMutex,
        Mech::RawAtomic,
        Mech::PyQueue,
        Mech::PyPipe,
        Mech::PyValue,
    ];

    /// A stable name for CSV, JSON and the smoke test.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Mech::Pipe => "pipe",
            Mech::Fifo => "fifo",
            Mech::Duplex => "duplex",
            Mech::Mqueue => "mqueue",
            Mech::Queue => "queue",
            Mech::Value => "value",
            Mech::RawPipe => "raw-pipe",
            Mech::RawSocketpair => "raw-socketpair",
            Mech::RawMq => "raw-mq",
            Mech::RawShmSpin => "raw-shm-spin",
            Mech::RawShmFutex => "raw-shm-futex",
            Mech::RawMutex => "raw-mutex",
            Mech::RawAtomic => "raw-atomic",
            Mech::PyQueue => "python-queue",
            Mech::PyPipe => "python-pipe",
            Mech::PyValue => "python-value",
        }
    }

    /// The name in the table.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Mech::Pipe => "pipe (simplex)",
            Mech::Fifo => "FIFO",
            Mech::Duplex => "duplex (socketpair)",
            Mech::Mqueue => "message queue",
            Mech::Queue => "Queue",
            Mech::Value => "Value + lock",
            Mech::RawPipe => "raw pipe",
            Mech::RawSocketpair => "raw socketpair",
            Mech::RawMq => "raw mq",
            Mech::RawShmSpin => "raw shm spin",
            Mech::RawShmFutex => "raw shm futex",
            Mech::RawMutex => "raw robust mutex",
            Mech::RawAtomic => "raw atomic add",
            Mech::PyQueue => "Python Queue",
            Mech::PyPipe => "Python Pipe",
            Mech::PyValue => "Python Value",
        }
    }

    pub(crate) fn group(self) -> Group {
        match self {
            Mech::Pipe | Mech::Fifo | Mech::Duplex | Mech::Mqueue | Mech::Queue | Mech::Value => {
                Group::Core
            }
            Mech::PyQueue | Mech::PyPipe | Mech::PyValue => Group::Python,
            _ => Group::Raw,
        }
    }

    /// The raw floor an ipc-core mechanism is held to.
    pub(crate) fn floor(self) -> Option<Mech> {
        match self {
            Mech::Pipe | Mech::Fifo => Some(Mech::RawPipe),
            Mech::Duplex => Some(Mech::RawSocketpair),
            Mech::Mqueue => Some(Mech::RawMq),
            Mech::Queue => Some(Mech::RawShmSpin),
            Mech::Value => Some(Mech::RawMutex),
            _ => None,
        }
    }

    /// Python's counterpart of an ipc-core mechanism.
    pub(crate) fn python(self) -> Option<Mech> {
        match self {
            Mech::Duplex => Some(Mech::PyPipe),
            Mech::Queue => Some(Mech::PyQueue),
            Mech::Value => Some(Mech::PyValue),
            _ => None,
        }
    }

    /// True for a raw floor that some ipc-core mechanism is held to (its
    /// figures appear in the floor column); the others get rows of their
    /// own.
    pub(crate) fn is_a_floor(self) -> bool {
        Mech::ALL.iter().any(|m| m.floor() == Some(self))
    }
}

/// The three kinds of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Section {
    /// Ping-pong: one message there and back, per round trip.
    RoundTrip,
    /// One way, as fast as the sender can: messages and bytes per second.
    Throughput,
    /// Increments per second of one shared counter by N processes.
    Increments,
}

impl Section {
    pub(crate) const ALL: [Section; 3] =
        [Section::RoundTrip, Section::Throughput, Section::Increments];

    pub(crate) fn id(self) -> &'static str {
        match self {
            Section::RoundTrip => "round_trip",
            Section::Throughput => "throughput",
            Section::Increments => "increments",
        }
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

/// Every figure of a run, by key.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub(crate) map: BTreeMap<Key, Measure>,
}

impl Figures {
    pub(crate) fn get(&self, section: Section, mech: Mech, param: usize) -> Option<&Measure> {
        self.map.get(&Key {
            section,
            mech,
            param,
        })
    }

    /// Merges repeated runs: each figure becomes the median of its repeats.
    pub(crate) fn merge(runs: Vec<Vec<(Key, Measure)>>) -> Figures {
        let mut all: BTreeMap<Key, Vec<Measure>> = BTreeMap::new();
        for run in runs {
            for (key, measure) in run {
                all.entry(key).or_default().push(measure);
            }
        }
        Figures {
            map: all
                .into_iter()
                .map(|(key, list)| (key, Measure::median_of(&list)))
                .collect(),
        }
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
        assert!(Mech::RawPipe.is_a_floor() && !Mech::RawShmFutex.is_a_floor());
    }
}
