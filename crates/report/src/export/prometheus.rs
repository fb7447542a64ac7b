//! Prometheus: the result as metrics in the text exposition format (what
//! ghz's `-O prometheus` writes), for a Pushgateway, node_exporter's
//! textfile collector or any scraper. One sample per figure, labelled by
//! trial (stack, variant, repetition) and, for a mix, by call; latency as
//! a summary in seconds (quantiles from the run's HDR histogram, its sum
//! from the mean). It ends with `# EOF`, so OpenMetrics parsers take it too.

use std::fmt::Write;

use super::{Exporter, counted};
use crate::decision::View;
use crate::model::{LatencySummary, RunResult, Trial};

pub struct PrometheusExporter;

/// Reads one quantile of a latency summary, microseconds.
type Quantile = fn(&LatencySummary) -> u64;

/// The quantiles a latency summary gives.
const QUANTILES: [(&str, Quantile); 4] = [
    ("0.5", |l| l.p50),
    ("0.9", |l| l.p90),
    ("0.99", |l| l.p99),
    ("0.999", |l| l.p999),
];

/// One metric family: its name, type and help, then its samples.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<(String, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Family {
        Family {
            name,
            kind,
            help,
            samples: Vec::new(),
        }
    }

    /// A sample of this family (or, with `suffix`, of its `_sum` or
    /// `_count`) with `labels` already rendered.
    fn push(&mut self, suffix: &str, labels: &str, value: f64) {
        self.samples
            .push((format!("{}{suffix}{{{labels}}}", self.name), value));
    }

    fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (sample, value) in &self.samples {
            let _ = writeln!(out, "{sample} {}", number(*value));
        }
    }
}

fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        "NaN".to_owned()
    }
}

/// `value` as a label value: backslash, quote and newline escaped.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(trial: &Trial, call: Option<&str>, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, String)> = vec![
        ("stack", trial.stack.name()),
        ("workload", trial.workload.to_string()),
    ];
    if let Some(variant) = &trial.variant {
        pairs.push(("variant", variant.clone()));
    }
    pairs.push(("repetition", trial.repetition.to_string()));
    if let Some(call) = call {
        pairs.push(("call", call.to_owned()));
    }
    for (name, value) in extra {
        pairs.push((name, (*value).to_owned()));
    }
    pairs
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", label_value(value)))
        .collect::<Vec<_>>()
        .join(",")
}

impl Exporter for PrometheusExporter {
    fn render_as(&self, result: &RunResult, _view: &View) -> String {
        let mut requests = Family::new(
            "wirebench_requests_total",
            "counter",
            "Requests answered well in the measured window.",
        );
        let mut errors = Family::new(
            "wirebench_errors_total",
            "counter",
            "Requests that failed in the measured window, by kind.",
        );
        let mut throughput = Family::new(
            "wirebench_throughput_requests_per_second",
            "gauge",
            "Good answers per second over the measured window.",
        );
        let mut latency = Family::new(
            "wirebench_latency_seconds",
            "summary",
            "Latency of good answers (open loop: from the intended send time).",
        );
        let mut window = Family::new(
            "wirebench_window_seconds",
            "gauge",
            "Length of the measured window.",
        );
        let mut wire = Family::new(
            "wirebench_wire_bytes_total",
            "counter",
            "Bytes on the load generator's sockets in the window, headers and framing included.",
        );
        let mut server_cpu = Family::new(
            "wirebench_server_cpu_seconds_per_request",
            "gauge",
            "Server CPU time per good answer (the whole mix's, for a mix).",
        );
        let mut client_cpu = Family::new(
            "wirebench_client_cpu_seconds_per_request",
            "gauge",
            "Load generator CPU time per good answer.",
        );
        for trial in &result.trials {
            let all = labels(trial, None, &[]);
            for c in counted(trial) {
                let (call, ok, l) = (c.call, c.requests_ok, c.latency_us);
                let base = labels(trial, call, &[]);
                requests.push("", &base, ok as f64);
                for (kind, n) in c.errors {
                    errors.push("", &labels(trial, call, &[("kind", kind)]), *n as f64);
                }
                throughput.push("", &base, c.throughput_rps);
                for (quantile, of) in QUANTILES {
                    let labels = labels(trial, call, &[("quantile", quantile)]);
                    latency.push("", &labels, of(l) as f64 / 1e6);
                }
                latency.push("_sum", &base, l.mean * ok as f64 / 1e6);
                latency.push("_count", &base, ok as f64);
                for (direction, bytes) in [
                    ("sent", c.wire_bytes_sent),
                    ("received", c.wire_bytes_received),
                ] {
                    let labels = labels(trial, call, &[("direction", direction)]);
                    wire.push("", &labels, bytes as f64);
                }
            }
            window.push("", &all, trial.duration_s);
            if let Some(ms) = trial.costs.server_cpu_ms_per_request {
                server_cpu.push("", &all, ms / 1e3);
            }
            if let Some(ms) = trial.costs.client_cpu_ms_per_request {
                client_cpu.push("", &all, ms / 1e3);
            }
        }
        let mut out = String::new();
        for family in [
            &requests,
            &errors,
            &throughput,
            &latency,
            &window,
            &wire,
            &server_cpu,
            &client_cpu,
        ] {
            family.write(&mut out);
        }
        out.push_str("# EOF\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_parses_and_holds_every_trial() {
        let mut result = crate::model::tests::result_fixture();
        result.trials[0].variant = Some("mix orders (sonic-rs)".into());
        let text = PrometheusExporter.render(&result);
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("a Prometheus text exposition");
        let requests: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "wirebench_requests_total")
            .collect();
        assert_eq!(requests.len(), result.trials.len());
        let first = &result.trials[0];
        let sample = requests
            .iter()
            .find(|s| s.labels.get("stack") == Some(&first.stack.name()))
            .expect("the first trial's sample");
        assert_eq!(sample.labels.get("variant"), Some("mix orders (sonic-rs)"));
        match sample.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => {
                assert_eq!(v, first.requests_ok as f64)
            }
            ref other => panic!("a counter, not {other:?}"),
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn label_values_are_escaped_as_the_format_says() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
