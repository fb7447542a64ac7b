//! InfluxDB line protocol: the result as points a team can write to the
//! InfluxDB (or Telegraf, VictoriaMetrics, QuestDB) it already watches, as
//! k6's `--out influxdb` does: `influx write -f result.lp`. One point per
//! trial (measurement `wirebench`) and, for a mix, one per call
//! (`wirebench_call`), tagged by stack, workload, variant and repetition,
//! stamped with the run's start. The lines are built by InfluxData's own
//! `influxdb-line-protocol` crate, so its escaping is the database's.

use influxdb_line_protocol::LineProtocolBuilder;
use influxdb_line_protocol::builder::{AfterField, AfterMeasurement, LineProtocolBuilder as Line};

use super::{Counted, Exporter, counted};
use crate::decision::View;
use crate::model::{RunResult, Trial};

pub struct InfluxExporter;

impl Exporter for InfluxExporter {
    fn render_as(&self, result: &RunResult, _view: &View) -> String {
        // The run's start, nanoseconds since the epoch; without it
        // (an old result), the database stamps the points on write.
        let at = humantime::parse_rfc3339_weak(&result.run.started_at)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64);
        let mut lines = LineProtocolBuilder::new();
        for trial in &result.trials {
            for point in counted(trial) {
                let measurement = match point.call {
                    None => "wirebench",
                    Some(_) => "wirebench_call",
                };
                let line = tags(lines.measurement(measurement), trial, point.call);
                let mut line = fields(line, &point);
                // The trial's own figures, not a call's.
                if point.call.is_none() {
                    line = line.field("duration_s", trial.duration_s);
                    if let Some(ms) = trial.costs.server_cpu_ms_per_request {
                        line = line.field("server_cpu_ms_per_request", ms);
                    }
                    if let Some(ms) = trial.costs.client_cpu_ms_per_request {
                        line = line.field("client_cpu_ms_per_request", ms);
                    }
                }
                lines = match at {
                    Some(ns) => line.timestamp(ns).close_line(),
                    None => line.close_line(),
                };
            }
        }
        String::from_utf8(lines.build()).expect("the builder writes UTF-8 from UTF-8")
    }
}

/// A line with its measurement and tags, before its fields.
type Tagged = Line<Vec<u8>, AfterMeasurement>;

fn tags(line: Tagged, trial: &Trial, call: Option<&str>) -> Tagged {
    let mut line = line
        .tag("stack", &trial.stack.name())
        .tag("workload", &trial.workload.to_string())
        .tag("repetition", &trial.repetition.to_string());
    // The line protocol has no empty tag value: an absent tag is absent.
    if let Some(variant) = trial.variant.as_deref().filter(|v| !v.is_empty()) {
        line = line.tag("variant", variant);
    }
    if let Some(call) = call {
        line = line.tag("call", call);
    }
    line
}

fn fields(line: Tagged, point: &Counted<'_>) -> Line<Vec<u8>, AfterField> {
    let l = point.latency_us;
    let mut line = line
        .field("requests_ok", point.requests_ok)
        .field("errors", point.errors.values().sum::<u64>())
        .field("throughput_rps", point.throughput_rps)
        .field("latency_p50_us", l.p50)
        .field("latency_p90_us", l.p90)
        .field("latency_p99_us", l.p99)
        .field("latency_p999_us", l.p999)
        .field("latency_mean_us", l.mean)
        .field("latency_max_us", l.max)
        .field("wire_bytes_sent", point.wire_bytes_sent)
        .field("wire_bytes_received", point.wire_bytes_received);
    for (kind, n) in point.errors {
        line = line.field(&format!("errors_{kind}"), *n);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trial_is_a_point_the_parser_reads_back() {
        let mut result = crate::model::tests::result_fixture();
        result.trials[0].variant = Some("mix orders, sonic-rs".into());
        let text = InfluxExporter.render(&result);
        let points: Vec<_> = influxdb_line_protocol::parse_lines(&text)
            .collect::<Result<_, _>>()
            .expect("line protocol");
        assert_eq!(points.len(), result.trials.len());
        let first = &points[0];
        assert_eq!(first.series.measurement.as_str(), "wirebench");
        let tag = |name: &str| {
            first
                .series
                .tag_set
                .as_ref()
                .and_then(|tags| tags.iter().find(|(k, _)| k.as_str() == name))
                .map(|(_, v)| v.to_string())
        };
        assert_eq!(tag("stack"), Some(result.trials[0].stack.name()));
        assert_eq!(tag("variant").as_deref(), Some("mix orders, sonic-rs"));
        let requests = first
            .field_set
            .iter()
            .find(|(k, _)| k.as_str() == "requests_ok")
            .map(|(_, v)| v.to_string());
        assert_eq!(requests, Some(format!("{}u", result.trials[0].requests_ok)));
        assert!(first.timestamp.is_some(), "stamped with the run's start");
    }
}
