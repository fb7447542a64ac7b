//! The result model. Every field is documented with its unit; see also
//! `docs/result-format.md` and `docs/result.schema.json` in the repository.
//!
//! Types in, derivations out: this file holds what a result *is* (every
//! record a result document stores, the capacity search's, the profile's,
//! the thresholds' and the agents' included) and imports nothing of the
//! crate but the statistics' types; what is derived from it lives beside
//! its derivation. The run's summary, in particular, is derived in one
//! place ([`crate::summary::summarize`]): [`RunResult::push_trial`] keeps
//! it current, and reading a result derives it again, so every exporter
//! reads the same figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wirebench_probe::{CpuSet, ProcessUsage};
use wirebench_proto::vocab::{LoadModel, Stack, StopAt, Workload};

use crate::stats::{RatioInterval, Spread};

/// Bumped whenever a field is renamed, removed, or changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// One result document: what was run, where, and what each trial measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredResult")]
pub struct RunResult {
    pub schema_version: u32,
    pub run: RunInfo,
    pub trials: Vec<Trial>,
    /// Derived from `trials`: per stack the median and spread, and each
    /// stack against the baseline with an interval (see `summary.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<RunSummary>,
    /// `bench --find-capacity`: per stack, the highest rate that met the
    /// SLO, and every step tried (the steps are not trials).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity: Vec<Capacity>,
}

impl RunResult {
    /// A result with no trial yet.
    pub fn new(run: RunInfo) -> RunResult {
        RunResult {
            schema_version: SCHEMA_VERSION,
            run,
            trials: Vec::new(),
            summary: None,
            capacity: Vec::new(),
        }
    }
}

/// A result as stored: its summary is derived again on reading
/// (`crate::summary`).
#[derive(Deserialize)]
pub(crate) struct StoredResult {
    pub(crate) schema_version: u32,
    pub(crate) run: RunInfo,
    pub(crate) trials: Vec<Trial>,
    #[serde(default)]
    pub(crate) capacity: Vec<Capacity>,
}

/// Provenance: enough to know exactly what produced the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The exact command line, one element per argument.
    pub command_line: Vec<String>,
    /// Every setting in force, defaults included, as the CLI resolved them.
    pub settings: serde_json::Value,
    pub machine: Machine,
    pub wirebench_version: String,
    /// `git rev-parse HEAD` of the build, when it was built from a checkout.
    pub git_commit: Option<String>,
    /// "release" or "debug"; numbers from a debug build mean nothing.
    pub build_profile: String,
    /// Wall-clock start of the run, RFC 3339, UTC.
    pub started_at: String,
    /// True when the run was stopped early (Ctrl-C, SIGTERM): the trials
    /// present are complete or marked `interrupted` themselves.
    pub interrupted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPUs online on the machine.
    pub cpus: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    pub os: String,
    pub arch: String,
    /// Ticks per second of /proc's CPU counters: what CPU times read from
    /// /proc (the fallback, `cpu_clock: proc-stat-ticks`) are exact to.
    #[serde(default)]
    pub clock_ticks_per_second: Option<u64>,
}

/// One measured run of one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub stack: Stack,
    pub workload: Workload,
    /// Where the load went (URL, or grpc://host:port/Service/Method).
    pub target: String,
    /// Payload size asked for, KiB (payload and echo workloads).
    pub size_kb: Option<u64>,
    /// The message workload: which message and direction ("order down").
    /// With the workload, the size and the network it names the trial's
    /// workload group (`crate::label::WorkloadGroup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The message workload: how the message's code was had, "compiled"
    /// (generated code, as production servers have it) or "dynamic"
    /// (reflection). Dynamic trials are never ranked against compiled
    /// ones: the message names the codegen too ("order (dynamic) down").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codegen: Option<String>,
    /// What each answer was checked against.
    pub verification: String,
    /// What still differs on the wire besides the protocol's name.
    pub wire: String,
    pub model: LoadModel,
    pub stop: StopAt,
    /// Warm-up before the window, seconds; not in any statistic.
    pub warmup_s: f64,
    /// TCP connections that carried the load.
    pub connections: u32,
    /// Verified good responses in the measured window.
    pub requests_ok: u64,
    /// Failed requests by kind (connect, timeout, reset, status, grpc_status,
    /// unavailable, wrong_body, protocol); only kinds that occurred.
    pub errors: BTreeMap<String, u64>,
    /// The first message seen of each error kind.
    pub error_examples: BTreeMap<String, String>,
    /// Failed requests by the status the server answered ("HTTP 503",
    /// "gRPC Unavailable", "tcp InvalidArgument"), as hey and ghz count
    /// them; absent when no failure carried one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_codes: BTreeMap<String, u64>,
    /// errors / (requests_ok + errors), 0..1.
    pub error_rate: f64,
    /// Length of the measured window, seconds.
    pub duration_s: f64,
    /// requests_ok / duration_s.
    pub throughput_rps: f64,
    /// Response payload bytes of good responses: the HTTP body, the gRPC
    /// message (encoded, without its 5-byte prefix), the TCP payload;
    /// headers and framing not included (see `wire_bytes_*` for those).
    pub bytes_received: u64,
    /// bytes_received / duration_s / 10^6.
    pub throughput_mb_s: f64,
    /// Latency of good responses, microseconds. In the `rate` model measured
    /// from the intended send time (coordinated omission corrected).
    pub latency_us: LatencySummary,
    /// `rate` model only: latency from the actual send time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_uncorrected_us: Option<LatencySummary>,
    /// The merged latency histogram, HdrHistogram V2 format, base64: results
    /// of several load generators can be merged exactly.
    pub latency_histogram: String,
    /// Open loop: `latency_uncorrected_us`'s histogram, encoded alike.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_uncorrected_histogram: Option<String>,
    /// `rate` model only: how late the load generator sent (its own error,
    /// never charged to a server; see `crate::lateness`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_lateness: Option<SendLateness>,
    /// One point per second of the measured window.
    pub timeline: Vec<TimelinePoint>,
    /// True when the run was stopped before this trial's window ended.
    pub interrupted: bool,
    /// Set when `--abort-on-fail` ended this trial's window early: the
    /// threshold that was lost, its value and when ("p99<5ms: 7.2 ms at
    /// 3 s"). The trial's figures are those of the shorter window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
    /// Tokio worker threads of each server process (bench only).
    #[serde(default)]
    pub server_workers: Option<usize>,
    /// Server processes sharing the port (bench only; uvicorn --workers).
    #[serde(default)]
    pub server_processes: Option<usize>,
    /// Pipeline over gRPC: how the services called each other ("stream" or
    /// "unary").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<String>,
    /// A label that tells apart trials of one stack in one run (e.g.
    /// "unary hops").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Where the load generator and the servers ran.
    #[serde(default)]
    pub placement: Placement,
    /// Every probed process over the measured window: the servers and the
    /// load generator itself ("client").
    #[serde(default)]
    pub processes: Vec<ProcessUsage>,
    /// What the window cost, derived from `processes`.
    #[serde(default)]
    pub costs: Costs,
    /// Which repetition of its configuration this trial is (0-based;
    /// `--trials K` runs every configuration K times, interleaved).
    #[serde(default)]
    pub repetition: u32,
    /// Bytes that crossed the load generator's sockets in the window (all
    /// headers, framing and TLS included), sent and received.
    #[serde(default)]
    pub wire_bytes_sent: u64,
    #[serde(default)]
    pub wire_bytes_received: u64,
    /// The same per request (good and failed), bytes.
    #[serde(default)]
    pub wire_bytes_sent_per_request: Option<f64>,
    #[serde(default)]
    pub wire_bytes_received_per_request: Option<f64>,
    /// Network conditions between the load generator and the servers
    /// (`--net`), e.g. "latency=20ms"; None: plain loopback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<String>,
    /// gRPC stacks: where handlers ran ("async" or "pool:N").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_exec: Option<String>,
    /// The payload over gRPC: the server's implementation, "tonic" or
    /// "grpcio" (gRPC C-core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_impl: Option<String>,
    /// JSON stacks started by wirebench: the servers' JSON codec
    /// ("serde_json" or "sonic-rs").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_codec: Option<String>,
    /// `--threshold`s, each with what the trial measured and whether it
    /// held; absent when none was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdOutcome>,
    /// Waits after failed connection attempts (a refusing server gets
    /// backoff, 10 ms doubling to 250 ms, not a storm); absent when every
    /// connection attempt succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_backoff: Option<ConnectBackoff>,
    /// `--rate-schedule` / `--concurrency-schedule`: the schedule as
    /// written, and each of its steps in the measured window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<ScheduleStep>,
    /// Calls of a streaming method: how they streamed and their messages;
    /// absent for unary calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<StreamStats>,
    /// `bench --profile`: where the window's CPU went, servers and load
    /// generator; absent without it (or when perf was not available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// A sharded run (`--shard`): the agent that measured this trial; after
    /// `wirebench merge`, every agent whose part was added in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<Agent>,
    /// `--server-metrics`: each server's metrics endpoint read at the
    /// window's edges. Without a local probe of the servers, `costs`'
    /// server figures come from these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_metrics: Vec<RemoteServer>,
    /// bench: the path between the load generator and the servers it
    /// started: "loopback", or with `--netns` the veth pair into the
    /// servers' namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_path: Option<String>,
    /// A mix of calls (`--mix`), or several targets: each measured apart,
    /// in the mix's order. The trial's own figures are the whole mix's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallResult>,
}

/// One call of a mix (or one target of several), measured apart from the
/// others over the trial's window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    pub name: String,
    /// Where it went, as a URL.
    pub target: String,
    /// Its weight's share of the requests, 0..1.
    pub weight_share: f64,
    pub requests_ok: u64,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
    pub error_rate: f64,
    pub throughput_rps: f64,
    pub bytes_received: u64,
    pub latency_us: LatencySummary,
    /// Base64 of the HdrHistogram (V2), so shards merge exactly.
    pub latency_histogram: String,
    /// Bytes its connections carried over the window, both directions.
    pub wire_bytes_sent: u64,
    pub wire_bytes_received: u64,
}

impl CallResult {
    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Every request it made in the window, good or not.
    pub fn attempts(&self) -> u64 {
        self.requests_ok + self.errors_total()
    }
}

/// The open loop's own error: actual send time minus due time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendLateness {
    /// How due times reached the senders: "precise" (a pacer thread on
    /// the kernel's high-resolution timer) or "timer" (tokio's, 1 ms).
    pub pacing: String,
    /// Lateness of the requests a sender was waiting for, microseconds.
    pub lateness_us: LatencySummary,
    /// `lateness_us`'s histogram, HdrHistogram V2, base64 (merged exactly).
    pub histogram: String,
    /// Requests whose due time came while every sender was busy (the
    /// in-flight bound `-c` was reached): they waited for a sender, which
    /// the corrected latency includes; not lateness of the generator.
    pub due_while_busy: u64,
}

/// A server measured through its metrics endpoint over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteServer {
    pub url: String,
    /// Between the two readings, seconds.
    pub window_s: f64,
    /// `process_cpu_seconds_total`'s increase, seconds.
    pub cpu_s: f64,
    /// cpu_s / window_s * 100: 100 = one core busy throughout.
    pub cpu_percent: f64,
    /// `process_resident_memory_bytes` at the end.
    pub rss_bytes: Option<u64>,
    /// `process_threads` at the end.
    pub threads: Option<u64>,
    /// `wirebench_requests_total`'s increase: requests the server handled.
    pub requests: Option<u64>,
    /// `wirebench_bytes_written_total`'s increase.
    pub bytes_written: Option<u64>,
}

/// The messages of a trial's streaming calls (each call is one request
/// of the trial's counts and latency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamStats {
    /// "server streaming", "client streaming" or "bidi".
    pub kind: String,
    /// Messages each call sent (`--stream-messages`; 1 when only the
    /// server streams), and the wait between two (`--stream-interval`).
    pub messages_per_call: u32,
    pub interval_s: f64,
    /// Messages of the good calls in the measured window, each way.
    pub messages_sent: u64,
    pub messages_received: u64,
    pub messages_received_per_s: f64,
    /// Each answer message's latency, microseconds: since the message it
    /// answers was sent (bidi: the k-th answer, the k-th message; client
    /// streaming: the last), or, server streaming, since the answer before
    /// it (the first: since the request).
    pub message_latency_us: LatencySummary,
}

/// One step of a schedule: what was offered and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleStep {
    /// Seconds since the measured window began.
    pub from_s: f64,
    pub to_s: f64,
    /// The rate (req/s) or the concurrency the step began with.
    pub offered: f64,
    pub requests_ok: u64,
    pub errors: u64,
    pub throughput_rps: f64,
    /// p99 of the step's good responses (from the intended send time in
    /// the open loop), microseconds.
    pub p99_us: u64,
}

/// How often, and how long in all, the load generator's senders waited
/// after failed connection attempts (warm-up included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectBackoff {
    /// Connection attempts that failed (each connection is tried by one
    /// sender at a time, so this is what the server saw).
    #[serde(default)]
    pub failed_attempts: u64,
    pub waits: u64,
    pub waited_s: f64,
}

/// CPU placement of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Placement {
    /// False when nothing was pinned (--no-pin, or a single CPU).
    pub pinned: bool,
    pub client_cpus: Option<CpuSet>,
    pub server_cpus: Option<CpuSet>,
}

/// Resource cost of a trial, from the probe. CPU percentages: 100 = one
/// core busy for the whole window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Costs {
    /// All server processes together.
    pub server_cpu_percent: f64,
    pub client_cpu_percent: f64,
    /// Largest RSS of any one server process, bytes.
    pub server_rss_peak_bytes: u64,
    /// Server CPU milliseconds per good response.
    pub server_cpu_ms_per_request: Option<f64>,
    /// Good responses per server CPU-second.
    pub requests_per_server_cpu_second: Option<f64>,
    pub client_cpu_ms_per_request: Option<f64>,
    pub requests_per_client_cpu_second: Option<f64>,
    /// How busy the client's CPUs were, by any process, 0..100.
    pub client_cpus_busy_percent: Option<f64>,
    /// The load generator had no CPU to spare (>= 90% of its CPU set, by
    /// itself or with others): the numbers measure the load generator, not
    /// the server.
    pub client_bound: bool,
    /// The servers used >= 90% of their CPU set.
    pub server_saturated: bool,
    /// Bytes all server processes wrote to their sockets, per good
    /// response: the answers to the client, and in the pipeline every
    /// request and answer between services too. Absent when not probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_bytes_written_per_request: Option<f64>,
}

/// Latency percentiles, microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct LatencySummary {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// One second of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// End of the interval, seconds since the measured window began.
    pub t_s: f64,
    pub requests_ok: u64,
    pub errors: u64,
    /// p99 latency of the good responses completed in this interval, us.
    pub p99_us: u64,
    /// Sharded runs: this second's latency histogram (as
    /// `latency_histogram`), so that merged timelines are exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_histogram: Option<String>,
}

impl Trial {
    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The run in a few numbers: see [`crate::summary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub groups: Vec<GroupSummary>,
    pub ratios: Vec<GroupRatio>,
}

/// One configuration over its repetitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub label: String,
    /// Its workload group (`crate::label::WorkloadGroup`): configurations
    /// are compared only within one.
    pub workload: String,
    /// The configuration its workload group's others are compared with
    /// (the group's first that is not the TCP ceiling).
    pub baseline: bool,
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
    /// Median throughput / the median throughput of the TCP ceiling of
    /// the same workload group.
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

// Records of the capacity search (`crate::capacity`), the profile
// (`crate::profile`), the thresholds (`crate::threshold`) and the agents
// of a sharded run (`crate::merge`): stored in a result, derived there.

/// One stack's search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The stack (and variant) as trials are labelled: "grpc".
    pub label: String,
    /// The SLO's terms as written: ["p99<20ms", "errors<0.1%"].
    pub slo: Vec<String>,
    /// The highest offered rate decided as meeting the SLO, requests per
    /// second; null when not even the lowest step did.
    pub capacity_rps: Option<f64>,
    /// The lowest offered rate decided as missing it: the capacity lies in
    /// [capacity_rps, missed_rps). Null when no rate missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_rps: Option<f64>,
    /// The capacity was met twice: the search ran it again to confirm
    /// it. False when the search ran out of steps first (or found none).
    #[serde(default)]
    pub confirmed: bool,
    /// Every step, in the order tried (a ramp, then a bisection).
    pub steps: Vec<CapacityStep>,
    /// What stopped it at the lowest rate missed: "load generator" (in a
    /// run of it the client had no CPU to spare or sent late: the figure
    /// is a floor), "server" (the servers' CPU set was saturated in every
    /// run of it, and the generator was on time), or "unclear" (neither
    /// side's CPU was saturated: noise, or a limit other than CPU); null
    /// when no rate missed.
    pub limited_by: Option<String>,
}

/// One rate tried, open loop, for one step's window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    pub offered_rps: f64,
    /// Good responses per second.
    pub achieved_rps: f64,
    /// Latency from the intended send time, microseconds.
    pub p99_us: u64,
    pub error_rate: f64,
    pub server_cpu_percent: f64,
    pub client_bound: bool,
    /// The servers used their whole CPU set.
    #[serde(default)]
    pub server_saturated: bool,
    /// How late the generator sent, p99, microseconds, and whether that
    /// was material (`crate::lateness`).
    #[serde(default)]
    pub lateness_p99_us: Option<u64>,
    #[serde(default)]
    pub generator_late: bool,
    /// Which run of this rate's decision (1-based): a rate is decided by
    /// one run when it met the SLO with a margin of 2x on every term,
    /// else by two runs that agree, else by the majority of three.
    #[serde(default = "first_run")]
    pub run: u32,
    /// Every SLO term held and the rate was sustained.
    pub met: bool,
    /// Why not: the terms that failed, and "sustained" when fewer than
    /// 95% of the offered requests were answered well.
    pub failed: Vec<String>,
}

/// How a trial fared against one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdOutcome {
    /// The threshold as written, `p99<50ms`.
    pub threshold: String,
    /// What the trial measured, in the threshold's unit (microseconds,
    /// requests per second, or a fraction); null when it measured nothing
    /// (no good response to take a latency from).
    pub value: Option<f64>,
    pub passed: bool,
}

/// What a sampled function does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// serde, serde_json, sonic-rs, prost, pbjson, UTF-8 checks.
    Encoding,
    /// hyper, h2, tonic, axum, http, tower: HTTP and gRPC framing.
    Framing,
    /// rustls, ring, aws-lc.
    Tls,
    /// malloc and free, memcpy, memmove, memset.
    AllocCopy,
    /// The kernel's TCP/IP, sockets and copies to and from them.
    KernelNet,
    /// Everything else: tokio, the handlers' own work, the scheduler.
    Other,
}

/// One category's share of a role's samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub category: Category,
    pub percent: f64,
}

/// The profile of one trial's measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Samples per second of CPU time per process (`perf record -F`).
    pub frequency_hz: u32,
    /// Samples of the servers, and of the load generator.
    pub server_samples: u64,
    pub client_samples: u64,
    /// Shares of the servers' samples, then of the load generator's.
    pub server: Vec<Share>,
    pub client: Vec<Share>,
    /// Folded stacks, "server;frame;...;frame COUNT" (or "load
    /// generator;..."), the heaviest first, at most [`crate::profile::MAX_FOLDED`]: the
    /// flame graph's input.
    pub folded: Vec<String>,
}

/// One load agent of a sharded run, as the result lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Agent {
    /// Agent `index` of `count` (from 0).
    pub index: u32,
    pub count: u32,
    /// The host (a pod's name in Kubernetes).
    pub host: String,
    /// When its plan began, RFC 3339 UTC.
    pub started_at: String,
    /// How late it began after `--start-at`, milliseconds; absent without
    /// a start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_lateness_ms: Option<f64>,
    pub connections: u32,
    pub requests_ok: u64,
    pub errors: u64,
    /// The agent's own CPU, percent of one core.
    pub client_cpu_percent: f64,
    /// The agent had no CPU to spare: its share measured itself.
    pub client_bound: bool,
}

fn first_run() -> u32 {
    1
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The exporters' fixture (tests/fixtures/result.json).
    pub fn result_fixture() -> RunResult {
        serde_json::from_str(include_str!("../tests/fixtures/result.json"))
            .expect("the fixture is a result")
    }

    /// The fixture's first trial, to change field by field.
    pub fn trial_fixture() -> Trial {
        result_fixture().trials.remove(0)
    }
}
