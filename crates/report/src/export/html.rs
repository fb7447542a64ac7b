//! The self-contained HTML report: one file, no CDN, nothing fetched. What
//! a reader sees first is the answer (the verdict), then the numbers, then
//! the charts, then where and how they were measured.

use base64::Engine;

use super::Exporter;
use super::charts::charts;
use crate::decision::View;
use crate::grid::{self, Grid};
use crate::model::RunResult;
use crate::notes::notes;
use crate::verdict::verdict;

pub struct HtmlExporter;

const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.when { color: #5b6475; margin-top: 0; }
.verdict { background: #eef5ff; border-left: 4px solid #2f6fde; padding: .8rem 1rem; font-size: 1.1rem; }
.verdict p { margin: .3rem 0; }
.decision .group { border: 1px solid #d5dbe5; border-radius: 6px; padding: .2rem 1rem .6rem; margin: .8rem 0; }
.decision h3 { margin: .6rem 0 .2rem; }
.decision .headline { font-size: 1.05rem; font-weight: 600; }
.decision .footnotes { color: #444c5a; font-size: .88rem; }
td, th { white-space: nowrap; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #dde2ea; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.notes li { margin: .2rem 0; }
.charts { display: grid; grid-template-columns: 1fr; gap: 1.5rem; }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
.run dt { font-weight: 600; } .run dd { margin: 0 0 .4rem 0; font-family: ui-monospace, monospace; font-size: .85rem; }
"#;

/// Counts each chart's data points in the browser and records the result on
/// <body>, so a headless browser can tell that every chart rendered.
const SELF_CHECK: &str = r#"
(function () {
  var figures = document.querySelectorAll("figure[data-chart]");
  var empty = [];
  figures.forEach(function (f) {
    var points = f.querySelectorAll("svg circle").length;
    f.setAttribute("data-points", String(points));
    if (points === 0) { empty.push(f.getAttribute("data-chart")); }
  });
  document.body.setAttribute("data-charts", String(figures.length));
  document.body.setAttribute("data-empty-charts", empty.join(","));
})();
"#;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table(grid: &Grid) -> String {
    let class = |i: usize| {
        if i >= grid.numeric_from {
            " class=\"num\""
        } else {
            ""
        }
    };
    let mut out = String::from("<table><thead><tr>");
    for (i, h) in grid.header.iter().enumerate() {
        out.push_str(&format!("<th{}>{}</th>", class(i), escape(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &grid.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            out.push_str(&format!("<td{}>{}</td>", class(i), escape(cell)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

impl Exporter for HtmlExporter {
    fn render_as(&self, result: &RunResult, view: &View) -> String {
        let run = &result.run;
        let title = format!("wirebench: {}", super::title(result));
        let mut body = format!(
            "<header><h1>{}</h1><p class=\"when\">{} · {} CPUs · {} · wirebench {} ({} build)</p></header>\n",
            escape(&title),
            escape(&run.started_at),
            run.machine.cpus,
            escape(&run.machine.cpu_model),
            escape(&run.wirebench_version),
            escape(&run.build_profile),
        );
        body.push_str("<section class=\"decision\" id=\"decision\"><h2>The answer</h2>");
        for decision in crate::decision::decisions(result, view) {
            body.push_str(&format!(
                "<div class=\"group\" data-workload=\"{}\"><h3>{}</h3><p class=\"headline\">{}</p>{}<ul class=\"footnotes\">",
                escape(&decision.workload),
                escape(&decision.workload),
                escape(&decision.headline()),
                table(&crate::decision::grid(&decision))
            ));
            for line in crate::decision::footnotes(&decision) {
                body.push_str(&format!("<li>{}</li>", escape(&line)));
            }
            body.push_str("</ul></div>");
        }
        body.push_str("</section>\n<section class=\"verdict\">");
        for line in verdict(result) {
            body.push_str(&format!("<p>{}</p>", escape(&line)));
        }
        body.push_str("</section>\n<section><h2>Summary</h2>");
        if !result.trials.is_empty() {
            body.push_str(&table(&grid::trials(result)));
        }
        if let Some(capacity) = crate::capacity::grid(result) {
            body.push_str(&table(&capacity));
        }
        if let Some(steps) = grid::steps(result) {
            body.push_str(&table(&steps));
        }
        if let Some(pacing) = grid::pacing(result) {
            body.push_str(&table(&pacing));
        }
        if let Some(summary) = grid::summary(result) {
            body.push_str(&table(&summary));
        }
        body.push_str("</section>\n");
        let notes = notes(result);
        if !notes.is_empty() {
            body.push_str("<section class=\"notes\"><h2>Notes</h2><ul>");
            for note in notes {
                body.push_str(&format!("<li>{}</li>", escape(&note)));
            }
            body.push_str("</ul></section>\n");
        }
        body.push_str("<section class=\"charts\"><h2>Charts</h2>\n");
        for chart in charts(result) {
            body.push_str(&format!(
                "<figure data-chart=\"{}\"><figcaption>{}</figcaption>{}</figure>\n",
                chart.id,
                escape(&chart.caption),
                chart.svg
            ));
        }
        body.push_str("</section>\n");
        if let Some(profile) = crate::profile::grid(result) {
            body.push_str(&format!(
                "<section class=\"profile\"><h2>Where the CPU went</h2><p>{}</p>{}",
                escape(crate::profile::CAPTION),
                table(&profile)
            ));
            for (label, svg) in crate::profile::flame_graphs(result) {
                body.push_str(&format!(
                    "<figure data-chart=\"flame\"><figcaption>{}</figcaption><img alt=\"flame graph of {}\" src=\"data:image/svg+xml;base64,{}\"></figure>\n",
                    escape(&label),
                    escape(&label),
                    base64::engine::general_purpose::STANDARD.encode(svg)
                ));
            }
            body.push_str("</section>\n");
        }
        if let Some(processes) = grid::processes(result) {
            body.push_str(&format!(
                "<section><h2>Per process</h2><p>{}</p>{}</section>\n",
                escape(grid::PROCESSES_CAPTION),
                table(&processes)
            ));
        }
        body.push_str("<section class=\"run\"><h2>Run</h2><dl>");
        let settings = serde_json::to_string_pretty(&run.settings).unwrap_or_default();
        for (term, value) in [
            ("command", run.command_line.join(" ")),
            (
                "machine",
                format!(
                    "{} CPUs, {}, Linux {} ({})",
                    run.machine.cpus, run.machine.cpu_model, run.machine.kernel, run.machine.arch
                ),
            ),
            (
                "build",
                format!(
                    "wirebench {} {} build, commit {}",
                    run.wirebench_version,
                    run.build_profile,
                    run.git_commit.as_deref().unwrap_or("unknown")
                ),
            ),
            ("settings", settings),
        ] {
            body.push_str(&format!(
                "<dt>{term}</dt><dd><pre>{}</pre></dd>",
                escape(&value)
            ));
        }
        body.push_str("</dl></section>\n");
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}<script>{SELF_CHECK}</script>\n</body></html>\n",
            escape(&title)
        )
    }
}
