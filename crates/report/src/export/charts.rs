//! The report's charts, drawn with plotters into SVG text that the HTML
//! page embeds (no script, no fetch: the page opens offline). Every series
//! is drawn as a line and as points, so a one-point series still shows.

use plotters::prelude::*;

use crate::histogram;
use crate::label::trial_label;
use crate::model::RunResult;

const SIZE: (u32, u32) = (760, 360);

/// One chart: an id the page and its tests know it by, a caption, the SVG.
pub struct Chart {
    pub id: &'static str,
    pub caption: String,
    pub svg: String,
}

/// A named series of (x, y) points.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// Every chart the result has data for.
pub fn charts(result: &RunResult) -> Vec<Chart> {
    let mut charts = Vec::new();
    let spectrum = latency_spectrum(result);
    if spectrum.iter().any(|s| !s.points.is_empty()) {
        charts.push(draw(
            "latency-spectrum",
            "Latency by percentile (HDR: log scale toward the tail)",
            &spectrum,
            Axis::Percentile,
            "latency (ms)",
        ));
    }
    let timelines: Vec<_> = result
        .trials
        .iter()
        .filter(|t| !t.timeline.is_empty())
        .collect();
    if !timelines.is_empty() {
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
            "throughput",
            "Good responses per second over time",
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
            "p99",
            "p99 latency over time",
            &p99,
            Axis::Seconds,
            "p99 (ms)",
        ));
    }
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
                "sweep-cpu",
                "Server CPU per request against size (where the order changes, the verdict says)",
                &cpu,
                Axis::Kib,
                "server CPU (ms/req)",
            ));
        }
        charts.push(draw(
            "sweep-p50",
            "p50 latency against size",
            &against_size(|p| Some(p.p50_ms)),
            Axis::Kib,
            "p50 (ms)",
        ));
        charts.push(draw(
            "sweep-wire",
            "Bytes on the wire per request (both ways) against size",
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
            "capacity-knee",
            "p99 latency against offered rate (open loop): the knee, per stack",
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
            "cpu",
            "CPU% per process over time (100 = one core)",
            &cpu,
            Axis::Seconds,
            "CPU %",
        ));
        let rss = process_series(|p| p.rss_bytes as f64 / (1024.0 * 1024.0));
        charts.push(draw(
            "rss",
            "Resident memory per process over time",
            &rss,
            Axis::Seconds,
            "RSS (MiB)",
        ));
    }
    charts
}

/// Per trial: latency (ms) against 1 / (1 - percentile).
fn latency_spectrum(result: &RunResult) -> Vec<Series> {
    result
        .trials
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

enum Axis {
    /// x = 1 / (1 - q), log scale, labelled as percentiles.
    Percentile,
    /// x = seconds since the window began.
    Seconds,
    /// x = a size in KiB, log scale.
    Kib,
    /// x = an offered rate, requests per second, log scale.
    Rate,
}

fn draw(id: &'static str, caption: &str, series: &[Series], axis: Axis, y_label: &str) -> Chart {
    let mut svg = String::new();
    let drawn = match axis {
        Axis::Percentile => plot_percentiles(&mut svg, series, y_label),
        Axis::Seconds => plot_seconds(&mut svg, series, y_label),
        Axis::Kib => plot_log_x(&mut svg, series, y_label, "size (KiB, log scale)"),
        Axis::Rate => plot_log_x(&mut svg, series, y_label, "offered rate (req/s, log scale)"),
    };
    if let Err(err) = drawn {
        svg = format!("<p class=\"chart-error\">chart could not be drawn: {err}</p>");
    }
    Chart {
        id,
        caption: caption.to_owned(),
        svg,
    }
}

fn bounds(series: &[Series]) -> (f64, f64, f64) {
    let points = series.iter().flat_map(|s| s.points.iter());
    let x_max = points.clone().map(|p| p.0).fold(0.0, f64::max);
    let y_max = points.map(|p| p.1).fold(0.0, f64::max);
    (0.0, x_max.max(1.0), (y_max * 1.1).max(1e-3))
}

type DrawResult = Result<(), String>;

fn plot_seconds(svg: &mut String, series: &[Series], y_label: &str) -> DrawResult {
    let (x_min, x_max, y_max) = bounds(series);
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(x_min..x_max, 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("seconds into the measured window")
        .y_desc(y_label)
        .draw()
        .map_err(|e| e.to_string())?;
    draw_series(&mut chart, series)?;
    root.present().map_err(|e| e.to_string())
}

fn plot_percentiles(svg: &mut String, series: &[Series], y_label: &str) -> DrawResult {
    let (_, x_max, y_max) = bounds(series);
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d((1.0..x_max.max(10.0) * 1.5).log_scale(), 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(y_label)
        .x_label_formatter(&|x| percentile_label(*x))
        .draw()
        .map_err(|e| e.to_string())?;
    draw_series(&mut chart, series)?;
    root.present().map_err(|e| e.to_string())
}

fn plot_log_x(svg: &mut String, series: &[Series], y_label: &str, x_desc: &str) -> DrawResult {
    let (_, x_max, y_max) = bounds(series);
    let x_min = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(f64::INFINITY, f64::min)
        .min(x_max);
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| e.to_string())?;
    draw_series(&mut chart, series)?;
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
    series: &[Series],
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    DB: DrawingBackend + 'a,
{
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 2, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentile_labels() {
        let labels: Vec<String> = [1.0, 2.0, 10.0, 100.0, 1000.0, 10_000.0]
            .into_iter()
            .map(super::percentile_label)
            .collect();
        assert_eq!(labels, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]);
    }
}
