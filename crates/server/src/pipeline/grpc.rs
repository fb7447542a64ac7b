//! The pipeline over gRPC: `grpc` (protobuf) and `grpc-json` (the same
//! messages as JSON, `application/grpc+json`). Each role's tonic service
//! only decodes, calls the shared role ([`roles`](super::roles)) and
//! encodes; it implements the protobuf trait once and gets the JSON one
//! from `wirebench_proto::json_services`. Between services the hop is a
//! [`GrpcHop`](super::grpc_hop::GrpcHop) in the server's own codec.
//! Streaming rpcs answer each message as soon as its work is done (not in
//! order), so many requests share one stream; a request that fails gets an
//! answer with `error` set, and the stream lives on.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::Routes;
use tonic::{Request, Response, Status, Streaming};
use wirebench_proto::pipeline::aggregator_service_server::{
    AggregatorService, AggregatorServiceServer,
};
use wirebench_proto::pipeline::processor_service_server::{
    ProcessorService, ProcessorServiceServer,
};
use wirebench_proto::pipeline::producer_service_server::{ProducerService, ProducerServiceServer};
use wirebench_proto::pipeline::{
    AggregateRequest, GenerateRequest, ProcessRequest, ProcessedBatch, ProcessedRecord, Record,
    RecordBatch, SeriesRequest, Summary,
};
use wirebench_proto::pipeline_hop::{HopAnswer, HopRequest};
use wirebench_proto::pipeline_json;

use super::grpc_hop::{GrpcHops, Json, Protobuf, WireCodec};
use super::roles::{Aggregator, Processor, Producer, Role, Upstream};
use super::{PipelineConfig, PipelineError};
use crate::ServeError;
use crate::ServeOptions;
use crate::listener::Incoming;
use wirebench_proto::vocab::Stack;

/// Serves `config.role` with the protobuf codec (`grpc`, `grpc-web`), or
/// the JSON codec (`grpc-json`), until `shutdown` completes. On a
/// gRPC-Web stack the role answers gRPC-Web (the client's hop) and plain
/// gRPC (its own hops, which call the next role in gRPC).
pub async fn serve(
    incoming: Incoming,
    stack: Stack,
    config: &PipelineConfig,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if stack.speaks_json() {
        serve_in::<Json>(incoming, stack, config, options, shutdown).await
    } else {
        serve_in::<Protobuf>(incoming, stack, config, options, shutdown).await
    }
}

async fn serve_in<C: WireCodec>(
    incoming: Incoming,
    stack: Stack,
    config: &PipelineConfig,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use pipeline_json::aggregator_service_server::AggregatorServiceServer as JsonAggregator;
    use pipeline_json::processor_service_server::ProcessorServiceServer as JsonProcessor;
    use pipeline_json::producer_service_server::ProducerServiceServer as JsonProducer;
    let routes = match (Role::new(config, &GrpcHops::<C>::default()), C::JSON) {
        (Role::Producer(r), false) => Routes::new(compressed!(
            ProducerServiceServer::new(GrpcRole::new(r)),
            stack
        )),
        (Role::Producer(r), true) => {
            Routes::new(compressed!(JsonProducer::new(GrpcRole::new(r)), stack))
        }
        (Role::Processor(r), false) => Routes::new(compressed!(
            ProcessorServiceServer::new(GrpcRole::new(r)),
            stack
        )),
        (Role::Processor(r), true) => {
            Routes::new(compressed!(JsonProcessor::new(GrpcRole::new(r)), stack))
        }
        (Role::Aggregator(r), false) => Routes::new(compressed!(
            AggregatorServiceServer::new(GrpcRole::new(r)),
            stack
        )),
        (Role::Aggregator(r), true) => {
            Routes::new(compressed!(JsonAggregator::new(GrpcRole::new(r)), stack))
        }
    };
    let service = config.role.grpc_service();
    let descriptors = wirebench_proto::FILE_DESCRIPTOR_SET;
    crate::grpc::serve_routes(
        stack,
        routes,
        service,
        descriptors,
        incoming,
        options,
        shutdown,
    )
    .await
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

/// What a streaming rpc answers: each request's batch, as its work ends.
type Answers<R> = Response<ReceiverStream<Result<<R as HopRequest>::Answer, Status>>>;

/// A role as a tonic service.
pub struct GrpcRole<R>(Arc<R>);

impl<R> GrpcRole<R> {
    fn new(role: R) -> Self {
        GrpcRole(Arc::new(role))
    }
}

/// Answers every request of a bidirectional stream as its work completes:
/// `work` turns a request's record count into records; a failure goes
/// into that one answer's `error`, and the stream lives on.
fn answer_each<R, Role, F, Fut>(
    mut inbound: Streaming<R>,
    role: &Arc<Role>,
    work: F,
) -> Result<Answers<R>, Status>
where
    R: HopRequest,
    Role: Send + Sync + 'static,
    F: Fn(Arc<Role>, u32) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<<R::Answer as HopAnswer>::Item>, PipelineError>>
        + Send
        + 'static,
{
    let role = Arc::clone(role);
    let (tx, rx) = mpsc::channel(1024);
    crate::task::spawn(async move {
        // Ends when the caller closes its side or goes away.
        while let Ok(Some(request)) = inbound.message().await {
            let tx = tx.clone();
            let id = request.request_id();
            let answer = work(Arc::clone(&role), request.records());
            crate::task::spawn(async move {
                let answer = match answer.await {
                    Ok(items) => R::Answer::new(id, items),
                    Err(err) => {
                        let code = Status::from(err.clone()).code() as i32;
                        R::Answer::failed(id, code, err.to_string())
                    }
                };
                let _ = tx.send(Ok(answer)).await;
            });
        }
    });
    Ok(Response::new(ReceiverStream::new(rx)))
}

#[tonic::async_trait]
impl ProducerService for GrpcRole<Producer> {
    async fn generate(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<RecordBatch>, Status> {
        let request = request.into_inner();
        let records = self.0.generate(request.records)?;
        Ok(Response::new(RecordBatch::new(request.request_id, records)))
    }

    type GenerateStreamStream = ReceiverStream<Result<RecordBatch, Status>>;

    async fn generate_stream(
        &self,
        request: Request<Streaming<GenerateRequest>>,
    ) -> Result<Response<Self::GenerateStreamStream>, Status> {
        answer_each(request.into_inner(), &self.0, |producer, records| {
            std::future::ready(producer.generate(records))
        })
    }

    type GenerateSeriesStream = ReceiverStream<Result<RecordBatch, Status>>;

    async fn generate_series(
        &self,
        request: Request<SeriesRequest>,
    ) -> Result<Response<Self::GenerateSeriesStream>, Status> {
        let SeriesRequest { records, batches } = request.into_inner();
        let series = self.0.series(records, batches)?;
        // A few batches ahead of the caller, no more: a slow reader holds
        // the producer back instead of filling its memory.
        let (tx, rx) = mpsc::channel(4);
        crate::task::spawn(async move {
            for (i, records) in series.enumerate() {
                if tx
                    .send(Ok(RecordBatch::new(i as u64, records)))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

#[tonic::async_trait]
impl<U: Upstream<Record>> ProcessorService for GrpcRole<Processor<U>> {
    async fn process(
        &self,
        request: Request<ProcessRequest>,
    ) -> Result<Response<ProcessedBatch>, Status> {
        let request = request.into_inner();
        let records = self.0.process(request.records).await?;
        Ok(Response::new(ProcessedBatch::new(
            request.request_id,
            records,
        )))
    }

    type ProcessStreamStream = ReceiverStream<Result<ProcessedBatch, Status>>;

    async fn process_stream(
        &self,
        request: Request<Streaming<ProcessRequest>>,
    ) -> Result<Response<Self::ProcessStreamStream>, Status> {
        answer_each(
            request.into_inner(),
            &self.0,
            |processor, records| async move { processor.process(records).await },
        )
    }
}

#[tonic::async_trait]
impl<U: Upstream<ProcessedRecord>> AggregatorService for GrpcRole<Aggregator<U>> {
    async fn aggregate(
        &self,
        request: Request<AggregateRequest>,
    ) -> Result<Response<Summary>, Status> {
        Ok(Response::new(
            self.0.aggregate(request.get_ref().records).await?,
        ))
    }

    async fn summarize(
        &self,
        request: Request<Streaming<ProcessedBatch>>,
    ) -> Result<Response<Summary>, Status> {
        let mut batches = request.into_inner();
        let mut gathered = Vec::new();
        while let Some(batch) = batches.message().await? {
            self.0.gather(&mut gathered, batch.records)?;
        }
        Ok(Response::new(wirebench_proto::pipeline_work::aggregate(
            &gathered,
        )))
    }
}
