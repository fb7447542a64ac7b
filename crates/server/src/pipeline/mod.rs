//! Seed 002's three-service pipeline: producer -> processor -> aggregator.
//!
//! A client request goes to the aggregator, which asks the processor, which
//! asks the producer. Shaped like the payload service: the roles' work is
//! written once ([`roles`], over the shared `pipeline_work`), and each
//! stack's adapter only decodes a request, calls the role and encodes its
//! answer. Every hop speaks the stack the client does, so one factor
//! changes at a time along the whole chain; each hop kind implements the
//! one [`roles::Upstream`] trait:
//! - [`rest`]: `rest`, `rest-h2` and `rest-proto`: pooled keep-alive
//!   HTTP/1.1 (or one multiplexed HTTP/2 connection) between services,
//!   JSON or protobuf bodies.
//! - [`grpc`]: `grpc` and `grpc-json`; the hop ([`grpc_hop`]) is one
//!   long-lived bidirectional stream per hop ([`stream_hop`], the seed's
//!   design) or plain unary calls (`HopMode::Unary`), so streaming and
//!   unary can be measured apart.
//! - [`tcp`]: the ceiling, protobuf messages in bare length-prefixed
//!   frames over pooled connections.
//!
//! Each also runs `+tls`: the listener is TLS, and the hop connects
//! through [`hop_connect`] trusting the certificate it was given.
//!
//! When the next service is down, a role answers at once with 503 /
//! UNAVAILABLE and says which service is missing; when it comes back,
//! traffic resumes without a restart (pools reconnect, streams reopen).

pub mod grpc;
pub mod grpc_hop;
pub mod hop_connect;
pub mod rest;
pub mod roles;
pub mod stream_hop;
pub mod tcp;

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use wirebench_proto::vocab::{Stack, UnknownName};

pub use wirebench_proto::pipeline_work::{DEFAULT_MAX_RECORDS, DEFAULT_RECORDS};

use crate::{ServeError, ServeOptions};
/// How long a role waits for the next service before answering 503.
pub const DEFAULT_HOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Which of the three services a process is: the vocabulary's.
pub use wirebench_proto::vocab::Role;

/// How gRPC services call each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HopMode {
    /// One long-lived bidirectional stream per hop, many requests in flight
    /// on it, answers matched by request id (the seed's design).
    #[default]
    Stream,
    /// One unary call per request.
    Unary,
}

impl HopMode {
    pub fn name(self) -> &'static str {
        match self {
            HopMode::Stream => "stream",
            HopMode::Unary => "unary",
        }
    }
}

impl FromStr for HopMode {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stream" => Ok(HopMode::Stream),
            "unary" => Ok(HopMode::Unary),
            _ => Err(UnknownName {
                what: "hop mode",
                got: s.to_owned(),
                expected: "stream, unary".to_owned(),
            }),
        }
    }
}

/// How many records a request may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// What a request that says 0 (or nothing) gets.
    pub default_records: u32,
    pub max_records: u32,
}

impl Limits {
    /// The number of records a request asks for (0 = the default), checked
    /// against the limit before any work is done.
    pub fn records(&self, requested: u32) -> Result<u32, PipelineError> {
        let n = if requested == 0 {
            self.default_records
        } else {
            requested
        };
        if n > self.max_records {
            return Err(PipelineError::TooLarge {
                requested: n,
                limit: self.max_records,
            });
        }
        Ok(n)
    }
}

/// What makes a server a pipeline role, besides the options every server
/// has ([`ServeOptions`]: TLS, timeouts).
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub role: Role,
    /// `host:port` of the service this role calls (processor, aggregator).
    pub upstream: Option<String>,
    pub limits: Limits,
    pub hop: HopMode,
    pub hop_timeout: Duration,
    /// `+tls` stacks, processor and aggregator: how to reach the next
    /// service (the certificates trusted, the stack's ALPN).
    pub upstream_tls: Option<Arc<rustls::ClientConfig>>,
}

/// Why a pipeline request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{requested} records is over this server's limit of {limit} (--max-records)")]
    TooLarge { requested: u32, limit: u32 },
    /// The next service could not be reached or did not answer in time.
    #[error("{0}")]
    Unavailable(String),
    /// The next service answered, but not with a good answer.
    #[error("{0}")]
    BadUpstream(String),
}

impl PipelineConfig {
    fn upstream(&self) -> String {
        self.upstream
            .clone()
            .unwrap_or_else(|| "127.0.0.1:0".to_owned())
    }

    /// How this role connects to the next service.
    fn hop_connector(&self) -> hop_connect::HopConnector {
        hop_connect::HopConnector {
            tls: self.upstream_tls.clone(),
        }
    }

    /// The message of a hop that failed: "producer at 127.0.0.1:8000".
    fn next_service(&self) -> String {
        format!(
            "{} at {}",
            self.role.next().map_or("next service", Role::name),
            self.upstream()
        )
    }
}

/// One pipeline role as a service: the role calls the next one over the
/// same stack.
impl crate::Service for PipelineConfig {
    fn check(&self, stack: Stack) -> Result<(), ServeError> {
        if self.role.next().is_some() && stack.tls != self.upstream_tls.is_some() {
            return Err(ServeError::TlsMismatch(stack.name()));
        }
        if !stack.carries_pipeline() {
            return Err(ServeError::Unsupported(format!(
                "the pipeline's hops speak HTTP/1.1, HTTP/2 or TCP (no HTTP/3 hops): {stack} serves the payload and message workloads"
            )));
        }
        Ok(())
    }

    fn rest(self, stack: Stack) -> Result<axum::Router, ServeError> {
        Ok(rest::router(stack, &self))
    }

    async fn grpc(
        self,
        incoming: crate::listener::Incoming,
        stack: Stack,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        grpc::serve(incoming, stack, &self, options, shutdown).await
    }

    async fn tcp(
        self,
        incoming: crate::listener::Incoming,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        tcp::serve(incoming, &self, options.request_timeout, shutdown).await
    }
}
