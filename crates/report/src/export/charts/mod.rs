//! The report's charts, drawn with plotters into SVG text that the HTML
//! page embeds (no script, no fetch: the page opens offline).
//!
//! What a reader compares comes first: for each headline figure (server
//! CPU per request, requests per second, wire bytes per request, p99) one
//! dot per configuration with whiskers from its fastest to its slowest
//! trial, workload groups one under another. Latency (the HDR percentile
//! plot, its CDF) and the timelines are small multiples, one per workload
//! group, rather than two dozen lines in one plot.
//!
//! Each stack has one colour in every chart (a colour-blind-safe palette:
//! Okabe and Ito's, without its yellow, then Paul Tol's muted); a
//! repeated trial is a lighter shade of its stack's colour, so no colour
//! is used twice in one chart ([`palette`]). The legend is HTML under the
//! chart, so it never covers the plot; points say their value on hover
//! ([`svg`]). Axis text is 14 px at the chart's own size, and numbers are
//! written with SI suffixes ("10 k", not "10000.0").

mod palette;
mod svg;

use plotters::prelude::*;

pub use palette::Palette;
use palette::{hex, stack_of};
pub use svg::standalone;
use svg::{Mark, annotate};

use crate::histogram;
use crate::label::{WorkloadGroup, trial_label, workload_groups};
use crate::model::{RunResult, Trial};
use crate::stats::Spread;

/// A chart across the page, and a small multiple (two to a row).
const FULL: (u32, u32) = (1160, 420);
const SMALL: (u32, u32) = (570, 320);
/// Axis numbers and axis titles, px at the chart's own size.
pub(super) const LABEL_PX: u32 = 14;
const TITLE_PX: u32 = 15;

/// One chart: an id the page and its tests know it by, the workload group
/// it shows (small multiples), a caption, the SVG and its legend.
pub struct Chart {
    pub id: &'static str,
    pub group: Option<String>,
    pub caption: String,
    pub svg: String,
    /// Drawn at [`SMALL`] size, two to a row.
    pub small: bool,
    pub legend: Vec<LegendEntry>,
}

/// One entry of a chart's legend.
pub struct LegendEntry {
    /// What the chart's marks of this entry are tagged with
    /// (`data-series`): clicking the entry hides them.
    pub series: String,
    pub name: String,
    /// The stack it belongs to, and that stack's colour ("#0072b2").
    pub stack: String,
    pub colour: String,
    /// The shade drawn (lighter for a repeated trial).
    pub shade: String,
}

/// A named series of (x, y) points.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// 12,345.6 -> "12 k"; 0.0123 -> "0.012"; 1500000 -> "1.5 M".
pub fn si(value: f64) -> String {
    let a = value.abs();
    let text = if a >= 1e9 {
        format!("{:.1} G", value / 1e9)
    } else if a >= 1e6 {
        format!("{:.1} M", value / 1e6)
    } else if a >= 1e4 {
        format!("{:.0} k", value / 1e3)
    } else if a >= 1e3 {
        format!("{:.1} k", value / 1e3)
    } else if a >= 100.0 {
        format!("{value:.0}")
    } else if a >= 10.0 {
        format!("{value:.1}")
    } else if a >= 1.0 {
        format!("{value:.2}")
    } else if a == 0.0 {
        "0".to_owned()
    } else {
        format!("{value:.3}")
    };
    // "1.0 k" -> "1 k", "2.50" -> "2.5".
    match text.split_once(' ') {
        Some((number, unit)) => format!("{} {unit}", trim_zeros(number)),
        None => trim_zeros(&text).to_owned(),
    }
}

fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

/// Every chart the result has data for.
pub fn charts(result: &RunResult) -> Vec<Chart> {
    let palette = Palette::of(result);
    let mut charts = decision_charts(result, &palette);
    let groups = workload_groups(result);
    let several = groups.len() > 1;
    let in_group = |group: &WorkloadGroup| -> Vec<&Trial> {
        result
            .trials
            .iter()
            .filter(|t| WorkloadGroup::of(t) == *group)
            .collect()
    };
    for group in &groups {
        let trials = in_group(group);
        let name = several.then(|| group.to_string());
        let title = |what: &str| match &name {
            Some(group) => format!("{what}: {group}"),
            None => what.to_owned(),
        };
        let spectrum = latency_spectrum(result, &trials);
        if spectrum.iter().any(|s| !s.points.is_empty()) {
            charts.push(draw(
                ChartSpec {
                    id: "latency-spectrum",
                    group: name.clone(),
                    caption: title("Latency by percentile (HDR: log scale toward the tail)"),
                    small: true,
                    marks: Vec::new(),
                },
                &palette,
                &spectrum,
                Axis::Percentile,
                "latency (ms)",
            ));
            charts.push(draw(
                ChartSpec {
                    id: "latency-cdf",
                    group: name.clone(),
                    caption: title("Share of answers within a latency (CDF)"),
                    small: true,
                    marks: Vec::new(),
                },
                &palette,
                &latency_cdf(result, &trials),
                Axis::LatencyMs,
                "share of answers",
            ));
        }
        let timelines: Vec<&Trial> = trials
            .iter()
            .copied()
            .filter(|t| !t.timeline.is_empty())
            .collect();
        if !timelines.is_empty() {
            // Where a schedule's steps begin (grey lines).
            let mut steps: Vec<f64> = timelines
                .iter()
                .flat_map(|t| t.steps.iter().skip(1).map(|s| s.from_s))
                .collect();
            steps.sort_by(f64::total_cmp);
            steps.dedup();
            let throughput = timelines
                .iter()
                .map(|t| {
                    let mut previous = 0.0;
                    let points = t
                        .timeline
                        .iter()
                        .map(|p| {
                            let width = (p.t_s - previous).max(1e-3);
                            previous = p.t_s;
                            (p.t_s, p.requests_ok as f64 / width)
                        })
                        .collect();
                    Series {
                        name: trial_label(result, t),
                        points,
                    }
                })
                .collect::<Vec<_>>();
            charts.push(draw(
                ChartSpec {
                    id: "throughput",
                    group: name.clone(),
                    caption: title(&timeline_caption(
                        "Good responses per second over time",
                        &timelines,
                        !steps.is_empty(),
                    )),
                    small: true,
                    marks: steps.clone(),
                },
                &palette,
                &throughput,
                Axis::Seconds,
                "req/s",
            ));
            let p99 = timelines
                .iter()
                .map(|t| Series {
                    name: trial_label(result, t),
                    points: t
                        .timeline
                        .iter()
                        .map(|p| (p.t_s, p.p99_us as f64 / 1000.0))
                        .collect(),
                })
                .collect::<Vec<_>>();
            charts.push(draw(
                ChartSpec {
                    id: "p99",
                    group: name.clone(),
                    caption: title(&timeline_caption(
                        "p99 latency over time",
                        &timelines,
                        !steps.is_empty(),
                    )),
                    small: true,
                    marks: steps,
                },
                &palette,
                &p99,
                Axis::Seconds,
                "p99 (ms)",
            ));
        }
    }
    charts.extend(errors_chart(result, &palette));
    let sweep = crate::sweep::series(result);
    if !sweep.is_empty() {
        let against_size = |value: fn(&crate::sweep::SweepPoint) -> Option<f64>| {
            sweep
                .iter()
                .map(|s| Series {
                    name: s.name.clone(),
                    points: s
                        .points
                        .iter()
                        .filter_map(|p| Some((p.size_kb as f64, value(p)?)))
                        .collect(),
                })
                .collect::<Vec<_>>()
        };
        let cpu = against_size(|p| p.server_cpu_ms_per_request);
        if cpu.iter().any(|s| !s.points.is_empty()) {
            charts.push(draw(
                ChartSpec::full(
                    "sweep-cpu",
                    "Server CPU per request against size (where the order changes, the verdict says)",
                ),
                &palette,
                &cpu,
                Axis::Kib,
                "server CPU (ms/req)",
            ));
        }
        charts.push(draw(
            ChartSpec::full("sweep-p50", "p50 latency against size"),
            &palette,
            &against_size(|p| Some(p.p50_ms)),
            Axis::Kib,
            "p50 (ms)",
        ));
        charts.push(draw(
            ChartSpec::full(
                "sweep-wire",
                "Bytes on the wire per request (both ways) against size",
            ),
            &palette,
            &against_size(|p| p.wire_bytes_per_request.map(|b| b / 1024.0)),
            Axis::Kib,
            "wire (KiB/req)",
        ));
    }
    let knee: Vec<Series> = crate::capacity::knee(result)
        .into_iter()
        .map(|(name, points)| Series { name, points })
        .collect();
    if knee.iter().any(|s| !s.points.is_empty()) {
        charts.push(draw(
            ChartSpec::full(
                "capacity-knee",
                "p99 latency against offered rate (open loop): the knee, per stack",
            ),
            &palette,
            &knee,
            Axis::Rate,
            "p99 (ms)",
        ));
    }
    let process_series = |value: fn(&wirebench_probe::ProcessPoint) -> f64| {
        result
            .trials
            .iter()
            .flat_map(|t| {
                t.processes
                    .iter()
                    .filter(|p| !p.timeline.is_empty())
                    .map(move |p| Series {
                        name: format!("{} {}", trial_label(result, t), p.role),
                        points: p
                            .timeline
                            .iter()
                            .map(|point| (point.t_s, value(point)))
                            .collect(),
                    })
            })
            .collect::<Vec<_>>()
    };
    let cpu = process_series(|p| p.cpu_percent);
    if !cpu.is_empty() {
        charts.push(draw(
            ChartSpec {
                id: "cpu",
                group: None,
                caption: "CPU% per process over time (100 = one core)".to_owned(),
                small: true,
                marks: Vec::new(),
            },
            &palette,
            &cpu,
            Axis::Seconds,
            "CPU %",
        ));
        let rss = process_series(|p| p.rss_bytes as f64 / (1024.0 * 1024.0));
        charts.push(draw(
            ChartSpec {
                id: "rss",
                group: None,
                caption: "Resident memory per process over time".to_owned(),
                small: true,
                marks: Vec::new(),
            },
            &palette,
            &rss,
            Axis::Seconds,
            "RSS (MiB)",
        ));
    }
    charts
}

/// A timeline's caption: what it shows, the warm-up that came before its
/// 0 (the timeline holds the measured window only), and the schedule's
/// step lines when there are any.
fn timeline_caption(what: &str, trials: &[&Trial], steps: bool) -> String {
    let warmup = trials.iter().map(|t| t.warmup_s).fold(0.0, f64::max);
    let mut caption = what.to_owned();
    if warmup > 0.0 {
        caption.push_str(&format!(" (after a {} s warm-up", si(warmup)));
        caption.push_str(if steps {
            "; grey lines: schedule steps)"
        } else {
            ")"
        });
    } else if steps {
        caption.push_str(" (grey lines: schedule steps)");
    }
    caption
}

/// What a chart is, apart from its data.
struct ChartSpec {
    id: &'static str,
    group: Option<String>,
    caption: String,
    small: bool,
    /// Seconds where a schedule's step begins: grey lines on a timeline.
    marks: Vec<f64>,
}

impl ChartSpec {
    fn full(id: &'static str, caption: &str) -> ChartSpec {
        ChartSpec {
            id,
            group: None,
            caption: caption.to_owned(),
            small: false,
            marks: Vec::new(),
        }
    }
}

/// One row of a dot chart: a configuration's median with whiskers to its
/// smallest and largest trial.
struct DotRow {
    label: String,
    stack: String,
    spread: Spread,
}

/// One headline figure of a configuration, over its trials.
type Figure = fn(&crate::model::GroupSummary) -> Option<Spread>;

/// The headline figures, one dot chart each, every workload group's
/// configurations one under another.
fn decision_charts(result: &RunResult, palette: &Palette) -> Vec<Chart> {
    let Some(summary) = &result.summary else {
        return Vec::new();
    };
    let several = summary
        .groups
        .iter()
        .any(|g| g.workload != summary.groups[0].workload);
    let stack_of_label = |label: &str| stack_of(label).to_owned();
    let rows = |figure: Figure| -> Vec<DotRow> {
        summary
            .groups
            .iter()
            .filter_map(|g| {
                Some(DotRow {
                    label: if several {
                        format!("{} · {}", g.workload, g.label)
                    } else {
                        g.label.clone()
                    },
                    stack: stack_of_label(&g.label),
                    spread: figure(g)?,
                })
            })
            .collect()
    };
    let figures: [(&'static str, &str, &str, Figure); 4] = [
        (
            "decision-cpu",
            "Server CPU per request (dot: median; whiskers: fastest to slowest trial)",
            "server CPU (ms/request)",
            |g| g.server_cpu_ms_per_request,
        ),
        (
            "decision-rps",
            "Requests per second (dot: median; whiskers: the trials' range)",
            "req/s",
            |g| Some(g.throughput_rps),
        ),
        (
            "decision-wire",
            "Bytes on the wire per request, both ways",
            "bytes/request",
            |g| g.wire_bytes_per_request,
        ),
        ("decision-p99", "p99 latency", "p99 (ms)", |g| {
            let s = g.latency_p99_us;
            Some(Spread {
                median: s.median / 1000.0,
                min: s.min / 1000.0,
                max: s.max / 1000.0,
                n: s.n,
            })
        }),
    ];
    figures
        .into_iter()
        .filter_map(|(id, caption, x_label, figure)| {
            let rows = rows(figure);
            (!rows.is_empty()).then(|| dots(id, caption, x_label, &rows, palette))
        })
        .collect()
}

/// Errors by kind per configuration, when any request failed.
fn errors_chart(result: &RunResult, palette: &Palette) -> Option<Chart> {
    let mut rows: Vec<DotRow> = Vec::new();
    for trial in result.trials.iter().filter(|t| !t.errors.is_empty()) {
        let by_kind = trial.errors.iter();
        let by_code = trial.error_codes.iter();
        for (kind, count) in by_kind.chain(by_code) {
            let label = format!("{}: {kind}", trial_label(result, trial));
            let n = *count as f64;
            rows.push(DotRow {
                label,
                stack: trial.stack.name(),
                spread: Spread {
                    median: n,
                    min: n,
                    max: n,
                    n: 1,
                },
            });
        }
    }
    (!rows.is_empty()).then(|| {
        dots(
            "errors",
            "Failed requests by kind, then by the status answered (the first of each kind is in the notes)",
            "requests",
            &rows,
            palette,
        )
    })
}

/// A dot chart: one row per configuration.
fn dots(
    id: &'static str,
    caption: &str,
    x_label: &str,
    rows: &[DotRow],
    palette: &Palette,
) -> Chart {
    let height = (70 + 28 * rows.len() as u32).max(180);
    let mut svg = String::new();
    let drawn = plot_dots(&mut svg, (FULL.0, height), x_label, rows, palette).map(|()| {
        let marks: Vec<Mark> = rows
            .iter()
            .map(|row| Mark {
                colour: palette.base(&row.stack),
                series: row.stack.clone(),
                title: format!(
                    "{}: {x_label} {} (trials: {} to {})",
                    row.label,
                    si(row.spread.median),
                    si(row.spread.min),
                    si(row.spread.max)
                ),
            })
            .collect();
        annotate(&svg, &marks, &[])
    });
    let mut legend: Vec<LegendEntry> = Vec::new();
    for row in rows {
        if !legend.iter().any(|l| l.stack == row.stack) {
            let colour = hex(palette.base(&row.stack));
            legend.push(LegendEntry {
                series: row.stack.clone(),
                name: row.stack.clone(),
                stack: row.stack.clone(),
                colour: colour.clone(),
                shade: colour,
            });
        }
    }
    finish(
        ChartSpec::full(id, caption),
        drawn,
        legend,
        (FULL.0, height),
    )
}

fn plot_dots(
    svg: &mut String,
    size: (u32, u32),
    x_label: &str,
    rows: &[DotRow],
    palette: &Palette,
) -> DrawResult {
    let x_max = rows.iter().map(|r| r.spread.max).fold(0.0, f64::max) * 1.1;
    let n = rows.len();
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(8);
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size((longest as u32 * 8).clamp(80, 520))
        .build_cartesian_2d(0.0..x_max.max(1e-9), -0.5..(n as f64 - 0.5))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .label_style(("sans-serif", LABEL_PX))
        .axis_desc_style(("sans-serif", TITLE_PX))
        .x_label_formatter(&|x| si(*x))
        .y_labels(n.max(1))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 0.01 && i >= 0.0 {
                // Top row first: row 0 is drawn at the top.
                labels
                    .get(n.wrapping_sub(1).wrapping_sub(i as usize))
                    .cloned()
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .disable_y_mesh()
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, row) in rows.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let colour = palette.base(&row.stack);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(row.spread.min, y), (row.spread.max, y)],
                colour.stroke_width(2),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (row.spread.median, y),
                6,
                colour.filled(),
            )))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

/// Per trial: latency (ms) against 1 / (1 - percentile).
fn latency_spectrum(result: &RunResult, trials: &[&Trial]) -> Vec<Series> {
    trials
        .iter()
        .map(|t| {
            let points = match histogram::decode(&t.latency_histogram) {
                Ok(h) if !h.is_empty() => h
                    .iter_quantiles(4)
                    .filter(|v| v.quantile_iterated_to() < 0.99999)
                    .map(|v| {
                        (
                            1.0 / (1.0 - v.quantile_iterated_to()),
                            h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0,
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Series {
                name: trial_label(result, t),
                points,
            }
        })
        .collect()
}

/// Per trial: the share of answers (0-1) within each latency (ms).
fn latency_cdf(result: &RunResult, trials: &[&Trial]) -> Vec<Series> {
    trials
        .iter()
        .map(|t| {
            let points = match histogram::decode(&t.latency_histogram) {
                Ok(h) if !h.is_empty() => {
                    let total = h.len() as f64;
                    let mut seen = 0u64;
                    h.iter_log(h.min().max(1), 1.15)
                        .map(|v| {
                            seen += v.count_since_last_iteration();
                            (
                                v.value_iterated_to().max(1) as f64 / 1000.0,
                                seen as f64 / total,
                            )
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            Series {
                name: trial_label(result, t),
                points,
            }
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Axis {
    /// x = 1 / (1 - q), log scale, labelled as percentiles.
    Percentile,
    /// x = seconds since the window began.
    Seconds,
    /// x = a size in KiB, log scale.
    Kib,
    /// x = an offered rate, requests per second, log scale.
    Rate,
    /// x = a latency in ms, log scale.
    LatencyMs,
}

fn draw(spec: ChartSpec, palette: &Palette, series: &[Series], axis: Axis, y_label: &str) -> Chart {
    let size = if spec.small { SMALL } else { FULL };
    let mut svg = String::new();
    let drawn = match axis {
        Axis::Percentile => plot_percentiles(&mut svg, size, palette, series, y_label),
        Axis::Seconds => plot_seconds(&mut svg, size, palette, series, y_label, &spec.marks),
        Axis::Kib => plot_log_x(
            &mut svg,
            size,
            palette,
            series,
            y_label,
            "size (KiB, log scale)",
        ),
        Axis::Rate => plot_log_x(
            &mut svg,
            size,
            palette,
            series,
            y_label,
            "offered rate (req/s, log scale)",
        ),
        Axis::LatencyMs => plot_log_x(
            &mut svg,
            size,
            palette,
            series,
            y_label,
            "latency (ms, log scale)",
        ),
    };
    let drawn = drawn.map(|()| {
        let marks: Vec<Mark> = series
            .iter()
            .flat_map(|s| {
                let colour = palette.shade(&s.name);
                s.points.iter().map(move |&(x, y)| Mark {
                    colour,
                    series: s.name.clone(),
                    title: format!("{}: {} at {}", s.name, si(y), x_text(&axis, x)),
                })
            })
            .collect();
        let lines: Vec<(RGBColor, String)> = series
            .iter()
            .map(|s| (palette.shade(&s.name), s.name.clone()))
            .collect();
        annotate(&svg, &marks, &lines)
    });
    finish(spec, drawn, palette.legend(series), size)
}

/// An x value as its axis writes it.
fn x_text(axis: &Axis, x: f64) -> String {
    match axis {
        Axis::Percentile => format!("p{}", percentile_label(x).trim_end_matches('%')),
        Axis::Seconds => format!("{x:.1} s"),
        Axis::Kib => format!("{} KiB", si(x)),
        Axis::Rate => format!("{} req/s", si(x)),
        Axis::LatencyMs => format!("{} ms", si(x)),
    }
}

/// The chart, its SVG scaled to the page's width (a viewBox), or what
/// went wrong in its place.
fn finish(
    spec: ChartSpec,
    svg: Result<String, String>,
    legend: Vec<LegendEntry>,
    (width, height): (u32, u32),
) -> Chart {
    let svg = match svg {
        // plotters writes the viewBox itself: only the fixed size goes.
        Ok(svg) => svg.replacen(
            &format!("<svg width=\"{width}\" height=\"{height}\""),
            "<svg width=\"100%\" preserveAspectRatio=\"xMinYMin meet\"",
            1,
        ),
        Err(err) => format!("<p class=\"chart-error\">chart could not be drawn: {err}</p>"),
    };
    Chart {
        id: spec.id,
        group: spec.group,
        caption: spec.caption,
        svg,
        small: spec.small,
        legend,
    }
}

fn bounds(series: &[Series]) -> (f64, f64, f64) {
    let points = series.iter().flat_map(|s| s.points.iter());
    let x_max = points.clone().map(|p| p.0).fold(0.0, f64::max);
    let y_max = points.map(|p| p.1).fold(0.0, f64::max);
    (0.0, x_max.max(1e-3), (y_max * 1.1).max(1e-3))
}

type DrawResult = Result<(), String>;

fn plot_seconds(
    svg: &mut String,
    size: (u32, u32),
    palette: &Palette,
    series: &[Series],
    y_label: &str,
    marks: &[f64],
) -> DrawResult {
    let (x_min, x_max, y_max) = bounds(series);
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x_min..x_max, 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("seconds into the measured window")
        .y_desc(y_label)
        .label_style(("sans-serif", LABEL_PX))
        .axis_desc_style(("sans-serif", TITLE_PX))
        .x_label_formatter(&|x| si(*x))
        .y_label_formatter(&|y| si(*y))
        .draw()
        .map_err(|e| e.to_string())?;
    let step_line = RGBColor(0x99, 0x99, 0x99);
    chart
        .draw_series(
            marks
                .iter()
                .map(|&x| PathElement::new(vec![(x, 0.0), (x, y_max)], step_line.stroke_width(1))),
        )
        .map_err(|e| e.to_string())?;
    draw_series(&mut chart, palette, series)?;
    root.present().map_err(|e| e.to_string())
}

fn plot_percentiles(
    svg: &mut String,
    size: (u32, u32),
    palette: &Palette,
    series: &[Series],
    y_label: &str,
) -> DrawResult {
    let (_, x_max, y_max) = bounds(series);
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((1.0..x_max.max(10.0) * 1.5).log_scale(), 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(y_label)
        .label_style(("sans-serif", LABEL_PX))
        .axis_desc_style(("sans-serif", TITLE_PX))
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| si(*y))
        .draw()
        .map_err(|e| e.to_string())?;
    draw_series(&mut chart, palette, series)?;
    root.present().map_err(|e| e.to_string())
}

fn plot_log_x(
    svg: &mut String,
    size: (u32, u32),
    palette: &Palette,
    series: &[Series],
    y_label: &str,
    x_desc: &str,
) -> DrawResult {
    let (_, x_max, y_max) = bounds(series);
    let x_min = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|x| *x > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(x_max);
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_label)
        .label_style(("sans-serif", LABEL_PX))
        .axis_desc_style(("sans-serif", TITLE_PX))
        .x_label_formatter(&|x| si(*x))
        .y_label_formatter(&|y| si(*y))
        .draw()
        .map_err(|e| e.to_string())?;
    draw_series(&mut chart, palette, series)?;
    root.present().map_err(|e| e.to_string())
}

/// 1 / (1 - q) as a percentile with as many decimals as it has nines:
/// 2 -> "50%", 100 -> "99%", 1000 -> "99.9%".
fn percentile_label(x: f64) -> String {
    let tail = 1.0 / x.max(1.0);
    let decimals = ((-tail.log10()).ceil() as i32 - 2).max(0) as usize;
    format!("{:.*}%", decimals, 100.0 * (1.0 - tail))
}

fn draw_series<'a, X, DB>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    palette: &Palette,
    series: &[Series],
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    DB: DrawingBackend + 'a,
{
    for s in series {
        let color = palette.shade(&s.name);
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 2, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_labels() {
        let labels: Vec<String> = [1.0, 2.0, 10.0, 100.0, 1000.0, 10_000.0]
            .into_iter()
            .map(super::percentile_label)
            .collect();
        assert_eq!(labels, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]);
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(si(10_000.0), "10 k");
        assert_eq!(si(12_345.6), "12 k");
        assert_eq!(si(1_500.0), "1.5 k");
        assert_eq!(si(1_000.0), "1 k");
        assert_eq!(si(2_500_000.0), "2.5 M");
        assert_eq!(si(250.0), "250");
        assert_eq!(si(2.5), "2.5");
        assert_eq!(si(0.0123), "0.012");
        assert_eq!(si(0.0), "0");
    }
}
