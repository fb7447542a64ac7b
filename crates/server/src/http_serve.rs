//! Serving HTTP over our accepted connections, for REST and gRPC alike:
//! HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on the same port,
//! detected from the first bytes (gRPC: HTTP/2 only), plain or TLS. The
//! header deadline, the stream limit and the HTTP/2 settings are set here
//! once; shutdown lets open connections finish.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming as RequestBody;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio_stream::StreamExt;
use tower_http::timeout::TimeoutLayer;

use crate::ServeOptions;
use crate::listener::Incoming;

/// How long a client may take to send a request's headers (slowloris:
/// a client trickling bytes keeps a connection busy but not idle).
pub const DEFAULT_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Largest request head (request line and headers) a server reads:
/// bigger gets 431 (HTTP/1.1) or a stream reset (HTTP/2).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Streams one HTTP/2 connection may have open at once unless told
/// otherwise (hyper's default, now every server's): a client opening more
/// gets REFUSED_STREAM, so one connection cannot make a server hold
/// 50,000 streams' state.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 200;

/// How long one request may take, from its headers to its answer, unless
/// told otherwise: long enough for the largest payload over a slow link,
/// short enough that a body trickled a byte at a time is cut off.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Which HTTP versions a port speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versions {
    /// HTTP/1.1 and HTTP/2 with prior knowledge, told apart by the preface.
    Both,
    /// HTTP/2 only (gRPC): an HTTP/1.1 request is not answered.
    Http2Only,
}

/// Serves an axum router (REST, the metrics endpoint) with the request
/// deadline answering 408.
pub async fn serve_router(
    router: Router,
    incoming: Incoming,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let router = with_request_deadline(router, options.request_timeout);
    serve(router, incoming, options, Versions::Both, shutdown).await;
}

/// `router` answering 408 to a request not done within `limit` (its body
/// read included: axum reads it inside the handler's future).
pub fn with_request_deadline(router: Router, limit: Duration) -> Router {
    router.layer(TimeoutLayer::with_status_code(
        http::StatusCode::REQUEST_TIMEOUT,
        limit,
    ))
}

/// Serves `service` on every connection of `incoming` until `shutdown`,
/// then lets open connections finish: the one HTTP server of every
/// TCP stack, REST and gRPC alike, so they share the header deadline,
/// the HTTP/2 settings and the stream limit.
pub async fn serve<S, B>(
    service: S,
    mut incoming: Incoming,
    options: &ServeOptions,
    versions: Versions,
    shutdown: impl Future<Output = ()>,
) where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = Builder::new(crate::task::Inherit);
    if versions == Versions::Http2Only {
        builder = builder.http2_only();
    }
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .max_buf_size(MAX_HEADER_BYTES);
    // HTTP/2 as every wirebench gRPC server has it: the same windows and
    // frame size, so rest-h2 and grpc differ in framing, not in settings.
    builder
        .http2()
        .timer(TokioTimer::new())
        .initial_stream_window_size(wirebench_proto::GRPC_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(wirebench_proto::GRPC_CONNECTION_WINDOW_BYTES)
        .max_frame_size(wirebench_proto::HTTP2_MAX_FRAME_BYTES)
        .max_header_list_size(MAX_HEADER_BYTES as u32)
        .max_concurrent_streams(options.max_concurrent_streams);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            next = incoming.next() => match next {
                Some(Ok(stream)) => {
                    let idle = stream.idle();
                    let service = TowerToHyperService::new(service.clone());
                    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection.into_owned());
                    crate::task::spawn(async move {
                        tokio::select! {
                            _ = connection => {}
                            () = idle => {}
                        }
                    });
                }
                Some(Err(_)) => continue,
                None => break,
            },
            () = &mut shutdown => break,
        }
    }
    drop(incoming);
    graceful.shutdown().await;
}
