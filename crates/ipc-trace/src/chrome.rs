//! The Chrome trace-event format (JSON), written and read back.
//!
//! Every process is a track (`pid`, with `process_name` metadata, its one
//! thread `tid = pid`). Each recorded event becomes one trace event whose
//! `args.ipc` names its kind and whose `args.ns` keeps its exact time, so
//! that [`Trace::from_json`] rebuilds the trace without loss:
//!
//! | event | trace event |
//! | --- | --- |
//! | spawn, exit, join, signal, print, mark | instant (`ph: "i"`, thread scope) |
//! | send, receive | complete event of no duration (`ph: "X"`), joined by a flow arrow (`bind_id`, `flow_out` / `flow_in`) |
//! | sleep | a duration (`B` … `E`) on the process's thread |
//! | lock wait, lock held | async spans (`b` … `e`), one track per lock and process, so that spans of two locks may overlap |
//! | read, write of shared data | instant (`cat: "data"`), naming the object, the element and the value |
//! | semaphore wait | an async span (`b` … `e`) that ends when the unit is taken |
//! | semaphore acquire, release | instant (`cat: "semaphore"`) |
//!
//! Times (`ts`) are microseconds since the trace's start, as the format
//! wants. The recording's wall-clock start, the labels of channels,
//! locks, semaphores and shared data, the lock that guards each shared
//! object (`guards`), dropped events and a merge's offsets are in
//! `otherData`.
//!
//! In a merged trace the processes of source `s` get the track id
//! `s << 22 | pid` (pids are below 2^22), with their real pid in the
//! metadata.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use ipc_core::{Error, Result};

use crate::model::{Event, Field, Fields, Kind, Source, Trace, format_ns, format_wall};

/// The `otherData.format` of every trace ipc-lab writes.
pub(crate) const FORMAT: &str = "ipc-lab trace 1";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChromeTrace {
    trace_events: Vec<ChromeEvent>,
    #[serde(default)]
    display_time_unit: Option<String>,
    #[serde(default)]
    other_data: Option<OtherData>,
}

#[derive(Debug, Serialize, Deserialize)]
struct OtherData {
    format: String,
    sources: Vec<SourceJson>,
    #[serde(default)]
    objects: BTreeMap<String, String>,
    /// `"source:object"` → the id of the lock that guards it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    guards: BTreeMap<String, u64>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SourceJson {
    label: String,
    host: String,
    start_wall_ns: i64,
    start_wall: String,
    /// Absent from traces written before it was recorded.
    #[serde(default)]
    start_mono_ns: u64,
    #[serde(default)]
    boot_id: String,
    offset_ns: u64,
    capacity: u64,
    dropped: u64,
    incomplete: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ChromeEvent {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cat: Option<String>,
    ph: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    pid: u64,
    tid: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id2: Option<Id2>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bind_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_in: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_out: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    args: Option<Args>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Id2 {
    local: String,
}

/// Everything an event may carry; absent fields are left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Args {
    /// Metadata: the track's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Metadata: sort order of the tracks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sort_index: Option<i64>,
    /// The recorded kind ([`Kind::label`]); absent on view-only events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ipc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    process: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    child: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channel: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    msg: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lock: Option<u64>,
    /// The shared object of a read or write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<u64>,
    /// The element of a read or write; absent on a read of every element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    semaphore: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signal: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    truncated: Option<bool>,
}

/// The track id of a process: its pid, or `source << 22 | pid` in a merge.
pub(crate) fn track(source: usize, pid: i32) -> u64 {
    ((source as u64) << 22) | u64::from(pid.max(0) as u32)
}

/// How an element of shared data is named in the pictures: `array[2]`,
/// and a value (one element) by its label alone.
pub(crate) fn element(label: &str, index: Option<u64>) -> String {
    match index {
        _ if label.ends_with("value") => label.to_owned(),
        Some(index) => format!("{label}[{index}]"),
        None => label.to_owned(),
    }
}

fn micros(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// A signal's name (`SIGINT`), or its number.
pub(crate) fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

impl Trace {
    /// The trace in the Chrome trace-event format (see the module notes).
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        for (index, process) in self.processes().iter().enumerate() {
            let id = track(process.source, process.pid);
            let host = self
                .sources
                .get(process.source)
                .filter(|_| self.sources.len() > 1)
                .map(|s| format!(" @ {}", s.label))
                .unwrap_or_default();
            let title = format!("{} (pid {}){host}", process.name, process.pid);
            for (name, args) in [
                (
                    "process_name",
                    Args {
                        name: Some(title.clone()),
                        pid: Some(process.pid),
                        process: Some(process.name.clone()),
                        source: Some(process.source),
                        ..Args::default()
                    },
                ),
                (
                    "process_sort_index",
                    Args {
                        sort_index: Some(index as i64),
                        ..Args::default()
                    },
                ),
                (
                    "thread_name",
                    Args {
                        name: Some(process.name.clone()),
                        ..Args::default()
                    },
                ),
            ] {
                out.push(ChromeEvent {
                    name: name.into(),
                    ph: "M".into(),
                    pid: id,
                    tid: id,
                    args: Some(args),
                    ..ChromeEvent::default()
                });
            }
        }
        // One flow per (send, receive) pair. A message received by several
        // processes (a NATS subject with many subscribers) has several: its
        // send is written once per flow, since an event binds one flow.
        let mut flows: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
        for (n, (send, recv)) in self.message_pairs().into_iter().enumerate() {
            flows.entry(send).or_default().push(n as u64 + 1);
            flows.entry(recv).or_default().push(n as u64 + 1);
        }
        // Lock and semaphore waits still open, by (source, pid, id):
        // closed at the acquire.
        let mut waiting: BTreeMap<(usize, i32, u64), ()> = BTreeMap::new();
        for (index, event) in self.events.iter().enumerate() {
            let id = track(event.source, event.pid);
            let ts = Some(micros(event.t_ns));
            let args = Args {
                ipc: Some(event.kind.label().into()),
                ns: Some(event.t_ns),
                source: Some(event.source).filter(|&s| s > 0),
                pid: Some(event.pid),
                process: Some(event.process.clone()),
                text: Some(event.text.clone()).filter(|t| !t.is_empty()),
                truncated: Some(true).filter(|_| event.truncated),
                ..Args::default()
            };
            let base = ChromeEvent {
                ts,
                pid: id,
                tid: id,
                ..ChromeEvent::default()
            };
            let instant = |name: String, cat: &str, args: Args| ChromeEvent {
                name,
                cat: Some(cat.into()),
                ph: "i".into(),
                s: Some("t".into()),
                args: Some(args),
                ts,
                pid: id,
                tid: id,
                ..ChromeEvent::default()
            };
            // A lock's or a semaphore's async span, `cat` naming which.
            let span =
                |cat: &str, ph: &str, name: String, object: u64, args: Option<Args>| ChromeEvent {
                    name,
                    cat: Some(cat.into()),
                    ph: ph.into(),
                    id2: Some(Id2 {
                        local: format!("{cat} {object}"),
                    }),
                    args,
                    ts,
                    pid: id,
                    tid: id,
                    ..ChromeEvent::default()
                };
            match event.kind {
                Kind::Spawn { parent } => out.push(instant(
                    "spawn".into(),
                    "process",
                    Args {
                        parent: Some(parent),
                        ..args
                    },
                )),
                Kind::Exit { status } => out.push(instant(
                    format!("exit {status}"),
                    "process",
                    Args {
                        status: Some(status),
                        ..args
                    },
                )),
                Kind::Join { child, status } => out.push(instant(
                    format!("joined {} (pid {child}): {status}", event.text),
                    "process",
                    Args {
                        child: Some(child),
                        status: Some(status),
                        ..args
                    },
                )),
                Kind::Send { channel, msg } | Kind::Recv { channel, msg } => {
                    let sending = matches!(event.kind, Kind::Send { .. });
                    let label = self.object_label(event.source, channel);
                    let ids = flows.get(&index).map(Vec::as_slice).unwrap_or_default();
                    // No flow (a receive whose send is not in the trace):
                    // the event alone.
                    let ids: Vec<Option<u64>> = if ids.is_empty() {
                        vec![None]
                    } else {
                        ids.iter().copied().map(Some).collect()
                    };
                    for flow in ids {
                        out.push(ChromeEvent {
                            name: format!(
                                "{} {label}: {}",
                                if sending { "send on" } else { "recv on" },
                                event.text
                            ),
                            cat: Some("message".into()),
                            ph: "X".into(),
                            dur: Some(0.0),
                            bind_id: flow,
                            flow_out: flow.filter(|_| sending).map(|_| true),
                            flow_in: flow.filter(|_| !sending).map(|_| true),
                            args: Some(Args {
                                channel: Some(channel),
                                msg: Some(msg),
                                ..args.clone()
                            }),
                            ..base.clone()
                        });
                    }
                }
                Kind::LockWait { lock }
                | Kind::LockAcquire { lock }
                | Kind::LockRelease { lock } => {
                    // A wait opens a "waits for" span, closed by the
                    // acquire, which opens the "holds" span the release
                    // closes.
                    let label = self.object_label(event.source, lock);
                    let key = (event.source, event.pid, lock);
                    let (ph, name) = match event.kind {
                        Kind::LockWait { .. } => {
                            waiting.insert(key, ());
                            ("b", format!("waits for {label}"))
                        }
                        Kind::LockAcquire { .. } => {
                            if waiting.remove(&key).is_some() {
                                let name = format!("waits for {label}");
                                out.push(span("lock", "e", name, lock, None));
                            }
                            ("b", format!("holds {label}"))
                        }
                        _ => ("e", format!("holds {label}")),
                    };
                    let args = Args {
                        lock: Some(lock),
                        ..args
                    };
                    out.push(span("lock", ph, name, lock, Some(args)));
                }
                Kind::SleepBegin { requested_ns } => out.push(ChromeEvent {
                    name: format!("sleep {}", format_ns(requested_ns)),
                    cat: Some("sleep".into()),
                    ph: "B".into(),
                    args: Some(Args {
                        requested_ns: Some(requested_ns),
                        ..args
                    }),
                    ..base
                }),
                Kind::SleepEnd => out.push(ChromeEvent {
                    name: "sleep".into(),
                    cat: Some("sleep".into()),
                    ph: "E".into(),
                    args: Some(args),
                    ..base
                }),
                Kind::Signal { signal } => out.push(instant(
                    signal_name(signal),
                    "signal",
                    Args {
                        signal: Some(signal),
                        ..args
                    },
                )),
                Kind::Print => out.push(instant(event.text.clone(), "print", args)),
                Kind::Mark => out.push(instant(event.text.clone(), "mark", args)),
                Kind::Read { object, .. } | Kind::Write { object, .. } => {
                    let (verb, index) = match event.kind {
                        Kind::Write { index, .. } => ("write", Some(index)),
                        Kind::Read { index, .. } => ("read", index),
                        _ => continue,
                    };
                    let label = element(&self.object_label(event.source, object), index);
                    out.push(instant(
                        format!("{verb} {label} = {}", event.text),
                        "data",
                        Args {
                            object: Some(object),
                            index,
                            ..args
                        },
                    ));
                }
                Kind::SemWait { semaphore } => {
                    waiting.insert((event.source, event.pid, semaphore), ());
                    let name = format!("waits for {}", self.object_label(event.source, semaphore));
                    out.push(span(
                        "semaphore",
                        "b",
                        name,
                        semaphore,
                        Some(Args {
                            semaphore: Some(semaphore),
                            ..args
                        }),
                    ));
                }
                Kind::SemAcquire { semaphore } | Kind::SemRelease { semaphore } => {
                    let label = self.object_label(event.source, semaphore);
                    let verb = if matches!(event.kind, Kind::SemAcquire { .. }) {
                        if waiting
                            .remove(&(event.source, event.pid, semaphore))
                            .is_some()
                        {
                            out.push(span(
                                "semaphore",
                                "e",
                                format!("waits for {label}"),
                                semaphore,
                                None,
                            ));
                        }
                        "acquires"
                    } else {
                        "releases"
                    };
                    out.push(instant(
                        format!("{verb} {label}"),
                        "semaphore",
                        Args {
                            semaphore: Some(semaphore),
                            ..args
                        },
                    ));
                }
            }
        }
        let document = ChromeTrace {
            trace_events: out,
            display_time_unit: Some("ns".into()),
            other_data: Some(OtherData {
                format: FORMAT.into(),
                sources: self
                    .sources
                    .iter()
                    .map(|s| SourceJson {
                        label: s.label.clone(),
                        host: s.host.clone(),
                        start_wall_ns: s.start_wall_ns,
                        start_wall: format_wall(s.start_wall_ns),
                        start_mono_ns: s.start_mono_ns,
                        boot_id: s.boot_id.clone(),
                        offset_ns: s.offset_ns,
                        capacity: s.capacity,
                        dropped: s.dropped,
                        incomplete: s.incomplete,
                    })
                    .collect(),
                objects: self
                    .objects
                    .iter()
                    .map(|((source, id), label)| (format!("{source}:{id}"), label.clone()))
                    .collect(),
                guards: self
                    .guards
                    .iter()
                    .map(|((source, id), lock)| (format!("{source}:{id}"), *lock))
                    .collect(),
                notes: self.notes(),
            }),
        };
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(&document).unwrap_or_default()
    }

    /// Reads a trace that [`Trace::to_json`] wrote (or `ipc-trace merge`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (exit code 2) naming what is wrong: not
    /// JSON, not a Chrome trace, or one ipc-lab did not write.
    ///
    /// ```
    /// use ipc_trace::Trace;
    /// let err = Trace::from_json("{}").unwrap_err();
    /// assert!(err.to_string().contains("traceEvents"), "{err}");
    /// assert_eq!(err.exit_code(), 2);
    /// ```
    pub fn from_json(text: &str) -> Result<Trace> {
        let document: ChromeTrace = serde_json::from_str(text)
            .map_err(|e| Error::InvalidArgument(format!("not a Chrome trace: {e}")))?;
        let other = document
            .other_data
            .filter(|o| o.format == FORMAT)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "not a trace ipc-lab wrote (no otherData.format \"{FORMAT}\")"
                ))
            })?;
        let sources = other
            .sources
            .into_iter()
            .map(|s| Source {
                label: s.label,
                host: s.host,
                start_wall_ns: s.start_wall_ns,
                start_mono_ns: s.start_mono_ns,
                boot_id: s.boot_id,
                offset_ns: s.offset_ns,
                capacity: s.capacity,
                dropped: s.dropped,
                incomplete: s.incomplete,
            })
            .collect();
        let object_key = |key: &str| {
            key.split_once(':')
                .and_then(|(s, id)| Some((s.parse().ok()?, id.parse().ok()?)))
                .ok_or_else(|| Error::InvalidArgument(format!("bad object key {key:?}")))
        };
        let mut objects = BTreeMap::new();
        for (key, label) in other.objects {
            objects.insert(object_key(&key)?, label);
        }
        let mut guards = BTreeMap::new();
        for (key, lock) in other.guards {
            guards.insert(object_key(&key)?, lock);
        }
        let mut events = Vec::new();
        for (n, chrome) in document.trace_events.into_iter().enumerate() {
            let Some(args) = chrome.args else { continue };
            let Some(ipc) = args.ipc.as_deref() else {
                continue;
            };
            let bad = |field: &str| {
                Error::InvalidArgument(format!(
                    "traceEvents[{n}] ({ipc}): missing or bad args.{field}"
                ))
            };
            let need = |v: Option<u64>, field: &str| v.ok_or_else(|| bad(field));
            let need_i = |v: Option<i32>, field: &str| v.ok_or_else(|| bad(field));
            let kind =
                Kind::read(ipc, &mut ArgsFields { args: &args, bad })?.ok_or_else(|| bad("ipc"))?;
            events.push(Event {
                t_ns: need(args.ns, "ns")?,
                source: args.source.unwrap_or(0),
                pid: need_i(args.pid, "pid")?,
                process: args.process.ok_or_else(|| bad("process"))?,
                kind,
                text: args.text.unwrap_or_default(),
                truncated: args.truncated.unwrap_or(false),
            });
        }
        events.sort_by_key(|e| e.t_ns);
        let trace = Trace {
            sources,
            objects,
            guards,
            events,
        };
        if let Some(e) = trace
            .events
            .iter()
            .find(|e| e.source >= trace.sources.len())
        {
            return Err(Error::InvalidArgument(format!(
                "event {e} names source {} of {}",
                e.source,
                trace.sources.len()
            )));
        }
        Ok(trace)
    }
}

/// A JSON event's `args` as the fields of its kind; a missing one is
/// `bad`'s error.
struct ArgsFields<'a, B> {
    args: &'a Args,
    bad: B,
}

impl<B: Fn(&str) -> Error> Fields for ArgsFields<'_, B> {
    type Error = Error;

    fn int(&mut self, field: Field) -> Result<i32> {
        let a = self.args;
        match field {
            Field::Parent => a.parent,
            Field::Child => a.child,
            Field::Status => a.status,
            Field::Signal => a.signal,
            _ => None,
        }
        .ok_or_else(|| (self.bad)(field.name()))
    }

    fn id(&mut self, field: Field) -> Result<u64> {
        let a = self.args;
        match field {
            Field::Channel => a.channel,
            Field::Msg => a.msg,
            Field::Lock => a.lock,
            Field::Semaphore => a.semaphore,
            Field::Object => a.object,
            Field::Index => a.index,
            Field::RequestedNs => a.requested_ns,
            _ => None,
        }
        .ok_or_else(|| (self.bad)(field.name()))
    }

    fn element(&mut self) -> Result<Option<u64>> {
        Ok(self.args.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t_ns: u64, pid: i32, kind: Kind, text: &str) -> Event {
        Event::of(t_ns, pid, kind, text)
    }

    fn sample() -> Trace {
        let mut objects = BTreeMap::new();
        objects.insert((0, 1), "pipe".to_string());
        objects.insert((0, 2), "lock".to_string());
        objects.insert((0, 3), "array".to_string());
        objects.insert((0, 4), "semaphore (initial value 0)".to_string());
        let mut guards = BTreeMap::new();
        guards.insert((0, 3), 2);
        Trace {
            sources: vec![Source {
                label: "demo".into(),
                host: "h".into(),
                start_wall_ns: 1_700_000_000_000_000_000,
                start_mono_ns: 5_000_000,
                boot_id: "6a1c-boot".into(),
                offset_ns: 0,
                capacity: 64,
                dropped: 3,
                incomplete: 0,
            }],
            objects,
            guards,
            events: vec![
                event(0, 10, Kind::Spawn { parent: 1 }, ""),
                event(100, 11, Kind::Spawn { parent: 10 }, ""),
                event(200, 11, Kind::LockWait { lock: 2 }, ""),
                event(300, 11, Kind::LockAcquire { lock: 2 }, ""),
                event(400, 11, Kind::Send { channel: 1, msg: 7 }, "hello \"you\""),
                event(
                    410,
                    11,
                    Kind::Read {
                        object: 3,
                        index: Some(1),
                    },
                    "2",
                ),
                event(
                    420,
                    11,
                    Kind::Write {
                        object: 3,
                        index: 1,
                    },
                    "4",
                ),
                event(430, 11, Kind::SemRelease { semaphore: 4 }, ""),
                event(500, 11, Kind::LockRelease { lock: 2 }, ""),
                event(600, 11, Kind::SleepBegin { requested_ns: 1000 }, ""),
                event(1600, 11, Kind::SleepEnd, ""),
                event(1700, 11, Kind::Exit { status: 0 }, ""),
                event(1800, 10, Kind::Recv { channel: 1, msg: 7 }, "hello \"you\""),
                event(1850, 10, Kind::SemWait { semaphore: 4 }, ""),
                event(1860, 10, Kind::SemAcquire { semaphore: 4 }, "0"),
                event(
                    1870,
                    10,
                    Kind::Read {
                        object: 3,
                        index: None,
                    },
                    "[0, 4]",
                ),
                event(1900, 10, Kind::Signal { signal: 2 }, ""),
                event(2000, 10, Kind::Print, "[1, 4, 9, 16]"),
                event(2100, 10, Kind::Mark, "done"),
                event(
                    2200,
                    10,
                    Kind::Join {
                        child: 11,
                        status: 0,
                    },
                    "p11",
                ),
                event(2300, 10, Kind::Exit { status: 0 }, ""),
            ],
        }
    }

    #[test]
    fn json_round_trips_without_loss() {
        let trace = sample();
        let json = trace.to_json();
        assert_eq!(Trace::from_json(&json).unwrap(), trace, "{json}");
    }

    #[test]
    fn a_trace_without_the_monotonic_start_still_reads() {
        let mut json: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        let source = json["otherData"]["sources"][0].as_object_mut().unwrap();
        assert!(source.remove("start_mono_ns").is_some());
        assert!(source.remove("boot_id").is_some());
        let read = Trace::from_json(&json.to_string()).unwrap();
        assert_eq!(
            (
                read.sources[0].start_mono_ns,
                read.sources[0].boot_id.as_str()
            ),
            (0, "")
        );
        assert_eq!(read.events, sample().events);
    }

    #[test]
    fn messages_become_flows_and_dropped_events_are_noted() {
        let json: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        let events = json["traceEvents"].as_array().unwrap();
        let out: Vec<_> = events.iter().filter(|e| e["flow_out"] == true).collect();
        let into: Vec<_> = events.iter().filter(|e| e["flow_in"] == true).collect();
        assert_eq!((out.len(), into.len()), (1, 1));
        assert_eq!(out[0]["bind_id"], into[0]["bind_id"]);
        assert_eq!(out[0]["pid"], 11);
        let names: Vec<&str> = events
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["p10 (pid 10)", "p11 (pid 11)"]);
        let notes = json["otherData"]["notes"].to_string();
        assert!(notes.contains("3 events dropped"), "{notes}");
        assert_eq!(
            json["otherData"]["sources"][0]["start_wall"],
            "2023-11-14 22:13:20.000000000 UTC"
        );
    }

    #[test]
    fn foreign_or_broken_json_is_refused_with_a_reason() {
        for (text, reason) in [
            ("not json", "not a Chrome trace"),
            (r#"{"traceEvents": []}"#, "not a trace ipc-lab wrote"),
            (
                r#"{"traceEvents": [{"name":"x","ph":"i","pid":1,"tid":1,"args":{"ipc":"send","ns":1,"pid":1,"process":"p"}}],
                   "otherData": {"format": "ipc-lab trace 1", "sources": []}}"#,
                "traceEvents[0] (send): missing or bad args.channel",
            ),
        ] {
            let err = Trace::from_json(text).unwrap_err();
            assert!(err.to_string().contains(reason), "{err}");
        }
    }
}
