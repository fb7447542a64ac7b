//! Markdown: the decision, the verdict, the tables, the charts (SVG files
//! in `charts/` beside the page, when written to a file) and the notes,
//! for a pull request or a wiki page.

use super::Exporter;
use crate::decision::View;
use crate::grid::{self, Grid};
use crate::model::RunResult;
use crate::notes::notes;
use crate::verdict::verdict;

pub struct MarkdownExporter;

fn table(grid: &Grid) -> String {
    let escape = |cell: &str| cell.replace('|', "\\|");
    let mut out = format!("| {} |\n", grid.header.join(" | "));
    let rule: Vec<&str> = (0..grid.header.len())
        .map(|i| {
            if i >= grid.numeric_from {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for row in &grid.rows {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

impl Exporter for MarkdownExporter {
    fn render_as(&self, result: &RunResult, view: &View) -> String {
        let run = &result.run;
        let mut out = format!("# wirebench: {}\n\n", super::title(result));
        for decision in crate::decision::decisions(result, view) {
            out.push_str(&format!(
                "## {}\n\n**{}**\n\n",
                decision.workload,
                decision.headline()
            ));
            out.push_str(&table(&crate::decision::grid(&decision)));
            out.push('\n');
            for line in crate::decision::footnotes(&decision) {
                out.push_str(&format!("- {line}\n"));
            }
            out.push('\n');
        }
        for line in verdict(result) {
            out.push_str(&format!("**{line}**\n\n"));
        }
        if !result.trials.is_empty() {
            out.push_str(&table(&grid::trials(result)));
        }
        if let Some(capacity) = crate::capacity::grid(result) {
            out.push_str(&table(&capacity));
        }
        if let Some(calls) = grid::calls(result) {
            out.push_str(&format!("\n{}", table(&calls)));
        }
        if let Some(steps) = grid::steps(result) {
            out.push_str(&format!("\n{}", table(&steps)));
        }
        if let Some(pacing) = grid::pacing(result) {
            out.push_str(&format!("\n{}", table(&pacing)));
        }
        if let Some(summary) = grid::summary(result) {
            out.push_str(&format!("\n{}", table(&summary)));
        }
        if let Some(processes) = grid::processes(result) {
            out.push_str(&format!(
                "\n{}:\n\n{}",
                grid::PROCESSES_CAPTION,
                table(&processes)
            ));
        }
        if view.charts_beside {
            let files = super::chart_files(result);
            if !files.is_empty() {
                out.push_str("\n## Charts\n\n");
                for file in files {
                    out.push_str(&format!(
                        "![{}]({}/{})\n\n",
                        file.caption.replace(['[', ']'], ""),
                        super::CHART_DIR,
                        file.name
                    ));
                }
            }
        }
        let notes = notes(result);
        if !notes.is_empty() {
            out.push_str("\n## Notes\n\n");
            for note in notes {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out.push_str("\n## Run\n\n");
        out.push_str(&format!("- command: `{}`\n", run.command_line.join(" ")));
        out.push_str(&format!(
            "- machine: {} CPUs, {}, Linux {} ({})\n",
            run.machine.cpus, run.machine.cpu_model, run.machine.kernel, run.machine.arch
        ));
        out.push_str(&format!(
            "- wirebench {} ({} build{}), started {}\n",
            run.wirebench_version,
            run.build_profile,
            run.git_commit.as_deref().map_or(String::new(), |c| format!(
                ", commit {}",
                &c[..c.len().min(12)]
            )),
            run.started_at
        ));
        out
    }
}
