//! The payload service served by gRPC C-core (the `grpcio` crate), the
//! second gRPC implementation: `serve payload --stack grpc --grpc-impl
//! grpcio`, `bench --grpc-impl tonic,grpcio`. Against tonic (hyper's
//! HTTP/2, Rust all the way down) it separates what gRPC costs from what
//! one library costs: C-core is the core under grpc-python and grpc-ruby,
//! with its own HTTP/2, its own completion-queue threads and its own
//! buffers.
//!
//! The same handler as every stack (`PayloadHandler`), and the same prost
//! messages as tonic's: grpcio's marshallers are two function pointers, so
//! its service is built by hand here with prost 0.14's encode and decode
//! rather than grpcio's own codec (prost 0.11). Plaintext only, no
//! compression, no reflection (what `bench` and `load --proto` need).
//! Handlers run on C-core's completion-queue threads, one per worker.

use std::future::Future;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;

use grpcio::{
    ChannelBuilder, Environment, GrpcSlice, Marshaller, MessageReader, Method, MethodType,
    RpcStatus, RpcStatusCode, ServerBuilder, ServerCredentials, ServiceBuilder,
};
use prost::Message;
use wirebench_proto::payload::{EchoMessage, PayloadRequest, PayloadResponse};

use crate::{PayloadHandler, RequestError, ServeError};

/// Room for protobuf framing around the largest allowed message.
const FRAMING_OVERHEAD_BYTES: usize = 1024;

fn ser<M: Message>(message: &M, buf: &mut GrpcSlice) -> grpcio::Result<()> {
    *buf = GrpcSlice::from(message.encode_to_vec());
    Ok(())
}

fn de<M: Message + Default>(mut reader: MessageReader) -> grpcio::Result<M> {
    let mut bytes = Vec::with_capacity(reader.len());
    reader
        .read_to_end(&mut bytes)
        .map_err(|err| grpcio::Error::Codec(Box::new(err)))?;
    M::decode(bytes.as_slice()).map_err(|err| grpcio::Error::Codec(Box::new(err)))
}

const fn marshaller<M: Message + Default>() -> Marshaller<M> {
    Marshaller {
        ser: ser::<M>,
        de: de::<M>,
    }
}

const GET_LARGE_PAYLOAD: Method<PayloadRequest, PayloadResponse> = Method {
    ty: MethodType::Unary,
    name: "/payload.PayloadService/GetLargePayload",
    req_mar: marshaller(),
    resp_mar: marshaller(),
};

const ECHO: Method<EchoMessage, EchoMessage> = Method {
    ty: MethodType::Unary,
    name: "/payload.PayloadService/Echo",
    req_mar: marshaller(),
    resp_mar: marshaller(),
};

fn status(err: RequestError) -> RpcStatus {
    let code = match err {
        RequestError::InvalidArgument(_) => RpcStatusCode::INVALID_ARGUMENT,
        RequestError::TooLarge { .. } => RpcStatusCode::RESOURCE_EXHAUSTED,
    };
    RpcStatus::with_message(code, err.to_string())
}

/// Serves the payload service on `addr` with `workers` completion-queue
/// threads until `shutdown` completes.
pub async fn serve(
    addr: SocketAddr,
    handler: PayloadHandler,
    workers: usize,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let env = Arc::new(Environment::new(workers.max(1)));
    // C-core's threads are not tokio's: each handler enters the server's
    // scope (its counters) itself.
    let scope = crate::task::Scope::current();
    let echo_scope = scope.clone();
    let service = ServiceBuilder::new()
        .add_unary_handler(&GET_LARGE_PAYLOAD, move |ctx, request, sink| {
            let answer = scope
                .clone()
                .run_sync(|| handler.payload(request.size_in_kb));
            let reply = match answer {
                Ok(data) => sink.success(PayloadResponse { data }),
                Err(err) => sink.fail(status(err)),
            };
            ctx.spawn(async move {
                let _ = reply.await;
            });
        })
        .add_unary_handler(&ECHO, move |ctx, request: EchoMessage, sink| {
            let reply = match echo_scope.clone().run_sync(|| handler.echo(request.data)) {
                Ok(data) => sink.success(EchoMessage { data }),
                Err(err) => sink.fail(status(err)),
            };
            ctx.spawn(async move {
                let _ = reply.await;
            });
        })
        .build();
    let limit = i32::try_from(
        handler
            .max_size_bytes()
            .saturating_add(FRAMING_OVERHEAD_BYTES),
    )
    .unwrap_or(i32::MAX);
    let args = ChannelBuilder::new(Arc::clone(&env))
        .max_receive_message_len(limit)
        .max_send_message_len(limit)
        .build_args();
    let mut server = ServerBuilder::new(env)
        .register_service(service)
        .channel_args(args)
        .build()
        .map_err(|err| ServeError::Grpcio(err.to_string()))?;
    server
        .add_listening_port(addr.to_string(), ServerCredentials::insecure())
        .map_err(|err| ServeError::Grpcio(format!("{addr}: {err}")))?;
    server.start();
    shutdown.await;
    let _ = server.shutdown().await;
    Ok(())
}
