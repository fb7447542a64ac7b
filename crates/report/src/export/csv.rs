//! CSV: one row per trial with the stable fields, raw numbers with their
//! units in the column names (in the spirit of Locust's stats CSV), for
//! spreadsheets and scripts. A mix adds a row per call after its trial's
//! row, named in the `call` column (empty on the trial's own row, which
//! is the whole mix); a call's CPU columns are empty: CPU is measured for
//! the whole mix.

use super::Exporter;
use crate::decision::View;
use crate::label::trial_label;
use crate::model::RunResult;

pub struct CsvExporter;

pub const COLUMNS: [&str; 31] = [
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
    "call",
];

/// `value` to `decimals` places, trailing zeros dropped, never "-0":
/// a figure is written to the precision it was measured to (a rate to a
/// tenth, CPU per request to a tenth of a microsecond), not with the
/// float's noise ("1616.1999999999996").
pub fn fixed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" { "0".to_owned() } else { text }
}

impl Exporter for CsvExporter {
    fn render_as(&self, result: &RunResult, _view: &View) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(COLUMNS).expect("writing to memory");
        let opt = |v: Option<f64>, decimals: usize| v.map_or(String::new(), |v| fixed(v, decimals));
        for trial in &result.trials {
            let c = &trial.costs;
            // Where the trial ran and how it was loaded: a call's row too.
            let setting = |workers: String, processes: String| {
                vec![
                    trial_label(result, trial),
                    trial.stack.to_string(),
                    trial.variant.clone().unwrap_or_default(),
                    trial.workload.to_string(),
                    trial.model.name().to_owned(),
                    workers,
                    processes,
                    trial.connections.to_string(),
                ]
            };
            let mut row = setting(
                trial
                    .server_workers
                    .map_or(String::new(), |w| w.to_string()),
                trial
                    .server_processes
                    .map_or(String::new(), |p| p.to_string()),
            );
            row.extend(measured(
                trial.requests_ok,
                trial.errors_total(),
                trial.error_rate,
                trial.duration_s,
                trial.throughput_rps,
                &trial.latency_us,
                trial.bytes_received,
            ));
            row.extend([
                fixed(trial.throughput_mb_s, 3),
                fixed(c.server_cpu_percent, 1),
                fixed(c.client_cpu_percent, 1),
                c.server_rss_peak_bytes.to_string(),
                opt(c.server_cpu_ms_per_request, 4),
                opt(c.requests_per_server_cpu_second, 1),
                opt(c.client_cpu_ms_per_request, 4),
                c.client_bound.to_string(),
                c.server_saturated.to_string(),
                String::new(),
            ]);
            writer.write_record(row).expect("writing to memory");
            for call in &trial.calls {
                let mut row = setting(String::new(), String::new());
                row.extend(measured(
                    call.requests_ok,
                    call.errors_total(),
                    call.error_rate,
                    trial.duration_s,
                    call.throughput_rps,
                    &call.latency_us,
                    call.bytes_received,
                ));
                row.resize(COLUMNS.len() - 1, String::new());
                row.push(call.name.clone());
                writer.write_record(row).expect("writing to memory");
            }
        }
        String::from_utf8(writer.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 fields")
    }
}

/// The columns from `requests_ok` to `bytes_received`: what a trial, or
/// one call of its mix, measured.
fn measured(
    requests_ok: u64,
    errors: u64,
    error_rate: f64,
    duration_s: f64,
    throughput_rps: f64,
    l: &crate::model::LatencySummary,
    bytes_received: u64,
) -> [String; 13] {
    [
        requests_ok.to_string(),
        errors.to_string(),
        fixed(error_rate, 6),
        fixed(duration_s, 3),
        fixed(throughput_rps, 1),
        l.min.to_string(),
        fixed(l.mean, 1),
        l.p50.to_string(),
        l.p90.to_string(),
        l.p99.to_string(),
        l.p999.to_string(),
        l.max.to_string(),
        bytes_received.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn figures_are_rounded_to_their_precision_and_never_negative_zero() {
        assert_eq!(fixed(1616.1999999999996, 1), "1616.2");
        assert_eq!(fixed(-0.0, 1), "0");
        assert_eq!(fixed(-0.00001, 3), "0");
        assert_eq!(fixed(2.5, 3), "2.5");
        assert_eq!(fixed(3.0, 2), "3");
        assert_eq!(fixed(0.12345, 4), "0.1235");
        assert_eq!(fixed(f64::NAN, 2), "");
    }
}
