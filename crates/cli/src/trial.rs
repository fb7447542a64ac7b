//! Turns what the engine measured into the result model's [`Trial`].

use std::time::{Duration, Instant};

use wirebench_load::{LoadOutcome, LoadPlan, Target};
use wirebench_probe::{CpuSet, Probe, ProbeReport, Watched};
use wirebench_proto::vocab::{Stack, Workload};
use wirebench_report::histogram;
use wirebench_report::{LatencySummary, Placement, TimelinePoint, Trial};

use crate::placement::CpuPlacement;

/// How often the probe samples (the window totals are exact regardless).
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Starts probing `servers` (role, pid) and this process (the load
/// generator) from the end of `plan`'s warm-up on. Call right before the
/// load starts.
pub fn start_probe(plan: &LoadPlan, servers: &[(String, u32)], client_cpus: &CpuSet) -> Probe {
    let mut watched: Vec<Watched> = servers
        .iter()
        .map(|(role, pid)| Watched {
            role: role.clone(),
            pid: *pid,
        })
        .collect();
    watched.push(Watched {
        role: "client".into(),
        pid: std::process::id(),
    });
    Probe::start(
        watched,
        vec![client_cpus.clone()],
        Instant::now() + plan.warmup(),
        PROBE_INTERVAL,
    )
}

/// Puts what the probe measured into the trial, with the derived costs.
pub fn apply_probe(trial: &mut Trial, report: ProbeReport, placement: &CpuPlacement) {
    trial.placement = Placement {
        pinned: placement.pinned(),
        client_cpus: placement.client.clone(),
        server_cpus: placement.server.clone(),
    };
    trial.costs = wirebench_report::costs::costs(
        &report.processes,
        trial.requests_ok,
        // The busyness of the client's CPUs speaks of the client only when
        // the client has them to itself; unpinned, the servers share them.
        report
            .cpu_set_busy_percent
            .first()
            .copied()
            .filter(|_| placement.pinned()),
        placement.available.len(),
    );
    trial.processes = report.processes;
}

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
        wire: spec.stack.wire_description(),
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
        server_workers: None,
        server_processes: None,
        hop: None,
        variant: None,
        repetition: 0,
        wire_bytes_sent: outcome.wire.sent,
        wire_bytes_received: outcome.wire.received,
        wire_bytes_sent_per_request: per_request(outcome.wire.sent, attempts),
        wire_bytes_received_per_request: per_request(outcome.wire.received, attempts),
        net: None,
        grpc_exec: None,
        placement: Placement::default(),
        processes: Vec::new(),
        costs: Default::default(),
    }
}

fn per_request(bytes: u64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| bytes as f64 / requests as f64)
}
