//! The pipeline over gRPC. Each role is a tonic service over the shared
//! [`work`]; between services a [`Hop`] carries requests either on one
//! long-lived bidirectional stream ([`StreamHop`]) or as unary calls.
//! Streaming rpcs answer each message as soon as its work is done (not in
//! order), so many requests share one stream; a request that fails gets an
//! answer with `error` set, and the stream lives on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};
use wirebench_proto::pipeline::aggregator_service_server::{
    AggregatorService, AggregatorServiceServer,
};
use wirebench_proto::pipeline::processor_service_client::ProcessorServiceClient;
use wirebench_proto::pipeline::processor_service_server::{
    ProcessorService, ProcessorServiceServer,
};
use wirebench_proto::pipeline::producer_service_client::ProducerServiceClient;
use wirebench_proto::pipeline::producer_service_server::{ProducerService, ProducerServiceServer};
use wirebench_proto::pipeline::{
    AggregateRequest, GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch, Summary,
};

use wirebench_proto::{GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES};

use super::stream_hop::{Correlated, StreamHop};
use super::{HopMode, PipelineConfig, PipelineError, Role, work};
use crate::ServeError;

pub async fn serve(
    listener: TcpListener,
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
    let config = Arc::new(config);
    let mut server = tonic::transport::Server::builder()
        .initial_stream_window_size(GRPC_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(GRPC_CONNECTION_WINDOW_BYTES)
        .http2_max_header_list_size(Some(crate::http_serve::MAX_HEADER_BYTES as u32))
        .layer(crate::grpc_guard::ContentTypeGuard {
            accepted: &["application/grpc"],
        });
    let router = match config.role {
        Role::Producer => {
            health_reporter
                .set_serving::<ProducerServiceServer<Producer>>()
                .await;
            server.add_service(ProducerServiceServer::new(Producer {
                config: Arc::clone(&config),
            }))
        }
        Role::Processor => {
            health_reporter
                .set_serving::<ProcessorServiceServer<Processor>>()
                .await;
            server.add_service(ProcessorServiceServer::new(Processor(Arc::new(
                ProcessorInner {
                    hop: Hop::new(&config, open_generate, call_generate),
                    config: Arc::clone(&config),
                },
            ))))
        }
        Role::Aggregator => {
            health_reporter
                .set_serving::<AggregatorServiceServer<Aggregator>>()
                .await;
            server.add_service(AggregatorServiceServer::new(Aggregator {
                hop: Hop::new(&config, open_process, call_process),
                config: Arc::clone(&config),
            }))
        }
    };
    router
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(health)
        .serve_with_incoming_shutdown(
            crate::listener::incoming(listener, None, config.idle_timeout),
            shutdown,
        )
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
type UnaryCall<Req, Resp> = fn(Channel, Req) -> Boxed<Result<Resp, Status>>;

/// How a role calls the next one: a shared stream, or unary calls.
enum Hop<Req, Resp> {
    Stream(StreamHop<Req, Resp>),
    Unary {
        channel: Channel,
        call: UnaryCall<Req, Resp>,
        next: String,
        timeout: Duration,
    },
}

impl<Req: Correlated, Resp: Correlated + HasError> Hop<Req, Resp> {
    fn new(
        config: &PipelineConfig,
        open: super::stream_hop::Opener<Req, Resp>,
        call: UnaryCall<Req, Resp>,
    ) -> Self {
        let upstream = config.upstream();
        let next = format!(
            "{} at {upstream}",
            config.role.next().map_or("next service", Role::name)
        );
        let channel = Endpoint::from_shared(format!("http://{upstream}"))
            .expect("host:port makes a valid URI")
            .connect_timeout(config.hop_timeout)
            .tcp_nodelay(true)
            .initial_stream_window_size(GRPC_STREAM_WINDOW_BYTES)
            .initial_connection_window_size(GRPC_CONNECTION_WINDOW_BYTES)
            .connect_lazy();
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

fn open_generate(
    channel: Channel,
    requests: ReceiverStream<GenerateRequest>,
) -> Boxed<Result<Streaming<RecordBatch>, Status>> {
    Box::pin(async move {
        Ok(ProducerServiceClient::new(channel)
            .generate_stream(requests)
            .await?
            .into_inner())
    })
}

fn call_generate(channel: Channel, request: GenerateRequest) -> Boxed<Result<RecordBatch, Status>> {
    Box::pin(async move {
        Ok(ProducerServiceClient::new(channel)
            .generate(request)
            .await?
            .into_inner())
    })
}

fn open_process(
    channel: Channel,
    requests: ReceiverStream<ProcessRequest>,
) -> Boxed<Result<Streaming<ProcessedBatch>, Status>> {
    Box::pin(async move {
        Ok(ProcessorServiceClient::new(channel)
            .process_stream(requests)
            .await?
            .into_inner())
    })
}

fn call_process(
    channel: Channel,
    request: ProcessRequest,
) -> Boxed<Result<ProcessedBatch, Status>> {
    Box::pin(async move {
        Ok(ProcessorServiceClient::new(channel)
            .process(request)
            .await?
            .into_inner())
    })
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

fn generate_batch(
    config: &PipelineConfig,
    request: &GenerateRequest,
) -> Result<RecordBatch, PipelineError> {
    let n = config.records(request.records)?;
    Ok(RecordBatch {
        request_id: request.request_id,
        records: work::generate(n),
        error: String::new(),
        error_code: 0,
    })
}

#[tonic::async_trait]
impl ProducerService for Producer {
    async fn generate(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<RecordBatch>, Status> {
        Ok(Response::new(generate_batch(
            &self.config,
            request.get_ref(),
        )?))
    }

    type GenerateStreamStream = ReceiverStream<Result<RecordBatch, Status>>;

    async fn generate_stream(
        &self,
        request: Request<Streaming<GenerateRequest>>,
    ) -> Result<Response<Self::GenerateStreamStream>, Status> {
        let config = Arc::clone(&self.config);
        Ok(Response::new(answer_each(
            request.into_inner(),
            move |request: GenerateRequest| {
                let answer = generate_batch(&config, &request).unwrap_or_else(|err| RecordBatch {
                    request_id: request.request_id,
                    records: Vec::new(),
                    error: err.to_string(),
                    error_code: code_of(&err),
                });
                std::future::ready(answer)
            },
        )))
    }
}

struct ProcessorInner {
    config: Arc<PipelineConfig>,
    hop: Hop<GenerateRequest, RecordBatch>,
}

impl ProcessorInner {
    async fn process(&self, request: &ProcessRequest) -> Result<ProcessedBatch, PipelineError> {
        let n = self.config.records(request.records)?;
        let batch = self
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
}

#[derive(Clone)]
pub struct Processor(Arc<ProcessorInner>);

#[tonic::async_trait]
impl ProcessorService for Processor {
    async fn process(
        &self,
        request: Request<ProcessRequest>,
    ) -> Result<Response<ProcessedBatch>, Status> {
        Ok(Response::new(self.0.process(request.get_ref()).await?))
    }

    type ProcessStreamStream = ReceiverStream<Result<ProcessedBatch, Status>>;

    async fn process_stream(
        &self,
        request: Request<Streaming<ProcessRequest>>,
    ) -> Result<Response<Self::ProcessStreamStream>, Status> {
        let inner = Arc::clone(&self.0);
        Ok(Response::new(answer_each(
            request.into_inner(),
            move |request: ProcessRequest| {
                let inner = Arc::clone(&inner);
                async move {
                    inner
                        .process(&request)
                        .await
                        .unwrap_or_else(|err| ProcessedBatch {
                            request_id: request.request_id,
                            records: Vec::new(),
                            error: err.to_string(),
                            error_code: code_of(&err),
                        })
                }
            },
        )))
    }
}

pub struct Aggregator {
    config: Arc<PipelineConfig>,
    hop: Hop<ProcessRequest, ProcessedBatch>,
}

#[tonic::async_trait]
impl AggregatorService for Aggregator {
    async fn aggregate(
        &self,
        request: Request<AggregateRequest>,
    ) -> Result<Response<Summary>, Status> {
        let n = self.config.records(request.get_ref().records)?;
        let batch = self
            .hop
            .call(ProcessRequest {
                request_id: 0,
                records: n,
            })
            .await?;
        Ok(Response::new(work::aggregate(&batch.records)))
    }
}
