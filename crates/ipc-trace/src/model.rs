//! A trace once read: its events in time order, the processes that wrote
//! them, and where they came from. What the writers draw, and what
//! [`Trace::from_json`] and [`merge`] rebuild. Made from the records of
//! ipc-core's recorder ([`Trace::of`]).

use std::collections::BTreeMap;
use std::fmt;

use ipc_core::trace::{Contents, Log, Record, code, is_named};

/// What happened, with the fields that say to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The process started; `parent` forked it (for the first process of
    /// a run, the shell or whatever started it).
    Spawn {
        /// The parent's pid.
        parent: i32,
    },
    /// The process ended by itself with this exit code.
    Exit {
        /// The exit code.
        status: i32,
    },
    /// The process reaped a child: Python-like status, `-SIGNAL` for a
    /// child killed by a signal. The event's text is the child's name.
    Join {
        /// The child's pid.
        child: i32,
        /// How it ended (see [`ipc_core::ExitStatus::code`]).
        status: i32,
    },
    /// A message was sent; the text is the message, shortened.
    Send {
        /// The channel (see [`ipc_core::trace::new_object`]).
        channel: u64,
        /// The message's id, the same in its [`Kind::Recv`].
        msg: u64,
    },
    /// A message was received; the text is the message, shortened.
    Recv {
        /// The channel.
        channel: u64,
        /// The message's id, the same in its [`Kind::Send`].
        msg: u64,
    },
    /// The process starts waiting for a lock.
    LockWait {
        /// The lock.
        lock: u64,
    },
    /// The process holds the lock from now on.
    LockAcquire {
        /// The lock.
        lock: u64,
    },
    /// The process lets the lock go.
    LockRelease {
        /// The lock.
        lock: u64,
    },
    /// The process starts sleeping.
    SleepBegin {
        /// How long it asked to sleep (after `--fast` scaling), in ns.
        requested_ns: u64,
    },
    /// The process woke up.
    SleepEnd,
    /// A signal reached the process.
    Signal {
        /// Its number (`2` for SIGINT).
        signal: i32,
    },
    /// The process printed the event's text (the experiment's output).
    Print,
    /// A free-form mark; the text says what.
    Mark,
    /// The process read shared data (a `Value`, an `Array`, their raw
    /// twins); the text is the value read (for a whole array, the list).
    Read {
        /// The object (see [`ipc_core::trace::new_data_object`]).
        object: u64,
        /// The element read; `None` for every element at once
        /// (`to_list`).
        index: Option<u64>,
    },
    /// The process is about to write shared data; the text is the value
    /// written.
    Write {
        /// The object.
        object: u64,
        /// The element written (0 for a `Value`).
        index: u64,
    },
    /// The process starts waiting for a semaphore (it found no unit).
    SemWait {
        /// The semaphore (see [`ipc_core::trace::new_object`]).
        semaphore: u64,
    },
    /// The process took a unit of a semaphore; the text is the value left.
    SemAcquire {
        /// The semaphore.
        semaphore: u64,
    },
    /// The process is about to give a unit back to a semaphore.
    SemRelease {
        /// The semaphore.
        semaphore: u64,
    },
}

impl Kind {
    /// The short name used in the JSON (`args.ipc`) and in messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Spawn { .. } => "spawn",
            Kind::Exit { .. } => "exit",
            Kind::Join { .. } => "join",
            Kind::Send { .. } => "send",
            Kind::Recv { .. } => "recv",
            Kind::LockWait { .. } => "lock_wait",
            Kind::LockAcquire { .. } => "lock_acquire",
            Kind::LockRelease { .. } => "lock_release",
            Kind::SleepBegin { .. } => "sleep",
            Kind::SleepEnd => "sleep_end",
            Kind::Signal { .. } => "signal",
            Kind::Print => "print",
            Kind::Mark => "mark",
            Kind::Read { .. } => "read",
            Kind::Write { .. } => "write",
            Kind::SemWait { .. } => "sem_wait",
            Kind::SemAcquire { .. } => "sem_acquire",
            Kind::SemRelease { .. } => "sem_release",
        }
    }

    /// The kind a record says happened; `None` for a record that is no
    /// event ([`code::NAME`]) or one this reader does not know.
    fn from_raw(raw: &Record) -> Option<Kind> {
        let &(label, _) = CODES.iter().find(|&&(_, code)| code == raw.kind)?;
        match Kind::read(label, &mut RecordFields(raw)) {
            Ok(kind) => kind,
            Err(never) => match never {},
        }
    }

    /// The kind labelled `label` ([`Kind::label`]), its fields read from
    /// `fields`: the one place that says which fields make each kind, for
    /// both the recorder's records and the JSON. `Ok(None)` for a label
    /// no kind has.
    pub(crate) fn read<F: Fields>(label: &str, fields: &mut F) -> Result<Option<Kind>, F::Error> {
        use Field::*;
        Ok(Some(match label {
            "spawn" => Kind::Spawn {
                parent: fields.int(Parent)?,
            },
            "exit" => Kind::Exit {
                status: fields.int(Status)?,
            },
            "join" => Kind::Join {
                child: fields.int(Child)?,
                status: fields.int(Status)?,
            },
            "send" => Kind::Send {
                channel: fields.id(Channel)?,
                msg: fields.id(Msg)?,
            },
            "recv" => Kind::Recv {
                channel: fields.id(Channel)?,
                msg: fields.id(Msg)?,
            },
            "lock_wait" => Kind::LockWait {
                lock: fields.id(Lock)?,
            },
            "lock_acquire" => Kind::LockAcquire {
                lock: fields.id(Lock)?,
            },
            "lock_release" => Kind::LockRelease {
                lock: fields.id(Lock)?,
            },
            "sleep" => Kind::SleepBegin {
                requested_ns: fields.id(RequestedNs)?,
            },
            "sleep_end" => Kind::SleepEnd,
            "signal" => Kind::Signal {
                signal: fields.int(Signal)?,
            },
            "print" => Kind::Print,
            "mark" => Kind::Mark,
            "read" => Kind::Read {
                object: fields.id(Object)?,
                index: fields.element()?,
            },
            "write" => Kind::Write {
                object: fields.id(Object)?,
                index: fields.id(Index)?,
            },
            "sem_wait" => Kind::SemWait {
                semaphore: fields.id(Semaphore)?,
            },
            "sem_acquire" => Kind::SemAcquire {
                semaphore: fields.id(Semaphore)?,
            },
            "sem_release" => Kind::SemRelease {
                semaphore: fields.id(Semaphore)?,
            },
            _ => return Ok(None),
        }))
    }
}

/// Each kind's label ([`Kind::label`]) and the code of its records.
const CODES: [(&str, u32); 18] = [
    ("spawn", code::SPAWN),
    ("exit", code::EXIT),
    ("join", code::JOIN),
    ("send", code::SEND),
    ("recv", code::RECV),
    ("lock_wait", code::LOCK_WAIT),
    ("lock_acquire", code::LOCK_ACQUIRE),
    ("lock_release", code::LOCK_RELEASE),
    ("sleep", code::SLEEP_BEGIN),
    ("sleep_end", code::SLEEP_END),
    ("signal", code::SIGNAL),
    ("print", code::PRINT),
    ("mark", code::MARK),
    ("read", code::READ),
    ("write", code::WRITE),
    ("sem_wait", code::SEM_WAIT),
    ("sem_acquire", code::SEM_ACQUIRE),
    ("sem_release", code::SEM_RELEASE),
];

/// A field of a [`Kind`], what [`Kind::read`] asks its [`Fields`] for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Parent,
    Child,
    Status,
    Signal,
    Channel,
    Msg,
    Lock,
    Semaphore,
    Object,
    Index,
    RequestedNs,
}

impl Field {
    /// The field's name in the JSON's `args` and in its messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Parent => "parent",
            Field::Child => "child",
            Field::Status => "status",
            Field::Signal => "signal",
            Field::Channel => "channel",
            Field::Msg => "msg",
            Field::Lock => "lock",
            Field::Semaphore => "semaphore",
            Field::Object => "object",
            Field::Index => "index",
            Field::RequestedNs => "requested_ns",
        }
    }
}

/// Where [`Kind::read`] finds a kind's fields: a record of the recorder,
/// or the `args` of a JSON event.
pub(crate) trait Fields {
    /// Why a field could not be read.
    type Error;
    /// A pid, an exit status or a signal number.
    fn int(&mut self, field: Field) -> Result<i32, Self::Error>;
    /// An object's id, a message's id, an element or a duration.
    fn id(&mut self, field: Field) -> Result<u64, Self::Error>;
    /// The element a read read; `None` when it read every element.
    fn element(&mut self) -> Result<Option<u64>, Self::Error>;
}

/// A record's fields, where [`code`] says each kind keeps them: pids and
/// objects in `a`, message ids, elements and durations in `b`, statuses
/// and signals in `c`.
struct RecordFields<'a>(&'a Record);

impl Fields for RecordFields<'_> {
    type Error = std::convert::Infallible;

    fn int(&mut self, field: Field) -> Result<i32, Self::Error> {
        Ok(match field {
            Field::Parent | Field::Child => self.0.a as i32,
            _ => self.0.c as i32,
        })
    }

    fn id(&mut self, field: Field) -> Result<u64, Self::Error> {
        Ok(match field {
            Field::Msg | Field::Index | Field::RequestedNs => self.0.b,
            _ => self.0.a,
        })
    }

    fn element(&mut self) -> Result<Option<u64>, Self::Error> {
        Ok((self.0.c != code::EVERY_ELEMENT).then_some(self.0.b))
    }
}

/// One event of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Nanoseconds since the trace's start (for a merged trace, since the
    /// earliest start of its sources).
    pub t_ns: u64,
    /// Which [`Trace::sources`] entry recorded it (0 unless merged).
    pub source: usize,
    /// The process that recorded it.
    pub pid: i32,
    /// That process's name when it recorded it.
    pub process: String,
    /// What happened.
    pub kind: Kind,
    /// The message, printed line or mark (may be empty).
    pub text: String,
    /// True when `text` was cut to fit a record.
    pub truncated: bool,
}

impl Event {
    /// The process, as a key unique in a merged trace too.
    pub fn process_key(&self) -> (usize, i32) {
        (self.source, self.pid)
    }

    /// An event of process `p{pid}` in the only source: for unit tests.
    #[cfg(test)]
    pub(crate) fn of(t_ns: u64, pid: i32, kind: Kind, text: &str) -> Event {
        Event {
            t_ns,
            source: 0,
            pid,
            process: format!("p{pid}"),
            kind,
            text: text.into(),
            truncated: false,
        }
    }
}

impl fmt::Display for Event {
    /// `recv (p2, pid 123, at 1.234 ms) channel 1 msg 7 "hello"`: enough to
    /// find the event in the picture and in the JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, pid {}, at {})",
            self.kind.label(),
            self.process,
            self.pid,
            format_ns(self.t_ns)
        )?;
        match self.kind {
            Kind::Send { channel, msg } | Kind::Recv { channel, msg } => {
                write!(f, " channel {channel} msg {msg}")?
            }
            Kind::LockWait { lock } | Kind::LockAcquire { lock } | Kind::LockRelease { lock } => {
                write!(f, " lock {lock}")?
            }
            Kind::Read {
                object,
                index: Some(index),
            }
            | Kind::Write { object, index } => write!(f, " object {object}[{index}]")?,
            Kind::Read {
                object,
                index: None,
            } => write!(f, " object {object}[..]")?,
            Kind::SemWait { semaphore }
            | Kind::SemAcquire { semaphore }
            | Kind::SemRelease { semaphore } => write!(f, " semaphore {semaphore}")?,
            _ => {}
        }
        if !self.text.is_empty() {
            write!(f, " {:?}", self.text)?;
        }
        Ok(())
    }
}

/// Where the events of a trace came from: one run, on one machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// A label: the program's name, or for a merge the file's stem.
    pub label: String,
    /// The machine it ran on (its host name).
    pub host: String,
    /// CLOCK_REALTIME at the start of the run, ns since the Unix epoch.
    pub start_wall_ns: i64,
    /// CLOCK_MONOTONIC at the start of the run, ns; its events' times
    /// count from it.
    pub start_mono_ns: u64,
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`), empty when
    /// unknown. Sources with the same boot id read one CLOCK_MONOTONIC, so
    /// [`merge`] aligns them by it, exactly.
    pub boot_id: String,
    /// How much later than the merged trace's start this source started,
    /// as [`merge`] aligned it (0 unless merged); added to its events'
    /// times.
    pub offset_ns: u64,
    /// The log's capacity.
    pub capacity: u64,
    /// Events that found the log full and were not recorded.
    pub dropped: u64,
    /// Records claimed but never finished (their writer was killed).
    pub incomplete: u64,
}

/// A process as it appears in a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// The source that recorded it.
    pub source: usize,
    /// Its pid.
    pub pid: i32,
    /// Its name (the last one it recorded events under).
    pub name: String,
    /// The pid that forked it, from its [`Kind::Spawn`] event.
    pub parent: Option<i32>,
    /// Time of its first event.
    pub first_ns: u64,
    /// Time of its last event.
    pub last_ns: u64,
    /// Its exit code, from its [`Kind::Exit`] event.
    pub exit: Option<i32>,
    /// How many events it recorded.
    pub events: usize,
}

/// A whole trace: events in time order, the names of the objects they
/// mention, and the sources they came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trace {
    /// One entry per recording; more than one after [`merge`].
    pub sources: Vec<Source>,
    /// Labels of channels, locks, semaphores and shared data, by
    /// (source, id).
    pub objects: BTreeMap<(usize, u64), String>,
    /// The lock that guards a shared object (a `Value`'s or an `Array`'s
    /// own lock), by the object's (source, id): whoever writes the object
    /// under that lock's span did so inside it.
    pub guards: BTreeMap<(usize, u64), u64>,
    /// The events, sorted by time (ties keep their recording order).
    pub events: Vec<Event>,
}

impl Trace {
    /// The trace of what `log` holds now: its events in time order, its
    /// source named after the log's label, with this machine's host name
    /// and boot id (by which [`merge`] aligns the traces of one machine).
    pub fn of(log: &Log) -> Trace {
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_default();
        Trace::from_contents(log.read(), log.label(), &host, &boot_id())
    }

    fn from_contents(contents: Contents, label: &str, host: &str, boot_id: &str) -> Trace {
        let mut objects = BTreeMap::new();
        let mut guards = BTreeMap::new();
        let mut events = Vec::with_capacity(contents.records.len());
        for raw in contents.records {
            if raw.kind == code::NAME {
                if raw.b != 0 {
                    guards.insert((0, raw.a), raw.b);
                }
                objects.insert((0, raw.a), raw.text);
                continue;
            }
            let Some(kind) = Kind::from_raw(&raw) else {
                continue;
            };
            events.push(Event {
                t_ns: raw.t_ns,
                source: 0,
                pid: raw.pid,
                process: raw.name,
                kind,
                text: raw.text,
                truncated: raw.truncated,
            });
        }
        events.sort_by_key(|e| e.t_ns);
        Trace {
            sources: vec![Source {
                label: label.to_owned(),
                host: host.to_owned(),
                start_wall_ns: contents.start_wall_ns,
                start_mono_ns: contents.start_mono_ns,
                boot_id: boot_id.to_owned(),
                offset_ns: 0,
                capacity: contents.capacity,
                dropped: contents.dropped,
                incomplete: contents.incomplete,
            }],
            objects,
            guards,
            events,
        }
    }

    /// The lock that guards shared object `id` of `source` (see
    /// [`Trace::guards`]), if it has one.
    pub fn guard_of(&self, source: usize, id: u64) -> Option<u64> {
        self.guards.get(&(source, id)).copied()
    }

    /// Events lost to a full log, over all sources.
    pub fn dropped(&self) -> u64 {
        self.sources.iter().map(|s| s.dropped).sum()
    }

    /// Records left unfinished by a killed writer, over all sources.
    pub fn incomplete(&self) -> u64 {
        self.sources.iter().map(|s| s.incomplete).sum()
    }

    /// The processes, in the order of their first event.
    ///
    /// ```
    /// # use ipc_trace::{Event, Kind, Trace};
    /// let event = |t_ns, pid: i32, kind| Event {
    ///     t_ns, source: 0, pid, process: format!("p{pid}"), kind,
    ///     text: String::new(), truncated: false,
    /// };
    /// let trace = Trace {
    ///     events: vec![
    ///         event(0, 10, Kind::Spawn { parent: 1 }),
    ///         event(5, 11, Kind::Spawn { parent: 10 }),
    ///         event(9, 11, Kind::Exit { status: 0 }),
    ///     ],
    ///     ..Trace::default()
    /// };
    /// let processes = trace.processes();
    /// assert_eq!(processes.len(), 2);
    /// assert_eq!((processes[1].pid, processes[1].parent, processes[1].exit), (11, Some(10), Some(0)));
    /// ```
    pub fn processes(&self) -> Vec<ProcessInfo> {
        let mut order: Vec<(usize, i32)> = Vec::new();
        let mut by_key: BTreeMap<(usize, i32), ProcessInfo> = BTreeMap::new();
        for event in &self.events {
            let key = event.process_key();
            let info = by_key.entry(key).or_insert_with(|| {
                order.push(key);
                ProcessInfo {
                    source: event.source,
                    pid: event.pid,
                    name: String::new(),
                    parent: None,
                    first_ns: event.t_ns,
                    last_ns: event.t_ns,
                    exit: None,
                    events: 0,
                }
            });
            info.name.clone_from(&event.process);
            info.last_ns = info.last_ns.max(event.t_ns);
            info.events += 1;
            match event.kind {
                Kind::Spawn { parent } => info.parent = Some(parent),
                Kind::Exit { status } => info.exit = Some(status),
                _ => {}
            }
        }
        order
            .into_iter()
            .filter_map(|key| by_key.remove(&key))
            .collect()
    }

    /// The label of an object, or a made-up one (`#3`).
    pub fn object_label(&self, source: usize, id: u64) -> String {
        self.objects
            .get(&(source, id))
            .or_else(|| {
                // A named object (a hash of its name) is the same everywhere.
                self.objects
                    .iter()
                    .find(|((_, other), _)| is_named(id) && *other == id)
                    .map(|(_, label)| label)
            })
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    }

    /// Pairs every receive with its send: `(send index, receive index)`
    /// into [`Trace::events`], by channel and message id. A channel made by
    /// the run ([`ipc_core::trace::new_object`]) is one source's own; a named one
    /// ([`ipc_core::trace::named_object`]) is the same on every machine, so that a
    /// message may cross from one source to another.
    pub fn message_pairs(&self) -> Vec<(usize, usize)> {
        let key = |event: &Event, channel: u64, msg: u64| {
            let scope = if is_named(channel) {
                None
            } else {
                Some(event.source)
            };
            (scope, channel, msg)
        };
        let mut sends = BTreeMap::new();
        for (i, event) in self.events.iter().enumerate() {
            if let Kind::Send { channel, msg } = event.kind {
                sends.entry(key(event, channel, msg)).or_insert(i);
            }
        }
        self.events
            .iter()
            .enumerate()
            .filter_map(|(i, event)| match event.kind {
                Kind::Recv { channel, msg } => {
                    sends.get(&key(event, channel, msg)).map(|&s| (s, i))
                }
                _ => None,
            })
            .collect()
    }

    /// How [`merge`] put this trace's sources on one time line: by `the
    /// monotonic clock of the one machine they ran on`, by `wall-clock
    /// start`, or by both.
    pub fn aligned_by(&self) -> &'static str {
        match clock_groups(&self.sources) {
            Clocks::OneMachine => "the monotonic clock of the one machine they ran on",
            Clocks::Machines => "wall-clock start",
            Clocks::Mixed => "wall-clock start across machines and the monotonic clock within each",
        }
    }

    /// Lines that say what a reader must know about this trace: dropped
    /// and unfinished events, and for a merge the offsets applied.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.sources.len() > 1 {
            let offsets: Vec<String> = self
                .sources
                .iter()
                .map(|s| {
                    format!(
                        "{} ({}) +{}",
                        s.label,
                        format_wall(s.start_wall_ns),
                        format_ns(s.offset_ns)
                    )
                })
                .collect();
            let caveat = match clock_groups(&self.sources) {
                Clocks::OneMachine => "",
                Clocks::Machines | Clocks::Mixed => {
                    "; the machines' clocks may disagree by their synchronisation error"
                }
            };
            notes.push(format!(
                "merged by {}, offsets applied: {}{caveat}",
                self.aligned_by(),
                offsets.join(", ")
            ));
            let early = self
                .message_pairs()
                .into_iter()
                .filter(|&(s, r)| self.events[r].t_ns < self.events[s].t_ns)
                .map(|(s, r)| self.events[s].t_ns - self.events[r].t_ns)
                .max();
            if let Some(skew) = early {
                notes.push(format!(
                    "some receives appear before their send: the clocks disagree by at least {}",
                    format_ns(skew)
                ));
            }
        }
        for source in &self.sources {
            if source.dropped > 0 {
                notes.push(format!(
                    "{}: {} events dropped, the log was full ({} events); record a shorter run or give a larger capacity",
                    source.label, source.dropped, source.capacity
                ));
            }
            if source.incomplete > 0 {
                notes.push(format!(
                    "{}: {} events left unfinished by a process killed while recording",
                    source.label, source.incomplete
                ));
            }
        }
        notes
    }
}

/// This boot of the kernel (`/proc/sys/kernel/random/boot_id`, see
/// random(4)): the programs of one boot share CLOCK_MONOTONIC. Empty when
/// it cannot be read, and the merge then falls back to the wall clock.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| id.trim().to_owned())
        .unwrap_or_default()
}

/// Puts several traces on one time line, aligned by the instant each of
/// their sources started at.
///
/// Sources recorded on one machine (the same [`Source::boot_id`]) are
/// placed by their monotonic starts, which one clock gave: exact. Sources
/// from different machines are placed by their wall-clock starts, which
/// are only as close as the machines' clocks. The earliest start becomes
/// time 0; every source's events move by its [`Source::offset_ns`], which
/// [`Trace::notes`] reports. Processes stay apart by source, so equal pids
/// on two machines are two processes.
///
/// ```
/// # use ipc_trace::{merge, Source, Trace};
/// let source = |label: &str, boot_id: &str, start_wall_ns, start_mono_ns| Source {
///     label: label.into(), boot_id: boot_id.into(), start_wall_ns, start_mono_ns,
///     ..Source::default()
/// };
/// let merged = |a, b| {
///     let traces = [a, b].map(|s| Trace { sources: vec![s], ..Trace::default() });
///     let offsets: Vec<u64> = merge(traces.into()).sources.iter().map(|s| s.offset_ns).collect();
///     offsets
/// };
/// // Two machines: by their wall clocks, b started 3 µs before a.
/// assert_eq!(merged(source("a", "m1", 5_000, 900), source("b", "m2", 2_000, 100)), [3_000, 0]);
/// // One machine: its monotonic clock says 800 ns, whatever the wall clock read.
/// assert_eq!(merged(source("a", "m1", 5_000, 900), source("b", "m1", 2_000, 100)), [800, 0]);
/// ```
pub fn merge(traces: Vec<Trace>) -> Trace {
    let starts = aligned_starts(traces.iter().flat_map(|t| &t.sources));
    let origin = starts.iter().copied().min().unwrap_or(0);
    let mut starts = starts.into_iter();
    let mut merged = Trace::default();
    for trace in traces {
        let base = merged.sources.len();
        // An event's time is its source's offset plus its time since that
        // source's start; only the offset changes.
        let mut moves = Vec::new();
        for source in trace.sources {
            let offset_ns = starts.next().map_or(0, |start| start.abs_diff(origin));
            moves.push((source.offset_ns, offset_ns));
            merged.sources.push(Source {
                offset_ns,
                ..source
            });
        }
        for ((source, id), label) in trace.objects {
            merged.objects.insert((base + source, id), label);
        }
        for ((source, id), lock) in trace.guards {
            merged.guards.insert((base + source, id), lock);
        }
        for mut event in trace.events {
            let (old, new) = moves.get(event.source).copied().unwrap_or((0, 0));
            event.t_ns = event.t_ns.saturating_sub(old) + new;
            event.source += base;
            merged.events.push(event);
        }
    }
    merged.events.sort_by_key(|e| e.t_ns);
    merged
}

/// How the sources of a merged trace were aligned.
enum Clocks {
    /// All on one machine: by its monotonic clock.
    OneMachine,
    /// All on different machines (or unknown ones): by wall clocks.
    Machines,
    /// Some of each.
    Mixed,
}

/// True when `source` knows its machine, so it can be placed by the
/// monotonic clock it shares with the other sources of that machine.
fn knows_machine(source: &Source) -> bool {
    !source.boot_id.is_empty()
}

fn clock_groups(sources: &[Source]) -> Clocks {
    let mut boots = BTreeMap::new();
    for source in sources.iter().filter(|s| knows_machine(s)) {
        *boots.entry(&source.boot_id).or_insert(0) += 1;
    }
    let shared: usize = boots.values().filter(|&&n| n > 1).sum();
    match shared {
        0 => Clocks::Machines,
        n if n == sources.len() && boots.len() == 1 => Clocks::OneMachine,
        _ => Clocks::Mixed,
    }
}

/// Each source's start on one time line, in ns since the epoch.
///
/// A source reads the wall clock and then the monotonic clock when it
/// starts; a process preempted between the two reads gets a pair that is
/// off by the time it waited (milliseconds under load, more than a message
/// takes). So the sources of one machine share one conversion from the
/// monotonic clock to the wall clock, taken from the pair least delayed
/// (the largest `wall − mono`: a delay only makes it smaller).
fn aligned_starts<'a>(sources: impl Iterator<Item = &'a Source> + Clone) -> Vec<i64> {
    let mut wall_minus_mono: BTreeMap<&str, i64> = BTreeMap::new();
    for source in sources.clone().filter(|s| knows_machine(s)) {
        let difference = source.start_wall_ns - source.start_mono_ns as i64;
        wall_minus_mono
            .entry(&source.boot_id)
            .and_modify(|d| *d = (*d).max(difference))
            .or_insert(difference);
    }
    sources
        .map(
            |source| match wall_minus_mono.get(source.boot_id.as_str()) {
                Some(difference) => difference + source.start_mono_ns as i64,
                None => source.start_wall_ns,
            },
        )
        .collect()
}

/// `1.234 ms`, `12.000 s`, `850 ns`: a duration for people.
///
/// ```
/// use ipc_trace::format_ns;
/// assert_eq!(format_ns(850), "850 ns");
/// assert_eq!(format_ns(1_234_567), "1.235 ms");
/// assert_eq!(format_ns(12_000_000_000), "12.000 s");
/// ```
pub fn format_ns(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.3} µs", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.3} ms", ns as f64 / 1e6),
        _ => format!("{:.3} s", ns as f64 / 1e9),
    }
}

/// A wall-clock instant as `2024-05-01 12:00:00.123456789 UTC`.
///
/// ```
/// use ipc_trace::format_wall;
/// assert_eq!(format_wall(0), "1970-01-01 00:00:00.000000000 UTC");
/// assert_eq!(format_wall(951_782_400_000_000_001), "2000-02-29 00:00:00.000000001 UTC");
/// ```
pub fn format_wall(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{nanos:09} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(source: usize, kind: Kind) -> Event {
        Event {
            t_ns: 1,
            source,
            pid: 1,
            process: "p".into(),
            kind,
            text: String::new(),
            truncated: false,
        }
    }

    #[test]
    fn each_code_reads_as_the_kind_its_label_names() {
        let record = |kind| Record {
            kind,
            pid: 1,
            t_ns: 0,
            a: 1,
            b: 2,
            c: 3,
            name: String::new(),
            text: String::new(),
            truncated: false,
        };
        for (label, code) in CODES {
            assert_eq!(Kind::from_raw(&record(code)).map(Kind::label), Some(label));
        }
        assert_eq!(Kind::from_raw(&record(code::NAME)), None);
    }

    #[test]
    fn only_named_channels_pair_across_sources() {
        let named = 1 << 63 | 5;
        let trace = Trace {
            events: vec![
                event(0, Kind::Send { channel: 1, msg: 1 }),
                event(1, Kind::Recv { channel: 1, msg: 1 }),
                event(
                    0,
                    Kind::Send {
                        channel: named,
                        msg: 1,
                    },
                ),
                event(
                    1,
                    Kind::Recv {
                        channel: named,
                        msg: 1,
                    },
                ),
                event(1, Kind::Send { channel: 1, msg: 1 }),
            ],
            ..Trace::default()
        };
        // Channel 1 of source 1 pairs with source 1's own send only.
        assert_eq!(trace.message_pairs(), [(4, 1), (2, 3)]);
    }

    /// One role's trace: a source started at `wall`/`mono` on `boot`, and
    /// one event at `t_ns` of its own time.
    fn role(label: &str, boot: &str, wall: i64, mono: u64, t_ns: u64, kind: Kind) -> Trace {
        let source = Source {
            label: label.into(),
            boot_id: boot.into(),
            start_wall_ns: wall,
            start_mono_ns: mono,
            ..Source::default()
        };
        let event = Event {
            t_ns,
            ..event(0, kind)
        };
        Trace {
            sources: vec![source],
            events: vec![event],
            ..Trace::default()
        }
    }

    const NAMED: u64 = 1 << 63 | 9;
    const MS: u64 = 1_000_000;

    /// The parent starts at wall W, mono 0.5 ms, and sends at 3 ms of its
    /// time (mono 3.5 ms). The child starts 2 ms later (mono 2.5 ms) and
    /// receives at 1.1 ms of its time (mono 3.6 ms), but it was preempted
    /// for 3 ms between reading the wall clock and the monotonic one: its
    /// wall start reads 1 ms before the parent's.
    fn parent_and_preempted_child(child_boot: &str) -> Vec<Trace> {
        const W: i64 = 1_700_000_000_000_000_000;
        let send = Kind::Send {
            channel: NAMED,
            msg: 1,
        };
        let recv = Kind::Recv {
            channel: NAMED,
            msg: 1,
        };
        vec![
            role("parent", "boot-a", W, MS / 2, 3 * MS, send),
            role(
                "child",
                child_boot,
                W - MS as i64,
                5 * MS / 2,
                11 * MS / 10,
                recv,
            ),
        ]
    }

    fn offsets(trace: &Trace) -> Vec<u64> {
        trace.sources.iter().map(|s| s.offset_ns).collect()
    }

    fn times(trace: &Trace) -> Vec<(Kind, u64)> {
        trace.events.iter().map(|e| (e.kind, e.t_ns)).collect()
    }

    /// Asserts that `trace` has one note for each of `starts`, each
    /// beginning with its entry (a failure prints every note).
    fn assert_notes(trace: &Trace, starts: &[&str]) {
        let notes = trace.notes();
        assert!(
            notes.len() == starts.len() && notes.iter().zip(starts).all(|(n, s)| n.starts_with(s)),
            "{notes:#?} should start with {starts:#?}"
        );
    }

    #[test]
    fn roles_on_one_machine_are_aligned_by_its_monotonic_clock() {
        let merged = merge(parent_and_preempted_child("boot-a"));
        assert_eq!(offsets(&merged), [0, 2 * MS]);
        let [(_, sent), (_, received)] = times(&merged)[..] else {
            panic!("{merged:?}")
        };
        assert_eq!((sent, received), (3 * MS, 31 * MS / 10));
        // One note: no receive before its send.
        assert_notes(
            &merged,
            &["merged by the monotonic clock of the one machine they ran on"],
        );
    }

    #[test]
    fn roles_on_two_machines_are_aligned_by_wall_clock_and_a_skew_is_noted() {
        // The same readings from two boots: only the wall clocks compare,
        // and the child's delayed reading puts its receive first.
        let merged = merge(parent_and_preempted_child("boot-b"));
        assert_eq!(offsets(&merged), [MS, 0]);
        assert_notes(
            &merged,
            &[
                "merged by wall-clock start,",
                "some receives appear before their send: the clocks disagree by at least 2.900 ms",
            ],
        );
    }

    #[test]
    fn merging_a_merged_trace_again_keeps_each_source_in_place() {
        let one_machine = merge(parent_and_preempted_child("boot-a"));
        // A third role on another machine, whose wall clock started 1 ms
        // before the parent's.
        let far = role(
            "far",
            "boot-c",
            1_700_000_000_000_000_000 - MS as i64,
            7,
            0,
            Kind::Mark,
        );
        let merged = merge(vec![one_machine, far]);
        assert_eq!(offsets(&merged), [MS, 3 * MS, 0]);
        let received = merged
            .events
            .iter()
            .find(|e| matches!(e.kind, Kind::Recv { .. }));
        assert_eq!(received.map(|e| e.t_ns), Some(41 * MS / 10));
        assert_notes(
            &merged,
            &["merged by wall-clock start across machines and the monotonic clock within each"],
        );
    }
}
