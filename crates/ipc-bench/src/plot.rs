//! `--plot FILE`: an SVG of the run. The first row of panels: the median
//! round trip and the throughput by message size, one line per mechanism;
//! with `--scaling`, one panel per family below them: its rate by number
//! of processes. Every axis is logarithmic, and every point carries a bar
//! from the lowest to the highest of its repeats (`--repeat`), so that the
//! noise shows beside the median. Written by hand: a few panels of lines do
//! not need a plotting library.

use std::fmt::Write as _;

use crate::model::{Group, Measure, Mech, Section};
use crate::report::{Report, bytes_rate, si, sig3, size, time};

const WIDTH: f64 = 1200.0;
const TOP: f64 = 70.0;

/// Solid for ipc-core, dashed for the raw floors, dash-dotted for the
/// peers, long dashes for NATS, dotted for Python.
fn dash(group: Group) -> &'static str {
    match group {
        Group::Core => "",
        Group::Raw => " stroke-dasharray=\"7 4\"",
        Group::Peer => " stroke-dasharray=\"9 3 2 3\"",
        Group::Net => " stroke-dasharray=\"14 4\"",
        Group::Python => " stroke-dasharray=\"2 3\"",
    }
}

fn colour(mech: Mech) -> &'static str {
    mech.info().colour
}

/// A power of ten reads better without its zeros: `10 µs`, not `10.0 µs`.
fn decade(label: &str) -> String {
    label.replace(".00 ", " ").replace(".0 ", " ")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A point: the parameter (size or processes), the median, and the lowest
/// and highest of the repeats.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    x: usize,
    y: f64,
    lo: f64,
    hi: f64,
}

/// A line: the mechanism and its points.
type Series = (Mech, Vec<Point>);

/// The figure a point shows: the median round trip, the bytes per second
/// of a stream, or a rate.
fn value(section: Section, measure: &Measure) -> Option<f64> {
    match (section, measure) {
        (Section::RoundTrip, m) => Some(m.primary()),
        (Section::Throughput, Measure::Rate { bytes_per_s, .. }) => *bytes_per_s,
        (_, Measure::Rate { per_s, .. }) => Some(*per_s),
        _ => None,
    }
}

/// The lines of `section`, for the mechanisms `wanted` lets through.
fn series(report: &Report, section: Section, wanted: impl Fn(Mech) -> bool) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for mech in Mech::ALL.into_iter().filter(|&m| wanted(m)) {
        let points: Vec<Point> = report
            .figures
            .map
            .iter()
            .filter(|(k, _)| k.section == section && k.mech == mech)
            .filter_map(|(k, m)| {
                let y = value(section, m)?;
                // The spread is over the primary figure; a stream's bytes
                // per second move with its messages per second.
                let scale = y / m.primary();
                let spread = report.figures.spread(k)?;
                let (lo, hi) = (spread.min * scale, spread.max * scale);
                (y > 0.0 && y.is_finite() && lo > 0.0 && hi.is_finite()).then_some(Point {
                    x: k.param,
                    y,
                    lo,
                    hi,
                })
            })
            .collect();
        if !points.is_empty() {
            out.push((mech, points));
        }
    }
    out
}

/// Decades that cover `lo..=hi`.
fn decades(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.log10().floor();
    let hi = hi.log10().ceil().max(lo + 1.0);
    (lo, hi)
}

/// Where a panel goes and what it shows.
struct Panel<'a> {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    title: &'a str,
    x_label: &'a str,
    /// How a value on the y axis reads.
    label: fn(f64) -> String,
    /// How a point's parameter reads.
    tick: fn(usize) -> String,
}

/// A light grid line from `from` to `to`.
fn grid_line(out: &mut String, from: (f64, f64), to: (f64, f64)) {
    let _ = writeln!(
        out,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e4e4e4\"/>",
        from.0, from.1, to.0, to.1
    );
}

/// `text`, escaped, at `at`, anchored `anchor` (`start`, `middle`,
/// `end`), with `extra` attributes (each with its leading space).
fn label(out: &mut String, at: (f64, f64), anchor: &str, extra: &str, text: &str) {
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\"{extra}>{}</text>",
        at.0,
        at.1,
        escape(text)
    );
}

/// Draws one panel: its frame, decades, ticks, and each line with its
/// points and their min–max bars.
fn panel(out: &mut String, p: &Panel<'_>, lines: &[Series]) {
    let ys: Vec<f64> = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().flat_map(|q| [q.lo, q.hi, q.y]))
        .collect();
    let xs: Vec<usize> = {
        let mut xs: Vec<usize> = lines
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|q| q.x))
            .collect();
        xs.sort_unstable();
        xs.dedup();
        xs
    };
    let (y_lo, y_hi) = if ys.is_empty() {
        (0.0, 1.0)
    } else {
        decades(
            ys.iter().copied().fold(f64::INFINITY, f64::min),
            ys.iter().copied().fold(0.0, f64::max),
        )
    };
    let (x_lo, x_hi) = match (xs.first(), xs.last()) {
        (Some(&a), Some(&b)) => {
            let a = (a.max(1) as f64).log2();
            (a, (b.max(1) as f64).log2().max(a + 1.0))
        }
        _ => (0.0, 1.0),
    };
    let x = |s: usize| p.left + ((s.max(1) as f64).log2() - x_lo) / (x_hi - x_lo) * p.width;
    let y = |v: f64| p.top + p.height - (v.log10() - y_lo) / (y_hi - y_lo) * p.height;
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\">{}</text>",
        p.left + p.width / 2.0,
        p.top - 10.0,
        escape(p.title)
    );
    let _ = writeln!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        p.left, p.top, p.width, p.height
    );
    let mut d = y_lo;
    while d <= y_hi + 0.01 {
        let yy = y(10f64.powf(d));
        grid_line(out, (p.left, yy), (p.left + p.width, yy));
        let text = decade(&(p.label)(10f64.powf(d)));
        label(out, (p.left - 6.0, yy + 4.0), "end", "", &text);
        d += 1.0;
    }
    for &s in &xs {
        let xx = x(s);
        grid_line(out, (xx, p.top), (xx, p.top + p.height));
        let below = (xx, p.top + p.height + 18.0);
        label(out, below, "middle", "", &(p.tick)(s));
    }
    let under = (p.left + p.width / 2.0, p.top + p.height + 36.0);
    label(out, under, "middle", " fill=\"#444\"", p.x_label);
    for (mech, points) in lines {
        let path: Vec<String> = points
            .iter()
            .map(|q| format!("{:.1},{:.1}", x(q.x), y(q.y)))
            .collect();
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"><title>{}</title></polyline>",
            colour(*mech),
            dash(mech.group()),
            path.join(" "),
            escape(mech.label())
        );
        for q in points {
            let (xx, yy) = (x(q.x), y(q.y));
            if q.hi > q.lo {
                // The spread over the repeats: a bar from the lowest to
                // the highest, with short caps.
                let (top, bottom) = (y(q.hi), y(q.lo));
                let _ = writeln!(
                    out,
                    "<path class=\"spread\" d=\"M{xx:.1},{top:.1}V{bottom:.1}M{:.1},{top:.1}h6M{:.1},{bottom:.1}h6\" stroke=\"{}\" stroke-width=\"1\" fill=\"none\" opacity=\"0.7\"/>",
                    xx - 3.0,
                    xx - 3.0,
                    colour(*mech)
                );
            }
            let _ = writeln!(
                out,
                "<circle cx=\"{xx:.1}\" cy=\"{yy:.1}\" r=\"3\" fill=\"{}\"><title>{} {}: {} ({} to {})</title></circle>",
                colour(*mech),
                escape(mech.label()),
                escape(&(p.tick)(q.x)),
                escape(&(p.label)(q.y)),
                escape(&(p.label)(q.lo)),
                escape(&(p.label)(q.hi)),
            );
        }
    }
}

/// A panel by message size: its title, how a value reads, its lines.
type Stream = (&'static str, fn(f64) -> String, Vec<Series>);

/// A rate per second with an SI prefix: `12.3 M/s`.
fn per_second(v: f64) -> String {
    let (value, unit) = si(v);
    format!("{} {unit}/s", sig3(value))
}

/// The scaling curves, a panel each: its title, the ipc-core mechanism,
/// and the floors and references drawn beside it.
const CURVES: [(&str, &[Mech]); 5] = [
    (
        "Queue, 8 B msgs/s (N/2 producers, N/2 consumers)",
        &[Mech::Queue, Mech::RawShmSpin],
    ),
    ("Value + lock, increments/s", &[Mech::Value, Mech::RawMutex]),
    (
        "Barrier, rounds/s",
        &[Mech::Barrier, Mech::RawBarrierSpin, Mech::RawBarrier],
    ),
    ("Event ring, hand-overs/s", &[Mech::Event, Mech::RawFlag]),
    (
        "Semaphore(1), pairs/s",
        &[Mech::Semaphore, Mech::RawSemSpin, Mech::RawSem],
    ),
];

pub(crate) fn svg(report: &Report) -> String {
    let streams: [Stream; 2] = [
        (
            "Round trip, median (lower is better)",
            time,
            series(report, Section::RoundTrip, |_| true),
        ),
        (
            "Throughput, bytes per second (higher is better)",
            bytes_rate,
            series(report, Section::Throughput, |_| true),
        ),
    ];
    let scaling: Vec<(&str, Vec<Series>)> = CURVES
        .iter()
        .map(|(title, mechs)| {
            (
                *title,
                series(report, Section::Scaling, |m| mechs.contains(&m)),
            )
        })
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    let mut mechs: Vec<Mech> = streams
        .iter()
        .flat_map(|s| s.2.iter().map(|l| l.0))
        .chain(scaling.iter().flat_map(|s| s.1.iter().map(|l| l.0)))
        .collect();
    mechs.sort();
    mechs.dedup();

    // Layout: the two stream panels, then the scaling panels three to a
    // row, then the legend.
    let (stream_h, scaling_w, scaling_h) = (340.0, 300.0, 220.0);
    let mut y = TOP + stream_h + 70.0;
    let scaling_top = y + 20.0;
    let scaling_rows = scaling.len().div_ceil(3);
    if scaling_rows > 0 {
        y = scaling_top + 40.0 + scaling_rows as f64 * (scaling_h + 80.0);
    }
    let legend_top = y;
    let legend_rows = mechs.len().div_ceil(4);
    let height = legend_top + legend_rows as f64 * 22.0 + 20.0;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let m = &report.machine;
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">ipc-bench: {} CPUs, {}, {}</text>",
        WIDTH / 2.0,
        m.cores,
        escape(&m.cpu_model),
        escape(&report.placement.to_string())
    );
    let runs = report.settings.repeat;
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"44\" text-anchor=\"middle\" fill=\"#444\">solid: ipc-core; dashed: raw floor; dash-dot: peer crates; long dashes: NATS; dotted: Python. Logarithmic axes. {}</text>",
        WIDTH / 2.0,
        escape(&if runs > 1 {
            format!("Points: the median of {runs} runs; bars: their lowest to highest.")
        } else {
            "One run: no spread to show.".to_string()
        })
    );
    for (i, (title, label, lines)) in streams.iter().enumerate() {
        panel(
            &mut out,
            &Panel {
                left: [90.0, 680.0][i],
                top: TOP,
                width: 470.0,
                height: stream_h,
                title,
                x_label: "message size",
                label: *label,
                tick: size,
            },
            lines,
        );
    }
    if scaling_rows > 0 {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"15\" text-anchor=\"middle\">Scaling: each family's rate by all processes together (higher is better), on {} CPUs</text>",
            WIDTH / 2.0,
            scaling_top - 4.0,
            report.placement.workers.len().max(1)
        );
    }
    for (i, (title, lines)) in scaling.iter().enumerate() {
        panel(
            &mut out,
            &Panel {
                left: 90.0 + (i % 3) as f64 * (scaling_w + 95.0),
                top: scaling_top + 40.0 + (i / 3) as f64 * (scaling_h + 80.0),
                width: scaling_w,
                height: scaling_h,
                title,
                x_label: "processes",
                label: per_second,
                tick: |n| n.to_string(),
            },
            lines,
        );
    }

    // The legend, four to a row.
    for (i, mech) in mechs.iter().enumerate() {
        let lx = 90.0 + (i % 4) as f64 * 270.0;
        let ly = legend_top + (i / 4) as f64 * 22.0;
        let _ = writeln!(
            out,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2.5\"{}/>",
            lx + 36.0,
            colour(*mech),
            dash(mech.group())
        );
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            lx + 44.0,
            ly + 4.0,
            escape(&format!("{} ({})", mech.label(), mech.group().id()))
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Key;

    fn key(section: Section, mech: Mech, param: usize) -> Key {
        Key {
            section,
            mech,
            param,
        }
    }

    #[test]
    fn decades_cover_the_values() {
        assert_eq!(decades(150.0, 2e6), (2.0, 7.0));
        assert_eq!(decades(10.0, 10.0), (1.0, 2.0));
    }

    #[test]
    fn decades_drop_their_zeros() {
        assert_eq!(decade("1.00 µs"), "1 µs");
        assert_eq!(decade("10.0 GB/s"), "10 GB/s");
        assert_eq!(decade("100 ns"), "100 ns");
        assert_eq!(decade(&per_second(1e6)), "1 M/s");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & c>"), "a&lt;b &amp; c&gt;");
    }

    #[test]
    fn a_point_carries_the_spread_of_its_repeats() {
        let rate = |per_s: f64| Measure::Rate {
            per_s,
            bytes_per_s: Some(per_s * 8.0),
            count: 1,
        };
        let figures = crate::model::Figures::merge(vec![
            vec![(key(Section::Throughput, Mech::Queue, 8), rate(10.0))],
            vec![(key(Section::Throughput, Mech::Queue, 8), rate(20.0))],
            vec![(key(Section::Throughput, Mech::Queue, 8), rate(40.0))],
        ]);
        let report = Report::for_tests(figures);
        let lines = series(&report, Section::Throughput, |_| true);
        assert_eq!(
            lines,
            [(
                Mech::Queue,
                vec![Point {
                    x: 8,
                    y: 160.0,
                    lo: 80.0,
                    hi: 320.0
                }]
            )]
        );
        let svg = svg(&report);
        assert!(svg.contains("class=\"spread\""), "{svg}");
    }
}
