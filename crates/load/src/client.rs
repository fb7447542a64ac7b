//! How a request travels and whether its answer is right: one [`Client`]
//! per run, holding exactly `--connections` connections. Sender `i` always
//! uses connection `i % connections`, so the connection count is explicit
//! and what the report says is what happened on the wire.
//!
//! HTTP/1.1 carries one request at a time per connection, so senders that
//! share a connection take turns (a lock that is uncontended when there is
//! one connection per sender, the default). HTTP/2 and gRPC multiplex, so
//! senders share a channel freely (ghz's default is one connection).

pub mod dynamic;
mod grpc;
mod http1;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};

use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::BodyCheck;

pub use grpc::{GrpcCall, channel};

/// What to load, protocol included.
// One per run, never on the hot path: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Target {
    Http(HttpTarget),
    Grpc {
        /// `host:port`.
        authority: String,
        call: GrpcCall,
    },
}

impl Target {
    /// What every answer is checked against, in words for the run header.
    pub fn describe_check(&self) -> String {
        match self {
            Target::Http(http) => format!("HTTP 2xx, {}", http.check.describe()),
            Target::Grpc { call, .. } => format!("grpc-status OK, {}", call.describe_check()),
        }
    }

    /// Connections used when `--connections` is not given: one per sender
    /// for HTTP/1.1 (it cannot multiplex), one for gRPC (as ghz does).
    pub fn default_connections(&self, senders: u32) -> u32 {
        match self {
            Target::Http(_) => senders,
            Target::Grpc { .. } => 1,
        }
    }
}

/// An HTTP/1.1 request to send again and again, and how to check its answer.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    pub uri: Uri,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub check: BodyCheck,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot use URL '{url}': {why}")]
    BadUrl { url: String, why: String },
    #[error("cannot resolve '{authority}': {source}")]
    Resolve {
        authority: String,
        #[source]
        source: std::io::Error,
    },
}

/// The connections of one run and the request they carry.
// One per run, shared by reference: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Client {
    Http1(http1::Http1Client),
    Grpc(grpc::GrpcClient),
}

impl Client {
    /// Prepares `connections` connections to `target`. Connections open on
    /// first use, so a server that is down shows up as `connect` errors in
    /// the run rather than stopping it.
    pub async fn new(target: &Target, connections: u32) -> Result<Client, SetupError> {
        match target {
            Target::Http(http) => Ok(Client::Http1(
                http1::Http1Client::new(http.clone(), connections).await?,
            )),
            Target::Grpc { authority, call } => Ok(Client::Grpc(grpc::GrpcClient::new(
                authority,
                call.clone(),
                connections,
            )?)),
        }
    }

    /// Sends one request on sender `sender_id`'s connection and verifies the
    /// answer; returns the response bytes received (body or message data).
    pub async fn call(&self, sender_id: usize, timeout: Duration) -> Result<u64, RequestFailure> {
        match self {
            Client::Http1(client) => client.call(sender_id, timeout).await,
            Client::Grpc(client) => client.call(sender_id, timeout).await,
        }
    }
}

fn timeout_failure(timeout: Duration) -> RequestFailure {
    RequestFailure::new(
        ErrorKind::Timeout,
        format!("no complete answer within {timeout:?}"),
    )
}
