//! The pipeline over gRPC: `grpc` (protobuf) and `grpc-json` (the same
//! messages as JSON, `application/grpc+json`). Each role is a tonic service
//! over the shared [`work`]; the generated traits of the two codecs have the
//! same shape, so one implementation serves both. Between services a
//! [`Hop`] carries requests either on one long-lived bidirectional stream
//! ([`StreamHop`]) or as unary calls, in the server's own codec.
//! Streaming rpcs answer each message as soon as its work is done (not in
//! order), so many requests share one stream; a request that fails gets an
//! answer with `error` set, and the stream lives on. The hop itself is in
//! [`grpc_hop`](super::grpc_hop).

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use wirebench_proto::pipeline::{
    AggregateRequest, GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch, Summary,
};
use wirebench_proto::{pipeline, pipeline_json};

use super::grpc_hop::{Codec, Hop};
use super::{PipelineConfig, PipelineError, Role, work};
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
    let config = Arc::new(config);
    let codec = Codec::of(json);
    let mut server = crate::grpc::server(json);
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
    crate::grpc::serve_router(router, service, incoming, shutdown).await
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
