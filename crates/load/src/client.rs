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
mod http3;
mod http_common;
mod streaming;
mod tcp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderMap, Method};

use crate::errors::{ErrorKind, RequestFailure};
use crate::template::Template;
use crate::verify::BodyCheck;
use wirebench_proto::vocab::Compression;

pub use connector::{Connector, TlsClient, Trust, WireBytes};
pub use grpc::channel;
pub(crate) use grpc::frame_of;
pub use streaming::{Answer, StreamAnswer, Streaming};

/// What to load: where, over TLS or not, and what to send.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub authority: String,
    pub tls: Option<TlsClient>,
    pub kind: TargetKind,
}

/// The requests of a target, by protocol.
#[derive(Debug, Clone)]
pub enum TargetKind {
    Http(HttpTarget),
    /// gRPC unary calls, with the protobuf codec or (`json`) the JSON
    /// codec: each exchange's path is the method, its body the message.
    Grpc {
        exchanges: Exchanges,
        json: bool,
        /// Sent with every call (ghz's `-m`/`--metadata`, our `-H`).
        metadata: HeaderMap,
        /// The `:authority` to send instead of the target's host:port
        /// (ghz's `--authority`).
        authority: Option<String>,
        /// A streaming method, and how each call streams; None: unary.
        streaming: Option<Streaming>,
        /// Every message sent compressed (`grpc-encoding`), and answers
        /// asked for in it.
        compression: Option<Compression>,
    },
    /// The bare TCP ceiling ([`wirebench_proto::tcp_wire`]): each
    /// exchange's body is a request frame, length included; its path
    /// names what is asked, for labels (`/payload?size_in_kb=512`).
    Tcp(Exchanges),
}

/// Which HTTP a target speaks: the vocabulary's.
pub use wirebench_proto::vocab::HttpVersion;

/// HTTP requests, and how to check their answers.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    pub version: HttpVersion,
    pub method: Method,
    pub headers: HeaderMap,
    pub exchanges: Exchanges,
}

/// One request as it goes out, and the check its answer must pass.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP path and query, or the gRPC method
    /// (`/package.Service/Method`), or what a tcp frame asks.
    pub path: PathAndQuery,
    /// The HTTP body, the gRPC message (unframed) or the tcp frame.
    pub body: Bytes,
    pub check: BodyCheck,
    /// Templates (`{{request_number}}`, ...) rendered anew for every
    /// request; None: `path` and `body` are sent as they are.
    pub vary: Option<Arc<Vary>>,
}

/// What of a request is rendered for every request, from templates.
#[derive(Debug)]
pub struct Vary {
    /// The HTTP path and query.
    pub path: Option<Template>,
    /// The HTTP body, or the gRPC request as JSON.
    pub body: Option<Template>,
    /// gRPC: the request message the rendered JSON is encoded as.
    pub grpc_input: Option<prost_reflect::MessageDescriptor>,
}

/// One request's rendered path and body.
#[derive(Debug)]
pub struct Rendered {
    pub path: PathAndQuery,
    pub body: Bytes,
}

impl Vary {
    /// Request `number` of `exchange`.
    fn render(&self, exchange: &Exchange, number: u64) -> Result<Rendered, RequestFailure> {
        let failure = |why: String| RequestFailure::new(ErrorKind::Protocol, why);
        let path = match &self.path {
            Some(template) => {
                let text = template.render_string(number);
                text.parse()
                    .map_err(|_| failure(format!("the rendered path '{text}' is not a path")))?
            }
            None => exchange.path.clone(),
        };
        let body = match (&self.body, &self.grpc_input) {
            (Some(template), Some(input)) => {
                let json = template.render_string(number);
                let mut json_in = serde_json::Deserializer::from_str(&json);
                let message =
                    prost_reflect::DynamicMessage::deserialize(input.clone(), &mut json_in)
                        .map_err(|err| {
                            failure(format!(
                                "the rendered request is not a {}: {err}",
                                input.full_name()
                            ))
                        })?;
                Bytes::from(prost::Message::encode_to_vec(&message))
            }
            (Some(template), None) => {
                let mut out = Vec::with_capacity(exchange.body.len() + 64);
                template.render(number, &mut out);
                Bytes::from(out)
            }
            (None, _) => exchange.body.clone(),
        };
        Ok(Rendered { path, body })
    }
}

/// The requests of a target, sent in turn (round-robin): one, or one per
/// line of a data file. Each is prepared once, before the run; the
/// client picks the next with one atomic add (none when there is one).
/// Never empty.
#[derive(Debug, Clone)]
pub struct Exchanges(Arc<[Exchange]>);

impl Exchanges {
    pub fn one(exchange: Exchange) -> Exchanges {
        Exchanges(Arc::new([exchange]))
    }

    /// `None` when `exchanges` is empty.
    pub fn new(exchanges: Vec<Exchange>) -> Option<Exchanges> {
        (!exchanges.is_empty()).then(|| Exchanges(exchanges.into()))
    }

    pub fn first(&self) -> &Exchange {
        &self.0[0]
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Exchange> {
        self.0.iter()
    }

    /// What every answer is checked against, in words.
    fn describe_check(&self) -> String {
        let first = self.first().check.describe();
        match self.len() {
            1 => first,
            n => format!("{first} (and {} more requests, in turn)", n - 1),
        }
    }
}

impl std::ops::Index<usize> for Exchanges {
    type Output = Exchange;
    fn index(&self, i: usize) -> &Exchange {
        &self.0[i]
    }
}

impl TargetKind {
    /// Whether requests share a connection (HTTP/2, gRPC) rather than take
    /// one each (HTTP/1.1, TCP).
    pub fn multiplexes(&self) -> bool {
        match self {
            TargetKind::Http(http) => http.version != HttpVersion::Http1,
            TargetKind::Grpc { .. } => true,
            TargetKind::Tcp { .. } => false,
        }
    }

    pub fn exchanges(&self) -> &Exchanges {
        match self {
            TargetKind::Http(http) => &http.exchanges,
            TargetKind::Grpc { exchanges, .. } | TargetKind::Tcp(exchanges) => exchanges,
        }
    }
}

impl Target {
    /// What every answer is checked against, in words for the run header.
    pub fn describe_check(&self) -> String {
        let checks = self.kind.exchanges().describe_check();
        match &self.kind {
            TargetKind::Http(_) => format!("HTTP 2xx, {checks}"),
            TargetKind::Grpc {
                streaming: Some(streaming),
                ..
            } => format!(
                "grpc-status OK, {}: every answer message: {checks}",
                streaming.kind()
            ),
            TargetKind::Grpc { .. } => format!("grpc-status OK, {checks}"),
            TargetKind::Tcp(_) => checks,
        }
    }

    /// The target as a URL, for labels (the first request's).
    pub fn label(&self) -> String {
        let s = if self.tls.is_some() { "s" } else { "" };
        let scheme = match &self.kind {
            TargetKind::Http(_) => "http",
            TargetKind::Grpc { .. } => "grpc",
            TargetKind::Tcp(_) => "tcp",
        };
        let path = &self.kind.exchanges().first().path;
        format!("{scheme}{s}://{}{path}", self.authority)
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

/// The connections of one run and the requests they carry, in turn.
#[derive(Debug)]
pub struct Client {
    transport: Box<dyn Transport>,
    /// The target's requests (to render templated ones), how many, and
    /// which is next.
    requests: Exchanges,
    exchanges: usize,
    next: AtomicUsize,
    /// Requests rendered from templates so far: `{{request_number}}`.
    rendered: AtomicU64,
}

/// One protocol's connections, behind [`Client`]: how a request goes out
/// and its answer is checked. A new client is one type implementing it
/// and one arm in [`Client::new`].
trait Transport: std::fmt::Debug + Send + Sync {
    /// Sends request `exchange` (or its `rendered` path and body) on
    /// sender `sender_id`'s connection and checks the answer.
    fn send<'a>(
        &'a self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&'a Rendered>,
        timeout: Duration,
    ) -> Sent<'a>;

    /// The connector that opens its TCP connections and counts their
    /// bytes; None where the transport counts its own (QUIC).
    fn connector(&self) -> Option<&Connector>;

    /// The TLS version its connections negotiated; None before the first
    /// TLS connection, or without TLS.
    fn tls_version(&self) -> Option<&'static str> {
        self.connector()?.wire.tls_version()
    }

    /// Bytes that crossed its sockets so far.
    fn wire_bytes(&self) -> WireBytes {
        self.connector()
            .map_or_else(WireBytes::default, |c| c.wire.read())
    }
}

/// A request on its way: boxed, so [`Client`] holds any [`Transport`]
/// (one allocation per request, next to the request's own buffers).
type Sent<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Answer, RequestFailure>> + Send + 'a>,
>;

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
        let transport: Box<dyn Transport> = match &target.kind {
            TargetKind::Http(http) if http.version == HttpVersion::Http3 => {
                Box::new(http3::Http3Client::new(
                    http.clone(),
                    &target.authority,
                    connector.addr,
                    target.tls.as_ref(),
                    connections,
                )?)
            }
            TargetKind::Http(http) if http.version == HttpVersion::Http2 => Box::new(
                http2::Http2Client::new(http.clone(), &target.authority, connector, connections)?,
            ),
            TargetKind::Http(http) => Box::new(http1::Http1Client::new(
                http.clone(),
                &target.authority,
                connector,
                connections,
            )?),
            TargetKind::Grpc {
                exchanges,
                json,
                metadata,
                authority,
                streaming,
                compression,
            } => Box::new(grpc::GrpcClient::new(
                authority.as_deref().unwrap_or(&target.authority),
                exchanges,
                grpc::Calls {
                    json: *json,
                    metadata: metadata.clone(),
                    streaming: *streaming,
                    compression: *compression,
                },
                connector,
                connections,
            )?),
            TargetKind::Tcp(exchanges) => Box::new(tcp::TcpClient::new(
                exchanges.clone(),
                connector,
                connections,
            )),
        };
        Ok(Client {
            transport,
            requests: target.kind.exchanges().clone(),
            exchanges: target.kind.exchanges().len(),
            next: AtomicUsize::new(0),
            rendered: AtomicU64::new(0),
        })
    }

    /// Sends the next request on sender `sender_id`'s connection and
    /// verifies the answer.
    pub async fn call(
        &self,
        sender_id: usize,
        timeout: Duration,
    ) -> Result<Answer, RequestFailure> {
        let exchange = match self.exchanges {
            1 => 0,
            n => self.next.fetch_add(1, Ordering::Relaxed) % n,
        };
        let rendered = match &self.requests[exchange].vary {
            Some(vary) => {
                let number = self.rendered.fetch_add(1, Ordering::Relaxed);
                Some(vary.render(&self.requests[exchange], number)?)
            }
            None => None,
        };
        let rendered = rendered.as_ref();
        self.transport
            .send(sender_id, exchange, rendered, timeout)
            .await
    }

    /// The TLS version its connections negotiated (QUIC: always 1.3);
    /// None before the first TLS connection, or without TLS.
    pub fn tls_version(&self) -> Option<&'static str> {
        self.transport.tls_version()
    }

    /// Bytes that crossed this client's sockets so far.
    pub fn wire_bytes(&self) -> WireBytes {
        self.transport.wire_bytes()
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
