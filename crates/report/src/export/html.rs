//! The self-contained HTML report: one file, no CDN, nothing fetched. What
//! a reader sees first is the answer (the decision per workload group,
//! [`crate::decision`], then the verdict in sentences), then the numbers
//! and the notes, then the charts (legends that hide a series, values on
//! hover), then where and how they were measured, the settings and a
//! glossary the tables' headers link to. A small script checks in the
//! browser what a person would look at (every chart drawn, one colour per
//! stack, readable text) and writes it on `<body>` for the tests.

use base64::Engine;

use super::charts::charts;
use super::{Exporter, escape};
use crate::decision::View;
use crate::grid::{self, Grid};
use crate::model::RunResult;
use crate::notes::notes;
use crate::verdict::verdict;

pub struct HtmlExporter;

const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1500px; color: #1d2330; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.when { color: #5b6475; margin-top: 0; }
.verdict { background: #eef5ff; border-left: 4px solid #2f6fde; padding: .8rem 1rem; font-size: 1.1rem; }
.verdict p { margin: .3rem 0; }
.decision .group { border: 1px solid #d5dbe5; border-radius: 6px; padding: .2rem 1rem .6rem; margin: .8rem 0; }
.decision h3 { margin: .6rem 0 .2rem; }
.decision .headline { font-size: 1.05rem; font-weight: 600; }
.decision .footnotes { color: #444c5a; font-size: .88rem; }
td, th { white-space: nowrap; }
.scroll { overflow-x: auto; }
th a { color: inherit; text-decoration: underline dotted; }
.glossary dt { font-weight: 600; } .glossary dd { margin: 0 0 .3rem 1rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #dde2ea; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.notes li { margin: .2rem 0; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem 2rem; }
.charts h2 { grid-column: 1 / -1; }
figure { margin: 0; grid-column: 1 / -1; }
figure.small { grid-column: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
.legend { list-style: none; padding: 0; margin: .3rem 0 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; font-size: .9rem; }
.legend li { cursor: pointer; user-select: none; } .legend li.off { opacity: .35; text-decoration: line-through; }
.legend .swatch { display: inline-block; width: 1.6em; height: .35em; vertical-align: middle; margin-right: .4em; border-radius: 2px; }
@media (max-width: 1000px) { .charts { grid-template-columns: 1fr; } }
figcaption { font-weight: 600; margin-bottom: .3rem; }
.run dt { font-weight: 600; } .run dd { margin: 0 0 .4rem 0; font-family: ui-monospace, monospace; font-size: .85rem; }
"#;

/// A legend entry hides or shows its series' points and lines (the SVG
/// tags them with `data-series`); hovering a point shows its `<title>`.
const LEGEND_TOGGLE: &str = r#"
document.querySelectorAll("figure .legend li[data-series]").forEach(function (li) {
  li.addEventListener("click", function () {
    var figure = li.closest("figure"), series = li.getAttribute("data-series");
    var hidden = li.classList.toggle("off");
    figure.querySelectorAll("svg [data-series]").forEach(function (mark) {
      if (mark.getAttribute("data-series") === series) { mark.style.display = hidden ? "none" : ""; }
    });
  });
});
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
  // Each stack one colour, and no colour for two stacks, on the whole page.
  var byStack = {}, byColour = {}, clashes = [];
  document.querySelectorAll(".legend li").forEach(function (li) {
    var stack = li.getAttribute("data-stack"), colour = li.getAttribute("data-colour");
    if (byStack[stack] && byStack[stack] !== colour) { clashes.push(stack + " has " + byStack[stack] + " and " + colour); }
    if (byColour[colour] && byColour[colour] !== stack) { clashes.push(colour + " is " + byColour[colour] + " and " + stack); }
    byStack[stack] = colour; byColour[colour] = stack;
  });
  document.body.setAttribute("data-colour-clashes", clashes.join("; "));
  // Points that say their value on hover, and charts whose points do not.
  var untitled = [];
  figures.forEach(function (f) {
    if (f.querySelectorAll("svg circle").length > 0 && f.querySelectorAll("svg circle title").length === 0) {
      untitled.push(f.getAttribute("data-chart"));
    }
  });
  document.body.setAttribute("data-untitled-charts", untitled.join(","));
  // The smallest axis text as drawn, px; and the narrowest chart against
  // the page's width.
  var smallest = 1000, narrowest = 1;
  figures.forEach(function (f) {
    f.querySelectorAll("svg text").forEach(function (t) {
      var h = t.getBoundingClientRect().height;
      if (h > 0 && t.textContent.trim() !== "") { smallest = Math.min(smallest, h); }
    });
  });
  document.querySelectorAll("figure:not(.small) svg").forEach(function (svg) {
    narrowest = Math.min(narrowest, svg.getBoundingClientRect().width / document.body.clientWidth);
  });
  document.body.setAttribute("data-smallest-text-px", String(Math.round(smallest * 10) / 10));
  document.body.setAttribute("data-narrowest-full-chart", String(Math.round(narrowest * 100) / 100));
  // Every chart has a caption and axis titles.
  var bare = [];
  figures.forEach(function (f) {
    if (f.getAttribute("data-chart") === "flame") { return; }
    if (!f.querySelector("figcaption") || f.querySelectorAll("svg text").length < 3) { bare.push(f.getAttribute("data-chart")); }
  });
  document.body.setAttribute("data-bare-charts", bare.join(","));
  var groups = [];
  document.querySelectorAll(".decision .group").forEach(function (g) { groups.push(g.getAttribute("data-workload")); });
  document.body.setAttribute("data-decision-groups", groups.join("|"));
})();
"#;

fn table(grid: &Grid) -> String {
    let class = |i: usize| {
        if i >= grid.numeric_from {
            " class=\"num\""
        } else {
            ""
        }
    };
    let mut out = String::from("<div class=\"scroll\"><table><thead><tr>");
    for (i, h) in grid.header.iter().enumerate() {
        let cell = match GLOSSARY.iter().position(|(name, _)| name == h) {
            Some(at) => format!("<a href=\"#glossary-{at}\">{}</a>", escape(h)),
            None => escape(h),
        };
        out.push_str(&format!("<th{}>{cell}</th>", class(i)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &grid.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            out.push_str(&format!("<td{}>{}</td>", class(i), escape(cell)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// What each column means and how it was measured; the tables' headers
/// link here.
const GLOSSARY: &[(&str, &str)] = &[
    ("conns", "connections the load generator opened"),
    (
        "ok",
        "good answers in the measured window (2xx or OK, with the body asked for)",
    ),
    (
        "errors",
        "failed requests in the window, by kind in the notes",
    ),
    ("req/s", "good answers per second of the measured window"),
    (
        "p50",
        "median latency, from the intended send time (open loop) or the send (closed loop)",
    ),
    ("p90", "90th percentile latency"),
    ("p99", "99th percentile latency"),
    ("p99.9", "99.9th percentile latency"),
    ("max", "slowest good answer"),
    ("MB/s", "answer bytes per second (payload, not the wire)"),
    (
        "srv CPU%",
        "server processes' CPU over the window (100 = one core busy), from their CPU clocks",
    ),
    (
        "cli CPU%",
        "the load generator's CPU over the window (100 = one core)",
    ),
    (
        "srv RSS peak",
        "largest resident memory of the server processes in the window",
    ),
    (
        "srv CPU ms/req",
        "server CPU time divided by good answers: what one request costs",
    ),
    (
        "srv CPU/req",
        "server CPU time per good answer (median over the trials)",
    ),
    (
        "vs cheapest",
        "server CPU per request against the cheapest stack's, paired by repetition: an interval from 3 pairs, a range below",
    ),
    (
        "wire/req",
        "bytes on the wire per request, both ways, counted at the load generator's sockets",
    ),
    ("wire B/req", "bytes on the wire per request, both ways"),
    (
        "cores at rate",
        "server CPU per request times the rate: cores busy at that rate (* extrapolated above the measured rate)",
    ),
    (
        "Mbit/s at rate",
        "wire bytes per request times the rate, both ways",
    ),
    (
        "req/s median [range]",
        "median throughput over the repetitions, and its smallest and largest",
    ),
    (
        "of ceiling",
        "throughput as a share of the TCP ceiling's (the least any stack could cost)",
    ),
    (
        "req/s vs base",
        "throughput against the group's first stack, paired by repetition",
    ),
];

/// A JSON value as rows of a table: nested objects flattened into dotted
/// names ("message.codegen"), lists and scalars written as they are.
fn flatten(prefix: &str, value: &serde_json::Value, rows: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, inner, rows);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(text) => rows.push((prefix.to_owned(), text.clone())),
        other => rows.push((prefix.to_owned(), other.to_string())),
    }
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
        if let Some(calls) = grid::calls(result) {
            body.push_str(&table(&calls));
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
            let mut legend = String::from("<ul class=\"legend\">");
            for entry in &chart.legend {
                legend.push_str(&format!(
                    "<li data-series=\"{}\" data-stack=\"{}\" data-colour=\"{}\" title=\"click to hide or show\"><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
                    escape(&entry.series),
                    escape(&entry.stack),
                    entry.colour,
                    entry.shade,
                    escape(&entry.name)
                ));
            }
            legend.push_str("</ul>");
            body.push_str(&format!(
                "<figure data-chart=\"{}\"{}{}><figcaption>{}</figcaption>{}{legend}</figure>\n",
                chart.id,
                chart
                    .group
                    .as_ref()
                    .map(|g| format!(" data-group=\"{}\"", escape(g)))
                    .unwrap_or_default(),
                if chart.small { " class=\"small\"" } else { "" },
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
        ] {
            body.push_str(&format!(
                "<dt>{term}</dt><dd><pre>{}</pre></dd>",
                escape(&value)
            ));
        }
        body.push_str("</dl><h3>Settings</h3>");
        let mut settings = Vec::new();
        flatten("", &run.settings, &mut settings);
        let settings = Grid {
            header: vec!["setting", "value"],
            rows: settings.into_iter().map(|(k, v)| vec![k, v]).collect(),
            numeric_from: 2,
        };
        body.push_str(&table(&settings));
        body.push_str("<h3>Glossary</h3><dl class=\"glossary\">");
        for (at, (name, meaning)) in GLOSSARY.iter().enumerate() {
            body.push_str(&format!(
                "<dt id=\"glossary-{at}\">{}</dt><dd>{}</dd>",
                escape(name),
                escape(meaning)
            ));
        }
        body.push_str("</dl></section>\n");
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}<script>{SELF_CHECK}{LEGEND_TOGGLE}</script>\n</body></html>\n",
            escape(&title)
        )
    }
}
