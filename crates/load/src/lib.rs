//! wirebench's load engine.
//!
//! One loop ([`engine::run`]) drives every protocol and every load model:
//! the model only decides *when* a sender may send ([`LoadModel`]), the
//! [`Client`] only decides *how* a request travels and whether its answer is
//! right. Measurement: a monotonic clock, latency into
//! sharded HDR histograms merged at the end (memory does not grow with the
//! number of requests), warm-up thrown away, open-loop latency from the
//! intended send time, every response verified, errors counted by kind.

pub mod client;
pub mod contract;
pub mod engine;
pub mod errors;
pub mod mix;
pub mod plan;
pub mod request_log;
pub mod schedule;
pub mod shard;
pub mod stats;
pub mod template;
pub mod verify;
pub mod weights;

pub use client::{
    Answer, Client, Connector, Exchange, Exchanges, HttpTarget, StreamAnswer, Streaming, Target,
    TargetKind, TlsClient, Trust, WireBytes,
};
pub use contract::Job;
pub use engine::{LoadOutcome, Progress, run, run_observed};
pub use errors::{ErrorKind, ErrorTally, RequestFailure};
pub use mix::{Mixed, Weights};
pub use plan::{LoadPlan, PlanError};
pub use shard::{Shard, ShardSpec};
pub use wirebench_proto::vocab::{LoadModel, StopAt};
