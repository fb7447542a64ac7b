//! The message workload over gRPC (`grpc`, `grpc-json`):
//! `wirebench.message.MessageService` with `Down`, `Up` and `Echo`. The
//! message's type is whatever the server serves, so the service is not
//! generated: a small tower service routes the three paths to tonic's own
//! unary machinery with a codec that hands the message's bytes through,
//! and the shared [`MessageHandler`] decodes and encodes them, in protobuf
//! or (`grpc-json`) the canonical JSON mapping. (tonic's generated servers
//! decode in the codec instead; the work is the same, it only happens a
//! few calls earlier.) Reflection describes the service with the served
//! type, so grpcurl can call it without the `.proto` file. A mix
//! ([`serve_mix`]) is the same service with a method per call.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use std::sync::Arc;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{Body, BoxFuture, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::service::Routes;
use tonic::{Request, Response, Status};

use wirebench_proto::message::{Direction, Encoding, MIX_SERVICE, SERVICE, mix_grpc_path};
use wirebench_proto::vocab::Stack;

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
    let descriptors = handler.descriptors();
    let methods = Direction::ALL
        .into_iter()
        .map(|direction| (direction.grpc_path().to_owned(), direction, handler.clone()))
        .collect();
    let service = MessageGrpc::<Message>::new(stack, methods);
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

/// A mix over gRPC: `wirebench.mix.Mix` with a method per call.
pub async fn serve_mix(
    incoming: Incoming,
    calls: &[super::MixRoute],
    stack: Stack,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let files: Vec<Vec<u8>> = calls.iter().map(|c| c.handler.files.to_vec()).collect();
    let files: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let named: Vec<(String, Direction, &str)> = calls
        .iter()
        .map(|c| (c.name.clone(), c.direction, &*c.handler.type_name))
        .collect();
    let descriptors = wirebench_proto::message::mix_descriptors(&files, &named);
    let methods = calls
        .iter()
        .map(|c| (mix_grpc_path(&c.name), c.direction, c.handler.clone()))
        .collect();
    let service = MessageGrpc::<Mix>::new(stack, methods);
    let routes = Routes::new(service);
    crate::grpc::serve_routes(
        stack,
        routes,
        MIX_SERVICE,
        &descriptors,
        incoming,
        options,
        shutdown,
    )
    .await
}

/// The service: each method's path, direction and handler, and the
/// encoding of the stack. `N` names the service (the message workload's,
/// or a mix's).
struct MessageGrpc<N> {
    methods: Arc<[(String, Direction, MessageHandler)]>,
    encoding: Encoding,
    /// The stack's `grpc-encoding`, taken and sent.
    compression: Option<tonic::codec::CompressionEncoding>,
    name: PhantomData<N>,
}

impl<N> Clone for MessageGrpc<N> {
    fn clone(&self) -> Self {
        MessageGrpc {
            methods: Arc::clone(&self.methods),
            encoding: self.encoding,
            compression: self.compression,
            name: PhantomData,
        }
    }
}

impl<N> MessageGrpc<N> {
    fn new(stack: Stack, methods: Vec<(String, Direction, MessageHandler)>) -> Self {
        MessageGrpc {
            methods: methods.into(),
            encoding: stack.encoding(),
            compression: stack.compression.map(crate::encoding::grpc),
            name: PhantomData,
        }
    }
}

/// The message workload's service name.
struct Message;
/// A mix's service name.
struct Mix;

impl NamedService for MessageGrpc<Message> {
    const NAME: &'static str = SERVICE;
}

impl NamedService for MessageGrpc<Mix> {
    const NAME: &'static str = MIX_SERVICE;
}

impl<N: Send + 'static, B> tonic::codegen::Service<http::Request<B>> for MessageGrpc<N>
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
        let Some((_, direction, handler)) = self.methods.iter().find(|(p, ..)| p == path) else {
            return Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) });
        };
        let limit = handler.max_bytes().saturating_add(FRAMING_OVERHEAD_BYTES);
        let method = Method {
            handler: handler.clone(),
            direction: *direction,
            encoding: self.encoding,
        };
        let compression = self.compression;
        Box::pin(async move {
            let mut encodings = tonic::codec::EnabledCompressionEncodings::default();
            if let Some(compression) = compression {
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
    handler: MessageHandler,
    direction: Direction,
    encoding: Encoding,
}

impl UnaryService<Bytes> for Method {
    type Response = Bytes;
    type Future = std::future::Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        std::future::ready(
            self.handler
                .answer(self.direction, request.get_ref(), self.encoding)
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
