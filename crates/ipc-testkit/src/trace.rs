//! Checks of the traces that `--trace FILE` writes.
//!
//! [`parse_json`] reads a Chrome trace-event file as a viewer would (it
//! does not reuse ipc-core's reader, so that it checks the file rather
//! than the writer's own idea of it), and [`Parsed::violations`] checks
//! that it is causally consistent:
//!
//! * every receive has its send and comes after it, and every flow arrow
//!   goes forwards in time ([`Rule::ReceiveAfterSend`]); a send and a
//!   receive pair by channel and message id, within one source unless the
//!   channel is a named one (top bit set), which is the same everywhere;
//! * every acquire of a lock comes after the previous holder released it,
//!   or ended ([`Rule::AcquireAfterRelease`]);
//! * every process's events lie between its spawn and its exit, and its
//!   parent joins it after its exit ([`Rule::WithinLifetime`]);
//! * every event belongs to a named track and its `ts` matches its exact
//!   time ([`Rule::WellFormed`]).
//!
//! Each violation names the rule and the events that broke it.
//! [`svg_lanes`] checks that an SVG picture is well-formed XML and lists
//! its lanes, so that a test can compare them with the JSON's tracks.
//!
//! ```
//! use ipc_testkit::trace::{Rule, parse_json};
//! let json = r#"{"otherData": {"format": "ipc-lab trace 1", "sources": [{"dropped": 0}]},
//!   "traceEvents": [
//!     {"ph": "M", "name": "process_name", "pid": 7, "tid": 7, "args": {"name": "p (pid 7)"}},
//!     {"ph": "i", "name": "spawn", "pid": 7, "tid": 7, "ts": 0.0,
//!      "args": {"ipc": "spawn", "ns": 0, "pid": 7, "process": "p", "parent": 1}},
//!     {"ph": "X", "name": "recv", "pid": 7, "tid": 7, "ts": 0.005,
//!      "args": {"ipc": "recv", "ns": 5, "pid": 7, "process": "p", "channel": 1, "msg": 1}},
//!     {"ph": "X", "name": "send", "pid": 7, "tid": 7, "ts": 0.009,
//!      "args": {"ipc": "send", "ns": 9, "pid": 7, "process": "p", "channel": 1, "msg": 1}},
//!     {"ph": "i", "name": "exit", "pid": 7, "tid": 7, "ts": 0.010,
//!      "args": {"ipc": "exit", "ns": 10, "pid": 7, "process": "p", "status": 0}}
//!   ]}"#;
//! let parsed = parse_json(json).unwrap();
//! assert_eq!(parsed.tracks.len(), 1);
//! let violations = parsed.violations();
//! assert_eq!(violations.len(), 1, "{violations:?}");
//! assert_eq!(violations[0].rule, Rule::ReceiveAfterSend);
//! assert!(violations[0].message.contains("traceEvents[2] recv (p, pid 7, at 5 ns)"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// A rule of causal consistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// Every event is on a named track, with `args.ns` and a matching `ts`.
    WellFormed,
    /// Every receive has its send, and comes after it.
    ReceiveAfterSend,
    /// Every acquire of a lock comes after the previous release of it.
    AcquireAfterRelease,
    /// Every process's events lie between its spawn and its exit.
    WithinLifetime,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::WellFormed => "every event is on a named track at its recorded time",
            Rule::ReceiveAfterSend => "every receive comes after its send",
            Rule::AcquireAfterRelease => "every acquire comes after the previous release",
            Rule::WithinLifetime => "every process's events lie between its spawn and its exit",
        })
    }
}

/// A broken rule, with the events that broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which rule.
    pub rule: Rule,
    /// What happened, naming the events (`traceEvents[12] recv (p2, pid
    /// 123, at 1500 ns)`).
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule \"{}\" broken: {}", self.rule, self.message)
    }
}

/// A track of the trace: one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// The track id (`pid` in the JSON).
    pub id: u64,
    /// The title viewers show (`p1 (pid 123)`).
    pub title: String,
    /// The process's real pid and name, and the recording it came from.
    pub pid: i64,
    /// The process's name.
    pub name: String,
    /// The source (0 unless merged).
    pub source: u64,
}

/// One recorded event (a trace event with `args.ipc`).
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Its index in `traceEvents`.
    pub index: usize,
    /// `args.ipc`: spawn, exit, join, send, recv, lock_wait, lock_acquire,
    /// lock_release, sleep, sleep_end, signal, print, mark, read, write,
    /// sem_wait, sem_acquire, sem_release.
    pub kind: String,
    /// Nanoseconds since the start.
    pub ns: u64,
    /// The track id.
    pub track: u64,
    /// The recording process's pid and name, and its source.
    pub pid: i64,
    /// The process's name.
    pub process: String,
    /// The source (0 unless merged).
    pub source: u64,
    /// Every argument, as written.
    pub args: Value,
}

impl Recorded {
    /// A signed argument (`status`, `child`).
    pub fn arg(&self, name: &str) -> Option<i64> {
        self.args[name].as_i64()
    }

    /// An unsigned argument (`channel`, `msg`, `lock`, `object`, `index`,
    /// `semaphore`).
    pub fn arg_u(&self, name: &str) -> Option<u64> {
        self.args[name].as_u64()
    }

    /// The event's text (`args.text`): a message, a printed line, the
    /// value read or written; empty when it has none.
    pub fn text(&self) -> &str {
        self.args["text"].as_str().unwrap_or_default()
    }

    /// True when the text was cut to fit the recorder's slot.
    pub fn truncated(&self) -> bool {
        self.args["truncated"] == true
    }
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "traceEvents[{}] {} ({}, pid {}, at {} ns)",
            self.index, self.kind, self.process, self.pid, self.ns
        )?;
        if let (Some(c), Some(m)) = (self.arg_u("channel"), self.arg_u("msg")) {
            write!(f, " channel {c} msg {m}")?;
        }
        if let Some(lock) = self.arg_u("lock") {
            write!(f, " lock {lock}")?;
        }
        if let Some(object) = self.arg_u("object") {
            match self.arg_u("index") {
                Some(index) => write!(f, " object {object}[{index}]")?,
                None => write!(f, " object {object}[..]")?,
            }
        }
        if let Some(semaphore) = self.arg_u("semaphore") {
            write!(f, " semaphore {semaphore}")?;
        }
        Ok(())
    }
}

/// A parsed trace: its tracks and recorded events.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The tracks, in the order of their metadata.
    pub tracks: Vec<Track>,
    /// The recorded events, in file order.
    pub events: Vec<Recorded>,
    /// Events the log dropped (all sources).
    pub dropped: u64,
    /// `otherData.notes`.
    pub notes: Vec<String>,
    /// `otherData.objects`: the label of each channel, lock, semaphore and
    /// shared object, by (source, id).
    pub objects: BTreeMap<(u64, u64), String>,
    /// `otherData.guards`: the lock that guards each shared object, by the
    /// object's (source, id).
    pub guards: BTreeMap<(u64, u64), u64>,
    /// Every trace event, for checks of their own.
    pub raw: Vec<Value>,
    /// Problems found while parsing (events without a track and the like).
    problems: Vec<Violation>,
}

/// Reads a Chrome trace-event file that ipc-lab wrote.
///
/// # Errors
/// A message when the text is not JSON, has no `traceEvents` array or no
/// ipc-lab `otherData`.
pub fn parse_json(text: &str) -> Result<Parsed, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let raw = value["traceEvents"]
        .as_array()
        .ok_or("no traceEvents array")?
        .clone();
    let other = &value["otherData"];
    if !other["format"]
        .as_str()
        .is_some_and(|f| f.starts_with("ipc-lab trace"))
    {
        return Err("otherData.format is not \"ipc-lab trace …\"".into());
    }
    let sources = other["sources"].as_array().ok_or("no otherData.sources")?;
    let dropped = sources.iter().filter_map(|s| s["dropped"].as_u64()).sum();
    let notes = other["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let key = |text: &str| -> Result<(u64, u64), String> {
        text.split_once(':')
            .and_then(|(s, id)| Some((s.parse().ok()?, id.parse().ok()?)))
            .ok_or(format!("otherData: bad object key {text:?}"))
    };
    let mut objects = BTreeMap::new();
    if let Some(map) = other["objects"].as_object() {
        for (id, label) in map {
            objects.insert(key(id)?, label.as_str().unwrap_or_default().to_owned());
        }
    }
    let mut guards = BTreeMap::new();
    if let Some(map) = other["guards"].as_object() {
        for (id, lock) in map {
            let lock = lock
                .as_u64()
                .ok_or(format!("otherData.guards[{id:?}] is not a lock id"))?;
            guards.insert(key(id)?, lock);
        }
    }
    let mut tracks = Vec::new();
    let mut events = Vec::new();
    let mut problems = Vec::new();
    for (index, event) in raw.iter().enumerate() {
        let track = event["pid"].as_u64();
        if event["ph"] == "M" && event["name"] == "process_name" {
            let args = &event["args"];
            tracks.push(Track {
                id: track.ok_or(format!("traceEvents[{index}]: metadata without a pid"))?,
                title: args["name"].as_str().unwrap_or_default().to_owned(),
                pid: args["pid"].as_i64().unwrap_or(-1),
                name: args["process"].as_str().unwrap_or_default().to_owned(),
                source: args["source"].as_u64().unwrap_or(0),
            });
            continue;
        }
        let args = &event["args"];
        let Some(kind) = args["ipc"].as_str() else {
            continue;
        };
        let (Some(track), Some(ns)) = (track, args["ns"].as_u64()) else {
            problems.push(Violation {
                rule: Rule::WellFormed,
                message: format!("traceEvents[{index}] {kind} has no pid or no args.ns"),
            });
            continue;
        };
        let recorded = Recorded {
            index,
            kind: kind.to_owned(),
            ns,
            track,
            pid: args["pid"].as_i64().unwrap_or(-1),
            process: args["process"].as_str().unwrap_or("?").to_owned(),
            source: args["source"].as_u64().unwrap_or(0),
            args: args.clone(),
        };
        match event["ts"].as_f64() {
            Some(ts) if (ts * 1000.0 - ns as f64).abs() <= 1.0 + ns as f64 * 1e-12 => {}
            ts => problems.push(Violation {
                rule: Rule::WellFormed,
                message: format!("{recorded} has ts {ts:?} µs, not its recorded time"),
            }),
        }
        events.push(recorded);
    }
    let named: BTreeSet<u64> = tracks.iter().map(|t| t.id).collect();
    for event in &events {
        if !named.contains(&event.track) {
            problems.push(Violation {
                rule: Rule::WellFormed,
                message: format!(
                    "{event} is on track {} that has no process_name",
                    event.track
                ),
            });
        }
    }
    Ok(Parsed {
        tracks,
        events,
        dropped,
        notes,
        objects,
        guards,
        raw,
        problems,
    })
}

impl Parsed {
    /// The events of one kind, in time order.
    pub fn of_kind(&self, kind: &str) -> Vec<&Recorded> {
        let mut found: Vec<&Recorded> = self.events.iter().filter(|e| e.kind == kind).collect();
        found.sort_by_key(|e| e.ns);
        found
    }

    /// The label of object `id` of `source` (`array`, `queue`, `lock`,
    /// `semaphore (initial value 4)`), as the trace names it; a named
    /// object (top bit set) is looked up in every source.
    pub fn label(&self, source: u64, id: u64) -> Option<&str> {
        self.objects
            .get(&(source, id))
            .or_else(|| {
                (id & (1 << 63) != 0)
                    .then(|| self.objects.iter().find(|((_, i), _)| *i == id))
                    .flatten()
                    .map(|(_, label)| label)
            })
            .map(String::as_str)
    }

    /// The track of a process (by source and real pid).
    pub fn track_of(&self, source: u64, pid: i64) -> Option<&Track> {
        self.tracks
            .iter()
            .find(|t| t.source == source && t.pid == pid)
    }

    /// Every broken rule, in the order of [`Rule`].
    pub fn violations(&self) -> Vec<Violation> {
        let mut found = self.problems.clone();
        self.check_messages(&mut found);
        self.check_locks(&mut found);
        self.check_lifetimes(&mut found);
        found.sort_by_key(|v| v.rule);
        found
    }

    /// Panics, listing every broken rule, unless the trace is causally
    /// consistent.
    #[track_caller]
    pub fn assert_consistent(&self) -> &Self {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "{} broken rules:\n{}",
            violations.len(),
            violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        self
    }

    fn check_messages(&self, found: &mut Vec<Violation>) {
        let rule = Rule::ReceiveAfterSend;
        // A named channel (top bit set) is the same on every machine; any
        // other belongs to one source.
        let key = |e: &Recorded, c: u64, m: u64| {
            let scope = if c & (1 << 63) != 0 {
                None
            } else {
                Some(e.source)
            };
            (scope, c, m)
        };
        let mut sends: BTreeMap<(Option<u64>, u64, u64), &Recorded> = BTreeMap::new();
        for send in self.of_kind("send") {
            if let (Some(c), Some(m)) = (send.arg_u("channel"), send.arg_u("msg")) {
                sends.entry(key(send, c, m)).or_insert(send);
            }
        }
        for recv in self.of_kind("recv") {
            let (Some(c), Some(m)) = (recv.arg_u("channel"), recv.arg_u("msg")) else {
                found.push(Violation {
                    rule: Rule::WellFormed,
                    message: format!("{recv} has no channel or msg"),
                });
                continue;
            };
            match sends.get(&key(recv, c, m)) {
                Some(send) if send.ns > recv.ns => found.push(Violation {
                    rule,
                    message: format!(
                        "{recv} comes {} ns before its send {send}",
                        send.ns - recv.ns
                    ),
                }),
                Some(_) => {}
                None if self.dropped > 0 => {}
                None => found.push(Violation {
                    rule,
                    message: format!("{recv} has no send of channel {c} msg {m}"),
                }),
            }
        }
        // The arrows a viewer draws: one flow_out and one flow_in per id,
        // forwards in time.
        let mut flows: BTreeMap<u64, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (index, event) in self.raw.iter().enumerate() {
            if let Some(id) = event["bind_id"].as_u64() {
                let entry = flows.entry(id).or_default();
                if event["flow_out"] == true {
                    entry.0.push(index);
                }
                if event["flow_in"] == true {
                    entry.1.push(index);
                }
            }
        }
        for (id, (out, into)) in flows {
            match (out.as_slice(), into.as_slice()) {
                ([o], [i]) => {
                    let (t_out, t_in) = (self.raw[*o]["ts"].as_f64(), self.raw[*i]["ts"].as_f64());
                    if t_out > t_in {
                        found.push(Violation {
                            rule,
                            message: format!(
                                "flow {id} goes back in time: from traceEvents[{o}] at {t_out:?} µs to traceEvents[{i}] at {t_in:?} µs"
                            ),
                        });
                    }
                }
                _ => found.push(Violation {
                    rule,
                    message: format!(
                        "flow {id} has {} starts ({out:?}) and {} ends ({into:?}), not one of each",
                        out.len(),
                        into.len()
                    ),
                }),
            }
        }
    }

    /// When each process ended: its exit, or its parent's join of it.
    fn ends(&self) -> BTreeMap<u64, u64> {
        let mut ends = BTreeMap::new();
        for exit in self.of_kind("exit") {
            ends.entry(exit.track).or_insert(exit.ns);
        }
        for join in self.of_kind("join") {
            if let Some(track) = join
                .arg("child")
                .and_then(|child| self.track_of(join.source, child))
            {
                ends.entry(track.id).or_insert(join.ns);
            }
        }
        ends
    }

    fn check_locks(&self, found: &mut Vec<Violation>) {
        let rule = Rule::AcquireAfterRelease;
        let ends = self.ends();
        let mut by_lock: BTreeMap<(u64, u64), Vec<&Recorded>> = BTreeMap::new();
        for event in &self.events {
            if matches!(event.kind.as_str(), "lock_acquire" | "lock_release")
                && let Some(lock) = event.arg_u("lock")
            {
                by_lock.entry((event.source, lock)).or_default().push(event);
            }
        }
        for ((_, lock), mut events) in by_lock {
            // At one instant, a release goes before an acquire.
            events.sort_by_key(|e| (e.ns, e.kind == "lock_acquire"));
            // The holders: one at a time when the lock works.
            let mut holders: Vec<&Recorded> = Vec::new();
            for event in events {
                // A holder that ended (exited, or was joined) let it go.
                holders.retain(|held| ends.get(&held.track).is_none_or(|&end| end > event.ns));
                if event.kind == "lock_acquire" {
                    if let Some(held) = holders.first() {
                        found.push(Violation {
                            rule,
                            message: format!(
                                "{event} acquires lock {lock} while {} holds it since {held}, with no release in between",
                                held.process
                            ),
                        });
                    }
                    holders.push(event);
                } else if let Some(at) = holders.iter().position(|h| h.track == event.track) {
                    holders.remove(at);
                } else {
                    found.push(Violation {
                        rule,
                        message: format!("{event} releases lock {lock} that it does not hold"),
                    });
                }
            }
        }
    }

    fn check_lifetimes(&self, found: &mut Vec<Violation>) {
        let rule = Rule::WithinLifetime;
        let mut by_track: BTreeMap<u64, Vec<&Recorded>> = BTreeMap::new();
        for event in &self.events {
            by_track.entry(event.track).or_default().push(event);
        }
        let killed: BTreeSet<u64> = self
            .of_kind("join")
            .into_iter()
            .filter(|j| j.arg("status").is_some_and(|s| s < 0))
            .filter_map(|j| self.track_of(j.source, j.arg("child")?).map(|t| t.id))
            .collect();
        for track in &self.tracks {
            let events = by_track.remove(&track.id).unwrap_or_default();
            let spawns: Vec<&&Recorded> = events.iter().filter(|e| e.kind == "spawn").collect();
            let exits: Vec<&&Recorded> = events.iter().filter(|e| e.kind == "exit").collect();
            match spawns.as_slice() {
                [spawn] => {
                    for event in events.iter().filter(|e| e.ns < spawn.ns) {
                        found.push(Violation {
                            rule,
                            message: format!("{event} comes before the process's spawn {spawn}"),
                        });
                    }
                }
                [] if self.dropped > 0 => {}
                _ => found.push(Violation {
                    rule,
                    message: format!("{} has {} spawn events, not one", track.title, spawns.len()),
                }),
            }
            match exits.as_slice() {
                [exit] => {
                    for event in events.iter().filter(|e| e.ns > exit.ns) {
                        found.push(Violation {
                            rule,
                            message: format!("{event} comes after the process's exit {exit}"),
                        });
                    }
                }
                [] if self.dropped > 0 || killed.contains(&track.id) => {}
                _ => found.push(Violation {
                    rule,
                    message: format!(
                        "{} has {} exit events, not one (and no join reports it killed)",
                        track.title,
                        exits.len()
                    ),
                }),
            }
        }
        let exits: BTreeMap<u64, &Recorded> = self
            .of_kind("exit")
            .into_iter()
            .map(|e| (e.track, e))
            .collect();
        for join in self.of_kind("join") {
            let exit = join
                .arg("child")
                .and_then(|child| self.track_of(join.source, child))
                .and_then(|track| exits.get(&track.id));
            if let Some(exit) = exit
                && exit.ns > join.ns
            {
                found.push(Violation {
                    rule,
                    message: format!("{join} joins a child before its exit {exit}"),
                });
            }
        }
    }
}

/// A lane of an SVG sequence diagram.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lane {
    /// The source (0 unless merged).
    pub source: u64,
    /// The process's pid.
    pub pid: i64,
    /// The process's name.
    pub name: String,
}

/// Parses an SVG picture (it must be well-formed XML with an `<svg>` root)
/// and lists its lanes (`<g class="lane" data-pid=… data-name=…>`), each
/// of which must show its pid.
///
/// # Errors
/// A message naming the XML error or the lane that is malformed.
///
/// ```
/// let svg = r#"<svg xmlns="http://www.w3.org/2000/svg">
///   <g class="lane" data-pid="7" data-source="0" data-name="p1"><text>p1</text><text>pid 7</text></g>
/// </svg>"#;
/// let lanes = ipc_testkit::trace::svg_lanes(svg).unwrap();
/// assert_eq!(lanes[0].pid, 7);
/// assert!(ipc_testkit::trace::svg_lanes("<svg><g></svg>").is_err());
/// ```
pub fn svg_lanes(svg: &str) -> Result<Vec<Lane>, String> {
    let document =
        roxmltree::Document::parse(svg).map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = document.root_element();
    if root.tag_name().name() != "svg" {
        return Err(format!(
            "the root element is <{}>, not <svg>",
            root.tag_name().name()
        ));
    }
    let mut lanes = Vec::new();
    for node in root
        .descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
    {
        let pid: i64 = node
            .attribute("data-pid")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| {
                format!(
                    "a lane without a numeric data-pid at byte {}",
                    node.range().start
                )
            })?;
        let shown: String = node
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ");
        if !shown.contains(&format!("pid {pid}")) {
            return Err(format!(
                "the lane of pid {pid} does not show \"pid {pid}\" (it shows {shown:?})"
            ));
        }
        lanes.push(Lane {
            source: node
                .attribute("data-source")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            pid,
            name: node.attribute("data-name").unwrap_or_default().to_owned(),
        });
    }
    Ok(lanes)
}

/// Panics unless `svg` is well-formed and has exactly one lane per track
/// of `parsed`, with the same pids and names.
#[track_caller]
pub fn assert_svg_matches(svg: &str, parsed: &Parsed) {
    let mut lanes = svg_lanes(svg).unwrap_or_else(|e| panic!("bad SVG: {e}"));
    lanes.sort();
    let mut expected: Vec<Lane> = parsed
        .tracks
        .iter()
        .map(|t| Lane {
            source: t.source,
            pid: t.pid,
            name: t.name.clone(),
        })
        .collect();
    expected.sort();
    assert_eq!(
        lanes, expected,
        "the SVG's lanes differ from the JSON's tracks"
    );
}

/// What [`check_experiment`] found: the traced run and its trace.
#[derive(Debug)]
pub struct TracedRun {
    /// The run that wrote the JSON trace.
    pub run: crate::Run,
    /// Its trace.
    pub parsed: Parsed,
}

/// The checks issue 11 asks of every experiment, on the real binary:
/// runs `program args` without `--trace`, then with `--trace run.json` and
/// `--trace run.svg` (in a temporary directory), each fed `input`, and
/// panics with the run's output unless
///
/// * every run exits with 0 and prints the same lines (compared as sorted
///   lists with their numbers normalised, since pids and interleavings
///   change from run to run): recording changes nothing the run prints;
/// * the JSON parses and is causally consistent (every receive after its
///   send, every acquire after the previous release of the lock, every
///   process's events between its spawn and its exit);
/// * it has a track for every process named in `processes`, and for every
///   child the run joined (the parent's `join` events name them);
/// * the SVG is well-formed XML with one lane per process of its run.
#[track_caller]
pub fn check_experiment(
    program: &str,
    args: &[&str],
    input: &[u8],
    processes: &[&str],
) -> TracedRun {
    let dir = crate::TempDir::new("trace-check");
    let traced = |file: &str| {
        let path = dir.join(file);
        let mut all: Vec<&str> = args.to_vec();
        let path_text = path.to_str().expect("a UTF-8 temporary path").to_owned();
        all.extend(["--trace", &path_text]);
        let run = crate::run_with_input(program, &all, input);
        run.assert_code(0).assert_no_panic();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{run}", path.display()));
        (run, text)
    };
    let plain = crate::run_with_input(program, args, input);
    plain.assert_code(0).assert_no_panic();
    let (run, json) = traced("run.json");
    let (svg_run, svg) = traced("run.svg");
    for other in [&run, &svg_run] {
        assert_eq!(
            printed(&other.stdout),
            printed(&plain.stdout),
            "with --trace the run printed other lines\n{other}\nwithout:\n{plain}"
        );
    }
    let parsed = parse_json(&json).unwrap_or_else(|e| panic!("the JSON trace: {e}\n{run}"));
    parsed.assert_consistent();
    let names: BTreeSet<&str> = parsed.tracks.iter().map(|t| t.name.as_str()).collect();
    for process in processes {
        assert!(
            names.contains(process),
            "no track for {process:?} (tracks: {names:?})\n{run}"
        );
    }
    for join in parsed.of_kind("join") {
        let child = join.args["child"].as_i64().unwrap_or(-1);
        assert!(
            parsed.track_of(join.source, child).is_some(),
            "the run joined pid {child}, which has no track\n{run}"
        );
    }
    let svg_parsed = svg_lanes(&svg).unwrap_or_else(|e| panic!("bad SVG: {e}\n{svg_run}"));
    let svg_names: BTreeSet<&str> = svg_parsed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        svg_names, names,
        "the SVG's lanes are not the processes of the run"
    );
    TracedRun { run, parsed }
}

/// Lines as [`check_experiment`] compares them: every word that holds a
/// digit (a pid, a count) or is a name's random token (eight hex digits,
/// `cecbdaba` too) replaced by `N`, sorted.
fn printed(stdout: &str) -> Vec<String> {
    let varies = |word: &str| {
        word.chars().any(|c| c.is_ascii_digit())
            || (word.len() == 8 && word.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let mut lines: Vec<String> = stdout
        .lines()
        .map(|line| {
            let mut out = String::new();
            let mut word = String::new();
            let flush = |word: &mut String, out: &mut String| {
                if varies(word) {
                    out.push('N');
                } else {
                    out.push_str(word);
                }
                word.clear();
            };
            for c in line.chars() {
                if c.is_ascii_alphanumeric() {
                    word.push(c);
                } else {
                    flush(&mut word, &mut out);
                    out.push(c);
                }
            }
            flush(&mut word, &mut out);
            out
        })
        .collect();
    lines.sort();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A trace of two processes: p (pid 1) forks q (pid 2); q sends p a
    /// message and both take lock 9 in turn.
    fn events() -> Vec<Value> {
        let ev = |kind: &str, ns: u64, pid: u64, extra: Value| {
            let mut args = json!({"ipc": kind, "ns": ns, "pid": pid, "process": format!("p{pid}")});
            args.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"ph": "i", "name": kind, "pid": pid, "tid": pid, "ts": ns as f64 / 1000.0, "args": args})
        };
        vec![
            json!({"ph": "M", "name": "process_name", "pid": 1, "tid": 1, "args": {"name": "p1 (pid 1)", "pid": 1, "process": "p1"}}),
            json!({"ph": "M", "name": "process_name", "pid": 2, "tid": 2, "args": {"name": "p2 (pid 2)", "pid": 2, "process": "p2"}}),
            ev("spawn", 0, 1, json!({"parent": 0})),
            ev("spawn", 10, 2, json!({"parent": 1})),
            ev("lock_acquire", 20, 2, json!({"lock": 9})),
            ev("send", 30, 2, json!({"channel": 1, "msg": 5})),
            ev("lock_release", 40, 2, json!({"lock": 9})),
            ev("exit", 50, 2, json!({"status": 0})),
            ev("lock_acquire", 60, 1, json!({"lock": 9})),
            ev("recv", 70, 1, json!({"channel": 1, "msg": 5})),
            ev("lock_release", 80, 1, json!({"lock": 9})),
            ev("join", 90, 1, json!({"child": 2, "status": 0})),
            ev("exit", 100, 1, json!({"status": 0})),
        ]
    }

    #[test]
    fn printed_lines_ignore_pids_counts_and_name_tokens() {
        // A run's token may have no digit at all: (6/16)^8, about one run in 2 600.
        let a = printed("FIFO created: /tmp/ipc-lab-15945-cecbdaba-0-exp3-fifo\nsent 3\n");
        let b = printed("sent 4\nFIFO created: /tmp/ipc-lab-15939-e235a2d1-0-exp3-fifo\n");
        assert_eq!(a, b);
        assert_eq!(a[0], "FIFO created: /tmp/ipc-lab-N-N-N-N-fifo");
        assert_ne!(
            printed("Reader received: First"),
            printed("Reader received: second")
        );
    }

    fn parse(events: Vec<Value>) -> Parsed {
        let doc = json!({"otherData": {"format": "ipc-lab trace 1", "sources": [{"dropped": 0}]}, "traceEvents": events});
        parse_json(&doc.to_string()).unwrap()
    }

    /// Moves event `index` to time `ns`.
    fn at(mut events: Vec<Value>, index: usize, ns: u64) -> Vec<Value> {
        events[index]["args"]["ns"] = json!(ns);
        events[index]["ts"] = json!(ns as f64 / 1000.0);
        events
    }

    fn only_violation(events: Vec<Value>) -> Violation {
        let violations = parse(events).violations();
        assert_eq!(violations.len(), 1, "{violations:#?}");
        violations.into_iter().next().unwrap()
    }

    #[test]
    fn a_consistent_trace_passes() {
        let parsed = parse(events());
        parsed.assert_consistent();
        assert_eq!(parsed.tracks.len(), 2);
        assert_eq!(parsed.of_kind("send").len(), 1);
    }

    #[test]
    fn a_receive_before_its_send_is_named() {
        let v = only_violation(at(events(), 9, 25));
        assert_eq!(v.rule, Rule::ReceiveAfterSend);
        assert_eq!(
            v.message,
            "traceEvents[9] recv (p1, pid 1, at 25 ns) channel 1 msg 5 comes 5 ns before its send traceEvents[5] send (p2, pid 2, at 30 ns) channel 1 msg 5"
        );
    }

    #[test]
    fn a_receive_without_a_send_is_named() {
        let mut events = events();
        events[5]["args"]["msg"] = json!(6);
        let v = only_violation(events);
        assert_eq!(v.rule, Rule::ReceiveAfterSend);
        assert!(v.message.ends_with("has no send of channel 1 msg 5"), "{v}");
    }

    #[test]
    fn an_acquire_before_the_previous_release_is_named() {
        // p1 takes the lock at 35, while p2 holds it until 40.
        let v = only_violation(at(events(), 8, 35));
        assert_eq!(v.rule, Rule::AcquireAfterRelease);
        assert!(
            v.message.starts_with("traceEvents[8] lock_acquire (p1, pid 1, at 35 ns) lock 9 acquires lock 9 while p2 holds it since traceEvents[4]"),
            "{v}"
        );
    }

    #[test]
    fn a_dead_holder_releases_its_lock() {
        // p2 dies holding the lock (no release): p1 may take it after p2's exit.
        let mut events = events();
        events.remove(6);
        parse(events).assert_consistent();
    }

    #[test]
    fn an_event_after_the_exit_is_named() {
        let v = only_violation(at(events(), 5, 55));
        assert_eq!(v.rule, Rule::WithinLifetime);
        assert!(
            v.message
                .contains("comes after the process's exit traceEvents[7]"),
            "{v}"
        );
    }

    #[test]
    fn a_missing_spawn_and_an_early_join_are_named() {
        let mut events = at(events(), 11, 45);
        events.remove(3);
        let violations = parse(events).violations();
        let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert_eq!(violations.len(), 2, "{messages:#?}");
        assert!(
            messages[0].contains("p2 (pid 2) has 0 spawn events, not one"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("joins a child before its exit"),
            "{messages:?}"
        );
    }

    #[test]
    fn events_off_their_track_or_time_are_named() {
        let mut events = events();
        events[5]["ts"] = json!(1.0);
        let mut stray = events[7].clone();
        stray["pid"] = json!(3);
        events.push(stray);
        let violations = parse(events).violations();
        assert!(
            violations.iter().all(|v| v.rule == Rule::WellFormed),
            "{violations:?}"
        );
        assert!(
            violations[0]
                .message
                .contains("has ts Some(1.0) µs, not its recorded time")
        );
        assert!(
            violations[1]
                .message
                .contains("is on track 3 that has no process_name")
        );
    }

    #[test]
    fn backward_and_dangling_flows_are_named() {
        let mut events = events();
        events[5]["bind_id"] = json!(1);
        events[5]["flow_out"] = json!(true);
        events[9]["bind_id"] = json!(1);
        events[9]["flow_in"] = json!(true);
        parse(events.clone()).assert_consistent();
        events[9]["ts"] = json!(0.001);
        events[9]["args"]["ns"] = json!(1);
        let violations = parse(events.clone()).violations();
        assert!(
            violations
                .iter()
                .any(|v| v.message.starts_with("flow 1 goes back in time")),
            "{violations:?}"
        );
        events[9]["flow_in"] = json!(false);
        let violations = parse(events).violations();
        assert!(
            violations
                .iter()
                .any(|v| v.message.contains("flow 1 has 1 starts ([5]) and 0 ends")),
            "{violations:?}"
        );
    }

    #[test]
    fn foreign_json_is_refused() {
        assert!(parse_json("[]").unwrap_err().contains("traceEvents"));
        assert!(
            parse_json(r#"{"traceEvents": []}"#)
                .unwrap_err()
                .contains("otherData.format")
        );
    }

    #[test]
    fn svg_lanes_must_show_their_pid() {
        let err = svg_lanes(r#"<svg><g class="lane" data-pid="7"><text>pid 8</text></g></svg>"#)
            .unwrap_err();
        assert!(err.contains("does not show \"pid 7\""), "{err}");
        let err = svg_lanes("<html/>").unwrap_err();
        assert!(err.contains("not <svg>"), "{err}");
    }
}
