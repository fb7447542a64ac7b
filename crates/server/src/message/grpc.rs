//! The message workload over gRPC (`grpc`, `grpc-json`):
//! `wirebench.message.MessageService` with `Down`, `Up` and `Echo`. The
//! message's type is whatever the server serves, so the service is not
//! generated: a small tower service routes the three paths to tonic's own
//! unary machinery with a codec that hands the message's bytes through,
//! and the shared [`MessageHandler`] decodes and encodes them, in protobuf
//! or (`grpc-json`) the canonical JSON mapping. (tonic's generated servers
//! decode in the codec instead; the work is the same, it only happens a
//! few calls earlier.) Reflection describes the service with the served
//! type, so grpcurl can call it without the `.proto` file.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{Body, BoxFuture, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::service::Routes;
use tonic::{Request, Response, Status};
use wirebench_proto::message::{Direction, Encoding, SERVICE};
use wirebench_proto::vocab::{Stack, StackKind};

use super::MessageHandler;
use crate::listener::Incoming;
use crate::{ServeError, ServeOptions};

/// Room for gRPC framing around the largest allowed message.
const FRAMING_OVERHEAD_BYTES: usize = 1024;

pub async fn serve(
    incoming: Incoming,
    handler: MessageHandler,
    stack: Stack,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let json = stack.kind == StackKind::GrpcJson;
    let descriptors = handler.descriptors();
    let service = MessageGrpc {
        compression: stack.compression.map(crate::encoding::grpc),
        encoding: if json {
            Encoding::Json
        } else {
            Encoding::Protobuf
        },
        handler,
    };
    let routes = Routes::new(service);
    crate::grpc::serve_routes(
        stack,
        routes,
        SERVICE,
        &descriptors,
        incoming,
        options,
        shutdown,
    )
    .await
}

/// The service: the handler, and the encoding of the stack.
#[derive(Clone)]
struct MessageGrpc {
    handler: MessageHandler,
    encoding: Encoding,
    /// The stack's `grpc-encoding`, taken and sent.
    compression: Option<tonic::codec::CompressionEncoding>,
}

impl NamedService for MessageGrpc {
    const NAME: &'static str = SERVICE;
}

impl<B> tonic::codegen::Service<http::Request<B>> for MessageGrpc
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let Some(direction) = Direction::ALL.into_iter().find(|d| d.grpc_path() == path) else {
            return Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) });
        };
        let limit = self
            .handler
            .max_bytes()
            .saturating_add(FRAMING_OVERHEAD_BYTES);
        let method = Method {
            service: self.clone(),
            direction,
        };
        Box::pin(async move {
            let mut encodings = tonic::codec::EnabledCompressionEncodings::default();
            if let Some(compression) = method.service.compression {
                encodings.enable(compression);
            }
            let mut grpc = tonic::server::Grpc::new(PassThrough::default())
                .apply_compression_config(encodings, encodings)
                .apply_max_message_size_config(Some(limit), Some(limit));
            Ok(grpc.unary(method, request).await)
        })
    }
}

/// One rpc: the handler's answer to the request's bytes.
struct Method {
    service: MessageGrpc,
    direction: Direction,
}

impl UnaryService<Bytes> for Method {
    type Response = Bytes;
    type Future = std::future::Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let MessageGrpc {
            handler, encoding, ..
        } = &self.service;
        std::future::ready(
            handler
                .answer(self.direction, request.get_ref(), *encoding)
                .map(|answer| Response::new(Bytes::from(answer)))
                .map_err(Status::from),
        )
    }
}

/// A codec that hands a message's bytes through: the handler does the
/// decoding and encoding.
#[derive(Debug, Default)]
struct PassThrough(PhantomData<()>);

impl Codec for PassThrough {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = PassThrough;
    type Decoder = PassThrough;

    fn encoder(&mut self) -> Self::Encoder {
        PassThrough::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        PassThrough::default()
    }
}

impl Encoder for PassThrough {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for PassThrough {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
