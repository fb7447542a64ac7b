//! gRPC adapter (tonic, HTTP/2 + protobuf) over the shared [`PayloadHandler`].
//!
//! `payload.PayloadService/GetLargePayload` and `Echo`, plus server
//! reflection and the standard health service, so grpcurl, ghz or a Python
//! grpcio client can call it without the `.proto` file. The same service
//! answers with the protobuf codec (`grpc`) or the JSON codec (`grpc-json`),
//! its handlers on the async runtime or on a thread pool (`--grpc-exec`).
//!
//! Every gRPC service (payload, message, pipeline) is served by
//! `serve_routes`: tonic's generated routes behind the content-type guard
//! and the call deadline (`grpc_deadline`), over the same HTTP
//! server as REST ([`crate::http_serve::serve`]).

use std::future::Future;

use std::sync::Arc;

use tokio::sync::Semaphore;
use tonic::service::Routes;
use tonic::{Request, Response, Status};
use tonic_reflection::pb::v1::server_reflection_server::ServerReflectionServer;
use tonic_reflection::pb::{v1, v1alpha};
use wirebench_proto::payload::payload_service_server::{PayloadService, PayloadServiceServer};
use wirebench_proto::payload::{EchoMessage, PayloadRequest, PayloadResponse};
use wirebench_proto::payload_json;

use crate::grpc_deadline::GrpcDeadline;
use crate::grpc_guard::ContentTypeGuard;
use crate::listener::Incoming;
use crate::{PayloadHandler, RequestError, ServeError, ServeOptions, http_serve};

/// Room for protobuf framing around the largest allowed message.
const FRAMING_OVERHEAD_BYTES: usize = 1024;

/// How gRPC handlers run (seed 000 compares grpcio's thread pool with
/// grpc.aio).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrpcExec {
    /// On the async runtime's worker threads (grpc.aio's model).
    #[default]
    Async,
    /// On a pool of at most N blocking threads, the runtime's threads only
    /// doing I/O (grpc.server(ThreadPoolExecutor(max_workers=N))).
    Pool(usize),
}

impl std::str::FromStr for GrpcExec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "async" => Ok(GrpcExec::Async),
            Some(("pool", n)) => match n.parse::<usize>() {
                Ok(n) if n > 0 => Ok(GrpcExec::Pool(n)),
                _ => Err(format!(
                    "'{s}': the pool needs a size of at least 1 (pool:10)"
                )),
            },
            _ => Err(format!("'{s}' is not async or pool:N")),
        }
    }
}

impl std::fmt::Display for GrpcExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrpcExec::Async => f.write_str("async"),
            GrpcExec::Pool(n) => write!(f, "pool:{n}"),
        }
    }
}

/// Which gRPC server serves a `grpc` stack: tonic (hyper's HTTP/2), or
/// gRPC C-core through the `grpcio` crate ([`crate::grpcio_server`]), so
/// a verdict can tell gRPC's cost from one library's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrpcImpl {
    #[default]
    Tonic,
    Grpcio,
}

impl std::str::FromStr for GrpcImpl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tonic" => Ok(GrpcImpl::Tonic),
            "grpcio" => Ok(GrpcImpl::Grpcio),
            _ => Err(format!("'{s}' is not tonic or grpcio")),
        }
    }
}

impl std::fmt::Display for GrpcImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GrpcImpl::Tonic => "tonic",
            GrpcImpl::Grpcio => "grpcio",
        })
    }
}

/// Serves the payload service over gRPC with the protobuf codec (`grpc`,
/// `grpc-web`) or the JSON codec (`grpc-json`) until `shutdown` completes.
pub async fn serve(
    incoming: Incoming,
    handler: PayloadHandler,
    stack: wirebench_proto::vocab::Stack,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let json = stack.speaks_json();
    let max_message_bytes = handler
        .max_size_bytes()
        .saturating_add(FRAMING_OVERHEAD_BYTES);
    let service = GrpcPayload {
        handler,
        pool: match options.grpc_exec {
            GrpcExec::Async => None,
            GrpcExec::Pool(n) => Some(Arc::new(Semaphore::new(n))),
        },
    };
    let routes = if json {
        Routes::new(compressed!(
            payload_json::payload_service_server::PayloadServiceServer::new(service)
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            stack
        ))
    } else {
        Routes::new(compressed!(
            PayloadServiceServer::new(service)
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            stack
        ))
    };
    serve_routes(
        stack,
        routes,
        "payload.PayloadService",
        wirebench_proto::FILE_DESCRIPTOR_SET,
        incoming,
        options,
        shutdown,
    )
    .await
}

/// A generated tonic service that takes and sends every message in the
/// stack's compression (`grpc-encoding`), if it has one. A client that
/// does not ask for it (the pipeline's own hops) gets plain messages.
macro_rules! compressed {
    ($service:expr, $stack:expr) => {{
        let service = $service;
        match $stack.compression {
            Some(compression) => {
                let encoding = $crate::encoding::grpc(compression);
                service
                    .accept_compressed(encoding)
                    .send_compressed(encoding)
            }
            None => service,
        }
    }};
}
pub(crate) use compressed;

/// Serves `routes` as every wirebench gRPC server is served, payload,
/// message or pipeline, until `shutdown` completes:
/// - with server reflection (of `service`, described in the encoded
///   `descriptors`) and the health service (reporting `service` as
///   serving);
/// - behind the content-type guard of the protobuf or JSON codec, and the
///   call deadline (`grpc-timeout`, capped by the request deadline);
/// - gRPC-Web stacks also take HTTP/1.1 and translate through tonic-web
///   (binary and text, HTTP/1.1 and HTTP/2);
/// - by the same HTTP server as REST ([`http_serve::serve`]): the same
///   windows, frame size, header limits and stream limit.
pub(crate) async fn serve_routes(
    stack: wirebench_proto::vocab::Stack,
    routes: Routes,
    service: &'static str,
    descriptors: &[u8],
    incoming: Incoming,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let json = stack.speaks_json();
    let web = stack.is_grpc_web();
    let (reflection_v1, reflection_v1alpha) = reflection_services(service, descriptors)?;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status(service, tonic_health::ServingStatus::Serving)
        .await;
    let routes = routes
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(health)
        .prepare();
    let service = tower::ServiceBuilder::new()
        .layer(ContentTypeGuard::for_codec(json))
        .option_layer(web.then(tonic_web::GrpcWebLayer::new))
        .layer(GrpcDeadline {
            limit: options.request_timeout,
        })
        .service(routes);
    let versions = if web {
        http_serve::Versions::Both
    } else {
        http_serve::Versions::Http2Only
    };
    http_serve::serve(service, incoming, options, versions, shutdown).await;
    Ok(())
}

/// Server reflection, both versions (grpcurl asks for v1, Python's grpcio
/// reflection client and older tools for v1alpha), advertising `service`
/// and the health service: what this process actually serves.
fn reflection_services(
    service: &'static str,
    descriptors: &[u8],
) -> Result<
    (
        ServerReflectionServer<impl v1::server_reflection_server::ServerReflection>,
        v1alpha::server_reflection_server::ServerReflectionServer<
            impl v1alpha::server_reflection_server::ServerReflection,
        >,
    ),
    ServeError,
> {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(descriptors)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(service)
            .with_service_name("grpc.health.v1.Health")
    };
    Ok((
        builder().build_v1().map_err(ServeError::Reflection)?,
        builder().build_v1alpha().map_err(ServeError::Reflection)?,
    ))
}

#[derive(Debug, Clone)]
pub struct GrpcPayload {
    handler: PayloadHandler,
    /// With `--grpc-exec pool:N`: permits for the N handler threads.
    pool: Option<Arc<Semaphore>>,
}

impl GrpcPayload {
    /// Runs the handler's work where the execution model says.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(PayloadHandler) -> Result<T, RequestError> + Send + 'static,
    ) -> Result<T, Status> {
        let handler = self.handler;
        match &self.pool {
            None => Ok(work(handler)?),
            Some(pool) => {
                let _permit = pool
                    .acquire()
                    .await
                    .map_err(|_| Status::unavailable("shutting down"))?;
                let result = crate::task::spawn_blocking(move || work(handler))
                    .await
                    .map_err(|_| Status::internal("handler panicked"))?;
                Ok(result?)
            }
        }
    }
}

/// The protobuf trait, implemented once; the JSON codec's trait comes
/// from `wirebench_proto::json_services`, so `grpc-json` runs this very
/// code.
#[tonic::async_trait]
impl PayloadService for GrpcPayload {
    async fn get_large_payload(
        &self,
        request: Request<PayloadRequest>,
    ) -> Result<Response<PayloadResponse>, Status> {
        let size_in_kb = request.into_inner().size_in_kb;
        let data = self.run(move |h| h.payload(size_in_kb)).await?;
        Ok(Response::new(PayloadResponse { data }))
    }

    async fn echo(&self, request: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        let data = request.into_inner().data;
        let data = self.run(move |h| h.echo(data)).await?;
        Ok(Response::new(EchoMessage { data }))
    }
}

impl From<RequestError> for Status {
    fn from(err: RequestError) -> Self {
        match err {
            RequestError::InvalidArgument(_) => Status::invalid_argument(err.to_string()),
            RequestError::TooLarge { .. } => Status::resource_exhausted(err.to_string()),
        }
    }
}
