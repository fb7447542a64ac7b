//! One exporter per format, behind one trait: each turns a [`RunResult`]
//! into text. Adding a format is one file and one impl.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use crate::format;
use crate::model::RunResult;
use crate::verdict::verdict;

/// Below this window, CPU figures are coarse enough to say so.
const SHORT_WINDOW_S: f64 = 2.0;

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

const HEADER: [&str; 15] = [
    "stack",
    "conns",
    "ok",
    "errors",
    "req/s",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "max",
    "MB/s",
    "srv CPU%",
    "cli CPU%",
    "srv RSS peak",
    "srv CPU ms/req",
];

/// Per process, when a trial has more than one server process: what each
/// one cost (seed 002's htop reading, measured).
fn process_table(result: &RunResult) -> Option<String> {
    let multi = result
        .trials
        .iter()
        .any(|t| t.processes.iter().filter(|p| p.role != "client").count() > 1);
    if !multi {
        return None;
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "stack", "role", "pid", "CPUs", "CPU%", "user s", "sys s", "RSS avg", "RSS peak", "threads",
    ]);
    for trial in &result.trials {
        let label = trial_label(result, trial);
        for p in &trial.processes {
            table.add_row(vec![
                label.clone(),
                p.role.clone(),
                p.pid.to_string(),
                p.cpus.as_ref().map_or("any".to_owned(), |c| c.to_string()),
                format!("{:.1}", p.cpu_percent),
                format!("{:.2}", p.cpu_user_s),
                format!("{:.2}", p.cpu_system_s),
                format::bytes(p.rss_avg_bytes),
                format::bytes(p.rss_peak_bytes),
                p.threads_max.to_string(),
            ]);
        }
    }
    for column in table.column_iter_mut().skip(2) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    Some(format!(
        "per process (CPU% 100 = one core busy for the whole window):\n{table}\n"
    ))
}

/// "rest", or "rest w2 p2" when the run varies workers or processes.
pub(crate) fn trial_label(result: &RunResult, trial: &crate::model::Trial) -> String {
    let varies = |f: fn(&crate::model::Trial) -> Option<usize>| {
        result.trials.iter().any(|t| f(t) != f(&result.trials[0]))
    };
    let mut label = trial.stack.to_string();
    if let Some(variant) = &trial.variant {
        label.push_str(&format!(" ({variant})"));
    }
    if let Some(w) = trial
        .server_workers
        .filter(|_| varies(|t| t.server_workers))
    {
        label.push_str(&format!(" w{w}"));
    }
    if let Some(p) = trial
        .server_processes
        .filter(|&p| p > 1 || varies(|t| t.server_processes))
    {
        label.push_str(&format!(" p{p}"));
    }
    label
}

impl Exporter for TableExporter {
    fn render(&self, result: &RunResult) -> String {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header(HEADER);
        for trial in &result.trials {
            let l = &trial.latency_us;
            let c = &trial.costs;
            let probed = !trial.processes.is_empty();
            let server_probed = trial.processes.iter().any(|p| p.role != "client");
            let or_dash = |probed: bool, text: String| if probed { text } else { "-".to_owned() };
            let mut stack = trial_label(result, trial);
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
                or_dash(server_probed, format!("{:.0}", c.server_cpu_percent)),
                or_dash(probed, format!("{:.0}", c.client_cpu_percent)),
                or_dash(server_probed, format::bytes(c.server_rss_peak_bytes)),
                c.server_cpu_ms_per_request
                    .map_or("-".to_owned(), |ms| format!("{ms:.3}")),
            ]);
        }
        for column in table.column_iter_mut().skip(1) {
            column.set_cell_alignment(CellAlignment::Right);
        }
        let mut out = table.to_string();
        out.push('\n');
        if let Some(processes) = process_table(result) {
            out.push_str(&processes);
        }
        if let Some(trial) = result.trials.iter().find(|t| t.placement.pinned) {
            let p = &trial.placement;
            let show = |set: &Option<wirebench_probe::CpuSet>| {
                set.as_ref().map_or("any".to_owned(), |s| s.to_string())
            };
            out.push_str(&format!(
                "placement: load generator on CPU {}, servers on CPU {}\n",
                show(&p.client_cpus),
                show(&p.server_cpus)
            ));
        }
        let tick_s = 1.0 / result.run.machine.clock_ticks_per_second.unwrap_or(100) as f64;
        for trial in &result.trials {
            let label = trial_label(result, trial);
            if !trial.processes.is_empty() && trial.duration_s > 0.0 && trial.duration_s < SHORT_WINDOW_S {
                out.push_str(&format!(
                    "{label}: the window was {:.2} s and CPU counters tick every {:.0} ms: each process's CPU% is known to +-{:.0} points; run longer (-t 10s) to compare CPU\n",
                    trial.duration_s,
                    tick_s * 1000.0,
                    tick_s / trial.duration_s * 100.0,
                ));
            }
            if trial.costs.client_bound {
                out.push_str(&format!(
                    "{label}: {} (load generator CPU {:.0}%, its CPUs {:.0}% busy)\n",
                    crate::costs::CLIENT_BOUND_SENTENCE,
                    trial.costs.client_cpu_percent,
                    trial.costs.client_cpus_busy_percent.unwrap_or(f64::NAN),
                ));
            }
            if trial.costs.server_saturated {
                out.push_str(&format!(
                    "{label}: server saturated: the servers used {:.0}% CPU, all of their CPU set\n",
                    trial.costs.server_cpu_percent
                ));
            }
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
        for line in verdict(result) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}
