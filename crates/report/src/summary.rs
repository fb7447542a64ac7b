//! The run in a few numbers per configuration: trials of one
//! configuration (its repetitions) summarised by median and spread; within
//! each workload group (the same workload, message, size and network:
//! [`crate::label::WorkloadGroup`]), each configuration set against the
//! group's baseline (its first that is not the TCP ceiling) with a
//! paired-trial interval, and each as a share of the group's ceiling when
//! it ran. No ratio crosses two workload groups.

use crate::label::{WorkloadGroup, group_label, workload_groups};
use crate::model::{GroupRatio, GroupSummary, RunResult, RunSummary, Trial};
use crate::stats::{Spread, paired_ratio};
impl RunResult {
    /// Adds a finished trial; the summary follows, and the run is
    /// interrupted when the trial was.
    pub fn push_trial(&mut self, trial: Trial) {
        self.run.interrupted |= trial.interrupted;
        self.trials.push(trial);
        self.summary = summarize(self);
    }
}

impl From<crate::model::StoredResult> for RunResult {
    fn from(stored: crate::model::StoredResult) -> Self {
        let mut result = RunResult {
            schema_version: stored.schema_version,
            run: stored.run,
            trials: stored.trials,
            summary: None,
            capacity: stored.capacity,
        };
        result.summary = summarize(&result);
        result
    }
}

pub fn summarize(result: &RunResult) -> Option<RunSummary> {
    let mut groups = Vec::new();
    let mut ratios = Vec::new();
    for workload in workload_groups(result) {
        summarize_group(result, &workload, &mut groups, &mut ratios);
    }
    (!groups.is_empty()).then_some(RunSummary { groups, ratios })
}

fn summarize_group(
    result: &RunResult,
    workload: &WorkloadGroup,
    groups: &mut Vec<GroupSummary>,
    ratios: &mut Vec<GroupRatio>,
) {
    let in_group: Vec<&Trial> = result
        .trials
        .iter()
        .filter(|t| WorkloadGroup::of(t) == *workload)
        .collect();
    let mut labels: Vec<String> = Vec::new();
    for trial in &in_group {
        let label = group_label(result, trial);
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    let members = |label: &str| -> Vec<&Trial> {
        in_group
            .iter()
            .copied()
            .filter(|t| group_label(result, t) == label && !t.interrupted)
            .collect()
    };
    let values = |trials: &[&Trial], f: fn(&Trial) -> Option<f64>| -> Vec<f64> {
        trials.iter().filter_map(|t| f(t)).collect()
    };
    let is_ceiling = |label: &str| members(label).first().is_some_and(|t| t.stack.is_ceiling());
    let ceiling = labels
        .iter()
        .find(|l| is_ceiling(l))
        .and_then(|l| Spread::of(&values(&members(l), |t| Some(t.throughput_rps))));
    let Some(baseline) = labels
        .iter()
        .find(|l| !is_ceiling(l))
        .or(labels.first())
        .cloned()
    else {
        return;
    };
    for label in &labels {
        let trials = members(label);
        let Some(throughput) = Spread::of(&values(&trials, |t| Some(t.throughput_rps))) else {
            continue;
        };
        let (Some(p50), Some(p99)) = (
            Spread::of(&values(&trials, |t| Some(t.latency_us.p50 as f64))),
            Spread::of(&values(&trials, |t| Some(t.latency_us.p99 as f64))),
        ) else {
            continue;
        };
        groups.push(GroupSummary {
            label: label.clone(),
            workload: workload.to_string(),
            baseline: *label == baseline,
            trials: trials.len(),
            share_of_ceiling: ceiling
                .filter(|c| c.median > 0.0)
                .map(|c| throughput.median / c.median),
            throughput_rps: throughput,
            latency_p50_us: p50,
            latency_p99_us: p99,
            server_cpu_ms_per_request: Spread::of(&values(&trials, |t| {
                t.costs.server_cpu_ms_per_request
            })),
            wire_bytes_per_request: Spread::of(&values(&trials, |t| {
                Some(t.wire_bytes_sent_per_request? + t.wire_bytes_received_per_request?)
            })),
            server_bytes_written_per_request: Spread::of(&values(&trials, |t| {
                t.costs.server_bytes_written_per_request
            })),
        });
    }
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
    for label in labels.iter().filter(|l| **l != baseline) {
        let trials = members(label);
        let (a, b) = paired(&trials, |t| Some(t.throughput_rps));
        let Some(throughput) = paired_ratio(&a, &b) else {
            continue;
        };
        let (a, b) = paired(&trials, |t| t.costs.requests_per_server_cpu_second);
        ratios.push(GroupRatio {
            numerator: label.clone(),
            denominator: baseline.clone(),
            throughput,
            requests_per_server_cpu_second: paired_ratio(&a, &b),
        });
    }
}
