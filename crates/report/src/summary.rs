//! The run in a few numbers per stack: trials of one configuration (its
//! repetitions) summarised by median and spread, each configuration set
//! against the baseline (the first one that is not the TCP ceiling) with a
//! paired-trial interval, and each as a share of the ceiling when it ran.

use serde::{Deserialize, Serialize};
use wirebench_proto::vocab::StackKind;

use crate::label::group_label;
use crate::model::{RunResult, Trial};
use crate::stats::{RatioInterval, Spread, paired_ratio};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The configuration every other is compared with.
    pub baseline: String,
    pub groups: Vec<GroupSummary>,
    pub ratios: Vec<GroupRatio>,
}

/// One configuration over its repetitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub label: String,
    pub trials: usize,
    pub throughput_rps: Spread,
    pub latency_p50_us: Spread,
    pub latency_p99_us: Spread,
    pub server_cpu_ms_per_request: Option<Spread>,
    /// Wire bytes per request, both directions together.
    pub wire_bytes_per_request: Option<Spread>,
    /// Bytes all server processes wrote per request (in the pipeline: every
    /// hop), when probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_bytes_written_per_request: Option<Spread>,
    /// Median throughput / the TCP ceiling's median throughput.
    pub share_of_ceiling: Option<f64>,
}

/// `numerator` against `denominator`, pair by pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRatio {
    pub numerator: String,
    pub denominator: String,
    /// Requests per second.
    pub throughput: RatioInterval,
    /// Requests per server CPU-second, when both were probed.
    pub requests_per_server_cpu_second: Option<RatioInterval>,
}

pub fn summarize(result: &RunResult) -> Option<RunSummary> {
    let mut labels: Vec<String> = Vec::new();
    for trial in &result.trials {
        let label = group_label(result, trial);
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    let members = |label: &str| -> Vec<&Trial> {
        result
            .trials
            .iter()
            .filter(|t| group_label(result, t) == label && !t.interrupted)
            .collect()
    };
    let values = |trials: &[&Trial], f: fn(&Trial) -> Option<f64>| -> Vec<f64> {
        trials.iter().filter_map(|t| f(t)).collect()
    };
    let is_ceiling = |label: &str| {
        members(label)
            .first()
            .is_some_and(|t| t.stack.kind == StackKind::Tcp)
    };
    let ceiling = labels
        .iter()
        .find(|l| is_ceiling(l))
        .and_then(|l| Spread::of(&values(&members(l), |t| Some(t.throughput_rps))));
    let groups: Vec<GroupSummary> = labels
        .iter()
        .filter_map(|label| {
            let trials = members(label);
            let throughput = Spread::of(&values(&trials, |t| Some(t.throughput_rps)))?;
            Some(GroupSummary {
                label: label.clone(),
                trials: trials.len(),
                share_of_ceiling: ceiling
                    .filter(|c| c.median > 0.0)
                    .map(|c| throughput.median / c.median),
                throughput_rps: throughput,
                latency_p50_us: Spread::of(&values(&trials, |t| Some(t.latency_us.p50 as f64)))?,
                latency_p99_us: Spread::of(&values(&trials, |t| Some(t.latency_us.p99 as f64)))?,
                server_cpu_ms_per_request: Spread::of(&values(&trials, |t| {
                    t.costs.server_cpu_ms_per_request
                })),
                wire_bytes_per_request: Spread::of(&values(&trials, |t| {
                    Some(t.wire_bytes_sent_per_request? + t.wire_bytes_received_per_request?)
                })),
                server_bytes_written_per_request: Spread::of(&values(&trials, |t| {
                    t.costs.server_bytes_written_per_request
                })),
            })
        })
        .collect();
    let baseline = labels
        .iter()
        .find(|l| !is_ceiling(l))
        .or(labels.first())?
        .clone();
    let base_trials = members(&baseline);
    let paired = |trials: &[&Trial], f: fn(&Trial) -> Option<f64>| -> (Vec<f64>, Vec<f64>) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for t in trials {
            if let Some(base) = base_trials.iter().find(|b| b.repetition == t.repetition)
                && let (Some(x), Some(y)) = (f(t), f(base))
            {
                a.push(x);
                b.push(y);
            }
        }
        (a, b)
    };
    let ratios = labels
        .iter()
        .filter(|l| **l != baseline)
        .filter_map(|label| {
            let trials = members(label);
            let (a, b) = paired(&trials, |t| Some(t.throughput_rps));
            let throughput = paired_ratio(&a, &b)?;
            let (a, b) = paired(&trials, |t| t.costs.requests_per_server_cpu_second);
            Some(GroupRatio {
                numerator: label.clone(),
                denominator: baseline.clone(),
                throughput,
                requests_per_server_cpu_second: paired_ratio(&a, &b),
            })
        })
        .collect();
    Some(RunSummary {
        baseline,
        groups,
        ratios,
    })
}
