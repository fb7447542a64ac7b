//! One exporter per format, behind one trait: each turns a [`RunResult`]
//! into text. Adding a format is one file and one impl.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use crate::format;
use crate::model::RunResult;
use crate::verdict::verdict;

pub trait Exporter {
    /// Renders the whole result.
    fn render(&self, result: &RunResult) -> String;
}

/// The pretty JSON result document.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn render(&self, result: &RunResult) -> String {
        let mut text = serde_json::to_string_pretty(result).expect("the result model serializes");
        text.push('\n');
        text
    }
}

/// The side-by-side terminal table and the verdict.
pub struct TableExporter;

const HEADER: [&str; 11] = [
    "stack", "conns", "ok", "errors", "req/s", "p50", "p90", "p99", "p99.9", "max", "MB/s",
];

impl Exporter for TableExporter {
    fn render(&self, result: &RunResult) -> String {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header(HEADER);
        for trial in &result.trials {
            let l = &trial.latency_us;
            let mut stack = trial.stack.to_string();
            if trial.interrupted {
                stack.push_str(" (interrupted)");
            }
            table.add_row(vec![
                stack,
                trial.connections.to_string(),
                format::thousands(trial.requests_ok),
                format::thousands(trial.errors_total()),
                format::rate(trial.throughput_rps),
                format::latency_us(l.p50),
                format::latency_us(l.p90),
                format::latency_us(l.p99),
                format::latency_us(l.p999),
                format::latency_us(l.max),
                format!("{:.1}", trial.throughput_mb_s),
            ]);
        }
        for column in table.column_iter_mut().skip(1) {
            column.set_cell_alignment(CellAlignment::Right);
        }
        let mut out = table.to_string();
        out.push('\n');
        for trial in &result.trials {
            if let Some(uncorrected) = &trial.latency_uncorrected_us {
                out.push_str(&format!(
                    "{}: latency from the intended send time (above); from the actual send time: p50 {}, p99 {}\n",
                    trial.stack,
                    format::latency_us(uncorrected.p50),
                    format::latency_us(uncorrected.p99),
                ));
            }
            for (kind, example) in &trial.error_examples {
                out.push_str(&format!(
                    "{}: {} x {kind}, first: {example}\n",
                    trial.stack, trial.errors[kind]
                ));
            }
        }
        if let Some(line) = verdict(result) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}
