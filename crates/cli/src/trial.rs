//! Turns what the engine measured into the result model's [`Trial`].

use wirebench_load::{LoadOutcome, LoadPlan, Target};
use wirebench_proto::vocab::{Stack, Workload};
use wirebench_report::histogram;
use wirebench_report::{LatencySummary, TimelinePoint, Trial};

/// What the trial was, besides what it measured.
pub struct TrialSpec<'a> {
    pub stack: Stack,
    pub workload: Workload,
    pub target_label: String,
    pub size_kb: Option<u64>,
    pub target: &'a Target,
    pub plan: &'a LoadPlan,
}

pub fn trial(spec: TrialSpec<'_>, outcome: &LoadOutcome) -> Trial {
    let tally = &outcome.tally;
    let duration_s = outcome.measured.as_secs_f64();
    let errors = tally.errors.total();
    let attempts = tally.requests_ok + errors;
    Trial {
        stack: spec.stack,
        workload: spec.workload,
        target: spec.target_label,
        size_kb: spec.size_kb,
        verification: spec.target.describe_check(),
        wire: spec.stack.wire_description().to_owned(),
        model: spec.plan.model(),
        stop: spec.plan.stop(),
        warmup_s: spec.plan.warmup().as_secs_f64(),
        connections: spec.plan.connections(),
        requests_ok: tally.requests_ok,
        errors: tally.errors.by_name(),
        error_examples: tally.errors.examples_by_name(),
        error_rate: if attempts == 0 {
            0.0
        } else {
            errors as f64 / attempts as f64
        },
        duration_s,
        throughput_rps: outcome.throughput_rps(),
        bytes_received: tally.bytes_received,
        throughput_mb_s: wirebench_load::engine::rate(tally.bytes_received, outcome.measured) / 1e6,
        latency_us: LatencySummary::from_histogram(&tally.latency_us),
        latency_uncorrected_us: tally
            .latency_uncorrected_us
            .as_ref()
            .map(LatencySummary::from_histogram),
        latency_histogram: histogram::encode(&tally.latency_us),
        timeline: outcome
            .timeline
            .iter()
            .map(|p| TimelinePoint {
                t_s: p.t_s,
                requests_ok: p.requests_ok,
                errors: p.errors,
                p99_us: p.p99_us,
            })
            .collect(),
        interrupted: outcome.interrupted,
    }
}
