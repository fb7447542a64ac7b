//! One exporter per format, behind one trait: each turns a [`RunResult`]
//! into text. Adding a format is one file, one impl and one match arm.

mod charts;
mod csv;
mod html;
mod influx;
mod json;
mod markdown;
mod prometheus;
mod table;

use std::fmt;
use std::str::FromStr;

pub use self::csv::CsvExporter;
pub use html::HtmlExporter;
pub use influx::InfluxExporter;
pub use json::JsonExporter;
pub use markdown::MarkdownExporter;
pub use prometheus::PrometheusExporter;
pub use table::TableExporter;

use crate::decision::View;
use crate::model::{LatencySummary, RunResult, Trial};

/// What the metric exporters (Prometheus, InfluxDB) write for a trial as a
/// whole and for each call of its mix: the counts they share.
pub(super) struct Counted<'a> {
    /// `None` for the whole trial, else the call's name.
    pub call: Option<&'a str>,
    pub requests_ok: u64,
    pub errors: &'a std::collections::BTreeMap<String, u64>,
    pub throughput_rps: f64,
    pub latency_us: &'a LatencySummary,
    pub wire_bytes_sent: u64,
    pub wire_bytes_received: u64,
}

/// `trial` as a whole, then each call of its mix.
pub(super) fn counted(trial: &Trial) -> impl Iterator<Item = Counted<'_>> {
    let whole = Counted {
        call: None,
        requests_ok: trial.requests_ok,
        errors: &trial.errors,
        throughput_rps: trial.throughput_rps,
        latency_us: &trial.latency_us,
        wire_bytes_sent: trial.wire_bytes_sent,
        wire_bytes_received: trial.wire_bytes_received,
    };
    std::iter::once(whole).chain(trial.calls.iter().map(|call| Counted {
        call: Some(&call.name),
        requests_ok: call.requests_ok,
        errors: &call.errors,
        throughput_rps: call.throughput_rps,
        latency_us: &call.latency_us,
        wire_bytes_sent: call.wire_bytes_sent,
        wire_bytes_received: call.wire_bytes_received,
    }))
}

/// `text` safe inside HTML and SVG, in text and in quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Where [`chart_files`] go, beside a Markdown report.
pub const CHART_DIR: &str = "charts";

/// A chart as a file of its own, for the Markdown report: its name in
/// [`CHART_DIR`], its caption, and the SVG.
pub struct ChartFile {
    pub name: String,
    pub caption: String,
    pub svg: String,
}

/// The HTML report's charts as standalone SVG files ("latency-cdf-2.svg"),
/// in the order the report shows them.
pub fn chart_files(result: &RunResult) -> Vec<ChartFile> {
    let mut seen: Vec<&str> = Vec::new();
    charts::charts(result)
        .into_iter()
        .map(|chart| {
            let n = seen.iter().filter(|id| **id == chart.id).count();
            seen.push(chart.id);
            let name = if n == 0 {
                format!("{}.svg", chart.id)
            } else {
                format!("{}-{}.svg", chart.id, n + 1)
            };
            let caption = match &chart.group {
                Some(group) if !chart.caption.contains(group.as_str()) => {
                    format!("{}: {group}", chart.caption)
                }
                _ => chart.caption.clone(),
            };
            ChartFile {
                name,
                caption,
                svg: charts::standalone(&chart),
            }
        })
        .collect()
}

pub trait Exporter {
    /// Renders the whole result, read as `view` asks (the rate costs are
    /// translated to, the terminal's width).
    fn render_as(&self, result: &RunResult, view: &View) -> String;

    /// Renders the whole result with the default view.
    fn render(&self, result: &RunResult) -> String {
        self.render_as(result, &View::default())
    }
}

/// The formats `wirebench report --format` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Csv,
    Html,
    Json,
    /// The Prometheus text exposition (ghz's `-O prometheus`).
    Prometheus,
    /// InfluxDB line protocol (k6's `--out influxdb`).
    Influx,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Table,
        Format::Markdown,
        Format::Csv,
        Format::Html,
        Format::Json,
        Format::Prometheus,
        Format::Influx,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Json => "json",
            Format::Prometheus => "prometheus",
            Format::Influx => "influx",
        }
    }

    pub fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Table => &TableExporter,
            Format::Markdown => &MarkdownExporter,
            Format::Csv => &CsvExporter,
            Format::Html => &HtmlExporter,
            Format::Json => &JsonExporter,
            Format::Prometheus => &PrometheusExporter,
            Format::Influx => &InfluxExporter,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = if s == "markdown" { "md" } else { s };
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown format '{s}' (expected table, md, csv, html, json, prometheus or influx)")
            })
    }
}

/// "REST vs gRPC, payload 512 KiB" and the like.
pub fn title(result: &RunResult) -> String {
    let mut stacks: Vec<String> = Vec::new();
    for trial in &result.trials {
        let name = match trial.stack.name().as_str() {
            "rest" => "REST".to_owned(),
            "grpc" => "gRPC".to_owned(),
            other => other.to_owned(),
        };
        if !stacks.contains(&name) {
            stacks.push(name);
        }
    }
    let sizes: Vec<u64> = result.trials.iter().filter_map(|t| t.size_kb).collect();
    let (smallest, largest) = (sizes.iter().min(), sizes.iter().max());
    let what = match result.trials.first() {
        Some(t) => match (smallest, largest) {
            (Some(a), Some(b)) if a != b => format!("{}, {a} to {b} KiB", t.workload),
            (Some(kb), _) => format!("{}, {kb} KiB", t.workload),
            _ => t.workload.to_string(),
        },
        None if !result.capacity.is_empty() => {
            let labels: Vec<&str> = result.capacity.iter().map(|c| c.label.as_str()).collect();
            return format!(
                "capacity of {} at {}",
                labels.join(" vs "),
                result.capacity[0].slo.join(", ")
            );
        }
        None => "no trials".to_owned(),
    };
    format!("{}, {what}", stacks.join(" vs "))
}
