//! The servers wirebench measures.
//!
//! The comparison is only fair if every stack runs the same work, so each
//! workload's work lives in one place (the payload in [`handler`], the
//! message in [`message`], the pipeline's roles in [`pipeline`]) and the
//! stack adapters ([`rest`], [`grpc`], [`tcp`], [`h3`]) only translate:
//! request in, work, response out.
//!
//! The TCP stacks share one accept loop ([`listener`]: TLS, the idle
//! watchdog) and one HTTP server for REST and gRPC alike ([`http_serve`]:
//! the header and request deadlines, the HTTP/2 settings and stream
//! limit). Every limit and deadline is listed in docs/security.md. The
//! one exception is gRPC C-core (`grpcio_server`, behind the `grpcio`
//! feature): a second gRPC implementation that brings its own socket,
//! HTTP/2 and threads, so it shares only the handler.
//!
//! One [`serve`] takes a stack, a listener, a [`Service`] (the payload
//! handler, the message handler, a mix, a pipeline role), the options and
//! the shutdown: it is the only place a stack is matched to its server.
//! Shutdown is a parameter, as in mini-redis: the CLI passes SIGINT/SIGTERM,
//! tests pass a oneshot. The JSON codec and the counters are options too;
//! they reach the code far below through the server's scope ([`task`]).

pub mod counters;
pub mod encoding;
pub mod fuzz_entry;
#[macro_use]
pub mod grpc;
mod grpc_deadline;
mod grpc_guard;
#[cfg(feature = "grpcio")]
pub mod grpcio_server;
pub mod h3;
pub mod handler;
pub mod http_serve;
pub mod listener;
pub mod message;
pub mod metrics;
pub mod pipeline;
pub mod rest;
pub mod task;
pub mod tcp;
pub mod tls;

use std::future::Future;

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

use wirebench_proto::vocab::{Family, Stack};

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
    #[error("metrics endpoint: {0}")]
    Metrics(String),
    #[error("stack {0}: TLS configuration and stack name disagree")]
    TlsMismatch(String),
    #[error("HTTP/3 server failed: {0}")]
    Http3(String),
    #[error("gRPC C-core server (grpcio) failed: {0}")]
    Grpcio(String),
    #[error("{0}")]
    Unsupported(String),
}

/// How a payload server is set up, besides its stack.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// TLS configuration when the stack is `+tls`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// gRPC stacks: where handlers run.
    pub grpc_exec: grpc::GrpcExec,
    /// The gRPC server implementation: tonic, or gRPC C-core (grpcio).
    pub grpc_impl: grpc::GrpcImpl,
    /// grpcio: its completion-queue threads.
    pub workers: usize,
    /// A connection with nothing read or written this long is closed.
    pub idle_timeout: Duration,
    /// HTTP/1.1 (and HTTP/3): a request's headers must arrive within this.
    pub header_timeout: Duration,
    /// Every protocol: a request, from its headers to its answer (the body
    /// read included), must be done within this; gRPC's `grpc-timeout`
    /// shortens it per call.
    pub request_timeout: Duration,
    /// HTTP/2: streams one connection may have open at once.
    pub max_concurrent_streams: u32,
    /// The JSON codec of the JSON stacks.
    pub json_codec: wirebench_proto::json::Codec,
    /// Where requests and bytes written are counted (`serve --metrics`),
    /// if anywhere.
    pub counters: Option<Arc<counters::Counters>>,
}

impl ServeOptions {
    /// What this server's tasks share ([`task::Scope`]).
    pub fn scope(&self) -> task::Scope {
        task::Scope {
            json_codec: self.json_codec,
            counters: self.counters.clone(),
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            grpc_exec: grpc::GrpcExec::Async,
            grpc_impl: grpc::GrpcImpl::Tonic,
            workers: 1,
            idle_timeout: listener::DEFAULT_IDLE_TIMEOUT,
            header_timeout: http_serve::DEFAULT_HEADER_TIMEOUT,
            request_timeout: http_serve::DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_streams: http_serve::DEFAULT_MAX_CONCURRENT_STREAMS,
            json_codec: wirebench_proto::json::Codec::default(),
            counters: None,
        }
    }
}

/// A workload's service, as each stack family's adapter needs it: the
/// payload handler, the message handler, a mix of calls (`Vec<MixRoute>`)
/// and a pipeline role (`PipelineConfig`) are each one. [`serve`] picks
/// the adapter by the stack's family; the service only says what it
/// answers in each.
pub trait Service: Sized + Send + 'static {
    /// Whatever besides the stack's own TLS must agree with `stack`
    /// before anything is bound (the pipeline's hops).
    fn check(&self, _stack: Stack) -> Result<(), ServeError> {
        Ok(())
    }

    /// Its REST routes: HTTP/1.1, HTTP/2 and HTTP/3 serve the same router.
    fn rest(self, stack: Stack) -> Result<axum::Router, ServeError>;

    /// Serves it over gRPC (and gRPC-Web) on `incoming` until `shutdown`.
    fn grpc(
        self,
        incoming: listener::Incoming,
        stack: Stack,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = Result<(), ServeError>> + Send;

    /// Serves it as length-prefixed frames on bare TCP until `shutdown`.
    fn tcp(
        self,
        incoming: listener::Incoming,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send;

    /// Serves it on gRPC C-core at `addr` (`--grpc-impl grpcio`); only the
    /// payload does.
    fn grpcio(
        self,
        stack: Stack,
        _addr: std::net::SocketAddr,
        _options: &ServeOptions,
        _shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = Result<(), ServeError>> + Send {
        async move {
            Err(ServeError::Unsupported(format!(
                "--grpc-impl grpcio serves the payload workload on plain grpc only, not this workload on {stack}"
            )))
        }
    }
}

/// Serves `service` over `stack` on `listener` until `shutdown` completes,
/// then lets in-flight requests finish. The one dispatch from a stack to
/// its server: REST routes on the shared HTTP server (or HTTP/3), gRPC and
/// gRPC-Web on tonic, tcp frames on the frame loop. It runs, and every
/// task it starts runs, in the scope of `options` ([`task`]): its JSON
/// codec and its counters.
pub async fn serve(
    stack: Stack,
    listener: TcpListener,
    service: impl Service,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    options
        .scope()
        .run(dispatch(stack, listener, service, options, shutdown))
        .await
}

async fn dispatch(
    stack: Stack,
    listener: TcpListener,
    service: impl Service,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if stack.tls != options.tls.is_some() {
        return Err(ServeError::TlsMismatch(stack.name()));
    }
    service.check(stack)?;
    if options.grpc_impl == grpc::GrpcImpl::Grpcio {
        // C-core binds its own socket: `listener` only held the port, so
        // it is released and C-core binds the same address.
        let addr = listener
            .local_addr()
            .map_err(|err| ServeError::Grpcio(err.to_string()))?;
        drop(listener);
        return service.grpcio(stack, addr, &options, shutdown).await;
    }
    match stack.family() {
        Family::Rest => {
            let router = encoding::rest(service.rest(stack)?, stack.compression);
            if stack.is_quic() {
                return h3::serve(listener, router, &options, shutdown).await;
            }
            let incoming = listener::incoming(listener, options.tls.clone(), options.idle_timeout);
            http_serve::serve_router(router, incoming, &options, shutdown).await;
            Ok(())
        }
        Family::Grpc | Family::GrpcWeb => {
            let incoming = listener::incoming(listener, options.tls.clone(), options.idle_timeout);
            service.grpc(incoming, stack, &options, shutdown).await
        }
        Family::Tcp => {
            let incoming = listener::incoming(listener, options.tls.clone(), options.idle_timeout);
            service.tcp(incoming, &options, shutdown).await;
            Ok(())
        }
    }
}

/// The payload service: every family's adapter over the one handler.
impl Service for PayloadHandler {
    fn rest(self, _stack: Stack) -> Result<axum::Router, ServeError> {
        Ok(rest::router(self))
    }

    fn grpc(
        self,
        incoming: listener::Incoming,
        stack: Stack,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = Result<(), ServeError>> + Send {
        grpc::serve(incoming, self, stack, options, shutdown)
    }

    fn tcp(
        self,
        incoming: listener::Incoming,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send {
        tcp::serve(incoming, self, options.request_timeout, shutdown)
    }

    /// Plain `grpc` only (C-core's TLS, compression and codecs are not
    /// wired).
    async fn grpcio(
        self,
        stack: Stack,
        addr: std::net::SocketAddr,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        if stack != Stack::GRPC {
            return Err(ServeError::Unsupported(format!(
                "--grpc-impl grpcio serves the plain grpc stack only, not {stack}"
            )));
        }
        #[cfg(feature = "grpcio")]
        {
            grpcio_server::serve(addr, self, options.workers, shutdown).await
        }
        #[cfg(not(feature = "grpcio"))]
        {
            let _ = (addr, options, shutdown);
            Err(ServeError::Unsupported(
                "this wirebench was built without gRPC C-core: cargo build --release --features grpcio (needs cmake)".into(),
            ))
        }
    }
}
