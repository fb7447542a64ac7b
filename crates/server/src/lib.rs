//! The servers wirebench measures.
//!
//! The comparison is only fair if both protocols run the same work, so the
//! work lives in one place ([`handler`]) and the protocol adapters
//! ([`rest`], [`grpc`]) only translate: request in, handler call, response
//! out. Everything a stack does differently is in its adapter file, and
//! nowhere else.
//!
//! Shutdown is a parameter ([`serve`] takes a future), as in mini-redis: the
//! CLI passes SIGINT/SIGTERM, tests pass a oneshot.

pub mod grpc;
pub mod handler;
pub mod pipeline;
pub mod rest;

use std::future::Future;

use tokio::net::TcpListener;
use wirebench_proto::vocab::Stack;

pub use handler::{PayloadHandler, RequestError};

/// Largest payload a server builds unless told otherwise: 64 MiB.
pub const DEFAULT_MAX_SIZE_KB: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("REST server failed: {0}")]
    Rest(#[source] std::io::Error),
    #[error("gRPC server failed: {0}")]
    Grpc(#[source] tonic::transport::Error),
    #[error("gRPC reflection setup failed: {0}")]
    Reflection(#[source] tonic_reflection::server::Error),
}

/// Serves the payload service on `listener` until `shutdown` completes, then
/// lets in-flight requests finish.
pub async fn serve_payload(
    stack: Stack,
    listener: TcpListener,
    handler: PayloadHandler,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    match stack {
        Stack::Rest => rest::serve(listener, handler, shutdown).await,
        Stack::Grpc => grpc::serve(listener, handler, shutdown).await,
    }
}
