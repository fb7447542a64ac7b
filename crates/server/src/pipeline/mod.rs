//! Seed 002's three-service pipeline: producer -> processor -> aggregator.
//!
//! A client request goes to the aggregator, which asks the processor, which
//! asks the producer. The work is shared ([`work`]); each role's adapter
//! only moves it, and every hop speaks the stack the client does, so one
//! factor changes at a time along the whole chain:
//! - [`rest`]: `rest`, `rest-h2` and `rest-proto`: pooled keep-alive
//!   HTTP/1.1 (or one multiplexed HTTP/2 connection) between services,
//!   JSON or protobuf bodies.
//! - [`grpc`]: `grpc` and `grpc-json`: one long-lived bidirectional stream
//!   per hop ([`stream_hop`], the seed's design) or plain unary calls
//!   (`HopMode::Unary`), so streaming and unary can be measured apart.
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
pub mod stream_hop;
pub mod tcp;
pub mod work;

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use tokio::net::TcpListener;
use wirebench_proto::vocab::{Stack, StackKind, UnknownName};

use crate::ServeError;

/// Records per request when the request does not say (seed 002's batch).
pub const DEFAULT_RECORDS: u32 = 100;
/// Most records one request may ask for.
pub const DEFAULT_MAX_RECORDS: u32 = 100_000;
/// How long a role waits for the next service before answering 503.
pub const DEFAULT_HOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Which of the three services a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Producer,
    Processor,
    Aggregator,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Producer, Role::Processor, Role::Aggregator];

    pub fn name(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Processor => "processor",
            Role::Aggregator => "aggregator",
        }
    }

    /// The seed's ports.
    pub fn default_port(self, stack: Stack) -> u16 {
        let base = stack.default_port();
        base + match self {
            Role::Producer => 0,
            Role::Processor => 1,
            Role::Aggregator => 2,
        }
    }

    /// The role this one calls, if any.
    pub fn next(self) -> Option<Role> {
        match self {
            Role::Producer => None,
            Role::Processor => Some(Role::Producer),
            Role::Aggregator => Some(Role::Processor),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownName {
                what: "role",
                got: s.to_owned(),
                expected: "producer, processor, aggregator".to_owned(),
            })
    }
}

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

/// Everything a pipeline role needs besides its listener.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub role: Role,
    /// `host:port` of the service this role calls (processor, aggregator).
    pub upstream: Option<String>,
    pub default_records: u32,
    pub max_records: u32,
    pub hop: HopMode,
    pub hop_timeout: Duration,
    /// A connection with nothing read or written this long is closed.
    pub idle_timeout: Duration,
    /// `+tls` stacks: what this service presents to its callers.
    pub tls: Option<Arc<rustls::ServerConfig>>,
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

/// Serves one pipeline role over `stack` until `shutdown` completes; the
/// role calls the next one over the same stack.
pub async fn serve_pipeline(
    stack: Stack,
    listener: TcpListener,
    config: PipelineConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let calls_upstream = config.role.next().is_some();
    if stack.tls != config.tls.is_some()
        || (calls_upstream && stack.tls != config.upstream_tls.is_some())
    {
        return Err(ServeError::TlsMismatch(stack.name()));
    }
    let incoming = crate::listener::incoming(listener, config.tls.clone(), config.idle_timeout);
    match stack.kind {
        StackKind::Rest | StackKind::RestH2 | StackKind::RestProto => {
            rest::serve(incoming, stack.kind, config, shutdown).await;
            Ok(())
        }
        StackKind::Grpc => grpc::serve(incoming, false, config, shutdown).await,
        StackKind::GrpcJson => grpc::serve(incoming, true, config, shutdown).await,
        StackKind::Tcp => {
            tcp::serve(incoming, config, shutdown).await;
            Ok(())
        }
    }
}
