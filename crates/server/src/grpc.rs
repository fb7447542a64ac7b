//! gRPC adapter (tonic, HTTP/2 + protobuf) over the shared [`PayloadHandler`].
//!
//! `payload.PayloadService/GetLargePayload` and `Echo`, plus server
//! reflection and the standard health service, so grpcurl, ghz or a Python
//! grpcio client can call it without the `.proto` file.

use std::future::Future;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};
use tonic_reflection::pb::v1::server_reflection_server::ServerReflectionServer;
use tonic_reflection::pb::{v1, v1alpha};
use wirebench_proto::payload::payload_service_server::{PayloadService, PayloadServiceServer};
use wirebench_proto::payload::{EchoMessage, PayloadRequest, PayloadResponse};

use crate::{PayloadHandler, RequestError, ServeError};

/// Room for protobuf framing around the largest allowed message.
const FRAMING_OVERHEAD_BYTES: usize = 1024;

pub async fn serve(
    listener: TcpListener,
    handler: PayloadHandler,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (reflection_v1, reflection_v1alpha) = reflection_services("payload.PayloadService")?;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<PayloadServiceServer<GrpcPayload>>()
        .await;
    let max_message_bytes = handler
        .max_size_bytes()
        .saturating_add(FRAMING_OVERHEAD_BYTES);
    let payload = PayloadServiceServer::new(GrpcPayload { handler })
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes);
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .initial_stream_window_size(wirebench_proto::GRPC_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(wirebench_proto::GRPC_CONNECTION_WINDOW_BYTES)
        .add_service(payload)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(health)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(ServeError::Grpc)
}

/// Server reflection, both versions (grpcurl asks for v1, Python's grpcio
/// reflection client and older tools for v1alpha), advertising `service`
/// and the health service: what this process actually serves.
pub fn reflection_services(
    service: &'static str,
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
            .register_encoded_file_descriptor_set(wirebench_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(service)
            .with_service_name("grpc.health.v1.Health")
    };
    Ok((
        builder().build_v1().map_err(ServeError::Reflection)?,
        builder().build_v1alpha().map_err(ServeError::Reflection)?,
    ))
}

#[derive(Debug, Clone, Copy)]
pub struct GrpcPayload {
    handler: PayloadHandler,
}

#[tonic::async_trait]
impl PayloadService for GrpcPayload {
    async fn get_large_payload(
        &self,
        request: Request<PayloadRequest>,
    ) -> Result<Response<PayloadResponse>, Status> {
        let data = self.handler.payload(request.into_inner().size_in_kb)?;
        Ok(Response::new(PayloadResponse { data }))
    }

    async fn echo(&self, request: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        let data = self.handler.echo(request.into_inner().data)?;
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
