//! `--plot FILE`: an SVG of the median round trip and the throughput by
//! message size, one line per mechanism, both axes logarithmic. Written by
//! hand: two panels of lines do not need a plotting library.

use std::fmt::Write as _;

use crate::model::{Group, Mech, Section};
use crate::report::{Report, bytes_rate, size, time};

const WIDTH: f64 = 1200.0;
const PANEL_W: f64 = 470.0;
const PANEL_H: f64 = 340.0;
const TOP: f64 = 70.0;
const LEFTS: [f64; 2] = [90.0, 680.0];

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

/// A line: the mechanism and its points (size, value).
type Series = (Mech, Vec<(usize, f64)>);

fn series(report: &Report, section: Section) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for mech in Mech::ALL {
        let points: Vec<(usize, f64)> = report
            .figures
            .map
            .iter()
            .filter(|(k, _)| k.section == section && k.mech == mech)
            .filter_map(|(k, m)| {
                let v = match (section, m) {
                    (Section::RoundTrip, m) => m.primary(),
                    (_, crate::model::Measure::Rate { bytes_per_s, .. }) => (*bytes_per_s)?,
                    _ => return None,
                };
                (v > 0.0 && v.is_finite()).then_some((k.param, v))
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

pub(crate) fn svg(report: &Report) -> String {
    let panels = [
        (
            Section::RoundTrip,
            "Round trip, median (lower is better)",
            time as fn(f64) -> String,
        ),
        (
            Section::Throughput,
            "Throughput, bytes per second (higher is better)",
            bytes_rate as fn(f64) -> String,
        ),
    ];
    let all: Vec<Vec<Series>> = panels.iter().map(|p| series(report, p.0)).collect();
    let sizes: Vec<usize> = all
        .iter()
        .flatten()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
        .collect();
    let (min_size, max_size) = (
        sizes.iter().copied().min().unwrap_or(8).max(1),
        sizes.iter().copied().max().unwrap_or(1 << 20).max(2),
    );
    let (x_lo, x_hi) = (
        (min_size as f64).log2(),
        (max_size as f64).log2().max((min_size as f64).log2() + 1.0),
    );
    let mut mechs: Vec<Mech> = all.iter().flatten().map(|s| s.0).collect();
    mechs.sort();
    mechs.dedup();
    let legend_rows = mechs.len().div_ceil(4);
    let height = TOP + PANEL_H + 70.0 + legend_rows as f64 * 22.0 + 20.0;

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
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"44\" text-anchor=\"middle\" fill=\"#444\">solid: ipc-core; dashed: raw floor; dash-dot: peer crates; long dashes: NATS; dotted: Python multiprocessing. Both axes logarithmic.</text>",
        WIDTH / 2.0
    );

    for ((section, title, label), lines) in panels.iter().zip(&all) {
        let left = LEFTS[if *section == Section::RoundTrip { 0 } else { 1 }];
        let values: Vec<f64> = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|p| p.1))
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(0.0, f64::max);
        let (y_lo, y_hi) = if values.is_empty() {
            (0.0, 1.0)
        } else {
            decades(lo, hi)
        };
        let x = |s: usize| left + ((s as f64).log2() - x_lo) / (x_hi - x_lo) * PANEL_W;
        let y = |v: f64| TOP + PANEL_H - (v.log10() - y_lo) / (y_hi - y_lo) * PANEL_H;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\">{}</text>",
            left + PANEL_W / 2.0,
            TOP - 10.0,
            escape(title)
        );
        let _ = writeln!(
            out,
            "<rect x=\"{left}\" y=\"{TOP}\" width=\"{PANEL_W}\" height=\"{PANEL_H}\" fill=\"none\" stroke=\"#999\"/>"
        );
        // Decades on the y axis.
        let mut d = y_lo;
        while d <= y_hi + 0.01 {
            let yy = y(10f64.powf(d));
            let _ = writeln!(
                out,
                "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{}\" y2=\"{yy:.1}\" stroke=\"#e4e4e4\"/>",
                left + PANEL_W
            );
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                yy + 4.0,
                escape(&decade(&label(10f64.powf(d))))
            );
            d += 1.0;
        }
        // The measured sizes on the x axis.
        let mut ticks = sizes.clone();
        ticks.sort_unstable();
        ticks.dedup();
        for s in ticks {
            let xx = x(s);
            let _ = writeln!(
                out,
                "<line x1=\"{xx:.1}\" y1=\"{TOP}\" x2=\"{xx:.1}\" y2=\"{}\" stroke=\"#e4e4e4\"/>",
                TOP + PANEL_H
            );
            let _ = writeln!(
                out,
                "<text x=\"{xx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                TOP + PANEL_H + 18.0,
                size(s)
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444\">message size</text>",
            left + PANEL_W / 2.0,
            TOP + PANEL_H + 38.0
        );
        for (mech, points) in lines {
            let path: Vec<String> = points
                .iter()
                .map(|&(s, v)| format!("{:.1},{:.1}", x(s), y(v)))
                .collect();
            let _ = writeln!(
                out,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"><title>{}</title></polyline>",
                colour(*mech),
                dash(mech.group()),
                path.join(" "),
                escape(mech.label())
            );
            for &(s, v) in points {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"><title>{} {}: {}</title></circle>",
                    x(s),
                    y(v),
                    colour(*mech),
                    escape(mech.label()),
                    size(s),
                    escape(&label(v))
                );
            }
        }
    }

    // The legend, four to a row.
    let legend_top = TOP + PANEL_H + 66.0;
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
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & c>"), "a&lt;b &amp; c&gt;");
    }
}
