//! The terminal: trials side by side (in 120 columns unless `--wide`), the
//! per-process table when there are several server processes, after a
//! single load a hey-style latency histogram and the answers by outcome,
//! the notes and the verdict, and last the decision, where the eye lands
//! when a run ends.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use super::Exporter;
use crate::decision::View;
use crate::grid::{self, Grid};
use crate::model::RunResult;
use crate::notes::notes;
use crate::verdict::verdict;

pub struct TableExporter;

/// Columns the terminal leaves out unless `--wide`, so that the trials'
/// table fits in 120 columns: the CSV, JSON and HTML keep them.
const NARROW_DROPS: &[&str] = &["p90", "p99.9", "MB/s", "srv RSS peak", "srv out B/req"];

/// The terminal's width unless `--wide`.
const NARROW_COLUMNS: usize = 120;

/// A sentence for the terminal: wrapped at [`NARROW_COLUMNS`] (unless
/// `--wide`), its lines after the first indented under it.
fn prose(text: &str, view: &View, indent: &str) -> String {
    if view.wide {
        return format!("{indent}{text}\n");
    }
    let rest = format!("{indent}    ");
    let options = textwrap::Options::new(NARROW_COLUMNS)
        .initial_indent(indent)
        .subsequent_indent(&rest);
    let mut out = textwrap::fill(text, options);
    out.push('\n');
    out
}

/// Bars in a latency histogram, and their longest width.
const HISTOGRAM_BARS: usize = 10;
const HISTOGRAM_WIDTH: usize = 40;

/// One trial's latency histogram and its answers by outcome.
fn distribution(result: &RunResult, trial: &crate::model::Trial) -> String {
    let label = crate::label::trial_label(result, trial);
    let mut out = String::new();
    if let Ok(h) = crate::histogram::decode(&trial.latency_histogram)
        && !h.is_empty()
    {
        out.push_str(&format!("\nlatency histogram ({label}):\n"));
        for line in crate::histogram::bars(&h, HISTOGRAM_BARS, HISTOGRAM_WIDTH) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&format!(
        "\nanswers ({label}):\n  {:>12}  ok\n",
        crate::format::thousands(trial.requests_ok)
    ));
    for (kind, count) in &trial.errors {
        let first = trial
            .error_examples
            .get(kind)
            .map(|e| format!("  first: {}", e.chars().take(80).collect::<String>()))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:>12}  {kind}{first}\n",
            crate::format::thousands(*count)
        ));
    }
    if !trial.error_codes.is_empty() {
        out.push_str("  by status:\n");
        for (code, count) in &trial.error_codes {
            out.push_str(&format!(
                "  {:>12}  {code}\n",
                crate::format::thousands(*count)
            ));
        }
    }
    out.push('\n');
    out
}

fn draw(grid: &Grid) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(grid.header.clone());
    for row in &grid.rows {
        table.add_row(row.clone());
    }
    for column in table.column_iter_mut().skip(grid.numeric_from) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    table.to_string()
}

impl Exporter for TableExporter {
    fn render_as(&self, result: &RunResult, view: &View) -> String {
        let mut out = String::new();
        if !result.trials.is_empty() {
            let trials = grid::trials(result);
            let trials = if view.wide {
                trials
            } else {
                trials.without(NARROW_DROPS)
            };
            out.push_str(&draw(&trials));
            out.push('\n');
        }
        // After a single load (or with --wide, after each): how the
        // latencies spread, and what came back, as hey and ghz print them.
        if result.trials.len() == 1 || view.wide {
            for trial in &result.trials {
                out.push_str(&distribution(result, trial));
            }
        }
        if let Some(capacity) = crate::capacity::grid(result) {
            out.push_str(&format!("{}\n", draw(&capacity)));
        }
        if let Some(calls) = grid::calls(result) {
            out.push_str(&format!("{}\n", draw(&calls)));
        }
        if let Some(steps) = grid::steps(result) {
            out.push_str(&format!("{}\n", draw(&steps)));
        }
        if let Some(pacing) = grid::pacing(result) {
            out.push_str(&format!("{}\n", draw(&pacing)));
        }
        if let Some(summary) = grid::summary(result) {
            let summary = if view.wide {
                summary
            } else {
                summary.without(NARROW_DROPS)
            };
            out.push_str(&format!("{}\n", draw(&summary)));
        }
        if let Some(profile) = crate::profile::grid(result) {
            out.push_str(&format!(
                "{}:\n{}\n",
                crate::profile::CAPTION,
                draw(&profile)
            ));
        }
        if let Some(processes) = grid::processes(result) {
            out.push_str(&format!(
                "{}:\n{}\n",
                grid::PROCESSES_CAPTION,
                draw(&processes)
            ));
        }
        for line in notes(result).into_iter().chain(verdict(result)) {
            out.push_str(&prose(&line, view, ""));
        }
        // The answer last, where the eye lands when the run ends.
        for decision in crate::decision::decisions(result, view) {
            // One configuration has nothing to be chosen against.
            if decision.choices.len() < 2 {
                continue;
            }
            out.push('\n');
            out.push_str(&prose(&decision.headline(), view, ""));
            out.push_str(&draw(&crate::decision::grid(&decision)));
            out.push('\n');
            for line in crate::decision::footnotes(&decision) {
                out.push_str(&prose(&line, view, "  "));
            }
        }
        out
    }
}
