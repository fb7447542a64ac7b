//! How a gRPC pipeline role calls the next one, in its own codec: on one
//! long-lived bidirectional stream ([`StreamHop`]) or with unary calls.
//! The channel is opened through the shared [`hop_connect`](super::hop_connect)
//! (plain or TLS) and marks requests with the codec's content type.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tonic::Status;
use tonic::transport::{Channel, Endpoint};
use wirebench_proto::pipeline::{GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch};
use wirebench_proto::{GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES};

use super::stream_hop::{Correlated, StreamHop};
use super::{HopMode, PipelineConfig, PipelineError};

pub(super) type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A request on its way to the next service, before tonic sees it.
type HttpRequest = http::Request<tonic::body::Body>;

/// A channel to the next service that sends its codec's content type
/// (tonic's client always says `application/grpc`).
pub type HopChannel = tower::util::MapRequest<Channel, fn(HttpRequest) -> HttpRequest>;

/// A hop channel for the protobuf codec: requests go out as tonic made
/// them.
pub fn proto_channel(channel: Channel) -> HopChannel {
    tower::util::MapRequest::new(channel, as_made)
}

fn as_made(request: HttpRequest) -> HttpRequest {
    request
}

type UnaryCall<Req, Resp> = fn(HopChannel, Req) -> Boxed<Result<Resp, Status>>;
type Opener<Req, Resp> = super::stream_hop::Opener<Req, Resp>;

/// The calls a role makes to the next one, in one codec.
#[derive(Clone, Copy)]
pub(super) struct Codec {
    pub(super) content_type: fn(HttpRequest) -> HttpRequest,
    pub(super) open_generate: Opener<GenerateRequest, RecordBatch>,
    pub(super) call_generate: UnaryCall<GenerateRequest, RecordBatch>,
    pub(super) open_process: Opener<ProcessRequest, ProcessedBatch>,
    pub(super) call_process: UnaryCall<ProcessRequest, ProcessedBatch>,
}

impl Codec {
    pub(super) fn of(json: bool) -> Codec {
        if json {
            Codec {
                content_type: |mut request| {
                    request.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static(wirebench_proto::json_codec::CONTENT_TYPE),
                    );
                    request
                },
                open_generate: json_calls::open_generate,
                call_generate: json_calls::call_generate,
                open_process: json_calls::open_process,
                call_process: json_calls::call_process,
            }
        } else {
            Codec {
                content_type: as_made,
                open_generate: proto_calls::open_generate,
                call_generate: proto_calls::call_generate,
                open_process: proto_calls::open_process,
                call_process: proto_calls::call_process,
            }
        }
    }
}

/// The four client calls of a hop, for one generated module (codec).
macro_rules! hop_calls {
    ($name:ident, $generated:ident) => {
        mod $name {
            use tokio_stream::wrappers::ReceiverStream;
            use tonic::{Status, Streaming};
            use wirebench_proto::pipeline::{
                GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch,
            };
            use wirebench_proto::$generated::processor_service_client::ProcessorServiceClient;
            use wirebench_proto::$generated::producer_service_client::ProducerServiceClient;

            use super::{Boxed, HopChannel};

            pub fn open_generate(
                channel: HopChannel,
                requests: ReceiverStream<GenerateRequest>,
            ) -> Boxed<Result<Streaming<RecordBatch>, Status>> {
                Box::pin(async move {
                    Ok(ProducerServiceClient::new(channel)
                        .generate_stream(requests)
                        .await?
                        .into_inner())
                })
            }

            pub fn call_generate(
                channel: HopChannel,
                request: GenerateRequest,
            ) -> Boxed<Result<RecordBatch, Status>> {
                Box::pin(async move {
                    Ok(ProducerServiceClient::new(channel)
                        .generate(request)
                        .await?
                        .into_inner())
                })
            }

            pub fn open_process(
                channel: HopChannel,
                requests: ReceiverStream<ProcessRequest>,
            ) -> Boxed<Result<Streaming<ProcessedBatch>, Status>> {
                Box::pin(async move {
                    Ok(ProcessorServiceClient::new(channel)
                        .process_stream(requests)
                        .await?
                        .into_inner())
                })
            }

            pub fn call_process(
                channel: HopChannel,
                request: ProcessRequest,
            ) -> Boxed<Result<ProcessedBatch, Status>> {
                Box::pin(async move {
                    Ok(ProcessorServiceClient::new(channel)
                        .process(request)
                        .await?
                        .into_inner())
                })
            }
        }
    };
}

hop_calls!(proto_calls, pipeline);
hop_calls!(json_calls, pipeline_json);

/// How a role calls the next one: a shared stream, or unary calls.
pub(super) enum Hop<Req, Resp> {
    Stream(StreamHop<Req, Resp>),
    Unary {
        channel: HopChannel,
        call: UnaryCall<Req, Resp>,
        next: String,
        timeout: Duration,
    },
}

impl<Req: Correlated, Resp: Correlated + HasError> Hop<Req, Resp> {
    pub(super) fn new(
        config: &PipelineConfig,
        content_type: fn(HttpRequest) -> HttpRequest,
        open: Opener<Req, Resp>,
        call: UnaryCall<Req, Resp>,
    ) -> Self {
        let connector = config.hop_connector();
        let channel =
            Endpoint::from_shared(format!("{}://{}", connector.scheme(), config.upstream()))
                .expect("host:port makes a valid URI")
                .connect_timeout(config.hop_timeout)
                .initial_stream_window_size(GRPC_STREAM_WINDOW_BYTES)
                .initial_connection_window_size(GRPC_CONNECTION_WINDOW_BYTES)
                .connect_with_connector_lazy(connector);
        let channel = tower::util::MapRequest::new(channel, content_type);
        let next = config.next_service();
        match config.hop {
            HopMode::Stream => Hop::Stream(StreamHop::new(next, channel, open, config.hop_timeout)),
            HopMode::Unary => Hop::Unary {
                channel,
                call,
                next,
                timeout: config.hop_timeout,
            },
        }
    }

    pub(super) async fn call(&self, request: Req) -> Result<Resp, PipelineError> {
        let answer = match self {
            Hop::Stream(stream) => stream.call(request).await?,
            Hop::Unary {
                channel,
                call,
                next,
                timeout,
            } => match tokio::time::timeout(*timeout, call(channel.clone(), request)).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(status)) if status.code() == tonic::Code::Unavailable => {
                    return Err(PipelineError::Unavailable(format!(
                        "{next} is unavailable: {}",
                        status.message()
                    )));
                }
                Ok(Err(status)) => {
                    return Err(PipelineError::BadUpstream(format!(
                        "{next} answered {}: {}",
                        status.code(),
                        status.message()
                    )));
                }
                Err(_) => {
                    return Err(PipelineError::Unavailable(format!(
                        "{next} is unavailable: no answer within {timeout:?}"
                    )));
                }
            },
        };
        match (answer.error(), tonic::Code::from_i32(answer.error_code())) {
            ("", _) => Ok(answer),
            (error, tonic::Code::Unavailable) => Err(PipelineError::Unavailable(error.to_owned())),
            (error, _) => Err(PipelineError::BadUpstream(error.to_owned())),
        }
    }
}

/// Batches that can carry a per-request error on a stream.
pub(super) trait HasError {
    fn error(&self) -> &str;
    fn error_code(&self) -> i32;
}

macro_rules! has_error {
    ($($t:ty),*) => {$(
        impl HasError for $t {
            fn error(&self) -> &str {
                &self.error
            }
            fn error_code(&self) -> i32 {
                self.error_code
            }
        }
    )*};
}
has_error!(RecordBatch, ProcessedBatch);
