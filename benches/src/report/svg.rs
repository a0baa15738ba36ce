//! SVG plots drawn with plotters' SVG backend (no system fonts: text is emitted as SVG
//! `<text>` and laid out by plotters' built-in estimate).
//!
//! - `plots/<workload>.svg`: the median of every runtime as a bar, min-max as a whisker.
//! - `plots/summary.svg`: per workload, ringloop's median divided by the counterpart's
//!   (the inverse where higher is better, so below 1 always means ringloop is ahead), with
//!   its confidence interval; ties (an interval spanning 1) are drawn hollow.

use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::format;
use crate::runner::{Outcome, RatioInterval, WorkloadResult};
use crate::runtimes::RuntimeKind;

const SIZE: (u32, u32) = (760, 420);
const FONT: &str = "sans-serif";

/// The summary's comparisons: (legend, numerator, denominator, colour).
const SUMMARY: [(&str, RuntimeKind, RuntimeKind, RGBColor); 5] = [
    (
        "ringloop-multi / tokio-multi",
        RuntimeKind::RingloopMulti,
        RuntimeKind::TokioMulti,
        RGBColor(31, 90, 180),
    ),
    (
        "ringloop-multi / monoio-reuseport",
        RuntimeKind::RingloopMulti,
        RuntimeKind::MonoioReuseport,
        RGBColor(120, 60, 170),
    ),
    (
        "ringloop-single / tokio-current",
        RuntimeKind::RingloopSingle,
        RuntimeKind::TokioCurrent,
        RGBColor(110, 160, 230),
    ),
    (
        "ringloop-single / monoio",
        RuntimeKind::RingloopSingle,
        RuntimeKind::Monoio,
        RGBColor(60, 160, 90),
    ),
    (
        "ringloop-single / monoio-tuned",
        RuntimeKind::RingloopSingle,
        RuntimeKind::MonoioTuned,
        RGBColor(20, 110, 50),
    ),
];

/// Writes every plot into `dir`; returns the paths written.
pub(super) fn write_plots(results: &[WorkloadResult], dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for r in results {
        let path = dir.join(format!("{}.svg", r.name));
        {
            let root = SVGBackend::new(&path, SIZE).into_drawing_area();
            workload_plot(&root, r).map_err(io::Error::other)?;
        }
        written.push(path);
    }
    let path = dir.join("summary.svg");
    {
        let root = SVGBackend::new(&path, summary_size(results.len())).into_drawing_area();
        summary_plot(&root, results).map_err(io::Error::other)?;
    }
    written.push(path);
    Ok(written)
}

fn colour(kind: RuntimeKind) -> RGBColor {
    match kind {
        RuntimeKind::RingloopMulti => RGBColor(31, 90, 180),
        RuntimeKind::RingloopSingle => RGBColor(110, 160, 230),
        RuntimeKind::TokioMulti => RGBColor(210, 110, 30),
        RuntimeKind::TokioCurrent => RGBColor(240, 170, 100),
        RuntimeKind::Monoio => RGBColor(60, 160, 90),
        RuntimeKind::MonoioTuned => RGBColor(130, 200, 140),
        RuntimeKind::MonoioReuseport => RGBColor(0, 100, 60),
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type PlotResult = Result<(), String>;

fn workload_plot(root: &Area<'_>, r: &WorkloadResult) -> PlotResult {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = r.cells.len();
    let top = r
        .cells
        .iter()
        .filter_map(|c| c.stats().map(|s| s.max))
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.18 } else { 1.0 };
    let direction = if r.lower_is_better {
        "lower is better"
    } else {
        "higher is better"
    };
    let caption = format!("{} ({}, {direction})", r.name, r.unit.symbol());
    let names: Vec<String> = r
        .cells
        .iter()
        .map(|c| c.runtime.name().to_owned())
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 20))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
        .map_err(|e| e.to_string())?;
    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&label)
        .y_desc(r.unit.symbol())
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| e.to_string())?;

    for (i, cell) in r.cells.iter().enumerate() {
        let centre = SegmentValue::CenterOf(i);
        let Some(stats) = cell.stats() else {
            let text = match cell.outcome {
                Outcome::NotApplicable => "n/a",
                _ => "error",
            };
            chart
                .draw_series([Text::new(text, (centre, top * 0.03), (FONT, 14))])
                .map_err(|e| e.to_string())?;
            continue;
        };
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), stats.median),
            ],
            colour(cell.runtime).filled(),
        );
        bar.set_margin(0, 0, 14, 14);
        let whisker = PathElement::new(
            vec![(centre.clone(), stats.min), (centre.clone(), stats.max)],
            BLACK.stroke_width(2),
        );
        let value = Text::new(
            format::value(stats.median),
            (centre, stats.max + top * 0.04),
            (FONT, 13),
        );
        chart.draw_series([bar]).map_err(|e| e.to_string())?;
        chart.draw_series([whisker]).map_err(|e| e.to_string())?;
        chart.draw_series([value]).map_err(|e| e.to_string())?;
    }
    let note = format!(
        "median of {} repetitions, whisker = min-max; multi-threaded runtimes: {}",
        r.repetitions,
        r.placement.describe()
    );
    root.draw(&Text::new(note, (80, SIZE.1 as i32 - 16), (FONT, 12)))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// `a`'s median over `b`'s where lower is better, `b`'s over `a`'s where higher is better, so
/// that below 1 always means `a` is ahead; with its confidence interval.
fn ahead_ratio(r: &WorkloadResult, a: RuntimeKind, b: RuntimeKind) -> Option<RatioInterval> {
    let interval = r.ratio_interval(a, b)?;
    let interval = if r.lower_is_better {
        interval
    } else {
        interval.inverse()
    };
    [interval.ratio, interval.low, interval.high]
        .iter()
        .all(|v| v.is_finite() && *v > 0.0)
        .then_some(interval)
}

/// Height of one workload's row in the summary plot, in pixels: about 7 per comparison, and
/// a gap.
const SUMMARY_ROW: u32 = 40;

/// The summary plot's size for `workloads` rows.
fn summary_size(workloads: usize) -> (u32, u32) {
    (SIZE.0 + 200, 150 + SUMMARY_ROW * workloads.max(1) as u32)
}

/// One row per workload (its name on the left, where long names have room), and in it one
/// point per comparison with its confidence interval as a whisker, on a log scale centred
/// on 1; a hollow point is a tie (the interval spans 1).
fn summary_plot(root: &Area<'_>, results: &[WorkloadResult]) -> PlotResult {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    // Each workload takes a slot per comparison and a gap, from the top.
    let slots = SUMMARY.len() + 1;
    let n = results.len().max(1) * slots;
    let (mut low, mut high) = (1.0_f64, 1.0_f64);
    for r in results {
        for (_, a, b, _) in SUMMARY {
            if let Some(i) = ahead_ratio(r, a, b) {
                (low, high) = (low.min(i.low), high.max(i.high));
            }
        }
    }
    // Symmetric around 1 on the log scale, so that 2x ahead and 2x behind look alike.
    let reach = (high.max(1.0 / low) * 1.15).min(1e6);
    let names: Vec<&str> = results.iter().map(|r| r.name).collect();
    // Slot `s` counts from the top; the axis counts from the bottom.
    let y_of = |slot: usize| SegmentValue::CenterOf(n - 1 - slot);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "ringloop / other runtime, medians with 95% intervals (below 1 = ringloop \
             better; inverted where higher is better; hollow = tie)",
            (FONT, 16),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(190)
        .build_cartesian_2d((1.0 / reach..reach).log_scale(), (0..n).into_segmented())
        .map_err(|e| e.to_string())?;
    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) if (n - 1 - i) % slots == 1 => names
            .get((n - 1 - i) / slots)
            .map_or_else(String::new, |s| (*s).to_owned()),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&label)
        .x_desc("ratio (log scale)")
        .x_label_formatter(&|x| format::ratio(*x))
        .label_style((FONT, 12))
        .draw()
        .map_err(|e| e.to_string())?;
    let parity = PathElement::new(
        vec![(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Last)],
        BLACK.stroke_width(1),
    );
    chart.draw_series([parity]).map_err(|e| e.to_string())?;
    for (j, (legend, a, b, colour)) in SUMMARY.iter().enumerate() {
        let colour = *colour;
        let intervals: Vec<(usize, RatioInterval)> = results
            .iter()
            .enumerate()
            .filter_map(|(w, r)| Some((w * slots + j, ahead_ratio(r, *a, *b)?)))
            .collect();
        let whiskers = intervals.iter().map(|(slot, i)| {
            PathElement::new(
                vec![(i.low, y_of(*slot)), (i.high, y_of(*slot))],
                colour.stroke_width(2),
            )
        });
        chart.draw_series(whiskers).map_err(|e| e.to_string())?;
        let points = intervals.iter().map(|(slot, i)| {
            let style = if i.is_tie() {
                WHITE.filled()
            } else {
                colour.filled()
            };
            Circle::new((i.ratio, y_of(*slot)), 4, style)
        });
        chart
            .draw_series(points)
            .map_err(|e| e.to_string())?
            .label(*legend)
            .legend(move |(x, y)| Circle::new((x + 6, y), 4, colour.filled()));
        let rims = intervals
            .iter()
            .filter(|(_, i)| i.is_tie())
            .map(|(slot, i)| Circle::new((i.ratio, y_of(*slot)), 4, colour.stroke_width(2)));
        chart.draw_series(rims).map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 12))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
