//! SVG plots drawn with plotters' SVG backend (no system fonts: text is emitted as SVG
//! `<text>` and laid out by plotters' built-in estimate).
//!
//! - `plots/<workload>.svg`: the median of every runtime as a bar, min-max as a whisker.
//! - `plots/summary.svg`: per workload, ringloop's median divided by the counterpart's
//!   (the inverse where higher is better, so below 1 always means ringloop is ahead).

use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{format, ReportMeta};
use crate::runner::{Outcome, WorkloadResult};
use crate::runtimes::RuntimeKind;

const SIZE: (u32, u32) = (760, 420);
const FONT: &str = "sans-serif";

/// The summary's bar groups: (legend, numerator, denominator, colour).
const SUMMARY: [(&str, RuntimeKind, RuntimeKind, RGBColor); 3] = [
    (
        "ringloop-multi / tokio-multi",
        RuntimeKind::RingloopMulti,
        RuntimeKind::TokioMulti,
        RGBColor(31, 90, 180),
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
];

/// Writes every plot into `dir`; returns the paths written.
pub(super) fn write_plots(
    results: &[WorkloadResult],
    meta: &ReportMeta,
    dir: &Path,
) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for r in results {
        let path = dir.join(format!("{}.svg", r.name));
        {
            let root = SVGBackend::new(&path, SIZE).into_drawing_area();
            workload_plot(&root, r, meta).map_err(io::Error::other)?;
        }
        written.push(path);
    }
    let path = dir.join("summary.svg");
    {
        let root = SVGBackend::new(&path, (SIZE.0 + 200, SIZE.1)).into_drawing_area();
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
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type PlotResult = Result<(), String>;

fn workload_plot(root: &Area<'_>, r: &WorkloadResult, meta: &ReportMeta) -> PlotResult {
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
        "median of {} repetitions, whisker = min-max; multi-threaded runtimes: {} workers",
        r.repetitions, meta.workers
    );
    root.draw(&Text::new(note, (80, SIZE.1 as i32 - 16), (FONT, 12)))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// `a`'s median over `b`'s where lower is better, `b`'s over `a`'s where higher is better, so
/// that below 1 always means `a` is ahead.
fn ahead_ratio(r: &WorkloadResult, a: RuntimeKind, b: RuntimeKind) -> Option<f64> {
    if r.lower_is_better {
        r.ratio(a, b)
    } else {
        r.ratio(b, a)
    }
}

fn summary_plot(root: &Area<'_>, results: &[WorkloadResult]) -> PlotResult {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    // Each workload takes four slots: one per ratio and a gap.
    let slots = SUMMARY.len() + 1;
    let n = results.len() * slots;
    let top = results
        .iter()
        .flat_map(|r| {
            SUMMARY
                .iter()
                .filter_map(|(_, a, b, _)| ahead_ratio(r, *a, *b))
        })
        .fold(1.0_f64, f64::max)
        * 1.15;
    let names: Vec<&str> = results.iter().map(|r| r.name).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(
            "ringloop median / other runtime's median (below 1 = ringloop better; \
             inverted where higher is better)",
            (FONT, 18),
        )
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
        .map_err(|e| e.to_string())?;
    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) if i % slots == 1 => names
            .get(i / slots)
            .map_or_else(String::new, |s| (*s).to_owned()),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&label)
        .y_desc("ratio")
        .label_style((FONT, 11))
        .draw()
        .map_err(|e| e.to_string())?;
    for (j, (legend, a, b, colour)) in SUMMARY.iter().enumerate() {
        let bars = results.iter().enumerate().filter_map(|(w, r)| {
            let ratio = ahead_ratio(r, *a, *b)?;
            let slot = w * slots + j;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(slot), 0.0),
                    (SegmentValue::Exact(slot + 1), ratio),
                ],
                colour.filled(),
            );
            bar.set_margin(0, 0, 1, 1);
            Some(bar)
        });
        let colour = *colour;
        chart
            .draw_series(bars)
            .map_err(|e| e.to_string())?
            .label(*legend)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    let parity = PathElement::new(
        vec![(SegmentValue::Exact(0), 1.0), (SegmentValue::Last, 1.0)],
        BLACK.stroke_width(1),
    );
    chart.draw_series([parity]).map_err(|e| e.to_string())?;
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
