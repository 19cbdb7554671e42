//! The trace as a sequence diagram in SVG, readable in any browser.
//!
//! One lane per process, left to right in the order they started, each
//! headed by its name and pid; time runs downwards, one row per event, with
//! the time of each row in the left column (rows are in time order, not to
//! scale: a long quiet stretch is marked with its length). A message is an
//! arrow from the sender's row to the receiver's; a held lock is a shaded
//! bar on the holder's lane, a wait for it a dashed one; a sleep is a grey
//! bar; a write to shared data is a filled square and a read a hollow one,
//! each with the element and its value; a semaphore's acquire and release
//! are triangles; printed lines are repeated in the right-hand column, on
//! their row.
//!
//! Past [`MAX_ROWS`] events, the first and last halves are drawn and the
//! middle is replaced by a band that says how many events it hides.

use std::collections::BTreeMap;

use svg::Document;
use svg::node::element::{
    Circle, Definitions, Group, Line, Marker, Path, Polygon, Rectangle, Style, Text, Title,
};

use crate::chrome::{element, signal_name};
use crate::model::{Kind, Trace, format_ns, format_wall};

/// The most rows drawn; past it the middle of the run is elided.
pub const MAX_ROWS: usize = 600;

const MARGIN: f64 = 16.0;
const TIME_COLUMN: f64 = 92.0;
const LANE_WIDTH: f64 = 170.0;
const ROW: f64 = 18.0;
const LANE_HEAD: f64 = 40.0;
const BAND_ROWS: usize = 3;
const LABEL_CHARS: usize = 28;
const OUTPUT_CHARS: usize = 90;
const CHAR_WIDTH: f64 = 6.2;

const LANE_COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#e6550d", "#8c564b", "#e377c2", "#17becf",
];
const LOCK_COLOURS: [&str; 4] = ["#f2b134", "#6fb1e0", "#c39bd3", "#8fd18f"];

const CSS: &str = "
text { font-family: sans-serif; font-size: 11px; fill: #222; }
.title { font-size: 16px; font-weight: bold; }
.note { font-size: 11px; fill: #444; }
.warn { font-size: 11px; fill: #b00; font-weight: bold; }
.time { font-family: monospace; font-size: 10px; fill: #666; text-anchor: end; }
.gap { font-family: monospace; font-size: 9px; fill: #999; font-style: italic; text-anchor: end; }
.lane-name { font-weight: bold; font-size: 12px; text-anchor: middle; }
.lane-pid { font-size: 10px; fill: #555; text-anchor: middle; }
.small { font-size: 10px; fill: #333; }
.msg { font-size: 10px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.output { font-family: monospace; font-size: 11px; }
.mark { font-size: 10px; font-style: italic; fill: #555; }
.signal { font-size: 10px; fill: #b00; font-weight: bold; }
.elided { font-size: 12px; fill: #555; font-style: italic; }
";

/// Keeps a text valid in XML (no control characters) and at most `max`
/// characters long, marking a cut with `…`.
fn clean(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        out.pop();
        out.push('…');
    }
    out
}

/// Splits `text` into lines of at most about `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn text(class: &str, x: f64, y: f64, content: impl Into<String>) -> Text {
    Text::new(content.into())
        .set("class", class)
        .set("x", round(x))
        .set("y", round(y))
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64, colour: &str, width: f64) -> Line {
    Line::new()
        .set("x1", round(x1))
        .set("y1", round(y1))
        .set("x2", round(x2))
        .set("y2", round(y2))
        .set("stroke", colour)
        .set("stroke-width", width)
}

fn rect(x: f64, y: f64, w: f64, h: f64) -> Rectangle {
    Rectangle::new()
        .set("x", round(x))
        .set("y", round(y))
        .set("width", round(w))
        .set("height", round(h.max(1.0)))
}

/// A triangle around `x`: its base `half_width` either side at `base`, its
/// tip at `tip`.
fn triangle(x: f64, half_width: f64, base: f64, tip: f64) -> Polygon {
    Polygon::new().set(
        "points",
        format!(
            "{},{} {},{} {},{}",
            round(x - half_width),
            round(base),
            round(x + half_width),
            round(base),
            round(x),
            round(tip)
        ),
    )
}

/// Which events get a row, and where.
struct Rows {
    /// Events before the elided band (all of them when nothing is elided).
    head: usize,
    /// The first event after the band.
    tail: usize,
    total: usize,
    top: f64,
}

impl Rows {
    fn new(total: usize, top: f64) -> Rows {
        if total <= MAX_ROWS {
            Rows {
                head: total,
                tail: total,
                total,
                top,
            }
        } else {
            Rows {
                head: MAX_ROWS / 2,
                tail: total - MAX_ROWS / 2,
                total,
                top,
            }
        }
    }

    fn elided(&self) -> usize {
        self.tail - self.head
    }

    fn count(&self) -> usize {
        if self.elided() == 0 {
            self.total
        } else {
            self.head + BAND_ROWS + (self.total - self.tail)
        }
    }

    /// The y of event `i`'s row, `None` when it is elided.
    fn y(&self, i: usize) -> Option<f64> {
        let row = if i < self.head {
            i
        } else if i >= self.tail {
            self.head + BAND_ROWS * usize::from(self.elided() > 0) + (i - self.tail)
        } else {
            return None;
        };
        Some(self.top + row as f64 * ROW + ROW / 2.0)
    }

    /// The y of event `i`, or of the band's edge it hides behind.
    fn y_clamped(&self, i: usize, at_start: bool) -> f64 {
        self.y(i).unwrap_or_else(|| {
            let band_top = self.top + self.head as f64 * ROW;
            if at_start {
                band_top
            } else {
                band_top + BAND_ROWS as f64 * ROW
            }
        })
    }

    fn bottom(&self) -> f64 {
        self.top + self.count() as f64 * ROW
    }
}

impl Trace {
    /// The trace as a self-contained SVG sequence diagram (see the module
    /// notes of [`super`]).
    ///
    /// ```
    /// # use ipc_trace::{Event, Kind, Trace};
    /// let event = |t_ns, pid: i32, kind| Event {
    ///     t_ns, source: 0, pid, process: format!("p{pid}"), kind,
    ///     text: "hi".into(), truncated: false,
    /// };
    /// let trace = Trace {
    ///     events: vec![
    ///         event(0, 10, Kind::Spawn { parent: 1 }),
    ///         event(5, 11, Kind::Spawn { parent: 10 }),
    ///         event(7, 11, Kind::Send { channel: 1, msg: 1 }),
    ///         event(9, 10, Kind::Recv { channel: 1, msg: 1 }),
    ///     ],
    ///     ..Trace::default()
    /// };
    /// let svg = trace.to_svg();
    /// assert!(svg.starts_with("<svg"));
    /// assert_eq!(svg.matches(r#"class="lane""#).count(), 2);
    /// assert_eq!(svg.matches(r#"class="message""#).count(), 1);
    /// ```
    pub fn to_svg(&self) -> String {
        let processes = self.processes();
        let lane_of: BTreeMap<(usize, i32), usize> = processes
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.source, p.pid), i))
            .collect();
        let lane_x = |lane: usize| MARGIN + TIME_COLUMN + (lane as f64 + 0.5) * LANE_WIDTH;
        let colour = |lane: usize| LANE_COLOURS[lane % LANE_COLOURS.len()];
        let lock_colours: BTreeMap<(usize, u64), &str> = self
            .events
            .iter()
            .filter_map(|e| match e.kind {
                Kind::LockAcquire { lock } | Kind::LockWait { lock } => Some((e.source, lock)),
                _ => None,
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .enumerate()
            .map(|(i, key)| (key, LOCK_COLOURS[i % LOCK_COLOURS.len()]))
            .collect();

        // The header: title, provenance, notes, legend.
        let mut header = Group::new().set("class", "header");
        let mut widest_header = 0_usize;
        let mut measure = |line: String| {
            widest_header = widest_header.max(line.chars().count());
            line
        };
        let mut y = MARGIN + 14.0;
        let title = match self.sources.as_slice() {
            [one] => format!("{} — what each process did, in time order", one.label),
            [] => "trace".to_string(),
            many => format!(
                "{} — merged traces",
                many.iter()
                    .map(|s| s.label.as_str())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
        };
        let title_line = clean(&title, 120);
        // The title's font is half as wide again as the notes'.
        let title_width = title_line.chars().count() * 3 / 2;
        header = header.add(text("title", MARGIN, y, title_line));
        for source in &self.sources {
            y += 16.0;
            header = header.add(text(
                "note",
                MARGIN,
                y,
                measure(clean(
                    &format!(
                        "{}: recorded on {} from {}{}",
                        source.label,
                        if source.host.is_empty() {
                            "?"
                        } else {
                            &source.host
                        },
                        format_wall(source.start_wall_ns),
                        if self.sources.len() > 1 {
                            format!(", drawn +{} from the top", format_ns(source.offset_ns))
                        } else {
                            String::new()
                        }
                    ),
                    160,
                )),
            ));
        }
        y += 16.0;
        let span = self.events.last().map_or(0, |e| e.t_ns);
        header = header.add(text(
            "note",
            MARGIN,
            y,
            measure(format!(
                "{} events of {} processes over {}.",
                self.events.len(),
                processes.len(),
                format_ns(span)
            )),
        ));
        y += 16.0;
        header = header.add(text(
            "note",
            MARGIN,
            y,
            measure(
                "One row per event, in time order. Rows are not to scale: the left column gives each row's time since the start."
                    .to_string(),
            ),
        ));
        for note in self.notes() {
            for part in wrap(&clean(&note, 600), 140) {
                y += 16.0;
                header = header.add(text("warn", MARGIN, y, measure(part)));
            }
        }
        y += 22.0;
        let (key, key_rows) = legend(MARGIN, y);
        header = header.add(key);
        let top = y + 24.0 + (key_rows - 1) as f64 * LEGEND_ROW;
        let rows_top = top + LANE_HEAD + 8.0;
        let rows = Rows::new(self.events.len(), rows_top);

        // The lanes: header box and lifeline.
        let mut lanes = Group::new().set("class", "lanes");
        // Each process's first and last event, and where its lane ends: its
        // last event, or its parent's join when it never exited by itself
        // (a killed process).
        let spans_of = |key: (usize, i32)| {
            let mut first = None;
            let mut last = 0;
            let mut exited = false;
            let mut joined = None;
            for (i, e) in self.events.iter().enumerate() {
                if e.process_key() == key {
                    first.get_or_insert(i);
                    last = i;
                    exited |= matches!(e.kind, Kind::Exit { .. });
                }
                if let Kind::Join { child, .. } = e.kind
                    && (e.source, child) == key
                {
                    joined = Some(i);
                }
            }
            let end = joined.filter(|&j| !exited && j > last).unwrap_or(last);
            (first.unwrap_or(0), last, end)
        };
        for (lane, process) in processes.iter().enumerate() {
            let x = lane_x(lane);
            let (first, last, end) = spans_of((process.source, process.pid));
            let from = rows.y_clamped(first, true);
            let to = rows.y_clamped(last, false);
            let mut group = Group::new()
                .set("class", "lane")
                .set("data-pid", process.pid)
                .set("data-source", process.source)
                .set("data-name", clean(&process.name, 64));
            group = group
                .add(
                    rect(
                        x - LANE_WIDTH / 2.0 + 8.0,
                        top,
                        LANE_WIDTH - 16.0,
                        LANE_HEAD - 4.0,
                    )
                    .set("rx", 4)
                    .set("fill", "#f7f7f7")
                    .set("stroke", colour(lane))
                    .set("stroke-width", 1.5),
                )
                .add(text("lane-name", x, top + 15.0, clean(&process.name, 22)))
                .add(text(
                    "lane-pid",
                    x,
                    top + 29.0,
                    if self.sources.len() > 1 {
                        let label = self
                            .sources
                            .get(process.source)
                            .map_or("?", |s| s.label.as_str());
                        clean(&format!("pid {} @ {label}", process.pid), 28)
                    } else {
                        format!("pid {}", process.pid)
                    },
                ))
                .add(
                    line(x, top + LANE_HEAD - 4.0, x, from, colour(lane), 1.0)
                        .set("stroke-dasharray", "2,3")
                        .set("opacity", 0.5),
                )
                .add(line(x, from, x, to, colour(lane), 2.0));
            if end > last {
                // Killed: the lane goes on, dotted, until the parent reaps it.
                let y = rows.y_clamped(end, false);
                group = group
                    .add(line(x, to, x, y, colour(lane), 1.5).set("stroke-dasharray", "2,2"))
                    .add(line(x - 5.0, y - 5.0, x + 5.0, y + 5.0, "#b00", 2.0))
                    .add(line(x - 5.0, y + 5.0, x + 5.0, y - 5.0, "#b00", 2.0));
            }
            lanes = lanes.add(group);
        }

        // The time column, gaps, and the elided band.
        let mut times = Group::new().set("class", "times");
        let gap_threshold = (span / 10).max(1);
        for (i, event) in self.events.iter().enumerate() {
            let Some(y) = rows.y(i) else { continue };
            times = times.add(text(
                "time",
                MARGIN + TIME_COLUMN - 8.0,
                y + 3.5,
                format_ns(event.t_ns),
            ));
            if i > 0 && rows.y(i - 1).is_some() {
                let gap = event.t_ns - self.events[i - 1].t_ns;
                if gap >= gap_threshold && gap > 0 {
                    let gy = y - ROW / 2.0;
                    times = times
                        .add(
                            line(
                                MARGIN + TIME_COLUMN,
                                gy,
                                MARGIN + TIME_COLUMN + processes.len() as f64 * LANE_WIDTH,
                                gy,
                                "#bbb",
                                1.0,
                            )
                            .set("stroke-dasharray", "6,4"),
                        )
                        .add(text(
                            "gap",
                            MARGIN + TIME_COLUMN - 8.0,
                            gy + 3.0,
                            format!("+{}", format_ns(gap)),
                        ));
                }
            }
        }
        // The elided band, drawn over the lanes.
        let mut band = Group::new().set("class", "elided");
        if rows.elided() > 0 {
            let band_top = rows_top + rows.head as f64 * ROW;
            let from = self.events[rows.head].t_ns;
            let to = self.events[rows.tail - 1].t_ns;
            let message = format!(
                "… {} events elided, from {} to {} (the JSON trace has them all) …",
                rows.elided(),
                format_ns(from),
                format_ns(to)
            );
            let width = (TIME_COLUMN + processes.len() as f64 * LANE_WIDTH)
                .max(message.chars().count() as f64 * 6.6 + 16.0);
            band = band
                .add(
                    rect(MARGIN, band_top + 2.0, width, BAND_ROWS as f64 * ROW - 4.0)
                        .set("fill", "#eee")
                        .set("opacity", 0.92),
                )
                .add(text(
                    "elided",
                    MARGIN + 8.0,
                    band_top + BAND_ROWS as f64 * ROW / 2.0 + 4.0,
                    message,
                ));
        }

        // Spans: sleeps, lock waits and holds, per process.
        let mut span_groups: Vec<Group> = Vec::new();
        for (lane, process) in processes.iter().enumerate() {
            let key = (process.source, process.pid);
            let x = lane_x(lane);
            let (_, _, last) = spans_of(key);
            let mut sleep: Option<(usize, u64)> = None;
            let mut waits: BTreeMap<u64, usize> = BTreeMap::new();
            let mut holds: BTreeMap<u64, usize> = BTreeMap::new();
            let mut draw = |kind: &str,
                            start: usize,
                            end: usize,
                            lock: Option<u64>,
                            depth: usize,
                            open: bool,
                            label: String| {
                let y0 = rows.y_clamped(start, true);
                let y1 = rows.y_clamped(end, false);
                let inset = depth as f64 * 3.0;
                let mut shape = match kind {
                    "hold" => rect(x - 7.0 + inset, y0, 14.0 - 2.0 * inset, y1 - y0)
                        .set(
                            "fill",
                            lock.and_then(|l| lock_colours.get(&(process.source, l)))
                                .copied()
                                .unwrap_or("#f2b134"),
                        )
                        .set("fill-opacity", 0.55)
                        .set("stroke", "#555")
                        .set("stroke-width", 0.8),
                    "wait" => rect(x - 5.0, y0, 10.0, y1 - y0)
                        .set("fill", "none")
                        .set(
                            "stroke",
                            lock.and_then(|l| lock_colours.get(&(process.source, l)))
                                .copied()
                                .unwrap_or("#f2b134"),
                        )
                        .set("stroke-width", 1.5)
                        .set("stroke-dasharray", "3,2"),
                    _ => rect(x - 9.0, y0, 18.0, y1 - y0)
                        .set("fill", "#d9d9d9")
                        .set("fill-opacity", 0.7)
                        .set("stroke", "#999")
                        .set("stroke-dasharray", "1,2"),
                };
                shape = shape.set("class", kind.to_string());
                let mut g = Group::new().set("class", format!("span {kind}")).add(shape);
                let label = if open {
                    format!("{label}, never released")
                } else {
                    label
                };
                if rows.y(start).is_some() {
                    let dx = if kind == "sleep" { -12.0 } else { 11.0 };
                    let t = text("small", x + dx, y0 + 3.5, label);
                    g = g.add(if kind == "sleep" {
                        t.set("text-anchor", "end")
                    } else {
                        t
                    });
                }
                span_groups.push(g);
            };
            for (i, event) in self.events.iter().enumerate() {
                if event.process_key() != key {
                    continue;
                }
                match event.kind {
                    Kind::SleepBegin { requested_ns } => sleep = Some((i, requested_ns)),
                    Kind::SleepEnd => {
                        if let Some((start, requested)) = sleep.take() {
                            draw(
                                "sleep",
                                start,
                                i,
                                None,
                                0,
                                false,
                                format!("sleep {}", format_ns(requested)),
                            );
                        }
                    }
                    Kind::LockWait { lock } => {
                        waits.insert(lock, i);
                    }
                    Kind::LockAcquire { lock } => {
                        let label = self.object_label(event.source, lock);
                        if let Some(start) = waits.remove(&lock) {
                            draw(
                                "wait",
                                start,
                                i,
                                Some(lock),
                                0,
                                false,
                                format!("waits for {label}"),
                            );
                        }
                        holds.insert(lock, i);
                    }
                    Kind::LockRelease { lock } => {
                        if let Some(start) = holds.remove(&lock) {
                            let depth = holds.values().filter(|&&s| s < start).count();
                            let label = self.object_label(event.source, lock);
                            draw(
                                "hold",
                                start,
                                i,
                                Some(lock),
                                depth,
                                false,
                                format!("holds {label}"),
                            );
                        }
                    }
                    _ => {}
                }
            }
            if let Some((start, requested)) = sleep {
                draw(
                    "sleep",
                    start,
                    last,
                    None,
                    0,
                    false,
                    format!("sleep {}", format_ns(requested)),
                );
            }
            for (lock, start) in holds {
                let label = self.object_label(process.source, lock);
                draw(
                    "hold",
                    start,
                    last,
                    Some(lock),
                    0,
                    true,
                    format!("holds {label}"),
                );
            }
        }

        let spans = span_groups
            .into_iter()
            .fold(Group::new().set("class", "spans"), Group::add);

        // Messages: an arrow from each send to its receive.
        let mut messages = Group::new().set("class", "messages");
        let mut paired = std::collections::BTreeSet::new();
        let mut hidden = 0;
        for (s, r) in self.message_pairs() {
            paired.insert(s);
            paired.insert(r);
            let (send, recv) = (&self.events[s], &self.events[r]);
            let (Some(y0), Some(y1)) = (rows.y(s), rows.y(r)) else {
                hidden += 1;
                continue;
            };
            let (Some(&from), Some(&to)) = (
                lane_of.get(&send.process_key()),
                lane_of.get(&recv.process_key()),
            ) else {
                continue;
            };
            let (x0, x1) = (lane_x(from), lane_x(to));
            let label = clean(&send.text, LABEL_CHARS);
            let shape = if from == to {
                Path::new()
                    .set(
                        "d",
                        format!(
                            "M {} {} C {} {} {} {} {} {}",
                            round(x0),
                            round(y0),
                            round(x0 + 60.0),
                            round(y0),
                            round(x0 + 60.0),
                            round(y1),
                            round(x0 + 4.0),
                            round(y1)
                        ),
                    )
                    .set("fill", "none")
            } else {
                let dir = if x1 > x0 { -1.0 } else { 1.0 };
                Path::new().set(
                    "d",
                    format!(
                        "M {} {} L {} {}",
                        round(x0),
                        round(y0),
                        round(x1 + dir * 4.0),
                        round(y1)
                    ),
                )
            };
            let mid_x = if from == to {
                x0 + 48.0
            } else {
                x0 + (x1 - x0) * 0.5
            };
            let mid_y = y0 + (y1 - y0) * 0.5;
            let mut group = Group::new()
                .set("class", "message")
                .add(Title::new(clean(&format!("{send}\n→ {recv}"), 400)))
                .add(
                    shape
                        .set("stroke", colour(from))
                        .set("stroke-width", 1.4)
                        .set(
                            "marker-end",
                            format!("url(#arrow{})", from % LANE_COLOURS.len()),
                        ),
                );
            if !label.is_empty() {
                group = group.add(
                    text("msg", mid_x, mid_y - 3.0, label)
                        .set("text-anchor", "middle")
                        .set("fill", colour(from)),
                );
            }
            messages = messages.add(group);
        }

        // Point events: spawns, exits, joins, sends, receives, signals,
        // prints and marks.
        let mut points = Group::new().set("class", "events");
        let mut output = Group::new().set("class", "output");
        let output_x = MARGIN + TIME_COLUMN + processes.len() as f64 * LANE_WIDTH + 16.0;
        let mut widest_output = 0_usize;
        for (i, event) in self.events.iter().enumerate() {
            let Some(y) = rows.y(i) else { continue };
            let Some(&lane) = lane_of.get(&event.process_key()) else {
                continue;
            };
            let x = lane_x(lane);
            let c = colour(lane);
            let mut g = Group::new()
                .set("class", format!("event {}", event.kind.label()))
                .add(Title::new(clean(&event.to_string(), 400)));
            match event.kind {
                Kind::Spawn { parent } => {
                    g = g.add(
                        Circle::new()
                            .set("cx", round(x))
                            .set("cy", round(y))
                            .set("r", 5)
                            .set("fill", c),
                    );
                    if let Some(&parent_lane) = lane_of.get(&(event.source, parent)) {
                        let px = lane_x(parent_lane);
                        let dir = if x > px { -1.0 } else { 1.0 };
                        g = g
                            .add(
                                line(px, y, x + dir * 6.0, y, "#777", 1.0)
                                    .set("stroke-dasharray", "4,3")
                                    .set("marker-end", "url(#fork)"),
                            )
                            .add(
                                text("small", (px + x) / 2.0, y - 3.0, "fork")
                                    .set("text-anchor", "middle"),
                            );
                    } else {
                        g = g.add(text("small", x + 9.0, y + 3.5, "start"));
                    }
                }
                Kind::Exit { status } => {
                    g = g.add(line(x - 9.0, y, x + 9.0, y, c, 3.0)).add(text(
                        "small",
                        x + 12.0,
                        y + 3.5,
                        format!("exit {status}"),
                    ));
                }
                Kind::Join { child, status } => {
                    let how = if status < 0 {
                        format!("killed by {}", signal_name(-status))
                    } else {
                        format!("exit {status}")
                    };
                    g = g
                        .add(
                            rect(x - 4.0, y - 4.0, 8.0, 8.0)
                                .set("fill", "#fff")
                                .set("stroke", c),
                        )
                        .add(text(
                            "small",
                            x + 9.0,
                            y + 3.5,
                            clean(&format!("joined {} (pid {child}): {how}", event.text), 60),
                        ));
                }
                Kind::Send { channel, .. } | Kind::Recv { channel, .. } => {
                    let sending = matches!(event.kind, Kind::Send { .. });
                    g = g.add(
                        Circle::new()
                            .set("cx", round(x))
                            .set("cy", round(y))
                            .set("r", 3.5)
                            .set("fill", if sending { c } else { "#fff" })
                            .set("stroke", c)
                            .set("stroke-width", 1.5),
                    );
                    if !paired.contains(&i) {
                        let what = if sending {
                            "sent, never received"
                        } else {
                            "received, sender unknown"
                        };
                        g = g.add(text(
                            "small",
                            x + 8.0,
                            y + 3.5,
                            clean(
                                &format!(
                                    "{} on {}: {what}",
                                    clean(&event.text, LABEL_CHARS),
                                    self.object_label(event.source, channel)
                                ),
                                70,
                            ),
                        ));
                    }
                }
                Kind::Signal { signal } => {
                    g = g
                        .add(triangle(x, 5.0, y - 5.0, y + 5.0).set("fill", "#b00"))
                        .add(text(
                            "signal",
                            x + 8.0,
                            y + 3.5,
                            format!("{} received", signal_name(signal)),
                        ));
                }
                Kind::Print => {
                    let shown = clean(&event.text, OUTPUT_CHARS);
                    widest_output = widest_output
                        .max(shown.chars().count() + event.process.chars().count().min(12) + 3);
                    g = g
                        .add(rect(x - 3.0, y - 3.0, 6.0, 6.0).set("fill", "#222"))
                        .add(
                            line(x + 4.0, y, output_x - 4.0, y, "#ccc", 0.7)
                                .set("stroke-dasharray", "1,3"),
                        );
                    output = output.add(
                        text(
                            "output",
                            output_x,
                            y + 4.0,
                            format!("{}│ {shown}", clean(&event.process, 12)),
                        )
                        .set("fill", c),
                    );
                }
                Kind::Mark => {
                    g = g
                        .add(
                            Polygon::new()
                                .set(
                                    "points",
                                    format!(
                                        "{},{} {},{} {},{} {},{}",
                                        round(x),
                                        round(y - 4.0),
                                        round(x + 4.0),
                                        round(y),
                                        round(x),
                                        round(y + 4.0),
                                        round(x - 4.0),
                                        round(y)
                                    ),
                                )
                                .set("fill", c),
                        )
                        .add(text("mark", x + 8.0, y + 3.5, clean(&event.text, 40)));
                }
                Kind::Read { object, .. } | Kind::Write { object, .. } => {
                    let (writing, index) = match event.kind {
                        Kind::Write { index, .. } => (true, Some(index)),
                        Kind::Read { index, .. } => (false, index),
                        _ => continue,
                    };
                    let label = element(&self.object_label(event.source, object), index);
                    let (verb, fill) = if writing {
                        ("writes", c)
                    } else {
                        ("reads", "#fff")
                    };
                    g = g
                        .add(
                            rect(x - 3.5, y - 3.5, 7.0, 7.0)
                                .set("fill", fill)
                                .set("stroke", c)
                                .set("stroke-width", 1.2),
                        )
                        .add(text(
                            "small",
                            x + 8.0,
                            y + 3.5,
                            clean(
                                &format!("{verb} {label} = {}", clean(&event.text, LABEL_CHARS)),
                                60,
                            ),
                        ));
                }
                Kind::SemWait { semaphore }
                | Kind::SemAcquire { semaphore }
                | Kind::SemRelease { semaphore } => {
                    let verb = match event.kind {
                        Kind::SemWait { .. } => "waits for",
                        Kind::SemAcquire { .. } => "acquires",
                        _ => "releases",
                    };
                    let (tip, base) = if matches!(event.kind, Kind::SemRelease { .. }) {
                        (y - 5.0, y + 4.0)
                    } else {
                        (y + 5.0, y - 4.0)
                    };
                    g = g
                        .add(
                            triangle(x, 4.5, base, tip)
                                .set(
                                    "fill",
                                    if matches!(event.kind, Kind::SemWait { .. }) {
                                        "#fff"
                                    } else {
                                        c
                                    },
                                )
                                .set("stroke", c),
                        )
                        .add(text(
                            "small",
                            x + 8.0,
                            y + 3.5,
                            clean(
                                &format!("{verb} {}", self.object_label(event.source, semaphore)),
                                60,
                            ),
                        ));
                }
                Kind::LockWait { .. }
                | Kind::LockAcquire { .. }
                | Kind::LockRelease { .. }
                | Kind::SleepBegin { .. }
                | Kind::SleepEnd => {
                    g = g.add(
                        Circle::new()
                            .set("cx", round(x))
                            .set("cy", round(y))
                            .set("r", 1.5)
                            .set("fill", "#333"),
                    );
                }
            }
            points = points.add(g);
        }
        if hidden > 0 {
            output = output.add(text(
                "note",
                output_x,
                rows.bottom() + 14.0,
                format!("{hidden} message arrows hidden in the elided band"),
            ));
        }
        if widest_output > 0 {
            output = output.add(text("note", output_x, top + 24.0, "printed output"));
        }

        let width = output_x + (widest_output.max(20) as f64) * CHAR_WIDTH + MARGIN;
        let width = width
            .max(760.0)
            .max(MARGIN * 2.0 + widest_header.max(title_width) as f64 * 6.0);
        let height = rows.bottom() + 30.0;
        let mut defs = Definitions::new().add(
            Marker::new()
                .set("id", "fork")
                .set("viewBox", "0 0 10 10")
                .set("refX", 9)
                .set("refY", 5)
                .set("markerWidth", 6)
                .set("markerHeight", 6)
                .set("orient", "auto")
                .add(
                    Path::new()
                        .set("d", "M 0 0 L 10 5 L 0 10 z")
                        .set("fill", "#777"),
                ),
        );
        for (i, c) in LANE_COLOURS.iter().enumerate() {
            defs = defs.add(
                Marker::new()
                    .set("id", format!("arrow{i}"))
                    .set("viewBox", "0 0 10 10")
                    .set("refX", 9)
                    .set("refY", 5)
                    .set("markerWidth", 7)
                    .set("markerHeight", 7)
                    .set("orient", "auto")
                    .add(
                        Path::new()
                            .set("d", "M 0 0 L 10 5 L 0 10 z")
                            .set("fill", *c),
                    ),
            );
        }
        let document = Document::new()
            .set("width", round(width))
            .set("height", round(height))
            .set("viewBox", (0, 0, round(width), round(height)))
            .add(Title::new(clean(&title, 200)))
            .add(Style::new(CSS))
            .add(defs)
            .add(rect(0.0, 0.0, width, height).set("fill", "#fff"))
            .add(header)
            .add(times)
            .add(lanes)
            .add(spans)
            .add(messages)
            .add(points)
            .add(band)
            .add(output);
        document.to_string()
    }
}

/// Draws a symbol of the legend at (x, y).
type Glyph = fn(f64, f64) -> Group;

/// How far apart the rows of the legend are.
const LEGEND_ROW: f64 = 18.0;

/// The key to the symbols, in rows no wider than the narrowest picture;
/// with the number of rows it took.
fn legend(x: f64, y: f64) -> (Group, usize) {
    let shapes: [(&str, Glyph); 8] = [
        ("message (send → receive)", |at, y| {
            Group::new().add(
                line(at, y, at + 20.0, y, LANE_COLOURS[0], 1.4).set("marker-end", "url(#arrow0)"),
            )
        }),
        ("lock held", |at, y| {
            Group::new().add(
                rect(at + 3.0, y - 6.0, 14.0, 12.0)
                    .set("fill", LOCK_COLOURS[0])
                    .set("fill-opacity", 0.55)
                    .set("stroke", "#555")
                    .set("stroke-width", 0.8),
            )
        }),
        ("waiting for a lock", |at, y| {
            Group::new().add(
                rect(at + 5.0, y - 6.0, 10.0, 12.0)
                    .set("fill", "none")
                    .set("stroke", LOCK_COLOURS[0])
                    .set("stroke-width", 1.5)
                    .set("stroke-dasharray", "3,2"),
            )
        }),
        ("sleeping", |at, y| {
            Group::new().add(
                rect(at + 1.0, y - 6.0, 18.0, 12.0)
                    .set("fill", "#d9d9d9")
                    .set("stroke", "#999")
                    .set("stroke-dasharray", "1,2"),
            )
        }),
        ("printed a line (right column)", |at, y| {
            Group::new().add(rect(at + 7.0, y - 3.0, 6.0, 6.0).set("fill", "#222"))
        }),
        ("write / read of shared data", |at, y| {
            Group::new()
                .add(
                    rect(at + 2.0, y - 3.5, 7.0, 7.0)
                        .set("fill", LANE_COLOURS[0])
                        .set("stroke", LANE_COLOURS[0]),
                )
                .add(
                    rect(at + 12.0, y - 3.5, 7.0, 7.0)
                        .set("fill", "#fff")
                        .set("stroke", LANE_COLOURS[0]),
                )
        }),
        ("semaphore acquire / release", |at, y| {
            let triangle = |points: String| {
                Polygon::new()
                    .set("points", points)
                    .set("fill", LANE_COLOURS[0])
                    .set("stroke", LANE_COLOURS[0])
            };
            let (a, b) = (at + 5.0, at + 15.0);
            Group::new()
                .add(triangle(format!(
                    "{},{} {},{} {},{}",
                    round(a - 4.5),
                    round(y - 4.0),
                    round(a + 4.5),
                    round(y - 4.0),
                    round(a),
                    round(y + 5.0)
                )))
                .add(triangle(format!(
                    "{},{} {},{} {},{}",
                    round(b - 4.5),
                    round(y + 4.0),
                    round(b + 4.5),
                    round(y + 4.0),
                    round(b),
                    round(y - 5.0)
                )))
        }),
        ("start / exit", |at, y| {
            Group::new()
                .add(
                    Circle::new()
                        .set("cx", round(at + 5.0))
                        .set("cy", round(y))
                        .set("r", 4)
                        .set("fill", "#555"),
                )
                .add(line(at + 12.0, y, at + 22.0, y, "#555", 3.0))
        }),
    ];
    let mut g = Group::new().set("class", "legend");
    let (mut at, mut y, mut rows) = (x, y, 1);
    for (label, shape) in shapes {
        let wide = 34.0 + label.chars().count() as f64 * 5.6;
        if at > x && at + wide > x + 740.0 {
            (at, y, rows) = (x, y + LEGEND_ROW, rows + 1);
        }
        g = g
            .add(shape(at, y))
            .add(text("small", at + 26.0, y + 4.0, label));
        at += wide;
    }
    (g, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, Source};

    fn event(t_ns: u64, pid: i32, kind: Kind, text: &str) -> Event {
        Event::of(t_ns, pid, kind, text)
    }

    #[test]
    fn text_is_escaped_and_control_characters_replaced() {
        let trace = Trace {
            events: vec![
                event(0, 1, Kind::Spawn { parent: 0 }, ""),
                event(1, 1, Kind::Print, "a < b && c > \"d\" \u{1}"),
            ],
            ..Trace::default()
        };
        let svg = trace.to_svg();
        assert!(svg.contains("a &lt; b &amp;&amp; c &gt;"), "{svg}");
        assert!(!svg.contains('\u{1}'));
    }

    #[test]
    fn long_runs_are_elided_in_the_middle_and_say_so() {
        let mut events = vec![event(0, 1, Kind::Spawn { parent: 0 }, "")];
        events.extend((1..=2000).map(|t| event(t, 1, Kind::Mark, "tick")));
        let trace = Trace {
            sources: vec![Source {
                label: "long".into(),
                capacity: 2001,
                ..Source::default()
            }],
            events,
            ..Trace::default()
        };
        let svg = trace.to_svg();
        assert!(
            svg.contains(&format!("… {} events elided", 2001 - MAX_ROWS)),
            "elided band missing"
        );
        assert_eq!(svg.matches(r#"class="event mark""#).count(), MAX_ROWS - 1);
    }
}
