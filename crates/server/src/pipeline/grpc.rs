//! The pipeline over gRPC: `grpc` (protobuf) and `grpc-json` (the same
//! messages as JSON, `application/grpc+json`). Each role is a tonic service
//! over the shared [`work`]; the generated traits of the two codecs have the
//! same shape, so one implementation serves both. Between services a
//! [`Hop`] carries requests either on one long-lived bidirectional stream
//! ([`StreamHop`]) or as unary calls, in the server's own codec.
//! Streaming rpcs answer each message as soon as its work is done (not in
//! order), so many requests share one stream; a request that fails gets an
//! answer with `error` set, and the stream lives on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};
use wirebench_proto::pipeline::{
    AggregateRequest, GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch, Summary,
};
use wirebench_proto::{
    GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES, pipeline, pipeline_json,
};

use super::stream_hop::{Correlated, StreamHop};
use super::{HopMode, PipelineConfig, PipelineError, Role, work};
use crate::ServeError;
use crate::listener::Incoming;

/// Serves `config.role` with the protobuf codec, or (`json`) the JSON
/// codec, until `shutdown` completes.
pub async fn serve(
    incoming: Incoming,
    json: bool,
    config: PipelineConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let service = match config.role {
        Role::Producer => "ProducerService",
        Role::Processor => "ProcessorService",
        Role::Aggregator => "AggregatorService",
    };
    let (reflection_v1, reflection_v1alpha) = crate::grpc::reflection_services(service)?;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status(service, tonic_health::ServingStatus::Serving)
        .await;
    let config = Arc::new(config);
    let codec = Codec::of(json);
    let mut server = tonic::transport::Server::builder()
        .initial_stream_window_size(GRPC_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(GRPC_CONNECTION_WINDOW_BYTES)
        .http2_max_header_list_size(Some(crate::http_serve::MAX_HEADER_BYTES as u32))
        .layer(crate::grpc_guard::ContentTypeGuard::for_codec(json));
    let router = match (config.role, json) {
        (Role::Producer, false) => server.add_service(
            pipeline::producer_service_server::ProducerServiceServer::new(Producer::new(&config)),
        ),
        (Role::Producer, true) => server.add_service(
            pipeline_json::producer_service_server::ProducerServiceServer::new(Producer::new(
                &config,
            )),
        ),
        (Role::Processor, false) => server.add_service(
            pipeline::processor_service_server::ProcessorServiceServer::new(Processor::new(
                &config, codec,
            )),
        ),
        (Role::Processor, true) => server.add_service(
            pipeline_json::processor_service_server::ProcessorServiceServer::new(Processor::new(
                &config, codec,
            )),
        ),
        (Role::Aggregator, false) => server.add_service(
            pipeline::aggregator_service_server::AggregatorServiceServer::new(Aggregator::new(
                &config, codec,
            )),
        ),
        (Role::Aggregator, true) => server.add_service(
            pipeline_json::aggregator_service_server::AggregatorServiceServer::new(
                Aggregator::new(&config, codec),
            ),
        ),
    };
    router
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(health)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(ServeError::Grpc)
}

impl From<PipelineError> for Status {
    fn from(err: PipelineError) -> Self {
        let message = err.to_string();
        match err {
            PipelineError::InvalidArgument(_) => Status::invalid_argument(message),
            PipelineError::TooLarge { .. } => Status::resource_exhausted(message),
            PipelineError::Unavailable(_) => Status::unavailable(message),
            PipelineError::BadUpstream(_) => Status::internal(message),
        }
    }
}

// ---- the hop to the next service ------------------------------------------

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

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
struct Codec {
    content_type: fn(HttpRequest) -> HttpRequest,
    open_generate: Opener<GenerateRequest, RecordBatch>,
    call_generate: UnaryCall<GenerateRequest, RecordBatch>,
    open_process: Opener<ProcessRequest, ProcessedBatch>,
    call_process: UnaryCall<ProcessRequest, ProcessedBatch>,
}

impl Codec {
    fn of(json: bool) -> Codec {
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
enum Hop<Req, Resp> {
    Stream(StreamHop<Req, Resp>),
    Unary {
        channel: HopChannel,
        call: UnaryCall<Req, Resp>,
        next: String,
        timeout: Duration,
    },
}

impl<Req: Correlated, Resp: Correlated + HasError> Hop<Req, Resp> {
    fn new(
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

    async fn call(&self, request: Req) -> Result<Resp, PipelineError> {
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
trait HasError {
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

/// The status code a failed request reports on a stream.
fn code_of(err: &PipelineError) -> i32 {
    Status::from(err.clone()).code() as i32
}

/// Answers every message of a bidirectional stream as its work completes.
/// `work` turns one request into its answer (errors already folded into the
/// answer's `error` field).
fn answer_each<Req, Resp, F, Fut>(
    mut inbound: Streaming<Req>,
    work: F,
) -> ReceiverStream<Result<Resp, Status>>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    F: Fn(Req) -> Fut + Send + 'static,
    Fut: Future<Output = Resp> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        // Ends when the caller closes its side or goes away.
        while let Ok(Some(request)) = inbound.message().await {
            let tx = tx.clone();
            let answer = work(request);
            tokio::spawn(async move {
                let _ = tx.send(Ok(answer.await)).await;
            });
        }
    });
    ReceiverStream::new(rx)
}

// ---- the three roles --------------------------------------------------------

#[derive(Clone)]
pub struct Producer {
    config: Arc<PipelineConfig>,
}

impl Producer {
    fn new(config: &Arc<PipelineConfig>) -> Producer {
        Producer {
            config: Arc::clone(config),
        }
    }

    fn generate(&self, request: &GenerateRequest) -> Result<RecordBatch, PipelineError> {
        let n = self.config.records(request.records)?;
        Ok(RecordBatch {
            request_id: request.request_id,
            records: work::generate(n),
            error: String::new(),
            error_code: 0,
        })
    }

    fn generate_each(
        &self,
        requests: Streaming<GenerateRequest>,
    ) -> ReceiverStream<Result<RecordBatch, Status>> {
        let producer = self.clone();
        answer_each(requests, move |request: GenerateRequest| {
            let answer = producer
                .generate(&request)
                .unwrap_or_else(|err| RecordBatch {
                    request_id: request.request_id,
                    records: Vec::new(),
                    error: err.to_string(),
                    error_code: code_of(&err),
                });
            std::future::ready(answer)
        })
    }
}

struct ProcessorInner {
    config: Arc<PipelineConfig>,
    hop: Hop<GenerateRequest, RecordBatch>,
}

#[derive(Clone)]
pub struct Processor(Arc<ProcessorInner>);

impl Processor {
    fn new(config: &Arc<PipelineConfig>, codec: Codec) -> Processor {
        Processor(Arc::new(ProcessorInner {
            hop: Hop::new(
                config,
                codec.content_type,
                codec.open_generate,
                codec.call_generate,
            ),
            config: Arc::clone(config),
        }))
    }

    async fn process(&self, request: &ProcessRequest) -> Result<ProcessedBatch, PipelineError> {
        let n = self.0.config.records(request.records)?;
        let batch = self
            .0
            .hop
            .call(GenerateRequest {
                request_id: 0,
                records: n,
            })
            .await?;
        Ok(ProcessedBatch {
            request_id: request.request_id,
            records: work::process(batch.records),
            error: String::new(),
            error_code: 0,
        })
    }

    fn process_each(
        &self,
        requests: Streaming<ProcessRequest>,
    ) -> ReceiverStream<Result<ProcessedBatch, Status>> {
        let processor = self.clone();
        answer_each(requests, move |request: ProcessRequest| {
            let processor = processor.clone();
            async move {
                processor
                    .process(&request)
                    .await
                    .unwrap_or_else(|err| ProcessedBatch {
                        request_id: request.request_id,
                        records: Vec::new(),
                        error: err.to_string(),
                        error_code: code_of(&err),
                    })
            }
        })
    }
}

pub struct Aggregator {
    config: Arc<PipelineConfig>,
    hop: Hop<ProcessRequest, ProcessedBatch>,
}

impl Aggregator {
    fn new(config: &Arc<PipelineConfig>, codec: Codec) -> Aggregator {
        Aggregator {
            hop: Hop::new(
                config,
                codec.content_type,
                codec.open_process,
                codec.call_process,
            ),
            config: Arc::clone(config),
        }
    }

    async fn aggregate(&self, request: &AggregateRequest) -> Result<Summary, PipelineError> {
        let n = self.config.records(request.records)?;
        let batch = self
            .hop
            .call(ProcessRequest {
                request_id: 0,
                records: n,
            })
            .await?;
        Ok(work::aggregate(&batch.records))
    }
}

/// The generated traits of one codec, implemented over the roles above.
macro_rules! role_services {
    ($generated:ident) => {
        #[tonic::async_trait]
        impl $generated::producer_service_server::ProducerService for Producer {
            async fn generate(
                &self,
                request: Request<GenerateRequest>,
            ) -> Result<Response<RecordBatch>, Status> {
                Ok(Response::new(Producer::generate(self, request.get_ref())?))
            }

            type GenerateStreamStream = ReceiverStream<Result<RecordBatch, Status>>;

            async fn generate_stream(
                &self,
                request: Request<Streaming<GenerateRequest>>,
            ) -> Result<Response<Self::GenerateStreamStream>, Status> {
                Ok(Response::new(self.generate_each(request.into_inner())))
            }
        }

        #[tonic::async_trait]
        impl $generated::processor_service_server::ProcessorService for Processor {
            async fn process(
                &self,
                request: Request<ProcessRequest>,
            ) -> Result<Response<ProcessedBatch>, Status> {
                Ok(Response::new(
                    Processor::process(self, request.get_ref()).await?,
                ))
            }

            type ProcessStreamStream = ReceiverStream<Result<ProcessedBatch, Status>>;

            async fn process_stream(
                &self,
                request: Request<Streaming<ProcessRequest>>,
            ) -> Result<Response<Self::ProcessStreamStream>, Status> {
                Ok(Response::new(self.process_each(request.into_inner())))
            }
        }

        #[tonic::async_trait]
        impl $generated::aggregator_service_server::AggregatorService for Aggregator {
            async fn aggregate(
                &self,
                request: Request<AggregateRequest>,
            ) -> Result<Response<Summary>, Status> {
                Ok(Response::new(
                    Aggregator::aggregate(self, request.get_ref()).await?,
                ))
            }
        }
    };
}

role_services!(pipeline);
role_services!(pipeline_json);
