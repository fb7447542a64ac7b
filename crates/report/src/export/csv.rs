//! CSV: one row per trial with the stable fields, raw numbers with their
//! units in the column names (in the spirit of Locust's stats CSV), for
//! spreadsheets and scripts.

use super::Exporter;
use crate::label::trial_label;
use crate::model::RunResult;

pub struct CsvExporter;

pub const COLUMNS: [&str; 30] = [
    "trial",
    "stack",
    "variant",
    "workload",
    "model",
    "server_workers",
    "server_processes",
    "connections",
    "requests_ok",
    "errors",
    "error_rate",
    "duration_s",
    "throughput_rps",
    "latency_min_us",
    "latency_mean_us",
    "latency_p50_us",
    "latency_p90_us",
    "latency_p99_us",
    "latency_p999_us",
    "latency_max_us",
    "bytes_received",
    "throughput_mb_s",
    "server_cpu_percent",
    "client_cpu_percent",
    "server_rss_peak_bytes",
    "server_cpu_ms_per_request",
    "requests_per_server_cpu_second",
    "client_cpu_ms_per_request",
    "client_bound",
    "server_saturated",
];

impl Exporter for CsvExporter {
    fn render(&self, result: &RunResult) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(COLUMNS).expect("writing to memory");
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        for trial in &result.trials {
            let l = &trial.latency_us;
            let c = &trial.costs;
            writer
                .write_record([
                    trial_label(result, trial),
                    trial.stack.to_string(),
                    trial.variant.clone().unwrap_or_default(),
                    trial.workload.to_string(),
                    trial.model.name().to_owned(),
                    trial
                        .server_workers
                        .map_or(String::new(), |w| w.to_string()),
                    trial
                        .server_processes
                        .map_or(String::new(), |p| p.to_string()),
                    trial.connections.to_string(),
                    trial.requests_ok.to_string(),
                    trial.errors_total().to_string(),
                    trial.error_rate.to_string(),
                    trial.duration_s.to_string(),
                    trial.throughput_rps.to_string(),
                    l.min.to_string(),
                    l.mean.to_string(),
                    l.p50.to_string(),
                    l.p90.to_string(),
                    l.p99.to_string(),
                    l.p999.to_string(),
                    l.max.to_string(),
                    trial.bytes_received.to_string(),
                    trial.throughput_mb_s.to_string(),
                    c.server_cpu_percent.to_string(),
                    c.client_cpu_percent.to_string(),
                    c.server_rss_peak_bytes.to_string(),
                    opt(c.server_cpu_ms_per_request),
                    opt(c.requests_per_server_cpu_second),
                    opt(c.client_cpu_ms_per_request),
                    c.client_bound.to_string(),
                    c.server_saturated.to_string(),
                ])
                .expect("writing to memory");
        }
        String::from_utf8(writer.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 fields")
    }
}
