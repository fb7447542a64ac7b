//! The run in a few numbers per stack: trials of one configuration (its
//! repetitions) summarised by median and spread, each configuration set
//! against the baseline (the first one that is not the TCP ceiling) with a
//! paired-trial interval, and each as a share of the ceiling when it ran.

use wirebench_proto::vocab::StackKind;

use crate::label::group_label;
use crate::model::{GroupRatio, GroupSummary, RunResult, RunSummary, Trial};
use crate::stats::{Spread, paired_ratio};

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
