//! The `grpc-json` services are the protobuf services in another codec.
//!
//! tonic generates one server trait per codec (`payload` and
//! `payload_json`, `pipeline` and `pipeline_json`), with the same methods
//! and messages. A server implements the protobuf trait once; these blanket
//! impls give it the JSON trait, so `PayloadServiceServer` and its JSON
//! twin can wrap the same value and run the same handler code. The
//! blanket impls live here because both traits are this crate's (the
//! orphan rule allows them nowhere else).

use tonic::{Request, Response, Status, Streaming};

use crate::payload::payload_service_server::PayloadService;
use crate::payload::{EchoMessage, PayloadRequest, PayloadResponse};
use crate::pipeline::aggregator_service_server::AggregatorService;
use crate::pipeline::processor_service_server::ProcessorService;
use crate::pipeline::producer_service_server::ProducerService;
use crate::pipeline::{
    AggregateRequest, GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch, SeriesRequest,
    Summary,
};
use crate::{payload_json, pipeline_json};

#[tonic::async_trait]
impl<T: PayloadService> payload_json::payload_service_server::PayloadService for T {
    async fn get_large_payload(
        &self,
        request: Request<PayloadRequest>,
    ) -> Result<Response<PayloadResponse>, Status> {
        PayloadService::get_large_payload(self, request).await
    }

    async fn echo(&self, request: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        PayloadService::echo(self, request).await
    }
}

#[tonic::async_trait]
impl<T: ProducerService> pipeline_json::producer_service_server::ProducerService for T {
    async fn generate(
        &self,
        request: Request<GenerateRequest>,
    ) -> Result<Response<RecordBatch>, Status> {
        ProducerService::generate(self, request).await
    }

    type GenerateStreamStream = T::GenerateStreamStream;

    async fn generate_stream(
        &self,
        request: Request<Streaming<GenerateRequest>>,
    ) -> Result<Response<Self::GenerateStreamStream>, Status> {
        ProducerService::generate_stream(self, request).await
    }

    type GenerateSeriesStream = T::GenerateSeriesStream;

    async fn generate_series(
        &self,
        request: Request<SeriesRequest>,
    ) -> Result<Response<Self::GenerateSeriesStream>, Status> {
        ProducerService::generate_series(self, request).await
    }
}

#[tonic::async_trait]
impl<T: ProcessorService> pipeline_json::processor_service_server::ProcessorService for T {
    async fn process(
        &self,
        request: Request<ProcessRequest>,
    ) -> Result<Response<ProcessedBatch>, Status> {
        ProcessorService::process(self, request).await
    }

    type ProcessStreamStream = T::ProcessStreamStream;

    async fn process_stream(
        &self,
        request: Request<Streaming<ProcessRequest>>,
    ) -> Result<Response<Self::ProcessStreamStream>, Status> {
        ProcessorService::process_stream(self, request).await
    }
}

#[tonic::async_trait]
impl<T: AggregatorService> pipeline_json::aggregator_service_server::AggregatorService for T {
    async fn aggregate(
        &self,
        request: Request<AggregateRequest>,
    ) -> Result<Response<Summary>, Status> {
        AggregatorService::aggregate(self, request).await
    }

    async fn summarize(
        &self,
        request: Request<Streaming<ProcessedBatch>>,
    ) -> Result<Response<Summary>, Status> {
        AggregatorService::summarize(self, request).await
    }
}
