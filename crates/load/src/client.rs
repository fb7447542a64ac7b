//! How a request travels and whether its answer is right: one [`Client`]
//! per run, holding exactly `--connections` connections. Sender `i` always
//! uses connection `i % connections`, so the connection count is explicit
//! and what the report says is what happened on the wire.
//!
//! HTTP/1.1 and the TCP ceiling carry one request at a time per connection,
//! so senders that share a connection take turns (a lock that is
//! uncontended when there is one connection per sender, the default).
//! HTTP/2 and gRPC multiplex, so senders share a connection freely (ghz's
//! default is one connection). Every connection is opened by the
//! [`connector`], which counts the bytes on the wire.

pub mod connector;
pub mod dynamic;
mod grpc;
mod http1;
mod http2;
mod http_common;
mod tcp;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderMap, Method};

use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::BodyCheck;

pub use connector::{Connector, TlsClient, Trust, WireBytes};
pub use grpc::{GrpcCall, channel};

/// What to load: where, over TLS or not, and what to send.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub authority: String,
    pub tls: Option<TlsClient>,
    pub kind: TargetKind,
}

/// The request of a target, by protocol.
#[derive(Debug, Clone)]
pub enum TargetKind {
    Http(HttpTarget),
    /// gRPC, with the protobuf codec or (`json`) the JSON codec.
    Grpc {
        call: GrpcCall,
        json: bool,
    },
    /// The bare TCP ceiling: one framed request, sent again and again.
    Tcp(TcpTarget),
}

/// A request of the `tcp` stack ([`wirebench_proto::tcp_wire`]).
#[derive(Debug, Clone)]
pub struct TcpTarget {
    /// The request frame, length included.
    pub request: Bytes,
    pub check: BodyCheck,
    /// What is asked, as a URL path for labels: `/payload?size_in_kb=512`.
    pub path: String,
}

/// An HTTP request to send again and again, and how to check its answer.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    pub path: PathAndQuery,
    /// HTTP/2 with prior knowledge (or ALPN h2 over TLS) instead of HTTP/1.1.
    pub http2: bool,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub check: BodyCheck,
}

impl TargetKind {
    /// Whether requests share a connection (HTTP/2, gRPC) rather than take
    /// one each (HTTP/1.1, TCP).
    pub fn multiplexes(&self) -> bool {
        match self {
            TargetKind::Http(http) => http.http2,
            TargetKind::Grpc { .. } => true,
            TargetKind::Tcp { .. } => false,
        }
    }
}

impl Target {
    /// What every answer is checked against, in words for the run header.
    pub fn describe_check(&self) -> String {
        match &self.kind {
            TargetKind::Http(http) => format!("HTTP 2xx, {}", http.check.describe()),
            TargetKind::Grpc { call, .. } => format!("grpc-status OK, {}", call.check.describe()),
            TargetKind::Tcp(tcp) => tcp.check.describe(),
        }
    }

    /// The target as a URL, for labels.
    pub fn label(&self) -> String {
        let s = if self.tls.is_some() { "s" } else { "" };
        match &self.kind {
            TargetKind::Http(http) => format!("http{s}://{}{}", self.authority, http.path),
            TargetKind::Grpc { call, .. } => format!("grpc{s}://{}{}", self.authority, call.path),
            TargetKind::Tcp(tcp) => format!("tcp{s}://{}{}", self.authority, tcp.path),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot use '{url}': {why}")]
    BadUrl { url: String, why: String },
    #[error("cannot resolve '{authority}': {source}")]
    Resolve {
        authority: String,
        #[source]
        source: std::io::Error,
    },
}

/// The connections of one run and the request they carry.
#[derive(Debug)]
pub enum Client {
    Http1(http1::Http1Client),
    Http2(http2::Http2Client),
    Grpc(grpc::GrpcClient),
    Tcp(tcp::TcpClient),
}

impl Client {
    /// Prepares `connections` connections to `target`. Connections open on
    /// first use, so a server that is down shows up as `connect` errors in
    /// the run rather than stopping it.
    pub async fn new(target: &Target, connections: u32) -> Result<Client, SetupError> {
        let connector = Connector {
            addr: resolve(&target.authority).await?,
            tls: target.tls.clone(),
            wire: Default::default(),
        };
        Ok(match &target.kind {
            TargetKind::Http(http) if http.http2 => Client::Http2(http2::Http2Client::new(
                http.clone(),
                &target.authority,
                connector,
                connections,
            )?),
            TargetKind::Http(http) => Client::Http1(http1::Http1Client::new(
                http.clone(),
                &target.authority,
                connector,
                connections,
            )?),
            TargetKind::Grpc { call, json } => Client::Grpc(grpc::GrpcClient::new(
                &target.authority,
                call.clone(),
                *json,
                connector,
                connections,
            )?),
            TargetKind::Tcp(target) => {
                Client::Tcp(tcp::TcpClient::new(target.clone(), connector, connections))
            }
        })
    }

    /// Sends one request on sender `sender_id`'s connection and verifies the
    /// answer; returns the response bytes received (body or message data).
    pub async fn call(&self, sender_id: usize, timeout: Duration) -> Result<u64, RequestFailure> {
        match self {
            Client::Http1(client) => client.call(sender_id, timeout).await,
            Client::Http2(client) => client.call(sender_id, timeout).await,
            Client::Grpc(client) => client.call(sender_id, timeout).await,
            Client::Tcp(client) => client.call(sender_id, timeout).await,
        }
    }

    /// Bytes that crossed this client's sockets so far.
    pub fn wire_bytes(&self) -> WireBytes {
        match self {
            Client::Http1(c) => c.connector().wire.read(),
            Client::Http2(c) => c.connector().wire.read(),
            Client::Grpc(c) => c.connector().wire.read(),
            Client::Tcp(c) => c.connector().wire.read(),
        }
    }
}

async fn resolve(authority: &str) -> Result<SocketAddr, SetupError> {
    let resolve_error = |source| SetupError::Resolve {
        authority: authority.to_owned(),
        source,
    };
    tokio::net::lookup_host(authority)
        .await
        .map_err(resolve_error)?
        .next()
        .ok_or_else(|| resolve_error(std::io::Error::other("no address")))
}

fn timeout_failure(timeout: Duration) -> RequestFailure {
    RequestFailure::new(
        ErrorKind::Timeout,
        format!("no complete answer within {timeout:?}"),
    )
}

/// The `--connections` connections of a client, opened on first use:
/// sender `i` always uses connection `i % n`.
#[derive(Debug)]
struct Slots<C>(Box<[tokio::sync::Mutex<Option<C>>]>);

impl<C> Slots<C> {
    fn new(connections: u32) -> Self {
        Slots(
            (0..connections)
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
        )
    }

    /// The connection of sender `sender_id`.
    fn of(&self, sender_id: usize) -> &tokio::sync::Mutex<Option<C>> {
        &self.0[sender_id % self.0.len()]
    }

    /// Runs `exchange` on sender `sender_id`'s connection where a
    /// connection carries one request at a time (HTTP/1.1, TCP): senders
    /// sharing it take turns; a connection whose request failed or timed
    /// out may be out of step with the server, so it is dropped and the
    /// next request opens a fresh one.
    async fn one_at_a_time(
        &self,
        sender_id: usize,
        timeout: Duration,
        exchange: impl AsyncFnOnce(&mut Option<C>) -> Result<u64, RequestFailure>,
    ) -> Result<u64, RequestFailure> {
        let mut connection = self.of(sender_id).lock().await;
        match tokio::time::timeout(timeout, exchange(&mut connection)).await {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(failure)) => {
                *connection = None;
                Err(failure)
            }
            Err(_) => {
                *connection = None;
                Err(timeout_failure(timeout))
            }
        }
    }
}

fn connect_failure(err: std::io::Error) -> RequestFailure {
    RequestFailure::new(ErrorKind::Connect, err)
}
