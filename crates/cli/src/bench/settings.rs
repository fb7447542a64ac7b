//! What a bench run was asked to do, resolved: the settings as the result
//! records them. [`super::config`] fills them from flags, preset and
//! defaults; [`super::trials`] and [`super::capacity`] read them. A leaf of
//! `bench`, so neither reader imports the resolver.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use wirebench_load::LoadPlan;
use wirebench_netsim::NetConditions;
use wirebench_probe::CpuSet;
use wirebench_proto::message::compiled::Codegen;
use wirebench_proto::message::{Direction, MessageSource};
use wirebench_proto::vocab::{Stack, Workload};
use wirebench_report::threshold::Threshold;
use wirebench_server::grpc::{GrpcExec, GrpcImpl};
use wirebench_server::pipeline::HopMode;

/// The resolved settings, serialized as they are into the result.
#[derive(Debug, Clone, Serialize)]
pub struct BenchSettings {
    pub command: &'static str,
    pub preset: Option<String>,
    pub workload: Workload,
    pub stacks: Vec<Stack>,
    pub size_kb: u64,
    /// `--sizes`: the sweep, KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<u64>>,
    pub records: u32,
    pub hops: Vec<HopMode>,
    #[serde(serialize_with = "as_text")]
    pub grpc_exec: Vec<GrpcExec>,
    /// The grpc stack's server implementations (`--grpc-impl`).
    #[serde(serialize_with = "as_text")]
    pub grpc_impl: Vec<GrpcImpl>,
    /// The JSON stacks' codecs (`--json-codec`), each a variation.
    pub json_codec: Vec<wirebench_proto::json::Codec>,
    /// Repetitions of every configuration.
    pub trials: u32,
    pub net: Option<NetConditions>,
    pub server_workers: Vec<usize>,
    pub server_processes: Vec<usize>,
    pub client_threads: usize,
    pub client_cpus: Option<CpuSet>,
    pub server_cpus: Option<CpuSet>,
    pub max_size_kb: u64,
    /// The load plan of each stack.
    pub plans: BTreeMap<String, LoadPlan>,
    /// The message workload's messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageSettings>,
    /// `--threshold`s every trial is judged by.
    #[serde(serialize_with = "as_text")]
    pub thresholds: Vec<Threshold>,
    /// `--abort-on-fail`: a trial stops at its first lost threshold, judged
    /// from this far into its window (`--abort-delay`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_after: Option<Duration>,
    /// `--find-capacity`: the search instead of trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacitySearch>,
    /// `--target` and `--server-metrics`: servers bench did not start.
    pub remote: super::remote::Remote,
    /// `--netns`: the servers in a network namespace behind a veth pair.
    pub netns: bool,
}

/// Which messages the message workload sends.
#[derive(Debug, Clone, Serialize)]
pub struct MessageSettings {
    /// Built-in shapes (as generated types or through reflection), or the
    /// user's own message.
    pub sources: Vec<MessageSource>,
    pub directions: Vec<Direction>,
    /// How the messages' code was had, as run (a factor when there are
    /// two): "compiled" or "dynamic".
    pub codegen: Vec<Codegen>,
    /// Why a schema asked for compiled was served dynamic (no cargo).
    pub codegen_fallback: Option<String>,
    /// Each message, encoded both ways.
    pub sizes: Vec<MessageSize>,
}

/// One message's encoded size: what the encoding alone costs on the wire.
#[derive(Debug, Clone, Serialize)]
pub struct MessageSize {
    /// "order", "order (dynamic)", "shop.v1.Order".
    pub message: String,
    /// The size it was scaled to (`--sizes`), KiB.
    pub target_kb: Option<u64>,
    /// How many messages are sent in turn (the lines of a data file); the
    /// sizes are their mean.
    pub messages: usize,
    pub protobuf_bytes: usize,
    pub json_bytes: usize,
}

pub(super) fn as_text<T: std::fmt::Display, S: serde::Serializer>(
    items: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(ToString::to_string))
}

/// The search's settings, as resolved from the flags.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CapacitySearch {
    #[serde(serialize_with = "as_text")]
    pub slo: Vec<Threshold>,
    /// The first rate tried, requests per second (`--rate`).
    pub start_rps: f64,
    /// Each step's measured window (`-t`) and warm-up (`--warmup`).
    #[serde(serialize_with = "seconds")]
    pub step: Duration,
    #[serde(serialize_with = "seconds")]
    pub warmup: Duration,
    /// Steps are lengthened to hold [`MIN_STEP_REQUESTS`] (when `-t` was
    /// not given: an explicit `-t` is the user's, and is kept).
    pub lengthen_steps: bool,
    /// Requests in flight at most (`-c`): the open loop's bound.
    pub max_in_flight: u32,
    pub timeout_s: f64,
}

fn seconds<S: serde::Serializer>(duration: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(duration.as_secs_f64())
}
