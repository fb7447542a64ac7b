//! The terminal table: trials side by side, the per-process table when
//! there are several server processes, the notes, and the verdict.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use super::Exporter;
use crate::grid::{self, Grid};
use crate::model::RunResult;
use crate::notes::notes;
use crate::verdict::verdict;

pub struct TableExporter;

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
    fn render(&self, result: &RunResult) -> String {
        let mut out = String::new();
        if !result.trials.is_empty() {
            out.push_str(&draw(&grid::trials(result)));
            out.push('\n');
        }
        if let Some(capacity) = crate::capacity::grid(result) {
            out.push_str(&format!("{}\n", draw(&capacity)));
        }
        if let Some(steps) = grid::steps(result) {
            out.push_str(&format!("{}\n", draw(&steps)));
        }
        if let Some(pacing) = grid::pacing(result) {
            out.push_str(&format!("{}\n", draw(&pacing)));
        }
        if let Some(summary) = grid::summary(result) {
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
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}
