//! Builds the result model's [`Trial`] once, from what the trial was
//! ([`TrialSpec`], complete before it ran) and what was measured (the
//! engine's outcome, the probe's report, the profile): every figure that
//! derives from another (costs, thresholds, the agent) is worked out
//! first, and the `Trial` is written in one expression. No field is filled
//! in later.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use wirebench_load::engine::Pacing;
use wirebench_load::{LoadOutcome, LoadPlan, Target};
use wirebench_probe::{CpuSet, Probe, ProbeReport, ProcessRole, Watched};
use wirebench_proto::vocab::{Stack, Workload};
use wirebench_report::histogram;
use wirebench_report::model::{ConnectBackoff, ScheduleStep, SendLateness, StreamStats};
use wirebench_report::threshold::Threshold;
use wirebench_report::{LatencySummary, Placement, RunResult, TimelinePoint, Trial};

use crate::placement::CpuPlacement;

/// The shortest window whose CPU-set busyness (from /proc/stat's 10 ms
/// ticks) is read: within 1% over it.
const CPU_SET_MIN_WINDOW_S: f64 = 1.0;

/// How often the probe samples (the window totals are exact regardless).
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Starts probing `servers` (role, pid) and this process (the load
/// generator) from the end of `plan`'s warm-up on. Call right before the
/// load starts.
pub fn start_probe(plan: &LoadPlan, servers: &[(ProcessRole, u32)], client_cpus: &CpuSet) -> Probe {
    let mut watched: Vec<Watched> = servers
        .iter()
        .map(|&(role, pid)| Watched { role, pid })
        .collect();
    watched.push(Watched {
        role: ProcessRole::Client,
        pid: std::process::id(),
    });
    Probe::start(
        watched,
        vec![client_cpus.clone()],
        Instant::now() + plan.warmup(),
        PROBE_INTERVAL,
    )
}

/// What one measured window gave.
pub struct Measured {
    pub outcome: LoadOutcome,
    pub probed: ProbeReport,
    /// `--server-metrics`: the servers' endpoints over the window.
    pub server_metrics: Vec<wirebench_report::model::RemoteServer>,
    /// `--abort-on-fail` ended the window: the threshold that was lost.
    pub aborted: Option<String>,
}

/// What a measured window watches, besides the client that loads it.
pub struct Window<'a> {
    pub plan: &'a LoadPlan,
    /// The live view or progress line, and `--abort-on-fail`'s judge.
    pub watcher: crate::progress::Watch<'a>,
    /// The servers to probe: (role, pid).
    pub servers: &'a [(ProcessRole, u32)],
    pub client_cpus: &'a CpuSet,
    /// `--server-metrics`: endpoints read at the window's edges.
    pub metrics_urls: &'a [String],
    pub cancel: &'a crate::signals::Cancel,
}

/// The measurement `bench` and `load` both run, once: the probe on the
/// servers and this process, the servers' metrics endpoints, the live view
/// or progress line, and the engine driving `client` over the plan until
/// it ends or the run is cancelled.
pub async fn measure<C: wirebench_load::engine::Call>(
    window: Window<'_>,
    client: std::sync::Arc<C>,
) -> Measured {
    let Window {
        plan,
        mut watcher,
        servers,
        client_cpus,
        metrics_urls,
        cancel,
    } = window;
    let probe = start_probe(plan, servers, client_cpus);
    let watch = crate::server_metrics::watch(metrics_urls, plan.warmup());
    let outcome =
        wirebench_load::run_observed(plan, client, cancel.cancelled(), |p| watcher.observe(p))
            .await;
    let aborted = watcher.finish();
    let probed = probe.stop();
    let server_metrics = match watch {
        Some(watch) => watch.finish().await,
        None => Vec::new(),
    };
    Measured {
        outcome,
        probed,
        server_metrics,
        aborted,
    }
}

/// What the trial was, besides what it measured.
pub struct TrialSpec<'a> {
    pub stack: Stack,
    pub workload: Workload,
    pub size_kb: Option<u64>,
    /// The message workload's message and direction.
    pub message: Option<String>,
    /// The message's codegen: "compiled" or "dynamic".
    pub codegen: Option<String>,
    pub target: &'a Target,
    pub plan: &'a LoadPlan,
    /// Set when wirebench started the servers (bench).
    pub servers: Option<ServerSpec>,
    /// 0-based repetition of its configuration.
    pub repetition: u32,
    pub variant: Option<String>,
    /// Network conditions, as given.
    pub net: Option<String>,
    /// `--threshold`s the trial is judged by.
    pub thresholds: &'a [Threshold],
    /// `--abort-on-fail` ended the window early: the threshold lost.
    pub aborted: Option<String>,
    /// A sharded run: this agent (what it measured is added).
    pub agent: Option<wirebench_report::Agent>,
    /// `--server-metrics`: the servers' endpoints over the window.
    pub server_metrics: Vec<wirebench_report::model::RemoteServer>,
    /// bench: how the load reached the servers it started.
    pub network_path: Option<String>,
    /// `--profile`: where the CPU went, when perf recorded the window.
    pub profile: Option<wirebench_report::profile::Profile>,
    /// The TLS version the load generator's connections negotiated.
    pub tls_version: Option<&'static str>,
    /// A mix, or several targets: each call, in the mix's order (empty
    /// for one call).
    pub calls: Vec<CallSpec>,
}

/// One call of a mix: its name, where it goes, its weight's share.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub name: String,
    pub target: String,
    pub weight_share: f64,
}

/// Each call of a mix, from the engine's tally of it.
fn call_results(specs: &[CallSpec], outcome: &LoadOutcome) -> Vec<wirebench_report::CallResult> {
    specs
        .iter()
        .zip(&outcome.tally.calls)
        .zip(&outcome.calls)
        .map(|((spec, tally), (_, wire))| {
            let errors = tally.errors.total();
            let attempts = tally.requests_ok + errors;
            wirebench_report::CallResult {
                name: spec.name.clone(),
                target: spec.target.clone(),
                weight_share: spec.weight_share,
                requests_ok: tally.requests_ok,
                errors: tally.errors.by_name(),
                error_rate: if attempts == 0 {
                    0.0
                } else {
                    errors as f64 / attempts as f64
                },
                throughput_rps: wirebench_load::engine::rate(tally.requests_ok, outcome.measured),
                bytes_received: tally.bytes_received,
                latency_us: LatencySummary::from_histogram(&tally.latency_us),
                latency_histogram: histogram::encode(&tally.latency_us),
                wire_bytes_sent: wire.sent,
                wire_bytes_received: wire.received,
            }
        })
        .collect()
}

/// The servers of a trial that wirebench started.
pub struct ServerSpec {
    pub workers: usize,
    pub processes: usize,
    /// The pipeline over gRPC: "stream" or "unary".
    pub hop: Option<String>,
    /// The payload over gRPC: where handlers ran.
    pub grpc_exec: Option<String>,
    /// The payload over gRPC: the server's implementation.
    pub grpc_impl: Option<String>,
    /// JSON stacks: the servers' codec.
    pub json_codec: Option<String>,
}

/// The trial, from its spec and everything measured.
pub fn assemble(
    spec: TrialSpec<'_>,
    outcome: &LoadOutcome,
    probed: ProbeReport,
    placement: &CpuPlacement,
) -> Trial {
    let tally = &outcome.tally;
    let duration_s = outcome.measured.as_secs_f64();
    let errors = tally.errors.total();
    let attempts = tally.requests_ok + errors;
    let mut costs = wirebench_report::costs::costs(
        &probed.processes,
        tally.requests_ok,
        // The busyness of the client's CPUs speaks of the client only when
        // the client has them to itself (unpinned, the servers share
        // them), and only over a window of 100 of /proc/stat's ticks or
        // more: over a 10 ms window, one tick is 100% busy.
        probed
            .cpu_set_busy_percent
            .first()
            .copied()
            .filter(|_| placement.pinned() && probed.window_s >= CPU_SET_MIN_WINDOW_S),
        placement.available.len(),
    );
    if spec.stack.is_quic() {
        // /proc's wchar counts write calls, not the sendmsg of UDP: a
        // QUIC server's bytes out are unknown there (the client's wire
        // bytes, quinn's count, still are).
        costs.server_bytes_written_per_request = None;
    }
    if !probed.processes.iter().any(|p| !p.role.is_client()) {
        // Servers wirebench could not probe: their metrics endpoints say.
        wirebench_report::costs::from_remote(&mut costs, &spec.server_metrics, tally.requests_ok);
    }
    let figures = wirebench_report::threshold::Figures {
        rps: outcome.throughput_rps(),
        error_rate: if attempts == 0 {
            0.0
        } else {
            errors as f64 / attempts as f64
        },
        latency_us: &tally.latency_us,
    };
    let thresholds = spec
        .thresholds
        .iter()
        .map(|t| t.check_figures(&figures))
        .collect();
    let agents = spec
        .agent
        .map(|a| a.measured(spec.plan.connections(), tally.requests_ok, errors, &costs))
        .into_iter()
        .collect();
    let servers = spec.servers.as_ref();
    Trial {
        stack: spec.stack,
        workload: spec.workload,
        target: spec.target.label(),
        size_kb: spec.size_kb,
        message: spec.message,
        codegen: spec.codegen,
        verification: spec.target.describe_check(),
        wire: match spec
            .tls_version
            .filter(|_| spec.stack.tls && !spec.stack.is_quic())
        {
            Some(version) => spec
                .stack
                .wire_description()
                .replace(", over TLS", &format!(", over {version} (negotiated)")),
            None => spec.stack.wire_description(),
        },
        model: spec.plan.model(),
        stop: spec.plan.stop(),
        warmup_s: spec.plan.warmup().as_secs_f64(),
        connections: spec.plan.connections(),
        requests_ok: tally.requests_ok,
        errors: tally.errors.by_name(),
        error_examples: tally.errors.examples_by_name(),
        error_codes: tally.errors.codes().clone(),
        error_rate: figures.error_rate,
        duration_s,
        throughput_rps: figures.rps,
        bytes_received: tally.bytes_received,
        throughput_mb_s: wirebench_load::engine::rate(tally.bytes_received, outcome.measured) / 1e6,
        latency_us: LatencySummary::from_histogram(&tally.latency_us),
        latency_uncorrected_us: tally
            .latency_uncorrected_us
            .as_ref()
            .map(LatencySummary::from_histogram),
        latency_histogram: histogram::encode(&tally.latency_us),
        latency_uncorrected_histogram: tally.latency_uncorrected_us.as_ref().map(histogram::encode),
        send_lateness: tally.lateness_us.as_ref().map(|h| SendLateness {
            pacing: match spec.plan.pacing() {
                Pacing::Precise => "precise",
                Pacing::Timer => "timer",
            }
            .to_owned(),
            lateness_us: LatencySummary::from_histogram(h),
            histogram: histogram::encode(h),
            due_while_busy: tally.due_while_busy,
        }),
        timeline: outcome
            .timeline
            .iter()
            .map(|p| TimelinePoint {
                t_s: p.t_s,
                requests_ok: p.requests_ok,
                errors: p.errors,
                p99_us: p.p99_us,
                latency_histogram: p.latency_v2.as_deref().map(histogram::encode_serialized),
            })
            .collect(),
        interrupted: outcome.interrupted,
        aborted: spec.aborted,
        server_workers: servers.map(|s| s.workers),
        server_processes: servers.map(|s| s.processes),
        hop: servers.and_then(|s| s.hop.clone()),
        variant: spec.variant,
        repetition: spec.repetition,
        wire_bytes_sent: outcome.wire.sent,
        wire_bytes_received: outcome.wire.received,
        wire_bytes_sent_per_request: per_request(outcome.wire.sent, attempts),
        wire_bytes_received_per_request: per_request(outcome.wire.received, attempts),
        net: spec.net,
        grpc_exec: servers.and_then(|s| s.grpc_exec.clone()),
        grpc_impl: servers.and_then(|s| s.grpc_impl.clone()),
        json_codec: servers.and_then(|s| s.json_codec.clone()),
        thresholds,
        schedule: spec.plan.schedule().map(|s| s.to_string()),
        steps: outcome
            .steps
            .iter()
            .map(|s| ScheduleStep {
                from_s: s.from_s,
                to_s: s.to_s,
                offered: s.offered,
                requests_ok: s.requests_ok,
                errors: s.errors,
                throughput_rps: s.requests_ok as f64 / (s.to_s - s.from_s).max(1e-9),
                p99_us: s.p99_us,
            })
            .collect(),
        streams: stream_stats(spec.target, outcome),
        profile: spec.profile,
        connect_backoff: (outcome.backoff.waits > 0).then_some(ConnectBackoff {
            failed_attempts: outcome.backoff.failed_attempts,
            waits: outcome.backoff.waits,
            waited_s: outcome.backoff.waited.as_secs_f64(),
        }),
        placement: Placement {
            pinned: placement.pinned(),
            client_cpus: placement.client.clone(),
            server_cpus: placement.server.clone(),
        },
        processes: probed.processes,
        costs,
        agents,
        server_metrics: spec.server_metrics,
        network_path: spec.network_path,
        calls: call_results(&spec.calls, outcome),
    }
}

/// The messages of a streaming method's calls, if the target's method
/// streams.
fn stream_stats(target: &Target, outcome: &LoadOutcome) -> Option<StreamStats> {
    let wirebench_load::TargetKind::Grpc {
        streaming: Some(streaming),
        ..
    } = &target.kind
    else {
        return None;
    };
    let messages = outcome.tally.messages.as_ref();
    Some(StreamStats {
        kind: streaming.kind().to_owned(),
        messages_per_call: streaming.sends(),
        interval_s: streaming.interval.as_secs_f64(),
        messages_sent: messages.map_or(0, |m| m.sent),
        messages_received: messages.map_or(0, |m| m.received),
        messages_received_per_s: wirebench_load::engine::rate(
            messages.map_or(0, |m| m.received),
            outcome.measured,
        ),
        message_latency_us: messages
            .map(|m| LatencySummary::from_histogram(&m.latency_us))
            .unwrap_or_default(),
    })
}

fn per_request(bytes: u64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| bytes as f64 / requests as f64)
}

/// The exit code of a run in which some trial had no good answer at all.
pub const NO_REQUEST_SUCCEEDED: u8 = 98;

/// How a command that ran `result` exits: 130 when interrupted, 99 (k6's)
/// when a `--threshold` failed or `--abort-on-fail` stopped a trial, 98 when a trial had no good answer, else 0.
pub fn exit_code(result: &RunResult) -> ExitCode {
    let failed = result
        .trials
        .iter()
        .any(|trial| trial.aborted.is_some() || trial.thresholds.iter().any(|t| !t.passed));
    // A trial that ran its course without one good answer measured
    // nothing: a script must not read it as a pass.
    let nothing = result
        .trials
        .iter()
        .any(|trial| !trial.interrupted && trial.requests_ok == 0);
    if result.run.interrupted {
        ExitCode::from(130)
    } else if failed {
        ExitCode::from(99)
    } else if nothing {
        ExitCode::from(NO_REQUEST_SUCCEEDED)
    } else {
        ExitCode::SUCCESS
    }
}
