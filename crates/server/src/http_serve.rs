//! Serving an axum router over our accepted connections: HTTP/1.1 and
//! HTTP/2 with prior knowledge (h2c) on the same port, detected from the
//! first bytes, plain or TLS. Shutdown lets open connections finish.

use std::future::Future;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio_stream::StreamExt;

use crate::listener::Incoming;

/// How long a client may take to send a request's headers (slowloris:
/// a client trickling bytes keeps a connection busy but not idle).
pub const DEFAULT_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Largest request head (request line and headers) a server reads:
/// bigger gets 431 (HTTP/1.1) or a stream reset (HTTP/2).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Streams one HTTP/2 connection may have open at once (hyper's default,
/// now every server's): a client opening more gets REFUSED_STREAM, so one
/// connection cannot make a server hold 50,000 streams' state.
pub const MAX_CONCURRENT_STREAMS: u32 = 200;

pub async fn serve_router(
    router: Router,
    mut incoming: Incoming,
    header_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
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
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            next = incoming.next() => match next {
                Some(Ok(stream)) => {
                    let service = TowerToHyperService::new(router.clone());
                    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection.into_owned());
                    tokio::spawn(async move {
                        let _ = connection.await;
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
