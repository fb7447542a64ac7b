//! The pipeline end to end on 127.0.0.1:0 ports: both stacks and both hop
//! modes give the locally computed summary; many concurrent requests share
//! one bidirectional stream and each gets its own answer; a caller that
//! gives up leaves nothing behind in the correlation table.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use wirebench_proto::pipeline::aggregator_service_client::AggregatorServiceClient;
use wirebench_proto::pipeline::producer_service_server::{ProducerService, ProducerServiceServer};
use wirebench_proto::pipeline::{AggregateRequest, GenerateRequest, RecordBatch, Summary};
use wirebench_proto::pipeline_work::expected_summary;
use wirebench_proto::vocab::Stack;
use wirebench_server::ServeOptions;
use wirebench_server::pipeline::grpc_hop::{self, Protobuf};
use wirebench_server::pipeline::roles::HopFailure;
use wirebench_server::pipeline::stream_hop::StreamHop;
use wirebench_server::pipeline::{HopMode, Limits, PipelineConfig, Role};
use wirebench_server::serve;

async fn start_role(
    stack: Stack,
    role: Role,
    upstream: Option<SocketAddr>,
    hop: HopMode,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = PipelineConfig {
        role,
        upstream: upstream.map(|a| a.to_string()),
        limits: Limits {
            default_records: 100,
            max_records: 10_000,
        },
        hop,
        hop_timeout: Duration::from_secs(2),
        upstream_tls: None,
    };
    tokio::spawn(serve(
        stack,
        listener,
        config,
        ServeOptions::default(),
        std::future::pending(),
    ));
    addr
}

/// Starts producer, processor and aggregator; returns the aggregator.
async fn start_pipeline(stack: Stack, hop: HopMode) -> SocketAddr {
    let producer = start_role(stack, Role::Producer, None, hop).await;
    let processor = start_role(stack, Role::Processor, Some(producer), hop).await;
    start_role(stack, Role::Aggregator, Some(processor), hop).await
}

async fn rest_aggregate(addr: SocketAddr, query: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /aggregate{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    (
        status,
        response.split_once("\r\n\r\n").unwrap().1.to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_pipeline_gives_the_expected_summary() {
    let aggregator = start_pipeline(Stack::REST, HopMode::Stream).await;
    let (status, body) = rest_aggregate(aggregator, "").await;
    assert_eq!(status, 200, "{body}");
    let summary: Summary = serde_json::from_str(&body).unwrap();
    assert_eq!(summary, expected_summary(100));
    let (_, body) = rest_aggregate(aggregator, "?records=7").await;
    assert_eq!(
        serde_json::from_str::<Summary>(&body).unwrap(),
        expected_summary(7)
    );
    let (status, body) = rest_aggregate(aggregator, "?records=lots").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = rest_aggregate(aggregator, "?records=20000").await;
    assert_eq!(status, 413, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_pipeline_gives_the_expected_summary_in_both_hop_modes() {
    for hop in [HopMode::Stream, HopMode::Unary] {
        let aggregator = start_pipeline(Stack::GRPC, hop).await;
        let mut client = AggregatorServiceClient::connect(format!("http://{aggregator}"))
            .await
            .unwrap();
        for records in [0, 1, 100, 2500] {
            let summary = client
                .aggregate(AggregateRequest { records })
                .await
                .unwrap()
                .into_inner();
            let want = expected_summary(if records == 0 { 100 } else { records });
            assert_eq!(summary, want, "{hop:?}, {records} records");
        }
        let refused = client
            .aggregate(AggregateRequest { records: 20_000 })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{hop:?}");
    }
}

/// A stream hop to a producer at `addr`, as a processor holds one.
fn producer_hop(addr: SocketAddr, timeout: Duration) -> StreamHop<GenerateRequest, RecordBatch> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    grpc_hop::stream_hop::<Protobuf, GenerateRequest>(
        grpc_hop::mark_with::<Protobuf>(channel),
        timeout,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_requests_on_one_stream_each_get_their_own_answer() {
    let producer = start_role(Stack::GRPC, Role::Producer, None, HopMode::Stream).await;
    let hop = Arc::new(producer_hop(producer, Duration::from_secs(5)));
    let calls = (1..=3000u32).map(|records| {
        let hop = Arc::clone(&hop);
        tokio::spawn(async move {
            let batch = hop
                .call(GenerateRequest {
                    request_id: 0,
                    records: records % 50 + 1,
                })
                .await
                .unwrap();
            (records % 50 + 1, batch)
        })
    });
    for call in calls.collect::<Vec<_>>() {
        let (asked, batch) = call.await.unwrap();
        assert_eq!(
            batch.records.len() as u32,
            asked,
            "an answer went to the wrong caller"
        );
    }
    assert_eq!(hop.pending().await, 0);
}

/// A producer that answers on its stream only after a long delay.
struct SlowProducer;

#[tonic::async_trait]
impl ProducerService for SlowProducer {
    async fn generate(&self, _: Request<GenerateRequest>) -> Result<Response<RecordBatch>, Status> {
        Err(Status::unimplemented("stream only"))
    }

    type GenerateStreamStream = ReceiverStream<Result<RecordBatch, Status>>;

    async fn generate_stream(
        &self,
        request: Request<Streaming<GenerateRequest>>,
    ) -> Result<Response<Self::GenerateStreamStream>, Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            while let Ok(Some(request)) = inbound.message().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(800)).await;
                    let _ = tx
                        .send(Ok(RecordBatch {
                            request_id: request.request_id,
                            ..RecordBatch::default()
                        }))
                        .await;
                });
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    type GenerateSeriesStream = ReceiverStream<Result<RecordBatch, Status>>;

    async fn generate_series(
        &self,
        _: Request<wirebench_proto::pipeline::SeriesRequest>,
    ) -> Result<Response<Self::GenerateSeriesStream>, Status> {
        Err(Status::unimplemented("stream only"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_give_up_leave_no_entry_in_the_correlation_table() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ProducerServiceServer::new(SlowProducer))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let hop = Arc::new(producer_hop(addr, Duration::from_millis(300)));
    // Callers cancelled from outside (their own client went away)...
    let cancelled: Vec<_> = (0..20)
        .map(|_| {
            let hop = Arc::clone(&hop);
            tokio::spawn(async move { hop.call(GenerateRequest::default()).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(hop.pending().await, 20);
    for call in cancelled {
        call.abort();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(hop.pending().await, 0, "aborted callers left entries");
    // ...and callers that time out themselves.
    let timed_out = hop.call(GenerateRequest::default()).await.unwrap_err();
    assert!(
        matches!(timed_out, HopFailure::Unreachable(ref m) if m.contains("no answer within")),
        "{timed_out:?}"
    );
    assert_eq!(hop.pending().await, 0, "timed-out callers left entries");
}
